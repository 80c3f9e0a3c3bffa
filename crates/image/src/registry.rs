//! A client of the OCI distribution spec: pull and push with anonymous,
//! basic and bearer-token auth, on ureq (a small blocking HTTP client:
//! layers download in parallel on plain threads, which the CLI's
//! one-shot processes need no async runtime for).

use crate::digest::Digest;
use crate::manifest::{
    layer_compression, Descriptor, Index, Manifest, Platform, DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST,
};
use crate::reference::{Reference, DOCKER_HUB};
use crate::store::{Store, StoreError};
use base64::Engine;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The registry answered with an error status.
    #[error("{image}: {what}: registry answered {status} {body}")]
    Status {
        /// The image.
        image: String,
        /// What was being fetched or sent.
        what: String,
        /// HTTP status.
        status: u16,
        /// First line of the body.
        body: String,
    },
    /// The registry could not be reached.
    #[error("{image}: {what}: {reason}")]
    Transport {
        /// The image.
        image: String,
        /// What was being done.
        what: String,
        /// Why.
        reason: String,
    },
    /// Content failed verification or could not be stored.
    #[error("{image}: {source}")]
    Store {
        /// The image.
        image: String,
        /// Cause.
        source: StoreError,
    },
    /// The registry sent something Hull cannot use.
    #[error("{image}: {reason}")]
    Unsupported {
        /// The image.
        image: String,
        /// Why.
        reason: String,
    },
    /// Credentials are missing or wrong.
    #[error("{registry}: {reason}")]
    Auth {
        /// Registry.
        registry: String,
        /// Why.
        reason: String,
    },
    /// The caller cancelled the transfer.
    #[error("{image}: cancelled")]
    Cancelled {
        /// The image.
        image: String,
    },
}

type Result<T> = std::result::Result<T, RegistryError>;

const ACCEPT_MANIFESTS: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json";

/// Credentials per registry, read from (and written to) a docker
/// `config.json` (`auths.<registry>.auth` = base64 of `user:password`).
/// Also docker's credential helpers: `credsStore` (one helper for every
/// registry) and `credHelpers` (a helper per registry), each a
/// `docker-credential-NAME` program on PATH asked with `get`.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    path: Option<PathBuf>,
    auths: BTreeMap<String, (String, String)>,
    creds_store: Option<String>,
    cred_helpers: BTreeMap<String, String>,
}

impl Credentials {
    /// Reads `path` (a missing file means no credentials).
    pub fn load(path: &Path) -> Credentials {
        let mut c = Credentials { path: Some(path.to_path_buf()), ..Default::default() };
        let Ok(data) = std::fs::read(path) else { return c };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&data) else { return c };
        c.creds_store = v.get("credsStore").and_then(|s| s.as_str()).filter(|s| !s.is_empty()).map(String::from);
        for (reg, helper) in v.get("credHelpers").and_then(|a| a.as_object()).into_iter().flatten() {
            if let Some(h) = helper.as_str() {
                c.cred_helpers.insert(normalize_registry(reg), h.to_string());
            }
        }
        for (reg, entry) in v.get("auths").and_then(|a| a.as_object()).into_iter().flatten() {
            let Some(auth) = entry.get("auth").and_then(|a| a.as_str()) else { continue };
            let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(auth) else { continue };
            if let Some((u, p)) = String::from_utf8_lossy(&raw).split_once(':') {
                c.auths.insert(normalize_registry(reg), (u.to_string(), p.to_string()));
            }
        }
        c
    }

    /// The user and password for a registry: given for this request, in
    /// the file, or from the registry's credential helper.
    pub fn get(&self, registry: &str) -> Option<(String, String)> {
        if let Some(found) = self.auths.get(registry) {
            return Some(found.clone());
        }
        let helper = self.cred_helpers.get(registry).or(self.creds_store.as_ref())?;
        helper_get(helper, registry)
    }

    /// Uses `user` and `password` for `registry` (a request's own
    /// credentials, as docker's `X-Registry-Auth` carries them), ahead of
    /// the file's.
    pub fn insert(&mut self, registry: &str, user: &str, password: &str) {
        self.auths.insert(normalize_registry(registry), (user.to_string(), password.to_string()));
    }

    /// Stores (or with `None` removes) a registry's credentials in the file.
    pub fn save(&self, registry: &str, user_pass: Option<(&str, &str)>) -> std::io::Result<()> {
        let path = self.path.as_ref().ok_or_else(|| std::io::Error::other("no config file"))?;
        let mut v: serde_json::Value = std::fs::read(path)
            .ok()
            .and_then(|d| serde_json::from_slice(&d).ok())
            .unwrap_or_else(|| serde_json::json!({}));
        let obj = v.as_object_mut().ok_or_else(|| std::io::Error::other("config.json is not an object"))?;
        let auths = obj.entry("auths").or_insert_with(|| serde_json::json!({}));
        let auths = auths.as_object_mut().ok_or_else(|| std::io::Error::other("auths is not an object"))?;
        let key = if registry == DOCKER_HUB { "https://index.docker.io/v1/".to_string() } else { registry.to_string() };
        match user_pass {
            Some((u, p)) => {
                let auth = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
                auths.insert(key, serde_json::json!({ "auth": auth }));
            }
            None => {
                auths.remove(&key);
                auths.remove(registry);
            }
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(&v).unwrap_or_default())?;
        std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
        std::fs::rename(tmp, path)
    }
}

