//! hull_rootpath: paths inside a container's root filesystem, resolved and
//! created through file descriptors.
//!
//! A container's root (and any volume in it) may be changed by a hostile
//! process while the runtime works on it: a path component swapped for a
//! symlink between a check and a use redirects a mount or a write onto the
//! host (CVE-2021-30465). So nothing here walks a host path string. A
//! [`Root`] is an `O_PATH` descriptor of the root; every lookup is
//! `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)` from it, so symlinks
//! (absolute ones included) and `..` resolve as they will inside the
//! container and can never leave it; creation happens on the descriptor of
//! the parent just resolved, with `O_EXCL`/`O_NOFOLLOW`, and never
//! truncates. Mounts are then made onto the descriptor ([`fd_path`]),
//! never onto a path that could be re-resolved differently.

#![warn(missing_docs)]

use rustix::fs::{Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

/// A path inside a root could not be resolved, created or read.
#[derive(Debug, thiserror::Error)]
pub enum RootPathError {
    /// A system call failed.
    #[error("{op} {path} (in {root}): {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// The path inside the root.
        path: PathBuf,
        /// The root.
        root: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The path exists but is not what the caller may use.
    #[error("{path} (in {root}): {reason}")]
    Refused {
        /// The path inside the root.
        path: PathBuf,
        /// The root.
        root: PathBuf,
        /// Why.
        reason: &'static str,
    },
}

impl RootPathError {
    /// The errno of a failed system call, if that is what this is.
    pub fn errno(&self) -> Option<i32> {
        match self {
            RootPathError::Io { source, .. } => source.raw_os_error(),
            RootPathError::Refused { .. } => None,
        }
    }

    /// Whether the path (or a component of it) does not exist.
    pub fn is_not_found(&self) -> bool {
        self.errno() == Some(libc_enoent())
    }
}

fn libc_enoent() -> i32 {
    Errno::NOENT.raw_os_error()
}

type Result<T> = std::result::Result<T, RootPathError>;

/// A directory tree to resolve paths in: a container's rootfs, a volume.
#[derive(Debug)]
pub struct Root {
    fd: OwnedFd,
    path: PathBuf,
}

/// `/proc/self/fd/N` for a descriptor: a path the kernel resolves to
/// exactly the file the descriptor holds, for calls that take a path
/// (mount(2), a bind source).
pub fn fd_path(fd: &impl AsFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_fd().as_raw_fd()))
}

/// `path`'s components with `.` dropped and `..` applied lexically, never
/// above the root (so `/../etc` is `etc`).
pub fn clean(path: &Path) -> Vec<OsString> {
    let mut out: Vec<OsString> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n.to_owned()),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

fn joined(parts: &[OsString]) -> PathBuf {
    if parts.is_empty() {
        return PathBuf::from(".");
    }
    parts.iter().collect()
}

const IN_ROOT: ResolveFlags = ResolveFlags::IN_ROOT.union(ResolveFlags::NO_MAGICLINKS);
const BENEATH_NO_LINKS: ResolveFlags = ResolveFlags::BENEATH.union(ResolveFlags::NO_SYMLINKS);

impl Root {
    /// Opens `path` (a host path the caller trusts) as a root.
    pub fn open(path: impl Into<PathBuf>) -> Result<Root> {
        let path = path.into();
        let fd = rustix::fs::open(&path, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).map_err(
            |e| RootPathError::Io { op: "open root", path: PathBuf::from("/"), root: path.clone(), source: e.into() },
        )?;
        Ok(Root { fd, path })
    }

