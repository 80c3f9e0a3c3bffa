//! `create`: set up the container and leave its init waiting for `start`.

use super::Runtime;
use crate::error::{spec, Context, Result, RuntimeError};
use crate::init::{self, InitConfig};
use crate::namespaces::{self, ParentPrep};
use crate::state::{proc_stat, validate_id, ContainerRecord, StateDir};
use crate::sync::{self, Channel, Message};
use crate::sys::{self, Forked};
use hull_cgroups::{CgroupSpec, Layout, Manager, OwnCgroups};
use hull_spec::{NamespaceType, Spec, State};
use nix::fcntl::OFlag;
use nix::sys::stat::Mode;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// Options of `create` (and `run`).
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// Container id.
    pub id: String,
    /// Bundle directory.
    pub bundle: PathBuf,
    /// File to write the init's pid to.
    pub pid_file: Option<PathBuf>,
    /// Use MS_MOVE + chroot instead of pivot_root.
    pub no_pivot: bool,
    /// Join a fresh session keyring (runc's default; off with --no-new-keyring).
    pub new_keyring: bool,
    /// Descriptors beyond stdio to pass to the process.
    pub preserve_fds: u32,
    /// Where to send the terminal's master (process.terminal).
    pub console_socket: Option<PathBuf>,
    /// Socket-activation descriptors (from LISTEN_FDS) passed as fds 3..3+N,
    /// ahead of `preserve_fds`; the process gets LISTEN_FDS and LISTEN_PID=1.
    pub listen_fds: u32,
    /// Keep the terminal's master for the caller to attach (foreground run).
    pub attach_terminal: bool,
    /// The container dies with the process that created it (a shim
    /// creating it in-process): its init keeps SIGKILL as parent-death signal.
    pub die_with_parent: bool,
    /// Unix socket to send a pidfd of the init to (runc's --pidfd-socket).
    pub pidfd_socket: Option<PathBuf>,
    /// Clear ONLCR on the container's terminal, as runc does when it relays
    /// the terminal itself: output lines end in `\n`, not `\r\n`.
    pub clear_onlcr: bool,
}

/// A created container whose init is a child of this process.
#[derive(Debug)]
pub struct Created {
    /// Its record.
    pub record: ContainerRecord,
    /// Things worth a warning that did not stop the container (e.g.
    /// seccomp syscall names this libseccomp does not know).
    pub warnings: Vec<String>,
    /// The terminal's master, when the caller attaches it itself.
    pub console: Option<OwnedFd>,
    /// Without a terminal in the foreground: the pipes to relay.
    pub relay: Option<crate::stdio::Relay>,
}

