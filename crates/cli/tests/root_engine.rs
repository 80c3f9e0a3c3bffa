//! The engine end to end, as root, with real containers from the offline
//! busybox image: each verb, logs, exec, restart policies, crashes of the
//! CLI and of shims, a simulated reboot, concurrency, and bad input. Every
//! test has its own store, run root and cgroup parent, and checks that
//! nothing is left behind.

mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::time::Duration;

#[test]
fn lifecycle_verbs() {
    let e = Env::new();
    let id = e.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "-l",
        "tier=front",
        IMG,
        "sh",
        "-c",
        "echo started; trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done",
    ]);
    assert_eq!(id.len(), 64);
    // The shim holds no end of the container's stderr, nor our descriptors.
    let shim_fds = std::fs::read_dir(format!("/proc/{}/fd", e.shim_pid(&id))).unwrap();
    let targets: Vec<String> =
        shim_fds.flatten().map(|f| std::fs::read_link(f.path()).unwrap().display().to_string()).collect();
    assert!(targets.iter().any(|t| t.ends_with("/shim.log")), "{targets:?}");
    assert_eq!(targets.iter().filter(|t| t.starts_with("pipe:")).count(), 2, "{targets:?}");
    let ps = e.ok(&["ps"]);
    assert!(
        ps.starts_with("CONTAINER ID") && ps.contains(&id[..12]) && ps.contains("Up ") && ps.contains("web"),
        "{ps}"
    );
    assert_eq!(e.ok(&["ps", "-q", "--filter", "label=tier=front"]), id[..12]);
    assert_eq!(e.ok(&["ps", "--format", "{{.Names}} {{.State}}"]), "web running");
    // Short ids and unique prefixes work as names do.
    assert_eq!(e.inspect(&id[..5], "{{.Name}} {{.State.Status}} {{.State.Running}}"), "/web running true");
    wait_until("output", || e.ok(&["logs", "web"]) == "started");
    // exec: exit codes and the container's view.
    let out = e.run(&["exec", "web", "sh", "-c", "hostname; cat /proc/1/cmdline | tr '\\0' ' '; exit 3"]);
    assert_eq!(out.status.code(), Some(3));
    let got = text(&out.stdout);
    assert!(got.starts_with(&format!("{}\nsh -c echo started", &id[..12])), "{got}");
    assert_eq!(e.ok(&["exec", "-u", "nobody", "web", "id", "-u"]), "65534");
    assert_eq!(e.run(&["exec", "web", "nosuchcommand"]).status.code(), Some(127));
    assert_eq!(e.run(&["exec", "web", "/etc/passwd"]).status.code(), Some(126));
    // top, pause, unpause.
    assert!(e.ok(&["top", "web"]).contains("sleep"));
    e.ok(&["pause", "web"]);
    assert_eq!(e.inspect("web", "{{.State.Status}} {{.State.Paused}}"), "paused true");
    assert!(e.ok(&["ps"]).contains("(Paused)"));
    e.ok(&["unpause", "web"]);
    // stats, system df, info, version.
    let stats = e.ok(&["stats", "--no-stream", "web"]);
    assert!(stats.starts_with("CONTAINER ID") && stats.contains("web") && stats.contains("iB / "), "{stats}");
    assert!(e.ok(&["system", "df"]).contains("Containers"));
    assert!(e.ok(&["info"]).contains("Running: 1"));
    assert!(e.ok(&["version"]).contains("Version:"));
    // stop runs the trap; the exit is recorded.
    e.ok(&["stop", "web"]);
    assert_eq!(e.inspect("web", "{{.State.Status}} {{.State.ExitCode}}"), "exited 0");
    assert_eq!(e.ok(&["logs", "web"]), "started\nbye");
    assert!(e.ok(&["ps", "-a"]).contains("Exited (0)"));
    assert_eq!(e.ok(&["ps", "-q"]), "");
    // start again, restart, rename, wait, rm.
    e.ok(&["start", "web"]);
    assert_eq!(e.inspect("web", "{{.State.Status}}"), "running");
    e.ok(&["restart", "-t", "5", "web"]);
    assert_eq!(e.inspect("web", "{{.State.Status}}"), "running");
    e.ok(&["rename", "web", "site"]);
    assert_eq!(e.inspect(&id, "{{.Name}}"), "/site");
    // container prune takes stopped containers, not running ones.
    e.ok(&["create", "--name", "idle", IMG, "true"]);
    assert_eq!(e.ok(&["container", "prune", "-f"]).lines().nth(1).map(str::len), Some(64));
    assert!(e.ok(&["ps", "-a"]).contains("site"));
    let out = e.run(&["rm", "site"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("You cannot remove a running container"), "{}", text(&out.stderr));
    e.ok(&["kill", "site"]);
    assert_eq!(e.ok(&["wait", "site"]), "137");
    e.ok(&["rm", "site"]);
    e.assert_clean();
}

