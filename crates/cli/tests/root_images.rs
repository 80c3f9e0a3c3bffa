//! Images for real, as root: layers with whiteouts, hardlinks and symlinks
//! unpacked and stacked with overlayfs (in a private mount namespace),
//! 40+ layers, malicious tars, OCI layout round trips with skopeo and
//! umoci, and bad input leaving the store as it was.

use hull_image::digest::Digest;
use hull_image::manifest::{
    Descriptor, ImageConfig, Manifest, RootFs, OCI_CONFIG, OCI_LAYER_GZIP, OCI_LAYER_TAR, OCI_MANIFEST,
};
use hull_image::reference::Reference;
use hull_image::store::Store;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

const HULL: &str = env!("CARGO_BIN_EXE_hull");

fn hull(root: &Path, args: &[&str]) -> Output {
    Command::new(HULL).arg("--root").arg(root).args(args).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// One tar entry with a raw name (the tar crate refuses unsafe names, which
/// is exactly what these tests need to write).
struct Entry<'a> {
    name: &'a str,
    kind: tar::EntryType,
    link: Option<&'a str>,
    data: &'a [u8],
}

fn file<'a>(name: &'a str, data: &'a [u8]) -> Entry<'a> {
    Entry { name, kind: tar::EntryType::Regular, link: None, data }
}

fn dir(name: &str) -> Entry<'_> {
    Entry { name, kind: tar::EntryType::Directory, link: None, data: b"" }
}

fn link<'a>(name: &'a str, kind: tar::EntryType, target: &'a str) -> Entry<'a> {
    Entry { name, kind, link: Some(target), data: b"" }
}

fn tar_of(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_old();
        let name = e.name.as_bytes();
        h.as_old_mut().name[..name.len()].copy_from_slice(name);
        if let Some(l) = e.link {
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_entry_type(e.kind);
        h.set_mode(if e.kind == tar::EntryType::Directory { 0o755 } else { 0o644 });
        h.set_size(e.data.len() as u64);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        b.append(&h, e.data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Stores an image made of these uncompressed layers and tags it.
fn store_image(root: &Path, reference: &str, layers: &[Vec<u8>], gzip_first: bool) -> Digest {
    let store = Store::open(root.join("image")).unwrap();
    let mut descs = Vec::new();
    let mut diff_ids = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        diff_ids.push(Digest::sha256(l));
        let (blob, mt) = if gzip_first && i == 0 {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(l).unwrap();
            (gz.finish().unwrap(), OCI_LAYER_GZIP)
        } else {
            (l.clone(), OCI_LAYER_TAR)
        };
        let d = store.put_bytes(&blob).unwrap();
        descs.push(Descriptor {
            media_type: mt.into(),
            digest: d,
            size: blob.len() as u64,
            platform: None,
            annotations: None,
        });
    }
    let config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        rootfs: RootFs { typ: "layers".into(), diff_ids },
        ..Default::default()
    };
    let cb = serde_json::to_vec(&config).unwrap();
    let cd = store.put_bytes(&cb).unwrap();
    let m = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.into()),
        config: Descriptor {
            media_type: OCI_CONFIG.into(),
            digest: cd,
            size: cb.len() as u64,
            platform: None,
            annotations: None,
        },
        layers: descs,
        annotations: None,
    };
    let mb = serde_json::to_vec(&m).unwrap();
    let md = store.put_bytes(&mb).unwrap();
    let lock = store.lock().unwrap();
    store.tag(&reference.parse::<Reference>().unwrap(), &md, &lock).unwrap();
    md
}

/// Runs a shell script in a private mount namespace (mounts vanish with it).
fn in_private_mounts(script: &str) -> Output {
    Command::new("unshare").args(["-m", "--propagation", "private", "/bin/sh", "-c", script]).output().unwrap()
}