/// Undoes a half-made container when `create` fails.
struct Cleanup {
    dir: Option<PathBuf>,
    /// The rootfs of a container without its own mount namespace, whose
    /// init mounted under it in ours.
    shared_rootfs: Option<PathBuf>,
    cgroup: Option<Box<dyn Manager>>,
    child: Option<i32>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(pid) = self.child {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGKILL);
            let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
        }
        if let Some(rootfs) = &self.shared_rootfs {
            let _ = crate::rootfs::unmount_below(rootfs);
        }
        if let Some(cg) = &self.cgroup {
            let _ = cg.destroy();
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl Cleanup {
    fn disarm(mut self) {
        self.dir = None;
        self.shared_rootfs = None;
        self.cgroup = None;
        self.child = None;
    }
}

impl Runtime {
    /// Creates a container from a bundle; without a terminal its init
    /// inherits the caller's 0, 1 and 2 (terminals replaced by /dev/null).
    pub fn create(&self, opts: &CreateOptions) -> Result<Created> {
        self.create_with_stdio(opts, None)
    }

    /// Creates a container whose init, without a terminal, gets `stdio`
    /// (stdin, stdout, stderr) instead of the caller's own descriptors: a
    /// supervisor passes its pipes' ends without touching its own 0-2
    /// (youki's `with_stdin`/`with_stdout`/`with_stderr`).
    pub fn create_with_stdio(&self, opts: &CreateOptions, stdio: Option<[OwnedFd; 3]>) -> Result<Created> {
        validate_id(&opts.id)?;
        let bundle = std::fs::canonicalize(&opts.bundle).ctx("open bundle", opts.bundle.display())?;
        let mut config = Spec::load(&bundle.join("config.json"))?;
        if opts.listen_fds > 0 {
            if let Some(p) = config.process.as_mut() {
                let env = p.env.get_or_insert_with(Vec::new);
                env.retain(|e| !e.starts_with("LISTEN_FDS=") && !e.starts_with("LISTEN_PID="));
                env.push(format!("LISTEN_FDS={}", opts.listen_fds));
                env.push("LISTEN_PID=1".into());
            }
        }
        let root_path = &config.root.as_ref().ok_or_else(|| spec("root", "missing"))?.path;
        if root_path.as_os_str().is_empty() {
            return Err(spec("root.path", "empty"));
        }
        let rootfs = bundle.join(root_path);
        crate::validate::validate(&config, &rootfs)?;
        let namespaces = config.linux.as_ref().and_then(|l| l.namespaces.as_deref()).unwrap_or_default();
        if opts.no_pivot && !namespaces.iter().any(|n| n.typ == NamespaceType::Mount) {
            return Err(spec("linux.namespaces", "--no-pivot needs a mount namespace (it would move the host's root)"));
        }
        let terminal = config.process.as_ref().and_then(|p| p.terminal) == Some(true);
        if terminal && opts.console_socket.is_none() && !opts.attach_terminal {
            return Err(spec("process.terminal", "a detached container with a terminal needs --console-socket"));
        }
        let seccomp = self.seccomp_filter(&config)?;
        let warnings: Vec<String> = seccomp
            .iter()
            .flat_map(|f| f.unknown_names.iter())
            .map(|n| format!("linux.seccomp: syscall {n:?} is unknown to libseccomp here; its rule is skipped"))
            .collect();
        let rootfs = std::fs::canonicalize(&rootfs).ctx("resolve root.path", rootfs.display())?;
        let pid_file = opts.pid_file.as_ref().map(|p| absolute(p));
        let pidfd_socket = opts.pidfd_socket.as_deref().map(crate::pidfd_socket::PidfdSocket::connect).transpose()?;

        if !self.root.exists() {
            std::fs::create_dir_all(&self.root).ctx("mkdir", self.root.display())?;
            // Only the runtime looks inside (the init reaches its fifo through a descriptor).
            std::fs::set_permissions(&self.root, std::os::unix::fs::PermissionsExt::from_mode(0o700))
                .ctx("chmod", self.root.display())?;
        }
        let dir = StateDir::new(&self.root, &opts.id);
        match std::fs::create_dir(&dir.path) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(RuntimeError::Exists(opts.id.clone()))
            }
            other => other.ctx("mkdir", dir.path.display())?,
        }
        let shared_mounts = !namespaces.iter().any(|n| n.typ == NamespaceType::Mount);
        let mut cleanup = Cleanup {
            dir: Some(dir.path.clone()),
            shared_rootfs: shared_mounts.then(|| rootfs.clone()),
            cgroup: None,
            child: None,
        };
        // Searchable, not listable: the init opens exec.fifo in it after dropping to the container's user.
        std::fs::set_permissions(&dir.path, std::os::unix::fs::PermissionsExt::from_mode(0o711))
            .ctx("chmod", dir.path.display())?;

        let linux = config.linux.clone().unwrap_or_default();
        let layout = Layout::detect()?;
        let own = OwnCgroups::read()?;
        let cg_spec = CgroupSpec { path: linux.cgroups_path.as_deref(), id: &opts.id };
        let rootless = !nix::unistd::geteuid().is_root();
        let mut cgroup = hull_cgroups::manager_for(&layout, &cg_spec, &own)?;
        let mut resources = linux.resources.clone().unwrap_or_default();
        let created = cgroup.create();
        let paths = match created {
            Ok(()) => {
                let paths = cgroup.paths().clone();
                cleanup.cgroup = Some(cgroup);
                if let Some(cg) = &cleanup.cgroup {
                    claim_cgroup(cg.as_ref())?;
                }
                paths
            }
            Err(e) if rootless && is_permission_error(&e) => {
                // No delegated cgroup: a rootless container runs in its
                // caller's cgroup, which is fine unless it asked for limits.
                let _ = cgroup.destroy();
                if has_limits(&resources) {
                    return Err(spec(
                        "linux.resources",
                        format!(
                            "limits need a cgroup this user may write (a delegated one), and creating it failed: {e}"
                        ),
                    ));
                }
                resources = hull_spec::Resources::default();
                hull_cgroups::CgroupPaths::default()
            }
            Err(e) => {
                let _ = cgroup.destroy();
                return Err(e.into());
            }
        };
        let rules = hull_cgroups::v1::devices::effective_rules(resources.devices.as_deref().unwrap_or_default());
        if resources.devices.is_some() {
            resources.devices = Some(rules);
        }
        if let Some(c) = &cleanup.cgroup {
            c.set(&resources)?;
        }

        let fifo = dir.fifo();
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o622)).ctx("mkfifo", fifo.display())?;
        // Writable by the container's (possibly unprivileged) user; mkfifo applied our umask.
        std::fs::set_permissions(&fifo, std::os::unix::fs::PermissionsExt::from_mode(0o622))
            .ctx("chmod", fifo.display())?;
        let dir_fd = nix::fcntl::open(
            &dir.path,
            nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY | nix::fcntl::OFlag::O_CLOEXEC,
            nix::sys::stat::Mode::empty(),
        )
        .ctx("open", dir.path.display())?;
        // SAFETY: open just returned this descriptor and nothing else owns it.
        let dir_fd = unsafe { OwnedFd::from_raw_fd(dir_fd) };
        // Never a host terminal for the init (see crate::stdio): pipes in
        // the foreground, the caller's descriptors otherwise.
        let (child_stdio, relay) = match (terminal, opts.attach_terminal) {
            (true, _) => (None, None),
            (false, _) if stdio.is_some() => {
                let fds = stdio.ok_or_else(|| RuntimeError::Init("stdio vanished".into()))?;
                (Some(crate::stdio::ChildStdio::from_fds(fds)?), None)
            }
            (false, true) => {
                let (child, relay) = crate::stdio::ChildStdio::pipes()?;
                (Some(child), Some(relay))
            }
            (false, false) => (Some(crate::stdio::ChildStdio::inherited_without_terminals()?), None),
        };
        let (parent_chan, child_chan) = sync::pair().ctx("socketpair", "init channel")?;
        // Relative bind sources are relative to the bundle, as in runc.
        std::env::set_current_dir(&bundle).ctx("chdir", bundle.display())?;
        let sources = crate::mount_source::prepare(&config)?;

        let ns = linux.namespaces.clone().unwrap_or_default();
        let userns = namespaces::creates(&ns, NamespaceType::User);
        let through_helper = namespaces::joins_before_creating(&ns);
        // The init joins its v1 cgroups itself (cheap, see join_v1_as_self)
        // unless a new user namespace leaves it without the rights to, or
        // the helper that makes it joined them.
        let self_join = (!userns && !through_helper).then_some(&paths);
        let flags = namespaces::clone_flags(&ns).bits() as u32 as u64;
        let mut prep = None;
        let (forked, born_in_unified) = if through_helper {
            (clone_through_helper(&ns, linux.time_offsets.as_ref(), flags, &paths), true)
        } else {
            prep = Some(ParentPrep::enter(&ns, linux.time_offsets.as_ref())?);
            let unified_fd = paths.unified.as_deref().and_then(open_cgroup_dir);
            match sys::clone3_fork(flags, unified_fd.as_ref().map(|f| f.as_fd())) {
                Ok(f) => (Ok(f), unified_fd.is_some()),
                // Kernels or seccomp profiles without clone3: plain clone, then join by pid.
                Err(_) => (sys::clone_fork(flags as i32).ctx("clone", "container init"), false),
            }
        };
        let pid = match forked? {
            Forked::Child => {
                drop(parent_chan);
                let cfg = InitConfig {
                    spec: &config,
                    rootfs,
                    layout: &layout,
                    cgroups: &paths,
                    self_join,
                    state_dir: dir_fd,
                    no_pivot: opts.no_pivot,
                    new_keyring: opts.new_keyring,
                    preserve_fds: opts.preserve_fds + opts.listen_fds,
                    seccomp: seccomp.as_ref(),
                    sources: &sources,
                    die_with_parent: opts.die_with_parent,
                    stdio: child_stdio.as_ref(),
                    joined_by_helper: through_helper,
                    clear_onlcr: opts.clear_onlcr,
                };
                init::main(cfg, child_chan)
            }
            Forked::Parent(pid) => pid,
        };
        cleanup.child = Some(pid);
        // Only the runtime goes back to its own namespaces; the init stays.
        if let Some(prep) = prep {
            prep.restore()?;
        }
        drop(child_chan);
        drop(dir_fd);
        drop(child_stdio);

        if userns {
            crate::idmap::write(pid, &linux.uid_mappings, &linux.gid_mappings)?;
            if !through_helper {
                hull_cgroups::add_pid_v1(&paths, pid)?;
            }
        }
        if !born_in_unified {
            hull_cgroups::add_pid_unified(&paths, pid)?;
        }
        let (start_time, _) =
            proc_stat(pid).ok_or_else(|| RuntimeError::Init("container init exited during set-up".into()))?;
        let record = ContainerRecord {
            id: opts.id.clone(),
            pid,
            pid_start_time: start_time,
            bundle: bundle.clone(),
            rootfs: config.root.as_ref().map(|r| bundle.join(&r.path)).unwrap_or_default(),
            created: crate::util::now_rfc3339(),
            owner: crate::util::user_name(nix::unistd::geteuid().as_raw()),
            annotations: config.annotations.clone().unwrap_or_default(),
            cgroup_mode: layout.mode,
            cgroup_paths: paths,
            hooks: config.hooks.clone(),
            spec: Some(config.clone()),
        };
        // Set-up that can wait on something outside the runtime (a seccomp
        // listener, a hook) is preceded by the record, so that a runtime
        // killed meanwhile leaves a container `delete -f` finds and removes
        // (init, cgroups, state) rather than one no command knows.
        let may_block = seccomp.as_ref().is_some_and(|f| f.uses_notify) || has_create_hooks(&config);
        if may_block {
            dir.save(&record)?;
        }
        let console = drive_init(&parent_chan, &config, &record, opts.console_socket.as_deref())?;
        dir.save(&record)?;
        if let Some(sock) = &pidfd_socket {
            sock.send(pid)?;
        }
        if let Some(pf) = pid_file {
            crate::util::write_atomic(&pf, pid.to_string().as_bytes())?;
        }
        cleanup.disarm();
        Ok(Created { record, warnings, console, relay })
    }
}

