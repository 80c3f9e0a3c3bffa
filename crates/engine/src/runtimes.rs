//! The OCI runtimes containers run with: Hull's own, in-process in the
//! shim (the default, named `hull`), or any runtime with runc's command
//! line, by name (`--runtime NAME`): those in the engine's table (docker's
//! `runtimes` in daemon.json, podman's `[engine.runtimes]`: a path and
//! extra arguments), and `runc`, `crun`, `runsc` and `youki` found on PATH
//! without configuration. Each external runtime keeps its state under its
//! own root in the run root. This is the seam a VM-isolated runtime uses,
//! and CRI's RuntimeClass handlers map onto.

use crate::error::{EngineError, Result};
use crate::Engine;
use hull_shim::oci_cli::OciCli;
use std::path::{Path, PathBuf};

/// The default runtime's name.
pub const HULL: &str = "hull";

/// Runtimes usable by name without configuration, when on PATH.
const KNOWN: &[&str] = &["runc", "crun", "runsc", "youki"];

/// An entry of the engine's runtime table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct RuntimeEntry {
    /// The executable (a name is looked up on PATH).
    pub path: PathBuf,
    /// Arguments before the command (docker's `runtimeArgs`).
    #[serde(default, alias = "runtimeArgs")]
    pub args: Vec<String>,
}

/// Where the runtimes' state lives (dot names are no container ids).
pub const RUNTIMES_DIR: &str = ".runtimes";

fn on_path(name: &Path) -> Option<PathBuf> {
    if name.components().count() > 1 {
        return name.is_file().then(|| name.to_path_buf());
    }
    let path = std::env::var_os("PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| {
        std::fs::metadata(p)
            .is_ok_and(|m| m.is_file() && std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111 != 0)
    })
}

/// The arguments a known runtime gets without configuration. runsc's own
/// network stack refuses to start on kernels where
/// `/proc/sys/net/core/rmem_default` exists in every network namespace
/// (Linux 6.x; gVisor tests for that file to tell the root namespace), so
/// it uses the host kernel's stack (`--network=host`), in the network
/// namespace the engine made for the container: its interfaces, addresses
/// and ports are the same. A daemon.json entry chooses otherwise.
fn default_args(name: &str) -> Vec<String> {
    match name {
        "runsc" => vec!["--network=host".into()],
        _ => Vec::new(),
    }
}

impl Engine {
    /// The runtime `name` names: `None` for Hull's own, else how to drive
    /// it. An unknown name is docker's 400.
    pub fn runtime_named(&self, name: &str) -> Result<Option<OciCli>> {
        if name.is_empty() || name == HULL {
            return Ok(None);
        }
        let unknown = || EngineError::Invalid(format!("unknown or invalid runtime name: {name}"));
        if name.contains('/') || name.starts_with('.') {
            return Err(unknown());
        }
        let (path, args) = match self.cfg.runtimes.get(name) {
            Some(e) => (
                on_path(&e.path).ok_or_else(|| {
                    EngineError::Invalid(format!("runtime {name}: {} is not an executable", e.path.display()))
                })?,
                e.args.clone(),
            ),
            None if KNOWN.contains(&name) => (on_path(Path::new(name)).ok_or_else(unknown)?, default_args(name)),
            None => return Err(unknown()),
        };
        let root = self.cfg.run_root.join(RUNTIMES_DIR).join(name);
        Ok(Some(OciCli { name: name.to_string(), path, args, root }))
    }

    /// The names `--runtime` takes here (docker's `info` lists them).
    pub fn runtime_names(&self) -> Vec<String> {
        let mut names = vec![HULL.to_string()];
        names.extend(self.cfg.runtimes.keys().cloned());
        names.extend(KNOWN.iter().filter(|n| on_path(Path::new(n)).is_some()).map(|n| n.to_string()));
        names.sort();
        names.dedup();
        names
    }
}

/// A container's runtime as the engine reaches it without the shim: what
/// a shim that died left behind is killed and deleted through it.
pub(crate) enum Handle {
    Hull(hull_runtime::Runtime),
    Cli(OciCli),
}

impl Handle {
    /// Status and pid, if the runtime knows the container.
    pub(crate) fn state(&self, id: &str) -> Option<(String, i32)> {
        match self {
            Handle::Hull(rt) => rt.state(id).ok().map(|s| (s.status.to_string(), s.pid)),
            Handle::Cli(cli) => cli.state(id).ok().map(|s| (s.status, s.pid)),
        }
    }

    pub(crate) fn kill_all(&self, id: &str) -> std::result::Result<(), String> {
        match self {
            Handle::Hull(rt) => rt.kill(id, nix::sys::signal::Signal::SIGKILL, true).map_err(|e| e.to_string()),
            Handle::Cli(cli) => cli.kill(id, libc::SIGKILL, true),
        }
    }

    /// Deletes the runtime's state of the container (gone already is done).
    pub(crate) fn delete(&self, id: &str) -> std::result::Result<(), String> {
        match self {
            Handle::Hull(rt) => match rt.delete(id, true) {
                Err(hull_runtime::RuntimeError::NotFound(_)) => Ok(()),
                other => other.map_err(|e| e.to_string()),
            },
            Handle::Cli(cli) => match cli.delete(id) {
                Err(e) if e.contains("does not exist") || e.contains("not found") => Ok(()),
                other => other,
            },
        }
    }
}

impl Engine {
    /// The runtime a container runs with (Hull's if its name no longer
    /// resolves: nothing else can be reached then).
    pub(crate) fn runtime_of(&self, row: &crate::db::Row) -> Handle {
        match self.runtime_named(&row.config.runtime) {
            Ok(Some(cli)) => Handle::Cli(cli),
            _ => Handle::Hull(self.runtime()),
        }
    }
}
