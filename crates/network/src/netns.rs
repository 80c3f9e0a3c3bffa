//! Persistent network namespaces: a namespace kept alive by a bind mount
//! of its nsfs file (as `ip netns add` does), so CNI can set it up before
//! the container's process exists and the container keeps it across
//! restarts by its policy.

use crate::NetError;
use std::path::Path;

/// Creates a new network namespace, brings its loopback up and pins it at
/// `path` (an empty file bind-mounted over by the namespace).
pub fn create(path: &Path) -> Result<(), NetError> {
    let io =
        |op: &'static str| move |e: std::io::Error| NetError::Io { op, path: path.display().to_string(), source: e };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io("mkdir"))?;
    }
    std::fs::OpenOptions::new().write(true).create_new(true).open(path).map_err(io("create"))?;
    let target = path.to_path_buf();
    // A thread of its own: unshare(CLONE_NEWNET) moves only the calling
    // thread, which ends with it; the rest of the process stays where it is.
    let made = std::thread::spawn(move || -> std::io::Result<()> {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)?;
        loopback_up()?;
        nix::mount::mount(
            Some("/proc/thread-self/ns/net"),
            &target,
            None::<&str>,
            nix::mount::MsFlags::MS_BIND,
            None::<&str>,
        )?;
        Ok(())
    })
    .join()
    .unwrap_or_else(|_| Err(std::io::Error::other("namespace thread panicked")));
    if let Err(e) = made {
        let _ = std::fs::remove_file(path);
        return Err(io("create network namespace at")(e));
    }
    Ok(())
}

/// Unpins and removes a namespace made by [`create`]; one already gone is fine.
pub fn remove(path: &Path) -> Result<(), NetError> {
    match nix::mount::umount2(path, nix::mount::MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => return Err(NetError::Io { op: "unmount", path: path.display().to_string(), source: e.into() }),
    }
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(NetError::Io { op: "remove", path: path.display().to_string(), source: e }),
    }
}

/// Sets IFF_UP on `lo` in the calling thread's network namespace (the
/// kernel then gives it 127.0.0.1/8 and ::1). The runtime does it too for
/// a container's new namespace, as runc does.
pub fn loopback_up() -> std::io::Result<()> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    // SAFETY: socket() has no memory effects; the result is checked.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fd is a new descriptor nobody else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: ifreq is plain data; all zeroes is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write the ifreq we own.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