/// Makes the init through a short-lived helper (see
/// `namespaces::joins_before_creating`): as host root it joins the
/// container's cgroups, the pid namespace given by path (for its
/// children), then every namespace given by path, the user namespace among
/// them, and only then makes the time namespace and clones the init with
/// the new ones, which the joined user namespace (or the new one) owns.
/// The init is cloned with CLONE_PARENT: it is our child, as without the
/// helper. Returns like a fork: `Child` in the init, the init's pid here.
fn clone_through_helper(
    ns: &[hull_spec::Namespace],
    offsets: Option<&std::collections::BTreeMap<String, hull_spec::TimeOffset>>,
    flags: u64,
    paths: &hull_cgroups::CgroupPaths,
) -> Result<Forked> {
    let (report, report_child) = sync::pair().ctx("socketpair", "namespace helper")?;
    let helper = match sys::clone_fork(0).ctx("clone", "namespace helper")? {
        Forked::Parent(pid) => pid,
        Forked::Child => {
            drop(report);
            let made = (|| -> Result<Forked> {
                sys::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong).ctx("prctl", "PR_SET_PDEATHSIG")?;
                hull_cgroups::join_v1_as_self(paths)?;
                hull_cgroups::add_pid_unified(paths, 0)?;
                namespaces::join_pid_for_children(ns)?;
                namespaces::join_paths(ns)?;
                namespaces::unshare_time_for_children(ns, offsets)?;
                sys::clone_fork((flags | libc::CLONE_PARENT as u64) as i32).ctx("clone", "container init")
            })();
            let msg = match made {
                Ok(Forked::Child) => return Ok(Forked::Child),
                Ok(Forked::Parent(pid)) => Message::ExecPid { pid },
                Err(e) => e.to_message(),
            };
            let _ = report_child.send(&msg);
            // SAFETY: _exit ends only this helper.
            unsafe { libc::_exit(0) }
        }
    };
    drop(report_child);
    let answer = report.recv();
    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(helper), None);
    match answer {
        Ok(Some(Message::ExecPid { pid })) => Ok(Forked::Parent(pid)),
        Ok(Some(Message::Error { message, kind })) => Err(RuntimeError::Failed { kind, message }),
        _ => Err(RuntimeError::Init("the namespace helper died before making the init".into())),
    }
}

