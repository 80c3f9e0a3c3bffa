//! `/containers/...` and `/exec/...`: docker's container and exec
//! endpoints over the engine.

use crate::body::{stdcopy, Body};
use crate::error::{ApiError, ApiResult};
use crate::server::{blocking, json, status, App, Req};
use bytes::Bytes;
use hull_engine::events::WaitCondition;
use hull_engine::filters::{Filters, ListOptions, CONTAINER_KEYS};
use hull_engine::{Container, ExecIo, ExecRequest, LogOptions, Status};
use hull_shim::protocol::kind;
use hyper::{Response, StatusCode};
use serde_json::{json as j, Value};
use std::os::fd::OwnedFd;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// docker's `ContainerSummary`.
pub fn summary(app: &App, c: &Container) -> Value {
    let created = hull_engine::time::rfc3339_secs(&c.created).unwrap_or(0);
    let ports: Vec<Value> = c
        .state
        .ports
        .iter()
        .map(|p| {
            j!({"IP": if p.host_ip.is_empty() { "0.0.0.0" } else { &p.host_ip }, "PrivatePort": p.container_port,
                "PublicPort": p.host_port, "Type": p.protocol})
        })
        .collect();
    let networks: serde_json::Map<String, Value> = c
        .state
        .endpoints
        .iter()
        .map(|e| {
            let ip = e.ips.first().map(|i| i.split('/').next().unwrap_or(i).to_string()).unwrap_or_default();
            (e.network.clone(), j!({"IPAddress": ip, "MacAddress": e.mac, "NetworkID": e.network_id}))
        })
        .collect();
    j!({
        "Id": c.id,
        "Names": [format!("/{}", c.name)],
        "Image": c.config.image,
        "ImageID": c.config.image_id,
        "Command": c.config.command.join(" "),
        "Created": created,
        "Ports": ports,
        "Labels": c.config.labels,
        "State": c.state.status.as_str(),
        "Status": app.engine.status_text(c),
        "HostConfig": {"NetworkMode": match &c.config.network {
            hull_engine::model::NetworkMode::Default => "none".to_string(),
            m => m.to_string(),
        }},
        "NetworkSettings": {"Networks": networks},
        "Mounts": c.config.mounts.iter().map(|m| j!({"Type": m.kind.as_str(), "Source": m.source,
            "Destination": m.target, "RW": !m.readonly})).collect::<Vec<_>>(),
    })
}

pub async fn list(app: Arc<App>, req: &Req) -> ApiResult<Response<Body>> {
    let filters = Filters::from_json(req.q("filters").unwrap_or(""), CONTAINER_KEYS)?;
    let limit = req.q("limit").and_then(|l| l.parse::<i64>().ok()).filter(|l| *l > 0).map(|l| l as usize);
    let opts = ListOptions { all: req.flag("all"), limit, filters };
    let a = app.clone();
    let list = blocking(move || Ok(a.engine.list_containers(&opts)?)).await?;
    let a = app.clone();
    let out = blocking(move || Ok(list.iter().map(|c| summary(&a, c)).collect::<Vec<_>>())).await?;
    Ok(json(StatusCode::OK, &Value::Array(out)))
}

pub async fn create(app: Arc<App>, mut req: Req) -> ApiResult<Response<Body>> {
    let name = req.q("name").filter(|n| !n.is_empty()).map(String::from);
    let mut body: crate::convert::CreateBody = req.json().await?;
    if let Some((driver, opts)) = &app.default_log {
        let log = body.host_config.log_config.get_or_insert_with(Default::default);
        if log.typ.is_empty() {
            log.typ = driver.clone();
            log.config.get_or_insert_with(|| opts.clone());
        }
    }
    let image = body.image.clone();
    let mut request = crate::convert::create_request(name, body)?;
    if request.config.cgroup_parent.is_none() {
        request.config.cgroup_parent = app.cgroup_parent.clone();
    }
    let a = app.clone();
    let made = blocking(move || {
        a.engine.create(request).map_err(|e| {
            use hull_image::{images::ImageError, store::StoreError};
            match e {
                // docker's words: its CLI pulls on this 404 and asks again.
                hull_engine::EngineError::Image(ImageError::Store(StoreError::NoSuchImage(_))) => {
                    ApiError::not_found(format!("No such image: {image}"))
                }
                e => e.into(),
            }
        })
    })
    .await?;
    Ok(json(StatusCode::CREATED, &j!({"Id": made.id, "Warnings": []})))
}

