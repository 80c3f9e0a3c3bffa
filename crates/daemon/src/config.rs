//! The daemon's configuration: docker's `daemon.json` keys that mean
//! something to Hull, from `--config-file` (else `$HULL_DAEMON_JSON`, else
//! /etc/hull/daemon.json when present; the CLI reads `runtimes` from the
//! same file). Flags win over the file, the file over the defaults. An
//! unknown key is an error naming it, as dockerd's.

use anyhow::Context;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the file may say.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case", default, deny_unknown_fields)]
pub struct FileConfig {
    /// Where to listen (as `-H`).
    pub hosts: Vec<String>,
    /// The persistent root (as `--root`).
    pub data_root: Option<PathBuf>,
    /// The runtime root (as `--run-root`).
    pub exec_root: Option<PathBuf>,
    /// The sockets' group.
    pub group: Option<String>,
    /// The default cgroup parent.
    pub cgroup_parent: Option<String>,
    /// Registries spoken to over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// The log driver of containers that name none.
    pub log_driver: Option<String>,
    /// Its options.
    pub log_opts: BTreeMap<String, String>,
    /// Named OCI runtimes (`{"path": ..., "runtimeArgs": [...]}`).
    pub runtimes: BTreeMap<String, hull_engine::runtimes::RuntimeEntry>,
    /// Serve TCP hosts over TLS.
    #[serde(rename = "tls")]
    pub tls: Option<bool>,
    /// ... and check client certificates.
    #[serde(rename = "tlsverify")]
    pub tlsverify: Option<bool>,
    /// The CA of client certificates.
    #[serde(rename = "tlscacert")]
    pub tlscacert: Option<PathBuf>,
    /// The daemon's certificate.
    #[serde(rename = "tlscert")]
    pub tlscert: Option<PathBuf>,
    /// Its key.
    #[serde(rename = "tlskey")]
    pub tlskey: Option<PathBuf>,
}

impl FileConfig {
    /// Reads `explicit`, or the default file when it exists.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<FileConfig> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => std::env::var_os("HULL_DAEMON_JSON")
                .map(PathBuf::from)
                .unwrap_or_else(|| "/etc/hull/daemon.json".into()),
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => return Ok(Default::default()),
            Err(e) => return Err(e).with_context(|| format!("read {}", path.display())),
        };
        serde_json::from_str(&text).with_context(|| format!("{}: not a daemon configuration", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockers_keys_and_an_unknown_one() {
        let c: FileConfig = serde_json::from_str(
            r#"{"hosts": ["unix:///x.sock"], "data-root": "/d", "log-driver": "local", "log-opts": {"max-size": "1m"},
                "insecure-registries": ["r:5000"], "runtimes": {"x": {"path": "/bin/x"}}}"#,
        )
        .unwrap();
        assert_eq!(c.hosts, ["unix:///x.sock"]);
        assert_eq!(c.log_driver.as_deref(), Some("local"));
        assert!(c.runtimes.contains_key("x"));
        let e = serde_json::from_str::<FileConfig>(r#"{"storage-driver": "zfs"}"#).unwrap_err();
        assert!(e.to_string().contains("storage-driver"), "{e}");
    }
}
