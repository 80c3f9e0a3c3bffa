//! `exec`: run another process inside a running container.

use super::Runtime;
use crate::error::{spec, Context, Result, RuntimeError};
use crate::namespaces::flag;
use crate::state::Status;
use crate::stdio::ChildStdio;
use crate::sync::{self, Message};
use crate::sys::{self, Forked};
use crate::tenant::{self, TenantConfig};
use hull_spec::{NamespaceType, Process};
use nix::sys::signal::SigSet;
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

/// What `exec` runs and how.
#[derive(Debug, Clone, Default)]
pub struct ExecOptions {
    /// The process (see [`Runtime::exec_process`] to build it from flags).
    pub process: Process,
    /// Return once the process started.
    pub detach: bool,
    /// File to write the process's pid to.
    pub pid_file: Option<PathBuf>,
    /// Descriptors beyond stdio to pass.
    pub preserve_fds: u32,
    /// Where to send the terminal's master (process.terminal).
    pub console_socket: Option<PathBuf>,
    /// Without a terminal: how stdio is given (see [`crate::stdio`]).
    pub stdio: crate::stdio::ExecStdio,
    /// Allow a paused container (the process starts frozen, as in runc).
    pub ignore_paused: bool,
    /// Sub-cgroups of the container's to run in, runc's `--cgroup`:
    /// `PATH` for every hierarchy or `CONTROLLER[,CONTROLLER]:PATH`.
    pub sub_cgroups: Vec<String>,
    /// Unix socket to send a pidfd of the process to.
    pub pidfd_socket: Option<PathBuf>,
    /// Clear ONLCR on the process's terminal, as runc does when it relays
    /// the terminal itself (without a console socket).
    pub clear_onlcr: bool,
}

/// Flag-level overrides of the container's process, as runc's exec takes them.
#[derive(Debug, Clone, Default)]
pub struct ExecRequest {
    /// Command and arguments.
    pub args: Vec<String>,
    /// Extra `KEY=value` variables.
    pub env: Vec<String>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// `uid[:gid]`.
    pub user: Option<(u32, Option<u32>)>,
    /// Supplementary groups.
    pub additional_gids: Vec<u32>,
    /// Capabilities added to every set.
    pub caps: Vec<String>,
    /// Set no_new_privs.
    pub no_new_privs: bool,
    /// Allocate a terminal.
    pub tty: bool,
    /// AppArmor profile.
    pub apparmor: Option<String>,
    /// SELinux label.
    pub process_label: Option<String>,
}

impl Runtime {
    /// The process `exec` runs: the container's own process (env, user,
    /// cwd, capabilities, rlimits, no_new_privs) with the request's changes.
    pub fn exec_process(&self, id: &str, req: &ExecRequest) -> Result<Process> {
        let (_, record) = self.open(id)?;
        Ok(exec_process_from(record.spec.and_then(|s| s.process).unwrap_or_default(), req))
    }

    /// Runs a process in the container. Returns its pid (detached) or its
    /// exit status (128+N when killed by signal N).
    pub fn exec(&self, id: &str, opts: &ExecOptions) -> Result<i32> {
        let l = self.launch(id, opts, None, false)?;
        if opts.detach {
            return Ok(l.pid);
        }
        super::container_run::wait_forwarding(l.pid, l.set, l.console, l.relay)
    }

    /// Starts a process in the container and returns at once (as `exec
    /// --detach`): its pid, and its terminal's master when it has one and
    /// no console socket is given. Without a terminal the process gets
    /// `stdio` as its 0, 1 and 2 (else what `opts.stdio` says). The caller
    /// waits for it (as its parent, or as a subreaper).
    pub fn exec_start(&self, id: &str, opts: &ExecOptions, stdio: Option<[OwnedFd; 3]>) -> Result<ExecStarted> {
        let opts = ExecOptions { detach: true, ..opts.clone() };
        let given = stdio.map(ChildStdio::from_fds).transpose()?;
        let l = self.launch(id, &opts, given, true)?;
        Ok(ExecStarted { pid: l.pid, console: l.console })
    }