pub async fn inspect(app: Arc<App>, id: String) -> ApiResult<Response<Body>> {
    let v = blocking(move || {
        let c = app.engine.get(&id)?;
        Ok(app.engine.inspect_container(&c))
    })
    .await?;
    Ok(json(StatusCode::OK, &v))
}

pub async fn top(app: Arc<App>, id: String) -> ApiResult<Response<Body>> {
    let pids = blocking(move || Ok(app.engine.top(&id)?)).await?;
    let mut processes = Vec::new();
    for pid in pids {
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmd: Vec<String> =
            cmd.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        let uid = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Uid:").map(|u| u.split_whitespace().next().unwrap_or("").to_string()))
            })
            .unwrap_or_default();
        processes.push(j!([uid, pid.to_string(), cmd.join(" ")]));
    }
    Ok(json(StatusCode::OK, &j!({"Titles": ["UID", "PID", "CMD"], "Processes": processes})))
}

/// `POST /containers/{id}/update`: limits changed live, kept for the next
/// starts; the restart policy at once.
pub async fn update(app: Arc<App>, id: String, mut req: Req) -> ApiResult<Response<Body>> {
    let body: crate::convert::UpdateBody = req.json().await?;
    let request = crate::convert::update_request(body)?;
    blocking(move || Ok(app.engine.update(&id, &request)?)).await?;
    Ok(json(StatusCode::OK, &j!({"Warnings": []})))
}

pub async fn start(app: Arc<App>, id: String) -> ApiResult<Response<Body>> {
    blocking(move || {
        let c = app.engine.get(&id)?;
        if c.state.status.is_live() {
            return Ok(status(StatusCode::NOT_MODIFIED));
        }
        // A client attached before the start gets the shim's first
        // connection: no output is lost.
        let attach = app.pending_attach.lock().ok().and_then(|mut p| p.remove(&c.id)).map(|p| p.shim_end);
        app.engine.start(&c.id, attach)?;
        Ok(status(StatusCode::NO_CONTENT))
    })
    .await
}

pub async fn stop(app: Arc<App>, id: String, req: &Req, restart: bool) -> ApiResult<Response<Body>> {
    let t = req
        .q("t")
        .or(req.q("timeout"))
        .map(|t| t.parse::<i64>())
        .transpose()
        .map_err(|_| ApiError::bad_request("invalid t: want seconds"))?;
    let signal = req.q("signal").map(String::from);
    blocking(move || {
        let c = app.engine.get(&id)?;
        if restart {
            app.engine.restart(&c.id, t)?;
            return Ok(status(StatusCode::NO_CONTENT));
        }
        if !c.state.status.is_live() {
            return Ok(status(StatusCode::NOT_MODIFIED));
        }
        app.engine.stop_with(&c.id, t, signal.as_deref().map(str::parse).transpose()?)?;
        Ok(status(StatusCode::NO_CONTENT))
    })
    .await
}

pub async fn kill(app: Arc<App>, id: String, req: &Req) -> ApiResult<Response<Body>> {
    let signal = req.q("signal").filter(|s| !s.is_empty()).unwrap_or("SIGKILL").to_string();
    blocking(move || {
        app.engine.kill(&id, &signal.parse()?)?;
        Ok(status(StatusCode::NO_CONTENT))
    })
    .await
}

pub async fn pause(app: Arc<App>, id: String, pause: bool) -> ApiResult<Response<Body>> {
    blocking(move || {
        if pause {
            app.engine.pause(&id)?
        } else {
            app.engine.unpause(&id)?
        }
        Ok(status(StatusCode::NO_CONTENT))
    })
    .await
}

