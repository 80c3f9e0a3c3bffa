//! `delete`: remove a stopped (or, with --force, any) container: its
//! processes, cgroup and state; then run the poststop hooks.

use super::Runtime;
use crate::error::{sys, Result, RuntimeError};
use crate::state::Status;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::os::fd::AsFd;

impl Runtime {
    /// Deletes a container. Teardown is best-effort: every step runs and all
    /// failures are returned together.
    pub fn delete(&self, id: &str, force: bool) -> Result<()> {
        let (dir, record) = match self.open(id) {
            // A create killed half-way leaves a state directory without a
            // record; --force clears it.
            Err(RuntimeError::NotFound(_)) if force && self.root.join(id).is_dir() => {
                return std::fs::remove_dir_all(self.root.join(id))
                    .map_err(|e| sys("remove", self.root.join(id).display(), e));
            }
            other => other?,
        };
        let status = record.status(&dir);
        match status {
            // Processes of a container sharing a pid namespace outlive its
            // init: whatever is left in its cgroup goes too (runc).
            Status::Stopped if !record.cgroup().pids().unwrap_or_default().is_empty() => self.kill_and_wait(&record),
            Status::Stopped => {}
            // A created container has not run any user code; runc deletes it without --force.
            Status::Created => self.kill_and_wait(&record),
            _ if force => self.kill_and_wait(&record),
            _ => {
                return Err(RuntimeError::WrongStatus {
                    id: id.into(),
                    status: status.to_string(),
                    op: "delete",
                    wanted: "stopped (or --force)",
                })
            }
        }
        let mut errors = Vec::new();
        if !record.own_mount_namespace() {
            errors.extend(crate::rootfs::unmount_below(&record.rootfs));
        }
        let cg = record.cgroup();
        if let Err(e) = cg.destroy() {
            // The state stays while the cgroup does: a later delete can
            // finish, and no process is left that no command knows of.
            errors.push(e.into());
            return Err(RuntimeError::Many(errors));
        }
        if let Err(e) = std::fs::remove_dir_all(&dir.path) {
            errors.push(sys("remove", dir.path.display(), e));
        }
        let hooks = record.hooks.as_ref().and_then(|h| h.poststop.clone()).unwrap_or_default();
        errors.extend(crate::hooks::run_all_best_effort("poststop", &hooks, &record.oci_state(Status::Stopped)));
        if errors.is_empty() {
            Ok(())
        } else {
            Err(RuntimeError::Many(errors))
        }
    }

    /// SIGKILLs every process of the container and waits for the init to end.
    fn kill_and_wait(&self, record: &crate::state::ContainerRecord) {
        let pidfd = crate::sys::pidfd_open(record.pid).ok();
        let cg = record.cgroup();
        let _ = kill(Pid::from_raw(record.pid), Signal::SIGKILL);
        for pid in cg.pids().unwrap_or_default() {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        // Frozen tasks only die once thawed.
        if cg.is_frozen() {
            let _ = cg.thaw();
        }
        if let Some(fd) = pidfd {
            let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
            let _ = nix::poll::poll(&mut fds, PollTimeout::from(10_000u16));
        }
        // Without a pid namespace of its own the init's death ends nothing
        // else: kill until the cgroup is empty (forks may race the first
        // round), for at most 10 s.
        for _ in 0..1000 {
            let pids = cg.pids().unwrap_or_default();
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }
}
