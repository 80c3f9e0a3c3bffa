//! The container's root filesystem: propagation, the spec's mounts, /dev,
//! pivot_root (or MS_MOVE + chroot), masked and read-only paths.

use crate::error::{spec, sys, Context, Result};
use crate::mount_options::{propagation, MountOptions};
use hull_cgroups::{CgroupPaths, Layout, Mode};
use hull_spec::Mount;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use std::collections::VecDeque;
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

const NONE: Option<&str> = None;

/// Resolves `unsafe_path` inside `root` the way the container will see it:
/// symlinks are followed relative to `root`; a `..` that would climb out of
/// `root` (directly or through a symlink) is an error.
pub fn secure_join(root: &Path, unsafe_path: &Path) -> std::result::Result<PathBuf, String> {
    let mut resolved = PathBuf::new();
    let mut queue: VecDeque<PathBuf> = unsafe_path.components().map(|c| PathBuf::from(c.as_os_str())).collect();
    let mut hops = 0;
    while let Some(part) = queue.pop_front() {
        match part.components().next() {
            None | Some(Component::RootDir) | Some(Component::CurDir) => {}
            Some(Component::ParentDir) => {
                if !resolved.pop() {
                    return Err("leads outside the root filesystem (through '..' or a symlink)".into());
                }
            }
            Some(Component::Normal(name)) => {
                let candidate = root.join(&resolved).join(name);
                match std::fs::symlink_metadata(&candidate) {
                    Ok(m) if m.file_type().is_symlink() => {
                        hops += 1;
                        if hops > 40 {
                            return Err("too many levels of symbolic links".into());
                        }
                        let target = std::fs::read_link(&candidate).map_err(|e| e.to_string())?;
                        if target.is_absolute() {
                            resolved.clear();
                        }
                        for c in target.components().rev() {
                            queue.push_front(PathBuf::from(c.as_os_str()));
                        }
                    }
                    _ => resolved.push(name),
                }
            }
            Some(Component::Prefix(_)) => {}
        }
    }
    Ok(root.join(resolved))
}

/// What the mount code needs to know about the container.
pub struct RootfsContext<'a> {
    /// Absolute rootfs path.
    pub rootfs: &'a Path,
    /// Host cgroup layout.
    pub layout: &'a Layout,
    /// The container's cgroup directories.
    pub cgroups: &'a CgroupPaths,
    /// Whether the container has its own cgroup namespace.
    pub cgroupns: bool,
    /// Whether the container has its own user namespace (no mknod).
    pub userns: bool,
    /// Per mount index, the user namespace of an idmapped mount.
    pub idmaps: &'a [Option<std::os::fd::OwnedFd>],
}

/// Sets "/" propagation (default rslave) and makes the rootfs a mount point.
pub fn prepare(rootfs: &Path, root_propagation: Option<&str>) -> Result<()> {
    let flags = root_propagation.and_then(propagation).unwrap_or(MsFlags::MS_SLAVE | MsFlags::MS_REC);
    let flags = flags | MsFlags::MS_REC;
    mount(NONE, "/", NONE, flags, NONE).ctx("set propagation of", "/")?;
    make_parent_private(rootfs)?;
    mount(Some(rootfs), rootfs, NONE, MsFlags::MS_BIND | MsFlags::MS_REC, NONE).ctx("bind rootfs", rootfs.display())
}

/// pivot_root refuses a new root whose parent mount is shared.
fn make_parent_private(rootfs: &Path) -> Result<()> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ctx("read", "/proc/self/mountinfo")?;
    let parent = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(PathBuf::from).map(|mp| (mp, l.contains(" shared:"))))
        .filter(|(mp, _)| rootfs.starts_with(mp))
        .max_by_key(|(mp, _)| mp.as_os_str().len());
    if let Some((mp, true)) = parent {
        mount(NONE, &mp, NONE, MsFlags::MS_PRIVATE, NONE).ctx("make private", mp.display())?;
    }
    Ok(())
}