pub async fn rename(app: Arc<App>, id: String, req: &Req) -> ApiResult<Response<Body>> {
    let name = req.q("name").unwrap_or("").to_string();
    blocking(move || {
        app.engine.rename(&id, &name)?;
        Ok(status(StatusCode::NO_CONTENT))
    })
    .await
}

fn size(req: &Req) -> ApiResult<(u16, u16)> {
    let n = |k: &str| req.q(k).unwrap_or("0").parse::<u16>().map_err(|_| ApiError::bad_request(format!("invalid {k}")));
    Ok((n("h")?, n("w")?))
}

pub async fn resize(app: Arc<App>, id: String, req: &Req) -> ApiResult<Response<Body>> {
    let (h, w) = size(req)?;
    blocking(move || {
        app.engine.resize(&id, h, w)?;
        Ok(status(StatusCode::OK))
    })
    .await
}

pub async fn remove(app: Arc<App>, id: String, req: &Req) -> ApiResult<Response<Body>> {
    let (force, volumes) = (req.flag("force"), req.flag("v"));
    blocking(move || {
        let full = app.engine.get(&id)?.id;
        app.engine.remove(&full, force, volumes)?;
        // What the daemon held for it goes with it: a client attached to
        // a start that never came, its exec instances.
        if let Ok(mut p) = app.pending_attach.lock() {
            p.remove(&full);
        }
        if let Ok(mut e) = app.execs.lock() {
            e.retain(|_, i| i.container != full);
        }
        Ok(status(StatusCode::NO_CONTENT))
    })
    .await
}

pub async fn prune(app: Arc<App>) -> ApiResult<Response<Body>> {
    let gone = blocking(move || Ok(app.engine.prune()?)).await?;
    Ok(json(StatusCode::OK, &j!({"ContainersDeleted": gone, "SpaceReclaimed": 0})))
}

/// `wait`: the headers at once (docker's CLI starts the container only
/// once they arrive), the status when the condition is met.
pub async fn wait(app: Arc<App>, id: String, req: &Req) -> ApiResult<Response<Body>> {
    let condition = match req.q("condition").unwrap_or("not-running") {
        "" | "not-running" => WaitCondition::NotRunning,
        "next-exit" => WaitCondition::NextExit,
        "removed" => WaitCondition::Removed,
        other => return Err(ApiError::bad_request(format!("invalid condition: {other:?}"))),
    };
    let a = app.clone();
    let key = id.clone();
    blocking(move || Ok(a.engine.get(&key)?)).await?;
    // Ends with its client: the docker CLI asks at every `run -d` and leaves.
    let cancel = crate::body::cancel()?;
    let (tx, body) = Body::cancelling(Some(cancel.clone()));
    tokio::task::spawn_blocking(move || {
        let answer = match app.engine.wait_for_until(&id, condition, Some(&cancel)) {
            Ok(code) => j!({"StatusCode": code, "Error": null}),
            Err(e) => j!({"StatusCode": -1, "Error": {"Message": e.to_string()}}),
        };
        let _ = tx.blocking_send(Bytes::from(answer.to_string() + "\n"));
    });
    Ok(crate::server::ok_with("application/json", body))
}

