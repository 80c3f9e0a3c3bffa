//! Pipes and terminal masters on tokio's reactor. A terminal's master comes
//! from the shim, which shares its file description and makes it
//! non-blocking: reading it on the blocking pool would see `EAGAIN` as an
//! error and lose what the process writes later, so both kinds of descriptor
//! are waited on for readiness instead.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use tokio::io::unix::AsyncFd;

/// A descriptor read and written when ready.
pub struct FdIo(AsyncFd<OwnedFd>);

impl FdIo {
    /// Makes `fd` non-blocking and registers it.
    pub fn new(fd: OwnedFd) -> io::Result<FdIo> {
        let flags = nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_GETFL)?;
        let flags = nix::fcntl::OFlag::from_bits_truncate(flags) | nix::fcntl::OFlag::O_NONBLOCK;
        nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFL(flags))?;
        // SAFETY: an OwnedFd is open and stays the same descriptor until the
        // AsyncFd that owns it is dropped.
        let registered = unsafe { AsyncFd::register(fd) }.map_err(io::Error::from)?;
        Ok(FdIo(registered))
    }

    /// Reads what is there, waiting for some; 0 at the end. A terminal's
    /// `EIO` (no process has its other side open any more) is the end.
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut ready = self.0.readable().await?;
            match ready.try_io(|fd| nix::unistd::read(fd.as_raw_fd(), buf).map_err(io::Error::from)) {
                Ok(Err(e)) if e.raw_os_error() == Some(libc::EIO) => return Ok(0),
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
    }

    /// Writes all of `buf`, waiting while the descriptor is full.
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let mut ready = self.0.writable().await?;
            match ready.try_io(|fd| nix::unistd::write(fd.get_ref(), buf).map_err(io::Error::from)) {
                Ok(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(Ok(n)) => buf = &buf[n..],
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }
}
