//! `state`: the OCI state of a container, with runc's extra fields.

use super::Runtime;
use crate::error::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// What `state` prints (the OCI state plus runc's rootfs/created/owner).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateReport {
    /// Spec version.
    pub oci_version: String,
    /// Container id.
    pub id: String,
    /// Init pid (0 when stopped).
    pub pid: i32,
    /// Status.
    pub status: String,
    /// Bundle path.
    pub bundle: PathBuf,
    /// Rootfs path.
    pub rootfs: PathBuf,
    /// Creation time.
    pub created: String,
    /// Creator.
    pub owner: String,
    /// Annotations.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Runtime {
    /// The state of one container.
    pub fn state(&self, id: &str) -> Result<StateReport> {
        let (dir, record) = self.open(id)?;
        let status = record.status(&dir);
        let oci = record.oci_state(status);
        Ok(StateReport {
            oci_version: oci.oci_version,
            id: oci.id,
            pid: oci.pid,
            status: oci.status,
            bundle: oci.bundle,
            rootfs: record.rootfs,
            created: record.created,
            owner: record.owner,
            annotations: oci.annotations,
        })
    }
}
