//! HTTP/1.1 on unix sockets: every connection served by hyper, every
//! request routed by method and path once the `/vX.Y` prefix is taken off
//! (unversioned paths are the newest version), with docker's headers on
//! every answer. Engine calls block: they run on tokio's blocking pool.

use crate::body::Body;
use crate::error::{ApiError, ApiResult};
use bytes::Bytes;
use http_body_util::BodyExt;
use hull_engine::Engine;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The newest API version Hull speaks (docker CLI 28.2's).
pub const API_VERSION: &str = "1.50";
/// The oldest it accepts.
pub const MIN_API_VERSION: &str = "1.24";

/// What every handler gets.
pub struct App {
    pub engine: Arc<Engine>,
    /// Clients attached to containers not started yet, by container id.
    pub pending_attach: std::sync::Mutex<std::collections::HashMap<String, crate::containers::PendingAttach>>,
    /// docker's exec instances, by exec id.
    pub execs: std::sync::Mutex<std::collections::HashMap<String, crate::containers::ExecInstance>>,
    /// The cgroup parent of containers that name none.
    pub cgroup_parent: Option<String>,
    /// The log driver and options of containers that name none.
    pub default_log: Option<(String, std::collections::BTreeMap<String, String>)>,
}

/// A request, taken apart.
pub struct Req {
    pub method: Method,
    /// The path without the version prefix, split at `/` (percent-decoded).
    pub parts: Vec<String>,
    pub query: BTreeMap<String, String>,
    /// The query as sent (for keys given more than once).
    pub raw_query: String,
    pub headers: hyper::HeaderMap,
    /// The API version the client asked for (the newest when none): the
    /// version-dependent fields read it.
    pub version: (u32, u32),
    /// Shared with [`serve`], which drains what no handler read.
    body: Arc<std::sync::Mutex<Option<Incoming>>>,
    upgrade: Option<hyper::upgrade::OnUpgrade>,
}

impl Req {
    /// A query parameter.
    pub fn q(&self, k: &str) -> Option<&str> {
        self.query.get(k).map(String::as_str)
    }

    /// Every value of a parameter given more than once (`names=a&names=b`).
    pub fn q_all(&self, k: &str) -> Vec<String> {
        self.raw_query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .filter(|(key, _)| percent_decode(key) == k)
            .map(|(_, v)| percent_decode(v))
            .collect()
    }

    /// A boolean query parameter as docker reads them (`1`, `true`; absent or
    /// `0`/`false` is false).
    pub fn flag(&self, k: &str) -> bool {
        self.bool_or(k, false)
    }

    /// A boolean parameter by docker's rule (`BoolValueOrDefault`): absent
    /// or empty is `default`; "0", "no", "false" and "none", in any case,
    /// are false (docker-py sends Python's `False`); anything else true.
    pub fn bool_or(&self, k: &str, default: bool) -> bool {
        match self.q(k) {
            None | Some("") => default,
            Some(v) => !["0", "no", "false", "none"].iter().any(|f| v.eq_ignore_ascii_case(f)),
        }
    }

    /// The whole body (bounded), as JSON of type `T` (an empty body is `{}`).
    pub async fn json<T: serde::de::DeserializeOwned>(&mut self) -> ApiResult<T> {
        let bytes = self.bytes().await?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &bytes };
        serde_json::from_slice(text)
            .map_err(|e| ApiError::bad_request(format!("invalid JSON in the request body: {e}")))
    }

    /// The connection once the 101 answer is out (attach, exec start).
    pub fn take_upgrade(&mut self) -> ApiResult<hyper::upgrade::OnUpgrade> {
        self.upgrade.take().ok_or_else(|| ApiError::bad_request("this endpoint upgrades the connection"))
    }

    fn take_body(&mut self) -> Option<Incoming> {
        self.body.lock().ok().and_then(|mut b| b.take())
    }

    /// The body as a blocking reader, for an engine call on the blocking
    /// pool (archives and images of any size, never held whole).
    pub fn reader(&mut self) -> crate::body::BodyReader {
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(16);
        if let Some(mut body) = self.take_body() {
            tokio::spawn(async move {
                while let Some(frame) = body.frame().await {
                    let chunk = match frame.map(|f| f.into_data()) {
                        Ok(Ok(d)) => Ok(d),
                        Ok(Err(_trailers)) => continue,
                        Err(e) => Err(std::io::Error::other(format!("read the request body: {e}"))),
                    };
                    let failed = chunk.is_err();
                    if tx.send(chunk).await.is_err() || failed {
                        break;
                    }
                }
            });
        }
        crate::body::BodyReader::new(rx)
    }

    pub async fn bytes(&mut self) -> ApiResult<Bytes> {
        const MAX: usize = 32 << 20;
        let Some(body) = self.take_body() else { return Ok(Bytes::new()) };
        let limited = http_body_util::Limited::new(body, MAX);
        limited.collect().await.map(|c| c.to_bytes()).map_err(|e| {
            if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the request body is larger than {} MiB: no JSON request needs that", MAX >> 20),
                )
            } else {
                ApiError::bad_request(format!("read the request body: {e}"))
            }
        })
    }
}

