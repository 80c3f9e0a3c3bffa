//! Images from containers and tarballs: `POST /commit`, `GET
//! /containers/{id}/changes`, `GET /containers/{id}/export` and
//! `POST /images/create?fromSrc=-` (docker import).

use crate::body::{Body, BodyWriter};
use crate::error::{ApiError, ApiResult};
use crate::server::{blocking, json, App, Req};
use bytes::Bytes;
use hull_image::manifest::ExecConfig;
use hyper::{Response, StatusCode};
use serde_json::json as j;
use std::sync::Arc;

/// `REPO` and `TAG` query values as one reference.
fn reference(repo: Option<&str>, tag: Option<&str>) -> Option<String> {
    let repo = repo.filter(|r| !r.is_empty())?;
    Some(match tag.filter(|t| !t.is_empty()) {
        Some(t) => format!("{repo}:{t}"),
        None => repo.to_string(),
    })
}

/// The body's config fields laid over the container's (docker merges them
/// the same way); an empty or null body changes nothing.
fn overlay(base: ExecConfig, body: &[u8]) -> ApiResult<ExecConfig> {
    let text = std::str::from_utf8(body).unwrap_or("").trim();
    if text.is_empty() || text == "null" {
        return Ok(base);
    }
    let given: ExecConfig =
        serde_json::from_str(text).map_err(|e| ApiError::bad_request(format!("the commit's config: {e}")))?;
    let mut c = base;
    macro_rules! take {
        ($($f:ident),*) => { $(if given.$f.is_some() { c.$f = given.$f.clone(); })* };
    }
    take!(
        user,
        exposed_ports,
        env,
        entrypoint,
        cmd,
        volumes,
        working_dir,
        labels,
        stop_signal,
        healthcheck,
        on_build,
        shell
    );
    Ok(c)
}

/// `POST /commit?container=&repo=&tag=&comment=&author=&pause=&changes=`.
pub async fn commit(app: Arc<App>, mut req: Req) -> ApiResult<Response<Body>> {
    let container = req
        .q("container")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::bad_request("the container parameter is required"))?
        .to_string();
    let body = req.bytes().await?;
    let opts = hull_engine::CommitOptions {
        reference: reference(req.q("repo"), req.q("tag")),
        author: req.q("author").filter(|a| !a.is_empty()).map(String::from),
        comment: req.q("comment").filter(|c| !c.is_empty()).map(String::from),
        changes: req.q_all("changes"),
        pause: req.bool_or("pause", true),
        ..Default::default()
    };
    let img = blocking(move || {
        let mut opts = opts;
        if !body.is_empty() {
            opts.config = Some(overlay(app.engine.commit_config(&container)?, &body)?);
        }
        Ok(app.engine.commit(&container, opts)?)
    })
    .await?;
    Ok(json(StatusCode::CREATED, &j!({"Id": img.id.to_string()})))
}

/// `GET /containers/{id}/changes`: docker's `[{"Path", "Kind"}]`.
pub async fn changes(app: Arc<App>, id: String) -> ApiResult<Response<Body>> {
    let all = blocking(move || Ok(app.engine.changes(&id)?)).await?;
    let out: Vec<serde_json::Value> = all.iter().map(|c| j!({"Path": c.path, "Kind": c.kind.code()})).collect();
    Ok(json(StatusCode::OK, &out))
}

/// `GET /containers/{id}/export`: the container's filesystem as a tar stream.
pub async fn export(app: Arc<App>, id: String) -> ApiResult<Response<Body>> {
    // Unknown containers are a 404 before the stream starts.
    let (a, key) = (app.clone(), id.clone());
    blocking(move || Ok(a.engine.get(&key)?)).await?;
    let (tx, body) = Body::channel();
    tokio::task::spawn_blocking(move || {
        let mut w = BodyWriter::new(tx);
        if let Err(e) = app.engine.export(&id, &mut w) {
            tracing::warn!("export of {id}: {e}");
        }
    });
    Ok(crate::server::ok_with("application/x-tar", body))
}

/// `POST /images/create?fromSrc=-&repo=&tag=&changes=&message=`: the body
/// (a tar, plain or compressed) as a one-layer image.
pub async fn import(app: Arc<App>, mut req: Req) -> ApiResult<Response<Body>> {
    if req.q("fromSrc") != Some("-") {
        return Err(ApiError::bad_request(
            "Hull imports only from the request's body (fromSrc=-): download the archive and send it",
        ));
    }
    let reference = reference(req.q("repo"), req.q("tag"));
    if let Some(r) = &reference {
        r.parse::<hull_image::reference::Reference>().map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    let changes = req.q_all("changes");
    let message = req.q("message").filter(|m| !m.is_empty()).map(String::from);
    let mut input = req.reader();
    let img = blocking(move || {
        app.engine.import(&mut input, reference.as_deref(), &changes, message.as_deref()).map_err(|e| {
            input.drain();
            ApiError::from(e)
        })
    })
    .await?;
    let line = j!({"status": img.id.to_string()}).to_string() + "\r\n";
    Ok(crate::server::ok_with("application/json", Body::full(Bytes::from(line))))
}