#[test]
fn layers_stack_with_whiteouts_hardlinks_symlinks_and_many_layers() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let base = tar_of(&[
        dir("a/"),
        file("a/f1", b"1"),
        file("a/f2", b"2"),
        dir("b/"),
        file("b/x", b"x"),
        file("keep", b"kept"),
        file("del", b"gone"),
        link("ln", tar::EntryType::Symlink, "keep"),
        link("hard", tar::EntryType::Link, "keep"),
    ]);
    let upper = tar_of(&[file("a/.wh..wh..opq", b""), file("a/new", b"n"), file(".wh.del", b""), file("b/y", b"y")]);
    let mut layers = vec![base, upper];
    for i in 0..42 {
        let name = format!("n{i}");
        layers.push(tar_of(&[file(&name, name.as_bytes())]));
    }
    // A long store path on purpose: 44 lower layers overflow mount(2)'s page of options.
    let root = root.join("a-rather-long-directory-name-to-make-every-layer-path-longer");
    store_image(&root, "localhost/layers:1", &layers, true);
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let script = format!(
        "{HULL} --root {r} image mount localhost/layers:1 {m} >/dev/null && cd {m} && ls a | tr '\\n' ' ' && echo && \
         ls b | tr '\\n' ' ' && echo && (ls del 2>/dev/null || echo no-del) && readlink ln && \
         [ $(stat -c %i hard) = $(stat -c %i keep) ] && echo same-inode; cat n41; echo; touch x 2>/dev/null || echo read-only",
        r = root.display(),
        m = mnt.display()
    );
    let out = in_private_mounts(&script);
    assert_eq!(text(&out.stdout), "new \nx y \nno-del\nkeep\nsame-inode\nn41\nread-only\n", "{}", text(&out.stderr));
    // The unpacked upper layer holds overlayfs whiteouts.
    let layers_dir = root.join("snapshots/layers");
    let mut saw_whiteout = false;
    let mut saw_opaque = false;
    for e in std::fs::read_dir(&layers_dir).unwrap().flatten() {
        let fs = e.path().join("fs");
        if let Ok(m) = std::fs::symlink_metadata(fs.join("del")) {
            use std::os::unix::fs::{FileTypeExt, MetadataExt};
            saw_whiteout |= m.file_type().is_char_device() && m.rdev() == 0;
        }
        let a = std::ffi::CString::new(fs.join("a").to_string_lossy().as_bytes()).unwrap();
        let mut buf = [0u8; 4];
        // SAFETY: valid C strings and buffer for the call.
        let n = unsafe {
            libc::lgetxattr(a.as_ptr(), c"trusted.overlay.opaque".as_ptr(), buf.as_mut_ptr().cast(), buf.len())
        };
        saw_opaque |= n == 1 && buf[0] == b'y';
    }
    assert!(saw_whiteout, "no 0/0 character device for .wh.del");
    assert!(saw_opaque, "no trusted.overlay.opaque on a/");
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    assert!(!mounts.contains(mnt.to_str().unwrap()), "a mount leaked into the test's namespace");
}

