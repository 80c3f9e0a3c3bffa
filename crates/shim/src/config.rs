//! The shim's configuration (written by the engine) and the records the
//! shim writes for the engine: `state.json` while the container lives and
//! `exit.json` once it is gone for good.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Config file name in the shim directory.
pub const CONFIG_FILE: &str = "shim.json";
/// Live state file name.
pub const STATE_FILE: &str = "state.json";
/// Exit record file name.
pub const EXIT_FILE: &str = "exit.json";
/// Control socket name.
pub const SOCKET_FILE: &str = "control.sock";
/// The shim's own pid and start time.
pub const PID_FILE: &str = "shim.pid";

/// A restart policy, as docker's `--restart` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "Name", content = "MaximumRetryCount")]
pub enum RestartPolicy {
    /// Never restart.
    #[default]
    #[serde(rename = "no")]
    No,
    /// Restart after a non-zero exit, at most N times (0: no limit).
    #[serde(rename = "on-failure")]
    OnFailure(u32),
    /// Always restart (unless stopped by hand).
    #[serde(rename = "always")]
    Always,
    /// Always restart unless stopped by hand, also across engine restarts.
    #[serde(rename = "unless-stopped")]
    UnlessStopped,
}

/// Why a restart policy string was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid restart policy {0:?}: want no, always, unless-stopped or on-failure[:N]")]
pub struct BadRestartPolicy(pub String);

impl std::str::FromStr for RestartPolicy {
    type Err = BadRestartPolicy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadRestartPolicy(s.to_string());
        let (name, count) = match s.split_once(':') {
            Some((n, c)) => (n, Some(c.parse::<u32>().map_err(|_| bad())?)),
            None => (s, None),
        };
        match (name, count) {
            ("no" | "", None) => Ok(RestartPolicy::No),
            ("always", None) => Ok(RestartPolicy::Always),
            ("unless-stopped", None) => Ok(RestartPolicy::UnlessStopped),
            ("on-failure", n) => Ok(RestartPolicy::OnFailure(n.unwrap_or(0))),
            _ => Err(bad()),
        }
    }
}

impl std::fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RestartPolicy::No => f.write_str("no"),
            RestartPolicy::OnFailure(0) => f.write_str("on-failure"),
            RestartPolicy::OnFailure(n) => write!(f, "on-failure:{n}"),
            RestartPolicy::Always => f.write_str("always"),
            RestartPolicy::UnlessStopped => f.write_str("unless-stopped"),
        }
    }
}

impl RestartPolicy {
    /// Whether a container that exited with `code` after `restarts`
    /// restarts is started again (`stopped`: the user stopped it).
    pub fn wants_restart(self, code: i32, restarts: u32, stopped: bool) -> bool {
        if stopped {
            return false;
        }
        match self {
            RestartPolicy::No => false,
            RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
            RestartPolicy::OnFailure(max) => code != 0 && (max == 0 || restarts < max),
        }
    }
}

/// Log rotation of the json-file log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LogConfig {
    /// The log file.
    pub path: PathBuf,
    /// Rotate when the file would exceed this many bytes (0: never).
    pub max_size: u64,
    /// Files kept, the live one included (at least 1).
    pub max_files: u32,
}

/// What the engine tells a shim to run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShimConfig {
    /// Container id.
    pub id: String,
    /// OCI bundle.
    pub bundle: PathBuf,
    /// The runtime's state root.
    pub runtime_root: PathBuf,
    /// Allocate a terminal.
    pub tty: bool,
    /// Keep the container's stdin open (attached clients write to it).
    pub stdin: bool,
    /// Log file and rotation.
    pub log: LogConfig,
    /// Restart policy.
    pub restart: RestartPolicy,
    /// Run after the container is gone for good (the engine's cleanup).
    pub exit_command: Vec<String>,
    /// The event journal to append the container's events to (restarts'
    /// die and start, exec ends); none for an engine without one.
    #[serde(default)]
    pub events: Option<std::path::PathBuf>,
    /// The attributes of the container's events (name, image, labels).
    #[serde(default)]
    pub event_attributes: std::collections::BTreeMap<String, String>,
    /// The health check to run, if the container has one.
    #[serde(default)]
    pub health: Option<HealthSetup>,
    /// The OCI runtime to drive by its command line; Hull's, in-process,
    /// when none.
    #[serde(default)]
    pub runtime: Option<crate::oci_cli::OciCli>,
}

impl ShimConfig {
    /// Reads the config from a shim directory.
    pub fn load(dir: &Path) -> std::io::Result<ShimConfig> {
        let data = std::fs::read(dir.join(CONFIG_FILE))?;
        serde_json::from_slice(&data).map_err(std::io::Error::other)
    }
}

/// The live container, as the shim last saw it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ShimState {
    /// Host pid of the container's init (0 between restarts).
    pub pid: i32,
    /// When the current run started, RFC 3339.
    pub started_at: String,
    /// Restarts done by the policy.
    pub restart_count: u32,
    /// Exit code of the previous run, if any.
    pub last_exit: Option<i32>,
    /// When the previous run ended.
    pub last_finished_at: Option<String>,
    /// Waiting to restart.
    pub restarting: bool,
    /// Frozen by a Pause request (None from shims that did not say).
    #[serde(default)]
    pub paused: Option<bool>,
}

