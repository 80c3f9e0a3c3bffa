//! `pause` and `resume`: freeze and thaw every process of the container.

use super::Runtime;
use crate::error::{Result, RuntimeError};
use crate::state::Status;

impl Runtime {
    /// Freezes a running container.
    pub fn pause(&self, id: &str) -> Result<()> {
        let (dir, record) = self.open(id)?;
        let status = record.status(&dir);
        if status != Status::Running {
            return Err(RuntimeError::WrongStatus {
                id: id.into(),
                status: status.to_string(),
                op: "pause",
                wanted: "running",
            });
        }
        Ok(record.cgroup().freeze()?)
    }

    /// Thaws a paused container.
    pub fn resume(&self, id: &str) -> Result<()> {
        let (dir, record) = self.open(id)?;
        let status = record.status(&dir);
        if status != Status::Paused {
            return Err(RuntimeError::WrongStatus {
                id: id.into(),
                status: status.to_string(),
                op: "resume",
                wanted: "paused",
            });
        }
        Ok(record.cgroup().thaw()?)
    }
}
