//! Files in and out of a container as tar streams: docker's archive API
//! (HEAD, GET and PUT of `/containers/{id}/archive`), which `cp` uses.
//!
//! The work runs on a thread of its own that unshares its filesystem
//! attributes and chroots into the container's root as the container sees
//! it, so no path or symlink in the container leads outside it, and the
//! caller's process (a multi-threaded daemon as much as the CLI) keeps its
//! root and cwd:
//! - a running container: `/proc/<pid>/root`, its volumes, binds and tmpfs
//!   included;
//! - any other: the thread also unshares its mount namespace (a slave of
//!   the host's), mounts the root there if it is not mounted, and the
//!   container's bind mounts (volumes, binds, the /etc files) on it, read-only
//!   where the container has them so. The namespace, and every mount in it,
//!   goes with the thread: nothing is mounted on the host, even when the
//!   process dies half-way.

use crate::error::{io, EngineError, Result};
use crate::model::Status;
use crate::Engine;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// What a path in a container is (docker's `ContainerPathStat`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStat {
    /// The last component of the path asked for.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// The Unix mode (`st_mode`: type and permission bits).
    pub mode: u32,
    /// Last modification.
    pub mtime: SystemTime,
    /// For a symlink, the path it leads to in the container (every link on
    /// the way followed); empty otherwise.
    pub link_target: String,
}

impl PathStat {
    /// Whether it is a directory.
    pub fn is_dir(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFDIR
    }

    /// Whether it is a symlink.
    pub fn is_symlink(&self) -> bool {
        self.mode & libc::S_IFMT == libc::S_IFLNK
    }

    /// The mode as Go's `os.FileMode`, which docker's API carries.
    pub fn go_file_mode(&self) -> u32 {
        let mut m = self.mode & 0o777;
        m |= match self.mode & libc::S_IFMT {
            libc::S_IFDIR => 1 << 31,
            libc::S_IFLNK => 1 << 27,
            libc::S_IFBLK => 1 << 26,
            libc::S_IFCHR => (1 << 26) | (1 << 21),
            libc::S_IFIFO => 1 << 25,
            libc::S_IFSOCK => 1 << 24,
            _ => 0,
        };
        if self.mode & libc::S_ISUID != 0 {
            m |= 1 << 23;
        }
        if self.mode & libc::S_ISGID != 0 {
            m |= 1 << 22;
        }
        if self.mode & libc::S_ISVTX != 0 {
            m |= 1 << 20;
        }
        m
    }
}

/// How an archive is put into a container.
#[derive(Debug, Clone, Copy, Default)]
pub struct PutOptions {
    /// Refuse to replace a directory with a non-directory or the reverse
    /// (docker's `noOverwriteDirNonDir`, which its CLI always sets).
    pub no_overwrite_dir_non_dir: bool,
    /// Keep the archive's owners (docker's `copyUIDGID`, `cp -a`); without
    /// it everything belongs to root.
    pub copy_uid_gid: bool,
}

impl Engine {
    /// What `path` is in the container (docker's `HEAD .../archive`).
    pub fn archive_stat(&self, key: &str, path: &str) -> Result<PathStat> {
        let (id, path) = (key.to_string(), checked(path)?);
        self.in_container_root(key, false, || stat(&id, &path))
    }

    /// `path` in the container as a tar stream written to `out`, whose one
    /// top entry is the path's last component (its contents for a path
    /// ending in `/.`); a symlink is archived as itself.
    pub fn archive_get(&self, key: &str, path: &str, out: &mut (dyn Write + Send)) -> Result<PathStat> {
        let (id, path) = (key.to_string(), checked(path)?);
        self.in_container_root(key, false, || {
            let st = stat(&id, &path)?;
            write_tar(&id, &path, out)?;
            Ok(st)
        })
    }

    /// Unpacks the tar stream `input` into the directory `path` of the
    /// container (docker's `PUT .../archive`): `path` must exist and be a
    /// directory, or a symlink to one.
    pub fn archive_put(&self, key: &str, path: &str, input: &mut (dyn Read + Send), opts: PutOptions) -> Result<()> {
        let (id, path) = (key.to_string(), checked(path)?);
        self.in_container_root(key, true, || unpack_into(&id, &path, input, opts))
    }

