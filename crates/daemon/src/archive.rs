//! `HEAD|GET|PUT /containers/{id}/archive`: what `docker cp` and the SDKs'
//! get_archive/put_archive use, over the engine's archive calls.

use crate::body::{Body, BodyWriter};
use crate::error::{ApiError, ApiResult};
use crate::server::{blocking, App, Req};
use base64::Engine as _;
use hull_engine::archive::{PathStat, PutOptions};
use hyper::{Method, Response, StatusCode};
use std::sync::Arc;

/// docker's `X-Docker-Container-Path-Stat` header: base64 of the JSON
/// `ContainerPathStat`.
fn stat_header(st: &PathStat) -> String {
    let nanos = st.mtime.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as i64).unwrap_or(0);
    let v = serde_json::json!({
        "name": st.name, "size": st.size, "mode": st.go_file_mode(),
        "mtime": hull_engine::time::format_nanos(nanos), "linkTarget": st.link_target,
    });
    base64::engine::general_purpose::STANDARD.encode(v.to_string())
}

fn path(req: &Req) -> ApiResult<String> {
    match req.q("path") {
        Some(p) if !p.is_empty() => Ok(p.to_string()),
        _ => Err(ApiError::bad_request("the path parameter is required")),
    }
}

/// HEAD (the stat alone) and GET (the stat and a tar of the path).
pub async fn get(app: Arc<App>, id: String, req: &Req) -> ApiResult<Response<Body>> {
    let path = path(req)?;
    let (a, key, p) = (app.clone(), id.clone(), path.clone());
    let st = blocking(move || Ok(a.engine.archive_stat(&key, &p)?)).await?;
    let head = Response::builder()
        .status(StatusCode::OK)
        .header("X-Docker-Container-Path-Stat", stat_header(&st))
        .header("Content-Type", "application/x-tar");
    if req.method == Method::HEAD {
        return Ok(head.body(Body::empty()).unwrap_or_else(|_| Response::new(Body::empty())));
    }
    let (tx, body) = Body::channel();
    tokio::task::spawn_blocking(move || {
        let mut w = BodyWriter::new(tx);
        // The head is out: a failure part way can only end the stream early
        // (docker's does the same); the log says why.
        if let Err(e) = app.engine.archive_get(&id, &path, &mut w) {
            tracing::warn!("archive of {path} in {id}: {e}");
        }
    });
    Ok(head.body(body).unwrap_or_else(|_| Response::new(Body::empty())))
}

/// PUT: a tar stream unpacked into a directory of the container.
pub async fn put(app: Arc<App>, id: String, mut req: Req) -> ApiResult<Response<Body>> {
    let path = path(&req)?;
    let opts =
        PutOptions { no_overwrite_dir_non_dir: req.flag("noOverwriteDirNonDir"), copy_uid_gid: req.flag("copyUIDGID") };
    let mut input = req.reader();
    blocking(move || {
        if let Err(e) = app.engine.archive_put(&id, &path, &mut input, opts) {
            input.drain();
            return Err(e.into());
        }
        Ok(crate::server::status(StatusCode::OK))
    })
    .await
}