/// Mounts one `mounts[]` entry under the rootfs.
pub fn mount_entry(ctx: &RootfsContext, index: usize, m: &Mount) -> Result<()> {
    let field = format!("mounts[{index}].destination");
    let dest = secure_join(ctx.rootfs, &m.destination)
        .map_err(|e| spec(&field, format!("{}: {e}", m.destination.display())))?;
    let opts = MountOptions::parse(m.options.as_deref().unwrap_or_default());
    let typ = m.typ.as_deref().unwrap_or("");
    if typ == "cgroup" || typ == "cgroup2" {
        return mount_cgroup(ctx, &dest, &opts);
    }
    if opts.bind || typ == "bind" {
        let source = m.source.clone().unwrap_or_default();
        make_target(&dest, std::fs::metadata(&source).map(|m| m.is_dir()).unwrap_or(true))?;
        match ctx.idmaps.get(index).and_then(Option::as_ref) {
            Some(userns) => idmapped_bind(&source, &dest, &opts, userns)?,
            None => bind(&source, &dest, &opts)?,
        }
    } else {
        make_target(&dest, true)?;
        let source = m.source.as_deref().unwrap_or(Path::new(typ));
        let flags = opts.flags & !MsFlags::MS_REMOUNT;
        let data = (!opts.data.is_empty()).then_some(opts.data.as_str());
        mount(Some(source), &dest, Some(typ), flags, data).ctx(&format!("mount {typ}"), dest.display())?;
    }
    apply_propagation(&dest, &opts)
}

fn apply_propagation(dest: &Path, opts: &MountOptions) -> Result<()> {
    for p in &opts.propagation {
        mount(NONE, dest, NONE, *p, NONE).ctx("set propagation of", dest.display())?;
    }
    Ok(())
}

fn make_target(dest: &Path, dir: bool) -> Result<()> {
    if dest.exists() {
        return Ok(());
    }
    if dir {
        std::fs::create_dir_all(dest).ctx("mkdir", dest.display())
    } else {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).ctx("mkdir", parent.display())?;
        }
        std::fs::File::create(dest).map(drop).ctx("create", dest.display())
    }
}

/// Bind-mounts, then remounts to apply flags a bind ignores (ro, nosuid, ...).
fn bind(source: &Path, dest: &Path, opts: &MountOptions) -> Result<()> {
    let flags = MsFlags::MS_BIND | (opts.flags & MsFlags::MS_REC);
    mount(Some(source), dest, NONE, flags, NONE).ctx(&format!("bind {}", source.display()), dest.display())?;
    let extra = opts.remount_flags();
    if !extra.is_empty() {
        remount(dest, extra | (opts.flags & MsFlags::MS_REC))?;
    }
    Ok(())
}

/// An idmapped bind mount (OCI 1.1 `uidMappings` on a mount): a detached
/// copy of the source, given the user namespace's id mapping with
/// mount_setattr(MOUNT_ATTR_IDMAP), moved onto the destination.
fn idmapped_bind(source: &Path, dest: &Path, opts: &MountOptions, userns: &std::os::fd::OwnedFd) -> Result<()> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;
    let recursive = opts.flags.contains(MsFlags::MS_REC);
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(|_| spec("mounts", "NUL in path"));
    let flags = OPEN_TREE_CLONE
        | libc::O_CLOEXEC as libc::c_uint
        | if recursive { libc::AT_RECURSIVE as libc::c_uint } else { 0 };
    let tree = crate::sys::open_tree(&c(source)?, flags).ctx("open_tree", source.display())?;
    let attr = crate::sys::MountAttr {
        attr_set: MOUNT_ATTR_IDMAP,
        userns_fd: userns.as_raw_fd() as u64,
        ..Default::default()
    };
    crate::sys::mount_setattr(&tree, recursive, &attr).ctx("idmap mount of", source.display())?;
    crate::sys::move_mount(&tree, &c(dest)?).ctx("move idmapped mount to", dest.display())?;
    let extra = opts.remount_flags();
    if !extra.is_empty() {
        remount(dest, extra | (opts.flags & MsFlags::MS_REC))?;
    }
    Ok(())
}

