//! The persisted record of a container, and its live status.

use crate::error::{Context, Result, RuntimeError};
use hull_cgroups::{CgroupPaths, Mode};
use hull_spec::{Hooks, State};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Name of the record file in the container's state directory.
pub const RECORD_FILE: &str = "state.json";
/// Name of the fifo the init blocks on until `start`.
pub const EXEC_FIFO: &str = "exec.fifo";

/// What the runtime remembers about a container between invocations.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    /// Container id.
    pub id: String,
    /// Host pid of the init.
    pub pid: i32,
    /// The init's start time (clock ticks since boot), to detect pid reuse.
    pub pid_start_time: u64,
    /// Absolute bundle path.
    pub bundle: PathBuf,
    /// Absolute rootfs path.
    pub rootfs: PathBuf,
    /// Creation time, RFC 3339.
    pub created: String,
    /// User that created it.
    pub owner: String,
    /// Annotations from the config.
    pub annotations: BTreeMap<String, String>,
    /// cgroup mode at creation.
    pub cgroup_mode: Mode,
    /// The container's cgroup directories.
    pub cgroup_paths: CgroupPaths,
    /// Hooks still to run (poststart, poststop).
    pub hooks: Option<Hooks>,
    /// The config the container was created with (exec and update start from it).
    #[serde(default)]
    pub spec: Option<hull_spec::Spec>,
}

/// The container's status, as the spec's state machine defines it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Set up, waiting for `start`.
    Created,
    /// The user process runs.
    Running,
    /// Frozen.
    Paused,
    /// The init has exited.
    Stopped,
}

impl Status {
    /// The spec's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A container's state directory under the runtime root.
#[derive(Debug, Clone)]
pub struct StateDir {
    /// `<root>/<id>`.
    pub path: PathBuf,
}

impl StateDir {
    /// The directory for `id` under `root`.
    pub fn new(root: &Path, id: &str) -> StateDir {
        StateDir { path: root.join(id) }
    }

    /// The exec fifo's path.
    pub fn fifo(&self) -> PathBuf {
        self.path.join(EXEC_FIFO)
    }

    /// Loads the record; a missing directory means the container does not exist.
    pub fn load(&self, id: &str) -> Result<ContainerRecord> {
        let file = self.path.join(RECORD_FILE);
        let data = match std::fs::read(&file) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(RuntimeError::NotFound(id.into())),
            Err(e) => return Err(crate::error::sys("read", file.display(), e)),
        };
        serde_json::from_slice(&data).map_err(|e| crate::error::sys("parse", file.display(), std::io::Error::other(e)))
    }

    /// Writes the record atomically (temp file + rename).
    pub fn save(&self, record: &ContainerRecord) -> Result<()> {
        let data = serde_json::to_vec(record).map_err(std::io::Error::other).ctx("encode", "state")?;
        // The record holds the config, environment included: root only.
        crate::util::write_atomic_mode(&self.path.join(RECORD_FILE), &data, 0o600)
    }
}

/// Start time of a process (field 22 of /proc/PID/stat) and its state letter.
pub fn proc_stat(pid: i32) -> Option<(u64, char)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses; fields follow the last ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let state = fields.first()?.chars().next()?;
    let start = fields.get(19)?.parse().ok()?;
    Some((start, state))
}

impl ContainerRecord {
    /// Whether the container has a mount namespace of its own (new or
    /// joined); without one its mounts were made in the runtime's.
    pub fn own_mount_namespace(&self) -> bool {
        let ns = self.spec.as_ref().and_then(|s| s.linux.as_ref()).and_then(|l| l.namespaces.as_deref());
        // Records without a spec predate namespace-less containers.
        ns.is_none_or(|ns| ns.iter().any(|n| n.typ == hull_spec::NamespaceType::Mount)) || self.spec.is_none()
    }

    /// Whether the recorded init still exists (and is not a zombie).
    pub fn init_alive(&self) -> bool {
        matches!(proc_stat(self.pid), Some((start, st)) if start == self.pid_start_time && st != 'Z' && st != 'X')
    }

    /// Derives the live status.
    pub fn status(&self, dir: &StateDir) -> Status {
        if self.pid <= 0 || !self.init_alive() {
            return Status::Stopped;
        }
        if dir.fifo().exists() {
            return Status::Created;
        }
        if self.cgroup().is_frozen() {
            Status::Paused
        } else {
            Status::Running
        }
    }

    /// The manager of the container's cgroup.
    pub fn cgroup(&self) -> Box<dyn hull_cgroups::Manager> {
        hull_cgroups::from_paths(self.cgroup_mode, self.cgroup_paths.clone())
    }

    /// The OCI state.
    pub fn oci_state(&self, status: Status) -> State {
        State {
            oci_version: hull_spec::OCI_VERSION.into(),
            id: self.id.clone(),
            status: status.as_str().into(),
            pid: if status == Status::Stopped { 0 } else { self.pid },
            bundle: self.bundle.clone(),
            annotations: self.annotations.clone(),
        }
    }
}

/// Validates a container id: non-empty, at most 1024 bytes, a single path
/// component of letters, digits and `_ + - .`, and not `.` or `..`.
pub fn validate_id(id: &str) -> Result<()> {
    let bad = |reason| Err(RuntimeError::BadId { id: id.into(), reason });
    if id.is_empty() {
        return bad("it is empty");
    }
    if id.len() > 1024 {
        return bad("it is longer than 1024 bytes");
    }
    if id == "." || id == ".." {
        return bad("it is a relative path component");
    }
    if !id.chars().all(|c| c.is_ascii_alphanumeric() || "_+-.".contains(c)) {
        return bad("only letters, digits and _ + - . are allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert!(validate_id("abc-1.2_x").is_ok());
        for bad in ["", ".", "..", "a/b", "../x", "a b", &"x".repeat(1025)] {
            assert!(validate_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn own_stat_is_readable() {
        let (start, state) = proc_stat(std::process::id() as i32).unwrap();
        assert!(start > 0);
        assert!(state != 'Z' && state != 'X', "{state}");
    }
}
