//! The container's standard streams as the shim holds them: pipes, or the
//! master of the terminal the runtime made in the container.

use nix::fcntl::OFlag;
use std::os::fd::{OwnedFd, RawFd};

/// The shim's ends.
pub struct Stdio {
    /// stdout, or the terminal's master.
    pub out: Option<OwnedFd>,
    /// stderr (pipes only).
    pub err: Option<OwnedFd>,
    /// The container's stdin (write end), when it is kept open.
    pub stdin: Option<OwnedFd>,
}

/// The container's ends, which the runtime installs as the init's 0-2.
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

impl ContainerEnds {
    /// The init's stdin (its pipe, or /dev/null), stdout and stderr, for
    /// the runtime to install in the init: the shim's own 0-2 stay as they are.
    pub fn into_fds(self) -> std::io::Result<[OwnedFd; 3]> {
        let stdin = match self.stdin {
            Some(i) => i,
            None => std::fs::File::open("/dev/null")?.into(),
        };
        Ok([stdin, self.out, self.err])
    }
}

/// Sets O_NONBLOCK.
pub fn nonblocking(fd: RawFd) {
    let _ = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
}
