//! Device nodes in the container's /dev and the standard /dev symlinks.

use crate::error::{Context, Result};
use crate::rootfs::secure_join;
use hull_spec::Device;
use nix::mount::{mount, MsFlags};
use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use std::path::Path;

fn default_device(path: &str, major: i64, minor: i64) -> Device {
    Device { typ: "c".into(), path: path.into(), major, minor, file_mode: Some(0o666), uid: Some(0), gid: Some(0) }
}

/// The devices every container gets.
pub fn defaults() -> Vec<Device> {
    vec![
        default_device("/dev/null", 1, 3),
        default_device("/dev/zero", 1, 5),
        default_device("/dev/full", 1, 7),
        default_device("/dev/random", 1, 8),
        default_device("/dev/urandom", 1, 9),
        default_device("/dev/tty", 5, 0),
    ]
}

/// Creates each device under `rootfs` (bind-mounting the host's node when a
/// user namespace forbids mknod).
pub fn create(rootfs: &Path, devices: &[Device], userns: bool) -> Result<()> {
    for d in devices {
        let dest = secure_join(rootfs, &d.path)
            .map_err(|e| crate::error::spec("linux.devices", format!("{}: {e}", d.path.display())))?;
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).ctx("mkdir", parent.display())?;
        }
        if userns {
            if !dest.exists() {
                std::fs::File::create(&dest).ctx("create", dest.display())?;
            }
            mount(Some(&d.path), &dest, None::<&str>, MsFlags::MS_BIND, None::<&str>)
                .ctx("bind device", d.path.display())?;
            continue;
        }
        let kind = match d.typ.as_str() {
            "b" => SFlag::S_IFBLK,
            "p" => SFlag::S_IFIFO,
            _ => SFlag::S_IFCHR,
        };
        let _ = std::fs::remove_file(&dest);
        let mode = Mode::from_bits_truncate(d.file_mode.unwrap_or(0o666));
        let dev = makedev(d.major as u64, d.minor as u64);
        mknod(&dest, kind, mode, dev).ctx("mknod", d.path.display())?;
        // mknod applies the umask; set the exact mode and owner.
        nix::sys::stat::fchmodat(None, &dest, mode, nix::sys::stat::FchmodatFlags::FollowSymlink)
            .ctx("chmod", d.path.display())?;
        nix::unistd::chown(&dest, d.uid.map(Into::into), d.gid.map(Into::into)).ctx("chown", d.path.display())?;
    }
    Ok(())
}

/// /dev/fd, /dev/std{in,out,err}, /dev/core and /dev/ptmx → pts/ptmx.
pub fn symlinks(rootfs: &Path) -> Result<()> {
    let dev = rootfs.join("dev");
    let mut links = vec![
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "core"));
    }
    if dev.join("pts/ptmx").exists() {
        let _ = std::fs::remove_file(dev.join("ptmx"));
        links.push(("pts/ptmx", "ptmx"));
    }
    for (target, name) in links {
        let link = dev.join(name);
        match std::os::unix::fs::symlink(target, &link) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(crate::error::sys("symlink", link.display(), e))
            }
            _ => {}
        }
    }
    Ok(())
}
