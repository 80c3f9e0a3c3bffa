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

#[test]
fn a_path_swapped_under_a_mount_never_sends_it_to_the_host() {
    let e = Env::new();
    let bin = e._tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    helper("exchange", &bin);
    // What the attacker aims at: a host directory with a file worth keeping.
    let victim = e._tmp.path().join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("target"), b"precious").unwrap();
    let source = e._tmp.path().join("source");
    std::fs::write(&source, b"source").unwrap();
    let bind_bin = format!("{}:/h:ro", bin.display());
    let script =
        format!("mkdir -p /shared/d && ln -sfn {} /shared/l && exec /h/exchange /shared/d /shared/l", victim.display());
    let attacker =
        e.ok(&["run", "-d", "--network", "none", "-v", "shared:/shared", "-v", &bind_bin, IMG, "sh", "-c", &script]);
    let bind = format!("{}:/shared/d/target", source.display());
    let (mut ok, mut refused) = (0, 0);
    for _ in 0..200 {
        let out = e.run(&["run", "--rm", "--network", "none", "-v", "shared:/shared", "-v", &bind, IMG, "true"]);
        if out.status.success() {
            ok += 1;
        } else {
            refused += 1;
            let err = text(&out.stderr);
            assert!(err.contains("/shared/d/target"), "an unclear refusal: {err}");
        }
        assert_eq!(
            std::fs::read(victim.join("target")).unwrap(),
            b"precious",
            "a host file was written through the swap"
        );
    }
    let left: Vec<_> = std::fs::read_dir(&victim).unwrap().flatten().map(|d| d.file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("target")], "something was made in the host directory");
    assert!(ok > 0, "the race never let a run through ({refused} refused)");
    e.ok(&["rm", "-f", &attacker]);
}

/// An image made of the busybox image's layer and one more layer.
#[test]
fn an_image_whose_dev_is_a_symlink_to_the_host_writes_nothing_there() {
    let e = Env::new();
    let host_dev = e._tmp.path().join("host-dev");
    std::fs::create_dir_all(&host_dev).unwrap();
    let target = host_dev.display().to_string();
    image_with_layer(
        &e,
        "localhost/evil:dev",
        tar_of(&[file(".wh.dev", b""), link("dev", tar::EntryType::Symlink, &target)]),
    );
    let out = e.run(&["run", "--rm", "--network", "none", "localhost/evil:dev", "ls", "/dev"]);
    let left: Vec<_> = std::fs::read_dir(&host_dev).unwrap().flatten().map(|d| d.file_name()).collect();
    assert!(left.is_empty(), "written into the host directory: {left:?} ({})", text(&out.stderr));
    // Refused, and saying why, or run with its /dev inside its own root.
    if !out.status.success() {
        assert!(text(&out.stderr).contains("dev"), "{}", text(&out.stderr));
    }
    assert!(e.ok(&["ps", "-aq"]).is_empty());
}

#[test]
fn image_passwd_files_are_read_inside_the_image_and_only_if_regular() {
    let e = Env::new();
    let fifo = e._tmp.path().join("host-fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let fifo = fifo.display().to_string();
    let cases = [
        ("zero", "/dev/zero", "/etc/passwd is not a regular file"),
        ("fifo", fifo.as_str(), ""),
        ("shadow", "/etc/shadow", ""),
    ];
    for (tag, target, refusal) in cases {
        let name = format!("localhost/evil:passwd-{tag}");
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "etc/passwd", target).unwrap();
        if tag == "zero" {
            // The image brings its own /dev/zero, so the link resolves to a device inside it.
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Char);
            h.set_mode(0o666);
            h.set_size(0);
            h.set_device_major(1).unwrap();
            h.set_device_minor(5).unwrap();
            h.set_cksum();
            b.append_data(&mut h, "dev/zero", &b""[..]).unwrap();
        }
        image_with_layer(&e, &name, b.into_inner().unwrap());
        let started = std::time::Instant::now();
        let out = e.run(&["run", "--rm", "--network", "none", "-u", "root", &name, "sh", "-c", "id -u; echo $HOME"]);
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "{tag}: hung");
        let err = text(&out.stderr);
        if !refusal.is_empty() {
            assert_eq!(out.status.code(), Some(125), "{tag}: {err}");
            assert!(err.contains(refusal), "{tag}: {err}");
        } else {
            // Not the host's file: the image has no such user.
            assert!(!out.status.success(), "{tag}: {}", text(&out.stdout));
            assert!(err.contains("no user \"root\""), "{tag}: {err}");
        }
        assert!(e.ok(&["ps", "-aq"]).is_empty(), "{tag}: a container was left");
    }
}

