//! `list`: every container under the state root.

use super::Runtime;
use crate::error::{Context, Result};

/// One row of `list`.
pub type ListEntry = super::StateReport;

impl Runtime {
    /// All containers, sorted by id. Entries that cannot be read are skipped.
    pub fn list(&self) -> Result<Vec<ListEntry>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).ctx("read", self.root.display()),
        };
        let mut out: Vec<ListEntry> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|id| self.state(&id).ok())
            .collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }
}
