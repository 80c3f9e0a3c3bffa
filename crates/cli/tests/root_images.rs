//! Images for real, as root: layers with whiteouts, hardlinks and symlinks stacked with overlayfs (in a private mount namespace), 40+ layers, malicious tars, OCI layouts and docker archives with skopeo and umoci, a full disk, bad input leaving the store as it was, and `hull run`.

mod common;

use common::*;

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
    umoci_unpack(&format!("{}:latest", layout.display()), &bundle);
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
    assert!(hull(&other, &["image", "prune", "-f"]).status.success());
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
    assert!(text(&out.stderr).contains("not an image archive: no manifest.json"), "{}", text(&out.stderr));
    assert_eq!(text(&hull(&c, &["images", "-q"]).stdout), "");
}

#[test]
fn zstd_layers_unpack() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let layer = tar_of(&[dir("etc/"), file("etc/zstd-was-here", b"yes")]);
    store_image_compressed(&root, "localhost/zstd:1", &[layer], LayerCompression::Zstd);
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
fn run_a_container_from_an_image() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    assert!(hull(&root, &["image", "default"]).status.success());
    let out = hull(
        &root,
        &[
            "run",
            "--rm",
            "--network",
            "none",
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
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "localhost/hull/busybox",
            "/bin/sh",
            "-c",
            "test -e /written && echo leaked || echo clean",
        ],
    );
    assert_eq!(text(&out.stdout), "clean\n");
    // The image's user resolution: a named user from its /etc/passwd.
    let out = hull(&root, &["run", "--rm", "--network", "none", "-u", "nobody", "localhost/hull/busybox", "id"]);
    assert_eq!(text(&out.stdout), "uid=65534(nobody) gid=65534(nogroup)\n", "{}", text(&out.stderr));
    let out = hull(&root, &["run", "--rm", "--network", "none", "-u", "ghost", "localhost/hull/busybox", "id"]);
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

#[test]
fn modes_and_owners_are_exact_while_layers_unpack_in_parallel() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let layer = |name: &str, mode: u32, uid: u64| {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(mode);
        h.set_uid(uid);
        h.set_gid(uid);
        h.set_size(1);
        h.set_cksum();
        b.append_data(&mut h, name, &b"x"[..]).unwrap();
        b.into_inner().unwrap()
    };
    // Several layers, so several unpack threads share the (process-wide) umask.
    let layers: Vec<Vec<u8>> =
        (0..6).map(|i| layer(&format!("f{i}"), if i % 2 == 0 { 0o777 } else { 0o4755 }, 1000 + i)).collect();
    store_image(&root, "localhost/modes:1", &layers, false);
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let out = in_private_mounts(&format!(
        "umask 077; {HULL} --root {} image mount localhost/modes:1 {m} >/dev/null && stat -c '%n %a %u' {m}/f*",
        root.display(),
        m = mnt.display()
    ));
    let expected: String = (0..6)
        .map(|i| format!("{}/f{i} {} {}\n", mnt.display(), if i % 2 == 0 { "777" } else { "4755" }, 1000 + i))
        .collect();
    assert_eq!(text(&out.stdout), expected, "{}", text(&out.stderr));
}

