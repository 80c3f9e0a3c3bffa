//! The engine's errors. Front ends map them to exit codes or status codes
//! in one place each (`kind`).

/// What went wrong in the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No container by that id, prefix or name.
    #[error("No such container: {0}")]
    NoSuchContainer(String),
    /// An id prefix matches several containers.
    #[error("multiple containers match {0:?}: use more of the id")]
    Ambiguous(String),
    /// The name is taken.
    #[error("the container name \"/{name}\" is already in use by container {id}: remove or rename that container to reuse the name")]
    NameInUse {
        /// The name.
        name: String,
        /// Its holder.
        id: String,
    },
    /// No such path in the container (docker's wording).
    #[error("Could not find the file {path} in container {container}")]
    NoSuchPath {
        /// The container.
        container: String,
        /// The path in it.
        path: String,
    },
    /// A write to something read-only (docker's 403).
    #[error("{0}")]
    ReadOnly(String),
    /// No network by that name or id.
    #[error("network {0} not found")]
    NoSuchNetwork(String),
    /// No volume by that name (docker's wording).
    #[error("get {0}: no such volume")]
    NoSuchVolume(String),
    /// Networking (CNI plugins, namespaces, ports, DNS).
    #[error(transparent)]
    Network(#[from] hull_network::NetError),
    /// A user-supplied value is wrong.
    #[error("{0}")]
    Invalid(String),
    /// A network, volume or image something still uses (docker's wording).
    #[error("{0}")]
    InUse(String),
    /// The container is in the wrong state for the operation.
    #[error("container {id} is {status}: {what}")]
    Conflict {
        /// Container id.
        id: String,
        /// Its status.
        status: String,
        /// What could not be done.
        what: String,
    },
    /// The command cannot be found in the image.
    #[error("{0}")]
    CommandNotFound(String),
    /// The command exists but cannot be run.
    #[error("{0}")]
    CommandNotExecutable(String),
    /// A registry.
    #[error(transparent)]
    Registry(#[from] hull_image::registry::RegistryError),
    /// The image layer.
    #[error(transparent)]
    Image(#[from] hull_image::images::ImageError),
    /// Turning the image into a runtime config.
    #[error(transparent)]
    Spec(#[from] hull_image::runtime_spec::SpecError),
    /// The runtime.
    #[error(transparent)]
    Runtime(#[from] hull_runtime::RuntimeError),
    /// The state database.
    #[error("state database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The shim.
    #[error("hull-shim: {0}")]
    Shim(String),
    /// A step of tearing a container down (its runtime state, networking,
    /// cgroups, mounts) that failed: what is left behind, and why.
    #[error("{what}: {why}")]
    Teardown {
        /// What could not be undone.
        what: String,
        /// Why.
        why: String,
    },
    /// Every failure of one operation that goes on past its failures (a
    /// teardown), in order.
    #[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Many(Vec<EngineError>),
    /// A system call or file operation.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was done.
        op: &'static str,
        /// To what.
        path: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// Result of engine operations.
pub type Result<T> = std::result::Result<T, EngineError>;

/// Collects the failures of steps that must all be tried.
#[derive(Debug, Default)]
pub(crate) struct Failures(Vec<EngineError>);

impl Failures {
    /// Keeps `r`'s error, if any.
    pub(crate) fn note<T>(&mut self, r: Result<T>) -> Option<T> {
        r.map_err(|e| match e {
            EngineError::Many(all) => self.0.extend(all),
            e => self.0.push(e),
        })
        .ok()
    }

    /// A failed step, said in words.
    pub(crate) fn fail(&mut self, what: impl Into<String>, why: impl std::fmt::Display) {
        self.0.push(EngineError::Teardown { what: what.into(), why: why.to_string() });
    }

    /// Ok when nothing failed, the one failure, or all of them.
    pub(crate) fn into_result(mut self) -> Result<()> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(self.0.remove(0)),
            _ => Err(EngineError::Many(self.0)),
        }
    }
}

/// The broad class of an error, for front ends to map to their codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Something named does not exist (404).
    NotFound,
    /// Bad input (400).
    Invalid,
    /// Credentials are missing or wrong (401).
    Unauthorized,
    /// Refused: the target is read-only (403).
    Forbidden,
    /// Conflicts with the current state (409).
    Conflict,
    /// The command is missing in the container (docker's 127).
    CommandNotFound,
    /// The command cannot be run (docker's 126).
    CommandNotExecutable,
    /// Anything else (500).
    Internal,
}

impl EngineError {
    /// The class of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::NoSuchContainer(_)
            | EngineError::NoSuchNetwork(_)
            | EngineError::NoSuchVolume(_)
            | EngineError::NoSuchPath { .. } => ErrorKind::NotFound,
            EngineError::ReadOnly(_) => ErrorKind::Forbidden,
            EngineError::Registry(hull_image::registry::RegistryError::Status { status: 404, .. }) => {
                ErrorKind::NotFound
            }
            EngineError::Registry(hull_image::registry::RegistryError::Auth { .. }) => ErrorKind::Unauthorized,
            EngineError::Image(hull_image::images::ImageError::Reference(_)) => ErrorKind::Invalid,
            EngineError::Network(hull_network::NetError::Invalid(_)) => ErrorKind::Invalid,
            EngineError::Network(hull_network::NetError::PortInUse { .. }) => ErrorKind::Conflict,
            EngineError::Image(hull_image::images::ImageError::Store(hull_image::store::StoreError::NoSuchImage(
                _,
            ))) => ErrorKind::NotFound,
            EngineError::Ambiguous(_) | EngineError::Invalid(_) | EngineError::Spec(_) => ErrorKind::Invalid,
            EngineError::NameInUse { .. } | EngineError::Conflict { .. } | EngineError::InUse(_) => ErrorKind::Conflict,
            EngineError::CommandNotFound(_) => ErrorKind::CommandNotFound,
            EngineError::CommandNotExecutable(_) => ErrorKind::CommandNotExecutable,
            // The first failure is what was asked; the others came of undoing it.
            EngineError::Many(all) => all.first().map_or(ErrorKind::Internal, EngineError::kind),
            _ => ErrorKind::Internal,
        }
    }
}