pub async fn logs(app: Arc<App>, id: String, req: &Req) -> ApiResult<Response<Body>> {
    let (out, err) = (req.flag("stdout"), req.flag("stderr"));
    if !out && !err {
        return Err(ApiError::bad_request("you must choose at least one stream"));
    }
    let now = hull_engine::time::now_nanos();
    let time = |k: &str| -> ApiResult<Option<String>> {
        match req.q(k).filter(|v| !v.is_empty() && *v != "0") {
            Some(v) => Ok(Some(hull_engine::time::format_nanos(hull_engine::time::parse_arg(k, v, now)?))),
            None => Ok(None),
        }
    };
    let tail = match req.q("tail").unwrap_or("all") {
        "all" | "" | "-1" => None,
        n => Some(n.parse::<usize>().map_err(|_| ApiError::bad_request(format!("invalid tail: {n:?}")))?),
    };
    let follow = req.flag("follow");
    let cancel = match follow {
        true => Some(
            hull_engine::cancel::Cancel::new()
                .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?,
        ),
        false => None,
    };
    let opts = LogOptions { tail, since: time("since")?, until: time("until")?, follow, cancel: cancel.clone() };
    let timestamps = req.flag("timestamps");
    let a = app.clone();
    let key = id.clone();
    let c = blocking(move || Ok(a.engine.get(&key)?)).await?;
    if c.config.log_driver == "none" {
        // docker's answer, before any stream starts.
        return Err(ApiError::new(StatusCode::NOT_IMPLEMENTED, "configured logging driver does not support reading"));
    }
    let tty = c.config.tty;
    let (tx, body) = Body::cancelling(cancel);
    tokio::task::spawn_blocking(move || {
        let _ = app.engine.logs(&id, &opts, &mut |e| {
            let stream = if e.stream == "stderr" { 2 } else { 1 };
            if (stream == 1 && !out) || (stream == 2 && !err) {
                return true;
            }
            let text = if timestamps { format!("{} {}", e.time, e.log) } else { e.log.clone() };
            let chunk = if tty { Bytes::from(text) } else { stdcopy(stream, text.as_bytes()) };
            tx.blocking_send(chunk).is_ok()
        });
    });
    Ok(output_stream(tty, body))
}

pub async fn stats(app: Arc<App>, id: String, req: &Req) -> ApiResult<Response<Body>> {
    let stream = req.bool_or("stream", true) && !req.flag("one-shot");
    let a = app.clone();
    let key = id.clone();
    let c = blocking(move || Ok(a.engine.get(&key)?)).await?;
    let (tx, body) = Body::channel();
    tokio::task::spawn_blocking(move || {
        let mut previous: Option<Value> = None;
        loop {
            let now = hull_engine::time::format_nanos(hull_engine::time::now_nanos());
            let s = app.engine.stats(&id).ok();
            let v = stats_json(&c, s.as_ref(), &now, previous.as_ref());
            if tx.blocking_send(Bytes::from(v.to_string() + "\n")).is_err() || !stream {
                break;
            }
            previous = Some(v);
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    });
    Ok(crate::server::ok_with("application/json", body))
}

/// docker's stats JSON from the cgroup's numbers (runc's shape).
fn stats_json(c: &Container, s: Option<&hull_cgroups::stats::Stats>, read: &str, previous: Option<&Value>) -> Value {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let system = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|t| {
            t.lines().next().map(|l| l.split_whitespace().skip(1).filter_map(|x| x.parse::<u64>().ok()).sum::<u64>())
        })
        .map_or(0, |ticks| ticks * 1_000_000_000 / 100);
    let (cpu, mem, pids) = match s {
        Some(s) => (
            j!({"cpu_usage": {"total_usage": s.cpu.usage.total, "percpu_usage": s.cpu.usage.percpu,
                "usage_in_kernelmode": s.cpu.usage.kernel, "usage_in_usermode": s.cpu.usage.user},
                "system_cpu_usage": system, "online_cpus": cpus,
                "throttling_data": {"periods": s.cpu.throttling.periods, "throttled_periods": s.cpu.throttling.throttled_periods,
                "throttled_time": s.cpu.throttling.throttled_time}}),
            j!({"usage": s.memory.usage.usage, "max_usage": s.memory.usage.max, "limit": s.memory.usage.limit,
                "stats": {"cache": s.memory.cache}}),
            j!({"current": s.pids.current, "limit": s.pids.limit}),
        ),
        None => {
            (j!({"cpu_usage": {"total_usage": 0}, "system_cpu_usage": system, "online_cpus": cpus}), j!({}), j!({}))
        }
    };
    let precpu = previous
        .map(|p| p["cpu_stats"].clone())
        .unwrap_or_else(|| j!({"cpu_usage": {"total_usage": 0}, "throttling_data": {}}));
    j!({
        "read": read, "preread": previous.map(|p| p["read"].clone()).unwrap_or(j!("0001-01-01T00:00:00Z")),
        "id": c.id, "name": format!("/{}", c.name),
        "cpu_stats": cpu, "precpu_stats": precpu, "memory_stats": mem, "pids_stats": pids,
        "blkio_stats": {}, "networks": {},
    })
}