/// docker's credential-helper protocol: `docker-credential-NAME get` with
/// the server on stdin answers `{"Username": ..., "Secret": ...}`; a
/// helper that is missing or knows nothing gives no credentials.
fn helper_get(helper: &str, registry: &str) -> Option<(String, String)> {
    use std::io::Write;
    let server = if registry == DOCKER_HUB { "https://index.docker.io/v1/" } else { registry };
    // The server goes into a pipe before the helper starts: a helper that
    // exits without reading it cannot make us write to a closed pipe
    // (SIGPIPE would end a CLI that keeps the default disposition).
    let (r, w) = std::io::pipe().ok()?;
    let mut w = w;
    w.write_all(server.as_bytes()).ok()?;
    drop(w);
    let child = std::process::Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(r)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let user = v.get("Username")?.as_str()?.to_string();
    let secret = v.get("Secret")?.as_str()?.to_string();
    Some((user, secret))
}

/// A registry's name as credentials key it: `docker.io` for Docker Hub's
/// many spellings, else the host without scheme or path.
pub fn normalize_registry(r: &str) -> String {
    let r = r.trim_start_matches("https://").trim_start_matches("http://");
    let r = r.split('/').next().unwrap_or(r);
    if r == "index.docker.io" || r == "registry-1.docker.io" {
        DOCKER_HUB.to_string()
    } else {
        r.to_string()
    }
}

/// Progress of a pull, for the CLI to show.
#[derive(Debug, Clone)]
pub enum Progress {
    /// A layer to fetch (short id, total bytes): announced for every
    /// missing layer, in the manifest's order, before any download.
    Queued(String, u64),
    /// A layer started (short id, total bytes).
    Start(String, u64),
    /// Bytes of a layer so far.
    Bytes(String, u64),
    /// A layer is in the store.
    Done(String),
    /// A layer was already in the store.
    Exists(String),
}

