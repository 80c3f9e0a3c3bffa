//! `rm`: a stopped container (or, forced, a running one) and everything it
//! held: its shim, process, runtime state, mounts, directory, row, lock.

use crate::error::{EngineError, Result};
use crate::model::Status;
use crate::Engine;

impl Engine {
    /// Removes a container; `force` kills a running one first, `volumes`
    /// (docker's -v) also removes its anonymous volumes.
    pub fn remove(&self, key: &str, force: bool, volumes: bool) -> Result<()> {
        let row = self.refreshed(key)?;
        if row.state.status.is_live() {
            if !force {
                return Err(EngineError::Conflict {
                    id: row.id,
                    status: row.state.status.to_string(),
                    what: "You cannot remove a running container. Stop the container before attempting removal or force remove".into(),
                });
            }
            let _ = self.runtime().resume(&row.id);
            let _ = self.shim_request(
                &row.id,
                &hull_shim::protocol::Request::Signal { signal: libc::SIGKILL, stop: true, timeout: None },
            );
            let _ = self.wait(&row.id);
        }
        let _lock = self.lock(&row.id)?;
        let row = match self.db().get(&row.id)? {
            Some(r) => r,
            None => return Ok(()), // removed meanwhile (its --rm cleanup)
        };
        if row.state.status.is_live() {
            // The shim is still around (a stop raced us): end it for good.
            self.finalize(row.clone())?;
        }
        let mut state = row.state.clone();
        state.status = Status::Removing;
        self.db().set_state(&row.id, &state)?;
        self.release(&row.id);
        let dir = self.container_dir(&row.id);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(crate::error::io("remove", dir.display()))?;
        }
        self.db().delete(&row.id)?;
        self.unlink_lock(&row.id);
        if volumes {
            for m in row.config.mounts.iter().filter(|m| m.anonymous) {
                self.volume_remove(&m.source, false)?;
            }
        }
        Ok(())
    }
}
