//! Reading cgroup v2 counters.

use crate::stats::{read_keyed, read_u64, BlkioEntry, Stats};
use std::path::Path;

pub(super) fn read(dir: &Path) -> Stats {
    let mut s = Stats::default();
    let cpu = read_keyed(&dir.join("cpu.stat"));
    let us = |k: &str| cpu.get(k).copied().unwrap_or(0) * 1000;
    s.cpu.usage.total = us("usage_usec");
    s.cpu.usage.user = us("user_usec");
    s.cpu.usage.kernel = us("system_usec");
    s.cpu.throttling.periods = cpu.get("nr_periods").copied().unwrap_or(0);
    s.cpu.throttling.throttled_periods = cpu.get("nr_throttled").copied().unwrap_or(0);
    s.cpu.throttling.throttled_time = us("throttled_usec");
    s.memory.usage.usage = read_u64(&dir.join("memory.current"));
    s.memory.usage.max = read_u64(&dir.join("memory.peak"));
    s.memory.usage.limit = read_u64(&dir.join("memory.max"));
    s.memory.swap.usage = read_u64(&dir.join("memory.swap.current"));
    s.memory.swap.limit = read_u64(&dir.join("memory.swap.max"));
    s.memory.usage.failcnt = read_keyed(&dir.join("memory.events")).get("max").copied().unwrap_or(0);
    s.memory.raw = read_keyed(&dir.join("memory.stat"));
    s.memory.cache = s.memory.raw.get("file").copied().unwrap_or(0);
    s.pids.current = read_u64(&dir.join("pids.current"));
    s.pids.limit = read_u64(&dir.join("pids.max"));
    for line in std::fs::read_to_string(dir.join("io.stat")).unwrap_or_default().lines() {
        let mut f = line.split_whitespace();
        let Some((major, minor)) = f.next().and_then(|d| d.split_once(':')) else { continue };
        let (Ok(major), Ok(minor)) = (major.parse(), minor.parse()) else { continue };
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else { continue };
            let Ok(value) = v.parse() else { continue };
            let (list, op) = match k {
                "rbytes" => (&mut s.blkio.io_service_bytes_recursive, "Read"),
                "wbytes" => (&mut s.blkio.io_service_bytes_recursive, "Write"),
                "rios" => (&mut s.blkio.io_serviced_recursive, "Read"),
                "wios" => (&mut s.blkio.io_serviced_recursive, "Write"),
                _ => continue,
            };
            list.push(BlkioEntry { major, minor, op: op.into(), value });
        }
    }
    s
}
