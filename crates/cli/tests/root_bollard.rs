//! `hull daemon` driven by bollard, the Rust Docker SDK, for the API's
//! corners: version negotiation, error bodies, and the framing of upgraded
//! attach and exec streams and of logs.

mod common;
use bollard::container::LogOutput;
use bollard::errors::Error as BollardError;
use bollard::models::{ContainerCreateBody, ExecConfig};
use bollard::query_parameters as q;
use bollard::{ClientVersion, Docker};
use common::*;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

fn client(d: &Daemon, minor: usize) -> Docker {
    Docker::connect_with_unix(
        &d.sock.display().to_string(),
        30,
        &ClientVersion { major_version: 1, minor_version: minor },
    )
    .unwrap()
}

/// The status and message of a daemon's error answer.
fn server_error<T: std::fmt::Debug>(r: Result<T, BollardError>) -> (u16, String) {
    match r {
        Err(BollardError::DockerResponseServerError { status_code, message }) => (status_code, message),
        other => panic!("want an error answer, got {other:?}"),
    }
}

/// What a stream of frames carried, per stream.
#[derive(Default, Debug)]
struct Seen {
    out: String,
    err: String,
    console: String,
}

impl Seen {
    fn add(&mut self, f: LogOutput) {
        match f {
            LogOutput::StdOut { message } => self.out += &String::from_utf8_lossy(&message),
            LogOutput::StdErr { message } => self.err += &String::from_utf8_lossy(&message),
            LogOutput::Console { message } => self.console += &String::from_utf8_lossy(&message),
            LogOutput::StdIn { .. } => panic!("a stdin frame from the daemon"),
        }
    }
}

fn create_body(cmd: &[&str], tty: bool) -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some(IMG.into()),
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        tty: Some(tty),
        open_stdin: Some(true),
        stdin_once: Some(true),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        ..Default::default()
    }
}

fn named(n: &str) -> Option<q::CreateContainerOptions> {
    Some(q::CreateContainerOptions { name: Some(n.into()), ..Default::default() })
}