#[test]
fn malicious_layers_are_refused_and_leave_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("dotdot", tar_of(&[file("../evil", b"x")]), "tar entry \"../evil\": contains '..'"),
        ("absolute", tar_of(&[file("/abs-evil", b"x")]), "tar entry \"/abs-evil\": is an absolute path"),
        (
            "through-symlink",
            tar_of(&[link("s", tar::EntryType::Symlink, "/tmp"), file("s/evil", b"x")]),
            "tar entry \"s/evil\": goes through a symbolic link",
        ),
        ("hardlink-out", tar_of(&[link("h", tar::EntryType::Link, "../outside")]), "tar entry \"h\": contains '..'"),
        (
            "whiteout-of-parent",
            tar_of(&[dir("d/"), file("d/.wh...", b"")]),
            "tar entry \"d/.wh...\": whiteout of no file, or of a directory above it",
        ),
        ("whiteout-of-self", tar_of(&[file(".wh..", b"")]), "tar entry \".wh..\": whiteout of no file"),
        (
            "hardlink-abs",
            tar_of(&[link("h", tar::EntryType::Link, "/etc/passwd")]),
            "tar entry \"h\": is an absolute path",
        ),
    ];
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    for (name, layer, message) in cases {
        store_image(&root, &format!("localhost/evil:{name}"), &[layer], false);
        let out = hull(&root, &["image", "mount", &format!("localhost/evil:{name}"), mnt.to_str().unwrap()]);
        assert!(!out.status.success(), "{name}: accepted");
        assert!(text(&out.stderr).contains(message), "{name}: {}", text(&out.stderr));
        let left: Vec<_> =
            std::fs::read_dir(root.join("snapshots/layers")).unwrap().flatten().map(|e| e.file_name()).collect();
        assert!(left.is_empty(), "{name}: left {left:?}");
    }
    assert!(!Path::new("/abs-evil").exists() && !Path::new("/tmp/evil").exists());
    assert!(!tmp.path().join("evil").exists() && !root.join("snapshots/evil").exists());
}

