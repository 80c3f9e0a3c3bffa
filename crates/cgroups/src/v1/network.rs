//! v1 net_cls and net_prio controllers.

use super::V1Manager;
use crate::{fs, Result};
use hull_spec::Network;

pub(super) fn apply(m: &V1Manager, n: &Network) -> Result<()> {
    if let Some(id) = n.class_id {
        fs::write(m.require("net_cls", "linux.resources.network.classID")?, "net_cls.classid", id)?;
    }
    let prios = n.priorities.as_deref().unwrap_or_default();
    if !prios.is_empty() {
        let dir = m.require("net_prio", "linux.resources.network.priorities")?;
        for p in prios {
            fs::write(dir, "net_prio.ifpriomap", format!("{} {}", p.name, p.priority))?;
        }
    }
    Ok(())
}