/// Runs a blocking engine call on the blocking pool.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("handler failed: {e}"))))
}

/// A JSON answer.
pub fn json<T: serde::Serialize + ?Sized>(status: StatusCode, v: &T) -> Response<Body> {
    let text = serde_json::to_string(v).unwrap_or_else(|e| format!("{{\"message\":\"encoding the answer: {e}\"}}"));
    Response::builder()
        .status(status)
        .header("Content-Type", "application/json")
        .body(Body::full(text + "\n"))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// A 200 with `body` (whole or streamed) of `content_type`.
pub fn ok_with(content_type: &str, body: Body) -> Response<Body> {
    Response::builder()
        .status(StatusCode::OK)
        .header("Content-Type", content_type)
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

/// An empty answer.
pub fn status(status: StatusCode) -> Response<Body> {
    Response::builder().status(status).body(Body::empty()).unwrap_or_else(|_| Response::new(Body::empty()))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex =
            b.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b[i], hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (c, _) => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `a=1&b=x%20y` as a map (the last of repeated keys wins; docker's
/// repeated keys are JSON in one parameter).
pub fn parse_query(q: Option<&str>) -> BTreeMap<String, String> {
    q.unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(kv), String::new()),
        })
        .collect()
}

/// `/v1.44/containers/json` → (1.44, `/containers/json`).
pub fn split_version(path: &str) -> ApiResult<((u32, u32), &str)> {
    let newest = parse_version(API_VERSION).unwrap_or((1, 50));
    let Some(rest) = path.strip_prefix("/v") else { return Ok((newest, path)) };
    let v = rest.split('/').next().unwrap_or(rest);
    let Some(version) = parse_version(v) else { return Ok((newest, path)) };
    let min = parse_version(MIN_API_VERSION).unwrap_or((1, 24));
    if version < min {
        return Err(ApiError::bad_request(format!(
            "client version {v} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
        )));
    }
    if version > newest {
        return Err(ApiError::bad_request(format!(
            "client version {v} is too new. Maximum supported API version is {API_VERSION}"
        )));
    }
    Ok((version, &rest[v.len()..]))
}

fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// Reads and drops a request body, up to 256 MiB and 30 s (past that the
/// connection closes, as it would without this).
async fn drain(mut body: Incoming) {
    let work = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, |d| d.len());
            if seen > 256 << 20 {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(std::time::Duration::from_secs(30), work).await;
}

/// Serves one request.
pub async fn serve(app: Arc<App>, req: Request<Incoming>) -> Result<Response<Body>, std::convert::Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let mut resp = match split_version(&path) {
        Err(e) => e.into_response(),
        Ok((version, rest)) => {
            let parts: Vec<String> = rest.split('/').filter(|p| !p.is_empty()).map(percent_decode).collect();
            let query = parse_query(req.uri().query());
            let raw_query = req.uri().query().unwrap_or("").to_string();
            let (mut head, body) = req.into_parts();
            let upgrade = head.extensions.remove::<hyper::upgrade::OnUpgrade>();
            let slot = Arc::new(std::sync::Mutex::new(Some(body)));
            let r = Req {
                method: method.clone(),
                parts,
                query,
                raw_query,
                headers: head.headers,
                version,
                body: slot.clone(),
                upgrade,
            };
            let resp = match crate::routes::route(app, r).await {
                Ok(resp) => resp,
                Err(e) => {
                    if e.status.is_server_error() {
                        tracing::warn!("{method} {path}: {}", e.message);
                    }
                    e.into_response()
                }
            };
            // A body no handler read (a refused /build context, swarm init's
            // JSON) is read to its end first: answering while the client
            // still writes would break its pipe before it sees the answer.
            let rest = slot.lock().ok().and_then(|mut b| b.take());
            if let Some(body) = rest {
                drain(body).await;
            }
            resp
        }
    };
    let h = resp.headers_mut();
    h.insert("Api-Version", hyper::header::HeaderValue::from_static(API_VERSION));
    h.insert(
        "Server",
        hyper::header::HeaderValue::from_static(concat!("Hull/", env!("CARGO_PKG_VERSION"), " (linux)")),
    );
    h.insert("Ostype", hyper::header::HeaderValue::from_static("linux"));
    tracing::debug!("{method} {path} -> {}", resp.status());
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_queries() {
        assert_eq!(split_version("/v1.44/containers/json").unwrap(), ((1, 44), "/containers/json"));
        assert_eq!(split_version("/_ping").unwrap(), ((1, 50), "/_ping"));
        assert_eq!(split_version("/v1.50/_ping").unwrap().1, "/_ping");
        assert!(split_version("/v1.12/info").unwrap_err().message.contains("too old"));
        assert!(split_version("/v1.99/info").unwrap_err().message.contains("too new"));
        let q = parse_query(Some("all=1&filters=%7B%22label%22%3A%5B%22a%3Db%22%5D%7D&name=x+y"));
        assert_eq!(q["filters"], r#"{"label":["a=b"]}"#);
        assert_eq!(q["name"], "x y");
        assert_eq!(percent_decode("100%"), "100%");
    }
}
