//! Writing `linux.resources` to cgroup v2 control files.

use crate::{fs, Result};
use hull_spec::{BlockIo, Cpu, Memory, Resources};
use std::collections::BTreeMap;
use std::path::Path;

/// cpu.shares (2..262144) to cpu.weight (1..10000), as runc and crun map it.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    1 + ((shares.clamp(2, 262_144) - 2) * 9999) / 262_142
}

/// blkio.weight (10..1000) to io.weight (1..10000).
pub fn blkio_weight_to_io(weight: u16) -> u64 {
    if weight == 0 {
        return 0;
    }
    1 + ((u64::from(weight).clamp(10, 1000) - 10) * 9999) / 990
}

fn max_or(v: i64) -> String {
    if v < 0 {
        "max".into()
    } else {
        v.to_string()
    }
}

fn require(dir: &Path, controller: &str, field: &str) -> Result<()> {
    let have = fs::read(&dir.join("cgroup.controllers"))?;
    if have.split_whitespace().any(|c| c == controller) {
        Ok(())
    } else {
        Err(fs::invalid(field, format!("the {controller} controller is not enabled in {}", dir.display())))
    }
}

pub(super) fn apply(dir: &Path, r: &Resources) -> Result<()> {
    if let Some(m) = &r.memory {
        memory(dir, m)?;
    }
    if let Some(c) = &r.cpu {
        cpu(dir, c)?;
    }
    if let Some(p) = &r.pids {
        require(dir, "pids", "linux.resources.pids")?;
        fs::write(dir, "pids.max", if p.limit > 0 { p.limit.to_string() } else { "max".into() })?;
    }
    if let Some(b) = &r.block_io {
        io(dir, b)?;
    }
    for h in r.hugepage_limits.iter().flatten() {
        require(dir, "hugetlb", "linux.resources.hugepageLimits")?;
        fs::write(dir, &format!("hugetlb.{}.max", h.page_size), max_or(h.limit))?;
    }
    if let Some(n) = &r.network {
        if n.class_id.is_some() || n.priorities.as_ref().is_some_and(|p| !p.is_empty()) {
            return Err(fs::invalid("linux.resources.network", "net_cls/net_prio exist only in cgroup v1"));
        }
    }
    if let Some(u) = &r.unified {
        unified(dir, u)?;
    }
    if let Some(d) = &r.devices {
        super::devices::apply(dir, d)?;
    }
    Ok(())
}

fn memory(dir: &Path, m: &Memory) -> Result<()> {
    if m.limit.is_none() && m.swap.is_none() && m.reservation.is_none() {
        return Ok(());
    }
    require(dir, "memory", "linux.resources.memory")?;
    if let Some(r) = m.reservation {
        fs::write(dir, "memory.low", max_or(r))?;
    }
    if let Some(swap) = m.swap {
        // The spec's swap is memory+swap; v2's memory.swap.max is swap alone.
        let value = match (swap, m.limit) {
            (-1, _) => "max".to_string(),
            (s, Some(l)) if l > 0 => (s - l).max(0).to_string(),
            (s, _) => s.to_string(),
        };
        fs::write(dir, "memory.swap.max", value)?;
    }
    if let Some(l) = m.limit {
        fs::write(dir, "memory.max", max_or(l))?;
    }
    if m.disable_oom_killer == Some(true) {
        return Err(fs::invalid("linux.resources.memory.disableOOMKiller", "not available on cgroup v2"));
    }
    Ok(())
}

fn cpu(dir: &Path, c: &Cpu) -> Result<()> {
    if let Some(s) = c.shares.filter(|s| *s != 0) {
        require(dir, "cpu", "linux.resources.cpu.shares")?;
        fs::write(dir, "cpu.weight", shares_to_weight(s))?;
    }
    if c.quota.is_some() || c.period.is_some() {
        require(dir, "cpu", "linux.resources.cpu.quota")?;
        let quota = c.quota.filter(|q| *q > 0).map_or("max".to_string(), |q| q.to_string());
        let period = c.period.filter(|p| *p != 0).unwrap_or(100_000);
        fs::write(dir, "cpu.max", format!("{quota} {period}"))?;
    }
    if let Some(b) = c.burst {
        fs::write(dir, "cpu.max.burst", b)?;
    }
    if let Some(i) = c.idle {
        fs::write(dir, "cpu.idle", i)?;
    }
    if c.realtime_runtime.is_some_and(|r| r != 0) || c.realtime_period.is_some_and(|p| p != 0) {
        return Err(fs::invalid(
            "linux.resources.cpu.realtimeRuntime",
            "realtime scheduling limits are not available on cgroup v2",
        ));
    }
    if let Some(cpus) = c.cpus.as_deref().filter(|s| !s.is_empty()) {
        require(dir, "cpuset", "linux.resources.cpu.cpus")?;
        fs::write(dir, "cpuset.cpus", cpus)?;
    }
    if let Some(mems) = c.mems.as_deref().filter(|s| !s.is_empty()) {
        require(dir, "cpuset", "linux.resources.cpu.mems")?;
        fs::write(dir, "cpuset.mems", mems)?;
    }
    Ok(())
}

