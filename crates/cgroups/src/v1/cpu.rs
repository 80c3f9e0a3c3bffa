//! v1 cpu and cpuset controllers.

use super::V1Manager;
use crate::{fs, Result};
use hull_spec::Cpu;
use std::path::Path;

pub(super) fn apply(m: &V1Manager, c: &Cpu) -> Result<()> {
    let wants_cpu = c.shares.is_some()
        || c.quota.is_some()
        || c.period.is_some()
        || c.burst.is_some()
        || c.realtime_period.is_some()
        || c.realtime_runtime.is_some()
        || c.idle.is_some();
    if wants_cpu {
        let dir = m.require("cpu", "linux.resources.cpu")?;
        if let Some(s) = c.shares.filter(|s| *s != 0) {
            fs::write(dir, "cpu.shares", s)?;
        }
        if let Some(p) = c.period.filter(|p| *p != 0) {
            fs::write(dir, "cpu.cfs_period_us", p)?;
        }
        if let Some(q) = c.quota.filter(|q| *q != 0) {
            fs::write(dir, "cpu.cfs_quota_us", q)?;
        }
        if let Some(b) = c.burst {
            fs::write(dir, "cpu.cfs_burst_us", b)?;
        }
        if let Some(p) = c.realtime_period.filter(|p| *p != 0) {
            fs::write(dir, "cpu.rt_period_us", p)?;
        }
        if let Some(r) = c.realtime_runtime.filter(|r| *r != 0) {
            fs::write(dir, "cpu.rt_runtime_us", r)?;
        }
        if let Some(i) = c.idle {
            fs::write(dir, "cpu.idle", i)?;
        }
    }
    let cpus = c.cpus.as_deref().filter(|s| !s.is_empty());
    let mems = c.mems.as_deref().filter(|s| !s.is_empty());
    if cpus.is_some() || mems.is_some() {
        let dir = m.require("cpuset", "linux.resources.cpu.cpus")?;
        if let Some(cpus) = cpus {
            fs::write(dir, "cpuset.cpus", cpus)?;
        }
        if let Some(mems) = mems {
            fs::write(dir, "cpuset.mems", mems)?;
        }
    }
    Ok(())
}

/// Copies cpuset.cpus and cpuset.mems from the parent into a new cgroup.
pub(super) fn inherit_cpuset(dir: &Path) -> Result<()> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let own = fs::read(&dir.join(file))?;
        if own.trim().is_empty() {
            let value = fs::read(&parent.join(file))?;
            fs::write(dir, file, value.trim())?;
        }
    }
    Ok(())
}