/// A cgroup2 directory for CLONE_INTO_CGROUP; None if it cannot be opened
/// (the init then joins it by pid).
pub(super) fn open_cgroup_dir(dir: &Path) -> Option<OwnedFd> {
    let fd = nix::fcntl::open(dir, OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC, Mode::empty()).ok()?;
    // SAFETY: open just returned this descriptor and nothing else owns it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    }
}

/// Walks the init through its set-up, running createRuntime hooks when
/// asked; returns the terminal master unless it went to a console socket.
fn drive_init(
    chan: &Channel,
    config: &Spec,
    record: &ContainerRecord,
    console_socket: Option<&Path>,
) -> Result<Option<OwnedFd>> {
    let mut console = None;
    chan.send(&Message::Go { pid: record.pid }).ctx("send", "start-up message")?;
    loop {
        let (msg, fd) = match chan.recv_with_fd() {
            Ok(Some((m, fd))) => (Some(m), fd),
            Ok(None) => (None, None),
            // The channel reset: the init died (an OOM kill, say); say how.
            Err(e) => return Err(init_died(record).unwrap_or_else(|| crate::error::sys("receive", "init message", e))),
        };
        match msg {
            Some(Message::ConsoleMaster) => {
                let fd = fd.ok_or_else(|| RuntimeError::Init("terminal message came without a descriptor".into()))?;
                match console_socket {
                    Some(sock) => crate::terminal::send_to_console_socket(sock, &fd)?,
                    None => console = Some(fd),
                }
            }
            Some(Message::SeccompFd) => {
                let fd =
                    fd.ok_or_else(|| RuntimeError::Init("seccomp notify message came without a descriptor".into()))?;
                let seccomp = config.linux.as_ref().and_then(|l| l.seccomp.as_ref());
                crate::seccomp::send_to_listener(seccomp, record, &fd)?;
            }
            Some(Message::RunCreateRuntimeHooks) => {
                let state = State { status: "creating".into(), ..record.oci_state(crate::state::Status::Created) };
                if let Some(h) = &config.hooks {
                    let all: Vec<_> =
                        h.prestart.iter().flatten().chain(h.create_runtime.iter().flatten()).cloned().collect();
                    crate::hooks::run_all("createRuntime", &all, &state)?;
                }
                let state = State { status: "created".into(), ..state };
                chan.send(&Message::HooksDone { state }).ctx("send", "hook result")?;
            }
            Some(Message::Ready) => return Ok(console),
            Some(Message::Error { message, kind }) => return Err(RuntimeError::Failed { kind, message }),
            Some(other) => return Err(RuntimeError::Init(format!("unexpected message from init: {other:?}"))),
            None => {
                return Err(
                    init_died(record).unwrap_or(RuntimeError::Init("container init exited during set-up".into()))
                )
            }
        }
    }
}

