//! `/_ping`, `/version`, `/info`, `/events`, `/system/df`, `/auth`.

use crate::body::Body;
use crate::error::{ApiError, ApiResult};
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
    let cancel = crate::body::cancel()?;
    let (tx, body) = Body::cancelling(Some(cancel.clone()));
    tokio::task::spawn_blocking(move || {
        let _ = app.engine.events_until(since, until, &filter, Some(&cancel), &mut |e| {
            let line = serde_json::to_string(e).unwrap_or_default() + "\n";
            tx.blocking_send(Bytes::from(line)).is_ok()
        });
    });
    Ok(crate::server::ok_with("application/json", body))
}

/// `/system/df`: docker's `SystemDataUsageResponse` from the engine's
/// accounting (shared layers once in `LayersSize`).
pub async fn df(app: Arc<App>, version: (u32, u32)) -> ApiResult<Response<Body>> {
    let v = blocking(move || {
        let u = app.engine.disk_usage()?;
        let mut by_id = crate::images::summaries(&app)?;
        let images: Vec<_> = u
            .images
            .iter()
            .filter_map(|i| {
                let mut s = by_id.remove(&i.id)?;
                s["Size"] = j!(i.size);
                s["SharedSize"] = j!(i.shared_size);
                s["Containers"] = j!(i.containers);
                Some(s)
            })
            .collect();
        let containers: Vec<_> = u
            .containers
            .iter()
            .map(|(c, rw)| {
                let mut s = crate::containers::summary(&app, c);
                let image = u.images.iter().find(|i| i.id == c.config.image_id).map_or(0, |i| i.size);
                s["SizeRw"] = j!(rw);
                s["SizeRootFs"] = j!(rw + image);
                s
            })
            .collect();
        let volumes: Vec<_> = u
            .volumes
            .iter()
            .map(|v| {
                let mut s = crate::objects::volume_json(&v.volume);
                s["UsageData"] = j!({"Size": v.size, "RefCount": v.ref_count});
                s
            })
            .collect();
        let cache: Vec<_> = app
            .engine
            .build_cache_usage()
            .into_iter()
            .map(|c| j!({"ID": c.id, "Type": c.kind, "Size": c.size, "InUse": false, "Shared": false, "Description": "", "UsageCount": 0}))
            .collect();
        let builder_size: u64 = cache.iter().filter_map(|c| c["Size"].as_u64()).sum();
        let mut out = j!({"LayersSize": u.layers_size, "Images": images, "Containers": containers, "Volumes": volumes,
            "BuildCache": cache});
        // Removed in 1.42 (BuildCache replaces it).
        if version < (1, 42) {
            out["BuilderSize"] = j!(builder_size);
        }
        Ok(out)
    })
    .await?;
    Ok(json(StatusCode::OK, &v))
}

/// `POST /auth`: the credentials checked against the registry (nothing is
/// stored: clients keep their own).
pub async fn auth(app: Arc<App>, mut req: Req) -> ApiResult<Response<Body>> {
    let a: hull_engine::RegistryAuth = req.json().await?;
    if a.username.is_empty() {
        return Err(ApiError::bad_request("a user name is required"));
    }
    blocking(move || Ok(app.engine.check_login(&a)?)).await?;
    Ok(json(StatusCode::OK, &j!({"Status": "Login Succeeded", "IdentityToken": ""})))
}
