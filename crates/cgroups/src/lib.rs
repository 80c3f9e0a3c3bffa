//! cgroup managers for Hull: cgroup v1 (legacy), v2 (unified) and the hybrid
//! of both, behind one [`Manager`] trait chosen by [`Layout::detect`].
//!
//! Every manager takes its filesystem roots as data (a [`Layout`]), so the
//! file writes can be unit-tested against a temporary directory that stands
//! in for a real cgroup tree.
#![warn(missing_docs)]

mod fs;
mod hybrid;
mod layout;
pub mod stats;
pub mod v1;
pub mod v2;

pub use hybrid::HybridManager;
pub use layout::{Hierarchy, Layout, Mode};

use hull_spec::Resources;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A cgroup operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// A file or directory operation on the cgroup tree failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done (`write`, `mkdir`, ...).
        op: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Writing a value to a control file failed.
    #[error("write {value:?} to {path}: {source}")]
    Write {
        /// The control file.
        path: PathBuf,
        /// The value.
        value: String,
        /// Why.
        source: std::io::Error,
    },
    /// The configuration asks for something invalid or unavailable here.
    #[error("{field}: {reason}")]
    Invalid {
        /// The spec field, e.g. `linux.resources.memory.limit`.
        field: String,
        /// Why it cannot be applied.
        reason: String,
    },
    /// The host's cgroup mounts could not be understood.
    #[error("cgroup layout: {0}")]
    Layout(String),
    /// Several errors from a best-effort teardown.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Many(Vec<CgroupError>),
}

/// Result alias for this crate.
pub type Result<T> = std::result::Result<T, CgroupError>;

/// Where a container's cgroup lives, per hierarchy; persisted in the
/// container's state so that `delete` and `kill --all` find it again.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CgroupPaths {
    /// v1 hierarchies: controller list (as mounted, e.g. `cpu,cpuacct` or
    /// `name=systemd`) and the container's directory in it.
    #[serde(default)]
    pub v1: Vec<(String, PathBuf)>,
    /// The container's directory in the cgroup2 hierarchy, if any.
    #[serde(default)]
    pub unified: Option<PathBuf>,
    /// Directories this runtime created (leaf last), removed when empty.
    #[serde(default)]
    pub created: Vec<PathBuf>,
}

impl CgroupPaths {
    /// How many processes the OOM killer killed in the memory cgroup (v1's
    /// `memory.oom_control`, else v2's `memory.events`); None when neither
    /// can be read.
    pub fn oom_kills(&self) -> Option<u64> {
        let v1 = self
            .v1
            .iter()
            .find(|(c, _)| c.split(',').any(|c| c == "memory"))
            .map(|(_, d)| d.join("memory.oom_control"));
        let v2 = self.unified.as_ref().map(|d| d.join("memory.events"));
        [v1, v2].into_iter().flatten().find_map(|f| {
            let text = std::fs::read_to_string(f).ok()?;
            text.lines().find_map(|l| l.strip_prefix("oom_kill ")).and_then(|n| n.trim().parse().ok())
        })
    }
}

/// The operations the runtime needs from a cgroup backend.
pub trait Manager {
    /// Creates the cgroup directories (and records which ones it made).
    fn create(&mut self) -> Result<()>;
    /// Applies `linux.resources`.
    fn set(&self, resources: &Resources) -> Result<()>;
    /// Pids currently in the cgroup.
    fn pids(&self) -> Result<Vec<i32>>;
    /// Removes every directory this runtime created; best-effort.
    fn destroy(&self) -> Result<()>;
    /// The paths, for persisting.
    fn paths(&self) -> &CgroupPaths;
    /// Freezes every process in the cgroup and waits until they are frozen.
    fn freeze(&self) -> Result<()>;
    /// Thaws the cgroup.
    fn thaw(&self) -> Result<()>;
    /// Whether the cgroup is frozen.
    fn is_frozen(&self) -> bool;
    /// Resource usage.
    fn stats(&self) -> Result<stats::Stats>;
}

/// How the container's cgroup is named in its config.
#[derive(Debug, Clone)]
pub struct CgroupSpec<'a> {
    /// `linux.cgroupsPath`, if any.
    pub path: Option<&'a Path>,
    /// Container id, used when no path is given.
    pub id: &'a str,
}

