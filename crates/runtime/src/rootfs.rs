//! The container's root filesystem: propagation, the spec's mounts, /dev,
//! pivot_root (or MS_MOVE + chroot), masked and read-only paths.

use crate::error::{spec, sys, Context, Result};
use crate::mount_options::{propagation, MountOptions};
use hull_cgroups::{CgroupPaths, Layout, Mode};
use hull_rootpath::Root;
use hull_spec::Mount;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

const NONE: Option<&str> = None;

/// What the mount code needs to know about the container.
pub struct RootfsContext<'a> {
    /// The rootfs, as a descriptor every destination is resolved in.
    pub root: &'a Root,
    /// Its absolute path.
    pub rootfs: &'a Path,
    /// Host cgroup layout.
    pub layout: &'a Layout,
    /// The container's cgroup directories.
    pub cgroups: &'a CgroupPaths,
    /// Whether the container has its own cgroup namespace.
    pub cgroupns: bool,
    /// Whether the container has its own user namespace (no mknod).
    pub userns: bool,
    /// Per mount index, a bind's source the runtime prepared (a detached
    /// tree, idmapped if asked: crate::mount_source).
    pub sources: &'a [Option<std::os::fd::OwnedFd>],
}

/// Sets "/" propagation (default rslave) and makes the rootfs a mount point.
pub fn prepare(rootfs: &Path, root_propagation: Option<&str>) -> Result<()> {
    let asked = root_propagation.and_then(propagation).unwrap_or(MsFlags::MS_SLAVE | MsFlags::MS_REC);
    // An unbindable tree cannot be bind-mounted: slave until the root is
    // entered, and unbindable then (finish_propagation).
    let flags = if asked.contains(MsFlags::MS_UNBINDABLE) { MsFlags::MS_SLAVE } else { asked } | MsFlags::MS_REC;
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

/// A path inside the rootfs resolved to a descriptor, for mount calls:
/// `path()` is its `/proc/self/fd/N`, `shown` what messages say.
pub struct Target {
    fd: std::os::fd::OwnedFd,
    /// The path as the container sees it.
    pub shown: PathBuf,
}

impl Target {
    /// `/proc/self/fd/N` of the resolved file.
    pub fn path(&self) -> PathBuf {
        hull_rootpath::fd_path(&self.fd)
    }
}

fn in_root(e: hull_rootpath::RootPathError, field: &str) -> crate::error::RuntimeError {
    spec(field, e.to_string())
}

/// Resolves `dest` in the root afresh (after a mount on it, this is the
/// new mount's root).
fn resolve(root: &Root, dest: &Path) -> Result<Target> {
    let fd = root.resolve(dest).map_err(|e| in_root(e, "mounts"))?;
    Ok(Target { fd, shown: dest.to_path_buf() })
}

/// The mount point for `dest`: a directory, or a file for a file bind,
/// created inside the root if missing (never truncated if present).
fn make_target(root: &Root, dest: &Path, dir: bool, field: &str) -> Result<Target> {
    let fd = if dir { root.mkdir_all(dest, 0o755) } else { root.create_file(dest, 0o644) };
    let fd = fd.map_err(|e| spec(field, format!("{}: {e}", dest.display())))?;
    Ok(Target { fd, shown: dest.to_path_buf() })
}

/// Mounts one `mounts[]` entry under the rootfs. A read-only tmpfs is
/// mounted writable, so that what goes below it (the devices of a /dev
/// tmpfs, later mount points) can be made, and its destination returned:
/// `make_readonly` finishes it once the root is built (runc does the same).
pub fn mount_entry(ctx: &RootfsContext, index: usize, m: &Mount) -> Result<Option<PathBuf>> {
    let field = format!("mounts[{index}].destination");
    // A destination already given under the rootfs path is taken as
    // meaning that place in the rootfs, not joined to it twice (runc).
    let dest = &match m.destination.strip_prefix(ctx.rootfs) {
        Ok(rel) => Path::new("/").join(rel),
        Err(_) => m.destination.clone(),
    };
    let mut opts = MountOptions::parse(m.options.as_deref().unwrap_or_default());
    let typ = m.typ.as_deref().unwrap_or("");
    if typ == "cgroup" || typ == "cgroup2" {
        return mount_cgroup(ctx, dest, &opts, &field).map(|()| None);
    }
    let readonly_later = typ == "tmpfs" && !opts.bind && opts.flags.contains(MsFlags::MS_RDONLY);
    if readonly_later {
        opts.flags.remove(MsFlags::MS_RDONLY);
    }
    if opts.bind || typ == "bind" {
        if !opts.unknown.is_empty() {
            // A bind has no filesystem data: an option we do not know would
            // be silently dropped, so a mount asked for as (say) read-only
            // could end up writable. Fail closed.
            return Err(spec(
                format!("mounts[{index}].options"),
                format!("{}: unknown option(s) for a bind mount: {}", dest.display(), opts.unknown.join(",")),
            ));
        }
        let source = m.source.clone().unwrap_or_default();
        match ctx.sources.get(index).and_then(Option::as_ref) {
            Some(tree) => {
                let is_dir = nix::sys::stat::fstat(std::os::fd::AsRawFd::as_raw_fd(tree))
                    .map(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR)
                    .unwrap_or(true);
                let target = make_target(ctx.root, dest, is_dir, &field)?;
                crate::sys::move_mount_to_fd(tree, &target.fd)
                    .ctx(&format!("move {} to", source.display()), target.shown.display())?;
                remount_bind(ctx.root, &target, &opts)?;
            }
            None => {
                let is_dir = std::fs::metadata(&source).map(|m| m.is_dir()).unwrap_or(true);
                let target = make_target(ctx.root, dest, is_dir, &field)?;
                bind(ctx.root, &source, &target, &opts)?;
            }
        }
    } else {
        if typ == "proc" || typ == "sysfs" {
            ordinary_directory(ctx.root, dest, typ, &field)?;
        }
        let target = make_target(ctx.root, dest, true, &field)?;
        let source = m.source.as_deref().unwrap_or(Path::new(typ));
        let flags = opts.flags & !MsFlags::MS_REMOUNT;
        let data = (!opts.data.is_empty()).then_some(opts.data.as_str());
        // The directory about to be covered, for tmpcopyup: still reachable
        // through this descriptor once the tmpfs is on top.
        let below = (opts.tmpcopyup && typ == "tmpfs")
            .then(|| {
                rustix::fs::openat(
                    &target.fd,
                    ".",
                    rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
                    rustix::fs::Mode::empty(),
                )
            })
            .transpose()
            .ctx("open", dest.display())?;
        // A tmpfs without mode= takes the mode of the directory it covers (runc).
        let covered_mode = (typ == "tmpfs" && !opts.data.split(',').any(|o| o.starts_with("mode=")))
            .then(|| nix::sys::stat::fstat(std::os::fd::AsRawFd::as_raw_fd(&target.fd)).ok())
            .flatten()
            .map(|st| st.st_mode & 0o7777);
        mount(Some(source), &target.path(), Some(typ), flags, data).ctx(&format!("mount {typ}"), dest.display())?;
        if let Some(mode) = covered_mode {
            let top = resolve(ctx.root, dest)?;
            rustix::fs::chmod(top.path(), rustix::fs::Mode::from_raw_mode(mode)).ctx("chmod", dest.display())?;
        }
        if let Some(below) = below {
            let top = resolve(ctx.root, dest)?;
            let top = rustix::fs::openat(
                &top.fd,
                ".",
                rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::DIRECTORY | rustix::fs::OFlags::CLOEXEC,
                rustix::fs::Mode::empty(),
            )
            .ctx("open", dest.display())?;
            crate::copy_up::copy_dir(&below, &top).ctx("tmpcopyup into", dest.display())?;
        }
    }
    apply_recursive(ctx.root, dest, &opts)?;
    apply_propagation(ctx.root, dest, &opts)?;
    Ok(readonly_later.then(|| dest.to_path_buf()))
}

/// Makes the read-only tmpfs mounts `mount_entry` left writable read-only,
/// keeping each mount's other flags.
pub fn make_readonly(root: &Root, dests: &[PathBuf]) -> Result<()> {
    for dest in dests {
        let target = resolve(root, dest)?;
        let at = target.path();
        remount(&at, locked_flags(&at) | MsFlags::MS_RDONLY)?;
    }
    Ok(())
}

/// `rro`, `rnosuid`, ...: mount_setattr(AT_RECURSIVE) on the new mount and
/// everything below it.
fn apply_recursive(root: &Root, dest: &Path, opts: &MountOptions) -> Result<()> {
    if opts.recursive.is_empty() {
        return Ok(());
    }
    let target = resolve(root, dest)?;
    let attr =
        crate::sys::MountAttr { attr_set: opts.recursive.set, attr_clr: opts.recursive.clear, ..Default::default() };
    crate::sys::mount_setattr(&target.fd, true, &attr).ctx("set recursive mount attributes of", dest.display())
}

/// proc and sysfs go on a real directory: a symlink there could point the
/// kernel's files anywhere in the root (CVE-2019-19921's hardening, as runc).
fn ordinary_directory(root: &Root, dest: &Path, typ: &str, field: &str) -> Result<()> {
    match root.resolve_nofollow(dest) {
        Ok(fd) => {
            let st = nix::sys::stat::fstat(std::os::fd::AsRawFd::as_raw_fd(&fd)).ctx("stat", dest.display())?;
            if st.st_mode & libc::S_IFMT != libc::S_IFDIR {
                return Err(spec(field, format!("{}: {typ} must be mounted on ordinary directory", dest.display())));
            }
            Ok(())
        }
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(in_root(e, field)),
    }
}

fn apply_propagation(root: &Root, dest: &Path, opts: &MountOptions) -> Result<()> {
    if opts.propagation.is_empty() {
        return Ok(());
    }
    let target = resolve(root, dest)?;
    for p in &opts.propagation {
        mount(NONE, &target.path(), NONE, *p, NONE).ctx("set propagation of", dest.display())?;
    }
    Ok(())
}

/// Bind-mounts, then remounts to apply flags a bind ignores (ro, nosuid, ...).
fn bind(root: &Root, source: &Path, target: &Target, opts: &MountOptions) -> Result<()> {
    let flags = MsFlags::MS_BIND | (opts.flags & MsFlags::MS_REC);
    mount(Some(source), &target.path(), NONE, flags, NONE)
        .ctx(&format!("bind {}", source.display()), target.shown.display())?;
    remount_bind(root, target, opts)
}

/// The flags a bind asks for, on top of those its source mount has, less
/// those it asks to clear (`rw`, `exec`, `suid`, `dev`, ...): a bind of a
/// nosuid mount stays nosuid unless `suid` is given. Remounts only if that
/// changes anything.
fn remount_bind(root: &Root, target: &Target, opts: &MountOptions) -> Result<()> {
    let at = resolve(root, &target.shown)?;
    let current = locked_flags(&at.path());
    let want = opts.remount_flags() | (current & !opts.cleared);
    if want != current {
        remount(&at.path(), want | (opts.flags & MsFlags::MS_REC))?;
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
fn mount_cgroup(ctx: &RootfsContext, dest: &Path, opts: &MountOptions, field: &str) -> Result<()> {
    let flags = opts.flags & !(MsFlags::MS_BIND | MsFlags::MS_REC | MsFlags::MS_REMOUNT);
    if ctx.layout.mode == Mode::Unified {
        let at = HierarchyAt { root: ctx.root, rel: dest, field };
        return mount_one_hierarchy(ctx, at, "", "cgroup2", ctx.cgroups.unified.as_deref(), flags);
    }
    let target = make_target(ctx.root, dest, true, field)?;
    let tmpfs_flags = flags & !MsFlags::MS_RDONLY;
    mount(Some("tmpfs"), &target.path(), Some("tmpfs"), tmpfs_flags, Some("mode=755"))
        .ctx("mount tmpfs", dest.display())?;
    // The fresh tmpfs, which nothing else can reach yet.
    let tmpfs = hull_rootpath::Root::open(resolve(ctx.root, dest)?.path()).map_err(|e| in_root(e, field))?;
    for (ctrls, dir) in &ctx.cgroups.v1 {
        let Some(h) = ctx.layout.v1.iter().find(|h| &h.controllers == ctrls) else {
            continue;
        };
        let name = h.mountpoint.file_name().unwrap_or(OsStr::new(ctrls.as_str()));
        let at = HierarchyAt { root: &tmpfs, rel: Path::new(name), field };
        mount_one_hierarchy(ctx, at, ctrls, "cgroup", Some(dir), flags)?;
        // Co-mounted controllers (cpu,cpuacct) get a link per controller, as on the host.
        for c in ctrls.split(',').filter(|c| !c.starts_with("name=") && OsStr::new(c) != name) {
            if !tmpfs.exists(Path::new(c)) {
                rustix::fs::symlinkat(name, tmpfs.fd(), c).ctx("symlink", dest.join(c).display())?;
            }
        }
    }
    if let (Some(h), Some(dir)) = (&ctx.layout.unified, &ctx.cgroups.unified) {
        let name = h.mountpoint.file_name().unwrap_or(OsStr::new("unified"));
        let at = HierarchyAt { root: &tmpfs, rel: Path::new(name), field };
        mount_one_hierarchy(ctx, at, "", "cgroup2", Some(dir), flags)?;
    }
    if flags.contains(MsFlags::MS_RDONLY) {
        mount(
            NONE,
            &resolve(ctx.root, dest)?.path(),
            NONE,
            MsFlags::MS_REMOUNT | tmpfs_flags | MsFlags::MS_RDONLY,
            NONE,
        )
        .ctx("remount ro", dest.display())?;
    }
    Ok(())
}

/// Where one hierarchy goes: `rel` in `root` (the rootfs, or the cgroup tmpfs).
struct HierarchyAt<'a> {
    root: &'a Root,
    rel: &'a Path,
    field: &'a str,
}

fn mount_one_hierarchy(
    ctx: &RootfsContext,
    at: HierarchyAt,
    ctrls: &str,
    fstype: &str,
    host_dir: Option<&Path>,
    flags: MsFlags,
) -> Result<()> {
    let target = make_target(at.root, at.rel, true, at.field)?;
    if ctx.cgroupns || host_dir.is_none() {
        let data = (!ctrls.is_empty()).then_some(ctrls);
        return mount(Some(fstype), &target.path(), Some(fstype), flags, data)
            .ctx(&format!("mount {fstype} {ctrls}"), target.shown.display());
    }
    let dir = host_dir.unwrap_or(Path::new("/"));
    mount(Some(dir), &target.path(), NONE, MsFlags::MS_BIND, NONE)
        .ctx(&format!("bind {}", dir.display()), target.shown.display())?;
    if !flags.is_empty() {
        remount(&resolve(at.root, at.rel)?.path(), flags)?;
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
    hide_kernel_filesystems_outside(rootfs)?;
    nix::unistd::chdir(rootfs).ctx("chdir", rootfs.display())?;
    mount(Some(rootfs), "/", NONE, MsFlags::MS_MOVE, NONE).ctx("move rootfs to", "/")?;
    nix::unistd::chroot(".").ctx("chroot", rootfs.display())?;
    nix::unistd::chdir("/").ctx("chdir", "/")
}

/// Without pivot_root the old root stays in the container's mount
/// namespace, below the chroot. A full procfs or sysfs there would let a
/// process that makes a user namespace of its own mount a fresh procfs (the
/// kernel allows it when one is fully visible in the mount namespace), so
/// each is detached, or covered when it cannot be (as runc does). Only the
/// container's mount namespace is touched.
fn hide_kernel_filesystems_outside(rootfs: &Path) -> Result<()> {
    // mountinfo shows resolved paths; a rootfs given through a symlink must
    // still keep its own proc and sys.
    let rootfs = &std::fs::canonicalize(rootfs).ctx("resolve", rootfs.display())?;
    let info = std::fs::read_to_string("/proc/self/mountinfo").ctx("read", "/proc/self/mountinfo")?;
    let points: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| {
            let (fields, fs) = l.split_once(" - ")?;
            let fields: Vec<&str> = fields.split(' ').collect();
            let fstype = fs.split(' ').next()?;
            let point = PathBuf::from(unescape_mountinfo(fields.get(4)?));
            let full = *fields.get(3)? == "/" && (fstype == "proc" || fstype == "sysfs");
            (full && !point.starts_with(rootfs)).then_some(point)
        })
        .collect();
    for p in points {
        match mount(NONE, &p, NONE, MsFlags::MS_SLAVE | MsFlags::MS_REC, NONE) {
            // Already gone with a mount above it.
            Err(nix::errno::Errno::EINVAL | nix::errno::Errno::ENOENT) => continue,
            r => r.ctx("make slave", p.display())?,
        }
        match umount2(&p, MntFlags::MNT_DETACH) {
            Ok(()) | Err(nix::errno::Errno::ENOENT) => {}
            Err(nix::errno::Errno::EINVAL | nix::errno::Errno::EPERM) => {
                mount(Some("tmpfs"), &p, Some("tmpfs"), MsFlags::empty(), NONE).ctx("cover", p.display())?
            }
            Err(e) => return Err(sys("unmount", p.display(), e)),
        }
    }
    Ok(())
}

/// Without a mount namespace of its own: chroot into the rootfs (runc),
/// leaving the shared namespace's root alone.
pub fn chroot_into(rootfs: &Path) -> Result<()> {
    nix::unistd::chroot(rootfs).ctx("chroot", rootfs.display())?;
    nix::unistd::chdir("/").ctx("chdir", "/")
}

/// Detaches every mount at or below `rootfs`, deepest first: what a
/// container without its own mount namespace mounted in the shared one
/// (runc leaves them behind). Best-effort; returns what failed.
pub fn unmount_below(rootfs: &Path) -> Vec<crate::RuntimeError> {
    let rootfs = &std::fs::canonicalize(rootfs).unwrap_or_else(|_| rootfs.to_path_buf());
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape_mountinfo(p)))
        .filter(|p| p.starts_with(rootfs) && p != rootfs)
        .collect();
    points.reverse();
    points
        .iter()
        .filter_map(|p| nix::mount::umount2(p, nix::mount::MntFlags::MNT_DETACH).err().map(|e| (p, e)))
        .filter(|(_, e)| *e != nix::errno::Errno::EINVAL && *e != nix::errno::Errno::ENOENT)
        .map(|(p, e)| sys("unmount", p.display(), e))
        .collect()
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(field: &str) -> String {
    let mut out = String::new();
    let mut rest = field;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 4).and_then(|o| u8::from_str_radix(o, 8).ok());
        match code {
            Some(c) => {
                out.push(c as char);
                rest = &rest[i + 4..];
            }
            None => {
                out.push('\\');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
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

/// The container's /dev/null, checked to be the null device (1:3) before
/// anything is masked with it: a rootfs that replaced it (with a symlink to
/// a procfs file, say) would otherwise turn a mask into a writable bind of
/// its choice (runc CVE-2025-31133).
fn verified_dev_null(root: &Root) -> Result<std::os::fd::OwnedFd> {
    let fd = root.resolve_nofollow(Path::new("/dev/null")).map_err(|e| in_root(e, "linux.maskedPaths"))?;
    let st = nix::sys::stat::fstat(std::os::fd::AsRawFd::as_raw_fd(&fd)).ctx("stat", "/dev/null")?;
    if st.st_mode & libc::S_IFMT != libc::S_IFCHR || st.st_rdev != nix::sys::stat::makedev(1, 3) {
        return Err(spec("linux.maskedPaths", "/dev/null in the container is not the null device (1:3)"));
    }
    Ok(fd)
}

/// Makes each path unreadable: an empty read-only tmpfs over directories,
/// /dev/null over files. Missing paths are skipped. Runs after the pivot:
/// paths resolve in the container's own root.
pub fn mask_paths(paths: &[String]) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let root = Root::open("/").map_err(|e| in_root(e, "linux.maskedPaths"))?;
    let mut null = None;
    for p in paths {
        let target = match root.resolve(Path::new(p)) {
            Ok(fd) => fd,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(in_root(e, "linux.maskedPaths")),
        };
        let st = nix::sys::stat::fstat(std::os::fd::AsRawFd::as_raw_fd(&target)).ctx("stat", p)?;
        let at = hull_rootpath::fd_path(&target);
        let result = if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            mount(Some("tmpfs"), &at, Some("tmpfs"), MsFlags::MS_RDONLY, NONE)
        } else {
            if null.is_none() {
                null = Some(verified_dev_null(&root)?);
            }
            let source = null.as_ref().map(hull_rootpath::fd_path);
            mount(source.as_deref(), &at, NONE, MsFlags::MS_BIND, NONE)
        };
        result.ctx("mask", p)?;
    }
    Ok(())
}

/// Makes each path read-only with a recursive bind onto itself. Missing
/// paths are skipped.
pub fn readonly_paths(paths: &[String]) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let root = Root::open("/").map_err(|e| in_root(e, "linux.readonlyPaths"))?;
    for p in paths {
        let path = Path::new(p);
        let fd = match root.resolve(path) {
            Ok(fd) => fd,
            Err(e) if e.is_not_found() => continue,
            Err(e) => return Err(in_root(e, "linux.readonlyPaths")),
        };
        let at = hull_rootpath::fd_path(&fd);
        mount(Some(&at), &at, NONE, MsFlags::MS_BIND | MsFlags::MS_REC, NONE).ctx("bind", p)?;
        // A bind remount sets exactly the flags given: keep the mount's own
        // nosuid, nodev, noexec (those of /proc) besides read-only.
        let bound = resolve(&root, path)?;
        remount(&bound.path(), MsFlags::MS_RDONLY | MsFlags::MS_REC | locked_flags(&bound.path()))?;
    }
    Ok(())
}