    fn launch(&self, id: &str, opts: &ExecOptions, given: Option<ChildStdio>, keep_console: bool) -> Result<Launched> {
        let (dir, record) = self.open(id)?;
        let status = record.status(&dir);
        let late_cgroup_join = opts.ignore_paused && status == Status::Paused;
        let paused_ok = late_cgroup_join;
        if !matches!(status, Status::Running | Status::Created) && !paused_ok {
            return Err(RuntimeError::WrongStatus {
                id: id.into(),
                status: status.to_string(),
                op: "exec",
                wanted: "running",
            });
        }
        crate::validate::validate_process(&opts.process)?;
        let terminal = opts.process.terminal == Some(true);
        if terminal && opts.detach && opts.console_socket.is_none() && !keep_console {
            return Err(spec("process.terminal", "a detached exec with a terminal needs --console-socket"));
        }
        let spec_ = record.spec.clone().unwrap_or_default();
        let seccomp = self.seccomp_filter(&spec_)?;
        let personality = spec_.linux.as_ref().and_then(|l| l.personality.as_ref()).map(|p| p.domain.clone());
        let (namespaces, pid_ns, userns) = container_namespaces(record.pid)?;
        let cgroups = sub_cgroup_paths(&record.cgroup_paths, &opts.sub_cgroups)?;
        let pidfd_socket = opts.pidfd_socket.as_deref().map(crate::pidfd_socket::PidfdSocket::connect).transpose()?;
        let unified_fd = cgroups.unified.as_deref().and_then(super::container_create::open_cgroup_dir);
        let (child_stdio, relay) = match (terminal, opts.stdio, opts.detach) {
            (true, _, _) => (None, None),
            (false, _, _) if given.is_some() => (given, None),
            (false, crate::stdio::ExecStdio::Null, _) => (Some(ChildStdio::null()?), None),
            (false, _, true) => (Some(ChildStdio::inherited_without_terminals()?), None),
            (false, _, false) => {
                let (child, relay) = ChildStdio::pipes()?;
                (Some(child), Some(relay))
            }
        };
        let (parent_chan, child_chan) = sync::pair().ctx("socketpair", "exec channel")?;
        let own_pid_ns = File::open("/proc/self/ns/pid").ctx("open", "/proc/self/ns/pid")?;
        // Without privileges over the container's user namespace the runtime
        // cannot enter its pid namespace for children: the child does, after
        // joining the user namespace, and forks the process; we subreap it.
        let two_step = userns && !nix::unistd::geteuid().is_root();
        let (pid_ns, pid_ns_then_fork) = if two_step { (None, pid_ns) } else { (pid_ns, None) };
        if two_step {
            sys::prctl(libc::PR_SET_CHILD_SUBREAPER, 1).ctx("prctl", "PR_SET_CHILD_SUBREAPER")?;
        }
        if let Some(target) = &pid_ns {
            nix::sched::setns(target, flag(NamespaceType::Pid)).ctx("setns pid", format!("container {id}"))?;
        }
        if late_cgroup_join && (two_step || seccomp.as_ref().is_some_and(|f| f.uses_notify)) {
            return Err(spec("--ignore-paused", "not with a seccomp listener or without root"));
        }
        let into = unified_fd.as_ref().map(|f| f.as_fd()).filter(|_| !late_cgroup_join);
        let (forked, born_in_unified) = match sys::clone3_fork(0, into) {
            Ok(f) => (Ok(f), into.is_some()),
            Err(_) => (sys::clone_fork(0), false),
        };
        let mut pid = match forked.ctx("clone", "exec process")? {
            Forked::Child => {
                drop(parent_chan);
                let cfg = TenantConfig {
                    process: &opts.process,
                    cgroups: &cgroups,
                    born_in_unified,
                    namespaces,
                    userns,
                    seccomp: seccomp.as_ref(),
                    preserve_fds: opts.preserve_fds,
                    pid_ns_then_fork,
                    stdio: child_stdio.as_ref(),
                    personality: personality.as_deref(),
                    late_cgroup_join,
                    clear_onlcr: opts.clear_onlcr,
                };
                tenant::main(cfg, child_chan)
            }
            Forked::Parent(pid) => pid,
        };
        if pid_ns.is_some() {
            nix::sched::setns(&own_pid_ns, flag(NamespaceType::Pid)).ctx("setns", "own pid namespace")?;
        }
        drop(child_chan);
        drop(child_stdio);
        let mut set = SigSet::empty();
        if !opts.detach {
            super::container_run::FORWARDED.iter().for_each(|s| set.add(*s));
            set.thread_block().ctx("sigprocmask", "forwarded signals")?;
        }
        let mut console = None;
        loop {
            match parent_chan.recv_with_fd().ctx("receive", "exec message")? {
                Some((Message::ConsoleMaster, Some(fd))) => match &opts.console_socket {
                    Some(sock) => crate::terminal::send_to_console_socket(sock, &fd)?,
                    None => console = Some(fd),
                },
                Some((Message::ExecPid { pid: process }, _)) => {
                    // The intermediate child is done; the process is ours now (subreaper).
                    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
                    pid = process;
                }
                Some((Message::SeccompFd, Some(fd))) => {
                    let seccomp = spec_.linux.as_ref().and_then(|l| l.seccomp.as_ref());
                    crate::seccomp::send_to_listener(seccomp, &record, &fd)?;
                }
                Some((Message::JoinCgroups, _)) => {
                    hull_cgroups::add_pid_v1(&cgroups, pid)?;
                    hull_cgroups::add_pid_unified(&cgroups, pid)?;
                    parent_chan.send(&Message::Go { pid }).ctx("send", "cgroup joined")?;
                    // It is frozen now, short of its execve: detached, it is
                    // started; attached, we wait for it across the resume.
                    if opts.detach {
                        break;
                    }
                }
                Some((Message::Error { message, kind }, _)) => {
                    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
                    return Err(RuntimeError::Failed { kind, message });
                }
                Some((other, _)) => return Err(RuntimeError::Init(format!("unexpected message from exec: {other:?}"))),
                None => break, // execve closed the channel
            }
        }
        if let Some(sock) = &pidfd_socket {
            sock.send(pid)?;
        }
        if let Some(pf) = &opts.pid_file {
            crate::util::write_atomic(pf, pid.to_string().as_bytes())?;
        }
        Ok(Launched { pid, console, relay, set })
    }
}

