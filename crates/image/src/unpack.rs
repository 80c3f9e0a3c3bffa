//! Unpacking a layer (tar, gzip or zstd) into a directory of its own, with
//! OCI whiteouts turned into overlayfs whiteouts, and nothing allowed to
//! land outside the directory.

use crate::digest::{Algorithm, Digest, HashingReader};
use crate::manifest::Compression;
use nix::sys::stat::{makedev, mknod, Mode, SFlag};
use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// A layer could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// An entry's name would escape the layer directory.
    #[error("tar entry {entry:?}: {reason}")]
    Unsafe {
        /// The entry name.
        entry: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// Reading or decompressing the archive failed.
    #[error("read layer: {0}")]
    Read(std::io::Error),
    /// Creating a file failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// Operation.
        op: &'static str,
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

type Result<T> = std::result::Result<T, UnpackError>;

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> UnpackError + 'a {
    move |source| UnpackError::Io { op, path: path.to_path_buf(), source }
}

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// Unpacks `blob` into `dest` (an empty directory); returns the layer's
/// DiffID (the SHA-256 of the uncompressed tar).
pub fn unpack_layer(blob: impl Read, compression: Compression, dest: &Path) -> Result<Digest> {
    let decoded: Box<dyn Read> = match compression {
        Compression::None => Box::new(blob),
        Compression::Gzip => {
            Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(1 << 20, blob)))
        }
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(blob).map_err(UnpackError::Read)?),
    };
    let hashing = HashingReader::new(decoded, Algorithm::Sha256);
    let mut archive = tar::Archive::new(hashing);
    let mut dirs: Vec<(PathBuf, i64)> = Vec::new();
    let mut state = Unpacker {
        known_dirs: std::collections::HashSet::new(),
        euid: nix::unistd::geteuid().as_raw(),
        egid: nix::unistd::getegid().as_raw(),
    };
    // Modes come from the archive, exactly: no umask while creating.
    let _umask = UmaskGuard::zero();
    let result = (|| {
        for entry in archive.entries().map_err(UnpackError::Read)? {
            let mut entry = entry.map_err(UnpackError::Read)?;
            if let Some(dir) = state.unpack_entry(&mut entry, dest)? {
                dirs.push(dir);
            }
        }
        Ok(())
    })();
    result?;
    // Directory times last: creating their children changed them.
    for (dir, mtime) in dirs.iter().rev() {
        set_mtime(dir, *mtime)?;
    }
    let mut hashing = archive.into_inner();
    std::io::copy(&mut hashing, &mut std::io::sink()).map_err(UnpackError::Read)?;
    Ok(hashing.finish().0)
}

/// Sets every directory of an unpacked layer at `dest` to the mode `blob`
/// gives it, and directories it does not list from 0777 to 0755 (the
/// repair of layers unpacked by a version that left mkdir's 0777).
/// Directories are opened beneath `dest` without following any symlink.
pub fn repair_directory_modes(blob: impl Read, compression: Compression, dest: &Path) -> Result<()> {
    let decoded: Box<dyn Read> = match compression {
        Compression::None => Box::new(blob),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(blob))),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(blob).map_err(UnpackError::Read)?),
    };
    let mut archive = tar::Archive::new(decoded);
    let mut listed = std::collections::HashMap::new();
    for entry in archive.entries().map_err(UnpackError::Read)? {
        let entry = entry.map_err(UnpackError::Read)?;
        if entry.header().entry_type() == tar::EntryType::Directory {
            if let Ok(rel) = safe_relative(&entry.path_bytes()) {
                listed.insert(rel, entry.header().mode().unwrap_or(0o755) & 0o7777);
            }
        }
    }
    let root = std::fs::File::open(dest).map_err(io("open", dest))?;
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = open_dir_beneath(&root, &rel).map_err(io("open", &dest.join(&rel)))?;
        let path = dest.join(&rel);
        let current = dir.metadata().map_err(io("stat", &path))?;
        use std::os::unix::fs::PermissionsExt;
        let want = match listed.get(&rel) {
            Some(mode) => Some(*mode),
            None if current.permissions().mode() & 0o7777 == 0o777 && !rel.as_os_str().is_empty() => Some(0o755),
            None => None,
        };
        if let Some(mode) = want {
            use std::os::fd::AsRawFd;
            nix::sys::stat::fchmod(dir.as_raw_fd(), Mode::from_bits_truncate(mode))
                .map_err(|e| io("chmod", &path)(e.into()))?;
        }
        for child in std::fs::read_dir(&path).map_err(io("read", &path))?.flatten() {
            if child.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(rel.join(child.file_name()));
            }
        }
    }
    Ok(())
}