/// MS_REMOUNT|MS_BIND with `flags`, keeping flags the kernel locked on the
/// mount (in a user namespace those cannot be cleared; asking to fails).
pub fn remount(dest: &Path, flags: MsFlags) -> Result<()> {
    let base = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | flags;
    match mount(NONE, dest, NONE, base, NONE) {
        Ok(()) => Ok(()),
        Err(nix::errno::Errno::EPERM) => {
            let locked = locked_flags(dest);
            mount(NONE, dest, NONE, base | locked, NONE).ctx("remount", dest.display())
        }
        Err(e) => Err(sys("remount", dest.display(), e)),
    }
}

fn locked_flags(path: &Path) -> MsFlags {
    use nix::sys::statvfs::{statvfs, FsFlags};
    let Ok(st) = statvfs(path) else {
        return MsFlags::empty();
    };
    let f = st.flags();
    let pairs = [
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ];
    pairs.iter().filter(|(s, _)| f.contains(*s)).fold(MsFlags::empty(), |acc, (_, m)| acc | *m)
}

/// The `cgroup` mount: on v1/hybrid hosts a tmpfs with one directory per
/// hierarchy; on v2 the cgroup2 filesystem. With a cgroup namespace the
/// hierarchies are mounted fresh (rooted at the namespace); without one the
/// container's own cgroup directories are bind-mounted, so the container
/// never sees the host's tree.
fn mount_cgroup(ctx: &RootfsContext, dest: &Path, opts: &MountOptions) -> Result<()> {
    make_target(dest, true)?;
    let flags = opts.flags & !(MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT);
    if ctx.layout.mode == Mode::Unified {
        return mount_one_hierarchy(ctx, dest, "", "cgroup2", ctx.cgroups.unified.as_deref(), flags);
    }
    let tmpfs_flags = flags & !MsFlags::MS_RDONLY;
    mount(Some("tmpfs"), dest, Some("tmpfs"), tmpfs_flags, Some("mode=755")).ctx("mount tmpfs", dest.display())?;
    for (ctrls, dir) in &ctx.cgroups.v1 {
        let Some(h) = ctx.layout.v1.iter().find(|h| &h.controllers == ctrls) else {
            continue;
        };
        let name = h.mountpoint.file_name().unwrap_or(OsStr::new(ctrls.as_str()));
        let target = dest.join(name);
        make_target(&target, true)?;
        mount_one_hierarchy(ctx, &target, ctrls, "cgroup", Some(dir), flags)?;
        // Co-mounted controllers (cpu,cpuacct) get a link per controller, as on the host.
        for c in ctrls.split(',').filter(|c| !c.starts_with("name=") && OsStr::new(c) != name) {
            let link = dest.join(c);
            if !link.exists() {
                std::os::unix::fs::symlink(name, &link).ctx("symlink", link.display())?;
            }
        }
    }
    if let (Some(h), Some(dir)) = (&ctx.layout.unified, &ctx.cgroups.unified) {
        let name = h.mountpoint.file_name().unwrap_or(OsStr::new("unified"));
        let target = dest.join(name);
        make_target(&target, true)?;
        mount_one_hierarchy(ctx, &target, "", "cgroup2", Some(dir), flags)?;
    }
    if flags.contains(MsFlags::MS_RDONLY) {
        mount(NONE, dest, NONE, MsFlags::MS_REMOUNT | tmpfs_flags | MsFlags::MS_RDONLY, NONE)
            .ctx("remount ro", dest.display())?;
    }
    Ok(())
}

fn mount_one_hierarchy(
    ctx: &RootfsContext,
    target: &Path,
    ctrls: &str,
    fstype: &str,
    host_dir: Option<&Path>,
    flags: MsFlags,
) -> Result<()> {
    if ctx.cgroupns || host_dir.is_none() {
        let data = (!ctrls.is_empty()).then_some(ctrls);
        return mount(Some(fstype), target, Some(fstype), flags, data)
            .ctx(&format!("mount {fstype} {ctrls}"), target.display());
    }
    let dir = host_dir.unwrap_or(Path::new("/"));
    mount(Some(dir), target, NONE, MsFlags::MS_BIND, NONE).ctx(&format!("bind {}", dir.display()), target.display())?;
    if !flags.is_empty() {
        remount(target, flags)?;
    }
    Ok(())
}