/// The client.
pub struct Client {
    agent: ureq::Agent,
    creds: Credentials,
    insecure: Vec<String>,
    tokens: Mutex<BTreeMap<String, String>>,
    cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl Client {
    /// A client with these credentials; registries in `insecure` (and
    /// localhost) are spoken to over plain HTTP.
    pub fn new(creds: Credentials, insecure: Vec<String>) -> Client {
        let agent = ureq::AgentBuilder::new().redirects(5).build();
        Client { agent, creds, insecure, tokens: Mutex::new(BTreeMap::new()), cancel: None }
    }

    /// Stops a pull or push (between requests and within downloads) once
    /// `flag` is set: the call fails with [`RegistryError::Cancelled`] and
    /// tags nothing.
    pub fn cancelled_by(mut self, flag: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Client {
        self.cancel = Some(flag);
        self
    }

    fn check_cancelled(&self, r: &Reference) -> Result<()> {
        match &self.cancel {
            Some(f) if f.load(std::sync::atomic::Ordering::Relaxed) => {
                Err(RegistryError::Cancelled { image: r.to_string() })
            }
            _ => Ok(()),
        }
    }

    fn base(&self, registry: &str) -> String {
        let host = if registry == DOCKER_HUB { "registry-1.docker.io" } else { registry };
        let plain = self.insecure.iter().any(|i| i == registry)
            || host.starts_with("localhost")
            || host.starts_with("127.0.0.1")
            || host.starts_with("[::1]");
        format!("{}://{host}", if plain { "http" } else { "https" })
    }

    /// Sends a request, answering 401 challenges (basic or bearer) once.
    // ureq's error type is large; it is consumed right here, never stored.
    #[allow(clippy::result_large_err)]
    fn send(
        &self,
        r: &Reference,
        what: &str,
        scope: &str,
        build: &dyn Fn(&ureq::Agent) -> ureq::Request,
        body: Option<&[u8]>,
    ) -> Result<ureq::Response> {
        let image = r.to_string();
        let key = format!("{}|{scope}", r.registry);
        let call = |auth: Option<&str>| {
            let mut req = build(&self.agent);
            if let Some(a) = auth {
                req = req.set("Authorization", a);
            }
            match body {
                Some(b) => req.send_bytes(b),
                None => req.call(),
            }
        };
        let cached = self.tokens.lock().ok().and_then(|t| t.get(&key).cloned());
        let first = call(cached.as_deref());
        let resp = match first {
            Err(ureq::Error::Status(401, resp)) => {
                let challenge = resp.header("WWW-Authenticate").unwrap_or("").to_string();
                let auth = self.answer(r, &challenge, scope)?;
                if let Ok(mut t) = self.tokens.lock() {
                    t.insert(key, auth.clone());
                }
                call(Some(&auth))
            }
            other => other,
        };
        match resp {
            Ok(r) => Ok(r),
            Err(ureq::Error::Status(401, _)) => Err(RegistryError::Auth {
                registry: r.registry.clone(),
                reason: format!("{what}: authentication failed (check `hull login {}`)", r.registry),
            }),
            Err(ureq::Error::Status(status, resp)) => {
                let body = resp.into_string().unwrap_or_default();
                Err(RegistryError::Status {
                    image,
                    what: what.into(),
                    status,
                    body: body.lines().next().unwrap_or("").to_string(),
                })
            }
            Err(e) => Err(RegistryError::Transport { image, what: what.into(), reason: e.to_string() }),
        }
    }

    /// The Authorization header answering a WWW-Authenticate challenge.
    fn answer(&self, r: &Reference, challenge: &str, scope: &str) -> Result<String> {
        let basic = self
            .creds
            .get(&r.registry)
            .map(|(u, p)| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))));
        let auth_err = |reason: String| RegistryError::Auth { registry: r.registry.clone(), reason };
        if challenge.to_ascii_lowercase().starts_with("basic") {
            return basic.ok_or_else(|| auth_err(format!("authentication required; run `hull login {}`", r.registry)));
        }
        let Some(params) = challenge.strip_prefix("Bearer ").or_else(|| challenge.strip_prefix("bearer ")) else {
            return Err(auth_err(format!("unsupported authentication challenge {challenge:?}")));
        };
        let mut fields = BTreeMap::new();
        for part in split_params(params) {
            if let Some((k, v)) = part.split_once('=') {
                fields.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
            }
        }
        let realm = fields.get("realm").ok_or_else(|| auth_err("bearer challenge without a realm".into()))?;
        let mut req = self.agent.get(realm);
        if let Some(service) = fields.get("service") {
            req = req.query("service", service);
        }
        req = req.query("scope", fields.get("scope").map(String::as_str).unwrap_or(scope));
        if let Some(b) = &basic {
            req = req.set("Authorization", b);
        }
        let resp = req.call().map_err(|e| match e {
            ureq::Error::Status(401, _) | ureq::Error::Status(403, _) => {
                auth_err("the token server refused the credentials".into())
            }
            other => auth_err(format!("token request to {realm}: {other}")),
        })?;
        let v: serde_json::Value = resp.into_json().map_err(|e| auth_err(format!("token response: {e}")))?;
        let token = v.get("token").or_else(|| v.get("access_token")).and_then(|t| t.as_str());
        token.map(|t| format!("Bearer {t}")).ok_or_else(|| auth_err("token response without a token".into()))
    }

    /// Checks credentials against a registry (`hull login`).
    pub fn check_login(&self, registry: &str) -> Result<()> {
        let r = Reference { registry: registry.to_string(), repository: "library/x".into(), tag: None, digest: None };
        let url = format!("{}/v2/", self.base(registry));
        match self.agent.get(&url).call() {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(401, resp)) => {
                let challenge = resp.header("WWW-Authenticate").unwrap_or("").to_string();
                let auth = self.answer(&r, &challenge, "")?;
                match self.agent.get(&url).set("Authorization", &auth).call() {
                    Ok(_) => Ok(()),
                    Err(ureq::Error::Status(401, _)) => Err(RegistryError::Auth {
                        registry: registry.into(),
                        reason: "wrong user name or password".into(),
                    }),
                    Err(e) => Err(RegistryError::Transport {
                        image: registry.into(),
                        what: "login".into(),
                        reason: e.to_string(),
                    }),
                }
            }
            Err(e) => {
                Err(RegistryError::Transport { image: registry.into(), what: "login".into(), reason: e.to_string() })
            }
        }
    }

    fn fetch_manifest(&self, r: &Reference, reference: &str) -> Result<(Vec<u8>, String)> {
        let url = format!("{}/v2/{}/manifests/{reference}", self.base(&r.registry), r.repository);
        let scope = format!("repository:{}:pull", r.repository);
        let resp = self.send(
            r,
            &format!("manifest {reference}"),
            &scope,
            &|a| a.get(&url).set("Accept", ACCEPT_MANIFESTS),
            None,
        )?;
        let media_type = resp.content_type().to_string();
        let mut body = Vec::new();
        resp.into_reader().take(4 << 20).read_to_end(&mut body).map_err(|e| RegistryError::Transport {
            image: r.to_string(),
            what: format!("manifest {reference}"),
            reason: e.to_string(),
        })?;
        Ok((body, media_type))
    }

    /// Pulls an image into the store and tags it; returns what the tag
    /// points at. Nothing is tagged unless every blob arrived verified.
    pub fn pull(
        &self,
        store: &Store,
        r: &Reference,
        platform: &Platform,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<Digest> {
        let image = r.to_string();
        let store_err = |source| RegistryError::Store { image: image.clone(), source };
        let _lease = store.ingest_lease().map_err(store_err)?;
        let wanted =
            r.digest.as_ref().map(|d| d.to_string()).or_else(|| r.tag.clone()).unwrap_or_else(|| "latest".into());
        self.check_cancelled(r)?;
        let (body, header_type) = self.fetch_manifest(r, &wanted)?;
        let top = Digest::sha256(&body);
        if let Some(d) = &r.digest {
            if d != &top {
                return Err(RegistryError::Unsupported { image, reason: format!("manifest hashes to {top}, not {d}") });
            }
        }
        let media_type = media_type_of(&body, &header_type);
        // The tag points at the platform's manifest (the image this host runs),
        // as docker keeps it; the index stays in the store for digest pins.
        let mut image_digest = top.clone();
        let manifest_bytes = match media_type.as_str() {
            OCI_INDEX | DOCKER_LIST => {
                let index: Index = serde_json::from_slice(&body)
                    .map_err(|e| RegistryError::Unsupported { image: image.clone(), reason: format!("index: {e}") })?;
                let pick = index
                    .manifests
                    .iter()
                    .find(|m| m.platform.as_ref().is_some_and(|p| platform_matches(p, platform)))
                    .ok_or_else(|| RegistryError::Unsupported {
                        image: image.clone(),
                        reason: format!("no manifest for {}/{}", platform.os, platform.architecture),
                    })?;
                store.put_blob(&body[..], &top, None).map_err(store_err)?;
                let (child, _) = self.fetch_manifest(r, &pick.digest.to_string())?;
                store.put_blob(&child[..], &pick.digest, Some(pick.size)).map_err(store_err)?;
                image_digest = pick.digest.clone();
                child
            }
            OCI_MANIFEST | DOCKER_MANIFEST => {
                store.put_blob(&body[..], &top, None).map_err(store_err)?;
                body
            }
            other => {
                return Err(RegistryError::Unsupported {
                    image,
                    reason: format!("unknown manifest media type {other:?}"),
                })
            }
        };
        let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| RegistryError::Unsupported { image: image.clone(), reason: format!("manifest: {e}") })?;
        for l in &manifest.layers {
            if layer_compression(&l.media_type).is_none() {
                return Err(RegistryError::Unsupported {
                    image,
                    reason: format!("layer {}: unknown media type {:?}", l.digest, l.media_type),
                });
            }
        }
        self.fetch_blob(store, r, &manifest.config, &|_| {})?;
        self.fetch_layers(store, r, &manifest.layers, progress)?;
        self.check_cancelled(r)?;
        if r.tag.is_some() {
            let lock = store.lock().map_err(store_err)?;
            store.tag(r, &image_digest, &lock).map_err(store_err)?;
        }
        Ok(top)
    }

    fn fetch_layers(
        &self,
        store: &Store,
        r: &Reference,
        layers: &[Descriptor],
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<()> {
        // Announced in order (docker's "Pulling fs layer" lines), fetched in parallel.
        let missing: Vec<Descriptor> = layers.iter().filter(|l| !store.has_blob(&l.digest)).cloned().collect();
        for layer in layers {
            let id = layer.digest.hex()[..12].to_string();
            if missing.iter().any(|m| m.digest == layer.digest) {
                progress(Progress::Queued(id, layer.size));
            } else {
                progress(Progress::Exists(id));
            }
        }
        crate::parallel::try_for_each(&missing, 4, |layer| {
            let id = layer.digest.hex()[..12].to_string();
            progress(Progress::Start(id.clone(), layer.size));
            self.fetch_blob(store, r, layer, &|n| progress(Progress::Bytes(id.clone(), n)))?;
            progress(Progress::Done(id));
            Ok(())
        })
    }

    fn fetch_blob(&self, store: &Store, r: &Reference, d: &Descriptor, on_bytes: &dyn Fn(u64)) -> Result<()> {
        if store.has_blob(&d.digest) {
            return Ok(());
        }
        self.check_cancelled(r)?;
        let url = format!("{}/v2/{}/blobs/{}", self.base(&r.registry), r.repository, d.digest);
        let scope = format!("repository:{}:pull", r.repository);
        let resp = self.send(r, &format!("blob {}", d.digest), &scope, &|a| a.get(&url), None)?;
        let reader = Counting { inner: resp.into_reader(), count: 0, on_bytes, cancel: self.cancel.as_deref() };
        let put = store.put_blob(reader, &d.digest, Some(d.size));
        self.check_cancelled(r)?;
        put.map(drop).map_err(|source| RegistryError::Store { image: r.to_string(), source })
    }

    /// Pushes the image `target` (a manifest or index in the store) as `r`.
    pub fn push(&self, store: &Store, target: &Digest, r: &Reference) -> Result<()> {
        self.push_with(store, target, r, &|_, _| {})
    }

    /// [`Client::push`], telling `on_blob` about each layer before and after
    /// its upload, in the manifest's order (the config goes unannounced, as
    /// docker's does).
    pub fn push_with(
        &self,
        store: &Store,
        target: &Digest,
        r: &Reference,
        on_blob: &dyn Fn(&Digest, BlobPush),
    ) -> Result<()> {
        let image = r.to_string();
        let store_err = |source| RegistryError::Store { image: image.clone(), source };
        let is_index = store.is_index(target).map_err(store_err)?;
        let singles: Vec<Digest> = if is_index {
            store.index(target).map_err(store_err)?.manifests.into_iter().map(|m| m.digest).collect()
        } else {
            vec![target.clone()]
        };
        for m in &singles {
            let man = store.manifest(m).map_err(store_err)?;
            for blob in &man.layers {
                on_blob(&blob.digest, BlobPush::Preparing);
            }
            for blob in std::iter::once(&man.config).chain(man.layers.iter()) {
                let from = mount_source(store, r, &blob.digest);
                let done = self.push_blob(store, r, &blob.digest, from.as_deref())?;
                if blob.digest != man.config.digest {
                    on_blob(&blob.digest, done);
                }
            }
        }
        // Children of an index by digest first, then the tag.
        let children = if is_index { singles.clone() } else { Vec::new() };
        for m in children.iter().chain(std::iter::once(target)) {
            let body = store.read_blob(m).map_err(store_err)?;
            let media_type = media_type_of(&body, OCI_MANIFEST);
            let reference = if m == target { r.tag.clone().unwrap_or_else(|| m.to_string()) } else { m.to_string() };
            let url = format!("{}/v2/{}/manifests/{reference}", self.base(&r.registry), r.repository);
            let scope = format!("repository:{}:pull,push", r.repository);
            self.send(
                r,
                &format!("put manifest {reference}"),
                &scope,
                &|a| a.put(&url).set("Content-Type", &media_type),
                Some(&body),
            )?;
        }
        Ok(())
    }

    /// Uploads one blob unless the registry has it: a cross-repository
    /// mount when `mount_from` names a repository of the same registry that
    /// has it, else one PUT for small blobs and PATCH chunks for big ones.
    fn push_blob(&self, store: &Store, r: &Reference, d: &Digest, mount_from: Option<&str>) -> Result<BlobPush> {
        let base = self.base(&r.registry);
        let scope = match mount_from {
            Some(from) => format!("repository:{}:pull,push repository:{from}:pull", r.repository),
            None => format!("repository:{}:pull,push", r.repository),
        };
        let head = format!("{base}/v2/{}/blobs/{d}", r.repository);
        match self.send(r, &format!("check blob {d}"), &scope, &|a| a.head(&head), None) {
            Ok(_) => return Ok(BlobPush::Exists),
            Err(RegistryError::Status { status: 404, .. }) => {}
            Err(e) => return Err(e),
        }
        let start = match mount_from {
            Some(from) => format!("{base}/v2/{}/blobs/uploads/?mount={d}&from={from}", r.repository),
            None => format!("{base}/v2/{}/blobs/uploads/", r.repository),
        };
        let resp = self.send(r, &format!("start upload of {d}"), &scope, &|a| a.post(&start), Some(&[]))?;
        if resp.status() == 201 {
            return Ok(BlobPush::Mounted(mount_from.unwrap_or_default().to_string()));
        }
        let absolute = |loc: &str| if loc.starts_with("http") { loc.to_string() } else { format!("{base}{loc}") };
        let mut location = absolute(resp.header("Location").unwrap_or(""));
        let data = store.read_blob(d).map_err(|source| RegistryError::Store { image: r.to_string(), source })?;
        const CHUNK: usize = 16 << 20;
        let mut rest: &[u8] = &data;
        let mut offset = 0usize;
        if data.len() > CHUNK {
            while rest.len() > CHUNK {
                let (chunk, tail) = rest.split_at(CHUNK);
                let range = format!("{offset}-{}", offset + chunk.len() - 1);
                let loc = location.clone();
                let resp = self.send(
                    r,
                    &format!("upload chunk {range} of {d}"),
                    &scope,
                    &|a| {
                        a.request("PATCH", &loc)
                            .set("Content-Type", "application/octet-stream")
                            .set("Content-Range", &range)
                    },
                    Some(chunk),
                )?;
                location = absolute(resp.header("Location").unwrap_or(&location));
                offset += chunk.len();
                rest = tail;
            }
        }
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = format!("{location}{sep}digest={d}");
        self.send(
            r,
            &format!("upload blob {d}"),
            &scope,
            &|a| a.put(&put).set("Content-Type", "application/octet-stream"),
            Some(rest),
        )?;
        Ok(BlobPush::Pushed(data.len() as u64))
    }
}

