//! Pulling images, for every front end: the CLI's `pull` and `run`'s
//! implicit pull, the Docker API's `POST /images/create`, CRI's PullImage.
//! The platform is the host's unless asked; credentials come with the
//! request (docker's `X-Registry-Auth`, CRI's `AuthConfig`) or from the
//! engine's credentials file and its credential helpers; progress goes to
//! a callback, and a flag cancels the transfer. The layers are unpacked
//! before it returns (as docker and podman do), and the `pull` event says
//! so.

use crate::error::{EngineError, Result};
use crate::Engine;
use hull_image::manifest::Platform;
use hull_image::reference::Reference;
use hull_image::registry::{Client, Credentials, Progress};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// A registry user's credentials, as docker's `AuthConfig` carries them.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistryAuth {
    /// User name.
    #[serde(default, alias = "Username")]
    pub username: String,
    /// Password (or a token the registry takes as one).
    #[serde(default, alias = "Password")]
    pub password: String,
    /// The registry they are for (docker's `serveraddress`); the image's
    /// registry when empty.
    #[serde(default, alias = "ServerAddress", alias = "serveraddress")]
    pub server_address: String,
}

impl RegistryAuth {
    /// docker's `X-Registry-Auth` header: base64url (padded or not) of the
    /// JSON `AuthConfig`. An empty header, or `{}`, is no credentials.
    pub fn from_header(value: &str) -> Result<Option<RegistryAuth>> {
        use base64::Engine as _;
        let value = value.trim();
        if value.is_empty() {
            return Ok(None);
        }
        let bad = || EngineError::Invalid("invalid X-Registry-Auth header: want base64url of a JSON AuthConfig".into());
        let trimmed = value.trim_end_matches('=');
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(trimmed)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
            .map_err(|_| bad())?;
        let auth: RegistryAuth = serde_json::from_slice(&raw).map_err(|_| bad())?;
        Ok((auth != RegistryAuth::default()).then_some(auth))
    }
}

impl RegistryAuth {
    /// docker's `X-Registry-Config` header (what `docker build` sends):
    /// base64 of a JSON map from registry to `AuthConfig`.
    pub fn map_from_config_header(value: &str) -> Result<std::collections::BTreeMap<String, RegistryAuth>> {
        use base64::Engine as _;
        let value = value.trim();
        if value.is_empty() {
            return Ok(Default::default());
        }
        let bad = || {
            EngineError::Invalid("invalid X-Registry-Config header: want base64 of a JSON map of AuthConfigs".into())
        };
        let trimmed = value.trim_end_matches('=');
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(trimmed)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed))
            .map_err(|_| bad())?;
        serde_json::from_slice(&raw).map_err(|_| bad())
    }

    /// The credentials of `map` (keys as docker writes them: `host:port`,
    /// `https://index.docker.io/v1/`) for `registry`.
    pub fn for_registry(
        map: &std::collections::BTreeMap<String, RegistryAuth>,
        registry: &str,
    ) -> Option<RegistryAuth> {
        let host = |k: &str| {
            let k = k.trim_start_matches("https://").trim_start_matches("http://");
            let k = k.split('/').next().unwrap_or(k).to_string();
            if k == "index.docker.io" || k == "registry-1.docker.io" {
                "docker.io".to_string()
            } else {
                k
            }
        };
        map.iter()
            .find(|(k, _)| host(k) == host(registry))
            .map(|(_, a)| a.clone())
            .filter(|a| *a != RegistryAuth::default())
    }
}

/// Where registries are and how to reach them.
#[derive(Debug, Clone, Default)]
pub struct RegistryConfig {
    /// Registries spoken to over plain HTTP (localhost always is).
    pub insecure: Vec<String>,
    /// docker's `config.json` with `auths`, `credsStore`, `credHelpers`.
    pub credentials: Option<std::path::PathBuf>,
}

impl RegistryConfig {
    /// The registries `$HULL_INSECURE_REGISTRIES` names (comma-separated).
    pub fn insecure_from_env() -> Vec<String> {
        let insecure = std::env::var("HULL_INSECURE_REGISTRIES").unwrap_or_default();
        insecure.split(',').filter(|s| !s.is_empty()).map(String::from).collect()
    }
}

/// A pull.
#[derive(Default)]
pub struct PullRequest<'a> {
    /// The image (`busybox`, `registry:5000/app@sha256:...`).
    pub reference: String,
    /// `os/arch[/variant]`; the host's when `None`.
    pub platform: Option<String>,
    /// The request's own credentials, ahead of the configured ones.
    pub auth: Option<RegistryAuth>,
    /// Called as layers are queued, fetched and stored.
    pub progress: Option<&'a (dyn Fn(Progress) + Sync)>,
    /// Set to stop the pull (it then tags nothing).
    pub cancel: Option<Arc<AtomicBool>>,
}

/// What a pull did.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The reference, normalised (`docker.io/library/busybox:latest`).
    pub reference: String,
    /// The digest of what the registry served (manifest or index).
    pub digest: String,
    /// The image id (its config's digest).
    pub image_id: String,
    /// Whether the name now means something it did not before the pull.
    pub updated: bool,
}