#[test]
fn every_command_refuses_bad_input_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    assert!(hull(&root, &["image", "default"]).status.success());
    let layout = tmp.path().join("out-layout");
    let archive = tmp.path().join("out.tar");
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        // (A template of plain text, `xml`, is valid, as in docker: one line per image.)
        (vec!["images".into(), "--format".into(), "{{.ID".into()], "unclosed"),
        (
            vec!["image".into(), "save".into(), "-o".into(), format!("oci:{}", layout.display()), "nosuch".into()],
            "no such image: nosuch",
        ),
        (
            vec!["image".into(), "save".into(), "-o".into(), archive.display().to_string(), "nosuch".into()],
            "no such image: nosuch",
        ),
        (vec!["image".into(), "mount".into(), "nosuch".into(), mnt.display().to_string()], "no such image: nosuch"),
        (
            vec!["image".into(), "default".into(), "--busybox".into(), "/nonexistent/busybox".into()],
            "read /nonexistent/busybox",
        ),
        (
            vec!["pull".into(), "--platform".into(), "bogus".into(), "localhost:1/x".into()],
            "invalid platform \"bogus\": want os/arch[/variant]",
        ),
        (vec!["pull".into(), "Not/Valid".into()], "invalid image reference \"Not/Valid\""),
        (vec!["push".into(), "nosuch".into()], "no such image: nosuch"),
        (vec!["login".into(), "localhost:1".into(), "-u".into(), "x".into()], "give --password or --password-stdin"),
        (
            vec!["run".into(), "--rm".into(), "--pull".into(), "never".into(), "nosuch".into(), "true".into()],
            "No such image: nosuch",
        ),
    ];
    let before = text(&hull(&root, &["images", "-q", "--no-trunc"]).stdout);
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = hull_command(&root).env("DOCKER_CONFIG", tmp.path().join("docker")).args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(text(&out.stderr).contains(needle), "{args:?}: {}", text(&out.stderr));
    }
    // Nothing was written: no layout, no archive, no mount, no container, no new image, no credentials.
    assert!(!layout.exists() && !archive.exists());
    assert_eq!(std::fs::read_dir(&mnt).unwrap().count(), 0);
    assert!(!root.join("containers").exists() || std::fs::read_dir(root.join("containers")).unwrap().count() == 0);
    assert_eq!(text(&hull(&root, &["images", "-q", "--no-trunc"]).stdout), before);
    assert!(!tmp.path().join("docker/config.json").exists());
    // --help everywhere.
    for cmd in [
        &["images"][..],
        &["image", "load"],
        &["image", "save"],
        &["image", "mount"],
        &["image", "default"],
        &["pull"],
        &["push"],
        &["login"],
        &["logout"],
        &["run"],
        &["tag"],
        &["rmi"],
    ] {
        let out = Command::new(HULL).args(cmd).arg("--help").output().unwrap();
        assert!(out.status.success() && text(&out.stdout).contains("Usage:"), "{cmd:?} --help");
    }
}

/// The tar of a debootstrap'd Debian root (cached by scripts/debian-rootfs.sh).
fn debian_layer() -> Vec<u8> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/debian-rootfs.sh");
    let out = Command::new(&script).output().unwrap();
    assert!(out.status.success(), "debian-rootfs.sh: {}", text(&out.stderr));
    std::fs::read(text(&out.stdout).trim()).unwrap()
}

/// One raw tar entry with full metadata, for the layer of changes.
#[allow(clippy::too_many_arguments)]
fn entry(
    b: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: tar::EntryType,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    data: &[u8],
) {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_uid(uid);
    h.set_gid(gid);
    h.set_mtime(mtime);
    h.set_size(data.len() as u64);
    h.set_cksum();
    b.append_data(&mut h, name, data).unwrap();
}

/// `path -> "mode owner time link"` as `tar -tv` lists the layers, merged
/// as a container sees them (whiteouts delete, opaque directories hide
/// what the layers below put there).
fn merged_tar_listing(layers: &[&Path]) -> std::collections::BTreeMap<String, (usize, String)> {
    let mut merged: std::collections::BTreeMap<String, (usize, String)> = Default::default();
    for (i, layer) in layers.iter().enumerate() {
        let out = Command::new("tar")
            .env("TZ", "UTC")
            .args(["--numeric-owner", "--full-time", "-tvf"])
            .arg(layer)
            .output()
            .unwrap();
        assert!(out.status.success(), "tar -tv: {}", text(&out.stderr));
        for line in text(&out.stdout).lines() {
            // Columns are padded: split on runs of spaces for the first five.
            let mut cols = line.split_whitespace();
            let (mode, owner, _size, date, time) = (
                cols.next().unwrap(),
                cols.next().unwrap(),
                cols.next().unwrap(),
                cols.next().unwrap(),
                cols.next().unwrap(),
            );
            let rest = line.split_once(time).unwrap().1.trim_start();
            let (name, link) = match rest.split_once(" -> ") {
                Some((n, l)) => (n, l.to_string()),
                None => (rest.split(" link to ").next().unwrap(), String::new()),
            };
            let name = name.trim_start_matches("./").trim_end_matches('/').to_string();
            if name.is_empty() || name == "." {
                continue;
            }
            let base = name.rsplit('/').next().unwrap();
            let parent = name.rsplit_once('/').map(|(p, _)| p.to_string()).unwrap_or_default();
            if base == ".wh..wh..opq" {
                let prefix = format!("{parent}/");
                merged.retain(|k, (layer, _)| *layer == i || !k.starts_with(&prefix));
                continue;
            }
            if let Some(hidden) = base.strip_prefix(".wh.") {
                let gone = if parent.is_empty() { hidden.to_string() } else { format!("{parent}/{hidden}") };
                let below = format!("{gone}/");
                merged.retain(|k, _| k != &gone && !k.starts_with(&below));
                continue;
            }
            let mode = mode.replacen('h', "-", 1);
            merged.insert(name, (i, format!("{mode} {owner} {date} {} {link}", &time[..8])));
        }
    }
    merged
}