/// How the container ended, for good.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExitRecord {
    /// Exit code (128+N for signal N).
    pub code: i32,
    /// When, RFC 3339.
    pub finished_at: String,
    /// Restarts done by the policy.
    pub restart_count: u32,
    /// The kernel's OOM killer killed a process of the container.
    pub oom_killed: bool,
    /// Why it could not (re)start, if that is how it ended.
    pub error: Option<String>,
}

/// An exec'd process the shim supervises: `exec-<id>.json` in its directory.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExecRecord {
    /// The exec's id.
    pub id: String,
    /// Its pid (0 once reaped).
    pub pid: i32,
    /// When it started, RFC 3339.
    pub started_at: String,
    /// Its exit code (128+N for signal N), once it ended.
    pub exit_code: Option<i32>,
    /// When it ended.
    pub finished_at: Option<String>,
}

/// A health check as docker configures one (times in nanoseconds; 0: docker's default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Healthcheck {
    /// `["CMD", args...]`, `["CMD-SHELL", command]` or `["NONE"]`.
    pub test: Vec<String>,
    /// Between checks.
    pub interval: i64,
    /// A check running longer fails.
    pub timeout: i64,
    /// Failures in it do not count.
    pub start_period: i64,
    /// Between checks during the start period.
    pub start_interval: i64,
    /// Consecutive failures that make it unhealthy.
    pub retries: i64,
}

impl Healthcheck {
    const SECOND: i64 = 1_000_000_000;

    /// docker's defaults for what is 0: 30 s, 30 s, 0, 5 s, 3 retries.
    pub fn interval(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(if self.interval > 0 { self.interval } else { 30 * Self::SECOND } as u64)
    }
    /// The time a check may take.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(if self.timeout > 0 { self.timeout } else { 30 * Self::SECOND } as u64)
    }
    /// The start period.
    pub fn start_period(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(self.start_period.max(0) as u64)
    }
    /// Between checks in the start period.
    pub fn start_interval(&self) -> std::time::Duration {
        std::time::Duration::from_nanos(
            if self.start_interval > 0 { self.start_interval } else { 5 * Self::SECOND } as u64
        )
    }
    /// Failures before unhealthy.
    pub fn retries(&self) -> u32 {
        if self.retries > 0 {
            self.retries as u32
        } else {
            3
        }
    }
}

/// What the shim needs to run a container's health check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HealthSetup {
    /// The check's settings.
    pub check: Healthcheck,
    /// The process it runs (as an exec).
    pub process: hull_spec::Process,
}

/// docker's `State.Health`: `health.json` in the shim's directory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthState {
    /// `starting`, `healthy` or `unhealthy`.
    pub status: String,
    /// Consecutive failures.
    pub failing_streak: u32,
    /// The last five results, oldest first.
    pub log: Vec<HealthResult>,
}

/// One check's result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthResult {
    /// When it started, RFC 3339.
    pub start: String,
    /// When it ended.
    pub end: String,
    /// Its exit code (-1: it timed out or could not run).
    pub exit_code: i32,
    /// Its output (the first 4 KiB).
    pub output: String,
}

/// The health state's file in a shim directory.
pub const HEALTH_FILE: &str = "health.json";

/// The file of an exec's record.
pub fn exec_record_file(id: &str) -> String {
    format!("exec-{id}.json")
}

/// Writes `value` as JSON to `path` atomically (write + rename).
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    replace_file(path, &serde_json::to_vec(value).map_err(std::io::Error::other)?)
}

/// Replaces `path` with `data` atomically (write + rename, no fsync: these
/// files live as long as the container's run, and a crash is handled by
/// the engine's reconciliation, not by durable writes).
pub fn replace_file(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, data)?;
    std::fs::rename(&tmp, path)
}

/// Reads a JSON record, `None` when the file does not exist.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> std::io::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(d) => serde_json::from_slice(&d).map(Some).map_err(std::io::Error::other),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

pub use hull_runtime::util::{now_rfc3339, rfc3339};

/// A short path for a socket in `dir` (through /proc/self/fd of an O_PATH
/// descriptor `dir_fd`): socket paths must fit in 108 bytes, and run roots
/// with 64-hex container ids do not.
pub fn socket_path(dir_fd: &std::os::fd::OwnedFd) -> PathBuf {
    use std::os::fd::AsRawFd;
    PathBuf::from(format!("/proc/self/fd/{}/{SOCKET_FILE}", dir_fd.as_raw_fd()))
}

/// Opens `dir` as an O_PATH descriptor for [`socket_path`].
pub fn open_dir(dir: &Path) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_PATH | libc::O_DIRECTORY).open(dir)?;
    Ok(f.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_policies() {
        assert_eq!("on-failure:3".parse::<RestartPolicy>().unwrap(), RestartPolicy::OnFailure(3));
        assert_eq!("always".parse::<RestartPolicy>().unwrap(), RestartPolicy::Always);
        assert!("sometimes".parse::<RestartPolicy>().is_err());
        assert!("always:2".parse::<RestartPolicy>().is_err());
        assert!(RestartPolicy::OnFailure(2).wants_restart(1, 1, false));
        assert!(!RestartPolicy::OnFailure(2).wants_restart(1, 2, false));
        assert!(!RestartPolicy::OnFailure(2).wants_restart(0, 0, false));
        assert!(!RestartPolicy::Always.wants_restart(0, 0, true));
        assert_eq!(RestartPolicy::OnFailure(3).to_string(), "on-failure:3");
    }
}
