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
        set_realtime(dir, c.realtime_period.filter(|p| *p != 0), c.realtime_runtime.filter(|r| *r != 0))?;
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

/// Copies cpuset.cpus and cpuset.mems from the parent into a new cgroup;
/// a parent that has them empty too is filled from its own parent first
/// (runc): writing our values into it would fail with ENOSPC otherwise.
/// An empty cpuset cgroup can hold no task, so filling it changes nothing
/// for anyone.
pub(super) fn inherit_cpuset(dir: &Path) -> Result<()> {
    let Some(parent) = dir.parent() else {
        return Ok(());
    };
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let own = fs::read(&dir.join(file))?;
        if !own.trim().is_empty() {
            continue;
        }
        let mut value = fs::read(&parent.join(file))?;
        if value.trim().is_empty() && parent.join("cpuset.cpus").exists() && parent.parent().is_some() {
            inherit_cpuset(parent)?;
            value = fs::read(&parent.join(file))?;
        }
        fs::write(dir, file, value.trim())?;
    }
    Ok(())
}

/// rt_runtime may never exceed rt_period: when the period shrinks below
/// the current runtime, the runtime has to go first.
fn set_realtime(dir: &Path, period: Option<u64>, runtime: Option<i64>) -> Result<()> {
    match (period, runtime) {
        (Some(p), Some(r)) => {
            if fs::write(dir, "cpu.rt_period_us", p).is_err() {
                fs::write(dir, "cpu.rt_runtime_us", r)?;
                fs::write(dir, "cpu.rt_period_us", p)
            } else {
                fs::write(dir, "cpu.rt_runtime_us", r)
            }
        }
        (Some(p), None) => fs::write(dir, "cpu.rt_period_us", p),
        (None, Some(r)) => fs::write(dir, "cpu.rt_runtime_us", r),
        (None, None) => Ok(()),
    }
}
