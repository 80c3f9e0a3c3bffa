//! The container's init process, from clone to execve. It runs in the child
//! of a fork-like clone of the runtime (no re-exec), sets up everything the
//! config asks for, reports `Ready`, and blocks on the exec fifo until `start`.

use crate::error::{sys, Context, Result};
use crate::rootfs::{self, RootfsContext};
use crate::sync::{Channel, Message};
use crate::{devices, hooks, namespaces, process};
use hull_cgroups::{CgroupPaths, Layout};
use hull_spec::{NamespaceType, Spec, State};
use nix::sched::CloneFlags;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Everything the init needs, prepared by the runtime before clone.
pub struct InitConfig<'a> {
    /// The container's config.
    pub spec: &'a Spec,
    /// Absolute rootfs path.
    pub rootfs: PathBuf,
    /// Host cgroup layout.
    pub layout: &'a Layout,
    /// The container's cgroup directories.
    pub cgroups: &'a CgroupPaths,
    /// Set when the init joins its v1 cgroups itself.
    pub self_join: Option<&'a CgroupPaths>,
    /// O_PATH descriptor of the state directory holding the exec fifo. The
    /// fifo is opened relative to it, which works after pivot_root and after
    /// the switch to an unprivileged user (who cannot use /proc/self/fd of a
    /// non-dumpable process).
    pub state_dir: OwnedFd,
    /// Use MS_MOVE + chroot instead of pivot_root.
    pub no_pivot: bool,
    /// Join a new session keyring.
    pub new_keyring: bool,
    /// Descriptors 3..3+N passed through to the process.
    pub preserve_fds: u32,
    /// The compiled seccomp filter, if the config has one.
    pub seccomp: Option<&'a crate::seccomp::Filter>,
    /// Keep SIGKILL as the parent-death signal through the execve (a shim
    /// that creates the container in-process wants it gone with it).
    pub die_with_parent: bool,
    /// Per mount index, a bind's source prepared by the runtime (see
    /// crate::mount_source).
    pub sources: &'a [Option<OwnedFd>],
    /// Without a terminal: the descriptors to install as 0, 1 and 2.
    pub stdio: Option<&'a crate::stdio::ChildStdio>,
    /// A helper joined the namespaces given by path (and the cgroups)
    /// before cloning this init: see namespaces::joins_before_creating.
    pub joined_by_helper: bool,
    /// Clear ONLCR on the terminal (see CreateOptions::clear_onlcr).
    pub clear_onlcr: bool,
}

/// Runs the init; never returns.
pub fn main(cfg: InitConfig, chan: Channel) -> ! {
    let exec = match setup(&cfg, &chan) {
        Ok(exec) => exec,
        Err(e) => {
            let _ = chan.send(&e.to_message());
            // SAFETY: _exit only ends this process; nothing is shared with the parent.
            unsafe { libc::_exit(1) }
        }
    };
    // The runtime exits as soon as it reads Ready: stop dying with it first.
    let keep = if cfg.die_with_parent { libc::SIGKILL as libc::c_ulong } else { 0 };
    let ready = crate::sys::prctl(libc::PR_SET_PDEATHSIG, keep)
        .map_err(|e| e.to_string())
        .and_then(|()| chan.send(&Message::Ready).map_err(|e| e.to_string()));
    // SAFETY: getppid has no preconditions.
    let parent = unsafe { libc::getppid() };
    drop(chan);
    if ready.is_err() {
        // SAFETY: as above.
        unsafe { libc::_exit(1) }
    }
    let code = match wait_for_start(&cfg, &exec) {
        Ok(()) => {
            // Changing credentials cleared the parent-death signal: set it
            // again, and go if the parent already went.
            if cfg.die_with_parent {
                let _ = crate::sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
                // SAFETY: getppid has no preconditions.
                let now = unsafe { libc::getppid() };
                if now != parent {
                    // SAFETY: _exit ends only this process.
                    unsafe { libc::_exit(137) }
                }
            }
            let err = nix::unistd::execve(&exec.path, &exec.args, &exec.env).unwrap_err();
            eprintln!("hull-runtime: exec {}: {err}", exec.path.to_string_lossy());
            127
        }
        Err(e) => {
            eprintln!("hull-runtime: {e}");
            1
        }
    };
    // SAFETY: as above.
    unsafe { libc::_exit(code) }
}

