//! `tmpcopyup`: a directory's contents copied into the tmpfs mounted over
//! it, through descriptors (the covered directory is reached by the one
//! opened before the mount). Owners, modes and times are kept; symlinks
//! are copied as links, never followed; devices, FIFOs and sockets are made
//! anew.

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timestamps};
use std::io;
use std::os::fd::{AsFd, OwnedFd};

/// Copies everything in `from` into `to` (both directories).
pub fn copy_dir(from: &impl AsFd, to: &impl AsFd) -> io::Result<()> {
    let mut dir = rustix::fs::Dir::read_from(from)?;
    while let Some(entry) = dir.read() {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_bytes() == b"." || name.to_bytes() == b".." {
            continue;
        }
        let st = rustix::fs::statat(from, name, AtFlags::SYMLINK_NOFOLLOW)?;
        let mode = Mode::from_raw_mode(st.st_mode & 0o7777);
        match FileType::from_raw_mode(st.st_mode) {
            FileType::Directory => {
                rustix::fs::mkdirat(to, name, mode)?;
                let open = |d: &dyn AsFd| -> io::Result<OwnedFd> {
                    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                    Ok(rustix::fs::openat(d.as_fd(), name, flags, Mode::empty())?)
                };
                copy_dir(&open(&from.as_fd())?, &open(&to.as_fd())?)?;
            }
            FileType::RegularFile => {
                let src =
                    rustix::fs::openat(from, name, OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty())?;
                let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                let dst = rustix::fs::openat(to, name, flags, mode)?;
                std::io::copy(&mut std::fs::File::from(src), &mut std::fs::File::from(dst))?;
            }
            FileType::Symlink => {
                let target = rustix::fs::readlinkat(from, name, Vec::new())?;
                rustix::fs::symlinkat(target.as_c_str(), to, name)?;
            }
            kind => rustix::fs::mknodat(to, name, kind, mode, st.st_rdev)?,
        }
        let (uid, gid) = (rustix::fs::Uid::from_raw(st.st_uid), rustix::fs::Gid::from_raw(st.st_gid));
        rustix::fs::chownat(to, name, Some(uid), Some(gid), AtFlags::SYMLINK_NOFOLLOW)?;
        if FileType::from_raw_mode(st.st_mode) != FileType::Symlink {
            // chown clears set-id bits: the mode again, after it.
            rustix::fs::chmodat(to, name, mode, AtFlags::empty())?;
        }
        let times = Timestamps {
            last_access: rustix::fs::Timespec { tv_sec: st.st_atime, tv_nsec: st.st_atime_nsec as _ },
            last_modification: rustix::fs::Timespec { tv_sec: st.st_mtime, tv_nsec: st.st_mtime_nsec as _ },
        };
        rustix::fs::utimensat(to, name, &times, AtFlags::SYMLINK_NOFOLLOW)?;
    }
    Ok(())
}
