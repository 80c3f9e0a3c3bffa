//! `/images/...`: list, pull (`create?fromImage=`), push, inspect, history,
//! remove, tag, save (`get`), load, prune; search answers that Hull has none.

use crate::body::{Body, BodyWriter};
use crate::error::{ApiError, ApiResult};
use crate::server::{blocking, json, status, App, Req};
use bytes::Bytes;
use hull_engine::image::ImageDeleted;
use hull_image::registry::Progress;
use hyper::{Response, StatusCode};
use serde_json::json as j;
use std::sync::Arc;

/// docker's `ImageSummary` of every image, by id.
pub fn summaries(app: &App) -> ApiResult<std::collections::BTreeMap<String, serde_json::Value>> {
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
    Ok(by_id)
}

pub async fn list(app: Arc<App>, req: &Req) -> ApiResult<Response<Body>> {
    let old = req.version < (1, 44);
    // Every image Hull keeps is a top-level one: `all` lists the same.
    let out = blocking(move || {
        let mut all = summaries(&app)?.into_values().collect::<Vec<_>>();
        // API 1.43 and older have VirtualSize (the same as Size since 1.10).
        if old {
            for s in &mut all {
                s["VirtualSize"] = s["Size"].clone();
            }
        }
        Ok(all)
    })
    .await?;
    Ok(json(StatusCode::OK, &serde_json::Value::Array(out)))
}

/// `POST /images/create?fromImage=NAME&tag=TAG`: a pull, its progress as
/// docker's JSON message stream (an error mid-way is the stream's last
/// message, as docker sends it after a 200).
pub async fn create(app: Arc<App>, req: &Req) -> ApiResult<Response<Body>> {
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
    let auth = registry_auth(req)?;
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
    Ok(crate::server::ok_with("application/json", body))
}

pub async fn inspect(app: Arc<App>, name: String, version: (u32, u32)) -> ApiResult<Response<Body>> {
    let img = blocking(move || app.engine.inspect_image(&name).map_err(no_such_image(&name))).await?;
    let mut v =
        serde_json::to_value(&img).map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    // The fields moby's swagger gives each version.
    if version < (1, 44) {
        v["VirtualSize"] = v["Size"].clone();
        if v["Created"].is_null() {
            v["Created"] = j!("0001-01-01T00:00:00Z");
        }
    } else if v["Created"].is_null() {
        if let Some(o) = v.as_object_mut() {
            o.remove("Created");
        }
    }
    if version < (1, 45) {
        v["Container"] = j!("");
        v["ContainerConfig"] = v["Config"].clone();
    }
    Ok(json(StatusCode::OK, &v))
}

pub async fn remove(app: Arc<App>, name: String, req: &Req) -> ApiResult<Response<Body>> {
    let force = req.flag("force");
    let done = blocking(move || app.engine.remove_image(&name, force).map_err(no_such_image(&name))).await?;
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

fn registry_auth(req: &Req) -> ApiResult<Option<hull_engine::RegistryAuth>> {
    match req.headers.get("X-Registry-Auth").and_then(|v| v.to_str().ok()) {
        Some(h) => Ok(hull_engine::RegistryAuth::from_header(h)?),
        None => Ok(None),
    }
}

fn no_such_image(name: &str) -> impl FnOnce(hull_engine::EngineError) -> ApiError + '_ {
    move |e| match e.kind() {
        hull_engine::ErrorKind::NotFound => ApiError::not_found(format!("No such image: {name}")),
        _ => e.into(),
    }
}

/// `POST /images/{name}/push?tag=`: docker's JSON message stream (an
/// error mid-way is its last message).
pub async fn push(app: Arc<App>, name: String, req: &Req) -> ApiResult<Response<Body>> {
    let reference = match req.q("tag").filter(|t| !t.is_empty()) {
        Some(t) => format!("{name}:{t}"),
        None => name,
    };
    let r: hull_image::reference::Reference =
        reference.parse().map_err(|e: hull_image::reference::ReferenceError| ApiError::bad_request(e.to_string()))?;
    let auth = registry_auth(req)?;
    {
        let (a, n) = (app.clone(), reference.clone());
        blocking(move || a.engine.images().resolve(&n).map(drop).map_err(|e| no_such_image(&n)(e.into()))).await?;
    }
    let (tx, body) = Body::channel();
    tokio::task::spawn_blocking(move || {
        let say = |v: serde_json::Value| {
            let _ = tx.blocking_send(Bytes::from(v.to_string() + "\r\n"));
        };
        say(j!({"status": format!("The push refers to repository [{}/{}]", r.registry, r.repository)}));
        let progress = |d: &hull_image::digest::Digest, p: hull_engine::push::BlobPush| {
            say(j!({"status": p.docker_status(), "progressDetail": {}, "id": &d.hex()[..12]}));
        };
        let req = hull_engine::PushRequest { reference, auth, progress: Some(&progress) };
        match app.engine.push(req) {
            Ok(p) => {
                say(j!({"status": format!("{}: digest: {} size: {}", p.tag, p.digest, p.size), "progressDetail": {}}));
                say(j!({"progressDetail": {}, "aux": {"Tag": p.tag, "Digest": p.digest, "Size": p.size}}));
            }
            Err(e) => say(j!({"errorDetail": {"message": e.to_string()}, "error": e.to_string()})),
        }
    });
    Ok(crate::server::ok_with("application/json", body))
}

/// `GET /images/{name}/history`: newest first, as docker lists it.
pub async fn history(app: Arc<App>, name: String) -> ApiResult<Response<Body>> {
    let rows = blocking(move || app.engine.history(&name).map_err(no_such_image(&name))).await?;
    Ok(json(StatusCode::OK, &rows))
}

/// `GET /images/get?names=..` and `GET /images/{name}/get`: a docker-archive.
pub async fn save(app: Arc<App>, names: Vec<String>) -> ApiResult<Response<Body>> {
    if names.is_empty() {
        return Err(ApiError::bad_request("no image names given"));
    }
    {
        let (a, n) = (app.clone(), names.clone());
        blocking(move || {
            for name in &n {
                a.engine.images().resolve(name).map_err(|e| no_such_image(name)(e.into()))?;
            }
            Ok(())
        })
        .await?;
    }
    let (tx, body) = Body::channel();
    tokio::task::spawn_blocking(move || {
        let mut w = BodyWriter::new(tx);
        if let Err(e) = app.engine.save(&names, &mut w) {
            tracing::warn!("save {names:?}: {e}");
        }
    });
    Ok(crate::server::ok_with("application/x-tar", body))
}

/// `POST /images/load`: a docker- or OCI-archive in the body; docker's
/// `{"stream": "Loaded image: ..."}` lines.
pub async fn load(app: Arc<App>, mut req: Req) -> ApiResult<Response<Body>> {
    let mut input = req.reader();
    let names = blocking(move || {
        app.engine.load(&mut input, None).map_err(|e| {
            input.drain();
            ApiError::from(e)
        })
    })
    .await?;
    let out: String =
        names.iter().map(|n| j!({"stream": format!("Loaded image: {n}\n")}).to_string() + "\r\n").collect();
    Ok(crate::server::ok_with("application/json", Body::full(out)))
}

/// `POST /images/prune`.
pub async fn prune(app: Arc<App>) -> ApiResult<Response<Body>> {
    let freed = blocking(move || Ok(app.engine.prune_images()?)).await?;
    Ok(json(StatusCode::OK, &j!({"ImagesDeleted": [], "SpaceReclaimed": freed})))
}
