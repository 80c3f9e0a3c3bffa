//! The result cache: `<cache>/results/<network>-<container>-<ifname>`.

use super::error::CniError;
use super::{NetworkConfigList, RuntimeConf};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn path(dir: &Path, list: &NetworkConfigList, rt: &RuntimeConf) -> PathBuf {
    dir.join("results").join(format!("{}-{}-{}", list.name, rt.container_id, rt.ifname))
}

fn io<'a>(op: &'static str, p: &'a Path) -> impl FnOnce(std::io::Error) -> CniError + 'a {
    move |source| CniError::Io { op, path: p.display().to_string(), source }
}

/// Keeps an ADD result.
pub fn store(dir: &Path, list: &NetworkConfigList, rt: &RuntimeConf, result: &Value) -> Result<(), CniError> {
    let p = path(dir, list, rt);
    let parent = p.parent().unwrap_or(dir);
    std::fs::create_dir_all(parent).map_err(io("mkdir", parent))?;
    let entry = json!({
        "kind": "cniCacheV1",
        "containerId": rt.container_id,
        "ifName": rt.ifname,
        "networkName": list.name,
        "result": result,
    });
    let tmp = p.with_extension("tmp");
    std::fs::write(&tmp, entry.to_string()).map_err(io("write", &tmp))?;
    std::fs::rename(&tmp, &p).map_err(io("rename", &p))
}

/// The cached ADD result, if any.
pub fn load(dir: &Path, list: &NetworkConfigList, rt: &RuntimeConf) -> Result<Option<Value>, CniError> {
    let p = path(dir, list, rt);
    match std::fs::read(&p) {
        Ok(data) => {
            let v: Value =
                serde_json::from_slice(&data).map_err(|e| CniError::Config(format!("cache {}: {e}", p.display())))?;
            Ok(v.get("result").cloned())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", &p)(e)),
    }
}

/// Forgets a result.
pub fn remove(dir: &Path, list: &NetworkConfigList, rt: &RuntimeConf) {
    let _ = std::fs::remove_file(path(dir, list, rt));
}