fn sha256(p: &Path) -> String {
    text(&Command::new("sha256sum").arg(p).output().unwrap().stdout)
}

#[test]
fn a_container_with_sys_ptrace_gets_no_writable_handle_on_a_host_binary_during_exec() {
    let e = Env::new();
    let bin = e._tmp.path().join("bin");
    let out = e._tmp.path().join("out");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    helper("exescan", &bin);
    let binaries: Vec<std::path::PathBuf> =
        ["hull", "hull-runtime", "hull-shim"].iter().map(|b| Path::new(HULL).with_file_name(b)).collect();
    let before: Vec<String> = binaries.iter().map(|b| sha256(b)).collect();
    let (bind_bin, bind_out) = (format!("{}:/h:ro", bin.display()), format!("{}:/out", out.display()));
    let id = e.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--cap-add",
        "SYS_PTRACE",
        "-v",
        &bind_bin,
        "-v",
        &bind_out,
        IMG,
        "/h/exescan",
        "/out/report",
        "/out/stop",
    ]);
    let runtime = Path::new(HULL).with_file_name("hull-runtime");
    for _ in 0..30 {
        e.ok(&["exec", &id, "true"]);
        let r = Command::new(&runtime).arg("--root").arg(e.run_root()).args(["exec", &id, "true"]).output().unwrap();
        assert!(r.status.success(), "{}", text(&r.stderr));
    }
    // A restart too: the shim's init is a clone of the shim.
    // From the host side of the bind: an exec'd touch could be killed with
    // the scanner it stops (exit 137) before it reports its own end.
    std::fs::write(out.join("stop"), b"").unwrap();
    wait_until("the scanner's report", || {
        text(&std::fs::read(out.join("report")).unwrap_or_default()).contains("scans")
    });
    let report = std::fs::read_to_string(out.join("report")).unwrap();
    let scans: u64 = report.lines().last().unwrap().strip_prefix("scans ").unwrap().parse().unwrap();
    assert!(scans > 100, "the scanner hardly ran: {report}");
    // No handle on a host binary that could be reopened for writing.
    let host: Vec<String> = binaries
        .iter()
        .map(|b| {
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::metadata(b).unwrap();
            format!("{}:{}", m.dev(), m.ino())
        })
        .collect();
    let seen_host = report.lines().filter(|l| host.iter().any(|h| l.starts_with(&format!("{h} ")))).count();
    assert!(seen_host > 0, "the scanner never saw an exec'ing process: {report}");
    let hits: Vec<&str> = report.lines().filter(|l| host.iter().any(|h| l.starts_with(&format!("{h} 1 ")))).collect();
    assert!(hits.is_empty(), "writable handles on host binaries: {hits:?}");
    let after: Vec<String> = binaries.iter().map(|b| sha256(b)).collect();
    assert_eq!(before, after);
    e.ok(&["rm", "-f", &id]);
}