/// A client attached before the container started: the end the shim
/// will take as its first client.
pub struct PendingAttach {
    pub shim_end: OwnedFd,
}

/// The 101 answer that hands the connection over as a raw stream.
/// docker's media type of a container's output: raw with a terminal, else
/// in 8-byte-headed frames.
fn stream_type(tty: bool) -> &'static str {
    if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    }
}

/// A 200 whose body is a container's output.
fn output_stream(tty: bool, body: Body) -> Response<Body> {
    crate::server::ok_with(stream_type(tty), body)
}

fn upgraded_response(tty: bool) -> Response<Body> {
    let ct = stream_type(tty);
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("Content-Type", ct)
        .header("Connection", "Upgrade")
        .header("Upgrade", "tcp")
        .body(Body::empty())
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// `attach`: the connection becomes the container's stream. Before the
/// container starts, the daemon keeps one end of a socket pair for the
/// start to give its shim (so nothing the container writes first is lost).
pub async fn attach(app: Arc<App>, id: String, mut req: Req) -> ApiResult<Response<Body>> {
    let (stdin, want_out, want_err) = (req.flag("stdin"), req.flag("stdout"), req.flag("stderr"));
    let a = app.clone();
    let key = id.clone();
    let c = blocking(move || Ok(a.engine.get(&key)?)).await?;
    let tty = c.config.tty;
    let shim = if c.state.status.is_live() {
        let a = app.clone();
        let cid = c.id.clone();
        blocking(move || Ok(a.engine.attach(&cid, stdin)?.stream)).await?
    } else {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("socketpair: {e}")))?;
        if let Ok(mut p) = app.pending_attach.lock() {
            p.insert(c.id.clone(), PendingAttach { shim_end: theirs.into() });
        }
        let a = app.clone();
        let cid = c.id.clone();
        blocking(move || Ok(a.engine.attached_before_start(&cid)?)).await?;
        ours
    };
    let upgrade = req.take_upgrade()?;
    tokio::spawn(async move {
        let Ok(conn) = upgrade.await else { return };
        let conn = hyper_util::rt::TokioIo::new(conn);
        relay_shim(conn, shim, tty, stdin, want_out, want_err).await;
    });
    Ok(upgraded_response(tty))
}

/// Between the client and a shim connection: the shim's frames to the
/// client (docker's frames without a terminal, raw bytes with one) until the
/// EXIT frame; the client's bytes as STDIN frames, then STDIN_EOF.
async fn relay_shim(
    conn: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    shim: std::os::unix::net::UnixStream,
    tty: bool,
    stdin: bool,
    want_out: bool,
    want_err: bool,
) {
    if shim.set_nonblocking(true).is_err() {
        return;
    }
    let Ok(shim) = tokio::net::UnixStream::from_std(shim) else { return };
    let (mut shim_r, mut shim_w) = shim.into_split();
    let (mut conn_r, mut conn_w) = tokio::io::split(conn);
    let input = tokio::spawn(async move {
        if !stdin {
            return;
        }
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match conn_r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let mut frame = hull_shim::protocol::frame_header(kind::STDIN, n).to_vec();
                    frame.extend_from_slice(&buf[..n]);
                    if shim_w.write_all(&frame).await.is_err() {
                        return;
                    }
                }
            }
        }
        let _ = shim_w.write_all(&hull_shim::protocol::frame_header(kind::STDIN_EOF, 0)).await;
    });
    let mut head = [0u8; 8];
    loop {
        if shim_r.read_exact(&mut head).await.is_err() {
            break;
        }
        let len = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
        let mut payload = vec![0u8; len];
        if shim_r.read_exact(&mut payload).await.is_err() {
            break;
        }
        let chunk = match head[0] {
            kind::EXIT => break,
            kind::STDOUT if !want_out => continue,
            kind::STDERR if !want_err => continue,
            k @ (kind::STDOUT | kind::STDERR) => {
                if tty {
                    Bytes::from(payload)
                } else {
                    stdcopy(k, &payload)
                }
            }
            _ => continue,
        };
        if conn_w.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let _ = conn_w.shutdown().await;
    input.abort();
}

