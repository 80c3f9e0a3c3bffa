//! `update`: change a container's resource limits while it runs.

use super::Runtime;
use crate::error::{Result, RuntimeError};
use crate::state::Status;
use hull_spec::Resources;

impl Runtime {
    /// Applies `changes` (only the fields set) to the container's cgroup and
    /// records the merged limits.
    pub fn update(&self, id: &str, changes: &Resources) -> Result<()> {
        let (dir, mut record) = self.open(id)?;
        let status = record.status(&dir);
        if status == Status::Stopped {
            return Err(RuntimeError::WrongStatus {
                id: id.into(),
                status: status.to_string(),
                op: "update",
                wanted: "created, running or paused",
            });
        }
        hull_cgroups::validate(changes)?;
        record.cgroup().set(changes)?;
        if let Some(spec) = record.spec.as_mut() {
            let current =
                spec.linux.get_or_insert_with(Default::default).resources.get_or_insert_with(Default::default);
            merge(current, changes);
        }
        dir.save(&record)
    }
}

/// Field-by-field merge of the set fields of `changes` into `current`.
fn merge(current: &mut Resources, changes: &Resources) {
    macro_rules! take {
        ($dst:expr, $src:expr, $($f:ident),*) => { $( if $src.$f.is_some() { $dst.$f = $src.$f.clone(); } )* };
    }
    if let Some(m) = &changes.memory {
        let cur = current.memory.get_or_insert_with(Default::default);
        take!(cur, m, limit, reservation, swap, kernel, kernel_tcp, swappiness, disable_oom_killer);
    }
    if let Some(c) = &changes.cpu {
        let cur = current.cpu.get_or_insert_with(Default::default);
        take!(cur, c, shares, quota, burst, period, realtime_runtime, realtime_period, cpus, mems, idle);
    }
    take!(current, changes, pids, block_io, hugepage_limits, network, unified, devices);
}
