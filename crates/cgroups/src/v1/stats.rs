//! Reading v1 controllers' counters.

use super::V1Manager;
use crate::stats::{read_keyed, read_u64, BlkioEntry, Stats};
use std::path::Path;

const USER_HZ_NS: u64 = 10_000_000;

pub(super) fn read(m: &V1Manager) -> Stats {
    let mut s = Stats::default();
    if let Some(d) = m.dir("cpuacct") {
        s.cpu.usage.total = read_u64(&d.join("cpuacct.usage"));
        s.cpu.usage.percpu = std::fs::read_to_string(d.join("cpuacct.usage_percpu"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        let st = read_keyed(&d.join("cpuacct.stat"));
        s.cpu.usage.user = st.get("user").copied().unwrap_or(0) * USER_HZ_NS;
        s.cpu.usage.kernel = st.get("system").copied().unwrap_or(0) * USER_HZ_NS;
    }
    if let Some(d) = m.dir("cpu") {
        let st = read_keyed(&d.join("cpu.stat"));
        s.cpu.throttling.periods = st.get("nr_periods").copied().unwrap_or(0);
        s.cpu.throttling.throttled_periods = st.get("nr_throttled").copied().unwrap_or(0);
        s.cpu.throttling.throttled_time = st.get("throttled_time").copied().unwrap_or(0);
    }
    if let Some(d) = m.dir("memory") {
        let entry = |prefix: &str| crate::stats::MemoryEntry {
            limit: read_u64(&d.join(format!("{prefix}.limit_in_bytes"))),
            usage: read_u64(&d.join(format!("{prefix}.usage_in_bytes"))),
            max: read_u64(&d.join(format!("{prefix}.max_usage_in_bytes"))),
            failcnt: read_u64(&d.join(format!("{prefix}.failcnt"))),
        };
        s.memory.usage = entry("memory");
        s.memory.swap = entry("memory.memsw");
        s.memory.kernel = entry("memory.kmem");
        s.memory.raw = read_keyed(&d.join("memory.stat"));
        s.memory.cache = s.memory.raw.get("total_cache").or(s.memory.raw.get("cache")).copied().unwrap_or(0);
    }
    if let Some(d) = m.dir("pids") {
        s.pids.current = read_u64(&d.join("pids.current"));
        s.pids.limit = read_u64(&d.join("pids.max"));
    }
    if let Some(d) = m.dir("blkio") {
        s.blkio.io_service_bytes_recursive = blkio(&d.join("blkio.throttle.io_service_bytes_recursive"));
        s.blkio.io_serviced_recursive = blkio(&d.join("blkio.throttle.io_serviced_recursive"));
    }
    s
}

fn blkio(path: &Path) -> Vec<BlkioEntry> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (dev, op, value) = (f.first()?, f.get(1)?, f.get(2)?);
            let (major, minor) = dev.split_once(':')?;
            Some(BlkioEntry {
                major: major.parse().ok()?,
                minor: minor.parse().ok()?,
                op: op.to_string(),
                value: value.parse().ok()?,
            })
        })
        .collect()
}