    /// Runs `f` on a thread chrooted into the container's root (see the
    /// module's comment).
    fn in_container_root<T: Send>(&self, key: &str, write: bool, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
        let row = self.refreshed(key)?;
        let running = matches!(row.state.status, Status::Running | Status::Paused) && row.state.pid > 0;
        if running {
            let proc_root = format!("/proc/{}/root", row.state.pid);
            let root = std::fs::File::open(&proc_root).map_err(io("open", &proc_root))?;
            // The pid was the container's when the row was read; the
            // descriptor, once open, cannot change to another process's.
            if !self.refreshed(&row.id)?.state.status.is_live() {
                return Err(not_running(&row.id));
            }
            return on_thread(move || {
                nix::sched::unshare(nix::sched::CloneFlags::CLONE_FS).map_err(errno("unshare", "CLONE_FS"))?;
                nix::unistd::fchdir(root.as_raw_fd()).map_err(errno("fchdir", &proc_root))?;
                enter(".")?;
                f()
            });
        }
        // A stopped container: its lock keeps a start from mounting its root
        // at the same time.
        let _lock = self.lock(&row.id)?;
        let dir = self.container_dir(&row.id);
        let rootfs = dir.join("rootfs");
        let layers = self.images.layers(&self.image_of(&row)?)?;
        let binds = match hull_spec::Spec::load(&dir.join("config.json")) {
            Ok(spec) => spec.mounts.unwrap_or_default().into_iter().filter(is_bind).collect(),
            Err(_) => Vec::new(),
        };
        let read_only = row.config.read_only;
        on_thread(move || {
            use nix::mount::MsFlags;
            use nix::sched::CloneFlags;
            nix::sched::unshare(CloneFlags::CLONE_FS | CloneFlags::CLONE_NEWNS)
                .map_err(errno("unshare", "CLONE_NEWNS"))?;
            // Nothing mounted here reaches the host.
            nix::mount::mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_SLAVE, None::<&str>)
                .map_err(errno("make / a slave mount in", "the copy's mount namespace"))?;
            if !mounted_in_this_thread(&rootfs) {
                hull_image::snapshot::mount_overlay(&layers, &dir.join("upper"), &dir.join("work"), &rootfs)
                    .map_err(hull_image::images::ImageError::from)?;
            }
            if read_only && write {
                remount_readonly(&rootfs)?;
            }
            let root = hull_rootpath::Root::open(&rootfs)
                .map_err(|e| EngineError::Invalid(format!("container root {}: {e}", rootfs.display())))?;
            for m in &binds {
                bind_in_root(&root, m)?;
            }
            enter(&rootfs)?;
            f()
        })
    }
}

fn not_running(id: &str) -> EngineError {
    EngineError::Conflict {
        id: id.to_string(),
        status: "exited".into(),
        what: "container stopped during the copy".into(),
    }
}

fn errno(op: &'static str, what: impl std::fmt::Display) -> impl FnOnce(nix::Error) -> EngineError {
    let path = what.to_string();
    move |e| EngineError::Io { op, path, source: e.into() }
}

/// A path in a container: absolute (relative ones are taken from `/`, as
/// docker does), without NUL bytes.
fn checked(path: &str) -> Result<String> {
    if path.is_empty() {
        return Err(EngineError::Invalid("a path in the container is required".into()));
    }
    if path.contains('\0') {
        return Err(EngineError::Invalid(format!("invalid path {path:?}: contains a NUL byte")));
    }
    Ok(if path.starts_with('/') { path.to_string() } else { format!("/{path}") })
}

/// Runs `f` on a fresh thread (whose filesystem attributes `f` unshares),
/// joined before returning.
fn on_thread<T: Send>(f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("hull-archive".into())
            .spawn_scoped(s, f)
            .map_err(io("spawn", "the copy's thread"))?
            .join()
            .unwrap_or_else(|_| Err(EngineError::Invalid("the copy's thread panicked".into())))
    })
}

/// chroot to `dir` and cd to its `/` (this thread only: its filesystem
/// attributes are its own).
fn enter(dir: impl AsRef<Path>) -> Result<()> {
    let dir = dir.as_ref();
    nix::unistd::chroot(dir).map_err(errno("chroot", dir.display()))?;
    nix::unistd::chdir("/").map_err(errno("chdir", "/"))?;
    Ok(())
}

