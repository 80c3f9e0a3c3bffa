//! Issue 13: the engine as a library other front ends (a daemon, a CRI
//! server) call from long-running, multi-threaded processes. Here the test
//! process is that front end: it opens the engine itself and execs into
//! containers from several threads at once, through the containers' shims.

mod common;
use common::*;
use hull_engine::{ContainerConfig, CreateRequest, Engine, EngineConfig, ExecIo, ExecRequest};
use std::io::Read;
use std::os::fd::OwnedFd;

fn open(e: &Env) -> Engine {
    let shim = std::path::Path::new(HULL).with_file_name("hull-shim");
    Engine::open(EngineConfig::new(e.root.clone(), e.run_root(), shim, std::path::Path::new(HULL))).unwrap()
}

fn sleeper(engine: &Engine, e: &Env, name: &str) -> String {
    let config = ContainerConfig {
        image: IMG.into(),
        cmd: Some(vec!["sleep".into(), "300".into()]),
        network: "none".into(),
        cgroup_parent: Some(format!("/{}", e.parent)),
        ..Default::default()
    };
    let c = engine.create(CreateRequest { name: Some(name.into()), config }).unwrap();
    engine.start(&c.id, None).unwrap();
    c.id
}

/// Three pipes: the process's ends, and ours (its stdout and stderr to read).
fn pipes() -> ([OwnedFd; 3], OwnedFd, OwnedFd) {
    let null: OwnedFd = std::fs::File::open("/dev/null").unwrap().into();
    let (out_r, out_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
    let (err_r, err_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
    ([null, out_w, err_w], out_r, err_r)
}

fn read_all(fd: OwnedFd) -> String {
    let mut s = String::new();
    std::fs::File::from(fd).read_to_string(&mut s).unwrap();
    s
}

fn cmd(args: &[&str]) -> ExecRequest {
    ExecRequest { cmd: args.iter().map(|s| s.to_string()).collect(), ..Default::default() }
}

#[test]
fn exec_from_many_threads_and_detached_execs_are_supervised_by_the_shim() {
    let e = Env::new();
    let engine = std::sync::Arc::new(open(&e));
    let id = sleeper(&engine, &e, "svc");
    // Eight threads of one process exec at once; each gets its own output
    // and exit code (the runtime's exec needs a single-threaded caller: the
    // shim's helper is one, this process is not).
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let engine = engine.clone();
            let id = id.clone();
            std::thread::spawn(move || {
                let (fds, out, err) = pipes();
                let script = format!("echo out-{i}; echo err-{i} >&2; exit {i}");
                let session = engine.exec_start(&id, &cmd(&["sh", "-c", &script]), ExecIo::Fds(fds)).unwrap();
                let code = session.wait().unwrap();
                (i, code, read_all(out), read_all(err))
            })
        })
        .collect();
    for t in threads {
        let (i, code, out, err) = t.join().unwrap();
        assert_eq!((code, out, err), (i, format!("out-{i}\n"), format!("err-{i}\n")));
    }
    // A detached exec: the shim is its parent (it reparents there once the
    // helper that started it ends), and records its end.
    let s = engine.exec_start(&id, &cmd(&["sh", "-c", "sleep 0.5; exit 7"]), ExecIo::Null).unwrap();
    let ppid = |pid: i32| {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        stat.rsplit(')').next().and_then(|r| r.split_whitespace().nth(1)).and_then(|p| p.parse::<i32>().ok())
    };
    let shim = engine.get(&id).unwrap().state.shim_pid;
    wait_until("the exec reparented to the shim", || ppid(s.pid) == Some(shim));
    let (container, exec_id) = (s.container.clone(), s.id.clone());
    let record = engine.exec_record(&container, &exec_id).unwrap();
    assert_eq!((record.pid, record.exit_code), (s.pid, None));
    drop(s); // the caller goes away; the process goes on
    wait_until("the exec's exit record", || engine.exec_record(&container, &exec_id).unwrap().exit_code.is_some());
    assert_eq!(engine.exec_record(&container, &exec_id).unwrap().exit_code, Some(7));
    // Signals reach an exec through the shim.
    let (fds, _out, _err) = pipes();
    let s = engine.exec_start(&id, &cmd(&["sleep", "300"]), ExecIo::Fds(fds)).unwrap();
    engine.exec_signal(&s, libc::SIGTERM).unwrap();
    assert_eq!(s.wait().unwrap(), 128 + libc::SIGTERM);
    // A missing command is docker's 127, with the runtime's words.
    let (fds, _out, _err) = pipes();
    let err = engine.exec_start(&id, &cmd(&["/no/such/cmd"]), ExecIo::Fds(fds)).unwrap_err();
    assert_eq!(err.kind(), hull_engine::ErrorKind::CommandNotFound, "{err}");
    // An exec still running when the container stops gets its end too.
    let (fds, _out, _err) = pipes();
    let s = engine.exec_start(&id, &cmd(&["sleep", "300"]), ExecIo::Fds(fds)).unwrap();
    engine.stop(&id, Some(1)).unwrap();
    assert_eq!(s.wait().unwrap(), 128 + libc::SIGKILL);
    engine.remove(&id, true, false).unwrap();
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

/// `hull events ARGS` started in the background; its output once it ends.
fn events_in_background(e: &Env, args: &[&str]) -> std::process::Child {
    e.cmd()
        .arg("events")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn events_are_seen_from_other_processes_and_wait_blocks_on_them() {
    let e = Env::new();
    // Two followers in two processes, one filtered, both until a moment
    // that has not come yet.
    let until = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 8).to_string();
    let all = events_in_background(&e, &["--until", &until, "--format", "{{json .}}"]);
    let dies = events_in_background(&e, &["--until", &until, "--filter", "event=die", "--filter", "type=container"]);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let id = e.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        "ev",
        "-l",
        "team=db",
        IMG,
        "sh",
        "-c",
        "sleep 0.3; exit 3",
    ]);
    // wait: not-running blocks until the exit, and says its code.
    assert_eq!(e.ok(&["wait", "ev"]), "3");
    assert_eq!(e.ok(&["wait", "ev"]), "3", "a stopped container: at once");
    // next-exit waits for the next one, removed for the removal.
    let next =
        e.cmd().args(["wait", "--condition", "next-exit", "ev"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let removed =
        e.cmd().args(["wait", "--condition", "removed", "ev"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    e.ok(&["start", "ev"]);
    assert_eq!(text(&next.wait_with_output().unwrap().stdout).trim(), "3");
    e.ok(&["rm", "ev"]);
    assert_eq!(text(&removed.wait_with_output().unwrap().stdout).trim(), "3");
    // A shim killed outright writes no end: wait still wakes (on the shim's
    // pidfd), and says the container was killed.
    e.ok(&["run", "-d", "--network", "none", "--name", "orphan", IMG, "sleep", "300"]);
    let waiter = e.cmd().args(["wait", "orphan"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let shim = e.shim_pid(&e.inspect("orphan", "{{.Id}}"));
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(shim), nix::sys::signal::Signal::SIGKILL).unwrap();
    assert_eq!(text(&waiter.wait_with_output().unwrap().stdout).trim(), "137");
    e.ok(&["rm", "orphan"]);
    let out = e.run(&["wait", "--condition", "sometime", "ev"]);
    assert!(!out.status.success() && text(&out.stderr).contains("invalid condition"), "{}", text(&out.stderr));
    // The followers saw docker's sequence, in order.
    let all = all.wait_with_output().unwrap();
    let events: Vec<serde_json::Value> = text(&all.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &serde_json::Value| v["Actor"]["ID"] == id.as_str())
        .collect();
    let actions: Vec<&str> = events.iter().map(|v| v["Action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["create", "start", "die", "start", "die", "destroy"], "{}", text(&all.stdout));
    assert_eq!(events[2]["Actor"]["Attributes"]["exitCode"], "3");
    assert_eq!(events[0]["Actor"]["Attributes"]["team"], "db");
    assert_eq!(events[0]["Actor"]["Attributes"]["name"], "ev");
    let dies = text(&dies.wait_with_output().unwrap().stdout);
    assert!(dies.lines().all(|l| l.contains(" container die ")), "{dies}");
    let ours: Vec<&str> = dies.lines().filter(|l| l.contains(&id)).collect();
    assert_eq!(ours.len(), 2, "{dies}");
    assert!(ours.iter().all(|l| l.contains("exitCode=3")), "{dies}");
    // The past, from the journal: since 1m until now.
    let past = e.ok(&["events", "--since", "1m", "--until", "0s", "--filter", "container=ev"]);
    assert_eq!(past.lines().count(), 6, "{past}");
    // pause and unpause go through the shim, which says so.
    e.ok(&["run", "-d", "--network", "none", "--name", "pz", IMG, "sleep", "300"]);
    e.ok(&["pause", "pz"]);
    assert_eq!(e.inspect("pz", "{{.State.Status}}"), "paused");
    let out = e.run(&["pause", "pz"]);
    assert!(!out.status.success(), "pausing a paused container");
    e.ok(&["unpause", "pz"]);
    assert_eq!(e.inspect("pz", "{{.State.Status}}"), "running");
    let pz = e.ok(&["events", "--since", "1m", "--until", "0s", "--filter", "container=pz", "--format", "{{.Action}}"]);
    assert_eq!(pz, "create\nstart\npause\nunpause");
    e.ok(&["rm", "-f", "pz"]);
    // Networks and volumes are in it too.
    e.ok(&["network", "create", "evnet"]);
    e.ok(&["volume", "create", "evvol"]);
    e.ok(&["network", "rm", "evnet"]);
    e.ok(&["volume", "rm", "evvol"]);
    let other = e.ok(&[
        "events",
        "--since",
        "1m",
        "--until",
        "0s",
        "--filter",
        "type=network",
        "--filter",
        "type=volume",
        "--format",
        "{{.Type}} {{.Action}}",
    ]);
    assert_eq!(other, "network create\nvolume create\nnetwork destroy\nvolume destroy");
    let out = e.run(&["events", "--filter", "colour=red"]);
    assert!(!out.status.success() && text(&out.stderr).contains("invalid filter"), "{}", text(&out.stderr));
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn a_logs_follower_that_falls_behind_rotations_loses_no_line() {
    let e = Env::new();
    // ~12 entries per 1 KiB file, 10 files: the whole burst stays on disk,
    // across several rotations.
    let script = "sleep 1; i=1; while [ $i -le 60 ]; do echo line$i; i=$((i+1)); done; sleep 1";
    e.ok(&[
        "run",
        "-d",
        "--name",
        "burst",
        "--network",
        "none",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=10",
        IMG,
        "sh",
        "-c",
        script,
    ]);
    let child = e.cmd().args(["logs", "-f", "burst"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    // The follower is stopped through the whole burst, its file rotated
    // away under it several times.
    std::thread::sleep(std::time::Duration::from_millis(500));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    wait_until("the burst", || e.run(&["logs", "--tail", "1", "burst"]).stdout == b"line60\n");
    let files = std::fs::read_dir(e.root.join("containers").join(e.inspect("burst", "{{.Id}}")))
        .unwrap()
        .filter(|f| f.as_ref().unwrap().file_name().to_string_lossy().contains("-json.log."))
        .count();
    assert!(files >= 3, "only {files} rotations: the test did not test");
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGCONT).unwrap();
    let out = child.wait_with_output().unwrap();
    let want: Vec<String> = (1..=60).map(|i| format!("line{i}")).collect();
    assert_eq!(text(&out.stdout).lines().collect::<Vec<_>>(), want);
    e.ok(&["rm", "burst"]);
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

#[test]
fn health_checks_run_by_the_shim_change_state_and_say_so() {
    let e = Env::new();
    let id = e.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        "hc",
        "--health-cmd",
        "test -f /tmp/ok",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        IMG,
        "sleep",
        "300",
    ]);
    let health = || e.inspect("hc", "{{.State.Health.Status}}");
    assert_eq!(health(), "starting");
    assert!(e.ok(&["ps", "--format", "{{.Status}}"]).ends_with("(health: starting)"));
    wait_until("unhealthy", || health() == "unhealthy");
    assert_eq!(e.inspect("hc", "{{.State.Health.FailingStreak}}"), "2");
    e.ok(&["exec", "hc", "touch", "/tmp/ok"]);
    wait_until("healthy", || health() == "healthy");
    assert!(e.ok(&["ps", "--format", "{{.Status}}"]).ends_with("(healthy)"));
    assert_eq!(e.ok(&["ps", "-q", "--filter", "health=healthy"]), &id[..12]);
    assert_eq!(e.ok(&["ps", "-q", "--filter", "health=unhealthy"]), "");
    let log = e.inspect("hc", "{{json .State.Health.Log}}");
    let log: Vec<serde_json::Value> = serde_json::from_str(&log).unwrap();
    assert!(log.len() <= 5 && log.last().unwrap()["ExitCode"] == 0, "{log:?}");
    assert!(log.iter().any(|r| r["ExitCode"] == 1));
    let events = e.ok(&[
        "events",
        "--since",
        "1m",
        "--until",
        "0s",
        "--filter",
        "container=hc",
        "--filter",
        "event=health_status",
        "--format",
        "{{.Action}}",
    ]);
    assert_eq!(events, "health_status: unhealthy\nhealth_status: healthy");
    assert_eq!(e.inspect("hc", "{{json .Config.Healthcheck.Test}}"), r#"["CMD-SHELL","test -f /tmp/ok"]"#);
    e.ok(&["rm", "-f", "hc"]);
    // A check past its timeout fails with docker's words; --no-healthcheck
    // turns the image's off.
    e.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        "slow",
        "--health-cmd",
        "sleep 5",
        "--health-timeout",
        "300ms",
        "--health-interval",
        "200ms",
        "--health-retries",
        "1",
        IMG,
        "sleep",
        "300",
    ]);
    wait_until("the timed-out check", || e.inspect("slow", "{{.State.Health.Status}}") == "unhealthy");
    let out = e.inspect("slow", "{{(index .State.Health.Log 0).ExitCode}} {{(index .State.Health.Log 0).Output}}");
    assert!(out.starts_with("-1 Health check exceeded timeout"), "{out}");
    e.ok(&["rm", "-f", "slow"]);
    e.image_variant("localhost/checked:1", |_, config, _| {
        let exec = config.config.get_or_insert_with(Default::default);
        exec.healthcheck = Some(serde_json::json!({"Test": ["CMD", "true"], "Interval": 200_000_000}));
    });
    e.ok(&["run", "-d", "--network", "none", "--name", "fromimage", "localhost/checked:1", "sleep", "300"]);
    wait_until("the image's check", || e.inspect("fromimage", "{{.State.Health.Status}}") == "healthy");
    e.ok(&[
        "run",
        "-d",
        "--network",
        "none",
        "--name",
        "off",
        "--no-healthcheck",
        "localhost/checked:1",
        "sleep",
        "300",
    ]);
    assert_eq!(e.inspect("off", "{{json .State.Health}}"), "null");
    for (args, needle) in [
        (vec!["--health-interval", "soon"], "want a duration"),
        (vec!["--no-healthcheck", "--health-cmd", "true"], "--no-healthcheck conflicts"),
    ] {
        e.refused_at_run(&[&["--network", "none"][..], &args].concat(), needle);
    }
    e.ok(&["rm", "-f", "fromimage", "off"]);
    assert!(e.leaks().is_empty(), "{:?}", e.leaks());
}

/// `cp` (the engine's archive API) sees the container's volumes and binds,
/// running or not, and mounts nothing on the host for a stopped one.
#[test]
fn archives_go_through_the_containers_volumes_and_binds_running_or_stopped() {
    let e = Env::new();
    let bind = e.root.with_extension("bind");
    let ro = e.root.with_extension("ro");
    std::fs::create_dir_all(&bind).unwrap();
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::write(ro.join("kept"), "host file").unwrap();
    let host = e.root.with_extension("host");
    std::fs::create_dir_all(&host).unwrap();
    std::fs::write(host.join("f"), "from the host").unwrap();
    let hf = host.join("f").display().to_string();
    let (bind_v, ro_v) = (format!("{}:/bind", bind.display()), format!("{}:/ro:ro", ro.display()));
    e.ok(&[
        "run",
        "-d",
        "--name",
        "box",
        "--network",
        "none",
        "-v",
        "data:/data",
        "-v",
        &bind_v,
        "-v",
        &ro_v,
        IMG,
        "sleep",
        "300",
    ]);
    // Running: into the volume and the bind, seen inside and on the host.
    e.ok(&["cp", &hf, "box:/data/"]);
    e.ok(&["cp", &hf, "box:/bind/g"]);
    assert_eq!(e.ok(&["exec", "box", "cat", "/data/f", "/bind/g"]), "from the hostfrom the host");
    assert_eq!(std::fs::read_to_string(bind.join("g")).unwrap(), "from the host");
    let out = e.run(&["cp", &hf, "box:/ro/"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("read-only file system"), "{}", text(&out.stderr));
    // Stopped: the same paths still reach the volume and the binds.
    e.ok(&["stop", "-t", "0", "box"]);
    let ours = || {
        let tmp = e.root.parent().unwrap().display().to_string();
        std::fs::read_to_string("/proc/self/mountinfo").unwrap().lines().filter(|l| l.contains(&tmp)).count()
    };
    // The stop's own clean-up (the shim's exit command) unmounts the root.
    wait_until("the stopped container's root to be unmounted", || ours() == 0);
    let back = e.root.with_extension("back");
    std::fs::create_dir_all(&back).unwrap();
    e.ok(&["cp", "box:/data/f", &back.join("from-volume").display().to_string()]);
    e.ok(&["cp", "box:/ro/kept", &back.display().to_string()]);
    assert_eq!(std::fs::read_to_string(back.join("from-volume")).unwrap(), "from the host");
    assert_eq!(std::fs::read_to_string(back.join("kept")).unwrap(), "host file");
    e.ok(&["cp", &hf, "box:/data/while-stopped"]);
    let out = e.run(&["cp", &hf, "box:/ro/"]);
    assert!(text(&out.stderr).contains("read-only file system"), "{}", text(&out.stderr));
    assert!(!ro.join("f").exists());
    // A tar stream both ways, and the docker errors a hurried user meets.
    let tar = e.cmd().args(["cp", "box:/data", "-"]).output().unwrap();
    assert!(tar.status.success(), "{}", text(&tar.stderr));
    let mut names: Vec<String> = tar::Archive::new(&tar.stdout[..])
        .entries()
        .unwrap()
        .map(|en| en.unwrap().path().unwrap().display().to_string().trim_end_matches('/').to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["data", "data/f", "data/while-stopped"]);
    let mut put = e.cmd().args(["cp", "-", "box:/bind"]).stdin(std::process::Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(put.stdin.as_mut().unwrap(), &tar.stdout).unwrap();
    drop(put.stdin.take());
    assert!(put.wait().unwrap().success());
    assert_eq!(std::fs::read_to_string(bind.join("data/while-stopped")).unwrap(), "from the host");
    for (args, needle) in [
        (
            vec!["cp".to_string(), hf.clone(), "box:/nowhere/x".into()],
            "Could not find the file /nowhere in container box",
        ),
        (vec!["cp".into(), host.display().to_string(), "box:/data/f".into()], "cannot copy a directory to a file"),
        (vec!["cp".into(), hf.clone(), "box:/newdir/".into()], "does not exist"),
        (vec!["cp".into(), "-".into(), "box:/data/f".into()], "must be a directory"),
        (vec!["cp".into(), "ghost:/etc".into(), back.display().to_string()], "No such container: ghost"),
    ] {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = e.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(text(&out.stderr).contains(needle), "{args:?}: {}", text(&out.stderr));
    }
    // Nothing was left mounted on the host by the copies.
    assert_eq!(ours(), 0);
    e.ok(&["start", "box"]);
    assert_eq!(e.ok(&["exec", "box", "cat", "/data/while-stopped"]), "from the host");
    e.ok(&["rm", "-f", "-v", "box"]);
    e.ok(&["volume", "rm", "data"]);
    e.assert_clean();
}

/// A hostile image whose mount point is a symlink to /etc: a copy into the
/// stopped container's bind lands in the bind, never in the host's /etc.
#[test]
fn archives_into_a_stopped_container_resolve_mount_points_inside_it() {
    let e = Env::new();
    let layer = tar_of(&[link("data", tar::EntryType::Symlink, "/etc")]);
    image_with_layer(&e, "hostile:1", layer);
    let bind = e.root.with_extension("bind");
    std::fs::create_dir_all(&bind).unwrap();
    let bind_v = format!("{}:/data", bind.display());
    e.ok(&["create", "--name", "trap", "--network", "none", "-v", &bind_v, "hostile:1", "true"]);
    let src = e.root.with_extension("src");
    std::fs::write(&src, "payload").unwrap();
    e.ok(&["cp", &src.display().to_string(), "trap:/data/hull-archive-escape"]);
    assert!(!std::path::Path::new("/etc/hull-archive-escape").exists());
    assert_eq!(std::fs::read_to_string(bind.join("hull-archive-escape")).unwrap(), "payload");
    // And the engine's process keeps its own root and cwd (the copy ran on
    // a thread of its own): a multi-threaded front end can call it.
    let engine = open(&e);
    let cwd = std::env::current_dir().unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let st = engine.archive_stat("trap", "/data/hull-archive-escape").unwrap();
                assert_eq!(st.size, 7);
                assert!(!st.is_dir());
            });
        }
    });
    assert_eq!(std::env::current_dir().unwrap(), cwd);
    let err = engine.archive_stat("trap", "/no/such").unwrap_err();
    assert_eq!(err.kind(), hull_engine::ErrorKind::NotFound, "{err}");
    e.ok(&["rm", "trap"]);
    // A stopped --read-only container takes no file in its root, as when it runs.
    e.ok(&["create", "--name", "rofs", "--read-only", "--network", "none", IMG, "true"]);
    let out = e.run(&["cp", &src.display().to_string(), "rofs:/"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("read-only file system"), "{}", text(&out.stderr));
    e.ok(&["rm", "rofs"]);
    e.assert_clean();
}

/// The list filters live in the engine: the CLI's `--filter` and the API's
/// JSON form select the same containers, with docker's rules (values of one
/// key are alternatives, every label must match, names are regexes).
#[test]
fn container_filters_are_evaluated_in_the_engine_with_dockers_rules() {
    use hull_engine::filters::{Filters, ListOptions, CONTAINER_KEYS};
    let e = Env::new();
    e.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "none",
        "-l",
        "app=shop",
        "-l",
        "tier=front",
        IMG,
        "sleep",
        "300",
    ]);
    e.ok(&["run", "-d", "--name", "webdb", "--network", "none", "-l", "app=shop", IMG, "sleep", "300"]);
    assert_eq!(
        e.run(&["run", "--name", "batch", "--network", "none", IMG, "sh", "-c", "exit 3"]).status.code(),
        Some(3)
    );
    let names = |f: &[&str]| {
        let mut args = vec!["ps", "-a", "--format", "{{.Names}}"];
        for x in f {
            args.extend(["--filter", x]);
        }
        let mut v: Vec<String> = e.ok(&args).lines().map(String::from).collect();
        v.sort();
        v
    };
    assert_eq!(names(&["name=^web$"]), ["web"]);
    assert_eq!(names(&["name=^/web"]), ["web", "webdb"]);
    assert_eq!(names(&["label=app=shop", "label=tier=front"]), ["web"]);
    assert_eq!(names(&["status=exited", "status=running"]), ["batch", "web", "webdb"]);
    assert_eq!(names(&["exited=3"]), ["batch"]);
    let tagged = format!("ancestor={IMG}:latest");
    assert_eq!(names(&[&tagged]).len(), 3, "{IMG} is {IMG}:latest");
    assert_eq!(names(&["ancestor=busybox"]).len(), 0, "busybox is docker.io/library/busybox:latest");
    // Without -a a status filter still shows stopped containers (docker).
    assert_eq!(e.ok(&["ps", "--filter", "status=exited", "--format", "{{.Names}}"]), "batch");
    let engine = open(&e);
    let api = Filters::from_json(r#"{"label":{"app=shop":true},"status":["running"]}"#, CONTAINER_KEYS).unwrap();
    let mut got: Vec<String> = engine
        .list_containers(&ListOptions { all: true, limit: None, filters: api })
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    got.sort();
    assert_eq!(got, ["web", "webdb"]);
    let newest = engine.list_containers(&ListOptions { limit: Some(1), ..Default::default() }).unwrap();
    assert_eq!(newest.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["batch"]);
    for bad in [&["status=sleeping"][..], &["health=great"], &["exited=x"], &["name=["]] {
        let mut args = vec!["ps"];
        for x in bad {
            args.extend(["--filter", x]);
        }
        let out = e.run(&args);
        assert_eq!(out.status.code(), Some(1), "{bad:?}");
        assert!(text(&out.stderr).contains("invalid filter"), "{bad:?}: {}", text(&out.stderr));
    }
    e.ok(&["rm", "-f", "web", "webdb", "batch"]);
    e.assert_clean();
}

/// `Engine::pull` with a request's own credentials (docker's
/// X-Registry-Auth), cancellation, and the CLI with a docker credential
/// helper (`credsStore`), against Debian's registry with htpasswd auth.
#[test]
fn pull_in_the_engine_with_request_credentials_helpers_and_cancellation() {
    use hull_engine::{PullRequest, RegistryAuth};
    let reg = Registry::start(Some(("alice", "s3cret-pw")));
    let e = Env::new();
    let cfg = e.root.with_extension("docker");
    let name = format!("{}/private/bb:1", reg.addr);
    e.ok(&["tag", IMG, &name]);
    let out = hull_env(&e.root, &cfg, &["login", &reg.addr, "-u", "alice", "-p", "s3cret-pw"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(hull_env(&e.root, &cfg, &["push", &name]).status.success());
    e.ok(&["rmi", &name]);
    let engine = open(&e);
    // No credentials: refused as unauthorised, nothing tagged.
    let err = engine.pull(PullRequest { reference: name.clone(), ..Default::default() }).unwrap_err();
    assert_eq!(err.kind(), hull_engine::ErrorKind::Unauthorized, "{err}");
    // Cancelled before it begins: an error, nothing tagged.
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let auth = RegistryAuth { username: "alice".into(), password: "s3cret-pw".into(), ..Default::default() };
    let req =
        PullRequest { reference: name.clone(), auth: Some(auth.clone()), cancel: Some(cancel), ..Default::default() };
    let err = engine.pull(req).unwrap_err();
    assert!(err.to_string().contains("cancelled"), "{err}");
    assert!(engine.images().resolve(&name).is_err());
    // The request's credentials: pulled, unpacked, and said in the journal.
    let seen = std::sync::Mutex::new(0usize);
    let progress = |_: hull_image::registry::Progress| *seen.lock().unwrap() += 1;
    let req =
        PullRequest { reference: name.clone(), auth: Some(auth), progress: Some(&progress), ..Default::default() };
    let pulled = engine.pull(req).unwrap();
    assert!(pulled.updated);
    assert!(*seen.lock().unwrap() > 0);
    assert_eq!(pulled.image_id, engine.images().resolve(IMG).unwrap().id.to_string());
    let events = e.ok(&[
        "events",
        "--since",
        "1m",
        "--until",
        "now",
        "--filter",
        "type=image",
        "--filter",
        "event=pull",
        "--format",
        "{{.Actor.ID}}",
    ]);
    assert_eq!(events, name);
    // The CLI with a credential helper instead of a stored password.
    e.ok(&["rmi", &name]);
    let bin = e.root.with_extension("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let helper = bin.join("docker-credential-hulltest");
    std::fs::write(&helper, "#!/bin/sh\nread server\n[ \"$1\" = get ] && printf '{\"ServerURL\":\"%s\",\"Username\":\"alice\",\"Secret\":\"s3cret-pw\"}' \"$server\"\n").unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(&mut std::fs::metadata(&helper).unwrap().permissions(), 0o755);
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let helped = e.root.with_extension("helped");
    std::fs::create_dir_all(&helped).unwrap();
    std::fs::write(helped.join("config.json"), r#"{"credsStore":"hulltest"}"#).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let out = std::process::Command::new(HULL)
        .env("DOCKER_CONFIG", &helped)
        .env("PATH", &path)
        .args(["--root", &e.root.display().to_string(), "pull", "-q", &name])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), name);
    // A helper that knows nothing: the registry's refusal, said clearly.
    std::fs::write(&helper, "#!/bin/sh\necho 'credentials not found in native keychain'\nexit 1\n").unwrap();
    e.ok(&["rmi", &name]);
    let out = std::process::Command::new(HULL)
        .env("DOCKER_CONFIG", &helped)
        .env("PATH", &path)
        .args(["--root", &e.root.display().to_string(), "pull", &name])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("authentication required"), "{}", text(&out.stderr));
    e.assert_clean();
}

/// Image verbs are the engine's, and each says what it did in the journal.
#[test]
fn image_verbs_are_the_engines_and_say_so_in_the_journal() {
    let e = Env::new();
    let since = format!("{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs());
    e.ok(&["tag", IMG, "localhost/evt:1"]);
    let archive = e.root.with_extension("tar");
    e.ok(&["save", "-o", &archive.display().to_string(), "localhost/evt:1"]);
    let engine = open(&e);
    e.ok(&["create", "--name", "user", "--network", "none", "localhost/evt:1", "true"]);
    // The last name of an image a container uses: a conflict, the name kept.
    e.ok(&["rmi", "-f", IMG]);
    let err = engine.remove_image("localhost/evt:1", false).unwrap_err();
    assert_eq!(err.kind(), hull_engine::ErrorKind::Conflict, "{err}");
    assert!(engine.images().resolve("localhost/evt:1").is_ok());
    e.ok(&["rm", "user"]);
    let done = engine.remove_image("localhost/evt:1", false).unwrap();
    assert_eq!(done.len(), 2, "{done:?}");
    let mut input = std::fs::File::open(&archive).unwrap();
    assert_eq!(engine.load(&mut input, None).unwrap(), ["localhost/evt:1"]);
    let mut garbage: &[u8] = b"not a tar at all, not even close";
    let err = engine.load(&mut garbage, None).unwrap_err();
    assert_eq!(err.kind(), hull_engine::ErrorKind::Invalid, "{err}");
    let got = e.ok(&[
        "events",
        "--since",
        &since,
        "--until",
        "now",
        "--filter",
        "type=image",
        "--format",
        "{{.Action}} {{.Actor.Attributes.name}}",
    ]);
    let id = engine.images().resolve("localhost/evt:1").unwrap().id.to_string();
    let want =
        format!("tag localhost/evt:1\nuntag {IMG}:latest\nuntag localhost/evt:1\ndelete {id}\nload localhost/evt:1");
    assert_eq!(got, want);
    e.assert_clean();
}

/// Other OCI runtimes by name (`--runtime`): Debian's runc and gVisor's
/// runsc run, exec, log, pause, stop and remove as Hull's own does, and
/// leave nothing behind; an unknown name is refused before anything exists.
#[test]
fn containers_run_with_runc_and_runsc_by_name() {
    let e = Env::new();
    for rt in ["runc", "runsc"] {
        let name = format!("with-{rt}");
        e.ok(&["run", "-d", "--runtime", rt, "--name", &name, IMG, "sh", "-c", "echo started; uname -r; sleep 300"]);
        assert_eq!(e.inspect(&name, "{{.HostConfig.Runtime}}"), rt);
        wait_until("its first lines", || e.ok(&["logs", &name]).lines().count() >= 2);
        let kernel = e.ok(&["exec", &name, "uname", "-r"]);
        let host = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
        if rt == "runsc" {
            assert_ne!(kernel, host.trim(), "gVisor's kernel, not the host's");
        } else {
            assert_eq!(kernel, host.trim());
        }
        assert_eq!(e.ok(&["logs", &name]), format!("started\n{kernel}"));
        // Streams and codes through the other runtime's exec.
        let out = e.run(&["exec", &name, "sh", "-c", "echo out; echo err >&2; exit 7"]);
        assert_eq!(
            (out.status.code(), text(&out.stdout), text(&out.stderr)),
            (Some(7), "out\n".into(), "err\n".into())
        );
        let out = e.run(&["exec", &name, "no-such-command"]);
        assert_ne!(out.status.code(), Some(0));
        // Its own network namespace, made by the engine, with an address.
        let addr = e.ok(&["exec", &name, "ip", "-4", "addr", "show", "eth0"]);
        assert!(addr.contains("inet 10."), "{addr}");
        e.ok(&["pause", &name]);
        assert!(e.ok(&["ps", "--format", "{{.Status}}", "--filter", &format!("name={name}")]).contains("Paused"));
        e.ok(&["unpause", &name]);
        let stats = e.ok(&["stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", &name]);
        assert!(stats.starts_with(&name), "{stats}");
        e.ok(&["stop", "-t", "1", &name]);
        assert!(e.inspect(&name, "{{.State.Status}}") == "exited");
        e.ok(&["rm", &name]);
        // Its runtime has no state left of it.
        let root = e.run_root().join(".runtimes").join(rt);
        let left: Vec<_> =
            std::fs::read_dir(&root).map(|d| d.flatten().map(|x| x.file_name()).collect()).unwrap_or_default();
        assert!(left.iter().all(|n| n.to_string_lossy().starts_with('.')), "{rt} kept {left:?}");
    }
    // --rm, in the foreground, with gVisor's kernel said.
    let out = e.ok(&["run", "--rm", "--runtime", "runsc", "--network", "none", IMG, "uname", "-a"]);
    assert!(
        out.starts_with("Linux")
            && !out.contains(std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap().trim()),
        "{out}"
    );
    // top through gVisor would name host processes: refused.
    e.ok(&["run", "-d", "--runtime", "runsc", "--name", "boxed", "--network", "none", IMG, "sleep", "300"]);
    let out = e.run(&["top", "boxed"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("gVisor's sandbox"), "{}", text(&out.stderr));
    e.ok(&["rm", "-f", "boxed"]);
    // A shim killed -9: runc's init outlives it (no parent-death signal
    // there), and the engine's next look kills and deletes it through runc.
    let id = e.ok(&["run", "-d", "--runtime", "runc", "--network", "none", IMG, "sleep", "300"]);
    let pid: i32 = e.inspect(&id, "{{.State.Pid}}").parse().unwrap();
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(e.shim_pid(&id)), nix::sys::signal::Signal::SIGKILL).unwrap();
    wait_until("the engine to see the shim gone", || e.inspect(&id, "{{.State.Status}}") == "exited");
    wait_until("runc's init to be killed", || !std::path::Path::new(&format!("/proc/{pid}")).exists());
    e.ok(&["rm", &id]);
    // A named runtime from daemon.json's table, with its own arguments.
    let daemon_json = e.root.with_extension("daemon.json");
    std::fs::write(
        &daemon_json,
        r#"{"runtimes": {"mine": {"path": "runc", "runtimeArgs": ["--log-format", "json"]}}}"#,
    )
    .unwrap();
    let out = e
        .cmd()
        .env("HULL_DAEMON_JSON", &daemon_json)
        .args(["run", "--rm", "--runtime", "mine", "--network", "none", IMG, "echo", "configured"])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "configured\n", "{}", text(&out.stderr));
    std::fs::write(&daemon_json, r#"{"runtimes": {"mine": {"path": "/nonexistent/runc"}}}"#).unwrap();
    let out =
        e.cmd().env("HULL_DAEMON_JSON", &daemon_json).args(["create", "--runtime", "mine", IMG]).output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("/nonexistent/runc is not an executable"), "{}", text(&out.stderr));
    for args in [&["run", "--runtime", "nope", IMG, "true"][..], &["create", "--runtime", "../runc", IMG, "true"]] {
        let out = e.run(args);
        assert_eq!(out.status.code(), Some(125), "{args:?}");
        assert!(text(&out.stderr).contains("unknown or invalid runtime name"), "{}", text(&out.stderr));
    }
    assert_eq!(e.ok(&["ps", "-aq"]), "");
    e.assert_clean();
}

/// `update --restart` reaches the running container's shim at once, as
/// docker's does: the run under way restarts by the new policy.
#[test]
fn a_restart_policy_update_applies_to_the_run_under_way() {
    let e = Env::new();
    let id = e.ok(&["run", "-d", "--network", "none", IMG, "sh", "-c", "sleep 2; exit 3"]);
    e.ok(&["update", "--restart", "on-failure:2", &id]);
    let out = e.run(&["wait", &id]);
    assert_eq!(text(&out.stdout).trim(), "3");
    assert_eq!(e.inspect(&id, "{{.RestartCount}} {{.HostConfig.RestartPolicy.Name}}"), "2 on-failure");
    e.ok(&["rm", &id]);
    e.assert_clean();
}

/// A container the OOM killer ends is reported as such (OOMKilled, exit
/// 137, docker's `oom` event before `die`) under Hull's runtime and under
/// runc, whose cgroup the shim finds from the container's init.
#[test]
fn an_oom_kill_is_reported_under_every_runtime() {
    let e = Env::new();
    for rt in ["", "runc"] {
        let name = format!("hog{rt}");
        let mut args = vec!["run", "--name", &name, "--network", "none", "-m", "24m", "--memory-swap", "24m"];
        if !rt.is_empty() {
            args.extend(["--runtime", rt]);
        }
        // tail keeps the one endless line of /dev/zero in memory.
        args.extend([IMG, "tail", "/dev/zero"]);
        let out = e.run(&args);
        assert_eq!(out.status.code(), Some(137), "{rt}: {}", text(&out.stderr));
        assert_eq!(e.inspect(&name, "{{.State.OOMKilled}} {{.State.ExitCode}}"), "true 137", "{rt}");
        let id = e.inspect(&name, "{{.Id}}");
        let out = e.ok(&[
            "events",
            "--since",
            "0",
            "--until",
            "0s",
            "--filter",
            &format!("container={id}"),
            "--format",
            "{{.Action}}",
        ]);
        let actions: Vec<&str> = out.lines().collect();
        let (oom, die) = (actions.iter().position(|a| *a == "oom"), actions.iter().position(|a| *a == "die"));
        assert!(oom.is_some() && oom < die, "{rt}: {actions:?}");
        e.ok(&["rm", &name]);
        // A container that ends on its own is not called OOM-killed.
        let mut args = vec!["run", "--name", &name, "--network", "none", "-m", "24m"];
        if !rt.is_empty() {
            args.extend(["--runtime", rt]);
        }
        args.extend([IMG, "sh", "-c", "exit 9"]);
        assert_eq!(e.run(&args).status.code(), Some(9));
        assert_eq!(e.inspect(&name, "{{.State.OOMKilled}}"), "false");
        e.ok(&["rm", &name]);
    }
    e.assert_clean();
}
