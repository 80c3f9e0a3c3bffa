//! v1 memory controller.

use crate::{fs, Result};
use hull_spec::Memory;
use std::path::Path;

pub(super) fn apply(dir: &Path, m: &Memory) -> Result<()> {
    match (m.limit, m.swap) {
        (Some(limit), Some(swap)) => set_limit_and_swap(dir, limit, swap)?,
        // Unlimited memory with swap left unsaid: swap unlimited too (runc),
        // or the old memsw limit would refuse the new memory limit.
        (Some(-1), None) if dir.join("memory.memsw.limit_in_bytes").exists() => set_limit_and_swap(dir, -1, -1)?,
        (Some(limit), None) => fs::write(dir, "memory.limit_in_bytes", limit)?,
        (None, Some(swap)) => fs::write(dir, "memory.memsw.limit_in_bytes", swap)?,
        (None, None) => {}
    }
    if let Some(r) = m.reservation {
        fs::write(dir, "memory.soft_limit_in_bytes", r)?;
    }
    if let Some(t) = m.kernel_tcp {
        fs::write(dir, "memory.kmem.tcp.limit_in_bytes", t)?;
    }
    if let Some(s) = m.swappiness {
        fs::write(dir, "memory.swappiness", s)?;
    }
    if m.disable_oom_killer == Some(true) {
        fs::write(dir, "memory.oom_control", 1)?;
    }
    // `kernel` is deprecated and ignored by the kernel since 5.16, as by runc.
    Ok(())
}

/// memory.memsw.limit_in_bytes must stay >= memory.limit_in_bytes at every
/// step, so the order of the two writes depends on the direction of change.
fn set_limit_and_swap(dir: &Path, limit: i64, swap: i64) -> Result<()> {
    let current: i64 =
        fs::read(&dir.join("memory.limit_in_bytes")).map(|s| s.trim().parse().unwrap_or(i64::MAX)).unwrap_or(i64::MAX);
    let growing = limit == -1 || (current != -1 && limit > current);
    if growing || swap == -1 {
        fs::write(dir, "memory.memsw.limit_in_bytes", swap)?;
        fs::write(dir, "memory.limit_in_bytes", limit)
    } else {
        fs::write(dir, "memory.limit_in_bytes", limit)?;
        fs::write(dir, "memory.memsw.limit_in_bytes", swap)
    }
}