/// Opens the directory `rel` beneath `root`, refusing symlinks anywhere
/// on the way (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS).
fn open_dir_beneath(root: &std::fs::File, rel: &Path) -> std::io::Result<std::fs::File> {
    use rustix::fs::{Mode as RMode, OFlags, ResolveFlags};
    let rel = if rel.as_os_str().is_empty() { Path::new(".") } else { rel };
    let fd = rustix::fs::openat2(
        root,
        rel,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        RMode::empty(),
        ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS,
    )?;
    Ok(std::fs::File::from(fd))
}

/// Holds the process umask at 0 while any layer is being unpacked (layers
/// unpack on several threads; the umask is per process): the first guard
/// clears it, the last one restores it.
struct UmaskGuard;

static UMASK: std::sync::Mutex<(usize, Option<Mode>)> = std::sync::Mutex::new((0, None));

impl UmaskGuard {
    fn zero() -> UmaskGuard {
        if let Ok(mut g) = UMASK.lock() {
            if g.0 == 0 {
                g.1 = Some(nix::sys::stat::umask(Mode::empty()));
            }
            g.0 += 1;
        }
        UmaskGuard
    }
}

impl Drop for UmaskGuard {
    fn drop(&mut self) {
        if let Ok(mut g) = UMASK.lock() {
            g.0 -= 1;
            if g.0 == 0 {
                if let Some(old) = g.1.take() {
                    nix::sys::stat::umask(old);
                }
            }
        }
    }
}

/// The entry's path relative to the layer root; refuses absolute paths and `..`.
pub fn safe_relative(raw: &[u8]) -> std::result::Result<PathBuf, &'static str> {
    let p = Path::new(OsStr::from_bytes(raw));
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => return Err("contains '..'"),
            Component::RootDir | Component::Prefix(_) => return Err("is an absolute path"),
        }
    }
    Ok(out)
}

/// Per-layer state: directories already checked (so each entry costs no
/// lstat of its parents), and our own ids (so chown is skipped when the
/// owner is already right).
struct Unpacker {
    known_dirs: std::collections::HashSet<PathBuf>,
    euid: u32,
    egid: u32,
}

impl Unpacker {
    /// Creates the missing parents of `rel` under `dest`, refusing to go
    /// through a symlink (which could point anywhere).
    fn prepare_parents(&mut self, dest: &Path, rel: &Path, entry: &str) -> Result<()> {
        let mut cur = dest.to_path_buf();
        if let Some(parent) = rel.parent() {
            for c in parent.components() {
                cur.push(c);
                if self.known_dirs.contains(&cur) {
                    continue;
                }
                match std::fs::symlink_metadata(&cur) {
                    Ok(m) if m.file_type().is_symlink() => {
                        return Err(UnpackError::Unsafe { entry: entry.into(), reason: "goes through a symbolic link" })
                    }
                    Ok(m) if m.is_dir() => {}
                    Ok(_) => {
                        return Err(UnpackError::Unsafe { entry: entry.into(), reason: "goes through a non-directory" })
                    }
                    // A parent the layer does not list: 0755, as docker and umoci make it.
                    Err(_) => mkdir(&cur, 0o755)?,
                }
                self.known_dirs.insert(cur.clone());
            }
        }
        Ok(())
    }

    /// Replacing something at `path`: it (and anything below) is no longer a known directory.
    fn forget(&mut self, path: &Path) {
        if self.known_dirs.remove(path) {
            self.known_dirs.retain(|d| !d.starts_with(path));
        }
    }
}

/// Removes whatever is at `path` (not following symlinks).
fn clear(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path).map_err(io("remove", path)),
        Ok(_) => std::fs::remove_file(path).map_err(io("remove", path)),
        Err(_) => Ok(()),
    }
}