/// The resolved command.
struct Exec {
    path: CString,
    args: Vec<CString>,
    env: Vec<CString>,
    /// The environment as strings, for startContainer hooks without one.
    env_strings: Vec<String>,
    state: State,
}

fn setup(cfg: &InitConfig, chan: &Channel) -> Result<Exec> {
    crate::sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong).ctx("prctl", "PR_SET_PDEATHSIG")?;
    // Not dumpable: no process in the container may open /proc/<init>/exe
    // (the runtime binary) or our memory before the execve (CVE-2019-5736).
    // With a new user namespace that waits until the runtime has written
    // our id maps: an unprivileged runtime (or newuidmap) can only write
    // them while our /proc files are still ours. No container process
    // exists before then.
    let new_userns = cfg
        .spec
        .linux
        .as_ref()
        .and_then(|l| l.namespaces.as_ref())
        .is_some_and(|n| namespaces::creates(n, NamespaceType::User));
    if !new_userns {
        crate::sys::prctl(libc::PR_SET_DUMPABLE, 0).ctx("prctl", "PR_SET_DUMPABLE")?;
    }
    if let Some(paths) = cfg.self_join {
        hull_cgroups::join_v1_as_self(paths)?;
    }
    let spec = cfg.spec;
    let linux = spec.linux.clone().unwrap_or_default();
    let ns = linux.namespaces.clone().unwrap_or_default();
    let proc_ = spec.process.clone().unwrap_or_default();
    match chan.recv().ctx("receive", "start-up message")? {
        Some(Message::Go { .. }) => {}
        _ => return Err(crate::RuntimeError::Init("runtime went away during set-up".into())),
    }
    // In the cgroups now (joining a cpuset moves the affinity too).
    process::initial_affinity(&proc_)?;
    let userns = ns.iter().any(|n| n.typ == NamespaceType::User);
    if new_userns {
        crate::sys::prctl(libc::PR_SET_DUMPABLE, 0).ctx("prctl", "PR_SET_DUMPABLE")?;
        nix::unistd::setresgid(0.into(), 0.into(), 0.into()).ctx("setresgid", 0)?;
        nix::unistd::setresuid(0.into(), 0.into(), 0.into()).ctx("setresuid", 0)?;
    }
    // A new network namespace gets its loopback up, as runc does
    // (podman's and docker's `none` have it): before any user namespace is
    // joined by path, while we still hold the rights over the one clone made.
    if namespaces::creates(&ns, NamespaceType::Network) {
        hull_network::netns::loopback_up().ctx("set up", "loopback interface")?;
    }
    if !cfg.joined_by_helper {
        namespaces::join_paths(&ns)?;
    }
    if ns.iter().any(|n| n.typ == NamespaceType::User && n.path.is_some()) {
        become_root_of_joined_userns()?;
    }
    if cfg.new_keyring {
        crate::sys::join_session_keyring().ctx("keyctl", "join session keyring")?;
    }
    if namespaces::creates(&ns, NamespaceType::Cgroup) {
        nix::sched::unshare(CloneFlags::CLONE_NEWCGROUP).ctx("unshare", "cgroup namespace")?;
    }
    if let Some(h) = spec.hostname.as_deref().filter(|h| !h.is_empty()) {
        nix::unistd::sethostname(h).ctx("sethostname", h)?;
    }
    if let Some(d) = spec.domainname.as_deref().filter(|d| !d.is_empty()) {
        set_domainname(d)?;
    }
    if let Some(adj) = proc_.oom_score_adj {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string()).ctx("write oom_score_adj", adj)?;
    }
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
    // Without a mount namespace of its own the container shares the
    // caller's: its mounts are made there and it is chrooted (runc);
    // delete detaches them (runc leaves them).
    let own_mounts = ns.iter().any(|n| n.typ == NamespaceType::Mount);
    let console = build_root(cfg, &linux, userns, own_mounts)?;
    let state = receive_state(chan)?;
    if let Some(h) = spec.hooks.as_ref().and_then(|h| h.create_container.as_deref()) {
        let ctx = hooks::HookContext { cwd: Some(&cfg.rootfs), inherit_env: None };
        hooks::run_all_in("createContainer", h, &state, ctx)?;
    }
    if own_mounts {
        enter_root(cfg, &linux)?;
    } else {
        rootfs::chroot_into(&cfg.rootfs)?;
    }
    for (key, value) in linux.sysctl.iter().flatten() {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        std::fs::write(&path, value).ctx("write sysctl", key)?;
    }
    if own_mounts {
        rootfs::mask_paths(linux.masked_paths.as_deref().unwrap_or_default())?;
        rootfs::readonly_paths(linux.readonly_paths.as_deref().unwrap_or_default())?;
        if spec.root.as_ref().and_then(|r| r.readonly) == Some(true) {
            rootfs::readonly_root()?;
        }
    }
    if proc_.terminal == Some(true) {
        attach_terminal(chan, &proc_, console, cfg.clear_onlcr)?;
    } else {
        // A session of its own, as with a terminal: never the caller's.
        nix::unistd::setsid().ctx("setsid", "container init")?;
        if let Some(stdio) = cfg.stdio {
            stdio.install()?;
        }
    }
    finish_process(cfg, chan, &proc_, userns, state)
}

