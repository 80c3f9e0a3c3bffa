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
        (vec!["images".into(), "--format".into(), "xml".into()], "--format \"xml\": use table or json"),
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
            "--platform \"bogus\": expected os/arch[/variant]",
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
