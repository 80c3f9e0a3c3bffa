//! `/_ping`, `/version`, `/info`, `/events`.

use crate::body::Body;
use crate::error::ApiResult;
use crate::server::{blocking, json, App, Req, API_VERSION, MIN_API_VERSION};
use bytes::Bytes;
use hyper::{Response, StatusCode};
use serde_json::json as j;
use std::sync::Arc;

pub fn ping(req: &Req) -> Response<Body> {
    let body = if req.method == hyper::Method::HEAD { Body::empty() } else { Body::full("OK") };
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "text/plain; charset=utf-8")
        .header("Cache-Control", "no-cache, no-store, must-revalidate")
        .header("Pragma", "no-cache")
        .header("Builder-Version", "1")
        .header("Docker-Experimental", "false")
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_string()
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

pub async fn version(_app: Arc<App>) -> ApiResult<Response<Body>> {
    let v = env!("CARGO_PKG_VERSION");
    Ok(json(
        StatusCode::OK,
        &j!({
            "Platform": {"Name": "Hull"},
            "Components": [{"Name": "Engine", "Version": v, "Details": {"ApiVersion": API_VERSION,
                "MinAPIVersion": MIN_API_VERSION, "Os": "linux", "Arch": arch(), "KernelVersion": kernel()}}],
            "Version": v, "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION,
            "GitCommit": "", "GoVersion": "", "Os": "linux", "Arch": arch(), "KernelVersion": kernel(),
            "BuildTime": "",
        }),
    ))
}

pub async fn info(app: Arc<App>) -> ApiResult<Response<Body>> {
    let v = blocking(move || {
        let all = app.engine.list()?;
        let count = |s: hull_engine::Status| all.iter().filter(|c| c.state.status == s).count();
        let images = app.engine.images().list().map(|l| l.len()).unwrap_or(0);
        let mem = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                m.lines().find_map(|l| {
                    l.strip_prefix("MemTotal:").map(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
                })
            })
            .flatten()
            .unwrap_or(0)
            * 1024;
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default().trim().to_string();
        let runtimes: serde_json::Map<String, serde_json::Value> =
            app.engine.runtime_names().into_iter().map(|n| (n.clone(), j!({"path": n}))).collect();
        let cfg = app.engine.config();
        Ok(j!({
            "ID": hostname, "Containers": all.len(),
            "ContainersRunning": count(hull_engine::Status::Running),
            "ContainersPaused": count(hull_engine::Status::Paused),
            "ContainersStopped": count(hull_engine::Status::Exited) + count(hull_engine::Status::Created),
            "Images": images, "Driver": "overlay", "DriverStatus": [],
            "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "none"], "Log": ["json-file", "local"]},
            "MemoryLimit": true, "SwapLimit": true, "CpuCfsPeriod": true, "CpuCfsQuota": true, "CPUShares": true,
            "CPUSet": true, "PidsLimit": true, "IPv4Forwarding": true, "Debug": false,
            "NFd": 0, "NGoroutines": 0, "SystemTime": hull_engine::time::format_nanos(hull_engine::time::now_nanos()),
            "LoggingDriver": "json-file", "CgroupDriver": "cgroupfs", "CgroupVersion": "1",
            "KernelVersion": kernel(), "OperatingSystem": "Hull", "OSType": "linux", "OSVersion": "",
            "Architecture": std::env::consts::ARCH, "NCPU": std::thread::available_parallelism().map_or(1, |n| n.get()),
            "MemTotal": mem, "DockerRootDir": cfg.root, "Name": hostname, "Labels": [],
            "ExperimentalBuild": false, "ServerVersion": env!("CARGO_PKG_VERSION"),
            "Runtimes": runtimes, "DefaultRuntime": hull_engine::runtimes::HULL,
            "Swarm": {"LocalNodeState": "inactive", "ControlAvailable": false, "NodeID": "", "NodeAddr": ""},
            "LiveRestoreEnabled": false, "Isolation": "", "InitBinary": "docker-init",
            "SecurityOptions": ["name=seccomp,profile=builtin"], "Warnings": [],
            "RegistryConfig": {"IndexConfigs": {}, "InsecureRegistryCIDRs": ["127.0.0.0/8"]},
        }))
    })
    .await?;
    Ok(json(StatusCode::OK, &v))
}

/// `/events`: the journal from `since`, then live until `until` (or the
/// client goes), one JSON object per line.
pub async fn events(app: Arc<App>, req: &Req) -> ApiResult<Response<Body>> {
    let now = hull_engine::time::now_nanos();
    let time = |k: &str| -> ApiResult<Option<i64>> {
        Ok(match req.q(k).filter(|v| !v.is_empty()) {
            Some(v) => Some(hull_engine::time::parse_arg(k, v, now)?),
            None => None,
        })
    };
    let (since, until) = (time("since")?, time("until")?);
    let filter = hull_engine::events::EventFilter::from_json(req.q("filters").unwrap_or(""))?;
    let (tx, body) = Body::channel();
    tokio::task::spawn_blocking(move || {
        let _ = app.engine.events(since, until, &filter, &mut |e| {
            let line = serde_json::to_string(e).unwrap_or_default() + "\n";
            tx.blocking_send(Bytes::from(line)).is_ok()
        });
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty())))
}
