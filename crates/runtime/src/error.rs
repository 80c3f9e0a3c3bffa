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
    /// Several failures in a best-effort teardown.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Many(Vec<RuntimeError>),
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
