//! Pull and push against Debian's docker-registry on 127.0.0.1 (anonymous and htpasswd basic auth, multi-platform index, chunked uploads, cross-repository mounts, corrupted and missing content), and the bearer-token flow against a test double.

mod common;

use common::*;

#[test]
fn registry_push_pull_and_bad_content() {
    let reg = Registry::start(None);
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, cfg) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("docker"));
    assert!(hull_env(&a, &cfg, &["image", "default"]).status.success());
    let name = format!("{}/hull/bb:1", reg.addr);
    assert!(hull_env(&a, &cfg, &["tag", "localhost/hull/busybox", &name]).status.success());
    let out = hull_env(&a, &cfg, &["push", &name]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // skopeo sees what Hull pushed.
    let out = Command::new("skopeo")
        .args(["inspect", "--tls-verify=false"])
        .arg(format!("docker://{name}"))
        .output()
        .unwrap();
    let inspect: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stderr)));
    let out = hull_env(&b, &cfg, &["pull", &name]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // docker's lines, in docker's order.
    let layer = &inspect["Layers"][0].as_str().unwrap()["sha256:".len()..][..12];
    let digest = inspect["Digest"].as_str().unwrap();
    let want = format!(
        "1: Pulling from hull/bb\n{layer}: Pulling fs layer\n{layer}: Verifying Checksum\n{layer}: Download complete\n\
         {layer}: Pull complete\nDigest: {digest}\nStatus: Downloaded newer image for {name}\n{name}\n"
    );
    assert_eq!(text(&out.stdout), want);
    let ids = |root: &Path| text(&hull_env(root, &cfg, &["images", "-q", "--no-trunc"]).stdout);
    assert_eq!(ids(&a), ids(&b));
    // Pulling again finds every layer in the store.
    let again = text(&hull_env(&b, &cfg, &["pull", &name]).stdout);
    assert!(again.contains(&format!("{layer}: Already exists\n")), "{again}");
    assert!(again.contains(&format!("Status: Image is up to date for {name}\n")), "{again}");
    // A malformed name is said to be one, and nothing is pulled.
    let out = hull_env(&b, &cfg, &["run", "--rm", "Not/Valid:Name", "true"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(!text(&out.stderr).contains("Unable to find image"), "{}", text(&out.stderr));
    assert!(text(&out.stderr).to_lowercase().contains("reference"), "{}", text(&out.stderr));

    // A 404 manifest: error naming the image, nothing stored.
    let c = tmp.path().join("c");
    let out = hull_env(&c, &cfg, &["pull", &format!("{}/hull/bb:nope", reg.addr)]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains(&format!("{}/hull/bb:nope: manifest nope: registry answered 404", reg.addr)),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(ids(&c), "");
    // A blob the registry serves corrupted: verification fails, nothing tagged, prune leaves no orphan.
    let blobs = reg.dir.path().join("data/docker/registry/v2/blobs/sha256");
    let mut corrupted = 0;
    for prefix in std::fs::read_dir(&blobs).unwrap().flatten() {
        for blob in std::fs::read_dir(prefix.path()).unwrap().flatten() {
            let data = blob.path().join("data");
            let bytes = std::fs::read(&data).unwrap();
            if bytes.len() > 100_000 {
                let mut bad = bytes.clone();
                bad[50_000] ^= 0xff;
                std::fs::write(&data, bad).unwrap();
                corrupted += 1;
            }
        }
    }
    assert_eq!(corrupted, 1, "expected one layer blob");
    let out = hull_env(&c, &cfg, &["pull", &name]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("content hashes to"), "{}", text(&out.stderr));
    assert_eq!(ids(&c), "", "a half-pulled image is listed");
    assert!(hull_env(&c, &cfg, &["image", "prune", "-f"]).status.success());
    assert_eq!(std::fs::read_dir(c.join("image/blobs/sha256")).unwrap().count(), 0, "orphan blobs after prune");
}

#[test]
fn registry_basic_auth_login_and_logout() {
    let reg = Registry::start(Some(("alice", "s3cret-pw")));
    let tmp = tempfile::tempdir().unwrap();
    let (a, cfg) = (tmp.path().join("a"), tmp.path().join("docker"));
    assert!(hull_env(&a, &cfg, &["image", "default"]).status.success());
    let name = format!("{}/private/bb:1", reg.addr);
    assert!(hull_env(&a, &cfg, &["tag", "localhost/hull/busybox", &name]).status.success());
    let out = hull_env(&a, &cfg, &["push", &name]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains(&format!("{}: authentication required; run `hull login {}`", reg.addr, reg.addr)),
        "{}",
        text(&out.stderr)
    );
    let out = hull_env(&a, &cfg, &["login", &reg.addr, "-u", "alice", "-p", "wrong"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("wrong user name or password"), "{}", text(&out.stderr));
    let saved = std::fs::read_to_string(cfg.join("config.json")).unwrap_or_default();
    assert!(!saved.contains(&reg.addr), "wrong credentials were kept: {saved}");
    let out = hull_env(&a, &cfg, &["login", &reg.addr, "-u", "alice", "-p", "s3cret-pw"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(cfg.join("config.json")).unwrap().contains(&reg.addr));
    assert!(hull_env(&a, &cfg, &["push", &name]).status.success());
    let b = tmp.path().join("b");
    let out = hull_env(&b, &cfg, &["pull", &name]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(hull_env(&b, &cfg, &["logout", &reg.addr]).status.success());
    assert!(!std::fs::read_to_string(cfg.join("config.json")).unwrap().contains(&reg.addr));
    let out = hull_env(&tmp.path().join("c"), &cfg, &["pull", &name]);
    assert!(text(&out.stderr).contains("authentication required"), "{}", text(&out.stderr));
}

#[test]
fn registry_multi_platform_index() {
    use hull_image::manifest::{Index, Platform, OCI_INDEX};
    let reg = Registry::start(None);
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, cfg) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("docker"));
    // Two single-layer images differing by architecture, under one index.
    let amd = store_image(&a, "localhost/multi:amd64", &[tar_of(&[file("arch", b"amd64")])], true);
    let arm = store_image(&a, "localhost/multi:arm64", &[tar_of(&[file("arch", b"arm64")])], true);
    let store = Store::open(a.join("image")).unwrap();
    let mut entries = Vec::new();
    for (d, arch) in [(amd, "amd64"), (arm.clone(), "arm64")] {
        let size = store.read_blob(&d).unwrap().len() as u64;
        let platform = Some(Platform { os: "linux".into(), architecture: arch.into(), variant: None });
        entries.push(Descriptor { media_type: OCI_MANIFEST.into(), digest: d, size, platform, annotations: None });
    }
    // Make the arm64 config say arm64, as a real image would.
    let index = Index { schema_version: 2, media_type: Some(OCI_INDEX.into()), manifests: entries, annotations: None };
    let ib = serde_json::to_vec(&index).unwrap();
    let id = store.put_bytes(&ib).unwrap();
    let name = format!("{}/multi:1", reg.addr);
    let lock = store.lock().unwrap();
    store.tag(&name.parse::<Reference>().unwrap(), &id, &lock).unwrap();
    drop(lock);
    let out = hull_env(&a, &cfg, &["push", &name]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = hull_env(&b, &cfg, &["pull", "--platform", "linux/arm64", &name]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let inspect: serde_json::Value =
        serde_json::from_slice(&hull_env(&b, &cfg, &["image", "inspect", &name]).stdout).unwrap();
    assert_eq!(inspect[0]["Manifest"], arm.to_string().as_str());
    let out = hull_env(&b, &cfg, &["pull", "--platform", "linux/s390x", &name]);
    assert!(text(&out.stderr).contains("no manifest for linux/s390x"), "{}", text(&out.stderr));
}

#[test]
fn registry_chunked_upload_and_cross_repository_mount() {
    let reg = Registry::start(None);
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, cfg) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("docker"));
    // 20 MB that does not compress: the push goes in 16 MB chunks.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let big: Vec<u8> = (0..20 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    store_image(&a, "localhost/big:1", &[tar_of(&[file("big.bin", &big)])], false);
    let first = format!("{}/one/big:1", reg.addr);
    let second = format!("{}/two/big:1", reg.addr);
    assert!(hull_env(&a, &cfg, &["tag", "localhost/big:1", &first]).status.success());
    let out = hull_env(&a, &cfg, &["push", &first]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The second repository gets the layer by a mount from the first.
    assert!(hull_env(&a, &cfg, &["tag", "localhost/big:1", &second]).status.success());
    let out = hull_env(&a, &cfg, &["push", &second]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    for name in [&first, &second] {
        let out = hull_env(&b, &cfg, &["pull", name]);
        assert!(out.status.success(), "{name}: {}", text(&out.stderr));
    }
    let ids = text(&hull_env(&b, &cfg, &["images", "-q"]).stdout);
    assert_eq!(ids.lines().count(), 1, "{ids}");
}

#[test]
fn bearer_token_flow_against_a_test_double() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, cfg) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("docker"));
    assert!(hull(&a, &["image", "default"]).status.success());
    let inspect: serde_json::Value =
        serde_json::from_slice(&hull(&a, &["image", "inspect", "localhost/hull/busybox"]).stdout).unwrap();
    let manifest: Digest = inspect[0]["Manifest"].as_str().unwrap().parse().unwrap();
    // Credentials for the token endpoint come from docker's config.json.
    let double = bearer_registry_double(&a, manifest, "bob", "hunter2");
    let (out, log) = pull_from_double(&b, &cfg, double, "bob", "hunter2");
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Challenge, token with basic credentials, then every request with the token.
    assert!(log[0].ends_with(" -"), "{log:?}");
    assert_eq!(log[1], "/token Basic", "{log:?}");
    assert!(log[2..].iter().all(|l| l.ends_with(" Bearer")), "{log:?}");
    let ids = |root: &Path| text(&hull(root, &["images", "-q"]).stdout);
    assert_eq!(ids(&a), ids(&b));
}

#[test]
fn unknown_manifest_media_type_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, cfg) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("docker"));
    let store = Store::open(a.join("image")).unwrap();
    let bogus =
        store.put_bytes(br#"{"schemaVersion":2,"mediaType":"application/vnd.example.not-an-image+json"}"#).unwrap();
    let double = bearer_registry_double(&a, bogus, "bob", "pw");
    let (out, _) = pull_from_double(&b, &cfg, double, "bob", "pw");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unknown manifest media type \"application/vnd.example.not-an-image+json\""),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(text(&hull(&b, &["images", "-q"]).stdout), "");
}