fn is_bind(m: &hull_spec::Mount) -> bool {
    let opts = m.options.as_deref().unwrap_or_default();
    m.source.is_some() && (m.typ.as_deref() == Some("bind") || opts.iter().any(|o| o == "bind" || o == "rbind"))
}

fn mounted_in_this_thread(path: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/thread-self/mountinfo") else { return false };
    let want = path.to_string_lossy();
    info.lines().any(|l| l.split(' ').nth(4).is_some_and(|m| m == want))
}

fn remount_readonly(target: &Path) -> Result<()> {
    use nix::mount::MsFlags;
    nix::mount::mount(
        None::<&str>,
        target,
        None::<&str>,
        MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY,
        None::<&str>,
    )
    .map_err(errno("remount read-only", target.display()))
}

/// One of the container's bind mounts, on its destination resolved inside
/// the root (a symlink the container left there cannot move it out): a
/// detached copy of the source, made read-only before it is attached where
/// the container has it so.
fn bind_in_root(root: &hull_rootpath::Root, m: &hull_spec::Mount) -> Result<()> {
    use hull_runtime::sys;
    let Some(source) = &m.source else { return Ok(()) };
    let Ok(meta) = std::fs::metadata(source) else { return Ok(()) };
    let made =
        if meta.is_dir() { root.mkdir_all(&m.destination, 0o755) } else { root.create_file(&m.destination, 0o644) };
    let target = made.map_err(|e| EngineError::Invalid(format!("mount point {}: {e}", m.destination.display())))?;
    let src = std::ffi::CString::new(source.as_os_str().as_encoded_bytes())
        .map_err(|_| EngineError::Invalid(format!("mount source {source:?} contains a NUL byte")))?;
    let flags = (libc::OPEN_TREE_CLONE | libc::AT_RECURSIVE as u32) | libc::O_CLOEXEC as libc::c_uint;
    let tree = sys::open_tree(&src, flags).map_err(io("open_tree", source.display()))?;
    if m.options.as_deref().unwrap_or_default().iter().any(|o| o == "ro") {
        let attr = sys::MountAttr { attr_set: libc::MOUNT_ATTR_RDONLY, ..Default::default() };
        sys::mount_setattr(&tree, true, &attr).map_err(io("make read-only", source.display()))?;
    }
    sys::move_mount_to_fd(&tree, &target).map_err(io("attach", m.destination.display()))
}

/// The path's last component, as docker names the archive's top entry.
pub fn base_name(path: &str) -> String {
    if path.ends_with("/.") {
        return ".".into();
    }
    Path::new(path.trim_end_matches('/')).file_name().map_or_else(|| ".".into(), |n| n.to_string_lossy().into_owned())
}

/// Maps a failed file operation on `path` in container `id` (as the caller
/// named it) to docker's
/// classes: a missing path (404), a read-only one (403), others.
fn file_error(id: &str, op: &'static str, path: &str) -> impl FnOnce(std::io::Error) -> EngineError {
    let (id, path) = (id.to_string(), path.to_string());
    // The tar crate wraps the system's error in its own: the kind survives.
    use std::io::ErrorKind as K;
    move |e| match e.kind() {
        K::NotFound | K::NotADirectory => EngineError::NoSuchPath { container: id, path },
        K::ReadOnlyFilesystem => {
            EngineError::ReadOnly(format!("{path} in container {id} is on a read-only file system"))
        }
        _ => EngineError::Io { op, path, source: e },
    }
}

/// `p` with every symlink at its end followed (at most 40; we are
/// chrooted, so absolute targets are the container's).
fn follow_links(p: &Path) -> std::io::Result<PathBuf> {
    let mut p = p.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(&p)?;
                p = p.parent().unwrap_or(Path::new("/")).join(target);
            }
            _ => return Ok(normalize(&p)),
        }
    }
    Err(std::io::Error::from_raw_os_error(libc::ELOOP))
}

/// `p` without `.` and `..` components (lexically, from `/`).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

fn stat(id: &str, path: &str) -> Result<PathStat> {
    // The parents are followed, the last component is not (docker's rule).
    let meta = std::fs::symlink_metadata(path).map_err(file_error(id, "stat", path))?;
    let link_target = if meta.file_type().is_symlink() {
        follow_links(Path::new(path)).map_err(file_error(id, "readlink", path))?.to_string_lossy().into_owned()
    } else {
        String::new()
    };
    let mtime = SystemTime::UNIX_EPOCH
        + Duration::new(meta.mtime().max(0) as u64, meta.mtime_nsec().clamp(0, 999_999_999) as u32);
    Ok(PathStat { name: base_name(path), size: meta.size(), mode: meta.mode(), mtime, link_target })
}

