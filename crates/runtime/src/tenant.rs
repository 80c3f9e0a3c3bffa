//! The child side of `exec`: a fork-like clone of the runtime that joins the
//! container's cgroups and namespaces, becomes the requested process, and
//! execve's it. Success is the channel closing on exec (it is CLOEXEC);
//! any failure before that is sent back as a message.

use crate::error::{Context, Result};
use crate::seccomp::Filter;
use crate::sync::{Channel, Message};
use hull_cgroups::CgroupPaths;
use hull_spec::{NamespaceType, Process};
use std::fs::File;
use std::os::fd::AsRawFd;

/// What the exec child needs, prepared by the runtime before clone.
pub struct TenantConfig<'a> {
    /// The process to become.
    pub process: &'a Process,
    /// The container's cgroups (joined first, while still privileged).
    pub cgroups: &'a CgroupPaths,
    /// Whether clone3 already placed us in the cgroup2 directory.
    pub born_in_unified: bool,
    /// Namespace files of the container init to join, in order.
    pub namespaces: Vec<(NamespaceType, File)>,
    /// Whether the container has its own user namespace.
    pub userns: bool,
    /// The container's seccomp filter.
    pub seccomp: Option<&'a Filter>,
    /// Descriptors 3..3+N passed through.
    pub preserve_fds: u32,
    /// An unprivileged runtime cannot enter the container's pid namespace
    /// for its children; then this child enters it (after the user
    /// namespace) and forks once more, and the grandchild goes on.
    pub pid_ns_then_fork: Option<File>,
    /// Without a terminal: the descriptors to install as 0, 1 and 2.
    pub stdio: Option<&'a crate::stdio::ChildStdio>,
    /// The container's `linux.personality` domain, which exec'd processes get too.
    pub personality: Option<&'a str>,
    /// The container is paused (`exec --ignore-paused`): the cgroups are
    /// joined by the runtime at the end of set-up, where the process then
    /// waits frozen until `resume`, instead of freezing half-way.
    pub late_cgroup_join: bool,
    /// Clear ONLCR on the terminal (see ExecOptions::clear_onlcr).
    pub clear_onlcr: bool,
}

/// Runs the exec child; never returns.
pub fn main(cfg: TenantConfig, chan: Channel) -> ! {
    let err = match setup_and_exec(&cfg, &chan) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let _ = chan.send(&err.to_message());
    // SAFETY: _exit only ends this process.
    unsafe { libc::_exit(1) }
}

fn setup_and_exec(cfg: &TenantConfig, chan: &Channel) -> Result<std::convert::Infallible> {
    // Not dumpable until execve: nothing in the container may reach our
    // memory or /proc/<pid>/exe, the runtime binary (CVE-2019-5736).
    crate::sys::prctl(libc::PR_SET_DUMPABLE, 0).ctx("prctl", "PR_SET_DUMPABLE")?;
    if !cfg.late_cgroup_join {
        hull_cgroups::join_v1_as_self(cfg.cgroups)?;
        if !cfg.born_in_unified {
            hull_cgroups::add_pid_unified(cfg.cgroups, 0)?;
        }
    }
    crate::process::initial_affinity(cfg.process)?;
    crate::namespaces::join_in_order(cfg.namespaces.iter().map(|(t, f)| (*t, f, "container")))?;
    if let Some(pid_ns) = &cfg.pid_ns_then_fork {
        nix::sched::setns(pid_ns, crate::namespaces::flag(NamespaceType::Pid)).ctx("setns pid", "container")?;
        match crate::sys::clone_fork(0).ctx("fork", "into the container's pid namespace")? {
            crate::sys::Forked::Child => {}
            crate::sys::Forked::Parent(pid) => {
                let _ = chan.send(&Message::ExecPid { pid });
                // SAFETY: _exit ends only this intermediate process.
                unsafe { libc::_exit(0) }
            }
        }
    }
    if cfg.process.terminal == Some(true) {
        let (master, slave) = crate::terminal::open_pty(cfg.process.console_size)?;
        if cfg.clear_onlcr {
            crate::terminal::clear_onlcr(&slave)?;
        }
        chan.send_with_fd(&Message::ConsoleMaster, master.as_raw_fd()).ctx("send", "terminal master")?;
        drop(master);
        crate::terminal::make_controlling(&slave)?;
    }
    if let Some(stdio) = cfg.stdio {
        // Its own session even without a terminal: the process must not
        // share the caller's session, nor reach its controlling terminal.
        nix::unistd::setsid().ctx("setsid", "exec process")?;
        stdio.install()?;
    }
    if cfg.late_cgroup_join {
        chan.send(&Message::JoinCgroups).ctx("send", "cgroup join request")?;
        match chan.recv().ctx("receive", "cgroup join")? {
            Some(Message::Go { .. }) => {}
            _ => return Err(crate::RuntimeError::Init("runtime went away before the cgroup join".into())),
        }
    }
    if let Some(domain) = cfg.personality {
        crate::process::apply_personality(domain)?;
    }
    let prepared = crate::process::become_process(cfg.process, cfg.userns, cfg.preserve_fds)?;
    if let Some(fd) = crate::process::lock_down(cfg.process, cfg.seccomp)? {
        chan.send_with_fd(&Message::SeccompFd, fd.as_raw_fd()).ctx("send", "seccomp notify fd")?;
    }
    let err = nix::unistd::execve(&prepared.path, &prepared.args, &prepared.env).unwrap_err();
    Err(crate::error::sys("exec", prepared.path.to_string_lossy(), err))
}