fn io(dir: &Path, b: &BlockIo) -> Result<()> {
    require(dir, "io", "linux.resources.blockIO")?;
    if let Some(w) = b.weight.filter(|w| *w != 0) {
        fs::write(dir, "io.weight", format!("default {}", blkio_weight_to_io(w)))?;
    }
    for d in b.weight_device.iter().flatten() {
        if let Some(w) = d.weight {
            fs::write(dir, "io.weight", format!("{}:{} {}", d.major, d.minor, blkio_weight_to_io(w)))?;
        }
    }
    let lists = [
        ("rbps", &b.throttle_read_bps_device),
        ("wbps", &b.throttle_write_bps_device),
        ("riops", &b.throttle_read_iops_device),
        ("wiops", &b.throttle_write_iops_device),
    ];
    for (key, list) in lists {
        for d in list.iter().flatten() {
            fs::write(dir, "io.max", format!("{}:{} {key}={}", d.major, d.minor, d.rate))?;
        }
    }
    Ok(())
}

fn unified(dir: &Path, u: &BTreeMap<String, String>) -> Result<()> {
    for (key, value) in u {
        if key.contains('/') || key.starts_with('.') || !key.contains('.') {
            return Err(fs::invalid("linux.resources.unified", format!("{key:?} is not a cgroup control file name")));
        }
        if !dir.join(key).exists() {
            return Err(fs::invalid("linux.resources.unified", format!("{key} does not exist in {}", dir.display())));
        }
        fs::write(dir, key, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! These tests write to a temporary directory that STANDS IN for a
    //! cgroup2 directory: this host has no v2 controllers to exercise.
    use super::*;
    use hull_spec::{Pids, ThrottleDevice};

    fn fake_cgroup2_dir() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("cgroup.controllers"), "cpuset cpu io memory hugetlb pids").unwrap();
        for f in [
            "memory.max",
            "memory.low",
            "memory.swap.max",
            "cpu.weight",
            "cpu.max",
            "pids.max",
            "io.max",
            "io.weight",
            "memory.high",
        ] {
            std::fs::write(d.path().join(f), "").unwrap();
        }
        d
    }

    fn read(d: &tempfile::TempDir, f: &str) -> String {
        std::fs::read_to_string(d.path().join(f)).unwrap()
    }

    #[test]
    fn writes_v2_files_to_stand_in_tree() {
        let d = fake_cgroup2_dir();
        let r = Resources {
            memory: Some(Memory {
                limit: Some(100 << 20),
                swap: Some(150 << 20),
                reservation: Some(50 << 20),
                ..Default::default()
            }),
            cpu: Some(Cpu { shares: Some(1024), quota: Some(50_000), period: Some(100_000), ..Default::default() }),
            pids: Some(Pids { limit: 42 }),
            block_io: Some(BlockIo {
                throttle_read_bps_device: Some(vec![ThrottleDevice { major: 8, minor: 0, rate: 1000 }]),
                ..Default::default()
            }),
            unified: Some([("memory.high".to_string(), "123456".to_string())].into()),
            ..Default::default()
        };
        apply(d.path(), &r).unwrap();
        assert_eq!(read(&d, "memory.max"), (100u64 << 20).to_string());
        assert_eq!(read(&d, "memory.swap.max"), (50u64 << 20).to_string());
        assert_eq!(read(&d, "memory.low"), (50u64 << 20).to_string());
        assert_eq!(read(&d, "cpu.weight"), "39");
        assert_eq!(read(&d, "cpu.max"), "50000 100000");
        assert_eq!(read(&d, "pids.max"), "42");
        assert_eq!(read(&d, "io.max"), "8:0 rbps=1000");
        assert_eq!(read(&d, "memory.high"), "123456");
    }

    #[test]
    fn rejects_unknown_unified_key_and_missing_controller() {
        let d = fake_cgroup2_dir();
        let r = Resources { unified: Some([("../x".to_string(), "1".to_string())].into()), ..Default::default() };
        assert!(apply(d.path(), &r).unwrap_err().to_string().contains("linux.resources.unified"));
        std::fs::write(d.path().join("cgroup.controllers"), "cpu").unwrap();
        let r = Resources { pids: Some(Pids { limit: 1 }), ..Default::default() };
        assert!(apply(d.path(), &r).unwrap_err().to_string().contains("pids controller is not enabled"));
    }

    #[test]
    fn conversions_match_runc() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        assert_eq!(blkio_weight_to_io(10), 1);
        assert_eq!(blkio_weight_to_io(1000), 10_000);
    }
}
