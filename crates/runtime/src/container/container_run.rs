//! `run`: create and start in one go; in the foreground, wait for the
//! container while forwarding signals, then delete it.

use super::{CreateOptions, Runtime};
use crate::error::{Context, Result};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

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
        let opts = CreateOptions { attach_terminal: !detach, ..opts.clone() };
        let opts = &opts;
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
        let code = wait_forwarding(pid, set, created.console)?;
        if !keep {
            if let Err(e) = self.delete(&opts.id, true) {
                warnings.push(e.to_string());
            }
        }
        Ok((RunOutcome::Exited(code), warnings))
    }
}

/// Waits for the process (our child), forwarding signals sent to us; with
/// a terminal master, also copies our stdin to it and its output to our
/// stdout (our terminal in raw mode, SIGWINCH passed on as a resize).
pub(super) fn wait_forwarding(pid: i32, set: SigSet, console: Option<OwnedFd>) -> Result<i32> {
    let sfd = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC).ctx("signalfd", "forwarded signals")?;
    let pidfd = crate::sys::pidfd_open(pid).ctx("pidfd_open", pid)?;
    let _raw = console.as_ref().and_then(|_| crate::terminal::RawMode::enter(0));
    if let (Some(m), Some((rows, cols))) = (&console, crate::terminal::get_size(0)) {
        let _ = crate::terminal::set_size(m.as_raw_fd(), rows, cols);
    }
    let mut stdin_open = console.is_some();
    let mut master_open = console.is_some();
    loop {
        // SAFETY: fd 0 stays open for the life of the process.
        let stdin = unsafe { BorrowedFd::borrow_raw(0) };
        let mut fds = vec![PollFd::new(pidfd.as_fd(), PollFlags::POLLIN), PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        if let (Some(m), true) = (&console, master_open) {
            fds.push(PollFd::new(m.as_fd(), PollFlags::POLLIN));
        }
        if stdin_open {
            fds.push(PollFd::new(stdin, PollFlags::POLLIN));
        }
        match nix::poll::poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => other.ctx("poll", "container process")?,
        };
        let ready = |i: usize| fds.get(i).and_then(|f| f.revents()).is_some_and(|r| !r.is_empty());
        let (exited, signalled) = (ready(0), ready(1));
        let master_ready = master_open && ready(2);
        let stdin_ready = stdin_open && ready(if master_open { 3 } else { 2 });
        drop(fds);
        if signalled {
            if let Ok(Some(info)) = sfd.read_signal() {
                match (Signal::try_from(info.ssi_signo as i32), &console) {
                    (Ok(Signal::SIGWINCH), Some(m)) => {
                        if let Some((rows, cols)) = crate::terminal::get_size(0) {
                            let _ = crate::terminal::set_size(m.as_raw_fd(), rows, cols);
                        }
                    }
                    (Ok(sig), _) => {
                        let _ = nix::sys::signal::kill(Pid::from_raw(pid), sig);
                    }
                    _ => {}
                }
            }
        }
        if let Some(m) = &console {
            if master_ready {
                master_open = copy(m.as_raw_fd(), 1);
            }
            if stdin_ready {
                stdin_open = copy(0, m.as_raw_fd());
            }
        }
        if exited {
            if let (Some(m), true) = (&console, master_open) {
                // Whatever the process wrote last is still in the pty.
                let _ = nix::fcntl::fcntl(m.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK));
                while copy(m.as_raw_fd(), 1) {}
            }
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

/// Copies one read's worth from `from` to `to`; false at EOF or error.
fn copy(from: i32, to: i32) -> bool {
    let mut buf = [0u8; 8192];
    let n = match nix::unistd::read(from, &mut buf) {
        Ok(0) | Err(_) => return false,
        Ok(n) => n,
    };
    // SAFETY: `to` is open for the duration of the call.
    let out = unsafe { BorrowedFd::borrow_raw(to) };
    let mut rest = &buf[..n];
    while !rest.is_empty() {
        match nix::unistd::write(out, rest) {
            Ok(w) => rest = &rest[w..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return false,
        }
    }
    true
}
