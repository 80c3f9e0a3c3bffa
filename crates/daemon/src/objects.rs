//! `/networks/...` and `/volumes/...` (what Compose makes before its
//! containers), over the engine's network and volume verbs.

use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use crate::server::{blocking, json, status, App, Req};
use hyper::{Response, StatusCode};
use serde_json::{json as j, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

pub async fn networks(app: Arc<App>, req: &Req) -> ApiResult<Response<Body>> {
    let filters = hull_engine::filters::Filters::from_json(
        req.q("filters").unwrap_or(""),
        &["name", "id", "label", "driver", "type", "scope", "dangling"],
    )?;
    let out = blocking(move || {
        let mut out = Vec::new();
        for n in app.engine.networks()? {
            let name_ok =
                filters.get("name").is_empty() || filters.get("name").iter().any(|f| n.name.contains(f.as_str()));
            let id_ok = filters.get("id").is_empty() || filters.get("id").iter().any(|f| n.id.starts_with(f.as_str()));
            if name_ok && id_ok && filters.labels_match(&n.labels) {
                out.push(app.engine.inspect_network(&n)?);
            }
        }
        Ok(out)
    })
    .await?;
    Ok(json(StatusCode::OK, &out))
}

pub async fn network_inspect(app: Arc<App>, key: String) -> ApiResult<Response<Body>> {
    let v = blocking(move || Ok(app.engine.inspect_network(&app.engine.network(&key)?)?)).await?;
    Ok(json(StatusCode::OK, &v))
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct NetworkBody {
    name: String,
    driver: String,
    internal: bool,
    #[serde(rename = "EnableIPv6")]
    enable_ipv6: Option<bool>,
    labels: Option<BTreeMap<String, String>>,
    options: Option<BTreeMap<String, String>>,
    #[serde(rename = "IPAM")]
    ipam: Option<Ipam>,
    check_duplicate: bool,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct Ipam {
    config: Option<Vec<IpamConfig>>,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct IpamConfig {
    subnet: String,
    gateway: String,
    #[serde(rename = "IPRange")]
    ip_range: String,
}

pub async fn network_create(app: Arc<App>, mut req: Req) -> ApiResult<Response<Body>> {
    let b: NetworkBody = req.json().await?;
    let _ = b.check_duplicate;
    if b.name.is_empty() {
        return Err(ApiError::bad_request("a network needs a Name"));
    }
    let driver = if b.driver.is_empty() { "bridge" } else { b.driver.as_str() };
    let driver = driver.parse().map_err(|e: hull_network::NetError| ApiError::bad_request(e.to_string()))?;
    let mut create = hull_engine::NetworkCreate {
        name: b.name,
        driver,
        internal: b.internal,
        ipv6: b.enable_ipv6.unwrap_or(false),
        labels: b.labels.unwrap_or_default(),
        options: b.options.unwrap_or_default(),
        ..Default::default()
    };
    for c in b.ipam.and_then(|i| i.config).unwrap_or_default() {
        let bad = |e: hull_network::NetError| ApiError::bad_request(e.to_string());
        if !c.subnet.is_empty() {
            create.subnets.push(hull_network::subnet::Subnet::parse(&c.subnet).map_err(bad)?);
        }
        if !c.ip_range.is_empty() {
            create.ip_ranges.push(hull_network::subnet::Subnet::parse(&c.ip_range).map_err(bad)?);
        }
        if !c.gateway.is_empty() {
            create.gateways.push(
                c.gateway.parse().map_err(|_| ApiError::bad_request(format!("invalid gateway {:?}", c.gateway)))?,
            );
        }
    }
    let n = blocking(move || Ok(app.engine.network_create(create)?)).await?;
    Ok(json(StatusCode::CREATED, &j!({"Id": n.id, "Warning": ""})))
}

pub async fn network_remove(app: Arc<App>, key: String) -> ApiResult<Response<Body>> {
    blocking(move || {
        app.engine.network_remove(&key)?;
        Ok(status(StatusCode::NO_CONTENT))
    })
    .await
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct ConnectBody {
    container: String,
    endpoint_config: Option<crate::convert::EndpointBody>,
    force: bool,
}

pub async fn network_connect(app: Arc<App>, key: String, mut req: Req, connect: bool) -> ApiResult<Response<Body>> {
    let b: ConnectBody = req.json().await?;
    let _ = b.force;
    blocking(move || {
        if connect {
            let ep = b.endpoint_config.unwrap_or_default();
            let mut ips = Vec::new();
            if let Some(ipam) = ep.ipam_config {
                for ip in [ipam.ipv4, ipam.ipv6].into_iter().filter(|s| !s.is_empty()) {
                    ips.push(ip.parse().map_err(|_| ApiError::bad_request(format!("invalid IP address {ip:?}")))?);
                }
            }
            app.engine.network_connect(&key, &b.container, ep.aliases.unwrap_or_default(), ips)?;
        } else {
            app.engine.network_disconnect(&key, &b.container)?;
        }
        Ok(status(StatusCode::OK))
    })
    .await
}

pub async fn network_prune(app: Arc<App>) -> ApiResult<Response<Body>> {
    let gone = blocking(move || Ok(app.engine.network_prune()?)).await?;
    Ok(json(StatusCode::OK, &j!({"NetworksDeleted": gone})))
}

pub fn volume_json(v: &hull_engine::volumes::Volume) -> Value {
    j!({"Name": v.name, "Driver": v.driver, "Mountpoint": v.mountpoint, "CreatedAt": v.created_at,
        "Labels": v.labels, "Scope": v.scope, "Options": {}})
}

pub async fn volumes(app: Arc<App>, req: &Req) -> ApiResult<Response<Body>> {
    let filters = hull_engine::filters::Filters::from_json(
        req.q("filters").unwrap_or(""),
        &["name", "label", "driver", "dangling"],
    )?;
    let out = blocking(move || {
        let mut out = Vec::new();
        for v in app.engine.volume_list()? {
            let name_ok =
                filters.get("name").is_empty() || filters.get("name").iter().any(|f| v.name.contains(f.as_str()));
            let dangling_ok = match filters.get("dangling").first().map(String::as_str) {
                Some("true" | "1") => app.engine.volume_users(&v.name)?.is_empty(),
                Some("false" | "0") => !app.engine.volume_users(&v.name)?.is_empty(),
                _ => true,
            };
            if name_ok && dangling_ok && filters.labels_match(&v.labels) {
                out.push(volume_json(&v));
            }
        }
        Ok(out)
    })
    .await?;
    Ok(json(StatusCode::OK, &j!({"Volumes": out, "Warnings": []})))
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct VolumeBody {
    name: String,
    driver: String,
    labels: Option<BTreeMap<String, String>>,
}

pub async fn volume_create(app: Arc<App>, mut req: Req) -> ApiResult<Response<Body>> {
    let b: VolumeBody = req.json().await?;
    if !b.driver.is_empty() && b.driver != "local" {
        return Err(ApiError::bad_request(format!("volume driver {:?} is not supported: Hull has local", b.driver)));
    }
    let name = if b.name.is_empty() {
        hull_engine::names::new_id().map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
    } else {
        b.name
    };
    let v = blocking(move || Ok(app.engine.volume_create(&name, b.labels.unwrap_or_default())?.0)).await?;
    Ok(json(StatusCode::CREATED, &volume_json(&v)))
}

pub async fn volume_inspect(app: Arc<App>, name: String) -> ApiResult<Response<Body>> {
    let v = blocking(move || Ok(app.engine.volume_inspect(&name)?)).await?;
    Ok(json(StatusCode::OK, &volume_json(&v)))
}

pub async fn volume_remove(app: Arc<App>, name: String, req: &Req) -> ApiResult<Response<Body>> {
    let force = req.flag("force");
    blocking(move || {
        app.engine.volume_remove(&name, force)?;
        Ok(status(StatusCode::NO_CONTENT))
    })
    .await
}

pub async fn volume_prune(app: Arc<App>) -> ApiResult<Response<Body>> {
    let gone = blocking(move || Ok(app.engine.volume_prune()?)).await?;
    Ok(json(StatusCode::OK, &j!({"VolumesDeleted": gone, "SpaceReclaimed": 0})))
}
