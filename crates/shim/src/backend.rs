//! The container's OCI runtime as the supervisor drives it: Hull's,
//! in-process (the default), or any runtime with runc's command line
//! ([`OciCli`]: runc, crun, runsc) when the engine runs the container with
//! `--runtime NAME`. The supervisor is the same for both: it holds the
//! stdio, is the processes' subreaper, and asks the backend to create,
//! start, signal, exec, freeze, measure and delete.

use hull_shim::oci_cli::OciCli;
use hull_shim::protocol::Failure;
use nix::sys::signal::Signal;
use nix::unistd::Pid;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

pub enum Backend {
    Hull(hull_runtime::Runtime),
    /// Another runtime, and where its init was put (read from the init's
    /// /proc entry once created, for the OOM count at its end).
    Cli(OciCli, std::sync::OnceLock<hull_cgroups::CgroupPaths>),
}

/// A created container.
pub struct Created {
    pub pid: i32,
    pub console: Option<OwnedFd>,
    pub warnings: Vec<String>,
}

impl Backend {
    pub fn new(cfg: &hull_shim::config::ShimConfig) -> Backend {
        match &cfg.runtime {
            Some(cli) => Backend::Cli(cli.clone(), Default::default()),
            None => Backend::Hull(hull_runtime::Runtime::new(&cfg.runtime_root)),
        }
    }

    /// Creates the container (not started). Hull's runtime keeps SIGKILL
    /// as the init's parent-death signal (a shim killed -9 takes its
    /// container with it); another runtime's init is reparented to the
    /// shim, the subreaper, when that runtime exits.
    pub fn create(
        &self,
        id: &str,
        bundle: &Path,
        dir: &Path,
        tty: bool,
        stdio: Option<[OwnedFd; 3]>,
    ) -> Result<Created, Failure> {
        match self {
            Backend::Hull(rt) => {
                let opts = hull_runtime::CreateOptions {
                    id: id.to_string(),
                    bundle: bundle.to_path_buf(),
                    new_keyring: true,
                    attach_terminal: tty,
                    die_with_parent: true,
                    ..Default::default()
                };
                let c = rt.create_with_stdio(&opts, stdio).map_err(|e| Failure::from(&e))?;
                Ok(Created { pid: c.record.pid, console: c.console, warnings: c.warnings })
            }
            Backend::Cli(cli, cgroup) => {
                let s = cli.create(id, bundle, dir, tty, stdio)?;
                if let (Ok(layout), Ok(of)) =
                    (hull_cgroups::Layout::detect(), std::fs::read_to_string(format!("/proc/{}/cgroup", s.pid)))
                {
                    let _ = cgroup.set(layout.paths_of(&hull_cgroups::OwnCgroups::parse(&of)));
                }
                Ok(Created { pid: s.pid, console: s.console, warnings: Vec::new() })
            }
        }
    }

    pub fn start(&self, id: &str) -> Result<(), Failure> {
        match self {
            Backend::Hull(rt) => {
                // Failed poststart hooks are warnings, as in runc.
                for w in rt.start(id).map_err(|e| Failure::from(&e))? {
                    eprintln!("hull-shim: warning: {w}");
                }
                Ok(())
            }
            Backend::Cli(cli, _) => cli.start(id).map_err(Failure::from),
        }
    }

    /// Deletes the container's runtime state (and what is left of it).
    pub fn delete(&self, id: &str) -> Result<(), String> {
        match self {
            Backend::Hull(rt) => rt.delete(id, true).map_err(|e| e.to_string()),
            Backend::Cli(cli, _) => match cli.delete(id) {
                // Nothing to delete is what delete wants.
                Err(e) if e.contains("does not exist") || e.contains("not found") => Ok(()),
                other => other,
            },
        }
    }

    /// Signals the init (`pid`): directly for Hull's, through the runtime
    /// otherwise (runsc's init is inside its sandbox).
    pub fn kill(&self, id: &str, pid: i32, sig: Signal) -> Result<(), String> {
        match self {
            Backend::Cli(cli, _) => match cli.kill(id, sig as i32, false) {
                Ok(()) => Ok(()),
                // A runtime that lost track: the host pid still takes it.
                Err(e) => nix::sys::signal::kill(Pid::from_raw(pid), sig).map_err(|k| format!("{e}; kill {pid}: {k}")),
            },
            Backend::Hull(_) => nix::sys::signal::kill(Pid::from_raw(pid), sig).map_err(|e| format!("kill {pid}: {e}")),
        }
    }