/// What find(1) prints with [`FIND_FORMAT`], as `path -> "mode owner time link"`.
fn parse_listing(out: &str) -> std::collections::BTreeMap<String, String> {
    out.lines()
        .filter_map(|l| {
            let (meta, name) = l.rsplit_once('|')?;
            if name.is_empty() {
                return None;
            }
            // %TT is HH:MM:SS.fraction; tar lists whole seconds.
            let mut parts: Vec<String> = meta.splitn(5, ' ').map(str::to_string).collect();
            parts[3].truncate(8);
            Some((name.to_string(), parts.join(" ")))
        })
        .collect()
}

const FIND_FORMAT: &str = "%M %U/%G %TY-%Tm-%Td %TT %l|%P\\n";

/// The same listing of a directory tree, by find(1).
fn tree_listing(dir: &Path) -> std::collections::BTreeMap<String, String> {
    let out = Command::new("find")
        .env("TZ", "UTC")
        .arg(".")
        .args(["-printf", FIND_FORMAT])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "find: {}", text(&out.stderr));
    parse_listing(&text(&out.stdout))
}

/// Every entry of `want` that `got` lacks or has otherwise, and every one `got` has beyond it.
fn differences(
    want: &std::collections::BTreeMap<String, String>,
    got: &std::collections::BTreeMap<String, String>,
    who: &str,
) -> Vec<String> {
    let mut diffs: Vec<String> = want
        .iter()
        .filter(|(name, w)| got.get(*name) != Some(*w))
        .map(|(name, w)| format!("{name}: {who} has {w:?}, hull {:?}", got.get(name)))
        .collect();
    diffs.extend(got.keys().filter(|k| !want.contains_key(*k)).map(|k| format!("{k}: not in {who}'s")));
    diffs
}

#[test]
fn a_debian_image_unpacks_exactly_as_tar_and_umoci_say_and_users_cannot_write_its_system_dirs() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let base = debian_layer();
    // A layer of changes as an image builder writes one: parents listed with
    // their own metadata, new directories of several modes and owners, a
    // set-id file, a whiteout and an opaque directory.
    let t = 1_760_000_000;
    let mut b = tar::Builder::new(Vec::new());
    use tar::EntryType::{Directory as D, Regular as F};
    entry(&mut b, "etc/", D, 0o755, 0, 0, t, b"");
    entry(&mut b, "etc/motd", F, 0o644, 0, 0, t, b"changed\n");
    entry(&mut b, "opt/", D, 0o755, 0, 0, t, b"");
    entry(&mut b, "opt/app/", D, 0o750, 1000, 1000, t, b"");
    entry(&mut b, "opt/app/run", F, 0o4755, 0, 0, t, b"#!/bin/sh\n");
    entry(&mut b, "opt/private/", D, 0o700, 0, 0, t, b"");
    entry(&mut b, "srv/", D, 0o755, 0, 0, t, b"");
    entry(&mut b, "srv/shared/", D, 0o2775, 0, 50, t, b"");
    entry(&mut b, "srv/drop/", D, 0o1733, 0, 0, t, b"");
    entry(&mut b, "usr/", D, 0o755, 0, 0, t, b"");
    entry(&mut b, "usr/share/", D, 0o755, 0, 0, t, b"");
    entry(&mut b, "usr/share/doc/", D, 0o755, 0, 0, t, b"");
    entry(&mut b, "usr/share/doc/.wh.apt", F, 0o644, 0, 0, t, b"");
    entry(&mut b, "var/", D, 0o755, 0, 0, t, b"");
    entry(&mut b, "var/cache/", D, 0o755, 0, 0, t, b"");
    entry(&mut b, "var/cache/.wh..wh..opq", F, 0o644, 0, 0, t, b"");
    entry(&mut b, "var/cache/new", F, 0o600, 0, 0, t, b"n");
    let changes = b.into_inner().unwrap();
    let (l1, l2) = (tmp.path().join("l1.tar"), tmp.path().join("l2.tar"));
    std::fs::write(&l1, &base).unwrap();
    std::fs::write(&l2, &changes).unwrap();
    store_image_with(
        &root,
        "localhost/debian:modes",
        &[base, changes],
        LayerCompression::Gzip,
        Some(hull_image::manifest::ExecConfig { cmd: Some(vec!["/bin/sh".into()]), ..Default::default() }),
    );
    // Hull's view: the image mounted as containers see it.
    let mnt = tmp.path().join("mnt");
    let listing = tmp.path().join("hull.txt");
    std::fs::create_dir(&mnt).unwrap();
    let out = in_private_mounts(&format!(
        "{HULL} --root {r} image mount localhost/debian:modes {m} >/dev/null && cd {m} && \
         TZ=UTC find . -printf '{FIND_FORMAT}' > {l}",
        r = root.display(),
        m = mnt.display(),
        l = listing.display()
    ));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let hull_view = parse_listing(&text(&std::fs::read(&listing).unwrap()));
    // Against tar -tv of the layers.
    let tar_view: std::collections::BTreeMap<String, String> =
        merged_tar_listing(&[&l1, &l2]).into_iter().map(|(k, (_, v))| (k, v)).collect();
    assert!(tar_view.len() > 3000, "a real distribution layer: {} entries", tar_view.len());
    let diffs = differences(&tar_view, &hull_view, "tar -tv");
    assert!(diffs.is_empty(), "{} differences from tar -tv, first: {:#?}", diffs.len(), &diffs[..diffs.len().min(20)]);
    // Against umoci's unpack of the same image.
    let layout = tmp.path().join("layout");
    let out = hull(&root, &["image", "save", "-o", &format!("oci:{}", layout.display()), "localhost/debian:modes"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bundle = tmp.path().join("bundle");
    umoci_unpack(&format!("{}:modes", layout.display()), &bundle);
    let diffs = differences(&tree_listing(&bundle.join("rootfs")), &hull_view, "umoci");
    assert!(diffs.is_empty(), "{} differences from umoci, first: {:#?}", diffs.len(), &diffs[..diffs.len().min(20)]);
    // From inside: a non-root user cannot write the system's directories.
    let out = hull(
        &root,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "-u",
            "1000",
            "localhost/debian:modes",
            "/bin/sh",
            "-c",
            "for p in /etc/passwd.new /etc/x /bin/x /usr/bin/x /root/x /opt/private/x /srv/shared/x; do \
             (echo 'evil:x:0:0::/root:/bin/sh' > $p) 2>/dev/null && echo wrote $p; done; \
             mv /etc/passwd /etc/passwd.old 2>/dev/null && echo moved; ls /root 2>/dev/null && echo listed-root; \
             touch /tmp/ok /srv/drop/ok && echo tmp-ok",
        ],
    );
    assert_eq!(text(&out.stdout), "tmp-ok\n", "{}", text(&out.stderr));
}

