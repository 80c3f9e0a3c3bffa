//! Issue 10's attacks, performed for real as root against the engine: each
//! test does what an adversary did (a hostile container, image or host
//! user) and asserts that the host and the container's confinement held.

mod common;
use common::*;
use std::os::unix::fs::PermissionsExt;

fn mode(p: &Path) -> u32 {
    std::fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

/// Runs `script` as the host user nobody (65534), no groups.
fn as_nobody(script: &str) -> Output {
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--", "/bin/sh", "-c", script])
        .output()
        .unwrap()
}

#[test]
fn a_host_user_cannot_reach_anything_under_the_store() {
    let e = Env::new();
    // The test's own temp dir is traversable, so only Hull's modes stand between nobody and the store.
    std::fs::set_permissions(e._tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let id = e.ok(&["run", "-d", "--network", "none", "-v", "vol:/data", IMG, "sleep", "300"]);
    // set-id root files in the container's upper directory and in a volume.
    e.ok(&[
        "exec",
        &id,
        "sh",
        "-c",
        "cp /bin/busybox /bin/suid && chmod 4755 /bin/suid && cp /bin/busybox /data/suid && chmod 4755 /data/suid",
    ]);
    assert_eq!(mode(&e.root), 0o700);
    assert_eq!(mode(&e.root.join("containers.db")), 0o600);
    assert_eq!(mode(&e.run_root()), 0o700);
    let run_root = e.run_root();
    let root = e.root.display().to_string();
    let candidates = format!(
        "{root}/containers/{id}/upper/bin/suid {root}/containers/{id}/rootfs/bin/suid {root}/volumes/vol/_data/suid \
         $(ls -d /proc/*/root/bin/suid 2>/dev/null) {root}/snapshots/layers/*/fs/bin/busybox"
    );
    let out = as_nobody(&format!(
        "for f in {candidates}; do \"$f\" id -u 2>/dev/null && echo ran $f; done; \
         ls {root} 2>/dev/null && echo listed-root; ls {root}/containers {root}/image {root}/volumes {root}/snapshots 2>/dev/null && echo listed; \
         cat {root}/containers.db >/dev/null 2>&1 && echo read-db; ls {run} 2>/dev/null && echo listed-run; \
         find {root} {run} 2>/dev/null | wc -l",
        run = run_root.display()
    ));
    // find prints the two roots it could not enter, nothing below them.
    assert_eq!(text(&out.stdout), "2\n", "{}", text(&out.stderr));
    // An installation an older Hull made world-readable is tightened on open.
    for (p, m) in [(&e.root, 0o755), (&e.root.join("containers.db"), 0o644), (&e.root.join("image"), 0o755)] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    }
    e.ok(&["ps"]);
    assert_eq!(
        (mode(&e.root), mode(&e.root.join("containers.db")), mode(&e.root.join("image"))),
        (0o700, 0o600, 0o700)
    );
    e.ok(&["rm", "-f", &id]);
}

#[test]
fn image_mount_is_nosuid_and_nodev() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("store");
    assert!(hull(&root, &["image", "default"]).status.success());
    let mnt = tmp.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let out = in_private_mounts(&format!(
        "{HULL} --root {} image mount localhost/hull/busybox {m} >/dev/null && findmnt -no OPTIONS {m}",
        root.display(),
        m = mnt.display()
    ));
    let opts = text(&out.stdout);
    assert!(
        opts.split(',').any(|o| o == "nosuid") && opts.split(',').any(|o| o == "nodev"),
        "{opts}{}",
        text(&out.stderr)
    );
}

