//! `kill`: send a signal to the container's init (or, with --all, to every
//! process in its cgroup).

use super::Runtime;
use crate::error::{sys, Result, RuntimeError};
use crate::state::Status;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::str::FromStr;

/// Parses `9`, `KILL` or `SIGKILL`.
pub fn parse_signal(s: &str) -> std::result::Result<Signal, String> {
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map_err(|_| format!("unknown signal {s:?}"));
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    Signal::from_str(&name).map_err(|_| format!("unknown signal {s:?}"))
}

impl Runtime {
    /// Sends `signal` to the init, or to all of the container's processes.
    pub fn kill(&self, id: &str, signal: Signal, all: bool) -> Result<()> {
        let (dir, record) = self.open(id)?;
        let status = record.status(&dir);
        if status == Status::Stopped {
            return Err(RuntimeError::WrongStatus {
                id: id.into(),
                status: status.to_string(),
                op: "kill",
                wanted: "created, running or paused",
            });
        }
        // SIGKILL of a container sharing a pid namespace kills all of it:
        // nothing else would end its other processes (runc).
        let shared_pid_ns = record
            .spec
            .as_ref()
            .and_then(|s| s.linux.as_ref())
            .and_then(|l| l.namespaces.as_deref())
            .is_some_and(|ns| !ns.iter().any(|n| n.typ == hull_spec::NamespaceType::Pid && n.path.is_none()));
        let all = all || (signal == Signal::SIGKILL && shared_pid_ns);
        if !all {
            return kill(Pid::from_raw(record.pid), signal)
                .map_err(|e| sys(format!("kill {signal}"), format!("pid {}", record.pid), e));
        }
        let mut pids = record.cgroup().pids()?;
        if pids.is_empty() {
            // A rootless container without a cgroup of its own: its init is all we know.
            pids.push(record.pid);
        }
        for pid in pids {
            match kill(Pid::from_raw(pid), signal) {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                Err(e) => return Err(sys(format!("kill {signal}"), format!("pid {pid}"), e)),
            }
        }
        // Frozen tasks act on a signal only once thawed (runc thaws after a
        // SIGKILL of all); other signals wait for `resume`.
        let cg = record.cgroup();
        if signal == Signal::SIGKILL && cg.is_frozen() {
            let _ = cg.thaw();
        }
        Ok(())
    }
}
