//! A client of the CNI specification 1.0: network configuration lists,
//! plugin chains with `prevResult`, the `CNI_*` environment, results cached
//! under a cache directory (as libcni does) so that CHECK and DEL get what
//! ADD returned, and plugin errors surfaced verbatim with the plugin's name.

mod cache;
mod config;
mod error;
mod exec;
mod result;

pub use config::{NetworkConfigList, CNI_VERSION};
pub use error::CniError;
pub use exec::find_plugin;
pub use result::{CniResult, Interface, IpConfig, Route};

use serde_json::{json, Map, Value};
use std::path::PathBuf;

/// What the runtime says about the container being attached.
#[derive(Debug, Clone, Default)]
pub struct RuntimeConf {
    /// CNI_CONTAINERID.
    pub container_id: String,
    /// CNI_NETNS: the container's network namespace path.
    pub netns: PathBuf,
    /// CNI_IFNAME: the interface name in the container.
    pub ifname: String,
    /// CNI_ARGS: `KEY=VALUE` pairs.
    pub args: Vec<(String, String)>,
    /// Capability arguments (`portMappings`, `ips`, ...), passed in
    /// `runtimeConfig` to the plugins that declare the capability.
    pub capability_args: Map<String, Value>,
}

/// The client: where plugins and the result cache are.
#[derive(Debug, Clone)]
pub struct Cni {
    /// Directories searched for plugin binaries (CNI_PATH).
    pub plugin_dirs: Vec<PathBuf>,
    /// Where ADD results are kept for CHECK and DEL.
    pub cache_dir: PathBuf,
}

type Result<T> = std::result::Result<T, CniError>;

impl Cni {
    /// A client with Debian's plugin directory and the given cache.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Cni {
        Cni { plugin_dirs: vec!["/usr/lib/cni".into(), "/opt/cni/bin".into()], cache_dir: cache_dir.into() }
    }

    /// ADD: runs the chain in order, each plugin given the previous
    /// result; caches and returns the last result. A failed ADD is undone
    /// with a DEL of the whole chain, so nothing is left half-attached.
    pub fn add(&self, list: &NetworkConfigList, rt: &RuntimeConf) -> Result<CniResult> {
        let mut prev: Option<Value> = None;
        for plugin in &list.plugins {
            let conf = plugin_conf(list, plugin, prev.as_ref(), rt);
            match exec::run(self, "ADD", plugin_type(plugin), &conf, rt) {
                Ok(out) => prev = Some(out),
                Err(e) => {
                    let _ = self.del_with(list, rt, None);
                    return Err(e);
                }
            }
        }
        let raw = prev.unwrap_or_else(|| json!({"cniVersion": list.cni_version}));
        cache::store(&self.cache_dir, list, rt, &raw)?;
        result::parse(list.plugins.last().map_or("", plugin_type), raw)
    }

    /// CHECK: the chain in order, each with the cached result.
    pub fn check(&self, list: &NetworkConfigList, rt: &RuntimeConf) -> Result<()> {
        if list.disable_check {
            return Ok(());
        }
        let cached = cache::load(&self.cache_dir, list, rt)?.ok_or_else(|| {
            CniError::Config(format!("no cached result for {} on network {}", rt.container_id, list.name))
        })?;
        for plugin in &list.plugins {
            exec::run(self, "CHECK", plugin_type(plugin), &plugin_conf(list, plugin, Some(&cached), rt), rt)?;
        }
        Ok(())
    }

    /// DEL: the chain in reverse, each with the cached result. Keeps going
    /// after a failure and reports every one; the cache entry goes at the end.
    pub fn del(&self, list: &NetworkConfigList, rt: &RuntimeConf) -> Result<()> {
        let cached = cache::load(&self.cache_dir, list, rt)?;
        self.del_with(list, rt, cached.as_ref())
    }

    fn del_with(&self, list: &NetworkConfigList, rt: &RuntimeConf, cached: Option<&Value>) -> Result<()> {
        let mut errors = Vec::new();
        for plugin in list.plugins.iter().rev() {
            if let Err(e) = exec::run(self, "DEL", plugin_type(plugin), &plugin_conf(list, plugin, cached, rt), rt) {
                errors.push(e);
            }
        }
        cache::remove(&self.cache_dir, list, rt);
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(CniError::Several(errors)),
        }
    }

    /// VERSION: the spec versions a plugin supports.
    pub fn version(&self, plugin: &str) -> Result<Vec<String>> {
        let conf = json!({"cniVersion": config::CNI_VERSION});
        let out = exec::run(self, "VERSION", plugin, &conf, &RuntimeConf::default())?;
        Ok(out
            .get("supportedVersions")
            .and_then(Value::as_array)
            .map(|v| v.iter().filter_map(|s| s.as_str().map(String::from)).collect())
            .unwrap_or_default())
    }
}

fn plugin_type(plugin: &Value) -> &str {
    plugin.get("type").and_then(Value::as_str).unwrap_or_default()
}

/// One plugin's stdin: its config with the list's name and version, the
/// previous result, and the capability arguments it declares.
fn plugin_conf(list: &NetworkConfigList, plugin: &Value, prev: Option<&Value>, rt: &RuntimeConf) -> Value {
    let mut conf = plugin.as_object().cloned().unwrap_or_default();
    conf.insert("name".into(), json!(list.name));
    conf.insert("cniVersion".into(), json!(list.cni_version));
    if let Some(p) = prev {
        conf.insert("prevResult".into(), p.clone());
    }
    let caps = conf.get("capabilities").and_then(Value::as_object).cloned().unwrap_or_default();
    let runtime: Map<String, Value> = rt
        .capability_args
        .iter()
        .filter(|(k, _)| caps.get(*k).and_then(Value::as_bool) == Some(true))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !runtime.is_empty() {
        conf.insert("runtimeConfig".into(), Value::Object(runtime));
    }
    Value::Object(conf)
}