#[test]
fn top_shows_only_the_containers_processes_whatever_ps_is_asked() {
    let e = Env::new();
    let id = e.ok(&["run", "-d", "--network", "none", IMG, "sh", "-c", "sleep 301 & sleep 302"]);
    // A host process the container must not reveal, by a marker in its arguments.
    let mut host = Command::new("sleep").arg("987654").spawn().unwrap();
    let pids: Vec<i32> =
        e.ok(&["inspect", "-f", "{{.State.Pid}}", &id]).split_whitespace().map(|p| p.parse().unwrap()).collect();
    for args in [vec![], vec!["aux"], vec!["-ef"], vec!["-o", "pid,comm"], vec!["-e", "-o", "pid,args"]] {
        let mut cmd = vec!["top", id.as_str()];
        cmd.extend(&args);
        let out = e.ok(&cmd);
        let mut lines = out.lines();
        let header = lines.next().unwrap();
        let col = header.split_whitespace().position(|c| c == "PID").unwrap();
        let rows: Vec<&str> = lines.collect();
        assert!(rows.len() >= 2, "{args:?}: {out}");
        assert!(!out.contains("987654") && !out.contains("hull-shim"), "{args:?}: a host process shown: {out}");
        for r in &rows {
            let pid: i32 = r.split_whitespace().nth(col).unwrap().parse().unwrap();
            let ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap();
            let init_ns = std::fs::read_link(format!("/proc/{}/ns/pid", pids[0])).unwrap();
            assert_eq!(ns, init_ns, "{args:?}: pid {pid} is not in the container: {r}");
        }
    }
    let out = e.run(&["top", &id, "-o", "comm"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("couldn't find PID field in ps output"), "{}", text(&out.stderr));
    host.kill().unwrap();
    host.wait().unwrap();
    e.ok(&["rm", "-f", &id]);
}

/// Builds a test helper (tests/helpers/NAME.c) as a static binary into `dir`.
fn helper(name: &str, dir: &Path) -> std::path::PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/helpers").join(format!("{name}.c"));
    let bin = dir.join(name);
    let out = Command::new("gcc").args(["-static", "-O2", "-o"]).arg(&bin).arg(&src).output().unwrap();
    assert!(out.status.success(), "gcc {name}: {}", text(&out.stderr));
    bin
}

/// Runs `cmd` under a new pseudo-terminal (script(1)), then reads one line
/// of that terminal's input, which is what a process that injected keys
/// with TIOCSTI would have typed into the operator's shell. Returns the
/// transcript.
fn on_a_terminal(e: &Env, cmd: &str) -> String {
    let script = format!("{cmd}; read -t 1 line; echo \"GOT:[$line]\"");
    let mut child = Command::new("script")
        .args(["-qec", &script, "/dev/null"])
        .env("HULL_CGROUP_PARENT", format!("/{}", e.parent))
        .env("HULL_SHIM", Path::new(HULL).with_file_name("hull-shim"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Our end stays open until script is done: at EOF script would end the terminal's input.
    let stdin = child.stdin.take();
    let mut transcript = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut transcript).unwrap();
    child.wait().unwrap();
    drop(stdin);
    transcript
}

#[test]
fn no_container_process_gets_the_operators_terminal() {
    let e = Env::new();
    let bin = e._tmp.path().join("bin");
    let out = e._tmp.path().join("out");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    helper("tiocsti", &bin);
    let (bind_bin, bind_out) = (format!("{}:/h:ro", bin.display()), format!("{}:/out", out.display()));
    let id = e.ok(&["run", "-d", "--network", "none", "-v", &bind_bin, "-v", &bind_out, IMG, "sleep", "300"]);
    let hull = format!(
        "nsenter --net=/run/netns/{} {HULL} --root {} --run-root {}",
        e.netns,
        e.root.display(),
        e.run_root().display()
    );
    let runtime = Path::new(HULL).with_file_name("hull-runtime");
    assert!(runtime.exists(), "{} not built", runtime.display());
    let cases = [
        ("exec", format!("{hull} exec {id} /h/tiocsti /out/report")),
        ("exec -i", format!("{hull} exec -i {id} /h/tiocsti /out/report")),
        ("run", format!("{hull} run --rm --network none -v {bind_bin} -v {bind_out} {IMG} /h/tiocsti /out/report")),
        (
            "hull-runtime exec",
            format!("{} --root {} exec {id} /h/tiocsti /out/report", runtime.display(), e.run_root().display()),
        ),
    ];
    // The caller's stdio is the terminal itself, as for an operator at a shell.
    for (what, cmd) in &cases {
        let _ = std::fs::remove_file(out.join("report"));
        let transcript = on_a_terminal(&e, cmd);
        assert!(
            transcript.contains("GOT:[]"),
            "{what}: the container typed into the operator's terminal: {transcript:?}"
        );
        let report = std::fs::read_to_string(out.join("report")).unwrap_or_default();
        assert_eq!(report, "fd0:0:0 fd1:0:0 fd2:0:0 tty:-1\n", "{what}: {transcript:?}");
    }
    e.ok(&["rm", "-f", &id]);
}