/// Moves into the rootfs with pivot_root and detaches the old root.
pub fn pivot(rootfs: &Path) -> Result<()> {
    use nix::fcntl::{open, OFlag};
    use nix::sys::stat::Mode as FMode;
    let old = open("/", OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC, FMode::empty()).ctx("open", "/")?;
    let new = open(rootfs, OFlag::O_DIRECTORY | OFlag::O_RDONLY | OFlag::O_CLOEXEC, FMode::empty())
        .ctx("open", rootfs.display())?;
    nix::unistd::fchdir(new).ctx("fchdir", rootfs.display())?;
    crate::sys::pivot_root(c".", c".").ctx("pivot_root", rootfs.display())?;
    nix::unistd::fchdir(old).ctx("fchdir", "old root")?;
    mount(NONE, ".", NONE, MsFlags::MS_SLAVE | MsFlags::MS_REC, NONE).ctx("make slave", "old root")?;
    umount2(".", MntFlags::MNT_DETACH).ctx("unmount", "old root")?;
    let _ = nix::unistd::close(old);
    let _ = nix::unistd::close(new);
    nix::unistd::chdir("/").ctx("chdir", "/")
}

/// `--no-pivot`: moves the rootfs over "/" and chroots into it.
pub fn move_root(rootfs: &Path) -> Result<()> {
    nix::unistd::chdir(rootfs).ctx("chdir", rootfs.display())?;
    mount(Some(rootfs), "/", NONE, MsFlags::MS_MOVE, NONE).ctx("move rootfs to", "/")?;
    nix::unistd::chroot(".").ctx("chroot", rootfs.display())?;
    nix::unistd::chdir("/").ctx("chdir", "/")
}

/// After pivot: applies `rootfsPropagation` to the new "/".
pub fn finish_propagation(root_propagation: Option<&str>) -> Result<()> {
    if let Some(flags) = root_propagation.and_then(propagation) {
        mount(NONE, "/", NONE, flags, NONE).ctx("set propagation of", "/")?;
    }
    Ok(())
}

/// Remounts "/" read-only.
pub fn readonly_root() -> Result<()> {
    remount(Path::new("/"), MsFlags::MS_RDONLY)
}

/// Makes each path unreadable: an empty read-only tmpfs over directories,
/// /dev/null over files. Missing paths are skipped.
pub fn mask_paths(paths: &[String]) -> Result<()> {
    for p in paths {
        let result = match std::fs::metadata(p) {
            Err(_) => continue,
            Ok(m) if m.is_dir() => mount(Some("tmpfs"), p.as_str(), Some("tmpfs"), MsFlags::MS_RDONLY, NONE),
            Ok(_) => mount(Some("/dev/null"), p.as_str(), NONE, MsFlags::MS_BIND, NONE),
        };
        result.ctx("mask", p)?;
    }
    Ok(())
}

/// Makes each path read-only with a recursive bind onto itself. Missing
/// paths are skipped.
pub fn readonly_paths(paths: &[String]) -> Result<()> {
    for p in paths {
        let path = Path::new(p);
        if !path.exists() {
            continue;
        }
        mount(Some(path), path, NONE, MsFlags::MS_BIND | MsFlags::MS_REC, NONE).ctx("bind", p)?;
        remount(path, MsFlags::MS_RDONLY | MsFlags::MS_REC)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_join_follows_links_inside_root_and_refuses_escapes() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("real/dir")).unwrap();
        std::os::unix::fs::symlink("/real", root.join("abs")).unwrap();
        std::os::unix::fs::symlink("real/dir", root.join("rel")).unwrap();
        std::os::unix::fs::symlink("../../../../tmp", root.join("evil")).unwrap();
        std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
        assert_eq!(secure_join(root, "/abs/dir/x".as_ref()).unwrap(), root.join("real/dir/x"));
        assert_eq!(secure_join(root, "/rel/../y".as_ref()).unwrap(), root.join("real/y"));
        assert!(secure_join(root, "/evil/x".as_ref()).unwrap_err().contains("outside"));
        assert!(secure_join(root, "/../etc".as_ref()).is_err());
        assert!(secure_join(root, "/loop".as_ref()).unwrap_err().contains("symbolic links"));
    }
}
