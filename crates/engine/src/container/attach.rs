//! The client side of the shim's control socket.

use crate::error::{io, EngineError, Result};
use crate::Engine;
use hull_shim::protocol::Request;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;

/// A connection streaming a container's output (see hull_shim::protocol).
pub struct AttachStream {
    /// The socket: read frames, write stdin frames.
    pub stream: UnixStream,
    /// The container has a terminal (one raw stream).
    pub tty: bool,
}

impl Engine {
    pub(crate) fn control(&self, id: &str) -> Result<UnixStream> {
        let dir = self.shim_dir(id);
        let path = dir.join(hull_shim::config::SOCKET_FILE);
        let dir_fd = hull_shim::config::open_dir(&dir).map_err(io("open", dir.display()))?;
        UnixStream::connect(hull_shim::config::socket_path(&dir_fd)).map_err(io("connect", path.display()))
    }

    /// Sends a one-line request and reads the one-line answer.
    pub(crate) fn shim_request(&self, id: &str, req: &Request) -> Result<()> {
        match self.shim_query(id, req)?.as_str() {
            "ok" => Ok(()),
            other => Err(EngineError::Shim(format!("unexpected answer {other:?}"))),
        }
    }

    /// Sends `req` and returns the shim's one-line answer (an `error: `
    /// answer is the error).
    pub(crate) fn shim_query(&self, id: &str, req: &Request) -> Result<String> {
        let mut s = self.control(id)?;
        let line = serde_json::to_string(req).unwrap_or_default();
        s.write_all(format!("{line}\n").as_bytes()).map_err(io("write", "shim control socket"))?;
        let mut answer = String::new();
        BufReader::new(&s).read_line(&mut answer).map_err(io("read", "shim control socket"))?;
        let answer = answer.trim();
        match answer.strip_prefix("error: ") {
            Some(why) => Err(EngineError::Shim(why.to_string())),
            None if answer.is_empty() => Err(EngineError::Shim("the shim closed the connection".into())),
            None => Ok(answer.to_string()),
        }
    }

    /// Attaches to a running container's output (and stdin).
    pub fn attach(&self, key: &str, stdin: bool) -> Result<AttachStream> {
        let row = self.refreshed(key)?;
        if !row.state.status.is_live() {
            return Err(EngineError::Conflict {
                id: row.id,
                status: row.state.status.to_string(),
                what: "You cannot attach to a stopped container, start it first".into(),
            });
        }
        let mut s = self.control(&row.id)?;
        let line = serde_json::to_string(&Request::Attach { stdin }).unwrap_or_default();
        s.write_all(format!("{line}\n").as_bytes()).map_err(io("write", "shim control socket"))?;
        self.emit_container(&row, "attach", &[]);
        Ok(AttachStream { stream: s, tty: row.config.tty })
    }

    /// Records docker's `attach` event for a client that attached before
    /// start (a front end holding the stream for the coming start).
    pub fn attached_before_start(&self, key: &str) -> Result<()> {
        let row = self.db().find(key)?;
        self.emit_container(&row, "attach", &[]);
        Ok(())
    }

    /// Resizes a container's terminal.
    pub fn resize(&self, key: &str, rows: u16, cols: u16) -> Result<()> {
        let row = self.db().find(key)?;
        self.shim_request(&row.id, &Request::Resize { rows, cols })
    }

    /// Waits for a container to end for good; returns its exit code.
    pub fn wait(&self, key: &str) -> Result<i32> {
        self.wait_for(key, crate::events::WaitCondition::NotRunning)
    }
}
