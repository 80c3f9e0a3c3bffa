//! `run`: create and start in one go; in the foreground, wait for the
//! container while forwarding signals, then delete it.

use super::{CreateOptions, Runtime};
use crate::error::{Context, Result};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

/// How a foreground container ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Detached: the container keeps running.
    Detached,
    /// Exited with this code (128+N for signal N).
    Exited(i32),
}

pub(super) const FORWARDED: &[Signal] = &[
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

impl Runtime {
    /// Runs a container. `keep` leaves a foreground container's state behind.
    pub fn run(&self, opts: &CreateOptions, detach: bool, keep: bool) -> Result<(RunOutcome, Vec<String>)> {
        let created = self.create(opts)?;
        let mut warnings = created.warnings;
        let pid = created.record.pid;
        // Block the forwarded signals before start, so none is lost in between.
        let mut set = SigSet::empty();
        if !detach {
            FORWARDED.iter().for_each(|s| set.add(*s));
            set.thread_block().ctx("sigprocmask", "forwarded signals")?;
        }
        match self.start(&opts.id) {
            Ok(w) => warnings.extend(w.iter().map(|e| e.to_string())),
            Err(e) => {
                let _ = self.delete(&opts.id, true);
                return Err(e);
            }
        };
        if detach {
            return Ok((RunOutcome::Detached, warnings));
        }
        let code = wait_forwarding(pid, set)?;
        if !keep {
            if let Err(e) = self.delete(&opts.id, true) {
                warnings.push(e.to_string());
            }
        }
        Ok((RunOutcome::Exited(code), warnings))
    }
}

/// Waits for the init (our child), forwarding signals sent to us.
pub(super) fn wait_forwarding(pid: i32, set: SigSet) -> Result<i32> {
    let sfd = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC).ctx("signalfd", "forwarded signals")?;
    let pidfd = crate::sys::pidfd_open(pid).ctx("pidfd_open", pid)?;
    use nix::poll::{PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    loop {
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN), PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        match nix::poll::poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => other.ctx("poll", "container init")?,
        };
        if fds[1].revents().is_some_and(|r| r.contains(PollFlags::POLLIN)) {
            if let Ok(Some(info)) = sfd.read_signal() {
                if let Ok(sig) = Signal::try_from(info.ssi_signo as i32) {
                    let _ = nix::sys::signal::kill(Pid::from_raw(pid), sig);
                }
            }
        }
        if fds[0].revents().is_some_and(|r| r.contains(PollFlags::POLLIN)) {
            break;
        }
    }
    match waitpid(Pid::from_raw(pid), None).ctx("waitpid", pid)? {
        WaitStatus::Exited(_, code) => Ok(code),
        WaitStatus::Signaled(_, sig, _) => Ok(128 + sig as i32),
        // Stopped/continued cannot happen without WUNTRACED; treat as unknown.
        _ => Ok(255),
    }
}