impl EngineError {
    /// This error, and what undoing its operation failed to undo.
    pub(crate) fn with_cleanup(self, cleanup: Result<()>) -> EngineError {
        match cleanup {
            Ok(()) => self,
            Err(c) => {
                let mut all = match self {
                    EngineError::Many(all) => all,
                    e => vec![e],
                };
                match c {
                    EngineError::Many(more) => all.extend(more),
                    c => all.push(c),
                }
                EngineError::Many(all)
            }
        }
    }
}

/// Wraps an io::Error with what was done to what.
pub(crate) fn io(op: &'static str, path: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> EngineError {
    let path = path.to_string();
    move |source| EngineError::Io { op, path, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_of_a_teardown_is_kept_and_the_first_says_the_kind() {
        let mut f = Failures::default();
        assert!(f.note(Ok::<_, EngineError>(1)) == Some(1));
        assert!(Failures::default().into_result().is_ok());
        f.fail("unmount /x/rootfs", "Device or resource busy");
        f.note(Err::<(), _>(EngineError::Many(vec![
            EngineError::Teardown { what: "remove the cgroup /a".into(), why: "busy".into() },
            EngineError::Invalid("bad".into()),
        ])));
        let e = f.into_result().unwrap_err();
        let EngineError::Many(all) = &e else { panic!("{e:?}") };
        assert_eq!(all.len(), 3, "nested failures are flattened");
        assert_eq!(e.to_string(), "unmount /x/rootfs: Device or resource busy; remove the cgroup /a: busy; bad");
        // An operation's own error keeps its kind (a missing command stays
        // 127) when undoing it also failed.
        let e = EngineError::CommandNotFound("no sh".into())
            .with_cleanup(Err(EngineError::Teardown { what: "network n".into(), why: "DEL".into() }));
        assert_eq!(e.kind(), ErrorKind::CommandNotFound);
        assert!(e.to_string().starts_with("no sh; network n: DEL"), "{e}");
        assert!(matches!(EngineError::Invalid("x".into()).with_cleanup(Ok(())), EngineError::Invalid(_)));
    }
}