#[test]
fn default_image_and_oci_layout_round_trips_with_skopeo_and_umoci() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let out = hull(&root, &["image", "default", "--busybox", "/bin/busybox"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let id = text(&out.stdout).split_whitespace().nth(1).unwrap().to_string();
    let list = text(&hull(&root, &["images"]).stdout);
    assert!(list.contains("localhost/hull/busybox") && list.contains(&id[7..19]), "{list}");
    // Hull → OCI layout → umoci unpacks it.
    let layout = tmp.path().join("layout");
    let out = hull(&root, &["image", "save", "-o", &format!("oci:{}", layout.display()), "localhost/hull/busybox"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bundle = tmp.path().join("bundle");
    let out = Command::new("umoci")
        .args(["unpack", "--image"])
        .arg(format!("{}:latest", layout.display()))
        .arg(&bundle)
        .output()
        .unwrap();
    assert!(out.status.success(), "umoci: {}", text(&out.stderr));
    assert!(bundle.join("rootfs/bin/busybox").exists());
    // skopeo copies the layout; Hull loads the copy: same image.
    let copy = tmp.path().join("copy");
    let out = Command::new("skopeo")
        .args(["copy", "--quiet"])
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(format!("oci:{}:copied", copy.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "skopeo: {}", text(&out.stderr));
    let out =
        hull(&root, &["image", "load", "-i", &format!("oci:{}:copied", copy.display()), "--tag", "localhost/copied:1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let inspect: serde_json::Value =
        serde_json::from_slice(&hull(&root, &["image", "inspect", "localhost/copied:1"]).stdout).unwrap();
    assert_eq!(inspect[0]["Id"], id.as_str());
    // Two tags on one id: rmi by id needs -f; by name removes one tag.
    let out = hull(&root, &["rmi", &id[7..19]]);
    assert!(text(&out.stderr).contains("is tagged 2 times"), "{}", text(&out.stderr));
    assert!(hull(&root, &["rmi", "localhost/copied:1"]).status.success());
    assert!(hull(&root, &["rmi", "-f", &id[7..19]]).status.success());
    assert_eq!(text(&hull(&root, &["images", "-q"]).stdout), "");
    let blobs = std::fs::read_dir(root.join("image/blobs/sha256")).unwrap().count();
    assert_eq!(blobs, 0, "removing the last tag frees the blobs");
}

#[test]
fn bad_input_leaves_the_store_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    assert!(hull(&root, &["image", "default"]).status.success());
    let layout = tmp.path().join("layout");
    assert!(hull(&root, &["image", "save", "-o", &format!("oci:{}", layout.display()), "localhost/hull/busybox"])
        .status
        .success());
    let snapshot = |root: &Path| {
        let mut blobs: Vec<_> =
            std::fs::read_dir(root.join("image/blobs/sha256")).unwrap().flatten().map(|e| e.file_name()).collect();
        blobs.sort();
        (blobs, std::fs::read_to_string(root.join("image/tags.json")).unwrap())
    };
    let before = snapshot(&root);
    // Corrupt the layer blob in the layout: the load fails naming the blob, nothing is tagged.
    let other = tmp.path().join("other-store");
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifest_digest: Digest = index["manifests"][0]["digest"].as_str().unwrap().parse().unwrap();
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(layout.join("blobs/sha256").join(manifest_digest.hex())).unwrap())
            .unwrap();
    let layer = layout.join("blobs/sha256").join(manifest.layers[0].digest.hex());
    let mut bytes = std::fs::read(&layer).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&layer, &bytes).unwrap();
    let out = hull(
        &other,
        &["image", "load", "-i", &format!("oci:{}:latest", layout.display()), "--tag", "localhost/broken:1"],
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains(&format!("blob {}: content hashes to", manifest.layers[0].digest)),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(text(&hull(&other, &["images", "-q"]).stdout), "", "a broken image was listed");
    assert!(hull(&other, &["image", "prune"]).status.success());
    let orphans = std::fs::read_dir(other.join("image/blobs/sha256")).unwrap().count();
    assert_eq!(orphans, 0, "prune left orphan blobs");
    // A truncated blob: same.
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&layer, &bytes).unwrap();
    let out = hull(
        &other,
        &["image", "load", "-i", &format!("oci:{}:latest", layout.display()), "--tag", "localhost/broken:1"],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("content hashes to"), "{}", text(&out.stderr));
    // Bad names, unknown images, unsupported sources.
    for (args, needle) in [
        (vec!["tag", "localhost/hull/busybox", "Bad/Name"], "invalid image reference \"Bad/Name\""),
        (vec!["image", "inspect", "nosuchimage"], "no such image: nosuchimage"),
        (vec!["rmi", "nosuchimage"], "no such image: nosuchimage"),
        (
            vec!["image", "load", "-i", "docker-archive:/nonexistent/x.tar"],
            "/nonexistent/x.tar: No such file or directory",
        ),
        (vec!["image", "load", "-i", "oci:/nonexistent-layout:x", "--tag", "a/b"], "/nonexistent-layout: index.json"),
    ] {
        let out = hull(&root, &args);
        assert!(!out.status.success(), "{args:?}");
        assert!(text(&out.stderr).contains(needle), "{args:?}: {}", text(&out.stderr));
    }
    assert_eq!(snapshot(&root), before, "the store changed");
}

/// Debian's docker-registry on 127.0.0.1 and a free port, storage in a
/// temp dir, optionally behind htpasswd basic auth; stopped on drop.
struct Registry {
    child: std::process::Child,
    addr: String,
    dir: tempfile::TempDir,
}

impl Registry {
    fn start(auth: Option<(&str, &str)>) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let addr = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n",
            dir.path().join("data").display()
        );
        if let Some((user, pass)) = auth {
            let htpasswd = dir.path().join("htpasswd");
            let st = Command::new("htpasswd").args(["-Bbc"]).arg(&htpasswd).args([user, pass]).output().unwrap();
            assert!(st.status.success(), "htpasswd: {}", text(&st.stderr));
            config.push_str(&format!("auth:\n  htpasswd:\n    realm: hull-test\n    path: {}\n", htpasswd.display()));
        }
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if std::net::TcpStream::connect(&addr).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Registry { child, addr, dir }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hull_env(root: &Path, docker_config: &Path, args: &[&str]) -> Output {
    Command::new(HULL).env("DOCKER_CONFIG", docker_config).arg("--root").arg(root).args(args).output().unwrap()
}

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
    assert!(text(&out.stdout).contains("Pull complete"), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains(inspect["Digest"].as_str().unwrap()));
    let ids = |root: &Path| text(&hull_env(root, &cfg, &["images", "-q", "--no-trunc"]).stdout);
    assert_eq!(ids(&a), ids(&b));
    // Pulling again finds every layer in the store.
    assert!(text(&hull_env(&b, &cfg, &["pull", &name]).stdout).contains("Already exists"));

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
    assert!(hull_env(&c, &cfg, &["image", "prune"]).status.success());
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
fn docker_archive_save_and_load_interoperate_with_skopeo() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    assert!(hull(&a, &["image", "default"]).status.success());
    let id = |root: &Path, name: &str| -> String {
        let v: serde_json::Value = serde_json::from_slice(&hull(root, &["image", "inspect", name]).stdout).unwrap();
        v[0]["Id"].as_str().unwrap().to_string()
    };
    let original = id(&a, "localhost/hull/busybox");
    // What Hull saves, skopeo (docker's archive reader) reads.
    let archive = tmp.path().join("bb.tar");
    let out = hull(&a, &["image", "save", "-o", archive.to_str().unwrap(), "localhost/hull/busybox"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let layout = tmp.path().join("layout");
    let out = Command::new("skopeo")
        .args(["copy", "--quiet"])
        .arg(format!("docker-archive:{}", archive.display()))
        .arg(format!("oci:{}:x", layout.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "skopeo: {}", text(&out.stderr));
    // What skopeo writes in docker's format, Hull loads: the same image.
    let archive2 = tmp.path().join("sk.tar");
    let out = Command::new("skopeo")
        .args(["copy", "--quiet"])
        .arg(format!("oci:{}:x", layout.display()))
        .arg(format!("docker-archive:{}:example/bb:2", archive2.display()))
        .output()
        .unwrap();
    assert!(out.status.success(), "skopeo: {}", text(&out.stderr));
    let out = hull(&b, &["image", "load", "-i", archive2.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Loaded image: docker.io/example/bb:2"));
    assert_eq!(id(&b, "example/bb:2"), original);
    // A tar that is not a docker archive: a clear error, nothing tagged.
    let bogus = tmp.path().join("bogus.tar");
    let mut t = tar::Builder::new(std::fs::File::create(&bogus).unwrap());
    let mut h = tar::Header::new_gnu();
    h.set_size(2);
    h.set_cksum();
    t.append_data(&mut h, "hello.txt", &b"hi"[..]).unwrap();
    t.finish().unwrap();
    let c = tmp.path().join("c");
    let out = hull(&c, &["image", "load", "-i", bogus.to_str().unwrap()]);
    assert!(text(&out.stderr).contains("no manifest.json (not a docker archive)"), "{}", text(&out.stderr));
    assert_eq!(text(&hull(&c, &["images", "-q"]).stdout), "");
}

#[test]
fn zstd_layers_unpack() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let layer = tar_of(&[dir("etc/"), file("etc/zstd-was-here", b"yes")]);
    let compressed = zstd::encode_all(&layer[..], 3).unwrap();
    let store = Store::open(root.join("image")).unwrap();
    let ld = store.put_bytes(&compressed).unwrap();
    let config = ImageConfig {
        architecture: "amd64".into(),
        os: "linux".into(),
        rootfs: RootFs { typ: "layers".into(), diff_ids: vec![Digest::sha256(&layer)] },
        ..Default::default()
    };
    let cb = serde_json::to_vec(&config).unwrap();
    let cd = store.put_bytes(&cb).unwrap();
    let m = Manifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.into()),
        config: Descriptor {
            media_type: OCI_CONFIG.into(),
            digest: cd,
            size: cb.len() as u64,
            platform: None,
            annotations: None,
        },
        layers: vec![Descriptor {
            media_type: hull_image::manifest::OCI_LAYER_ZSTD.into(),
            digest: ld,
            size: compressed.len() as u64,
            platform: None,
            annotations: None,
        }],
        annotations: None,
    };
    let mb = serde_json::to_vec(&m).unwrap();
    let md = store.put_bytes(&mb).unwrap();
    let lock = store.lock().unwrap();
    store.tag(&"localhost/zstd:1".parse::<Reference>().unwrap(), &md, &lock).unwrap();
    drop(lock);
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let out = in_private_mounts(&format!(
        "{HULL} --root {} image mount localhost/zstd:1 {m} >/dev/null && cat {m}/etc/zstd-was-here",
        root.display(),
        m = mnt.display()
    ));
    assert_eq!(text(&out.stdout), "yes", "{}", text(&out.stderr));
}

#[test]
fn full_disk_leaves_the_store_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    assert!(hull(&a, &["image", "default"]).status.success());
    let archive = tmp.path().join("bb.tar");
    assert!(hull(&a, &["image", "save", "-o", archive.to_str().unwrap(), "localhost/hull/busybox"]).status.success());
    // A store on a 600 kB tmpfs (in a private mount namespace) cannot take the 2 MB layer.
    let small = tmp.path().join("small");
    std::fs::create_dir(&small).unwrap();
    let script = format!(
        "mount -t tmpfs -o size=600k tmpfs {s} && {HULL} --root {s} image load -i {ar}; echo rc=$?; \
         {HULL} --root {s} images -q | wc -l; ls {s}/image/blobs/sha256 | wc -l; ls {s}/image/ingest | wc -l",
        s = small.display(),
        ar = archive.display()
    );
    let out = in_private_mounts(&script);
    let stdout = text(&out.stdout);
    assert!(text(&out.stderr).contains("No space left on device"), "{}", text(&out.stderr));
    assert_eq!(stdout, "rc=1\n0\n0\n0\n", "the store is not as it was: {stdout}");
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

/// TEST DOUBLE: a registry that only answers with a bearer token from its
/// own token endpoint (Debian packages no token server, and the real
/// registry's JWT trust set-up is not what is under test here: the client's
/// challenge → token → retry flow is). It serves one image from a Hull store.
fn bearer_registry_double(
    store_root: &Path,
    manifest: Digest,
    user: &'static str,
    pass: &'static str,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    use std::io::{BufRead, BufReader};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let blobs = store_root.join("image/blobs/sha256");
    let realm = format!("http://{addr}/token");
    let handle = std::thread::spawn(move || {
        use base64::Engine;
        let mut log = Vec::new();
        let good_basic =
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}")));
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request = String::new();
            reader.read_line(&mut request).unwrap();
            if request.starts_with("STOP") {
                break;
            }
            let mut auth = String::new();
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line == "\r\n" || line.is_empty() {
                    break;
                }
                if let Some(v) = line.strip_prefix("Authorization: ").or_else(|| line.strip_prefix("authorization: ")) {
                    auth = v.trim().to_string();
                }
            }
            let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
            log.push(format!(
                "{} {}",
                path.split('?').next().unwrap_or(""),
                if auth.is_empty() { "-" } else { auth.split(' ').next().unwrap() }
            ));
            let respond = |s: &mut std::net::TcpStream, status: &str, headers: &str, body: &[u8]| {
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{headers}\r\n",
                    body.len()
                );
                s.write_all(head.as_bytes()).unwrap();
                s.write_all(body).unwrap();
            };
            if path.starts_with("/token") {
                if auth == good_basic {
                    respond(&mut stream, "200 OK", "Content-Type: application/json\r\n", br#"{"token":"t0k3n"}"#);
                } else {
                    respond(&mut stream, "401 Unauthorized", "", b"");
                }
                continue;
            }
            if auth != "Bearer t0k3n" {
                let challenge = format!(
                    "WWW-Authenticate: Bearer realm=\"{realm}\",service=\"double\",scope=\"repository:app:pull\"\r\n"
                );
                respond(&mut stream, "401 Unauthorized", &challenge, b"");
                continue;
            }
            let digest = if path.contains("/manifests/") {
                manifest.hex().to_string()
            } else {
                path.rsplit(':').next().unwrap_or("").to_string()
            };
            match std::fs::read(blobs.join(&digest)) {
                Ok(body) => respond(
                    &mut stream,
                    "200 OK",
                    "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n",
                    &body,
                ),
                Err(_) => respond(&mut stream, "404 Not Found", "", b"{}"),
            }
        }
        log
    });
    (addr, handle)
}

#[test]
fn bearer_token_flow_against_a_test_double() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, cfg) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("docker"));
    assert!(hull(&a, &["image", "default"]).status.success());
    let inspect: serde_json::Value =
        serde_json::from_slice(&hull(&a, &["image", "inspect", "localhost/hull/busybox"]).stdout).unwrap();
    let manifest: Digest = inspect[0]["Manifest"].as_str().unwrap().parse().unwrap();
    let (addr, server) = bearer_registry_double(&a, manifest, "bob", "hunter2");
    // Credentials for the token endpoint come from docker's config.json.
    std::fs::create_dir_all(&cfg).unwrap();
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode("bob:hunter2");
    std::fs::write(cfg.join("config.json"), format!(r#"{{"auths":{{"{addr}":{{"auth":"{auth}"}}}}}}"#)).unwrap();
    let out = Command::new(HULL)
        .env("DOCKER_CONFIG", &cfg)
        .env("HULL_INSECURE_REGISTRIES", &addr)
        .arg("--root")
        .arg(&b)
        .args(["pull", &format!("{addr}/app:1")])
        .output()
        .unwrap();
    std::net::TcpStream::connect(&addr).unwrap().write_all(b"STOP\r\n").unwrap();
    let log = server.join().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Challenge, token with basic credentials, then every request with the token.
    assert!(log[0].ends_with(" -"), "{log:?}");
    assert_eq!(log[1], "/token Basic", "{log:?}");
    assert!(log[2..].iter().all(|l| l.ends_with(" Bearer")), "{log:?}");
    let ids = |root: &Path| text(&hull(root, &["images", "-q"]).stdout);
    assert_eq!(ids(&a), ids(&b));
}

#[test]
fn run_a_container_from_an_image() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    assert!(hull(&root, &["image", "default"]).status.success());
    let out = hull(
        &root,
        &[
            "run",
            "--rm",
            "-e",
            "GREETING=hi",
            "-w",
            "/tmp",
            "localhost/hull/busybox",
            "/bin/sh",
            "-c",
            "echo $GREETING; pwd; id -u; echo x > /written && cat /written; exit 7",
        ],
    );
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hi\n/tmp\n0\nx\n");
    // The write went to the container's upper layer, not the image.
    let out = hull(
        &root,
        &["run", "--rm", "localhost/hull/busybox", "/bin/sh", "-c", "test -e /written && echo leaked || echo clean"],
    );
    assert_eq!(text(&out.stdout), "clean\n");
    // The image's user resolution: a named user from its /etc/passwd.
    let out = hull(&root, &["run", "--rm", "-u", "nobody", "localhost/hull/busybox", "id"]);
    assert_eq!(text(&out.stdout), "uid=65534(nobody) gid=65534(nogroup)\n", "{}", text(&out.stderr));
    let out = hull(&root, &["run", "--rm", "-u", "ghost", "localhost/hull/busybox", "id"]);
    assert!(
        text(&out.stderr).contains("user \"ghost\": no user \"ghost\" in the image's /etc/passwd"),
        "{}",
        text(&out.stderr)
    );
    // Nothing is left: no container directory, no mount, no cgroup.
    assert_eq!(std::fs::read_dir(root.join("containers")).unwrap().count(), 0);
    assert!(!std::fs::read_to_string("/proc/self/mountinfo").unwrap().contains(root.to_str().unwrap()));
    assert!(
        !Path::new("/sys/fs/cgroup/memory/hull").exists()
            || std::fs::read_dir("/sys/fs/cgroup/memory/hull").unwrap().flatten().all(|e| !e.path().is_dir())
    );
}