/// Mounts the container's filesystems under its rootfs and makes its /dev.
/// Returns whether /dev is the container's own (so /dev/console may be
/// mounted on it). In a shared mount namespace the propagation of the
/// caller's mounts is left alone and the rootfs is not bound to itself.
fn build_root(cfg: &InitConfig, linux: &hull_spec::Linux, userns: bool, own_mounts: bool) -> Result<bool> {
    let ns = linux.namespaces.clone().unwrap_or_default();
    let propagation = linux.rootfs_propagation.as_deref().filter(|p| !p.is_empty());
    if own_mounts {
        rootfs::prepare(&cfg.rootfs, propagation)?;
    }
    // Opened after the self-bind: the descriptor is the new mount's root.
    let root = hull_rootpath::Root::open(&cfg.rootfs).map_err(|e| crate::error::spec("root.path", e.to_string()))?;
    let ctx = RootfsContext {
        root: &root,
        rootfs: &cfg.rootfs,
        layout: cfg.layout,
        cgroups: cfg.cgroups,
        cgroupns: ns.iter().any(|n| n.typ == NamespaceType::Cgroup),
        userns,
        sources: cfg.sources,
    };
    let mounts = cfg.spec.mounts.clone().unwrap_or_default();
    let mut readonly_later = Vec::new();
    for (i, m) in mounts.iter().enumerate() {
        readonly_later.extend(rootfs::mount_entry(&ctx, i, m)?);
    }
    let dev_is_host_bind = mounts
        .iter()
        .any(|m| m.destination == Path::new("/dev") && m.options.iter().flatten().any(|o| o == "bind" || o == "rbind"));
    if !dev_is_host_bind {
        let mut devs = devices::defaults();
        devs.extend(linux.devices.clone().unwrap_or_default());
        devices::create(&root, &devs, userns)?;
        devices::symlinks(&root)?;
    }
    rootfs::make_readonly(&root, &readonly_later)?;
    Ok(!dev_is_host_bind)
}

/// Has the runtime run the createRuntime hooks; returns the state for the
/// init's own hooks.
fn receive_state(chan: &Channel) -> Result<State> {
    chan.send(&Message::RunCreateRuntimeHooks).ctx("send", "hook request")?;
    match chan.recv().ctx("receive", "hook result")? {
        Some(Message::HooksDone { state }) => Ok(state),
        _ => Err(crate::RuntimeError::Init("runtime went away during createRuntime hooks".into())),
    }
}

