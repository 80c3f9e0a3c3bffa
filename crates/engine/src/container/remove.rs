//! `rm`: a stopped container (or, forced, a running one) and everything it
//! held: its shim, process, runtime state, mounts, directory, row, lock.

use crate::error::{EngineError, Result};
use crate::model::Status;
use crate::Engine;

impl Engine {
    /// Removes a container; `force` kills a running one first, `volumes`
    /// (docker's -v) also removes its anonymous volumes.
    /// When it returns the container's shim has exited too (unless it is
    /// the caller: the shim's own exit command does not wait for itself).
    pub fn remove(&self, key: &str, force: bool, volumes: bool) -> Result<()> {
        let shim = self.removal(key, force, volumes)?;
        if let Some((pid, start)) = shim {
            self.await_shim(pid, start);
        }
        Ok(())
    }

    /// Waits (a bounded while) for a shim to finish its exit command and
    /// end, so that nothing of a removed container is still running.
    pub fn await_shim(&self, pid: i32, start: u64) {
        let me = std::env::var("HULL_SHIM_PID").ok().and_then(|p| p.parse::<i32>().ok());
        if pid <= 0 || me == Some(pid) {
            return;
        }
        for _ in 0..1000 {
            if crate::start_time(pid) != Some(start) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }

    /// The removal itself; gives the shim to wait for.
    fn removal(&self, key: &str, force: bool, volumes: bool) -> Result<Option<(i32, u64)>> {
        let row = self.refreshed(key)?;
        if row.state.status.is_live() {
            if !force {
                return Err(EngineError::Conflict {
                    id: row.id,
                    status: row.state.status.to_string(),
                    what: "You cannot remove a running container. Stop the container before attempting removal or force remove".into(),
                });
            }
            // Best effort, each step: a shim that cannot be reached is gone
            // or going, and the finalize below ends what is left.
            use hull_shim::protocol::Request;
            if row.state.status == Status::Paused {
                if let Err(e) = self.shim_request(&row.id, &Request::Resume) {
                    tracing::debug!(container = %row.id, "rm -f: resume: {e}");
                }
            }
            let kill = Request::Signal { signal: libc::SIGKILL, stop: true, timeout: None, exec: None };
            match self.shim_request(&row.id, &kill) {
                Ok(()) => {
                    if let Err(e) = self.wait(&row.id) {
                        tracing::debug!(container = %row.id, "rm -f: wait: {e}");
                    }
                }
                Err(e) => tracing::debug!(container = %row.id, "rm -f: kill: {e}"),
            }
        }
        let _lock = self.lock(&row.id)?;
        let row = match self.db().get(&row.id)? {
            Some(r) => r,
            None => return Ok(None), // removed meanwhile (its --rm cleanup)
        };
        let shim = Some((row.state.shim_pid, row.state.shim_start));
        if row.state.status.is_live() {
            // The shim is still around (a stop raced us): end it for good.
            self.finalize(row.clone())?;
        }
        let mut state = row.state.clone();
        state.status = Status::Removing;
        self.db().set_state(&row.id, &state)?;
        // What cannot be undone keeps the container (status removing): rm
        // says what is left, and a later rm tries again.
        self.release(&row.id)?;
        let dir = self.container_dir(&row.id);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(crate::error::io("remove", dir.display()))?;
        }
        self.db().delete(&row.id)?;
        self.unlink_lock(&row.id);
        self.emit_container(&row, "destroy", &[]);
        if volumes {
            for m in row.config.mounts.iter().filter(|m| m.anonymous) {
                self.volume_remove(&m.source, false)?;
            }
        }
        Ok(shim)
    }
}
