//! `--pidfd-socket`: a pidfd of the container's init (or of an exec'd
//! process) sent over a unix socket, as runc does, so that the caller can
//! signal and wait for it without racing pid reuse.

use crate::error::{Context, Result};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::path::Path;

/// A connection to the caller's socket, made before the process exists so
/// that a wrong path fails before anything is set up.
pub struct PidfdSocket {
    stream: UnixStream,
    shown: String,
}

impl PidfdSocket {
    /// Connects to the socket at `path`.
    pub fn connect(path: &Path) -> Result<PidfdSocket> {
        let stream = UnixStream::connect(path).ctx("connect to pidfd socket", path.display())?;
        Ok(PidfdSocket { stream, shown: path.display().to_string() })
    }

    /// Sends a pidfd of `pid`.
    pub fn send(&self, pid: i32) -> Result<()> {
        let pidfd = crate::sys::pidfd_open(pid).ctx("pidfd_open", pid)?;
        crate::sync::send_fd(self.stream.as_raw_fd(), b"pidfd", pidfd.as_raw_fd()).ctx("send pidfd to", &self.shown)
    }
}
