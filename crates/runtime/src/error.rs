//! The runtime's error type. One enum for the crate: every variant carries
//! the context crun-style messages need (operation, path, field, id).

use std::path::PathBuf;

/// A runtime operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The configuration is invalid; names the field.
    #[error("{field}: {reason}")]
    Spec {
        /// Dotted spec field.
        field: String,
        /// Why.
        reason: String,
    },
    /// config.json could not be read or parsed.
    #[error(transparent)]
    Load(#[from] hull_spec::SpecError),
    /// A system call failed.
    #[error("{op} {target}: {source}")]
    Sys {
        /// The operation, e.g. `mount proc`.
        op: String,
        /// What it touched.
        target: String,
        /// The errno.
        source: std::io::Error,
    },
    /// A cgroup operation failed.
    #[error(transparent)]
    Cgroup(#[from] hull_cgroups::CgroupError),
    /// No container with that id.
    #[error("container {0} does not exist")]
    NotFound(String),
    /// The id is taken.
    #[error("container {0} already exists")]
    Exists(String),
    /// The container id is not acceptable.
    #[error("invalid container id {id:?}: {reason}")]
    BadId {
        /// The id.
        id: String,
        /// Why.
        reason: &'static str,
    },
    /// The operation is not allowed in the container's current status.
    #[error("container {id} is {status}: {op} needs {wanted}")]
    WrongStatus {
        /// Container.
        id: String,
        /// Its status.
        status: String,
        /// Operation attempted.
        op: &'static str,
        /// Status required.
        wanted: &'static str,
    },
    /// A hook failed.
    #[error("{kind} hook {path}: {reason}")]
    Hook {
        /// Hook kind, e.g. `createRuntime`.
        kind: &'static str,
        /// Its executable.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The container's init process reported a failure during set-up.
    #[error("{0}")]
    Init(String),
    /// A failure the init or an exec'd process reported, with its kind.
    #[error("{message}")]
    Failed {
        /// What kind of failure.
        kind: FailureKind,
        /// The process's words.
        message: String,
    },
    /// Several failures in a best-effort teardown.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Many(Vec<RuntimeError>),
}

/// The kind of a failure, for callers that map failures to codes (docker's
/// 126 and 127) without reading the message, across a process boundary too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The process's executable does not exist.
    CommandNotFound,
    /// It exists but cannot be executed (permissions, a directory).
    CommandNotExecutable,
    /// Anything else.
    #[default]
    Other,
}

impl RuntimeError {
    /// The kind of this failure.
    pub fn failure_kind(&self) -> FailureKind {
        match self {
            RuntimeError::Sys { op, source, .. } if op == "exec" => match source.kind() {
                std::io::ErrorKind::NotFound => FailureKind::CommandNotFound,
                std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::IsADirectory => {
                    FailureKind::CommandNotExecutable
                }
                _ => FailureKind::Other,
            },
            RuntimeError::Failed { kind, .. } => *kind,
            RuntimeError::Many(all) => {
                all.iter().map(RuntimeError::failure_kind).find(|k| *k != FailureKind::Other).unwrap_or_default()
            }
            _ => FailureKind::Other,
        }
    }

    /// The report of a failed child: its message and kind.
    pub fn to_message(&self) -> crate::sync::Message {
        crate::sync::Message::Error { message: self.to_string(), kind: self.failure_kind() }
    }
}

/// Result alias.
pub type Result<T> = std::result::Result<T, RuntimeError>;

/// Builds a [`RuntimeError::Sys`] from an io error.
pub fn sys(op: impl Into<String>, target: impl std::fmt::Display, source: impl Into<std::io::Error>) -> RuntimeError {
    RuntimeError::Sys { op: op.into(), target: target.to_string(), source: source.into() }
}

/// Builds a [`RuntimeError::Spec`].
pub fn spec(field: impl Into<String>, reason: impl Into<String>) -> RuntimeError {
    RuntimeError::Spec { field: field.into(), reason: reason.into() }
}

/// Extension to attach operation context to io results.
pub trait Context<T> {
    /// Maps the error to [`RuntimeError::Sys`].
    fn ctx(self, op: &str, target: impl std::fmt::Display) -> Result<T>;
}

impl<T, E: Into<std::io::Error>> Context<T> for std::result::Result<T, E> {
    fn ctx(self, op: &str, target: impl std::fmt::Display) -> Result<T> {
        self.map_err(|e| sys(op, target, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_kinds_come_from_the_error_not_its_words() {
        let missing = crate::process::find_executable("no-such-command-anywhere", &["PATH=/nonexistent".into()]);
        assert_eq!(missing.unwrap_err().failure_kind(), FailureKind::CommandNotFound);
        let dir = crate::process::find_executable("/etc", &[]);
        assert_eq!(dir.unwrap_err().failure_kind(), FailureKind::CommandNotExecutable);
        // A missing bind source is "No such file" too, and no 127.
        let bind = sys("mount", "/src", std::io::Error::from_raw_os_error(libc::ENOENT));
        assert_eq!(bind.failure_kind(), FailureKind::Other);
        let crossed = RuntimeError::Failed { kind: FailureKind::CommandNotFound, message: "x".into() };
        assert_eq!(RuntimeError::Many(vec![bind, crossed]).failure_kind(), FailureKind::CommandNotFound);
        let sent = missing_message();
        let back: crate::sync::Message = serde_json::from_str(&serde_json::to_string(&sent).unwrap()).unwrap();
        assert!(matches!(back, crate::sync::Message::Error { kind: FailureKind::CommandNotFound, .. }));
    }

    fn missing_message() -> crate::sync::Message {
        crate::process::find_executable("nope", &["PATH=/nonexistent".into()]).unwrap_err().to_message()
    }
}