/// docker's exec instances: created by one request, started by another.
#[derive(Clone)]
pub struct ExecInstance {
    pub container: String,
    pub request: ExecRequest,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    /// Once started: the engine's exec id and the process's pid.
    pub started: Option<(String, i32)>,
    /// Its terminal's master, for resizes.
    pub console: Option<Arc<OwnedFd>>,
    pub exit_code: Option<i32>,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ExecConfigBody {
    attach_stdin: bool,
    attach_stdout: bool,
    attach_stderr: bool,
    tty: bool,
    env: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    privileged: bool,
    user: String,
    working_dir: String,
}

pub async fn exec_create(app: Arc<App>, id: String, mut req: Req) -> ApiResult<Response<Body>> {
    let b: ExecConfigBody = req.json().await?;
    let cmd = b.cmd.unwrap_or_default();
    if cmd.is_empty() {
        return Err(ApiError::bad_request("No exec command specified"));
    }
    let a = app.clone();
    let c = blocking(move || Ok(a.engine.get(&id)?)).await?;
    if c.state.status != Status::Running {
        return Err(ApiError::new(StatusCode::CONFLICT, format!("container {} is not running", c.id)));
    }
    let request = ExecRequest {
        cmd,
        env: b.env.unwrap_or_default(),
        user: (!b.user.is_empty()).then_some(b.user),
        workdir: (!b.working_dir.is_empty()).then_some(b.working_dir),
        tty: b.tty,
        detach: false,
        privileged: b.privileged,
    };
    let exec_id =
        hull_engine::names::new_id().map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let inst = ExecInstance {
        container: c.id,
        request,
        attach_stdin: b.attach_stdin,
        attach_stdout: b.attach_stdout,
        attach_stderr: b.attach_stderr,
        started: None,
        console: None,
        exit_code: None,
    };
    if let Ok(mut e) = app.execs.lock() {
        e.insert(exec_id.clone(), inst);
    }
    Ok(json(StatusCode::CREATED, &j!({"Id": exec_id})))
}

fn exec_of(app: &App, id: &str) -> ApiResult<ExecInstance> {
    app.execs
        .lock()
        .ok()
        .and_then(|e| e.get(id).cloned())
        .ok_or_else(|| ApiError::not_found(format!("No such exec instance: {id}")))
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ExecStartBody {
    detach: bool,
    tty: bool,
}

pub async fn exec_start(app: Arc<App>, id: String, mut req: Req) -> ApiResult<Response<Body>> {
    let b: ExecStartBody = req.json().await?;
    let inst = exec_of(&app, &id)?;
    if inst.started.is_some() {
        return Err(ApiError::new(StatusCode::CONFLICT, format!("exec {id} has already been started")));
    }
    let tty = b.tty || inst.request.tty;
    if b.detach {
        let a = app.clone();
        let i = inst.clone();
        let session = blocking(move || {
            let mut r = i.request.clone();
            r.tty = false;
            Ok(a.engine.exec_start(&i.container, &r, ExecIo::Null)?)
        })
        .await?;
        mark_started(&app, &id, &session);
        let (a, key) = (app.clone(), id.clone());
        tokio::task::spawn_blocking(move || {
            let code = session.wait().ok();
            finish(&a, &key, code);
        });
        return Ok(status(StatusCode::OK));
    }
    // Attached. docker answers first (101, or 200 and a raw stream to a
    // client that asked for no upgrade), and starts the process only once
    // that head is out: a client reading the stream from under its HTTP
    // reader (docker-py) would lose output that came with the head.
    let c = {
        let a = app.clone();
        let key = inst.container.clone();
        blocking(move || Ok(a.engine.get(&key)?)).await?
    };
    if c.state.status != Status::Running {
        return Err(ApiError::new(StatusCode::CONFLICT, format!("container {} is not running", c.id)));
    }
    reserve(&app, &id)?;
    let upgrading = req.headers.contains_key(hyper::header::UPGRADE);
    if upgrading {
        let upgrade = req.take_upgrade()?;
        tokio::spawn(async move {
            match upgrade.await {
                Ok(conn) => run_attached(app, id, inst, tty, hyper_util::rt::TokioIo::new(conn)).await,
                Err(_) => finish(&app, &id, None),
            }
        });
        return Ok(upgraded_response(tty));
    }
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let (tx, body) = Body::channel();
    tokio::spawn(run_attached(app, id, inst, tty, ours));
    tokio::spawn(async move {
        let mut theirs = theirs;
        let mut buf = vec![0u8; 32 * 1024];
        while let Ok(n) = theirs.read(&mut buf).await {
            if n == 0 || tx.send(Bytes::copy_from_slice(&buf[..n])).await.is_err() {
                break;
            }
        }
    });
    Ok(output_stream(tty, body))
}

/// Marks an exec instance as starting; a second start is docker's 409.
fn reserve(app: &App, id: &str) -> ApiResult<()> {
    let mut m = app.execs.lock().map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "exec table"))?;
    match m.get_mut(id) {
        Some(i) if i.started.is_some() => {
            Err(ApiError::new(StatusCode::CONFLICT, format!("exec {id} has already been started")))
        }
        Some(i) => {
            i.started = Some((String::new(), 0));
            Ok(())
        }
        None => Err(ApiError::not_found(format!("No such exec instance: {id}"))),
    }
}

