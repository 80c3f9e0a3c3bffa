//! Opening the engine from the command line's global flags, and the one
//! place engine errors become exit codes.

use hull_engine::{Engine, EngineConfig, EngineError, ErrorKind};
use std::path::{Path, PathBuf};

/// Opens the engine over `root` (persistent) and `run_root` (runtime).
pub fn open(root: &Path, run_root: &Path) -> anyhow::Result<Engine> {
    // Where hull was started from (/proc/self/exe is a read-only view after
    // hull_runtime::sealed re-executed it).
    let me = hull_runtime::sealed::original_exe()?;
    let shim = std::env::var_os("HULL_SHIM").map(PathBuf::from).unwrap_or_else(|| me.with_file_name("hull-shim"));
    if !shim.exists() {
        anyhow::bail!("hull-shim not found at {} (install it beside hull, or set HULL_SHIM)", shim.display());
    }
    let mut cfg = EngineConfig::new(root.into(), run_root.into(), shim, &me);
    cfg.registries = hull_engine::pull::RegistryConfig {
        insecure: super::registry::insecure_registries(),
        credentials: Some(super::registry::config_path()),
    };
    cfg.runtimes = runtimes()?;
    Ok(Engine::open(cfg)?)
}

/// The named runtimes of docker's daemon.json format (`"runtimes": {NAME:
/// {"path": ..., "runtimeArgs": [...]}}`), from `$HULL_DAEMON_JSON` or
/// /etc/hull/daemon.json when present.
fn runtimes() -> anyhow::Result<std::collections::BTreeMap<String, hull_engine::runtimes::RuntimeEntry>> {
    let path =
        std::env::var_os("HULL_DAEMON_JSON").map(PathBuf::from).unwrap_or_else(|| "/etc/hull/daemon.json".into());
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(e) => anyhow::bail!("read {}: {e}", path.display()),
    };
    #[derive(serde::Deserialize)]
    struct Daemon {
        #[serde(default)]
        runtimes: std::collections::BTreeMap<String, hull_engine::runtimes::RuntimeEntry>,
    }
    let d: Daemon = serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(d.runtimes)
}

/// docker's exit code for a failed command: 125 for `run`/`create`/`start`
/// failures of the engine (`launch`), 126/127 for a command that cannot run,
/// 1 otherwise.
pub fn exit_code(e: &anyhow::Error, launch: bool) -> i32 {
    match e.downcast_ref::<EngineError>().map(EngineError::kind) {
        Some(ErrorKind::CommandNotFound) => 127,
        Some(ErrorKind::CommandNotExecutable) => 126,
        _ if launch => 125,
        _ => 1,
    }
}
