//! Device nodes in the container's /dev and the standard /dev symlinks.

use crate::error::{Context, Result};
use hull_rootpath::Root;
use hull_spec::Device;
use nix::mount::{mount, MsFlags};
use nix::sys::stat::Mode;
use rustix::fs::{AtFlags, FileType, Mode as RMode, OFlags};
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

/// Creates each device in the rootfs (bind-mounting the host's node when a
/// user namespace forbids mknod), through descriptors of its directory.
pub fn create(root: &Root, devices: &[Device], userns: bool) -> Result<()> {
    let field = |e: hull_rootpath::RootPathError| crate::error::spec("linux.devices", e.to_string());
    for d in devices {
        if userns {
            let target = root.create_file(&d.path, 0o644).map_err(field)?;
            mount(Some(&d.path), &hull_rootpath::fd_path(&target), None::<&str>, MsFlags::MS_BIND, None::<&str>)
                .ctx("bind device", d.path.display())?;
            continue;
        }
        let (dir, name) = root.parent_of(&d.path).map_err(field)?;
        let kind = match d.typ.as_str() {
            "b" => FileType::BlockDevice,
            "p" => FileType::Fifo,
            _ => FileType::CharacterDevice,
        };
        let _ = rustix::fs::unlinkat(&dir, &name, AtFlags::empty());
        let mode = RMode::from_raw_mode(d.file_mode.unwrap_or(0o666));
        let dev = rustix::fs::makedev(d.major as u32, d.minor as u32);
        rustix::fs::mknodat(&dir, &name, kind, mode, dev).ctx("mknod", d.path.display())?;
        // mknod applies the umask: set the exact mode and owner, on the node
        // itself (never through a symlink put there meanwhile).
        let node = rustix::fs::openat(&dir, &name, OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC, RMode::empty())
            .ctx("open", d.path.display())?;
        let at = hull_rootpath::fd_path(&node);
        nix::sys::stat::fchmodat(
            None,
            &at,
            Mode::from_bits_truncate(mode.as_raw_mode()),
            nix::sys::stat::FchmodatFlags::FollowSymlink,
        )
        .ctx("chmod", d.path.display())?;
        let (uid, gid) = (d.uid.map(rustix::fs::Uid::from_raw), d.gid.map(rustix::fs::Gid::from_raw));
        rustix::fs::chownat(&node, "", uid, gid, AtFlags::EMPTY_PATH).ctx("chown", d.path.display())?;
    }
    Ok(())
}

/// /dev/fd, /dev/std{in,out,err}, /dev/core and /dev/ptmx → pts/ptmx, made
/// in the rootfs's /dev as the container resolves it (an image whose /dev
/// is a symlink to a host directory gets them inside its own root).
pub fn symlinks(root: &Root) -> Result<()> {
    let dev = root.open_dir(Path::new("/dev")).map_err(|e| crate::error::spec("linux.devices", e.to_string()))?;
    let mut links = vec![
        ("/proc/self/fd", "fd"),
        ("/proc/self/fd/0", "stdin"),
        ("/proc/self/fd/1", "stdout"),
        ("/proc/self/fd/2", "stderr"),
    ];
    if Path::new("/proc/kcore").exists() {
        links.push(("/proc/kcore", "core"));
    }
    if root.exists(Path::new("/dev/pts/ptmx")) {
        let _ = rustix::fs::unlinkat(&dev, "ptmx", AtFlags::empty());
        links.push(("pts/ptmx", "ptmx"));
    }
    for (target, name) in links {
        match rustix::fs::symlinkat(target, &dev, name) {
            Ok(()) | Err(rustix::io::Errno::EXIST) => {}
            Err(e) => return Err(crate::error::sys("symlink", format!("/dev/{name}"), std::io::Error::from(e))),
        }
    }
    Ok(())
}
