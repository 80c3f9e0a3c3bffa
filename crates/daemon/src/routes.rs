//! The routing table: method and path (version prefix removed) to handler.

use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::server::{App, Req};
use crate::{archive, containers, images, objects, system};
use hyper::{Method, Response};
use std::sync::Arc;

pub async fn route(app: Arc<App>, req: Req) -> ApiResult<Response<Body>> {
    let parts: Vec<&str> = req.parts.iter().map(String::as_str).collect();
    let m = req.method.clone();
    match (m, parts.as_slice()) {
        (Method::GET | Method::HEAD, ["_ping"]) => Ok(system::ping(&req)),
        (Method::GET, ["version"]) => system::version(app).await,
        (Method::GET, ["info"]) => system::info(app).await,
        (Method::GET, ["events"]) => system::events(app, &req).await,
        (Method::GET, ["system", "df"]) => system::df(app, req.version).await,
        (Method::POST, ["auth"]) => system::auth(app, req).await,
        (Method::GET, ["containers", "json"]) => containers::list(app, &req).await,
        (Method::POST, ["containers", "create"]) => containers::create(app, req).await,
        (Method::POST, ["containers", "prune"]) => containers::prune(app).await,
        // A name with a slash is no container's, but the CLI's `inspect` of
        // an image (`inspect host/repo:tag`) asks here first: a 404 sends
        // it on to the image.
        (Method::GET, ["containers", id @ .., "json"]) if !id.is_empty() => {
            containers::inspect(app, id.join("/")).await
        }
        (Method::GET, ["containers", id, "top"]) => containers::top(app, id.to_string()).await,
        (Method::GET, ["containers", id, "logs"]) => containers::logs(app, id.to_string(), &req).await,
        (Method::GET, ["containers", id, "stats"]) => containers::stats(app, id.to_string(), &req).await,
        (Method::POST, ["containers", id, "start"]) => containers::start(app, id.to_string()).await,
        (Method::POST, ["containers", id, "stop"]) => containers::stop(app, id.to_string(), &req, false).await,
        (Method::POST, ["containers", id, "restart"]) => containers::stop(app, id.to_string(), &req, true).await,
        (Method::POST, ["containers", id, "kill"]) => containers::kill(app, id.to_string(), &req).await,
        (Method::POST, ["containers", id, "pause"]) => containers::pause(app, id.to_string(), true).await,
        (Method::POST, ["containers", id, "unpause"]) => containers::pause(app, id.to_string(), false).await,
        (Method::POST, ["containers", id, "update"]) => containers::update(app, id.to_string(), req).await,
        (Method::POST, ["containers", id, "rename"]) => containers::rename(app, id.to_string(), &req).await,
        (Method::POST, ["containers", id, "resize"]) => containers::resize(app, id.to_string(), &req).await,
        (Method::POST, ["containers", id, "wait"]) => containers::wait(app, id.to_string(), &req).await,
        (Method::POST, ["containers", id, "attach"]) => containers::attach(app, id.to_string(), req).await,
        (Method::POST, ["containers", id, "exec"]) => containers::exec_create(app, id.to_string(), req).await,
        (Method::GET | Method::HEAD, ["containers", id, "archive"]) => archive::get(app, id.to_string(), &req).await,
        (Method::PUT, ["containers", id, "archive"]) => archive::put(app, id.to_string(), req).await,
        (Method::DELETE, ["containers", id]) => containers::remove(app, id.to_string(), &req).await,
        (Method::POST, ["exec", id, "start"]) => containers::exec_start(app, id.to_string(), req).await,
        (Method::POST, ["exec", id, "resize"]) => containers::exec_resize(app, id.to_string(), &req).await,
        (Method::GET, ["exec", id, "json"]) => containers::exec_inspect(app, id.to_string()).await,
        (Method::GET, ["networks"]) => objects::networks(app, &req).await,
        (Method::POST, ["networks", "create"]) => objects::network_create(app, req).await,
        (Method::POST, ["networks", "prune"]) => objects::network_prune(app).await,
        (Method::GET, ["networks", id]) => objects::network_inspect(app, id.to_string()).await,
        (Method::DELETE, ["networks", id]) => objects::network_remove(app, id.to_string()).await,
        (Method::POST, ["networks", id, "connect"]) => objects::network_connect(app, id.to_string(), req, true).await,
        (Method::POST, ["networks", id, "disconnect"]) => {
            objects::network_connect(app, id.to_string(), req, false).await
        }
        (Method::GET, ["volumes"]) => objects::volumes(app, &req).await,
        (Method::POST, ["volumes", "create"]) => objects::volume_create(app, req).await,
        (Method::POST, ["volumes", "prune"]) => objects::volume_prune(app).await,
        (Method::GET, ["volumes", name]) => objects::volume_inspect(app, name.to_string()).await,
        (Method::DELETE, ["volumes", name]) => objects::volume_remove(app, name.to_string(), &req).await,
        (Method::GET, ["images", "json"]) => images::list(app, &req).await,
        (Method::POST, ["images", "create"]) if req.q("fromSrc").is_some() => crate::commit::import(app, req).await,
        (Method::POST, ["images", "create"]) => images::create(app, &req).await,
        (Method::POST, ["commit"]) => crate::commit::commit(app, req).await,
        (Method::GET, ["containers", id, "changes"]) => crate::commit::changes(app, id.to_string()).await,
        (Method::GET, ["containers", id, "export"]) => crate::commit::export(app, id.to_string()).await,
        (Method::DELETE, ["images", name @ ..]) if !name.is_empty() => images::remove(app, name.join("/"), &req).await,
        (Method::POST, ["images", name @ .., "tag"]) if !name.is_empty() => {
            images::tag(app, name.join("/"), &req).await
        }
        (Method::GET, ["images", name @ .., "json"]) if !name.is_empty() => {
            images::inspect(app, name.join("/"), req.version).await
        }
        (Method::GET, ["images", name @ .., "history"]) if !name.is_empty() => {
            images::history(app, name.join("/")).await
        }
        (Method::POST, ["images", name @ .., "push"]) if !name.is_empty() => {
            images::push(app, name.join("/"), &req).await
        }
        (Method::GET, ["images", "get"]) => images::save(app, req.q_all("names")).await,
        (Method::GET, ["images", name @ .., "get"]) if !name.is_empty() => {
            images::save(app, vec![name.join("/")]).await
        }
        (Method::POST, ["images", "load"]) => images::load(app, req).await,
        (Method::POST, ["images", "prune"]) => images::prune(app).await,
        (Method::GET, ["images", "search"]) => Err(ApiError::new(
            hyper::StatusCode::NOT_IMPLEMENTED,
            "Hull does not search registries: name the image (REGISTRY/REPOSITORY:TAG) and pull it",
        )),
        (Method::POST, ["build"]) => crate::build::build(app, req).await,
        (Method::POST, ["build", "prune"]) => crate::build::prune(app).await,
        (_, ["session" | "grpc", ..]) => Err(ApiError::new(
            hyper::StatusCode::NOT_IMPLEMENTED,
            "BuildKit sessions are not supported by Hull (its builder is the legacy /build)",
        )),
        (_, ["swarm" | "services" | "nodes" | "tasks" | "secrets" | "configs", ..]) => Err(ApiError::new(
            hyper::StatusCode::SERVICE_UNAVAILABLE,
            "This node is not a swarm manager. Hull has no swarm mode: run services with docker compose instead.",
        )),
        (Method::GET, ["plugins"]) => Ok(crate::server::json(hyper::StatusCode::OK, &serde_json::json!([]))),
        (_, ["plugins" | "distribution", ..]) => Err(ApiError::new(
            hyper::StatusCode::NOT_IMPLEMENTED,
            "plugins and distribution inspection are not implemented by Hull",
        )),
        (_, ["containers" | "images" | "exec" | "networks" | "volumes", ..])
        | (_, ["_ping" | "version" | "info" | "events" | "auth" | "build"])
        | (_, ["system", "df"]) => {
            Err(ApiError::new(hyper::StatusCode::METHOD_NOT_ALLOWED, format!("{} is not allowed here", req.method)))
        }
        _ => Err(ApiError::not_found(format!("page not found: /{}", parts.join("/")))),
    }
}