#[test]
fn layers_unpacked_with_0777_directories_are_repaired_on_open() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    let mut b = tar::Builder::new(Vec::new());
    use tar::EntryType::{Directory as D, Regular as F, Symlink as L};
    entry(&mut b, "etc/", D, 0o755, 0, 0, 1, b"");
    entry(&mut b, "etc/passwd", F, 0o644, 0, 0, 1, b"root:x:0:0::/root:/bin/sh\n");
    entry(&mut b, "root/", D, 0o700, 0, 0, 1, b"");
    entry(&mut b, "tmp/", D, 0o1777, 0, 0, 1, b"");
    entry(&mut b, "usr/lib/x/", D, 0o755, 0, 0, 1, b""); // usr and usr/lib are implicit
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(L);
    h.set_mode(0o777);
    h.set_size(0);
    h.set_cksum();
    b.append_link(&mut h, "lnk", "/etc").unwrap();
    entry(&mut b, "lnk2/", D, 0o755, 0, 0, 1, b"");
    store_image(&root, "localhost/old:1", &[b.into_inner().unwrap()], false);
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let mount = |root: &Path| {
        in_private_mounts(&format!(
            "{HULL} --root {} image mount localhost/old:1 {m} >/dev/null && cd {m} && stat -c '%n %a' etc root tmp usr usr/lib usr/lib/x",
            root.display(),
            m = mnt.display()
        ))
    };
    let want = "etc 755\nroot 700\ntmp 1777\nusr 755\nusr/lib 755\nusr/lib/x 755\n";
    let out = mount(&root);
    assert_eq!(text(&out.stdout), want, "{}", text(&out.stderr));
    // What an older Hull left on disk: every directory 0777, no marker.
    let layers = root.join("snapshots/layers");
    let layer = std::fs::read_dir(&layers).unwrap().flatten().next().unwrap().path();
    std::fs::remove_file(layer.join("modes-v2")).unwrap();
    let out = Command::new("find")
        .arg(layer.join("fs"))
        .args(["-type", "d", "-exec", "chmod", "0777", "{}", "+"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out = mount(&root);
    assert_eq!(text(&out.stdout), want, "{}", text(&out.stderr));
    assert!(layer.join("modes-v2").exists());
    // The symlink was not followed: the host's /etc keeps its mode.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata("/etc").unwrap().permissions().mode() & 0o7777, 0o755);
}