impl Unpacker {
    fn unpack_entry<R: Read>(&mut self, entry: &mut tar::Entry<R>, dest: &Path) -> Result<Option<(PathBuf, i64)>> {
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let rel = safe_relative(&raw).map_err(|reason| UnpackError::Unsafe { entry: name.clone(), reason })?;
        if rel.as_os_str().is_empty() {
            return Ok(None); // "./": the layer root itself
        }
        self.prepare_parents(dest, &rel, &name)?;
        let path = dest.join(&rel);
        let file_name = rel.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        if file_name == OPAQUE {
            let dir = path.parent().unwrap_or(dest);
            set_xattr(dir, "trusted.overlay.opaque", b"y")?;
            return Ok(None);
        }
        if let Some(hidden) = file_name.strip_prefix(WHITEOUT_PREFIX) {
            if hidden.starts_with(WHITEOUT_PREFIX) {
                return Ok(None); // other AUFS metadata (.wh..wh.plnk, ...)
            }
            // `.wh..` or `.wh...` would whiteout the directory itself or its parent.
            if hidden.is_empty() || hidden == "." || hidden == ".." {
                return Err(UnpackError::Unsafe {
                    entry: name,
                    reason: "whiteout of no file, or of a directory above it",
                });
            }
            let target = path.with_file_name(hidden);
            self.forget(&target);
            clear(&target)?;
            mknod(&target, SFlag::S_IFCHR, Mode::empty(), makedev(0, 0))
                .map_err(|e| io("mknod whiteout", &target)(e.into()))?;
            return Ok(None);
        }
        let header = entry.header().clone();
        let mode = header.mode().unwrap_or(0o644) & 0o7777;
        let (uid, gid) = (header.uid().unwrap_or(0) as u32, header.gid().unwrap_or(0) as u32);
        let mtime = header.mtime().unwrap_or(0) as i64;
        let kind = header.entry_type();
        let owner_differs = uid != self.euid || gid != self.egid;
        match kind {
            tar::EntryType::Directory => {
                match mkdir(&path, mode) {
                    Ok(()) => {}
                    Err(UnpackError::Io { source, .. }) if source.kind() == std::io::ErrorKind::AlreadyExists => {
                        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir()) {
                            self.forget(&path);
                            clear(&path)?;
                            mkdir(&path, mode)?;
                        }
                    }
                    Err(e) => return Err(e),
                }
                self.known_dirs.insert(path.clone());
                if owner_differs {
                    lchown(&path, uid, gid)?;
                }
                // Always: mkdir drops set-id bits, chown clears them, and an
                // existing directory (an implicit parent, or one listed
                // twice) has some other mode. Never leave mkdir's default.
                chmod(&path, mode)?;
                self.xattrs(entry, &path)?;
                Ok(Some((path, mtime)))
            }
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                let mut f = match create_file(&path, mode) {
                    Ok(f) => f,
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        self.forget(&path);
                        clear(&path)?;
                        create_file(&path, mode).map_err(io("create", &path))?
                    }
                    Err(e) => return Err(io("create", &path)(e)),
                };
                std::io::copy(entry, &mut f).map_err(|e| io("write", &path)(e))?;
                use std::os::fd::AsFd;
                if owner_differs {
                    nix::unistd::fchown(f.as_fd().as_raw_fd_compat(), Some(uid.into()), Some(gid.into()))
                        .map_err(|e| io("chown", &path)(e.into()))?;
                }
                if owner_differs || mode & 0o7000 != 0 {
                    // After chown (which clears set-id bits); creation may also have dropped them.
                    nix::sys::stat::fchmod(f.as_fd().as_raw_fd_compat(), Mode::from_bits_truncate(mode))
                        .map_err(|e| io("chmod", &path)(e.into()))?;
                }
                self.xattrs(entry, &path)?;
                let t = nix::sys::time::TimeSpec::new(mtime, 0);
                nix::sys::stat::futimens(f.as_fd().as_raw_fd_compat(), &t, &t)
                    .map_err(|e| io("set times of", &path)(e.into()))?;
                Ok(None)
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| UnpackError::Unsafe { entry: name.clone(), reason: "symlink without a target" })?;
                let target = OsStr::from_bytes(&target).to_owned();
                if let Err(e) = std::os::unix::fs::symlink(&target, &path) {
                    if e.kind() != std::io::ErrorKind::AlreadyExists {
                        return Err(io("symlink", &path)(e));
                    }
                    self.forget(&path);
                    clear(&path)?;
                    std::os::unix::fs::symlink(&target, &path).map_err(io("symlink", &path))?;
                }
                if owner_differs {
                    lchown(&path, uid, gid)?;
                }
                self.xattrs(entry, &path)?;
                set_mtime(&path, mtime)?;
                Ok(None)
            }
            tar::EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .ok_or_else(|| UnpackError::Unsafe { entry: name.clone(), reason: "hardlink without a target" })?;
                let target_rel =
                    safe_relative(&target).map_err(|reason| UnpackError::Unsafe { entry: name.clone(), reason })?;
                self.prepare_parents(dest, &target_rel, &name)?;
                let target_path = dest.join(&target_rel);
                if std::fs::symlink_metadata(&target_path).is_err() {
                    return Err(UnpackError::Unsafe {
                        entry: name,
                        reason: "hardlink to a file the layer does not have",
                    });
                }
                self.forget(&path);
                clear(&path)?;
                std::fs::hard_link(&target_path, &path).map_err(io("link", &path))?;
                Ok(None) // a link shares its target's metadata
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                self.forget(&path);
                clear(&path)?;
                let flag = match kind {
                    tar::EntryType::Char => SFlag::S_IFCHR,
                    tar::EntryType::Block => SFlag::S_IFBLK,
                    _ => SFlag::S_IFIFO,
                };
                let major = u64::from(header.device_major().ok().flatten().unwrap_or(0));
                let minor = u64::from(header.device_minor().ok().flatten().unwrap_or(0));
                mknod(&path, flag, Mode::from_bits_truncate(mode), makedev(major, minor))
                    .map_err(|e| io("mknod", &path)(e.into()))?;
                if owner_differs {
                    lchown(&path, uid, gid)?;
                    chmod(&path, mode)?;
                }
                self.xattrs(entry, &path)?;
                set_mtime(&path, mtime)?;
                Ok(None)
            }
            // PAX/GNU metadata entries are folded into the next entry by the tar crate; others carry nothing to create.
            _ => Ok(None),
        }
    }

    fn xattrs<R: Read>(&self, entry: &mut tar::Entry<R>, path: &Path) -> Result<()> {
        if let Ok(Some(exts)) = entry.pax_extensions() {
            for ext in exts.flatten() {
                if let Some(attr) = ext.key().ok().and_then(|k| k.strip_prefix("SCHILY.xattr.")) {
                    set_xattr(path, attr, ext.value_bytes())?;
                }
            }
        }
        Ok(())
    }
}