#[test]
fn the_default_profile_is_an_allow_list_and_kernel_mounts_are_locked_down() {
    let e = Env::new();
    let bin = e._tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    helper("sysprobe", &bin);
    let bind = format!("{}:/h:ro", bin.display());
    let probe = |extra: &[&str]| -> String {
        let mut args = vec!["run", "--rm", "--network", "none", "-v", &bind];
        args.extend(extra);
        args.extend([IMG, "/h/sysprobe"]);
        e.ok(&args)
    };
    let got = probe(&[]);
    // ENOSYS (38) for io_uring, a number no kernel has and a personality
    // that would make data executable; EPERM (1) for keyrings and new
    // namespaces; EINVAL (22) for the host's audit socket.
    for want in [
        "io_uring_setup=38",
        "personality_read_implies_exec=38",
        "personality_query=0",
        "socket_netlink_audit=22",
        "socket_netlink_route=0",
        "socket_inet=0",
        "keyctl=1",
        "unshare_user=1",
        "clone_newns=1",
        "syscall_999=38",
    ] {
        assert!(got.lines().any(|l| l == want), "want {want}: {got}");
    }
    // CAP_SYS_ADMIN lifts the namespace group, as docker's profile does; keyrings stay refused.
    let admin = probe(&["--cap-add", "SYS_ADMIN"]);
    assert!(
        admin.contains("unshare_user=0") && admin.contains("clone_newns=0") && admin.contains("keyctl=1"),
        "{admin}"
    );
    // Unconfined: io_uring reaches the kernel.
    let free = probe(&["--security-opt", "seccomp=unconfined"]);
    assert!(free.contains("io_uring_setup=0"), "{free}");
    // Mounts: /proc nosuid,nodev,noexec; /dev noexec; /proc/sys read-only; /sys/dev/block masked.
    let script = "grep -E ' /proc | /dev ' /proc/self/mountinfo | cut -d' ' -f5,6; \
                  (echo x > /proc/sys/kernel/hostname) 2>/dev/null && echo wrote-proc-sys; ls /sys/dev/block | wc -l; \
                  cp /bin/busybox /dev/bb && /dev/bb true 2>/dev/null && echo ran-from-dev; true";
    let out = e.ok(&["run", "--rm", "--network", "none", IMG, "sh", "-c", script]);
    let mut lines = out.lines();
    let proc_opts = lines.next().unwrap();
    let dev_opts = lines.next().unwrap();
    for o in ["nosuid", "nodev", "noexec"] {
        assert!(proc_opts.split(&[' ', ','][..]).any(|x| x == o), "/proc without {o}: {proc_opts}");
    }
    assert!(dev_opts.split(&[' ', ','][..]).any(|x| x == "noexec"), "/dev without noexec: {dev_opts}");
    assert_eq!(lines.collect::<Vec<_>>(), ["0"], "{out}");
}

