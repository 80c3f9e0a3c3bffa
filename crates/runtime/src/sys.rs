//! Raw system calls that neither nix nor libc wrap, as small typed functions.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Where a fork-like clone returned.
pub enum Forked {
    /// In the child.
    Child,
    /// In the parent, with the child's pid.
    Parent(i32),
}

/// clone(2) without a new stack: behaves like fork(2) but creates the
/// namespaces in `flags` for the child. The caller must be single-threaded.
pub fn clone_fork(flags: libc::c_int) -> io::Result<Forked> {
    // SAFETY: with a NULL stack the child continues on a copy of the parent's
    // stack, exactly like fork(); the runtime calls this before starting any
    // thread, so no lock can be held by a thread that does not exist in the child.
    let ret = unsafe {
        libc::syscall(libc::SYS_clone, (flags | libc::SIGCHLD) as libc::c_ulong, 0usize, 0usize, 0usize, 0usize)
    };
    match check(ret)? {
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid as i32)),
    }
}

/// pivot_root(2).
pub fn pivot_root(new_root: &std::ffi::CStr, put_old: &std::ffi::CStr) -> io::Result<()> {
    // SAFETY: both pointers are valid NUL-terminated strings for the call.
    check(unsafe { libc::syscall(libc::SYS_pivot_root, new_root.as_ptr(), put_old.as_ptr()) }).map(drop)
}

/// pidfd_open(2).
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: no pointers; the returned fd is new and owned by us.
    let fd = check(unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) })?;
    // SAFETY: the kernel just returned this descriptor to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// close_range(first, ~0, CLOSE_RANGE_CLOEXEC): marks every fd >= first close-on-exec.
pub fn cloexec_from(first: u32) -> io::Result<()> {
    const CLOSE_RANGE_CLOEXEC: libc::c_uint = 1 << 2;
    // SAFETY: no pointers; only changes descriptor flags.
    check(unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, CLOSE_RANGE_CLOEXEC) }).map(drop)
}

/// ioprio_set(IOPRIO_WHO_PROCESS, 0, class << 13 | prio).
pub fn ioprio_set(class: i32, priority: i32) -> io::Result<()> {
    const IOPRIO_WHO_PROCESS: libc::c_int = 1;
    let value = (class << 13) | priority;
    // SAFETY: no pointers.
    check(unsafe { libc::syscall(libc::SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, value) }).map(drop)
}

/// The kernel's `struct sched_attr` (version 1, 56 bytes).
#[repr(C)]
#[derive(Default)]
pub struct SchedAttr {
    /// Size of this struct.
    pub size: u32,
    /// SCHED_* policy.
    pub policy: u32,
    /// SCHED_FLAG_* flags.
    pub flags: u64,
    /// Nice value.
    pub nice: i32,
    /// Static priority.
    pub priority: u32,
    /// Deadline runtime.
    pub runtime: u64,
    /// Deadline.
    pub deadline: u64,
    /// Deadline period.
    pub period: u64,
    /// Utilization clamp min.
    pub util_min: u32,
    /// Utilization clamp max.
    pub util_max: u32,
}

/// sched_setattr(2) for the calling thread.
pub fn sched_setattr(attr: &mut SchedAttr) -> io::Result<()> {
    attr.size = std::mem::size_of::<SchedAttr>() as u32;
    // SAFETY: attr points to a properly sized, initialised sched_attr.
    check(unsafe { libc::syscall(libc::SYS_sched_setattr, 0, attr as *mut SchedAttr, 0) }).map(drop)
}