/// A process `exec_start` started.
#[derive(Debug)]
pub struct ExecStarted {
    /// Its pid (in our pid namespace).
    pub pid: i32,
    /// Its terminal's master, if it has a terminal and no console socket took it.
    pub console: Option<OwnedFd>,
}

/// What `launch` leaves for `exec` to wait on.
struct Launched {
    pid: i32,
    console: Option<OwnedFd>,
    relay: Option<crate::stdio::Relay>,
    set: SigSet,
}

/// The init's namespaces that differ from ours, in join order (user first,
/// mount last but cgroup), plus the pid namespace (joined for children by
/// the runtime itself) and whether a user namespace is among them.
#[allow(clippy::type_complexity)]
fn container_namespaces(pid: i32) -> Result<(Vec<(NamespaceType, File)>, Option<File>, bool)> {
    use NamespaceType::*;
    let mut out = Vec::new();
    let mut pid_ns = None;
    let mut userns = false;
    for typ in [User, Ipc, Uts, Network, Cgroup, Time, Mount, Pid] {
        let theirs = format!("/proc/{pid}/ns/{}", typ.proc_name());
        let ours = format!("/proc/self/ns/{}", typ.proc_name());
        let (Ok(t), Ok(o)) = (std::fs::metadata(&theirs), std::fs::metadata(&ours)) else { continue };
        if t.ino() == o.ino() && t.dev() == o.dev() {
            continue;
        }
        let file = File::open(&theirs).ctx("open", &theirs)?;
        match typ {
            Pid => pid_ns = Some(file),
            User => {
                userns = true;
                out.push((typ, file));
            }
            _ => out.push((typ, file)),
        }
    }
    if out.iter().all(|(t, _)| *t != Mount) {
        return Err(spec("linux.namespaces", "the container has no mount namespace of its own to exec into"));
    }
    Ok((out, pid_ns, userns))
}

