//! The standard descriptors of a process the runtime starts in a container
//! without a terminal, and the relay that copies them.
//!
//! A container process never receives a host terminal: with one it could
//! inject keystrokes into the operator's shell (`ioctl(TIOCSTI)`) after the
//! command returned. In the foreground it gets pipes, which the runtime
//! relays to and from its own stdio (as runc's foreground mode and conmon
//! do); detached, it gets the caller's descriptors as runc does (containerd
//! passes fifos that way), save any that is a terminal, which becomes
//! /dev/null.

use crate::error::{Context, Result};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

/// How an exec'd process's stdio is given.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ExecStdio {
    /// Pipes relayed by the runtime in the foreground; the caller's
    /// descriptors, terminals excepted, when detached.
    #[default]
    Caller,
    /// /dev/null on all three (docker's `exec -d`: output discarded).
    Null,
}

/// The descriptors the child installs as 0, 1 and 2 (all numbered 3 and
/// above, close-on-exec until installed).
#[derive(Debug)]
pub struct ChildStdio([OwnedFd; 3]);

/// The runtime's ends of the pipes: what it writes to the process's stdin
/// and reads from its stdout and stderr.
#[derive(Debug)]
pub struct Relay {
    /// Write end of the process's stdin.
    pub stdin: OwnedFd,
    /// Read end of its stdout.
    pub stdout: OwnedFd,
    /// Read end of its stderr.
    pub stderr: OwnedFd,
}

fn above_stdio(fd: BorrowedFd) -> Result<OwnedFd> {
    nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(3))
        .ctx("dup", "stdio descriptor")
        // SAFETY: F_DUPFD_CLOEXEC returned a new descriptor we own.
        .map(|fd| unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) })
}

fn dev_null() -> Result<OwnedFd> {
    let f = std::fs::File::options().read(true).write(true).open("/dev/null").ctx("open", "/dev/null")?;
    above_stdio(f.as_fd())
}

fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).ctx("pipe", "stdio")?;
    Ok((above_stdio(r.as_fd())?, above_stdio(w.as_fd())?))
}

impl ChildStdio {
    /// Three pipes: the child's ends, and the relay's.
    pub fn pipes() -> Result<(ChildStdio, Relay)> {
        let (in_r, in_w) = pipe()?;
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        Ok((ChildStdio([in_r, out_w, err_w]), Relay { stdin: in_w, stdout: out_r, stderr: err_r }))
    }

    /// The caller's 0, 1 and 2, each replaced by /dev/null if it is a
    /// terminal or closed.
    pub fn inherited_without_terminals() -> Result<ChildStdio> {
        let one = |fd: RawFd| -> Result<OwnedFd> {
            // SAFETY: fcntl(F_GETFD) only checks that the number is open.
            if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
                return dev_null();
            }
            // SAFETY: fd is open (checked above) for the duration of this call.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            if nix::unistd::isatty(fd.as_raw_fd()).unwrap_or(false) {
                dev_null()
            } else {
                above_stdio(fd)
            }
        };
        Ok(ChildStdio([one(0)?, one(1)?, one(2)?]))
    }

    /// The caller's descriptors, moved above the standard numbers.
    pub fn from_fds(fds: [OwnedFd; 3]) -> Result<ChildStdio> {
        let [a, b, c] = fds;
        Ok(ChildStdio([above_stdio(a.as_fd())?, above_stdio(b.as_fd())?, above_stdio(c.as_fd())?]))
    }

    /// /dev/null on all three.
    pub fn null() -> Result<ChildStdio> {
        Ok(ChildStdio([dev_null()?, dev_null()?, dev_null()?]))
    }

    /// In the child: installs the descriptors as 0, 1 and 2.
    pub fn install(&self) -> Result<()> {
        for (target, fd) in self.0.iter().enumerate() {
            // SAFETY: dup2 onto a standard descriptor; `fd` stays valid.
            if unsafe { libc::dup2(fd.as_raw_fd(), target as RawFd) } < 0 {
                return Err(crate::error::sys(
                    "dup2",
                    format!("stdio to fd {target}"),
                    std::io::Error::last_os_error(),
                ));
            }
        }
        Ok(())
    }
}

/// Opens /dev/null on any of 0, 1 and 2 that is closed, so that no
/// descriptor the process opens later takes a standard number (a pipe on
/// fd 0 would be replaced by a child's stdin, say). Call first in main.
pub fn open_missing_standard_fds() {
    for fd in 0..=2 {
        // SAFETY: fcntl(F_GETFD) only checks that the number is open.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            // The lowest free number is `fd` itself: keep it open for good.
            if let Ok(f) = std::fs::File::options().read(true).write(true).open("/dev/null") {
                std::mem::forget(f);
            }
        }
    }
}
