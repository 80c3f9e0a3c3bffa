//! The lifecycle verbs, one file each, over a runtime state root.

mod container_create;
mod container_delete;
mod container_events;
mod container_exec;
mod container_kill;
mod container_list;
mod container_pause;
mod container_ps;
mod container_run;
mod container_start;
mod container_state;
mod container_update;

pub use container_create::{CreateOptions, Created};
pub use container_exec::{exec_process_from, ExecOptions, ExecRequest, ExecStarted};
pub use container_kill::parse_signal;
pub use container_list::ListEntry;
pub use container_run::RunOutcome;
pub use container_state::StateReport;

use crate::error::Result;
use crate::state::{validate_id, ContainerRecord, StateDir};
use std::path::PathBuf;

/// The runtime, rooted at a state directory (runc's `--root`).
#[derive(Debug, Clone)]
pub struct Runtime {
    /// State root, e.g. /run/hull.
    pub root: PathBuf,
}

impl Runtime {
    /// A runtime with state under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Runtime {
        Runtime { root: root.into() }
    }

    /// The compiled seccomp filter of a config (from the cache when it can be).
    fn seccomp_filter(&self, spec: &hull_spec::Spec) -> Result<Option<crate::seccomp::Filter>> {
        let profile = spec.linux.as_ref().and_then(|l| l.seccomp.as_ref());
        profile.map(|s| crate::seccomp::build_cached(s, &self.root.join(".seccomp-cache"))).transpose()
    }

    fn open(&self, id: &str) -> Result<(StateDir, ContainerRecord)> {
        validate_id(id)?;
        let dir = StateDir::new(&self.root, id);
        let record = dir.load(id)?;
        Ok((dir, record))
    }
}
