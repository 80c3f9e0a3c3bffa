//! Resource usage of a container's cgroup, in the shape runc's `events`
//! prints (`libcontainer/cgroups` Stats, JSON field names included).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// All statistics.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    /// CPU.
    pub cpu: CpuStats,
    /// Memory.
    pub memory: MemoryStats,
    /// Pids.
    pub pids: PidsStats,
    /// Block I/O.
    pub blkio: BlkioStats,
}

/// CPU usage and throttling.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CpuStats {
    /// Usage, nanoseconds.
    pub usage: CpuUsage,
    /// CFS throttling.
    pub throttling: Throttling,
}

/// CPU time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CpuUsage {
    /// Total, ns.
    pub total: u64,
    /// Per CPU, ns.
    pub percpu: Vec<u64>,
    /// In kernel mode, ns.
    pub kernel: u64,
    /// In user mode, ns.
    pub user: u64,
}

/// CFS throttling counters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Throttling {
    /// Periods.
    pub periods: u64,
    /// Periods throttled.
    pub throttled_periods: u64,
    /// Time throttled, ns.
    pub throttled_time: u64,
}

/// Memory usage.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryStats {
    /// Page cache.
    pub cache: u64,
    /// Memory.
    pub usage: MemoryEntry,
    /// Memory + swap.
    pub swap: MemoryEntry,
    /// Kernel memory.
    pub kernel: MemoryEntry,
    /// memory.stat as read.
    pub raw: BTreeMap<String, u64>,
}

/// One memory counter group.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MemoryEntry {
    /// Limit.
    pub limit: u64,
    /// Current usage.
    pub usage: u64,
    /// Peak usage.
    pub max: u64,
    /// Times the limit was hit.
    pub failcnt: u64,
}

/// Pids.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PidsStats {
    /// Tasks now.
    pub current: u64,
    /// Limit (0: none).
    pub limit: u64,
}

/// Block I/O.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BlkioStats {
    /// Bytes per device and operation.
    #[serde(rename = "ioServiceBytesRecursive")]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    /// I/O operations per device and operation.
    #[serde(rename = "ioServicedRecursive")]
    pub io_serviced_recursive: Vec<BlkioEntry>,
}

/// One blkio counter.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct BlkioEntry {
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Read, Write, Sync, Async, Discard, Total.
    pub op: String,
    /// Value.
    pub value: u64,
}

pub(crate) fn read_u64(path: &std::path::Path) -> u64 {
    std::fs::read_to_string(path).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

/// Parses `key value` lines (memory.stat, cpu.stat).
pub(crate) fn read_keyed(path: &std::path::Path) -> BTreeMap<String, u64> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}
