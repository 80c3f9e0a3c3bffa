//! The container's standard streams as the shim holds them: pipes, or the
//! master of the terminal the runtime made in the container.

use nix::fcntl::OFlag;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// The shim's ends.
pub struct Stdio {
    /// stdout, or the terminal's master.
    pub out: Option<OwnedFd>,
    /// stderr (pipes only).
    pub err: Option<OwnedFd>,
    /// The container's stdin (write end), when it is kept open.
    pub stdin: Option<OwnedFd>,
}

/// The container's ends, put on fds 0-2 while the runtime creates the init.
pub struct ContainerEnds {
    stdin: Option<OwnedFd>,
    out: OwnedFd,
    err: OwnedFd,
}

/// Pipes for a container without a terminal.
pub fn pipes(stdin: bool) -> nix::Result<(Stdio, ContainerEnds)> {
    let flags = OFlag::O_CLOEXEC;
    let (out_r, out_w) = nix::unistd::pipe2(flags)?;
    let (err_r, err_w) = nix::unistd::pipe2(flags)?;
    let (in_r, in_w) = if stdin {
        let (r, w) = nix::unistd::pipe2(flags)?;
        (Some(r), Some(w))
    } else {
        (None, None)
    };
    Ok((
        Stdio { out: Some(out_r), err: Some(err_r), stdin: in_w },
        ContainerEnds { stdin: in_r, out: out_w, err: err_w },
    ))
}

/// Runs `f` with the container's ends on fds 0-2 (the init inherits them),
/// then points 0-1 back at /dev/null and 2 back at the shim's own stderr
/// (its log): the shim must not keep a write end of the container's pipes.
pub fn with_ends<T>(ends: Option<ContainerEnds>, f: impl FnOnce() -> T) -> T {
    let saved = ends.as_ref().and_then(|_| nix::unistd::dup(2).ok());
    if let Some(e) = &ends {
        match &e.stdin {
            Some(i) => dup_to(i.as_raw_fd(), 0),
            None => null_to(0),
        }
        dup_to(e.out.as_raw_fd(), 1);
        dup_to(e.err.as_raw_fd(), 2);
    }
    let out = f();
    if ends.is_some() {
        null_to(0);
        null_to(1);
        match saved {
            Some(fd) => {
                dup_to(fd, 2);
                let _ = nix::unistd::close(fd);
            }
            None => null_to(2),
        }
    }
    out
}

fn dup_to(from: RawFd, to: RawFd) {
    // SAFETY: dup2 onto 0-2, which this process owns and may replace.
    unsafe { libc::dup2(from, to) };
}

fn null_to(fd: RawFd) {
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        dup_to(null.as_raw_fd(), fd);
    }
}

/// Sets O_NONBLOCK.
pub fn nonblocking(fd: RawFd) {
    let _ = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
}
