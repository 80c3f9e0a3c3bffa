//! `/images/...`: list, pull (`create?fromImage=`), inspect, remove, tag.

use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::server::{blocking, json, status, App, Req};
use bytes::Bytes;
use hull_engine::image::ImageDeleted;
use hull_image::registry::Progress;
use hyper::{Response, StatusCode};
use serde_json::json as j;
use std::sync::Arc;

pub async fn list(app: Arc<App>, req: &Req) -> ApiResult<Response<Body>> {
    let all = req.flag("all");
    let out = blocking(move || {
        let list = app.engine.images().list()?;
        let mut by_id: std::collections::BTreeMap<String, serde_json::Value> = Default::default();
        for i in list {
            let e = by_id.entry(i.id.clone()).or_insert_with(|| {
                j!({"Id": i.id, "ParentId": "", "RepoTags": [], "RepoDigests": [],
                    "Created": hull_engine::time::rfc3339_secs(&i.created).unwrap_or(0),
                    "Size": i.unpacked_size.unwrap_or(i.size), "SharedSize": -1, "Labels": i.labels, "Containers": -1})
            });
            if i.repository != "<none>" {
                if let Some(t) = e["RepoTags"].as_array_mut() {
                    t.push(j!(format!("{}:{}", i.repository, i.tag)));
                }
                if !i.digest.is_empty() {
                    if let Some(d) = e["RepoDigests"].as_array_mut() {
                        d.push(j!(format!("{}@{}", i.repository, i.digest)));
                    }
                }
            }
        }
        let _ = all;
        Ok(by_id.into_values().collect::<Vec<_>>())
    })
    .await?;
    Ok(json(StatusCode::OK, &serde_json::Value::Array(out)))
}

/// `POST /images/create?fromImage=NAME&tag=TAG`: a pull, its progress as
/// docker's JSON message stream (an error mid-way is the stream's last
/// message, as docker sends it after a 200).
pub async fn create(app: Arc<App>, req: &Req) -> ApiResult<Response<Body>> {
    if req.q("fromSrc").is_some() {
        return Err(ApiError::new(StatusCode::NOT_IMPLEMENTED, "importing an image (fromSrc) is not supported yet"));
    }
    let from =
        req.q("fromImage").filter(|f| !f.is_empty()).ok_or_else(|| ApiError::bad_request("fromImage is required"))?;
    let tag = req.q("tag").unwrap_or("");
    let reference = match tag {
        "" => from.to_string(),
        t if t.starts_with("sha256:") => format!("{from}@{t}"),
        t => format!("{from}:{t}"),
    };
    // A malformed name is a 400 before any stream starts.
    reference.parse::<hull_image::reference::Reference>().map_err(|e| ApiError::bad_request(e.to_string()))?;
    let auth = match req.headers.get("X-Registry-Auth").and_then(|v| v.to_str().ok()) {
        Some(h) => hull_engine::RegistryAuth::from_header(h)?,
        None => None,
    };
    let platform = req.q("platform").filter(|p| !p.is_empty()).map(String::from);
    let (tx, body) = Body::channel();
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    tokio::task::spawn_blocking(move || {
        let say = |v: serde_json::Value| {
            if tx.blocking_send(Bytes::from(v.to_string() + "\r\n")).is_err() {
                // The client went: the pull stops (and tags nothing).
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        };
        let r = reference.parse::<hull_image::reference::Reference>().ok();
        let tag = r.as_ref().and_then(|r| r.tag.clone()).unwrap_or_else(|| "latest".into());
        say(
            j!({"status": format!("Pulling from {}", r.as_ref().map(|r| r.familiar_name()).unwrap_or_default()), "id": tag}),
        );
        let progress = |p: Progress| match p {
            Progress::Queued(id, _) => say(j!({"status": "Pulling fs layer", "progressDetail": {}, "id": id})),
            Progress::Start(id, total) => {
                say(j!({"status": "Downloading", "progressDetail": {"current": 0, "total": total}, "id": id}))
            }
            Progress::Bytes(id, n) => say(j!({"status": "Downloading", "progressDetail": {"current": n}, "id": id})),
            Progress::Done(id) => say(j!({"status": "Pull complete", "progressDetail": {}, "id": id})),
            Progress::Exists(id) => say(j!({"status": "Already exists", "progressDetail": {}, "id": id})),
        };
        let req = hull_engine::PullRequest {
            reference: reference.clone(),
            platform,
            auth,
            progress: Some(&progress),
            cancel: Some(cancel.clone()),
        };
        match app.engine.pull(req) {
            Ok(p) => {
                say(j!({"status": format!("Digest: {}", p.digest)}));
                let what = if p.updated { "Downloaded newer image for" } else { "Image is up to date for" };
                let familiar = r
                    .map(|r| format!("{}:{}", r.familiar_name(), r.tag.unwrap_or_else(|| "latest".into())))
                    .unwrap_or_default();
                say(j!({"status": format!("Status: {what} {familiar}")}));
            }
            Err(e) => say(j!({"errorDetail": {"message": e.to_string()}, "error": e.to_string()})),
        }
    });
    Ok(Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", "application/json")
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty())))
}

pub async fn inspect(app: Arc<App>, name: String) -> ApiResult<Response<Body>> {
    let v = blocking(move || {
        app.engine.inspect_image(&name).map_err(|e| match e.kind() {
            hull_engine::ErrorKind::NotFound => ApiError::not_found(format!("No such image: {name}")),
            _ => e.into(),
        })
    })
    .await?;
    Ok(json(StatusCode::OK, &v))
}

pub async fn remove(app: Arc<App>, name: String, req: &Req) -> ApiResult<Response<Body>> {
    let force = req.flag("force");
    let done = blocking(move || {
        app.engine.remove_image(&name, force).map_err(|e| match e.kind() {
            hull_engine::ErrorKind::NotFound => ApiError::not_found(format!("No such image: {name}")),
            _ => e.into(),
        })
    })
    .await?;
    let items: Vec<_> = done
        .into_iter()
        .map(|d| match d {
            ImageDeleted::Untagged(t) => j!({"Untagged": t}),
            ImageDeleted::Deleted(id) => j!({"Deleted": id}),
        })
        .collect();
    Ok(json(StatusCode::OK, &serde_json::Value::Array(items)))
}

pub async fn tag(app: Arc<App>, name: String, req: &Req) -> ApiResult<Response<Body>> {
    let repo = req.q("repo").filter(|r| !r.is_empty()).ok_or_else(|| ApiError::bad_request("repo is required"))?;
    let target = match req.q("tag").filter(|t| !t.is_empty()) {
        Some(t) => format!("{repo}:{t}"),
        None => repo.to_string(),
    };
    blocking(move || {
        app.engine.tag_image(&name, &target)?;
        Ok(status(StatusCode::CREATED))
    })
    .await
}
