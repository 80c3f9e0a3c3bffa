//! `ps`: the container's processes.

use super::Runtime;
use crate::error::Result;

impl Runtime {
    /// Host pids of every process in the container's cgroup.
    pub fn pids(&self, id: &str) -> Result<Vec<i32>> {
        let (_, record) = self.open(id)?;
        Ok(record.cgroup().pids()?)
    }
}