trait RawFdCompat {
    fn as_raw_fd_compat(&self) -> std::os::fd::RawFd;
}

impl RawFdCompat for std::os::fd::BorrowedFd<'_> {
    fn as_raw_fd_compat(&self) -> std::os::fd::RawFd {
        std::os::fd::AsRawFd::as_raw_fd(self)
    }
}

fn create_file(path: &Path, mode: u32) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::File::options().write(true).create_new(true).mode(mode).custom_flags(libc::O_CLOEXEC).open(path)
}

/// Creates one directory with `mode` (the umask is 0 while unpacking, so
/// the mode is exact save set-id bits, which the caller sets after).
fn mkdir(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(mode & 0o777).create(path).map_err(io("mkdir", path))
}

fn lchown(path: &Path, uid: u32, gid: u32) -> Result<()> {
    nix::unistd::fchownat(None, path, Some(uid.into()), Some(gid.into()), nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
        .map_err(|e| io("chown", path)(e.into()))
}

fn chmod(path: &Path, mode: u32) -> Result<()> {
    nix::sys::stat::fchmodat(None, path, Mode::from_bits_truncate(mode), nix::sys::stat::FchmodatFlags::FollowSymlink)
        .map_err(|e| io("chmod", path)(e.into()))
}

fn set_mtime(path: &Path, mtime: i64) -> Result<()> {
    let t = nix::sys::time::TimeSpec::new(mtime, 0);
    nix::sys::stat::utimensat(None, path, &t, &t, nix::sys::stat::UtimensatFlags::NoFollowSymlink)
        .map_err(|e| io("set times of", path)(e.into()))
}

fn set_xattr(path: &Path, name: &str, value: &[u8]) -> Result<()> {
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io("setxattr", path)(std::io::ErrorKind::InvalidInput.into()))?;
    let c_name =
        std::ffi::CString::new(name).map_err(|_| io("setxattr", path)(std::io::ErrorKind::InvalidInput.into()))?;
    // SAFETY: all pointers are valid for the call; lsetxattr does not follow symlinks.
    let r = unsafe { libc::lsetxattr(c_path.as_ptr(), c_name.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    if r != 0 {
        return Err(UnpackError::Io {
            op: "setxattr",
            path: path.join(format!("[{name}]")),
            source: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::safe_relative;
    use std::path::PathBuf;

    #[test]
    fn entry_names() {
        assert_eq!(safe_relative(b"./a/b").unwrap(), PathBuf::from("a/b"));
        assert_eq!(safe_relative(b"a/./b/").unwrap(), PathBuf::from("a/b"));
        assert!(safe_relative(b"../etc/passwd").is_err());
        assert!(safe_relative(b"a/../../x").is_err());
        assert!(safe_relative(b"/etc/passwd").is_err());
    }
}
