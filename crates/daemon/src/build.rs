//! `POST /build`: docker's legacy builder protocol (what the docker CLI
//! without buildx, and `docker compose build`, speak): a tar context as
//! the body, the options as query parameters, the progress as docker's
//! JSON message stream (`stream`, then `aux.ID`, or `errorDetail`).

use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::server::{App, Req};
use bytes::Bytes;
use hyper::Response;
use serde_json::json as j;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A JSON map parameter (`buildargs`, `labels`): null values take nothing.
fn json_map(req: &Req, key: &str) -> ApiResult<BTreeMap<String, String>> {
    let Some(text) = req.q(key).filter(|t| !t.is_empty()) else { return Ok(BTreeMap::new()) };
    let m: BTreeMap<String, Option<String>> =
        serde_json::from_str(text).map_err(|e| ApiError::bad_request(format!("invalid {key}: {e}")))?;
    Ok(m.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect())
}

pub async fn build(app: Arc<App>, mut req: Req) -> ApiResult<Response<Body>> {
    if req.q("version") == Some("2") {
        return Err(ApiError::new(
            hyper::StatusCode::NOT_IMPLEMENTED,
            "BuildKit builds (version=2) are not supported by Hull: use the legacy builder (DOCKER_BUILDKIT=0)",
        ));
    }
    if req.q("remote").is_some_and(|r| !r.is_empty()) {
        return Err(ApiError::bad_request("Hull builds only from a context sent as the body, not from a remote URL"));
    }
    let tags = req.q_all("t");
    for t in &tags {
        t.parse::<hull_image::reference::Reference>().map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    let build_args = json_map(&req, "buildargs")?;
    let labels = json_map(&req, "labels")?;
    let quiet = req.flag("q");
    let network = req.q("networkmode").filter(|n| !n.is_empty() && *n != "default").map(String::from);
    let spec = hull_engine::build::BuildRequest {
        context: Default::default(),
        dockerfile: req.q("dockerfile").filter(|d| !d.is_empty()).map(String::from),
        dockerfile_text: None,
        tags,
        build_args,
        labels,
        target: req.q("target").filter(|t| !t.is_empty()).map(String::from),
        no_cache: req.flag("nocache"),
        pull: req.flag("pull"),
        network,
        cgroup_parent: app.cgroup_parent.clone(),
        cancel: None,
        // The legacy protocol carries no secrets (BuildKit's session does).
        secrets: Default::default(),
        compression: None,
        registry_auths: match req.headers.get("X-Registry-Config").and_then(|v| v.to_str().ok()) {
            Some(h) => hull_engine::RegistryAuth::map_from_config_header(h)?,
            None => Default::default(),
        },
    };
    let mut input = req.reader();
    let (tx, body) = Body::channel();
    tokio::task::spawn_blocking(move || {
        let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let send = |v: serde_json::Value| {
            if tx.blocking_send(Bytes::from(v.to_string() + "\r\n")).is_err() {
                // The client went: the build stops at its next step.
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        };
        let fail = |msg: String| send(j!({"errorDetail": {"message": msg}, "error": msg}));
        let root = app.engine.config().root.clone();
        let spool = match tempfile::Builder::new().prefix(".build-").tempdir_in(&root) {
            Ok(s) => s,
            Err(e) => return fail(format!("make the build's context directory in {}: {e}", root.display())),
        };
        if let Err(e) = hull_engine::build::extract_context(&mut input, spool.path()) {
            input.drain();
            return fail(e.to_string());
        }
        let mut spec = spec;
        spec.context = spool.path().to_path_buf();
        spec.cancel = Some(cancel.clone());
        let mut say = |line: &str| {
            if !quiet {
                send(j!({"stream": line}));
            }
        };
        match app.engine.build(spec, &mut say) {
            Ok(built) => {
                send(j!({"aux": {"ID": built.image.id.to_string()}}));
                if quiet {
                    send(j!({"stream": format!("{}\n", built.image.id)}));
                }
            }
            Err(e) => fail(e.to_string()),
        }
    });
    Ok(crate::server::ok_with("application/json", body))
}

/// `POST /build/prune` (`docker builder prune`): the whole cache.
pub async fn prune(app: Arc<App>) -> ApiResult<Response<Body>> {
    let freed = crate::server::blocking(move || Ok(app.engine.prune_build_cache()?)).await?;
    Ok(crate::server::json(hyper::StatusCode::OK, &j!({"CachesDeleted": [], "SpaceReclaimed": freed})))
}
