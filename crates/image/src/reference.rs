//! Image references, normalised as docker does: `busybox` is
//! `docker.io/library/busybox:latest`; `host:port/repo:tag`; `@sha256:` digests.

use crate::digest::Digest;
use std::fmt;
use std::str::FromStr;

/// The default registry.
pub const DOCKER_HUB: &str = "docker.io";

/// A reference failed to parse.
#[derive(Debug, thiserror::Error)]
#[error("invalid image reference {input:?}: {reason}")]
pub struct ReferenceError {
    /// What was given.
    pub input: String,
    /// Why it is not a reference.
    pub reason: &'static str,
}

/// A normalised image reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    /// Registry host (and port).
    pub registry: String,
    /// Repository path.
    pub repository: String,
    /// Tag (`latest` when neither tag nor digest is given).
    pub tag: Option<String>,
    /// Digest.
    pub digest: Option<Digest>,
}

fn component_ok(c: &str) -> bool {
    !c.is_empty()
        && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && c.as_bytes()[0].is_ascii_alphanumeric()
        && c.as_bytes()[c.len() - 1].is_ascii_alphanumeric()
}

fn tag_ok(t: &str) -> bool {
    !t.is_empty()
        && t.len() <= 128
        && (t.as_bytes()[0].is_ascii_alphanumeric() || t.as_bytes()[0] == b'_')
        && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| ReferenceError { input: input.to_string(), reason };
        let (name, digest) = match input.split_once('@') {
            Some((n, d)) => {
                (n, Some(d.parse::<Digest>().map_err(|_| err("the digest is not sha256:<hex> or sha512:<hex>"))?))
            }
            None => (input, None),
        };
        // A tag follows the last ':' after the last '/'.
        let last_slash = name.rfind('/').map_or(0, |i| i + 1);
        let (path, tag) = match name[last_slash..].rfind(':') {
            Some(i) => (&name[..last_slash + i], Some(name[last_slash + i + 1..].to_string())),
            None => (name, None),
        };
        if let Some(t) = &tag {
            if !tag_ok(t) {
                return Err(err("the tag must be 1-128 of [A-Za-z0-9_.-], not starting with . or -"));
            }
        }
        let (registry, repository) = match path.split_once('/') {
            Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
                (first.to_string(), rest.to_string())
            }
            _ if path.contains('/') => (DOCKER_HUB.to_string(), path.to_string()),
            _ => (DOCKER_HUB.to_string(), format!("library/{path}")),
        };
        let registry = if registry == "index.docker.io" { DOCKER_HUB.to_string() } else { registry };
        if path.is_empty() || !repository.split('/').all(component_ok) {
            return Err(err("repository names are lowercase letters, digits and . _ - separated by /"));
        }
        let tag = if tag.is_none() && digest.is_none() { Some("latest".to_string()) } else { tag };
        Ok(Reference { registry, repository, tag, digest })
    }
}

impl Reference {
    /// `registry/repository`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The short form docker prints (`busybox`, `user/app`, `host:5000/app`).
    pub fn familiar_name(&self) -> String {
        if self.registry == DOCKER_HUB {
            self.repository.strip_prefix("library/").unwrap_or(&self.repository).to_string()
        } else {
            self.name()
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> String {
        s.parse::<Reference>().unwrap().to_string()
    }

    #[test]
    fn normalises_like_docker() {
        assert_eq!(n("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(n("busybox:1.36"), "docker.io/library/busybox:1.36");
        assert_eq!(n("user/app"), "docker.io/user/app:latest");
        assert_eq!(n("localhost:5000/app:v1"), "localhost:5000/app:v1");
        assert_eq!(n("localhost/app"), "localhost/app:latest");
        assert_eq!(n("quay.io/a/b/c:x"), "quay.io/a/b/c:x");
        let d = format!("sha256:{}", "0".repeat(64));
        assert_eq!(n(&format!("busybox@{d}")), format!("docker.io/library/busybox@{d}"));
        assert_eq!("busybox".parse::<Reference>().unwrap().familiar_name(), "busybox");
        for bad in ["", "Busybox", "a//b", "busybox:", "busybox:-x", "busybox@sha256:12", "-a"] {
            assert!(bad.parse::<Reference>().is_err(), "{bad:?}");
        }
    }
}