/// pivot_root (or MS_MOVE + chroot) into the rootfs, then the asked propagation.
fn enter_root(cfg: &InitConfig, linux: &hull_spec::Linux) -> Result<()> {
    let propagation = linux.rootfs_propagation.as_deref().filter(|p| !p.is_empty());
    if cfg.no_pivot {
        rootfs::move_root(&cfg.rootfs)?
    } else {
        rootfs::pivot(&cfg.rootfs)?
    }
    rootfs::finish_propagation(propagation)
}

/// Creates the pty in the container's devpts, sends the master to the
/// runtime, and makes the slave our stdio and controlling terminal.
fn attach_terminal(chan: &Channel, p: &hull_spec::Process, console: bool, clear_onlcr: bool) -> Result<()> {
    let (master, slave) = crate::terminal::open_pty(p.console_size)?;
    if clear_onlcr {
        crate::terminal::clear_onlcr(&slave)?;
    }
    if console {
        crate::terminal::mount_console(&slave)?;
    }
    chan.send_with_fd(&Message::ConsoleMaster, master.as_raw_fd()).ctx("send", "terminal master")?;
    drop(master);
    crate::terminal::make_controlling(&slave)
}

fn finish_process(
    cfg: &InitConfig,
    chan: &Channel,
    p: &hull_spec::Process,
    userns: bool,
    state: State,
) -> Result<Exec> {
    if let Some(persona) = cfg.spec.linux.as_ref().and_then(|l| l.personality.as_ref()) {
        process::apply_personality(&persona.domain)?;
    }
    let prepared = process::become_process(p, userns, cfg.preserve_fds)?;
    // The last privileges go before `Ready`, as in runc: a capability the
    // host lacks or a filter the kernel refuses fails `create`, and the
    // startContainer hooks already run confined. The listener gets the
    // notify fd before `start`.
    if let Some(fd) = process::lock_down(p, cfg.seccomp)? {
        chan.send_with_fd(&Message::SeccompFd, fd.as_raw_fd()).ctx("send", "seccomp notify fd")?;
    }
    let env_strings = process::environment(p);
    Ok(Exec { path: prepared.path, args: prepared.args, env: prepared.env, env_strings, state })
}

/// In a joined user namespace: its root, as in a new one, so that what the
/// set-up creates is the container root's. A namespace that does not map
/// uid or gid 0 leaves us as we are (the process user is set at the end).
fn become_root_of_joined_userns() -> Result<()> {
    match nix::unistd::setresgid(0.into(), 0.into(), 0.into()) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) => {}
        Err(e) => return Err(crate::error::sys("setresgid", 0, e)),
    }
    match nix::unistd::setresuid(0.into(), 0.into(), 0.into()) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) => Ok(()),
        Err(e) => Err(crate::error::sys("setresuid", 0, e)),
    }
}

fn set_domainname(name: &str) -> Result<()> {
    // SAFETY: the pointer and length describe `name`'s bytes for the call.
    let ret = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    if ret != 0 {
        return Err(sys("setdomainname", name, std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Blocks until `start` opens the fifo, then runs the startContainer hooks.
fn wait_for_start(cfg: &InitConfig, exec: &Exec) -> Result<()> {
    let fd = nix::fcntl::openat(
        Some(cfg.state_dir.as_raw_fd()),
        crate::state::EXEC_FIFO,
        nix::fcntl::OFlag::O_WRONLY | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .ctx("open", "exec fifo")?;
    nix::unistd::write(
        // SAFETY: fd was just opened and is closed below; the borrow does not outlive it.
        unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) },
        b"0",
    )
    .ctx("write", "exec fifo")?;
    let _ = nix::unistd::close(fd);
    if let Some(h) = cfg.spec.hooks.as_ref().and_then(|h| h.start_container.as_deref()) {
        let ctx = hooks::HookContext { cwd: None, inherit_env: Some(&exec.env_strings) };
        hooks::run_all_in("startContainer", h, &exec.state, ctx)?;
    }
    Ok(())
}
