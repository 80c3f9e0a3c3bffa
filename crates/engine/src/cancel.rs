//! Ending a follower from outside: a front end whose client went away
//! (the daemon's `logs -f` and `events` streams) triggers it, and the
//! follower, which waits on it beside its inotify, returns. An eventfd.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::Arc;

/// A one-way signal: cheap to clone, triggered once.
#[derive(Debug, Clone)]
pub struct Cancel(Arc<OwnedFd>);

impl Cancel {
    /// A new, untriggered signal.
    pub fn new() -> std::io::Result<Cancel> {
        // SAFETY: eventfd takes an initial value and flags; it returns a new descriptor or -1.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: the descriptor was just made and is owned by nobody else.
        Ok(Cancel(Arc::new(unsafe { OwnedFd::from_raw_fd(fd) })))
    }

    /// Triggers it: every follower waiting on it returns.
    pub fn trigger(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64 to an eventfd we own.
        unsafe { libc::write(self.0.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// Whether it was triggered.
    pub fn is_triggered(&self) -> bool {
        let mut fds = [nix::poll::PollFd::new(self.0.as_fd(), nix::poll::PollFlags::POLLIN)];
        nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO).is_ok_and(|n| n > 0)
    }

    /// The descriptor to poll (readable once triggered).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