/// Why the init went away during set-up, when it did (its channel reset
/// or closed without a word): how it ended, and the OOM killer if the
/// memory cgroup counted a kill, which is what a memory limit too small
/// for the init looks like (runc names the limit too).
fn init_died(record: &ContainerRecord) -> Option<RuntimeError> {
    // SAFETY: a zeroed siginfo_t is a valid out-parameter for waitid.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // The channel closes as the init exits, a moment before it is a zombie:
    // look for 100 ms, never block (a live init waits for us). WNOWAIT: the
    // zombie stays for the cleanup to reap.
    let flags = libc::WEXITED | libc::WNOWAIT | libc::WNOHANG;
    let ended = (0..100).any(|_| {
        // SAFETY: waitid writes only into `info`.
        let r = unsafe { libc::waitid(libc::P_PID, record.pid as libc::id_t, &mut info, flags) };
        // SAFETY: si_pid is set (to 0 when no child changed state) by a successful waitid.
        let done = r == 0 && unsafe { info.si_pid() } != 0;
        if !done {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        done || r != 0
    });
    // SAFETY: as above.
    if !ended || unsafe { info.si_pid() } == 0 {
        return None;
    }
    // SAFETY: waitid filled in a child's end; si_status is valid for CLD_* codes.
    let (code, status) = (info.si_code, unsafe { info.si_status() });
    let how = match code {
        libc::CLD_EXITED => format!("exited with status {status}"),
        _ => format!("was killed by signal {status}"),
    };
    let limit = record
        .spec
        .as_ref()
        .and_then(|s| s.linux.as_ref()?.resources.as_ref()?.memory.as_ref()?.limit)
        .map_or(String::new(), |l| format!(" of {l} bytes"));
    let oom = record.cgroup_paths.oom_kills().filter(|n| *n > 0).map_or(String::new(), |n| {
        format!(": the memory cgroup's OOM killer ran ({n} kill(s)): the memory limit{limit} is below what the process needs")
    });
    Some(RuntimeError::Init(format!("container init {how} during set-up{oom}")))
}

/// A container's cgroup must hold nothing else (runc refuses too: limits,
/// stats, kill and delete would take in processes that are not the
/// container's), and must not be frozen, or the init would stop in it and
/// `create` wait forever: an empty frozen cgroup is thawed (runc).
fn claim_cgroup(cg: &dyn Manager) -> Result<()> {
    let pids = cg.pids()?;
    if !pids.is_empty() {
        return Err(spec(
            "linux.cgroupsPath",
            format!("the cgroup is not empty: {} process(es) already in it (pids {:?})", pids.len(), pids),
        ));
    }
    if cg.is_frozen() {
        cg.thaw()?;
    }
    Ok(())
}

fn is_permission_error(e: &hull_cgroups::CgroupError) -> bool {
    let io = match e {
        hull_cgroups::CgroupError::Io { source, .. } | hull_cgroups::CgroupError::Write { source, .. } => source,
        _ => return false,
    };
    matches!(io.raw_os_error(), Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::EROFS))
}

/// Whether the config asks for any limit (device rules aside).
fn has_limits(r: &hull_spec::Resources) -> bool {
    r.memory.is_some()
        || r.cpu.is_some()
        || r.pids.is_some()
        || r.block_io.is_some()
        || r.hugepage_limits.as_ref().is_some_and(|h| !h.is_empty())
        || r.network.is_some()
        || r.unified.as_ref().is_some_and(|u| !u.is_empty())
}

/// Whether hooks run during create (createRuntime, createContainer, prestart).
fn has_create_hooks(config: &hull_spec::Spec) -> bool {
    config.hooks.as_ref().is_some_and(|h| {
        [&h.prestart, &h.create_runtime, &h.create_container].iter().any(|l| l.as_ref().is_some_and(|l| !l.is_empty()))
    })
}
