//! Whatever process enters a container runs from a binary the container
//! cannot write (the CVE-2019-5736 class).
//!
//! The runtime's init and exec children are clones of the calling process,
//! so their `/proc/<pid>/exe` is the caller's own binary: `hull`,
//! `hull-runtime` or `hull-shim` on the host. Not being dumpable does not
//! stop a container given CAP_SYS_PTRACE in the host's user namespace from
//! opening that link; what stops it is a binary that cannot be opened for
//! writing. [`ensure`] makes sure the current process runs from one: if its
//! executable already sits on a read-only mount (or is a sealed memfd), it
//! costs one statvfs; otherwise the process re-executes itself once from a
//! read-only bind mount of its own binary kept under /run/hull-sealed (made
//! once per binary version, in a root-only directory no container can
//! reach), else through a detached read-only bind mount (`open_tree` +
//! `mount_setattr`, never attached, so nothing can remount it writable),
//! or, where it may not make mounts (a rootless runtime), through a sealed
//! memfd copy, as runc and crun do.

use std::ffi::{CString, OsString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// Set in the re-executed process to the binary's original path, which
/// `/proc/self/exe` no longer names.
const ORIGINAL_EXE: &str = "HULL_SEALED_EXE";

/// The binary's own path, as it was started (before any re-execution).
pub fn original_exe() -> io::Result<PathBuf> {
    match std::env::var_os(ORIGINAL_EXE) {
        Some(p) => Ok(PathBuf::from(p)),
        None => std::env::current_exe(),
    }
}

/// Whether the running binary cannot be written: on a read-only mount, or
/// a memfd sealed against writes.
pub fn is_sealed() -> bool {
    if rustix::fs::statvfs("/proc/self/exe").is_ok_and(|s| s.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY)) {
        return true;
    }
    let Ok(f) = std::fs::File::open("/proc/self/exe") else { return false };
    rustix::fs::fcntl_get_seals(&f).is_ok_and(|s| s.contains(rustix::fs::SealFlags::WRITE))
}

/// Whether running the bundle's container (created and started at once)
/// needs [`ensure`]: its init is visible, before it execve's the
/// container's program, to the processes of the pid namespace it is born
/// in. A new pid namespace holds nothing else in that moment (hooks aside,
/// which the operator chose), so only a container joining an existing one
/// (a path) or the host's (none) needs the sealed binary. An unreadable
/// config counts as needing it.
pub fn needed_for_bundle(bundle: &std::path::Path) -> bool {
    let Ok(spec) = hull_spec::Spec::load(&bundle.join("config.json")) else { return true };
    let namespaces = spec.linux.as_ref().and_then(|l| l.namespaces.as_ref());
    !namespaces.is_some_and(|ns| {
        ns.iter()
            .any(|n| n.typ == hull_spec::NamespaceType::Pid && n.path.as_ref().is_none_or(|p| p.as_os_str().is_empty()))
    })
}

/// Re-executes the process from a read-only view of its binary unless it
/// already runs from one; returns only if no re-execution was needed (or
/// it failed, with the error).
pub fn ensure() -> io::Result<()> {
    if is_sealed() {
        return Ok(());
    }
    let original = std::env::current_exe()?;
    let argv: Vec<CString> = std::env::args_os().map(cstring).collect::<io::Result<_>>()?;
    let mut env: Vec<CString> = std::env::vars_os()
        .filter(|(k, _)| k != ORIGINAL_EXE)
        .map(|(k, v)| {
            let mut kv = k.into_vec();
            kv.push(b'=');
            kv.extend(v.into_vec());
            cstring(OsString::from_vec(kv))
        })
        .collect::<io::Result<_>>()?;
    let mut own = OsString::from(format!("{ORIGINAL_EXE}="));
    own.push(original.as_os_str());
    env.push(cstring(own)?);
    if let Ok(view) = cached_view(std::path::Path::new("/proc/self/exe"), &original) {
        // Only returns if the view went away meanwhile (an upgrade's new
        // binary replaced it): then the detached view below.
        let _ = nix::unistd::execve(&cstring(view.into_os_string())?, &argv, &env);
    }
    let exe = readonly_view().or_else(|_| sealed_copy())?;
    execveat(&exe, &argv, &env)
}

/// Where read-only views of Hull's binaries are kept, one bind mount per
/// binary version, made once: the per-run cost is then one execve, not a
/// mount made and torn down (that costs an RCU grace period at exit).
const CACHE_DIR: &str = "/run/hull-sealed";

/// A read-only view of `binary` to execute it from, so that the process
/// needs no re-execution: what the engine starts hull-shim from.
pub fn readonly_path(binary: &std::path::Path) -> io::Result<PathBuf> {
    cached_view(binary, binary)
}

