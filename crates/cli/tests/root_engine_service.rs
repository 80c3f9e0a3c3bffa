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
    let run_root = e.run_root();
    let exit_command = vec![
        HULL.to_string(),
        "--root".into(),
        e.root.display().to_string(),
        "--run-root".into(),
        run_root.display().to_string(),
        "container".into(),
        "cleanup".into(),
    ];
    let shim = std::path::Path::new(HULL).with_file_name("hull-shim");
    Engine::open(EngineConfig { root: e.root.clone(), run_root, shim, exit_command }).unwrap()
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
