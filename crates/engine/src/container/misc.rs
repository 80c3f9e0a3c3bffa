//! The small verbs: rename, pause, unpause, top, prune.

use crate::error::{EngineError, Result};
use crate::model::Status;
use crate::Engine;

impl Engine {
    /// Renames a container.
    pub fn rename(&self, key: &str, name: &str) -> Result<()> {
        let name = name.strip_prefix('/').unwrap_or(name);
        if !crate::names::valid_name(name) {
            return Err(EngineError::Invalid(format!(
                "invalid container name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )));
        }
        let row = self.db().find(key)?;
        if row.name == name {
            return Err(EngineError::Invalid(format!(
                "renaming a container with the same name as its current name: {name}"
            )));
        }
        self.db().rename(&row.id, name)?;
        let renamed = crate::db::Row { name: name.to_string(), ..row.clone() };
        self.emit_container(&renamed, "rename", &[("oldName", format!("/{}", row.name))]);
        Ok(())
    }

    /// Freezes a running container.
    pub fn pause(&self, key: &str) -> Result<()> {
        let row = self.refreshed(key)?;
        if row.state.status != Status::Running {
            return Err(EngineError::Conflict {
                id: row.id,
                status: row.state.status.to_string(),
                what: "container is not running".into(),
            });
        }
        // Through the shim, the container's way in (it says so in the journal).
        self.shim_request(&row.id, &hull_shim::protocol::Request::Pause)
    }

    /// Thaws a paused container.
    pub fn unpause(&self, key: &str) -> Result<()> {
        let row = self.refreshed(key)?;
        if row.state.status != Status::Paused {
            return Err(EngineError::Conflict {
                id: row.id,
                status: row.state.status.to_string(),
                what: "container is not paused".into(),
            });
        }
        self.shim_request(&row.id, &hull_shim::protocol::Request::Resume)
    }

    /// Host pids of the container's processes.
    pub fn top(&self, key: &str) -> Result<Vec<i32>> {
        let row = self.refreshed(key)?;
        if !matches!(row.state.status, Status::Running | Status::Paused) {
            return Err(EngineError::Conflict {
                id: row.id,
                status: row.state.status.to_string(),
                what: "container is not running".into(),
            });
        }
        let answer = self.shim_query(&row.id, &hull_shim::protocol::Request::Pids)?;
        serde_json::from_str(&answer).map_err(|e| EngineError::Shim(format!("pids: {e}")))
    }

    /// Removes every stopped container; returns their ids.
    pub fn prune(&self) -> Result<Vec<String>> {
        let mut gone = Vec::new();
        for c in self.list()? {
            if matches!(c.state.status, Status::Exited | Status::Created) {
                match self.remove(&c.id, false, false) {
                    Ok(()) => gone.push(c.id),
                    Err(EngineError::NoSuchContainer(_) | EngineError::Conflict { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(gone)
    }

    /// The stats of a running container (runc's JSON shape), from its shim.
    pub fn stats(&self, key: &str) -> Result<hull_cgroups::stats::Stats> {
        let row = self.refreshed(key)?;
        if !matches!(row.state.status, Status::Running | Status::Paused) {
            return Err(EngineError::Conflict {
                id: row.id,
                status: row.state.status.to_string(),
                what: "container is not running".into(),
            });
        }
        let answer = self.shim_query(&row.id, &hull_shim::protocol::Request::Stats)?;
        serde_json::from_str(&answer).map_err(|e| EngineError::Shim(format!("stats: {e}")))
    }
}