    /// The root's host path (for messages).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The root's descriptor.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn io(&self, op: &'static str, path: &Path) -> impl FnOnce(Errno) -> RootPathError + '_ {
        let path = path.to_path_buf();
        move |e| RootPathError::Io { op, path, root: self.path.clone(), source: e.into() }
    }

    fn refused(&self, path: &Path, reason: &'static str) -> RootPathError {
        RootPathError::Refused { path: path.to_path_buf(), root: self.path.clone(), reason }
    }

    /// openat2 in the root; retried when the kernel saw a rename race (EAGAIN).
    fn openat2(&self, rel: &Path, flags: OFlags) -> std::result::Result<OwnedFd, Errno> {
        let mut tries = 0;
        loop {
            match rustix::fs::openat2(&self.fd, rel, flags | OFlags::CLOEXEC, Mode::empty(), IN_ROOT) {
                Err(Errno::AGAIN | Errno::INTR) if tries < 32 => tries += 1,
                other => return other,
            }
        }
    }

    /// An `O_PATH` descriptor of `path`, symlinks (the last one included)
    /// followed inside the root.
    pub fn resolve(&self, path: &Path) -> Result<OwnedFd> {
        self.openat2(&joined(&clean(path)), OFlags::PATH).map_err(self.io("resolve", path))
    }

    /// An `O_PATH` descriptor of `path` itself: the last component is not
    /// followed if it is a symlink.
    pub fn resolve_nofollow(&self, path: &Path) -> Result<OwnedFd> {
        self.openat2(&joined(&clean(path)), OFlags::PATH | OFlags::NOFOLLOW).map_err(self.io("resolve", path))
    }

    /// Whether `path` resolves to something.
    pub fn exists(&self, path: &Path) -> bool {
        self.resolve(path).is_ok()
    }

    /// The directory at `path`, created with `mode` (and its parents) where
    /// missing; an `O_PATH` descriptor of it. A component that exists but is
    /// no directory, or a dangling symlink, is an error.
    pub fn mkdir_all(&self, path: &Path, mode: u32) -> Result<OwnedFd> {
        let parts = clean(path);
        let dir_flags = OFlags::PATH | OFlags::DIRECTORY;
        if let Ok(fd) = self.openat2(&joined(&parts), dir_flags) {
            return Ok(fd);
        }
        let mut cur = self.openat2(Path::new("."), dir_flags).map_err(self.io("open", Path::new("/")))?;
        for i in 0..parts.len() {
            let prefix = joined(&parts[..=i]);
            cur = match self.openat2(&prefix, dir_flags) {
                Ok(fd) => fd,
                Err(Errno::NOENT) => {
                    match rustix::fs::mkdirat(&cur, &parts[i], Mode::from_raw_mode(mode)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(self.io("mkdir", &prefix)(e)),
                    }
                    // What we made, on the parent we hold: no symlink is followed.
                    rustix::fs::openat2(
                        &cur,
                        &parts[i],
                        dir_flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                        Mode::empty(),
                        BENEATH_NO_LINKS,
                    )
                    .map_err(|e| match e {
                        Errno::LOOP | Errno::NOTDIR => {
                            self.refused(&prefix, "is a symlink to nowhere or not a directory")
                        }
                        e => self.io("open", &prefix)(e),
                    })?
                }
                Err(Errno::NOTDIR) => return Err(self.refused(&prefix, "is not a directory")),
                Err(e) => return Err(self.io("resolve", &prefix)(e)),
            };
        }
        Ok(cur)
    }

    /// The file at `path`, created empty with `mode` (and its parent
    /// directories) if missing, never truncated if present; an `O_PATH`
    /// descriptor of it. An existing symlink is followed inside the root.
    pub fn create_file(&self, path: &Path, mode: u32) -> Result<OwnedFd> {
        let parts = clean(path);
        let Some((name, parents)) = parts.split_last() else {
            return Err(self.refused(path, "is the root itself"));
        };
        let parent = self.mkdir_all(&joined(parents), 0o755)?;
        let flags = OFlags::RDONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        match rustix::fs::openat(&parent, name, flags, Mode::from_raw_mode(mode)) {
            Ok(made) => {
                drop(made);
                rustix::fs::openat2(
                    &parent,
                    name,
                    OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                    BENEATH_NO_LINKS,
                )
                .map_err(self.io("open", path))
            }
            Err(Errno::EXIST) => self.resolve(path),
            Err(e) => Err(self.io("create", path)(e)),
        }
    }

    /// Opens the regular file at `path` for reading. Anything else (a
    /// FIFO, a device, a directory) is refused, without blocking on it.
    pub fn open_regular(&self, path: &Path) -> Result<File> {
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY;
        let fd = self.openat2(&joined(&clean(path)), flags).map_err(self.io("open", path))?;
        let st = rustix::fs::fstat(&fd).map_err(self.io("stat", path))?;
        if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
            return Err(self.refused(path, "is not a regular file"));
        }
        // Reads of a regular file never block; clear the flag for the caller.
        rustix::fs::fcntl_setfl(&fd, OFlags::empty()).map_err(self.io("fcntl", path))?;
        Ok(File::from(fd))
    }

    /// Reads the regular file at `path`, refusing one larger than `max` bytes.
    pub fn read_regular(&self, path: &Path, max: u64) -> Result<Vec<u8>> {
        let f = self.open_regular(path)?;
        let mut out = Vec::new();
        f.take(max + 1).read_to_end(&mut out).map_err(|e| RootPathError::Io {
            op: "read",
            path: path.to_path_buf(),
            root: self.path.clone(),
            source: e,
        })?;
        if out.len() as u64 > max {
            return Err(self.refused(path, "is larger than Hull reads"));
        }
        Ok(out)
    }

    /// Opens the directory at `path` (read-only, for listing or as the
    /// parent of `*at` calls).
    pub fn open_dir(&self, path: &Path) -> Result<File> {
        let fd =
            self.openat2(&joined(&clean(path)), OFlags::RDONLY | OFlags::DIRECTORY).map_err(self.io("open", path))?;
        Ok(File::from(fd))
    }

    /// The parent directory of `path` (created if missing) as a descriptor
    /// for `*at` calls, and the last component's name.
    pub fn parent_of(&self, path: &Path) -> Result<(OwnedFd, OsString)> {
        let parts = clean(path);
        let Some((name, parents)) = parts.split_last() else {
            return Err(self.refused(path, "is the root itself"));
        };
        let parent = self.mkdir_all(&joined(parents), 0o755)?;
        let dir = rustix::fs::openat(&parent, ".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(self.io("open", &joined(parents)))?;
        Ok((dir, name.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn real(fd: &OwnedFd) -> PathBuf {
        std::fs::read_link(fd_path(fd)).unwrap()
    }

    #[test]
    fn symlinks_and_dotdot_stay_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("real/dir")).unwrap();
        symlink("/real", root.join("abs")).unwrap();
        symlink("../../../../..", root.join("up")).unwrap();
        symlink(outside.path(), root.join("host")).unwrap();
        let r = Root::open(&root).unwrap();
        assert_eq!(real(&r.resolve(Path::new("/abs/dir")).unwrap()), root.join("real/dir"));
        assert_eq!(real(&r.resolve(Path::new("/up/real")).unwrap()), root.join("real"));
        assert_eq!(real(&r.resolve(Path::new("/../../real")).unwrap()), root.join("real"));
        // An absolute symlink to a host directory: refused while its target
        // does not exist in the root, and inside the root once it does.
        let err = r.mkdir_all(Path::new("/host/x/y"), 0o755).unwrap_err();
        assert!(err.to_string().contains("symlink to nowhere"), "{err}");
        assert!(r.create_file(Path::new("/host/file"), 0o644).is_err());
        std::fs::create_dir_all(root.join(outside.path().strip_prefix("/").unwrap())).unwrap();
        let made = r.mkdir_all(Path::new("/host/x/y"), 0o755).unwrap();
        assert!(real(&made).starts_with(&root), "{:?}", real(&made));
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0, "wrote outside the root");
        let f = r.create_file(Path::new("/host/file"), 0o644).unwrap();
        assert!(real(&f).starts_with(&root));
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn create_file_never_truncates_and_reads_refuse_non_regular_files() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("keep"), b"data").unwrap();
        symlink("/keep", d.path().join("to-keep")).unwrap();
        symlink("/nowhere", d.path().join("dangling")).unwrap();
        let r = Root::open(d.path()).unwrap();
        r.create_file(Path::new("/to-keep"), 0o644).unwrap();
        assert_eq!(std::fs::read(d.path().join("keep")).unwrap(), b"data");
        assert!(r.mkdir_all(Path::new("/dangling"), 0o755).is_err());
        assert!(r.mkdir_all(Path::new("/keep/sub"), 0o755).is_err());
        assert_eq!(r.read_regular(Path::new("to-keep"), 10).unwrap(), b"data");
        assert!(r.read_regular(Path::new("keep"), 3).unwrap_err().to_string().contains("larger"));
        rustix::fs::mkfifoat(rustix::fs::CWD, d.path().join("fifo"), Mode::from_raw_mode(0o644)).unwrap();
        assert!(r.read_regular(Path::new("fifo"), 10).unwrap_err().to_string().contains("not a regular file"));
        symlink("/dev/zero", d.path().join("zero")).unwrap();
        // /dev/zero inside the root does not exist: never the host's.
        assert!(r.read_regular(Path::new("zero"), 10).unwrap_err().is_not_found());
        assert_eq!(clean(Path::new("/a/../../b/./c")), vec![OsString::from("b"), OsString::from("c")]);
    }
}