/// The host's platform in OCI's (Go's) names.
pub fn host_platform() -> Platform {
    let (arch, variant) = match std::env::consts::ARCH {
        "x86_64" => ("amd64", None),
        "aarch64" => ("arm64", None),
        "arm" => ("arm", Some("v7")),
        "x86" => ("386", None),
        "powerpc64" => ("ppc64le", None),
        "loongarch64" => ("loong64", None),
        other => (other, None),
    };
    Platform { os: "linux".into(), architecture: arch.into(), variant: variant.map(String::from) }
}

/// `os/arch[/variant]` (docker's `--platform`).
pub fn parse_platform(s: &str) -> Result<Platform> {
    let parts: Vec<&str> = s.split('/').collect();
    let p = |os: &str, arch: &str, v: Option<&str>| Platform {
        os: os.to_ascii_lowercase(),
        architecture: arch.to_ascii_lowercase(),
        variant: v.map(str::to_ascii_lowercase),
    };
    match parts.as_slice() {
        [os, arch] if !os.is_empty() && !arch.is_empty() => Ok(p(os, arch, None)),
        [os, arch, v] if !os.is_empty() && !arch.is_empty() && !v.is_empty() => Ok(p(os, arch, Some(v))),
        _ => Err(EngineError::Invalid(format!("invalid platform {s:?}: want os/arch[/variant]"))),
    }
}

impl Engine {
    /// A registry client for `r`: the engine's credentials file (and its
    /// helpers), with the request's own credentials over it.
    pub(crate) fn registry_client(&self, r: &Reference, auth: Option<&RegistryAuth>) -> Client {
        let reg = &self.cfg.registries;
        let mut creds = reg.credentials.as_deref().map(Credentials::load).unwrap_or_default();
        if let Some(a) = auth {
            let server = if a.server_address.is_empty() { r.registry.clone() } else { a.server_address.clone() };
            creds.insert(&server, &a.username, &a.password);
        }
        Client::new(creds, reg.insecure.clone())
    }

    /// Checks credentials against a registry (docker's `/auth`, `login`);
    /// its address is `auth.server_address`, docker's hub when empty.
    pub fn check_login(&self, auth: &RegistryAuth) -> Result<()> {
        let server = match auth.server_address.trim() {
            "" => hull_image::reference::DOCKER_HUB.to_string(),
            s => s.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/').to_string(),
        };
        let server =
            if server == "index.docker.io/v1" { hull_image::reference::DOCKER_HUB.to_string() } else { server };
        let mut creds = Credentials::default();
        creds.insert(&server, &auth.username, &auth.password);
        Client::new(creds, self.cfg.registries.insecure.clone()).check_login(&server)?;
        Ok(())
    }

    /// Pulls an image (see the module's comment).
    pub fn pull(&self, req: PullRequest) -> Result<Pulled> {
        let r: Reference = req.reference.parse().map_err(hull_image::images::ImageError::from)?;
        let platform = match &req.platform {
            Some(p) if !p.is_empty() => parse_platform(p)?,
            _ => host_platform(),
        };
        let mut client = self.registry_client(&r, req.auth.as_ref());
        if let Some(flag) = req.cancel.clone() {
            client = client.cancelled_by(flag);
        }
        let before =
            self.images.store.tags().map_err(hull_image::images::ImageError::from)?.get(&r.to_string()).cloned();
        let quiet = |_: Progress| {};
        let progress = req.progress.unwrap_or(&quiet);
        let digest = client.pull(&self.images.store, &r, &platform, progress)?;
        let img = self.images.resolve(&r.to_string())?;
        self.images.layers(&img)?;
        let name = r.to_string();
        self.emit("image", "pull", &name, [("name".to_string(), name.clone())].into());
        Ok(Pulled {
            reference: name,
            digest: digest.to_string(),
            image_id: img.id.to_string(),
            updated: before.as_ref() != Some(&img.target),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms() {
        let host = host_platform();
        assert_eq!(host.os, "linux");
        #[cfg(target_arch = "x86_64")]
        assert_eq!(host.architecture, "amd64");
        let p = parse_platform("linux/arm64/v8").unwrap();
        assert_eq!((p.architecture.as_str(), p.variant.as_deref()), ("arm64", Some("v8")));
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d"] {
            assert!(parse_platform(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn registry_auth_headers_as_docker_sends_them() {
        use base64::Engine as _;
        let json = r#"{"username":"u","password":"p+/=","serveraddress":"localhost:5000"}"#;
        for enc in [
            base64::engine::general_purpose::URL_SAFE.encode(json),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json),
            base64::engine::general_purpose::STANDARD.encode(json),
        ] {
            let a = RegistryAuth::from_header(&enc).unwrap().unwrap();
            assert_eq!((a.username.as_str(), a.password.as_str()), ("u", "p+/="));
            assert_eq!(a.server_address, "localhost:5000");
        }
        let go = base64::engine::general_purpose::URL_SAFE.encode(r#"{"Username":"u","Password":"p"}"#);
        assert_eq!(RegistryAuth::from_header(&go).unwrap().unwrap().password, "p");
        assert!(RegistryAuth::from_header("").unwrap().is_none());
        assert!(RegistryAuth::from_header(&base64::engine::general_purpose::URL_SAFE.encode("{}")).unwrap().is_none());
        assert!(RegistryAuth::from_header("!!!").is_err());
        assert!(RegistryAuth::from_header(&base64::engine::general_purpose::URL_SAFE.encode("\"x\"")).is_err());
    }
}