/// What became of one blob of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobPush {
    /// About to be checked and sent.
    Preparing,
    /// The registry had it.
    Exists,
    /// Mounted from this repository of the same registry.
    Mounted(String),
    /// Uploaded, this many bytes.
    Pushed(u64),
}

impl BlobPush {
    /// docker's words for it in a push's progress.
    pub fn docker_status(&self) -> String {
        match self {
            BlobPush::Preparing => "Preparing".into(),
            BlobPush::Exists => "Layer already exists".into(),
            BlobPush::Mounted(from) => format!("Mounted from {from}"),
            BlobPush::Pushed(_) => "Pushed".into(),
        }
    }
}

/// Another repository of the same registry, tagged in our store, whose
/// image holds the blob: a candidate for a cross-repository mount.
fn mount_source(store: &Store, r: &Reference, d: &Digest) -> Option<String> {
    let tags = store.tags().ok()?;
    tags.iter().find_map(|(t, m)| {
        let other: Reference = t.parse().ok()?;
        if other.registry != r.registry || other.repository == r.repository {
            return None;
        }
        let man = store.manifest(m).ok()?;
        let has = man.config.digest == *d || man.layers.iter().any(|l| l.digest == *d);
        has.then_some(other.repository)
    })
}

/// Splits `a="x,y",b=z` at commas outside quotes.
fn split_params(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in s.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn media_type_of(body: &[u8], header: &str) -> String {
    let from_body = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("mediaType").and_then(|m| m.as_str()).map(String::from));
    from_body.unwrap_or_else(|| header.split(';').next().unwrap_or("").trim().to_string())
}

fn platform_matches(p: &Platform, want: &Platform) -> bool {
    p.os == want.os && p.architecture == want.architecture && (want.variant.is_none() || p.variant == want.variant)
}

struct Counting<'a, R> {
    inner: R,
    count: u64,
    on_bytes: &'a dyn Fn(u64),
    cancel: Option<&'a std::sync::atomic::AtomicBool>,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed)) {
            return Err(std::io::Error::new(std::io::ErrorKind::Interrupted, "cancelled"));
        }
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        (self.on_bytes)(self.count);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_params_and_credentials() {
        let p =
            split_params(r#"realm="https://auth.example/token",service="registry",scope="repository:a/b:pull,push""#);
        assert_eq!(p.len(), 3);
        assert!(p[2].ends_with(r#"pull,push""#));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        let c = Credentials::load(&path);
        c.save("localhost:5000", Some(("alice", "s3cret"))).unwrap();
        let c = Credentials::load(&path);
        assert_eq!(c.get("localhost:5000"), Some(("alice".to_string(), "s3cret".to_string())));
        c.save("localhost:5000", None).unwrap();
        assert!(Credentials::load(&path).get("localhost:5000").is_none());
    }
}