#[test]
fn logs_follow_live_and_rotate() {
    let e = Env::new();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "ticker",
        IMG,
        "sh",
        "-c",
        "for i in 1 2 3; do echo line$i; sleep 0.5; done; echo oops >&2",
    ]);
    let mut child = e
        .cmd()
        .args(["logs", "-f", "ticker"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    // The first line arrives while the container still runs.
    assert_eq!(first, "line1");
    assert_eq!(e.inspect("ticker", "{{.State.Running}}"), "true");
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert_eq!(rest, ["line2", "line3"]);
    assert!(child.wait().unwrap().success());
    let out = e.run(&["logs", "--tail", "1", "-t", "ticker"]);
    assert!(text(&out.stderr).ends_with(" oops\n") && text(&out.stderr).starts_with("20"), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    // json-file with rotation: 3 files of at most 1 KiB.
    e.ok(&[
        "run",
        "--name",
        "chatty",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=3",
        IMG,
        "sh",
        "-c",
        "i=0; while [ $i -lt 200 ]; do echo message-$i; i=$((i+1)); done",
    ]);
    let log = e.inspect("chatty", "{{.LogPath}}");
    let first_line = std::fs::read_to_string(&log).unwrap().lines().next().unwrap().to_string();
    let v: serde_json::Value = serde_json::from_str(&first_line).unwrap();
    assert_eq!(v["stream"], "stdout");
    assert!(v["log"].as_str().unwrap().starts_with("message-"));
    assert!(std::path::Path::new(&format!("{log}.2")).exists() && !std::path::Path::new(&format!("{log}.3")).exists());
    assert!(std::fs::metadata(&log).unwrap().len() <= 1024);
    let kept = e.ok(&["logs", "chatty"]);
    assert!(kept.ends_with("message-199") && !kept.contains("message-0\n"), "{kept}");
}

#[test]
fn run_rm_leaves_nothing_and_defaults_are_dockers() {
    let e = Env::new();
    let out = e.run(&[
        "run",
        "--rm",
        IMG,
        "sh",
        "-c",
        "grep Cap /proc/self/status; cat /proc/1/status | grep Seccomp: ; cat /etc/hostname; echo x > /x; exit 4",
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    // docker's default capability set is 0xa80425fb; seccomp mode 2 (filter).
    assert!(s.contains("CapBnd:\t00000000a80425fb"), "{s}");
    assert!(s.contains("Seccomp:\t2"), "{s}");
    e.assert_clean();
    // --init: tini is PID 1, the command its child, and signals reach it.
    let s = e.ok(&["run", "--rm", "--init", IMG, "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$"]);
    let mut lines = s.lines();
    assert_eq!(lines.next(), Some("/sbin/docker-init -- sh -c cat /proc/1/cmdline | tr '\\0' ' '; echo; echo $$ "));
    assert_ne!(lines.next(), Some("1"));
    assert_eq!(e.run(&["run", "--rm", "--init", IMG, "nosuchcommand"]).status.code(), Some(127));
    // sleep as PID 1 would ignore SIGTERM (137 after the timeout); under the init it dies of it (143).
    e.ok(&["run", "-d", "--init", "--name", "inited", IMG, "sleep", "1000"]);
    e.ok(&["stop", "-t", "20", "inited"]);
    assert_eq!(e.inspect("inited", "{{.State.ExitCode}}"), "143");
    e.ok(&["rm", "inited"]);
    // --privileged: every capability, no filter; --cap-drop ALL: none.
    let s = e.ok(&["run", "--rm", "--privileged", IMG, "sh", "-c", "grep -E 'CapBnd|Seccomp:' /proc/self/status"]);
    assert!(s.contains("Seccomp:\t0") && !s.contains("CapBnd:\t00000000a80425fb"), "{s}");
    let s = e.ok(&["run", "--rm", "--cap-drop", "ALL", IMG, "grep", "CapBnd", "/proc/self/status"]);
    assert_eq!(s, "CapBnd:\t0000000000000000");
    // The default seccomp profile stops what docker's stops.
    let out = e.run(&[
        "run",
        "--rm",
        "--cap-add",
        "SYS_ADMIN",
        "--security-opt",
        "seccomp=unconfined",
        IMG,
        "sh",
        "-c",
        "mkdir /m && mount -t tmpfs t /m && echo mounted",
    ]);
    assert_eq!(text(&out.stdout), "mounted\n", "{}", text(&out.stderr));
    let out = e.run(&["run", "--rm", IMG, "sh", "-c", "unshare -n true && echo escaped || echo refused"]);
    assert_eq!(text(&out.stdout), "refused\n");
    // Limits reach the cgroup; a bind and a volume are where they should be.
    let host = e.root.with_extension("bind");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("f"), "from host").unwrap();
    let bind = format!("{}:/data:ro", host.display());
    let s = e.ok(&["run", "--rm", "-m", "64m", "--pids-limit", "50", "-v", &bind, "-v", "vol1:/etc/vol", "--tmpfs", "/scratch", IMG, "sh", "-c", "cat /data/f; echo; touch /data/g 2>/dev/null || echo ro; echo keep > /etc/vol/v; grep -c tmpfs /proc/mounts >/dev/null && echo tmpfs"]);
    assert_eq!(s, "from host\nro\ntmpfs");
    assert_eq!(e.ok(&["run", "--rm", "-v", "vol1:/etc/vol", IMG, "cat", "/etc/vol/v"]), "keep");
    assert!(e.ok(&["volume", "ls", "-q"]).contains("vol1"));
    e.ok(&["volume", "rm", "vol1"]);
    e.assert_clean();
}

/// Tags `name`: the busybox image with `VOLUME path` in its config.
fn image_with_volume(e: &Env, name: &str, path: &str) {
    e.image_variant(name, |_, config, _| {
        let exec = config.config.get_or_insert_with(Default::default);
        exec.volumes = Some([(path.to_string(), serde_json::json!({}))].into_iter().collect());
    });
}

#[test]
fn image_volumes_are_anonymous_volumes() {
    let e = Env::new();
    image_with_volume(&e, "localhost/withvol:1", "/etc");
    e.ok(&["run", "-d", "--name", "vv", "localhost/withvol:1", "sleep", "1000"]);
    let vols = e.ok(&["volume", "ls", "-q"]);
    assert_eq!(vols.len(), 64, "{vols}");
    // The image's content was copied in, and writes land in the volume.
    assert!(e.ok(&["exec", "vv", "cat", "/etc/passwd"]).starts_with("root:"));
    e.ok(&["exec", "vv", "sh", "-c", "echo kept > /etc/note"]);
    let on_host = e.root.join("volumes").join(&vols).join("_data/note");
    assert_eq!(std::fs::read_to_string(on_host).unwrap(), "kept\n");
    // The image stays while a container uses it: refused, and forced it
    // only loses its name (docker's dangling image), the container runs on.
    let out = e.run(&["rmi", "localhost/withvol:1"]);
    assert!(text(&out.stderr).contains("(must force) - container"), "{}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(e.ok(&["rmi", "-f", "localhost/withvol:1"]), "Untagged: localhost/withvol:1");
    assert_eq!(e.ok(&["exec", "vv", "cat", "/etc/note"]), "kept");
    e.ok(&["rm", "-f", "-v", "vv"]);
    image_with_volume(&e, "localhost/withvol:1", "/etc");
    assert_eq!(e.ok(&["volume", "ls", "-q"]), "");
    // --rm takes them too; a named volume over the path replaces the anonymous one.
    e.ok(&["run", "--rm", "localhost/withvol:1", "true"]);
    assert_eq!(e.ok(&["volume", "ls", "-q"]), "");
    e.ok(&["run", "--rm", "-v", "named1:/etc", "localhost/withvol:1", "true"]);
    assert_eq!(e.ok(&["volume", "ls", "-q"]), "named1");
    e.ok(&["volume", "rm", "named1"]);
    e.assert_clean();
}

#[test]
fn restart_policy_restarts_n_times() {
    let e = Env::new();
    e.ok(&["run", "-d", "--name", "flaky", "--restart", "on-failure:3", IMG, "sh", "-c", "echo run; exit 1"]);
    assert_eq!(e.ok(&["wait", "flaky"]), "1");
    assert_eq!(e.inspect("flaky", "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}"), "exited 1 3");
    assert_eq!(e.ok(&["logs", "flaky"]), "run\nrun\nrun\nrun");
    // A success ends on-failure; a stop ends always.
    e.ok(&["run", "-d", "--name", "good", "--restart", "on-failure", IMG, "true"]);
    assert_eq!(e.ok(&["wait", "good"]), "0");
    assert_eq!(e.inspect("good", "{{.RestartCount}}"), "0");
    e.ok(&["run", "-d", "--name", "always", "--restart", "always", IMG, "sh", "-c", "sleep 0.2; exit 2"]);
    wait_until("a restart", || e.inspect("always", "{{.RestartCount}}") != "0");
    e.ok(&["stop", "-t", "1", "always"]);
    assert_eq!(e.inspect("always", "{{.State.Status}}"), "exited");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(e.inspect("always", "{{.State.Status}}"), "exited");
    for n in ["flaky", "good", "always"] {
        e.ok(&["rm", n]);
    }
    e.assert_clean();
}

#[test]
fn killed_shim_and_simulated_reboot_tell_the_truth() {
    let e = Env::new();
    let a = e.ok(&["run", "-d", "--name", "ca", IMG, "sleep", "1000"]);
    let b = e.ok(&["run", "-d", "--name", "cb", IMG, "sleep", "1000"]);
    let pid_a: i32 = e.inspect("ca", "{{.State.Pid}}").parse().unwrap();
    // kill -9 of a shim: the container dies with it and is recorded as killed.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(e.shim_pid(&a)), nix::sys::signal::Signal::SIGKILL).unwrap();
    wait_until("the container to die with its shim", || {
        !std::path::Path::new(&format!("/proc/{pid_a}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid_a}/stat")).unwrap_or_default().contains(") Z")
    });
    assert_eq!(e.inspect("ca", "{{.State.Status}} {{.State.ExitCode}} {{.State.Running}}"), "exited 137 false");
    assert!(e.inspect("ca", "{{.State.Error}}").contains("hull-shim died"));
    e.ok(&["start", "ca"]);
    assert_eq!(e.inspect("ca", "{{.State.Status}}"), "running");
    // A simulated reboot: every shim killed, mounts gone, run root wiped.
    for id in [&a, &b] {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(e.shim_pid(id)), nix::sys::signal::Signal::SIGKILL);
    }
    std::thread::sleep(Duration::from_millis(300));
    for id in [&a, &b] {
        let _ =
            nix::mount::umount2(&e.root.join("containers").join(id).join("rootfs"), nix::mount::MntFlags::MNT_DETACH);
    }
    let _ = std::fs::remove_dir_all(e.run_root());
    let ps = e.ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]);
    assert_eq!(ps, "cb exited\nca exited");
    e.ok(&["start", "ca", "cb"]);
    assert_eq!(e.ok(&["exec", "cb", "echo", "alive"]), "alive");
    e.ok(&["rm", "-f", "ca", "cb"]);
    e.assert_clean();
}

#[test]
fn cli_killed_mid_run_leaves_a_consistent_state() {
    let e = Env::new();
    for delay_ms in [0u64, 5, 10, 20, 30, 45, 60, 90] {
        let mut child = e
            .cmd()
            .args(["run", "-d", IMG, "sleep", "1000"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
    }
    // Whatever was made is a container ps lists truthfully, and rm -f removes it all.
    let states = e.ok(&["ps", "-a", "--format", "{{.State}}"]);
    for s in states.lines() {
        assert!(["created", "running", "exited"].contains(&s), "{states}");
    }
    for id in e.ok(&["ps", "-aq"]).lines() {
        e.ok(&["rm", "-f", id]);
    }
    e.assert_clean();
}

#[test]
fn two_hundred_containers_from_four_processes() {
    let e = Env::new();
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (root, parent, netns) = (e.root.clone(), e.parent.clone(), e.netns.clone());
            let hull = move |_: &std::path::Path, args: &[&str]| {
                hull_command_in(&root, Some(&netns))
                    .env("HULL_CGROUP_PARENT", format!("/{parent}"))
                    .args(args)
                    .output()
                    .unwrap()
            };
            let root = e.root.clone();
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for i in 0..50 {
                    let out = hull(&root, &["run", "-d", "--name", &format!("c{w}-{i}"), IMG, "sleep", "1000"]);
                    assert!(out.status.success(), "{}", text(&out.stderr));
                    ids.push(text(&out.stdout).trim().to_string());
                }
                for id in ids {
                    let out = hull(&root, &["rm", "-f", &id]);
                    assert!(out.status.success(), "{}", text(&out.stderr));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    e.assert_clean();
}

#[test]
fn bad_input_is_refused_and_leaves_nothing() {
    let e = Env::new();
    e.ok(&["create", "--name", "taken", IMG, "true"]);
    let bind_missing = format!("{}:/x", e.root.join("nonexistent").display());
    let cases: Vec<(Vec<&str>, i32, &str)> = vec![
        (vec!["run", "--pull", "never", "nosuch", "true"], 125, "No such image: nosuch"),
        (vec!["run", "--name", "taken", IMG, "true"], 125, "is already in use"),
        (vec!["run", "-m", "lots", IMG, "true"], 125, "invalid size for --memory"),
        (vec!["run", "--cpus", "x", IMG, "true"], 125, "invalid value for --cpus"),
        (vec!["run", "-v", &bind_missing, IMG, "true"], 125, "bind source path does not exist"),
        (vec!["run", "--rm", "--restart", "always", IMG, "true"], 125, "conflicting options"),
        (vec!["run", IMG, "nosuchcommand"], 127, "executable file not found"),
        (vec!["run", IMG, "/etc/passwd"], 126, "permission denied"),
        (vec!["run", "--ulimit", "nofile=100000000:100000000", IMG, "true"], 125, "--ulimit nofile"),
        (vec!["run", "--cap-add", "BOGUS", IMG, "true"], 125, "unknown capability"),
        (vec!["run", "--restart", "sometimes", IMG, "true"], 125, "invalid restart policy"),
        (vec!["run", "--name", "bad name", IMG, "true"], 125, "invalid container name"),
        (vec!["run", "--network", "bridge0", IMG, "true"], 125, "network bridge0 not found"),
        (vec!["ps", "--format", "{{range .Names}}"], 1, "range without end"),
        (vec!["ps", "--format", "{{define \"x\"}}{{end}}"], 1, "define is not supported"),
        (vec!["stop", "ghost"], 1, "No such container: ghost"),
        (vec!["logs", "ghost"], 1, "No such container: ghost"),
        (vec!["exec", "ghost", "true"], 1, "No such container: ghost"),
        (vec!["exec", "taken", "true"], 1, "is created"),
        (vec!["kill", "-s", "NOPE", "taken"], 1, "invalid signal"),
        (vec!["logs", "--tail", "lots", "taken"], 1, "invalid --tail"),
        (vec!["logs", "--since", "yesterday", "taken"], 1, "invalid value for --since"),
        (vec!["rename", "taken", "taken"], 1, "same name"),
        (vec!["cp", "/etc/hosts", "/tmp/x"], 1, "one side must be CONTAINER:PATH"),
        (
            vec!["cp", "taken:/no/such/file", "/tmp/hull-cp-never"],
            1,
            "Could not find the file /no/such/file in container taken",
        ),
        (vec!["volume", "rm", "ghostvol"], 1, "get ghostvol: no such volume"),
        (vec!["volume", "create", "bad name"], 1, "invalid volume name"),
        (vec!["ps", "--filter", "colour=red"], 1, "invalid filter"),
        (vec!["inspect", "--type", "network", "taken"], 1, "invalid --type"),
    ];
    for (args, code, needle) in cases {
        let out = e.run(&args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(needle), "{args:?}: {}", text(&out.stderr));
    }
    // An ambiguous prefix: create until two ids share a first digit.
    let mut firsts = std::collections::HashMap::new();
    let prefix = loop {
        let id = e.ok(&["create", IMG, "true"]);
        if let Some(_other) = firsts.insert(id[..1].to_string(), id.clone()) {
            break id[..1].to_string();
        }
    };
    let out = e.run(&["inspect", "--type", "container", &prefix]);
    assert_eq!(out.status.code(), Some(1));
    let out = e.run(&["rm", &prefix]);
    assert!(text(&out.stderr).contains("multiple containers match"), "{}", text(&out.stderr));
    assert!(!std::path::Path::new("/tmp/hull-cp-never").exists());
    let out = e.cmd().env("HULL_INIT_PATH", "/nonexistent/init").args(["run", "--init", IMG, "true"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("--init needs a static init at /nonexistent/init"), "{}", text(&out.stderr));
    // Every verb has help.
    for verb in [
        &["run"][..],
        &["create"],
        &["start"],
        &["stop"],
        &["restart"],
        &["kill"],
        &["rm"],
        &["ps"],
        &["logs"],
        &["exec"],
        &["inspect"],
        &["wait"],
        &["attach"],
        &["top"],
        &["stats"],
        &["pause"],
        &["unpause"],
        &["rename"],
        &["cp"],
        &["container", "prune"],
        &["volume", "create"],
        &["volume", "ls"],
        &["volume", "rm"],
        &["system", "df"],
        &["system", "prune"],
        &["events"],
        &["system", "events"],
        &["update"],
        &["image", "inspect"],
        &["info"],
        &["version"],
        &["daemon"],
        &["system", "service"],
        &["build"],
        &["image", "build"],
        &["builder", "prune"],
        &["commit"],
        &["container", "commit"],
        &["diff"],
        &["export"],
        &["import"],
        &["image", "import"],
        &["history"],
        &["image", "history"],
    ] {
        let out = e.cmd().args(verb).arg("--help").output().unwrap();
        assert!(out.status.success() && text(&out.stdout).contains("Usage:"), "{verb:?} --help");
    }
    // Only the containers made on purpose exist; nothing else was left.
    for id in e.ok(&["ps", "-aq"]).lines() {
        e.ok(&["rm", id]);
    }
    e.assert_clean();
}

#[test]
fn interactive_and_cp() {
    let e = Env::new();
    let mut child = e
        .cmd()
        .args(["run", "-i", "--rm", IMG, "sh", "-c", "read a; echo got:$a; cat"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.as_mut().unwrap().write_all(b"hello\nrest\n").unwrap();
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(text(&out.stdout), "got:hello\nrest\n");
    // -it: a terminal in the container, through script(1)'s pty.
    let cmdline = format!(
        "nsenter --net=/run/netns/{} {} --root {} --run-root {} run -it --rm {IMG} sh -c 'tty; echo typed-ok'",
        e.netns,
        HULL,
        e.root.display(),
        e.run_root().display()
    );
    let out = Command::new("script")
        .args(["-qc", &cmdline, "/dev/null"])
        .env("HULL_CGROUP_PARENT", format!("/{}", e.parent))
        .env("HULL_SHIM", Path::new(HULL).with_file_name("hull-shim"))
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let got = text(&out.stdout);
    assert!(got.contains("/dev/pts/0") && got.contains("typed-ok"), "{got}");
    // attach to a detached -i container: our stdin reaches it, its output and exit code reach us.
    e.ok(&["run", "-d", "-i", "--name", "reader", IMG, "sh", "-c", "read a; echo got:$a; exit 5"]);
    let mut child = e
        .cmd()
        .args(["attach", "reader"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.as_mut().unwrap().write_all(b"typed\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(text(&out.stdout), "got:typed\n");
    assert_eq!(out.status.code(), Some(5));
    e.ok(&["rm", "reader"]);
    // cp both ways, into a running container and out of a stopped one.
    e.ok(&["run", "-d", "--name", "box", IMG, "sleep", "1000"]);
    let src = e.root.with_extension("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("sub/a.txt"), "A").unwrap();
    e.ok(&["cp", &src.display().to_string(), "box:/tmp/in"]);
    assert_eq!(e.ok(&["exec", "box", "cat", "/tmp/in/sub/a.txt"]), "A");
    // A symlink in the container pointing at the host's /etc stays inside the container.
    e.ok(&["exec", "box", "ln", "-s", "/etc", "/tmp/evil"]);
    e.ok(&["cp", &src.join("sub/a.txt").display().to_string(), "box:/tmp/evil/hull-cp-test"]);
    assert!(!std::path::Path::new("/etc/hull-cp-test").exists());
    assert_eq!(e.ok(&["exec", "box", "cat", "/etc/hull-cp-test"]), "A");
    e.ok(&["stop", "-t", "0", "box"]);
    let back = e.root.with_extension("back");
    e.ok(&["cp", "box:/tmp/in", &back.display().to_string()]);
    assert_eq!(std::fs::read_to_string(back.join("sub/a.txt")).unwrap(), "A");
    e.ok(&["rm", "box"]);
    e.assert_clean();
}

/// Everything a name or address lookup inside a container answers.
fn lookup(e: &Env, net: &str, what: &str) -> Output {
    e.run(&["run", "--rm", "--network", net, IMG, "nslookup", what])
}

#[test]
fn user_network_names_and_lifecycle() {
    let e = Env::new();
    e.ok(&["network", "create", "--subnet", "10.90.0.0/24", "--label", "team=a", "front"]);
    assert_eq!(e.ok(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"]), "front bridge\nhull bridge");
    let web = e.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "front",
        "--network-alias",
        "www",
        IMG,
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/etc",
    ]);
    let ip = e.inspect("web", "{{json .NetworkSettings.Networks}}");
    assert!(ip.contains("\"IPAddress\":\"10.90.0.") && ip.contains("\"Aliases\":[\"www\"]"), "{ip}");
    // The network's one NAT rule.
    let nat = "-A POSTROUTING -s 10.90.0.0/24 ! -o hull1 -m comment --comment \"hull network front\" -j MASQUERADE";
    assert!(text(&e.in_netns("iptables-save -t nat").stdout).contains(nat));
    e.wait_listening("web", 80);
    let web_ip = e.ok(&["exec", "web", "sh", "-c", "ip -4 -o addr show eth0 | awk '{print $4}' | cut -d/ -f1"]);
    // By name and alias: ping, nc and wget from another container on the network.
    let s = e.ok(&[
        "run", "--rm", "--network", "front", IMG, "sh", "-c",
        "cat /etc/resolv.conf; ping -c1 -W2 web >/dev/null && echo ping-ok; for i in 1 2 3; do w=$(wget -qO- http://www/hostname) && break; sleep 1; done; echo wget:$w; \
         for i in 1 2 3; do n=$( (printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n'; sleep 2) | nc web 80 | tail -1); \
         [ -n \"$n\" ] && break; done; echo nc:$n",
    ]);
    let short = &web[..12];
    assert!(s.contains("nameserver 10.90.0.1") && s.contains("ping-ok"), "{s}");
    // Each client on its own line, so a failure says which; three tries
    // each: busybox nc may quit at its input's EOF before the answer, and a
    // container's first lookups can still miss its network's records
    // (issue 12.3, names ready before the command starts).
    assert!(s.contains(&format!("wget:{short}")) && s.contains(&format!("nc:{short}")), "{s}");
    // The reverse lookup names it.
    let rev = text(&lookup(&e, "front", &web_ip).stdout);
    assert!(rev.contains("web"), "{rev}");
    // --network none has only lo.
    let links = e.ok(&["run", "--rm", "--network", "none", IMG, "ip", "-o", "link"]);
    assert_eq!(links.lines().count(), 1, "{links}");
    assert!(links.contains("lo:"), "{links}");
    // The default network has no names, but NAT to the outside and its own addresses.
    let s = e.ok(&["run", "--rm", IMG, "sh", "-c", "ip -4 -o addr show eth0; ip route"]);
    assert!(s.contains("10.88.") && s.contains("default via 10.88.0.1"), "{s}");
    // Disconnect removes the name; connect brings it back; stop removes it again.
    e.ok(&["network", "disconnect", "front", "web"]);
    // aardvark-dns reloads on SIGHUP, a moment after the command returns.
    wait_until("web to leave DNS", || !lookup(&e, "front", "web").status.success());
    assert_eq!(e.ok(&["exec", "web", "sh", "-c", "ip -o link | grep -c eth || true"]), "0");
    e.ok(&["network", "connect", "--alias", "w2", "front", "web"]);
    wait_until("w2 in DNS", || text(&lookup(&e, "front", "w2").stdout).contains("10.90.0."));
    e.ok(&["stop", "-t", "1", "web"]);
    wait_until("web to leave DNS", || !lookup(&e, "front", "web").status.success());
    // A restart gets a working network again.
    e.ok(&["start", "web"]);
    e.wait_listening("web", 80);
    let s = e.ok(&["run", "--rm", "--network", "front", IMG, "wget", "-qO-", "http://web/hostname"]);
    assert_eq!(s, short);
    // The network cannot go while a container is on it; after rm nothing remains.
    let out = e.run(&["network", "rm", "front"]);
    assert!(!out.status.success() && text(&out.stderr).contains("web"), "{}", text(&out.stderr));
    // Off every network, a restart runs it with loopback only.
    e.ok(&["network", "disconnect", "front", "web"]);
    e.ok(&["restart", "-t", "1", "web"]);
    assert_eq!(e.ok(&["exec", "web", "ip", "-o", "link"]).lines().count(), 1);
    e.ok(&["rm", "-f", "web"]);
    e.ok(&["network", "rm", "front"]);
    assert!(!text(&e.in_netns("ip -o link").stdout).contains("hull1"));
    assert!(!text(&e.in_netns("iptables-save -t nat").stdout).contains(nat));
    e.assert_clean();
}

#[test]
fn published_ports_internal_and_etc_files() {
    let e = Env::new();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "pub",
        "-p",
        "8080:80",
        "-p",
        "127.0.0.1::81",
        IMG,
        "sh",
        "-c",
        "httpd -p 81 -h /etc; exec httpd -f -p 80 -h /etc",
    ]);
    let id = e.ok(&["inspect", "-f", "{{.Id}}", "pub"]);
    e.wait_listening("pub", 80);
    e.wait_listening("pub", 81);
    assert_eq!(e.ok(&["port", "pub", "80"]), "0.0.0.0:8080");
    let random = e.ok(&["port", "pub", "81/tcp"]);
    assert!(random.starts_with("127.0.0.1:") && !random.ends_with(":0"), "{random}");
    assert!(e.ok(&["ps", "--format", "{{.Ports}}"]).contains("0.0.0.0:8080->80/tcp"));
    // The host side of the namespace reaches the container through both ports.
    for url in
        ["http://10.88.0.1:8080/hostname", "http://127.0.0.1:8080/hostname", &format!("http://{random}/hostname")]
    {
        let out = e.in_netns(&format!("timeout 10 busybox wget -qO- {url}"));
        assert_eq!(text(&out.stdout).trim(), &id[..12], "{url}: {}", text(&out.stderr));
    }
    // The same host port again is refused, and leaves nothing.
    let out = e.run(&["run", "-d", "--name", "dup", "-p", "8080:80", IMG, "sleep", "100"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("0.0.0.0:8080/tcp failed: port is already allocated"), "{}", text(&out.stderr));
    e.ok(&["rm", "-f", "pub"]);
    assert!(!e.ok(&["ps", "-a", "--format", "{{.Names}}"]).contains("pub"));
    // --internal: no route out; --ip, --add-host, --dns-search, --hostname in the files.
    e.ok(&["network", "create", "--internal", "--subnet", "10.91.0.0/24", "--ip-range", "10.91.0.128/25", "inner"]);
    let s = e.ok(&[
        "run", "--rm", "--network", "inner", "--ip", "10.91.0.200", "--hostname", "box", "--add-host", "db.local:10.1.2.3",
        "--dns-search", "example.test", IMG, "sh", "-c",
        "ip route; ip -4 -o addr show eth0; cat /etc/hosts /etc/resolv.conf /etc/hostname; ping -c1 -W1 10.88.0.1 2>&1; true",
    ]);
    assert!(!s.contains("default"), "{s}");
    assert!(s.contains("inet 10.91.0.200/24") && s.contains("10.91.0.200\tbox"), "{s}");
    assert!(
        s.contains("10.1.2.3\tdb.local") && s.contains("search example.test") && s.contains("Network is unreachable"),
        "{s}"
    );
    // Addresses come from the --ip-range.
    let s = e.ok(&["run", "--rm", "--network", "inner", IMG, "sh", "-c", "ip -4 -o addr show eth0"]);
    let last: u32 = s.split("10.91.0.").nth(1).unwrap().split('/').next().unwrap().parse().unwrap();
    assert!(last >= 129, "{s}");
    // IPv6 networks give both families.
    e.ok(&["network", "create", "--ipv6", "dual"]);
    let s = e.ok(&["run", "--rm", "--network", "dual", IMG, "ip", "-o", "addr", "show", "eth0"]);
    assert!(s.contains("inet 10.89.") && s.contains("inet6 fd00:"), "{s}");
    // macvlan on an interface of the test's namespace (one end of a veth pair).
    let out = e.in_netns(
        "ip link add mvparent type veth peer name mvpeer && ip link set mvparent up && ip link set mvpeer up",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    e.ok(&["network", "create", "-d", "macvlan", "-o", "parent=mvparent", "--subnet", "10.97.0.0/24", "mv"]);
    let s = e.ok(&["run", "--rm", "--network", "mv", IMG, "ip", "-4", "-o", "addr", "show", "eth0"]);
    assert!(s.contains("inet 10.97.0."), "{s}");
    e.ok(&["network", "rm", "mv"]);
    // -P publishes what the image EXPOSEs, on random host ports.
    let busybox = std::fs::read("/bin/busybox").unwrap();
    let layer = tar_of(&[
        dir("bin"),
        exe("bin/busybox", &busybox),
        link("bin/sh", tar::EntryType::Symlink, "busybox"),
        dir("www"),
        file("www/index.html", b"exposed\n"),
    ]);
    let exec = hull_image::manifest::ExecConfig {
        exposed_ports: Some([("80/tcp".to_string(), serde_json::json!({}))].into_iter().collect()),
        cmd: Some(vec![
            "/bin/busybox".into(),
            "httpd".into(),
            "-f".into(),
            "-p".into(),
            "80".into(),
            "-h".into(),
            "/www".into(),
        ]),
        ..Default::default()
    };
    store_image_with(&e.root, "localhost/exposer", &[layer], LayerCompression::None, Some(exec));
    e.ok(&["run", "-d", "--name", "exposer", "-P", "localhost/exposer"]);
    e.wait_listening("exposer", 80);
    let port = e.ok(&["port", "exposer", "80/tcp"]);
    assert!(port.starts_with("0.0.0.0:") && !port.ends_with(":0"), "{port}");
    let out = e.in_netns(&format!("timeout 10 busybox wget -qO- http://127.0.0.1:{}/index.html", &port[8..]));
    assert_eq!(text(&out.stdout), "exposed\n", "{}", text(&out.stderr));
    e.ok(&["rm", "-f", "exposer"]);
    // --network container: shares the other's stack.
    e.ok(&["run", "-d", "--name", "host1", IMG, "sleep", "100"]);
    let a = e.ok(&["exec", "host1", "ip", "-4", "-o", "addr", "show", "eth0"]);
    let b = e.ok(&["run", "--rm", "--network", "container:host1", IMG, "ip", "-4", "-o", "addr", "show", "eth0"]);
    assert_eq!(a.split_whitespace().nth(3), b.split_whitespace().nth(3));
    e.ok(&["rm", "-f", "host1"]);
    assert_eq!(e.ok(&["network", "prune", "-f"]), "Deleted Networks:\ndual\ninner");
    e.assert_clean();
}

#[test]
fn network_bad_input_leaves_nothing() {
    let e = Env::new();
    e.ok(&["network", "create", "--subnet", "10.92.0.0/24", "taken"]);
    let cases: &[(&[&str], &str)] = &[
        (&["run", "--rm", "--network", "nosuch", IMG, "true"], "network nosuch not found"),
        (&["run", "--rm", "-p", "80:0", IMG, "true"], "invalid port spec \"80:0\""),
        (&["run", "--rm", "-p", "http", IMG, "true"], "invalid port spec \"http\""),
        (&["run", "--rm", "-p", "80/sctp", IMG, "true"], "unknown protocol \"sctp\""),
        (&["run", "--rm", "--network", "taken", "--ip", "10.93.0.5", IMG, "true"], "not in network taken's subnets"),
        (&["run", "--rm", "--network-alias", "x", IMG, "true"], "need a user-defined --network"),
        (
            &["run", "--rm", "--network", "none", "-p", "80:80", IMG, "true"],
            "port publishing and the network mode none",
        ),
        (&["run", "--rm", "--network", "container:nosuch", IMG, "true"], "No such container: nosuch"),
        (&["run", "--rm", "--add-host", "nocolon", IMG, "true"], "invalid --add-host"),
        (&["network", "create", "--subnet", "10.92.0.128/25", "over"], "overlaps 10.92.0.0/24 of network taken"),
        (&["network", "create", "--subnet", "10.94.0.1/24", "hostbits"], "host bits set"),
        (
            &["network", "create", "--subnet", "10.95.0.0/24", "--gateway", "10.96.0.1", "gw"],
            "gateway 10.96.0.1 is not in any --subnet",
        ),
        (&["network", "create", "--driver", "overlay", "ov"], "unknown network driver \"overlay\""),
        (
            &["network", "create", "-d", "macvlan", "-o", "parent=nosuch0", "mv"],
            "parent interface \"nosuch0\" does not exist",
        ),
        (&["network", "create", "taken"], "network with name taken already exists"),
        (&["network", "create", "bad name"], "invalid network name"),
        (&["network", "rm", "hull"], "default network"),
        (&["network", "rm", "nosuch"], "network nosuch not found"),
        (&["network", "inspect", "nosuch"], "network nosuch not found"),
        (&["network", "connect", "nosuch", "nobody"], "No such container"),
    ];
    for (args, needle) in cases {
        let out = e.run(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(text(&out.stderr).contains(needle), "{args:?}: {}", text(&out.stderr));
    }
    // A host port a process of the namespace already holds.
    let mut holder = Command::new("nsenter")
        .arg(format!("--net=/run/netns/{}", e.netns))
        .args(["busybox", "nc", "-l", "-p", "8181"])
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the listener", || text(&e.in_netns("busybox netstat -ltn").stdout).contains(":8181"));
    let out = e.run(&["run", "-d", "-p", "8181:80", IMG, "sleep", "100"]);
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("8181/tcp failed: port is already allocated"), "{}", text(&out.stderr));
    // A missing CNI plugin: named, with where it was looked for.
    let out =
        e.cmd().env("HULL_CNI_PATH", "/nonexistent/cni").args(["run", "-d", IMG, "sleep", "100"]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("CNI plugin \"bridge\" not found in /nonexistent/cni"), "{}", text(&out.stderr));
    assert_eq!(e.ok(&["ps", "-aq"]), "");
    e.ok(&["network", "rm", "taken"]);
    e.assert_clean();
}
