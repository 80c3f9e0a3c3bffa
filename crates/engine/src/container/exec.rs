//! `exec`: a process in a running container, started and supervised by
//! the container's shim (its only way in). Without a terminal the process
//! gets the caller's descriptors (or /dev/null) directly, so nothing is
//! relayed; with one, the caller gets the terminal's master. The caller
//! keeps the connection to learn the exit code; a detached exec's
//! process goes on under the shim, which records its end.

use crate::error::{io, EngineError, Result};
use crate::model::Status;
use crate::Engine;
use hull_shim::protocol::{self, kind, Request};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;

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

/// The stdio an exec'd process gets.
#[derive(Debug)]
pub enum ExecIo {
    /// /dev/null on all three (docker's `exec -d`).
    Null,
    /// These descriptors as its 0, 1 and 2.
    Fds([OwnedFd; 3]),
    /// A terminal of its own; the session holds the master.
    Terminal,
}

/// An exec'd process, started.
#[derive(Debug)]
pub struct ExecSession {
    stream: UnixStream,
    /// The exec's id.
    pub id: String,
    /// The container's id.
    pub container: String,
    /// Its pid (on the host).
    pub pid: i32,
    /// Its terminal's master (with `ExecIo::Terminal`).
    pub console: Option<OwnedFd>,
}

impl ExecSession {
    /// The connection to poll for the end ([`ExecSession::wait`] then reads it).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.stream.as_fd()
    }

    /// Blocks until the process ends; its exit code (128+N for signal N).
    pub fn wait(self) -> Result<i32> {
        self.read_exit()
    }

    /// [`ExecSession::wait`] without giving the session up (once
    /// [`ExecSession::fd`] is readable it does not block for long).
    pub fn read_exit(&self) -> Result<i32> {
        let mut stream = &self.stream;
        loop {
            match protocol::read_frame(&mut stream).map_err(io("read", "shim control socket"))? {
                Some((kind::EXIT, code)) => {
                    return String::from_utf8_lossy(&code)
                        .trim()
                        .parse()
                        .map_err(|_| EngineError::Shim(format!("exec {}: bad exit frame", self.id)))
                }
                Some(_) => {}
                // The shim went away (the container stopped with it).
                None => return Ok(137),
            }
        }
    }
}

impl Engine {
    /// The OCI process an exec request makes, from the container's config.
    fn exec_process(&self, row: &crate::db::Row, req: &ExecRequest) -> Result<hull_spec::Process> {
        match row.state.status {
            Status::Running => {}
            Status::Paused => {
                return Err(EngineError::Conflict {
                    id: row.id.clone(),
                    status: "paused".into(),
                    what: "unpause the container before exec".into(),
                })
            }
            s => {
                return Err(EngineError::Conflict {
                    id: row.id.clone(),
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
        // Another runtime's state is its own: the container's process is in its bundle.
        let process = if row.config.runtime.is_empty() {
            rt.exec_process(&row.id, &ask)?
        } else {
            let bundle = self.container_dir(&row.id).join("config.json");
            let spec = hull_spec::Spec::load(&bundle).map_err(hull_runtime::RuntimeError::from)?;
            hull_runtime::exec_process_from(spec.process.unwrap_or_default(), &ask)
        };
        Ok(process)
    }

    /// Starts a process in the container through its shim.
    pub fn exec_start(&self, key: &str, req: &ExecRequest, stdio: ExecIo) -> Result<ExecSession> {
        let row = self.refreshed(key)?;
        let mut req = req.clone();
        req.tty = matches!(stdio, ExecIo::Terminal);
        let process = self.exec_process(&row, &req)?;
        let exec_id = crate::names::new_id().map_err(io("read", "/dev/urandom"))?;
        let stream = self.control(&row.id)?;
        let line = serde_json::to_string(&Request::Exec { id: exec_id.clone(), process: Box::new(process) })
            .unwrap_or_default();
        let null;
        let fds: Vec<std::os::fd::RawFd> = match &stdio {
            ExecIo::Terminal => vec![],
            ExecIo::Fds(f) => f.iter().map(|f| f.as_raw_fd()).collect(),
            ExecIo::Null => {
                null = std::fs::File::options()
                    .read(true)
                    .write(true)
                    .open("/dev/null")
                    .map_err(io("open", "/dev/null"))?;
                vec![null.as_raw_fd(); 3]
            }
        };
        protocol::send_line(&stream, &line, &fds).map_err(io("write", "shim control socket"))?;
        drop(stdio);
        let (answer, mut got) = protocol::recv_line(&stream).map_err(io("read", "shim control socket"))?;
        if let Some(f) = protocol::Failure::parse(&answer) {
            return Err(crate::container::start::failure(f));
        }
        let started: protocol::ExecStarted = serde_json::from_str(&answer)
            .map_err(|e| EngineError::Shim(format!("exec: unexpected answer {answer:?}: {e}")))?;
        // docker names the command in the action itself.
        let command = req.cmd.join(" ");
        for action in ["exec_create", "exec_start"] {
            self.emit_container(&row, &format!("{action}: {command}"), &[("execID", exec_id.clone())]);
        }
        Ok(ExecSession { stream, id: exec_id, container: row.id, pid: started.pid, console: got.pop() })
    }

    /// What the shim recorded of an exec: its pid, and its exit once it ended.
    pub fn exec_record(&self, container: &str, exec_id: &str) -> Result<hull_shim::config::ExecRecord> {
        let row = self.db().find(container)?;
        let path = self.shim_dir(&row.id).join(hull_shim::config::exec_record_file(exec_id));
        hull_shim::config::read_json(&path)
            .map_err(io("read", path.display()))?
            .ok_or_else(|| EngineError::Invalid(format!("no such exec: {exec_id}")))
    }

    /// Sends a signal to an exec'd process (through its shim).
    pub fn exec_signal(&self, session: &ExecSession, signal: i32) -> Result<()> {
        let req = Request::Signal { signal, stop: false, timeout: None, exec: Some(session.id.clone()) };
        self.shim_request(&session.container, &req)
    }

    /// Runs a process in the container with the caller's stdio (or none,
    /// detached); returns its exit code (0 when detached).
    pub fn exec(&self, key: &str, req: &ExecRequest) -> Result<i32> {
        if req.detach {
            self.exec_start(key, req, ExecIo::Null)?;
            return Ok(0);
        }
        let dup = |fd: i32| -> Result<OwnedFd> {
            // SAFETY: our standard descriptors are open for the life of the process.
            let b = unsafe { BorrowedFd::borrow_raw(fd) };
            b.try_clone_to_owned().map_err(io("dup", "stdio"))
        };
        self.exec_start(key, req, ExecIo::Fds([dup(0)?, dup(1)?, dup(2)?]))?.wait()
    }
}