#[test]
fn a_run_killed_at_any_moment_leaves_a_container_whose_reported_state_is_the_truth() {
    let e = Env::new();
    let runtime = Path::new(HULL).with_file_name("hull-runtime");
    // The image's layer unpacked first: the kills are aimed at run, not at a first unpack.
    e.ok(&["run", "--rm", "--network", "none", IMG, "true"]);
    for i in 0..100u64 {
        let mut child = e
            .cmd()
            .args(["run", "-d", "--network", "none", "--name", &format!("k{i}"), IMG, "sleep", "300"])
            .spawn()
            .unwrap();
        // 10 to 150 ms in, spread over the tries: from before the shim
        // starts to after the row is written (a debug build on a loaded
        // machine takes longer than the 10-40 ms a release build needs).
        std::thread::sleep(std::time::Duration::from_millis(10 + (i * 7) % 141));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    let mut running = 0;
    let rows = e.ok(&["ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Names}}"]);
    let mut seen: Vec<String> = Vec::new();
    for line in rows.lines() {
        let (id, name) = line.split_once(' ').unwrap();
        let reported = e.inspect(name, "{{.State.Status}}");
        let st = Command::new(&runtime).arg("--root").arg(e.run_root()).args(["state", id]).output().unwrap();
        let actual = if st.status.success() {
            serde_json::from_slice::<serde_json::Value>(&st.stdout).unwrap()["status"].as_str().unwrap().to_string()
        } else {
            "none".into()
        };
        assert_eq!(
            reported == "running",
            actual == "running",
            "{name}: reported {reported}, the runtime has it {actual}"
        );
        seen.push(format!("{name}:{reported}"));
        if reported == "running" {
            running += 1;
            e.ok(&["exec", name, "true"]);
        } else {
            // What start says it did, it did.
            e.ok(&["start", name]);
            assert_eq!(e.inspect(name, "{{.State.Status}}"), "running", "{name}");
        }
    }
    assert!(running > 0, "no run got as far as starting its container: {seen:?} from {rows}");
    let all: Vec<String> = e.ok(&["ps", "-aq"]).lines().map(str::to_string).collect();
    let mut rm = vec!["rm", "-f"];
    rm.extend(all.iter().map(String::as_str));
    e.ok(&rm);
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn small_defects_give_clear_errors_and_docker_codes() {
    let e = Env::new();
    let host_file = e._tmp.path().join("f");
    std::fs::write(&host_file, b"hi\n").unwrap();
    let hf = host_file.display().to_string();
    let id = e.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        IMG,
        "sh",
        "-c",
        "mkdir /dir; ln -s /dir /link; ln -s /nowhere /dl; ln -s /nowhere/deeper /dd; sleep 300",
    ]);
    wait_until("the links", || e.run(&["exec", &id, "test", "-L", "/dd"]).status.success());
    // cp through a dangling symlink: a clear error, not SIGPIPE's 141.
    let out = e.run(&["cp", &hf, &format!("{id}:/dd/x")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("Could not find the file /dd in container"), "{}", text(&out.stderr));
    // cp into a symlink: into its target, the link kept.
    e.ok(&["cp", &hf, &format!("{id}:/link/")]);
    e.ok(&["cp", &hf, &format!("{id}:/dl")]);
    let out = e.ok(&["exec", &id, "sh", "-c", "cat /dir/f /nowhere; test -L /link && test -L /dl && echo links-kept"]);
    assert_eq!(out, "hi\nhi\nlinks-kept");
    e.ok(&["rm", "-f", &id]);
    // image load -t names a docker archive's image.
    let archive = e._tmp.path().join("a.tar");
    e.ok(&["image", "save", "-o", archive.to_str().unwrap(), IMG]);
    e.ok(&["image", "load", "-i", archive.to_str().unwrap(), "-t", "localhost/renamed:1"]);
    assert!(e.ok(&["images"]).contains("localhost/renamed"));
    // Bad values: docker's 125 and a message naming the value.
    for (args, want) in [
        (vec!["--network", "none", "--add-host", "bad"], "invalid --add-host \"bad\""),
        (vec!["--network", "host", "--add-host", "bad"], "invalid --add-host \"bad\""),
        (vec!["-m", "-5"], "-5"),
        (vec!["--cpus", "-1"], "-1"),
    ] {
        let mut cmd = vec!["run", "--rm"];
        cmd.extend(&args);
        cmd.extend([IMG, "true"]);
        let out = e.run(&cmd);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(want), "{args:?}: {}", text(&out.stderr));
    }
    // An image's bad StopSignal is refused at create.
    e.image_variant("localhost/evil:stopsignal", |_, config, _| {
        config.config.get_or_insert_with(Default::default).stop_signal = Some("SIGFOO".into());
    });
    let out = e.run(&["run", "--rm", "--network", "none", "localhost/evil:stopsignal", "true"]);
    assert_eq!(out.status.code(), Some(125), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("StopSignal \"SIGFOO\""), "{}", text(&out.stderr));
    // An image of no layers: the command is not found (127), not an overlay error.
    e.image_variant("localhost/empty:1", |_, config, manifest| {
        config.rootfs.diff_ids.clear();
        manifest.layers.clear();
    });
    let out = e.run(&["run", "--rm", "--network", "none", "localhost/empty:1", "/bin/true"]);
    assert_eq!(out.status.code(), Some(127), "{}", text(&out.stderr));
    assert!(e.ok(&["ps", "-aq"]).is_empty());
}

#[test]
fn a_run_killed_on_the_default_network_leaves_nothing_once_removed() {
    let e = Env::new();
    e.ok(&["run", "--rm", "--network", "none", IMG, "true"]);
    for i in 0..30u64 {
        let mut child = e.cmd().args(["run", "-d", "--name", &format!("n{i}"), IMG, "sleep", "300"]).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10 + (i * 11) % 141));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    // Whatever each kill left, start works and rm takes it all away: veths,
    // leases, NAT rules, pinned namespaces (Env::leaks looks at each).
    for name in e.ok(&["ps", "-a", "--format", "{{.Names}}"]).lines() {
        e.ok(&["start", name]);
    }
    let all: Vec<String> = e.ok(&["ps", "-aq"]).lines().map(str::to_string).collect();
    let mut rm = vec!["rm", "-f"];
    rm.extend(all.iter().map(String::as_str));
    e.ok(&rm);
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}
