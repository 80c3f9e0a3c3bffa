//! Terminals: a pty created in the container's devpts whose slave becomes
//! the process's stdio and controlling terminal; the master goes to the
//! caller over `--console-socket` (SCM_RIGHTS, as runc sends it) or is
//! attached to the runtime's own terminal by a foreground `run`/`exec`.

use crate::error::{sys, Context, Result};
use hull_spec::ConsoleSize;
use nix::fcntl::OFlag;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

const TIOCGPTPEER: libc::c_ulong = 0x5441;

/// Opens a pty pair in the current mount namespace's /dev/ptmx.
pub fn open_pty(size: Option<ConsoleSize>) -> Result<(OwnedFd, OwnedFd)> {
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC).ctx("open", "/dev/ptmx")?;
    nix::pty::grantpt(&master).ctx("grantpt", "/dev/ptmx")?;
    nix::pty::unlockpt(&master).ctx("unlockpt", "/dev/ptmx")?;
    // SAFETY: TIOCGPTPEER takes open flags and returns a new descriptor for
    // the slave of this very master (immune to /dev/pts path games).
    let slave =
        unsafe { libc::ioctl(master.as_raw_fd(), TIOCGPTPEER, libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC) };
    if slave < 0 {
        return Err(sys("ioctl TIOCGPTPEER", "/dev/ptmx", std::io::Error::last_os_error()));
    }
    // SAFETY: the kernel just returned this descriptor.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    if let Some(sz) = size {
        set_size(slave.as_raw_fd(), sz.height as u16, sz.width as u16)?;
    }
    let master = master.into_raw_fd_owned();
    Ok((master, slave))
}

trait IntoOwned {
    fn into_raw_fd_owned(self) -> OwnedFd;
}

impl IntoOwned for nix::pty::PtyMaster {
    fn into_raw_fd_owned(self) -> OwnedFd {
        use std::os::fd::IntoRawFd;
        // SAFETY: into_raw_fd gives up ownership of a valid descriptor.
        unsafe { OwnedFd::from_raw_fd(self.into_raw_fd()) }
    }
}

/// Clears ONLCR: the terminal passes `\n` through rather than writing
/// `\r\n` (runc does this for the terminals it relays).
pub fn clear_onlcr(fd: &OwnedFd) -> Result<()> {
    use nix::sys::termios::{tcgetattr, tcsetattr, OutputFlags, SetArg};
    let mut t = tcgetattr(fd).ctx("tcgetattr", "terminal")?;
    t.output_flags.remove(OutputFlags::ONLCR);
    tcsetattr(fd, SetArg::TCSANOW, &t).ctx("tcsetattr", "terminal")
}

/// Sets a terminal's window size.
pub fn set_size(fd: RawFd, rows: u16, cols: u16) -> Result<()> {
    let ws = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: ws is a valid winsize for TIOCSWINSZ.
    if unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) } < 0 {
        return Err(sys("ioctl TIOCSWINSZ", "terminal", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// A terminal's window size, if `fd` is one.
pub fn get_size(fd: RawFd) -> Option<(u16, u16)> {
    let mut ws = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: ws is a valid out-parameter for TIOCGWINSZ.
    (unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut ws) } == 0).then_some((ws.ws_row, ws.ws_col))
}

/// Makes the slave our controlling terminal and stdio (new session first).
pub fn make_controlling(slave: &OwnedFd) -> Result<()> {
    nix::unistd::setsid().ctx("setsid", "terminal session")?;
    // SAFETY: TIOCSCTTY takes an integer argument.
    if unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCSCTTY, 0) } < 0 {
        return Err(sys("ioctl TIOCSCTTY", "terminal", std::io::Error::last_os_error()));
    }
    for target in 0..=2 {
        // SAFETY: dup2 onto the standard descriptors; slave stays valid.
        if unsafe { libc::dup2(slave.as_raw_fd(), target) } < 0 {
            return Err(sys("dup2", format!("terminal to fd {target}"), std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// Bind-mounts the slave on /dev/console, as runc does.
pub fn mount_console(slave: &OwnedFd) -> Result<()> {
    let console = Path::new("/dev/console");
    if !console.exists() {
        std::fs::File::create(console).ctx("create", "/dev/console")?;
    }
    let source = format!("/proc/self/fd/{}", slave.as_raw_fd());
    nix::mount::mount(Some(source.as_str()), console, None::<&str>, nix::mount::MsFlags::MS_BIND, None::<&str>)
        .ctx("bind terminal on", "/dev/console")
}

/// Sends the master to a `--console-socket` listener.
pub fn send_to_console_socket(socket: &Path, master: &OwnedFd) -> Result<()> {
    let sock = std::os::unix::net::UnixStream::connect(socket).ctx("connect to console socket", socket.display())?;
    crate::sync::send_fd(sock.as_raw_fd(), b"/dev/ptmx", master.as_raw_fd()).ctx("send terminal to", socket.display())
}

/// Puts our terminal in raw mode until dropped.
pub struct RawMode {
    fd: RawFd,
    saved: nix::sys::termios::Termios,
}

impl RawMode {
    /// Raw mode on `fd` if it is a terminal.
    pub fn enter(fd: RawFd) -> Option<RawMode> {
        // SAFETY: fd is one of our standard descriptors, open for the call.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let saved = nix::sys::termios::tcgetattr(borrowed).ok()?;
        let mut raw = saved.clone();
        nix::sys::termios::cfmakeraw(&mut raw);
        nix::sys::termios::tcsetattr(borrowed, nix::sys::termios::SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { fd, saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        // SAFETY: as in enter.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(self.fd) };
        let _ = nix::sys::termios::tcsetattr(borrowed, nix::sys::termios::SetArg::TCSANOW, &self.saved);
    }
}