/// personality(2).
pub fn personality(persona: libc::c_ulong) -> io::Result<()> {
    // SAFETY: no pointers.
    let ret = unsafe { libc::personality(persona) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// prctl(2) with integer arguments.
pub fn prctl(option: libc::c_int, arg: libc::c_ulong) -> io::Result<()> {
    // SAFETY: every option used by the runtime takes integer arguments only.
    let ret = unsafe { libc::prctl(option, arg, 0 as libc::c_ulong, 0 as libc::c_ulong, 0 as libc::c_ulong) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// capset(2) for the calling thread with 64-bit sets (version 3 header).
pub fn capset(effective: u64, permitted: u64, inheritable: u64) -> io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut header = Header { version: 0x2008_0522, pid: 0 };
    let split = |v: u64| (v as u32, (v >> 32) as u32);
    let (e0, e1) = split(effective);
    let (p0, p1) = split(permitted);
    let (i0, i1) = split(inheritable);
    let data = [
        Data { effective: e0, permitted: p0, inheritable: i0 },
        Data { effective: e1, permitted: p1, inheritable: i1 },
    ];
    // SAFETY: header and data are valid, correctly laid out v3 capability structs.
    check(unsafe { libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()) }).map(drop)
}

/// keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL): a new anonymous session keyring,
/// so the container does not share the caller's keys.
pub fn join_session_keyring() -> io::Result<()> {
    const KEYCTL_JOIN_SESSION_KEYRING: libc::c_long = 1;
    // SAFETY: a NULL name asks for an anonymous keyring; no other pointers.
    check(unsafe { libc::syscall(libc::SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, 0usize) }).map(drop)
}

/// The kernel's `struct clone_args` (CLONE_ARGS_SIZE_VER2, 88 bytes).
#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// clone3(2) without a new stack (fork-like), optionally born straight into
/// a cgroup2 directory (CLONE_INTO_CGROUP), which spares the runtime a later
/// write to cgroup.procs and the global lock that write takes.
/// The caller must be single-threaded.
pub fn clone3_fork(flags: u64, cgroup: Option<std::os::fd::BorrowedFd>) -> io::Result<Forked> {
    use std::os::fd::AsRawFd;
    const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
    let mut args = CloneArgs { flags, exit_signal: libc::SIGCHLD as u64, ..Default::default() };
    if let Some(fd) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = fd.as_raw_fd() as u64;
    }
    // SAFETY: args is a valid clone_args of the size passed; with stack 0 the
    // child continues on a copy of our stack like fork(), and the caller
    // guarantees no other thread exists.
    let ret = unsafe { libc::syscall(libc::SYS_clone3, &mut args as *mut CloneArgs, std::mem::size_of::<CloneArgs>()) };
    match check(ret)? {
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent(pid as i32)),
    }
}

/// open_tree(2) of `path`; with OPEN_TREE_CLONE a detached copy of the mount.
pub fn open_tree(path: &std::ffi::CStr, flags: libc::c_uint) -> io::Result<OwnedFd> {
    // SAFETY: path is a valid NUL-terminated string; the result is a new fd.
    let fd = check(unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, path.as_ptr(), flags) })?;
    // SAFETY: the kernel just returned this descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// The kernel's `struct mount_attr`.
#[repr(C)]
#[derive(Default)]
pub struct MountAttr {
    /// MOUNT_ATTR_* to set.
    pub attr_set: u64,
    /// MOUNT_ATTR_* to clear.
    pub attr_clr: u64,
    /// Propagation type.
    pub propagation: u64,
    /// User namespace fd for MOUNT_ATTR_IDMAP.
    pub userns_fd: u64,
}

/// mount_setattr(2) on a detached mount fd (AT_EMPTY_PATH).
pub fn mount_setattr(fd: &OwnedFd, recursive: bool, attr: &MountAttr) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let flags = libc::AT_EMPTY_PATH | if recursive { libc::AT_RECURSIVE } else { 0 };
    // SAFETY: "" and attr are valid for the call; size matches the struct.
    check(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            c"".as_ptr(),
            flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })
    .map(drop)
}

/// move_mount(2) of a detached mount fd onto `to`.
pub fn move_mount(fd: &OwnedFd, to: &std::ffi::CStr) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
    // SAFETY: both strings are valid NUL-terminated strings for the call.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            fd.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    })
    .map(drop)
}

/// move_mount(2) of a detached mount onto the file a descriptor holds
/// (MOVE_MOUNT_T_EMPTY_PATH): no path is resolved again.
pub fn move_mount_to_fd(fd: &OwnedFd, to: &impl std::os::fd::AsFd) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
    const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
    // SAFETY: "" is a valid string and both descriptors are open for the call.
    check(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            fd.as_raw_fd(),
            c"".as_ptr(),
            to.as_fd().as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    })
    .map(drop)
}

/// Gives the process a clean signal state for the program it will exec:
/// every disposition back to default (ignored ones would survive execve)
/// and nothing blocked.
pub fn reset_signals() -> io::Result<()> {
    #[repr(C)]
    struct KernelSigaction {
        handler: usize,
        flags: libc::c_ulong,
        restorer: usize,
        mask: u64,
    }
    let act = KernelSigaction { handler: libc::SIG_DFL, flags: 0, restorer: 0, mask: 0 };
    for sig in 1..=64 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: the raw syscall (not glibc's wrapper, which refuses the
        // signals it reserves) installs SIG_DFL from a valid struct; no
        // handler of ours is left for a signal to run.
        unsafe { libc::syscall(libc::SYS_rt_sigaction, sig, &act as *const KernelSigaction, 0usize, 8usize) };
    }
    nix::sys::signal::SigSet::empty().thread_set_mask().map_err(io::Error::from)
}