/// Starts an attached exec on a connection whose answer is out, and relays
/// its stdio. A process that cannot start writes docker's error into the
/// stream, and its exit code is 126 or 127 (the CLI's exit status comes from
/// inspecting it).
async fn run_attached<C>(app: Arc<App>, id: String, inst: ExecInstance, tty: bool, mut conn: C)
where
    C: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    // Pipes (or a terminal) whose other ends the relay holds.
    let (io, ours) = if tty {
        (Ok(ExecIo::Terminal), None)
    } else {
        match exec_pipes() {
            Ok((theirs, ours)) => (Ok(ExecIo::Fds(theirs)), Some(ours)),
            Err(e) => (Err(e), None),
        }
    };
    let a = app.clone();
    let i = inst.clone();
    use hull_engine::ErrorKind;
    let started: Result<_, (ErrorKind, String)> = match io {
        Ok(io) => tokio::task::spawn_blocking(move || a.engine.exec_start(&i.container, &i.request, io))
            .await
            .map_err(|e| (ErrorKind::Internal, e.to_string()))
            .and_then(|r| r.map_err(|e| (e.kind(), e.to_string()))),
        Err(e) => Err((ErrorKind::Internal, format!("pipes: {e}"))),
    };
    let session = match started {
        Ok(s) => s,
        Err((kind, message)) => {
            finish(&app, &id, Some(if kind == ErrorKind::CommandNotFound { 127 } else { 126 }));
            let message = format!("OCI runtime exec failed: {message}\r\n");
            let chunk = if tty { Bytes::from(message) } else { stdcopy(1, message.as_bytes()) };
            let _ = conn.write_all(&chunk).await;
            let _ = conn.shutdown().await;
            return;
        }
    };
    mark_started(&app, &id, &session);
    relay_exec(conn, session, ours, inst.attach_stdin, app, id).await;
}

fn mark_started(app: &App, id: &str, s: &hull_engine::ExecSession) {
    if let Ok(mut e) = app.execs.lock() {
        if let Some(i) = e.get_mut(id) {
            i.started = Some((s.id.clone(), s.pid));
            i.console = s.console.as_ref().and_then(|c| c.try_clone().ok()).map(Arc::new);
        }
    }
}

fn finish(app: &App, id: &str, code: Option<i32>) {
    if let Ok(mut e) = app.execs.lock() {
        if let Some(i) = e.get_mut(id) {
            i.exit_code = Some(code.unwrap_or(-1));
        }
    }
}

/// (the process's stdin, stdout, stderr; ours: stdin's writer, stdout's and stderr's readers)
type ExecPipes = ([OwnedFd; 3], [OwnedFd; 3]);

fn exec_pipes() -> std::io::Result<ExecPipes> {
    let p = || nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(std::io::Error::from);
    let (in_r, in_w) = p()?;
    let (out_r, out_w) = p()?;
    let (err_r, err_w) = p()?;
    Ok(([in_r, out_w, err_w], [in_w, out_r, err_r]))
}