#[tokio::test(flavor = "current_thread")]
async fn bollard_reaches_the_apis_corners() {
    let e = Env::new();
    let d = Daemon::start(&e);

    // Negotiation (bollard's requests carry no version prefix: its URL join
    // drops it; the prefixes are tested with raw requests in root_docker_api).
    assert_eq!(client(&d, 24).ping().await.unwrap(), "OK");
    let docker = client(&d, 49).negotiate_version().await.unwrap();
    assert_eq!(docker.client_version().to_string(), "1.49");
    let v = docker.version().await.unwrap();
    assert_eq!(v.api_version.as_deref(), Some("1.50"));
    assert_eq!(v.min_api_version.as_deref(), Some("1.24"));
    assert!(docker.list_containers(None::<q::ListContainersOptions>).await.unwrap().is_empty());

    // Error bodies: unknown objects, a missing image, a name conflict, a bad config.
    let (status, msg) = server_error(docker.inspect_container("ghost", None::<q::InspectContainerOptions>).await);
    assert_eq!((status, msg.contains("No such container: ghost")), (404, true), "{msg}");
    let body = ContainerCreateBody { image: Some("no/such:image".into()), ..Default::default() };
    let (status, msg) = server_error(docker.create_container(named("nope"), body).await);
    assert_eq!(status, 404, "{msg}");
    assert!(msg.contains("no/such"), "{msg}");
    docker.create_container(named("taken"), create_body(&["true"], false)).await.unwrap();
    let (status, msg) = server_error(docker.create_container(named("taken"), create_body(&["true"], false)).await);
    assert_eq!(status, 409, "{msg}");
    assert!(msg.contains("taken") && msg.contains("already in use"), "{msg}");
    let bad = ContainerCreateBody { user: Some("1:2:3".into()), ..create_body(&["true"], false) };
    let (status, msg) = server_error(docker.create_container(named("bad"), bad).await);
    assert_eq!(status, 400, "{msg}");
    let (status, _) = server_error(docker.inspect_container("bad", None::<q::InspectContainerOptions>).await);
    assert_eq!(status, 404, "a refused create left a container");
    docker.remove_container("taken", None::<q::RemoveContainerOptions>).await.unwrap();

    // Attach before start, without a terminal: 8-byte frames keep stdout
    // and stderr apart, stdin reaches the process, the stream ends with it.
    let script = "echo out; echo err >&2; read line; echo got $line; exit 3";
    docker.create_container(named("framed"), create_body(&["sh", "-c", script], false)).await.unwrap();
    let opts =
        q::AttachContainerOptions { stdin: true, stdout: true, stderr: true, stream: true, ..Default::default() };
    let mut att = docker.attach_container("framed", Some(opts)).await.unwrap();
    docker.start_container("framed", None::<q::StartContainerOptions>).await.unwrap();
    att.input.write_all(b"hello\n").await.unwrap();
    att.input.flush().await.unwrap();
    let mut seen = Seen::default();
    while let Some(f) = tokio::time::timeout(std::time::Duration::from_secs(30), att.output.next()).await.unwrap() {
        seen.add(f.unwrap());
    }
    assert_eq!((seen.out.as_str(), seen.err.as_str()), ("out\ngot hello\n", "err\n"), "{seen:?}");
    let waited: Vec<_> = docker.wait_container("framed", None::<q::WaitContainerOptions>).collect().await;
    match &waited[..] {
        [Err(BollardError::DockerContainerWaitError { code: 3, .. })] => {}
        other => panic!("wait: {other:?}"),
    }
    // Logs replay the same frames from the log.
    let logs = q::LogsOptions { stdout: true, stderr: true, ..Default::default() };
    let mut seen = Seen::default();
    let mut s = docker.logs("framed", Some(logs));
    while let Some(f) = s.next().await {
        seen.add(f.unwrap());
    }
    assert_eq!((seen.out.as_str(), seen.err.as_str()), ("out\ngot hello\n", "err\n"), "{seen:?}");

    // With a terminal: one raw stream, no frames.
    docker
        .create_container(named("tty"), create_body(&["sh", "-c", "echo on a tty; echo also >&2"], true))
        .await
        .unwrap();
    let opts = q::AttachContainerOptions { stdout: true, stderr: true, stream: true, ..Default::default() };
    let mut att = docker.attach_container("tty", Some(opts)).await.unwrap();
    docker.start_container("tty", None::<q::StartContainerOptions>).await.unwrap();
    let mut seen = Seen::default();
    while let Some(f) = tokio::time::timeout(std::time::Duration::from_secs(30), att.output.next()).await.unwrap() {
        seen.add(f.unwrap());
    }
    assert_eq!((seen.out.as_str(), seen.err.as_str()), ("", ""), "{seen:?}");
    assert_eq!(seen.console, "on a tty\r\nalso\r\n");

    // Exec, attached: framed output, then its exit code on inspect.
    docker.create_container(named("host"), create_body(&["sleep", "100"], false)).await.unwrap();
    docker.start_container("host", None::<q::StartContainerOptions>).await.unwrap();
    // Inspect, read into bollard's typed models (moby's schema: a field of
    // the wrong type or an unknown enum value fails here).
    let ins = docker.inspect_container("host", None::<q::InspectContainerOptions>).await.unwrap();
    let state = ins.state.unwrap();
    assert_eq!((state.running, state.status), (Some(true), Some(bollard::models::ContainerStateStatusEnum::RUNNING)));
    assert!(state.pid.unwrap_or(0) > 0);
    let policy = ins.host_config.as_ref().and_then(|h| h.restart_policy.clone()).unwrap();
    assert_eq!((policy.name, policy.maximum_retry_count), (Some(bollard::models::RestartPolicyNameEnum::NO), Some(0)));
    assert_eq!(ins.config.and_then(|c| c.cmd), Some(vec!["sleep".to_string(), "100".to_string()]));
    assert_eq!(ins.name.as_deref(), Some("/host"));
    let exec = docker
        .create_exec(
            "host",
            ExecConfig {
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                cmd: Some(vec!["sh".into(), "-c".into(), "echo a; echo b >&2; exit 7".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut seen = Seen::default();
    match docker.start_exec(&exec.id, None).await.unwrap() {
        bollard::exec::StartExecResults::Attached { mut output, .. } => {
            while let Some(f) = output.next().await {
                seen.add(f.unwrap());
            }
        }
        bollard::exec::StartExecResults::Detached => panic!("asked attached, got detached"),
    }
    assert_eq!((seen.out.as_str(), seen.err.as_str()), ("a\n", "b\n"), "{seen:?}");
    let ins = docker.inspect_exec(&exec.id).await.unwrap();
    assert_eq!((ins.exit_code, ins.running), (Some(7), Some(false)));
    let (status, msg) = server_error(docker.inspect_exec("nosuchexec").await);
    assert_eq!(status, 404, "{msg}");

    // One-shot stats, and the events of what happened, filtered.
    let one = q::StatsOptions { stream: false, one_shot: true };
    let stats: Vec<_> = docker.stats("host", Some(one)).collect().await;
    assert_eq!(stats.len(), 1, "{stats:?}");
    let st = stats.into_iter().next().unwrap().unwrap();
    assert!(st.memory_stats.and_then(|m| m.usage).unwrap_or(0) > 0, "no memory usage in stats");
    let mut filters = std::collections::HashMap::new();
    filters.insert("container".to_string(), vec!["framed".to_string()]);
    let until = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() + 1).to_string();
    let ev = q::EventsOptions { since: Some("0".into()), until: Some(until), filters: Some(filters) };
    let events: Vec<_> = docker.events(Some(ev)).collect().await;
    let actions: Vec<String> = events.iter().map(|e| e.as_ref().unwrap().action.clone().unwrap_or_default()).collect();
    for want in ["create", "attach", "start", "die"] {
        assert!(actions.iter().any(|a| a == want), "no {want} in {actions:?}");
    }
    let die = events.iter().map(|e| e.as_ref().unwrap()).find(|e| e.action.as_deref() == Some("die")).unwrap();
    let attrs = die.actor.as_ref().and_then(|a| a.attributes.clone()).unwrap_or_default();
    assert_eq!(attrs.get("exitCode").map(String::as_str), Some("3"), "{attrs:?}");

    let force = q::RemoveContainerOptions { force: true, ..Default::default() };
    for c in ["framed", "tty", "host"] {
        docker.remove_container(c, Some(force.clone())).await.unwrap();
    }
    drop(d);
    e.assert_clean();
}