    pub fn freeze(&self, id: &str, pause: bool) -> Result<(), String> {
        match self {
            Backend::Hull(rt) => if pause { rt.pause(id) } else { rt.resume(id) }.map_err(|e| e.to_string()),
            Backend::Cli(cli, _) => cli.freeze(id, pause),
        }
    }

    /// Starts `process` in the container. Hull's exec clones from a
    /// single-threaded process and touches much of the runtime library: a
    /// forked helper does it, so none of that stays in the shim's memory.
    pub fn exec(
        &self,
        id: &str,
        dir: &Path,
        process: hull_spec::Process,
        stdio: Option<[OwnedFd; 3]>,
    ) -> Result<(i32, Option<OwnedFd>), Failure> {
        let rt = match self {
            Backend::Cli(cli, _) => {
                let s = cli.exec(id, &process, dir, stdio)?;
                return Ok((s.pid, s.console));
            }
            Backend::Hull(rt) => rt,
        };
        use hull_runtime::sync::Message;
        let (ours, theirs) = hull_runtime::sync::pair().map_err(|e| format!("socketpair: {e}"))?;
        let helper = match hull_runtime::sys::clone_fork(0).map_err(|e| format!("fork: {e}"))? {
            hull_runtime::sys::Forked::Child => {
                drop(ours);
                let opts = hull_runtime::ExecOptions { process, detach: true, ..Default::default() };
                let sent = match rt.exec_start(id, &opts, stdio) {
                    Ok(s) => match &s.console {
                        Some(m) => theirs.send_with_fd(&Message::ExecPid { pid: s.pid }, m.as_raw_fd()),
                        None => theirs.send(&Message::ExecPid { pid: s.pid }),
                    },
                    Err(e) => theirs.send(&e.to_message()),
                };
                // SAFETY: _exit ends only this helper, a fork of the shim.
                unsafe { libc::_exit(i32::from(sent.is_err())) }
            }
            hull_runtime::sys::Forked::Parent(pid) => pid,
        };
        drop(theirs);
        let got = ours.recv_with_fd();
        let _ = nix::sys::wait::waitpid(Pid::from_raw(helper), None);
        match got {
            Ok(Some((Message::ExecPid { pid }, console))) => Ok((pid, console)),
            Ok(Some((Message::Error { message, kind }, _))) => Err(Failure { kind, message }),
            other => Err(format!("the exec helper ended without an answer ({other:?})").into()),
        }
    }

    /// Whether the OOM killer killed in the container's memory cgroup
    /// (Hull's runtime knows it; another runtime's is where its init was).
    pub fn oom_killed(&self, id: &str) -> bool {
        match self {
            Backend::Hull(rt) => rt.oom_kills(id).unwrap_or(0) > 0,
            Backend::Cli(_, cgroup) => cgroup.get().and_then(|c| c.oom_kills()).unwrap_or(0) > 0,
        }
    }

    /// Where another runtime put the container (kept across the shim's
    /// re-execution).
    pub fn cgroup(&self) -> Option<&hull_cgroups::CgroupPaths> {
        match self {
            Backend::Hull(_) => None,
            Backend::Cli(_, cgroup) => cgroup.get(),
        }
    }

    /// Takes over what [`Backend::cgroup`] said before a re-execution.
    pub fn adopt_cgroup(&self, paths: Option<hull_cgroups::CgroupPaths>) {
        if let (Backend::Cli(_, cgroup), Some(p)) = (self, paths) {
            let _ = cgroup.set(p);
        }
    }

    /// The container's host pids.
    pub fn pids(&self, id: &str) -> Result<Vec<i32>, String> {
        match self {
            Backend::Hull(rt) => rt.pids(id).map_err(|e| e.to_string()),
            Backend::Cli(cli, _) => cli.pids(id),
        }
    }

    /// Its cgroup's statistics, in runc's JSON shape.
    pub fn stats(&self, id: &str) -> Result<serde_json::Value, String> {
        match self {
            Backend::Hull(rt) => {
                rt.stats(id).map_err(|e| e.to_string()).and_then(|s| serde_json::to_value(s).map_err(|e| e.to_string()))
            }
            Backend::Cli(cli, _) => cli.stats(id),
        }
    }

    /// Changes its resources live.
    pub fn update(&self, id: &str, resources: &hull_spec::Resources) -> Result<(), String> {
        match self {
            Backend::Hull(rt) => rt.update(id, resources).map_err(|e| e.to_string()),
            Backend::Cli(cli, _) => cli.update(id, resources),
        }
    }
}
