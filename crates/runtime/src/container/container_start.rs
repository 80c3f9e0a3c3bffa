//! `start`: release a created container's init into the user process.

use super::Runtime;
use crate::error::{Context, Result, RuntimeError};
use crate::state::Status;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use std::os::fd::{AsFd, FromRawFd, OwnedFd};

impl Runtime {
    /// Starts a created container and runs its poststart hooks. Returns the
    /// poststart hook failures, which the spec makes warnings, not errors.
    pub fn start(&self, id: &str) -> Result<Vec<RuntimeError>> {
        let (dir, record) = self.open(id)?;
        let status = record.status(&dir);
        if status != Status::Created {
            return Err(RuntimeError::WrongStatus {
                id: id.into(),
                status: status.to_string(),
                op: "start",
                wanted: "created",
            });
        }
        let fifo = dir.fifo();
        let raw = nix::fcntl::open(
            &fifo,
            OFlag::O_RDONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .ctx("open", fifo.display())?;
        // SAFETY: open just returned this descriptor and nothing else owns it.
        let fifo_fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let pidfd = crate::sys::pidfd_open(record.pid).ctx("pidfd_open", record.pid)?;
        // Wait for the init's byte, or for the init to die first.
        loop {
            let mut fds =
                [PollFd::new(fifo_fd.as_fd(), PollFlags::POLLIN), PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
            match nix::poll::poll(&mut fds, PollTimeout::NONE) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => other.ctx("poll", "exec fifo")?,
            };
            let fifo_ready = fds[0].revents().is_some_and(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP));
            if fifo_ready {
                let mut buf = [0u8; 1];
                if matches!(nix::unistd::read(raw, &mut buf), Ok(1)) {
                    break;
                }
            }
            if fds[1].revents().is_some_and(|r| r.contains(PollFlags::POLLIN)) {
                return Err(RuntimeError::Init(format!("container {id} init exited before it could start")));
            }
        }
        let _ = std::fs::remove_file(&fifo);
        let hooks = record.hooks.as_ref().and_then(|h| h.poststart.clone()).unwrap_or_default();
        Ok(crate::hooks::run_all_best_effort("poststart", &hooks, &record.oci_state(Status::Running)))
    }
}