/// A read-only bind mount of `source` in [`CACHE_DIR`], made if missing;
/// named after `name`'s file name and the binary's device, inode, size and
/// time, so a new build or an upgrade gets its own. Fails where mounts
/// cannot be made (rootless).
fn cached_view(source: &std::path::Path, original: &std::path::Path) -> io::Result<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
    let me = std::fs::metadata(source)?;
    let base = original.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "hull".into());
    // One view per installed binary (its path), one version at a time.
    let prefix = format!("{base}-{:016x}-", fnv1a(original.as_os_str().as_bytes()));
    let name = format!("{prefix}{:x}-{:x}-{:x}-{:x}", me.dev(), me.ino(), me.size(), me.mtime_nsec() ^ me.mtime());
    let path = PathBuf::from(CACHE_DIR).join(name);
    let is_view = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.dev() == me.dev() && m.ino() == me.ino())
            && rustix::fs::statvfs(p).is_ok_and(|s| s.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY))
    };
    if is_view(&path) {
        return Ok(path);
    }
    std::fs::DirBuilder::new().mode(0o700).recursive(true).create(CACHE_DIR)?;
    match std::fs::File::options().write(true).create_new(true).mode(0o500).open(&path) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    use nix::mount::MsFlags as F;
    nix::mount::mount(Some(source), &path, None::<&str>, F::MS_BIND, None::<&str>)?;
    let ro = F::MS_REMOUNT | F::MS_BIND | F::MS_RDONLY | F::MS_NOSUID | F::MS_NODEV;
    if let Err(e) = nix::mount::mount(None::<&str>, &path, None::<&str>, ro, None::<&str>) {
        let _ = nix::mount::umount2(&path, nix::mount::MntFlags::MNT_DETACH);
        return Err(e.into());
    }
    if !is_view(&path) {
        return Err(io::Error::other("read-only view of the binary not in place"));
    }
    remove_stale(&prefix, &path);
    Ok(path)
}

/// Views of earlier versions of the same binary: detached (processes
/// running from them keep their file) and removed.
fn remove_stale(prefix: &str, current: &std::path::Path) {
    let Ok(dir) = std::fs::read_dir(CACHE_DIR) else { return };
    for e in dir.flatten() {
        let p = e.path();
        if p != current && e.file_name().to_string_lossy().starts_with(prefix) {
            while nix::mount::umount2(&p, nix::mount::MntFlags::MNT_DETACH).is_ok() {}
            let _ = std::fs::remove_file(&p);
        }
    }
}

/// FNV-1a, to name a binary's path in a file name.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

fn cstring(s: OsString) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| io::ErrorKind::InvalidInput.into())
}

/// A detached bind mount of our binary, read-only.
fn readonly_view() -> io::Result<OwnedFd> {
    const OPEN_TREE_CLONE: libc::c_uint = 1;
    const MOUNT_ATTR_RDONLY: u64 = 0x1;
    const MOUNT_ATTR_NOSUID: u64 = 0x2;
    const MOUNT_ATTR_NODEV: u64 = 0x4;
    let tree = crate::sys::open_tree(c"/proc/self/exe", OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint)?;
    let attr = crate::sys::MountAttr {
        attr_set: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
        ..Default::default()
    };
    crate::sys::mount_setattr(&tree, false, &attr)?;
    Ok(tree)
}

/// A memfd holding a copy of our binary, sealed against any change.
fn sealed_copy() -> io::Result<OwnedFd> {
    use rustix::fs::{MemfdFlags, SealFlags};
    let fd = rustix::fs::memfd_create("hull-sealed", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
    let mut file = std::fs::File::from(fd);
    std::io::copy(&mut std::fs::File::open("/proc/self/exe")?, &mut file)?;
    let seals = SealFlags::SEAL | SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE;
    rustix::fs::fcntl_add_seals(&file, seals)?;
    Ok(OwnedFd::from(file))
}

fn execveat(fd: &OwnedFd, argv: &[CString], env: &[CString]) -> io::Result<()> {
    let mut argv_p: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_p.push(std::ptr::null());
    let mut env_p: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    env_p.push(std::ptr::null());
    // SAFETY: both arrays are NUL-terminated and point at live CStrings; on
    // success execveat does not return.
    unsafe {
        libc::syscall(
            libc::SYS_execveat,
            fd.as_raw_fd(),
            c"".as_ptr(),
            argv_p.as_ptr(),
            env_p.as_ptr(),
            libc::AT_EMPTY_PATH,
        );
    }
    Err(io::Error::last_os_error())
}