async fn relay_exec(
    conn: impl tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    session: hull_engine::ExecSession,
    pipes: Option<[OwnedFd; 3]>,
    stdin: bool,
    app: Arc<App>,
    id: String,
) {
    use crate::fdio::FdIo;
    let (mut conn_r, conn_w) = tokio::io::split(conn);
    let conn_w = Arc::new(tokio::sync::Mutex::new(conn_w));
    let fdio = |fd: OwnedFd| FdIo::new(fd).ok().map(Arc::new);
    // (stdin's writer, [(stream, reader)]): a terminal is both, stream 0 (raw).
    type Side = Option<Arc<FdIo>>;
    let (input, outputs): (Side, Vec<(u8, Side)>) = match (pipes, &session.console) {
        (Some([i, o, e]), _) => (fdio(i), vec![(1, fdio(o)), (2, fdio(e))]),
        (None, Some(m)) => {
            let pty = m.try_clone().ok().and_then(fdio);
            (pty.clone(), vec![(0, pty)])
        }
        (None, None) => (None, Vec::new()),
    };
    let feeder = tokio::spawn(async move {
        let Some(w) = input.filter(|_| stdin) else { return };
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = conn_r.read(&mut buf).await {
            if n == 0 || w.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
    });
    let mut readers = Vec::new();
    for (k, f) in outputs {
        let Some(f) = f else { continue };
        let w = conn_w.clone();
        readers.push(tokio::spawn(async move {
            let mut buf = vec![0u8; 32 * 1024];
            while let Ok(n) = f.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                let chunk = if k == 0 { Bytes::copy_from_slice(&buf[..n]) } else { stdcopy(k, &buf[..n]) };
                if w.lock().await.write_all(&chunk).await.is_err() {
                    break;
                }
            }
        }));
    }
    let code = tokio::task::spawn_blocking(move || session.wait().ok()).await.ok().flatten();
    for r in readers {
        // With a terminal the reader ends on EIO once the process is gone;
        // pipes end at EOF.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), r).await;
    }
    feeder.abort();
    finish(&app, &id, code);
    let _ = conn_w.lock().await.shutdown().await;
}

pub async fn exec_resize(app: Arc<App>, id: String, req: &Req) -> ApiResult<Response<Body>> {
    let (h, w) = size(req)?;
    let inst = exec_of(&app, &id)?;
    let Some(console) = inst.console.filter(|_| inst.exit_code.is_none()) else {
        return Err(ApiError::new(StatusCode::CONFLICT, format!("exec {id} has no running terminal")));
    };
    let ws = libc::winsize { ws_row: h, ws_col: w, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCSWINSZ reads a winsize from a valid pointer; the fd is a terminal's master we hold.
    let r = unsafe { libc::ioctl(std::os::fd::AsRawFd::as_raw_fd(&*console), libc::TIOCSWINSZ, &ws) };
    if r < 0 {
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("resize: {}", std::io::Error::last_os_error()),
        ));
    }
    Ok(status(StatusCode::OK))
}

pub async fn exec_inspect(app: Arc<App>, id: String) -> ApiResult<Response<Body>> {
    let inst = exec_of(&app, &id)?;
    let (pid, running) = match (&inst.started, inst.exit_code) {
        (Some((_, pid)), None) => (*pid, true),
        (Some((_, pid)), Some(_)) => (*pid, false),
        (None, _) => (0, false),
    };
    Ok(json(
        StatusCode::OK,
        &j!({
            "ID": id, "ContainerID": inst.container, "Running": running, "ExitCode": inst.exit_code,
            "Pid": pid, "OpenStdin": inst.attach_stdin, "OpenStdout": inst.attach_stdout, "OpenStderr": inst.attach_stderr,
            "CanRemove": false, "DetachKeys": "",
            "ProcessConfig": {"tty": inst.request.tty, "entrypoint": inst.request.cmd.first(),
                "arguments": inst.request.cmd.get(1..).unwrap_or_default(), "privileged": inst.request.privileged,
                "user": inst.request.user.clone().unwrap_or_default()},
        }),
    ))
}