/// Makes the manager for this host's layout and a container's cgroup spec.
/// Relative paths are resolved against `own`, the caller's cgroup, as runc does.
pub fn manager_for(layout: &Layout, spec: &CgroupSpec, own: &layout::OwnCgroups) -> Result<Box<dyn Manager>> {
    let paths = layout.resolve(spec, own)?;
    Ok(from_paths(layout.mode, paths))
}

/// Rebuilds a manager from persisted paths.
pub fn from_paths(mode: Mode, paths: CgroupPaths) -> Box<dyn Manager> {
    match mode {
        Mode::Legacy => Box::new(v1::V1Manager::new(paths)),
        Mode::Unified => Box::new(v2::V2Manager::new(paths)),
        Mode::Hybrid => Box::new(HybridManager::new(paths)),
    }
}

pub use layout::OwnCgroups;

/// Checks `linux.resources` for values no cgroup version accepts, before
/// anything is created. -1 means "unlimited" for memory values, as in runc.
pub fn validate(r: &Resources) -> Result<()> {
    let bad = |field: &str, reason: String| Err(CgroupError::Invalid { field: field.into(), reason });
    if let Some(m) = &r.memory {
        for (name, v) in [("limit", m.limit), ("reservation", m.reservation), ("swap", m.swap)] {
            if let Some(v) = v.filter(|v| *v < -1) {
                return bad(
                    &format!("linux.resources.memory.{name}"),
                    format!("{v} is negative (use -1 for unlimited)"),
                );
            }
        }
        if let (Some(l), Some(s)) = (m.limit, m.swap) {
            if l > 0 && s > 0 && s < l {
                return bad(
                    "linux.resources.memory.swap",
                    format!("{s} is below the memory limit {l} (swap counts memory plus swap)"),
                );
            }
        }
        if let Some(s) = m.swappiness.filter(|s| *s > 100) {
            return bad("linux.resources.memory.swappiness", format!("{s} is above 100"));
        }
    }
    for (i, d) in r.devices.iter().flatten().enumerate() {
        let access = d.access.as_deref().unwrap_or_default();
        if !access.is_empty() && !access.contains(['r', 'w', 'm']) {
            return bad(&format!("linux.resources.devices[{i}].access"), format!("{access:?} has none of r, w, m"));
        }
    }
    if let Some(c) = &r.cpu {
        if let Some(q) = c.quota.filter(|q| *q < -1 || (*q > 0 && *q < 1000)) {
            return bad("linux.resources.cpu.quota", format!("{q} is below the kernel's 1000µs minimum"));
        }
        if let Some(p) = c.period.filter(|p| *p != 0 && !(1000..=1_000_000).contains(p)) {
            return bad("linux.resources.cpu.period", format!("{p} is outside 1000..1000000µs"));
        }
    }
    if r.rdma.is_some() {
        return bad("linux.resources.rdma", "the rdma controller is not supported by this runtime".into());
    }
    Ok(())
}

/// Moves the calling process into its v1 cgroups by writing its own thread
/// ("0") to each hierarchy's `tasks` file. Unlike writing a pid to
/// cgroup.procs, moving the current thread skips the kernel's global
/// threadgroup lock (and the RCU grace period it costs). Only correct for a
/// single-threaded caller whose uid may write the cgroup files.
pub fn join_v1_as_self(paths: &CgroupPaths) -> Result<()> {
    for (_, dir) in &paths.v1 {
        fs::write(dir, "tasks", 0)?;
    }
    Ok(())
}

/// Moves `pid` into every v1 hierarchy (cgroup.procs).
pub fn add_pid_v1(paths: &CgroupPaths, pid: i32) -> Result<()> {
    for (_, dir) in &paths.v1 {
        fs::write(dir, "cgroup.procs", pid)?;
    }
    Ok(())
}

/// Moves `pid` into the container's cgroup2 directory, if it has one.
pub fn add_pid_unified(paths: &CgroupPaths, pid: i32) -> Result<()> {
    match &paths.unified {
        Some(dir) => fs::write(dir, "cgroup.procs", pid),
        None => Ok(()),
    }
}