/// The cgroups an exec'd process joins: the container's, or the sub-cgroups
/// `--cgroup` names (which must exist, and stay below the container's).
fn sub_cgroup_paths(paths: &hull_cgroups::CgroupPaths, asked: &[String]) -> Result<hull_cgroups::CgroupPaths> {
    let mut out = paths.clone();
    for value in asked {
        let (controllers, sub) = match value.split_once(':') {
            Some((c, p)) => (Some(c.split(',').collect::<Vec<_>>()), p),
            None => (None, value.as_str()),
        };
        let rel = below(sub).ok_or_else(|| spec("--cgroup", format!("{value}: bad sub cgroup path")))?;
        let mut matched = false;
        for ((hierarchy, dir), base) in out.v1.iter_mut().zip(&paths.v1) {
            let names: Vec<&str> = hierarchy.split(',').collect();
            if controllers.as_ref().is_none_or(|c| c.iter().any(|n| names.contains(n))) {
                *dir = base.1.join(&rel);
                matched = true;
            }
        }
        if controllers.is_none() {
            if let (Some(dir), Some(base)) = (out.unified.as_mut(), paths.unified.as_ref()) {
                *dir = base.join(&rel);
                matched = true;
            }
        }
        if let Some(c) = controllers.as_ref().filter(|_| !matched) {
            return Err(spec("--cgroup", format!("{value}: unknown controller {}", c.join(","))));
        }
        for dir in out.v1.iter().map(|(_, d)| d).chain(out.unified.iter()) {
            if !dir.is_dir() {
                return Err(spec("--cgroup", format!("{value}: {}: no such cgroup", dir.display())));
            }
        }
    }
    Ok(out)
}

/// `sub` as a path relative to the container's cgroup, if it stays inside.
fn below(sub: &str) -> Option<PathBuf> {
    let mut parts: Vec<&str> = Vec::new();
    for c in sub.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.iter().collect())
}

/// The process an exec runs: the container's own process (`base`: its
/// env, cwd, user, capabilities, rlimits) with the request's changes, as
/// runc's exec makes it.
pub fn exec_process_from(mut base: Process, req: &ExecRequest) -> Process {
    let p = &mut base;
    p.args = Some(req.args.clone());
    // `-e K=V` replaces the container's K, as runc does, never a second K.
    let env = p.env.get_or_insert_with(Vec::new);
    for kv in &req.env {
        let key = kv.split('=').next().unwrap_or(kv);
        env.retain(|e| e.split('=').next() != Some(key));
        env.push(kv.clone());
    }
    if let Some(cwd) = &req.cwd {
        p.cwd = cwd.clone();
    }
    if let Some((uid, gid)) = req.user {
        p.user.uid = uid;
        p.user.gid = gid.unwrap_or(p.user.gid);
    }
    if !req.additional_gids.is_empty() {
        p.user.additional_gids = Some(req.additional_gids.clone());
    }
    if !req.caps.is_empty() {
        let c = p.capabilities.get_or_insert_with(Default::default);
        // As runc: the bounding, effective and permitted sets; never the
        // inheritable or ambient ones, which would pass it across execve.
        for set in [&mut c.bounding, &mut c.effective, &mut c.permitted] {
            let list = set.get_or_insert_with(Vec::new);
            list.extend(req.caps.iter().filter(|n| !list.contains(n)).cloned().collect::<Vec<_>>());
        }
    }
    if req.no_new_privs {
        p.no_new_privileges = Some(true);
    }
    p.terminal = Some(req.tty);
    p.apparmor_profile = req.apparmor.clone().or(p.apparmor_profile.take());
    p.selinux_label = req.process_label.clone().or(p.selinux_label.take());
    base
}

#[cfg(test)]
mod tests {
    use super::below;
    use std::path::PathBuf;

    #[test]
    fn sub_cgroup_paths_stay_below_the_container() {
        assert_eq!(below("/"), Some(PathBuf::new()));
        assert_eq!(below("foo"), Some(PathBuf::from("foo")));
        assert_eq!(below("/a/../b/./c"), Some(PathBuf::from("b/c")));
        assert_eq!(below(".."), None);
        assert_eq!(below("../sibling"), None);
        assert_eq!(below("a/../../b"), None);
    }
}
