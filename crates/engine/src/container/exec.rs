//! `exec`: a process in a running container, run by the runtime library
//! from the calling process (no shim round trip); its stdio relayed
//! through pipes, or a terminal of its own (never the caller's).

use crate::error::{EngineError, Result};
use crate::model::Status;
use crate::Engine;

/// What `exec` runs.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    /// Command and arguments.
    pub cmd: Vec<String>,
    /// Extra environment.
    pub env: Vec<String>,
    /// `user[:group]`, names or ids, resolved in the container.
    pub user: Option<String>,
    /// Working directory.
    pub workdir: Option<String>,
    /// Allocate a terminal (attached to the caller's).
    pub tty: bool,
    /// Return once started.
    pub detach: bool,
    /// All capabilities.
    pub privileged: bool,
}

impl Engine {
    /// Runs a process in the container; returns its exit code (0 when detached).
    pub fn exec(&self, key: &str, req: &ExecRequest) -> Result<i32> {
        let row = self.refreshed(key)?;
        match row.state.status {
            Status::Running => {}
            Status::Paused => {
                return Err(EngineError::Conflict {
                    id: row.id,
                    status: "paused".into(),
                    what: "unpause the container before exec".into(),
                })
            }
            s => {
                return Err(EngineError::Conflict {
                    id: row.id,
                    status: s.to_string(),
                    what: "container is not running".into(),
                })
            }
        }
        if req.cmd.is_empty() {
            return Err(EngineError::Invalid("no command given to exec".into()));
        }
        let rootfs = self.container_dir(&row.id).join("rootfs");
        let user = match &req.user {
            Some(u) => {
                let (uid, gid, groups, _) = hull_image::runtime_spec::resolve_user(u, &rootfs)?;
                Some((uid, gid, groups))
            }
            None => None,
        };
        let caps = if req.privileged { crate::oci::held_caps() } else { vec![] };
        let rt = self.runtime();
        let mut env = req.env.clone();
        // docker: a process with a terminal gets TERM=xterm unless it asks otherwise.
        if req.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
            env.push("TERM=xterm".into());
        }
        let ask = hull_runtime::ExecRequest {
            args: req.cmd.clone(),
            env,
            cwd: req.workdir.clone().map(Into::into),
            user: user.as_ref().map(|(u, g, _)| (*u, Some(*g))),
            additional_gids: user.map(|(_, _, g)| g).unwrap_or_default(),
            caps,
            tty: req.tty,
            ..Default::default()
        };
        let process = rt.exec_process(&row.id, &ask)?;
        // docker's exec -d discards the process's output: it gets /dev/null,
        // never the caller's descriptors (a terminal among them).
        let stdio = if req.detach { hull_runtime::stdio::ExecStdio::Null } else { Default::default() };
        let opts = hull_runtime::ExecOptions { process, detach: req.detach, stdio, ..Default::default() };
        match rt.exec(&row.id, &opts) {
            Ok(_pid) if req.detach => Ok(0),
            Ok(code) => Ok(code),
            Err(e) => Err(crate::container::start::classify(e)),
        }
    }
}