fn write_tar(id: &str, path: &str, out: &mut (dyn Write + Send)) -> Result<()> {
    let name = base_name(path);
    let meta = std::fs::symlink_metadata(path).map_err(file_error(id, "stat", path))?;
    let mut b = tar::Builder::new(out);
    b.follow_symlinks(false);
    let written = if meta.is_dir() { b.append_dir_all(&name, path) } else { b.append_path_with_name(path, &name) };
    written.and_then(|()| b.into_inner()?.flush()).map_err(file_error(id, "archive", path))
}

fn unpack_into(id: &str, path: &str, input: &mut (dyn Read + Send), opts: PutOptions) -> Result<()> {
    let dir = follow_links(Path::new(path)).map_err(file_error(id, "resolve", path))?;
    let meta = std::fs::metadata(&dir).map_err(file_error(id, "stat", path))?;
    if !meta.is_dir() {
        return Err(EngineError::Invalid(format!("extraction point {path} in container {id} is not a directory")));
    }
    let mut ar = tar::Archive::new(input);
    ar.set_preserve_permissions(true);
    ar.set_preserve_ownerships(opts.copy_uid_gid);
    ar.set_preserve_mtime(true);
    ar.set_overwrite(true);
    let bad = |e: std::io::Error| EngineError::Invalid(format!("the archive cannot be read: {e}"));
    for entry in ar.entries().map_err(bad)? {
        let mut e = entry.map_err(bad)?;
        let name = e.path().map_err(bad)?.into_owned();
        if opts.no_overwrite_dir_non_dir {
            let here = dir.join(&name);
            if let Ok(existing) = std::fs::symlink_metadata(&here) {
                let incoming_dir = e.header().entry_type().is_dir();
                if existing.is_dir() != incoming_dir && !(existing.is_dir() && name.as_os_str() == ".") {
                    let shown = normalize(&here).display().to_string();
                    return Err(EngineError::Invalid(if existing.is_dir() {
                        format!("cannot overwrite directory {shown:?} with non-directory {:?}", name.display())
                    } else {
                        format!("cannot overwrite non-directory {shown:?} with directory {:?}", name.display())
                    }));
                }
            }
        }
        let shown = name.display().to_string();
        if !e.unpack_in(&dir).map_err(file_error(id, "unpack", &shown))? {
            return Err(EngineError::Invalid(format!("refusing tar entry {shown}: it leads outside {path}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_names_as_docker_names_the_top_entry() {
        assert_eq!(base_name("/etc/hosts"), "hosts");
        assert_eq!(base_name("/tmp/dir/"), "dir");
        assert_eq!(base_name("/tmp/dir/."), ".");
        assert_eq!(base_name("/"), ".");
    }

    #[test]
    fn go_file_modes() {
        let st = |mode| PathStat {
            name: String::new(),
            size: 0,
            mode,
            mtime: SystemTime::UNIX_EPOCH,
            link_target: String::new(),
        };
        assert_eq!(st(libc::S_IFDIR | 0o755).go_file_mode(), (1 << 31) | 0o755);
        assert_eq!(st(libc::S_IFREG | 0o644).go_file_mode(), 0o644);
        assert_eq!(st(libc::S_IFLNK | 0o777).go_file_mode(), (1 << 27) | 0o777);
        assert_eq!(st(libc::S_IFREG | libc::S_ISUID | 0o755).go_file_mode(), (1 << 23) | 0o755);
        assert_eq!(st(libc::S_IFDIR | libc::S_ISVTX | 0o777).go_file_mode(), (1 << 31) | (1 << 20) | 0o777);
    }

    #[test]
    fn paths_are_checked_and_made_absolute() {
        assert_eq!(checked("etc/hosts").unwrap(), "/etc/hosts");
        assert!(checked("").is_err());
        assert!(checked("/a\0b").is_err());
        assert_eq!(normalize(Path::new("/a/../../b/./c")), PathBuf::from("/b/c"));
    }
}
