//! `update`: change resource limits of a running container.

use anyhow::{bail, Context};
use hull_spec::{BlockIo, Cpu, Memory, Pids, Resources};
use std::io::Read;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Container id.
    id: String,
    /// linux.resources JSON from a file ("-" for stdin); flags override it.
    #[arg(short, long)]
    resources: Option<String>,
    /// Block I/O weight (10-1000).
    #[arg(long)]
    blkio_weight: Option<u16>,
    /// CPU CFS period, µs.
    #[arg(long)]
    cpu_period: Option<u64>,
    /// CPU CFS quota, µs (-1: unlimited).
    #[arg(long, allow_negative_numbers = true)]
    cpu_quota: Option<i64>,
    /// CPU shares.
    #[arg(long)]
    cpu_share: Option<u64>,
    /// CPU CFS burst, µs.
    #[arg(long)]
    cpu_burst: Option<u64>,
    /// Realtime period, µs.
    #[arg(long)]
    cpu_rt_period: Option<u64>,
    /// Realtime runtime, µs.
    #[arg(long)]
    cpu_rt_runtime: Option<i64>,
    /// CPUs allowed (e.g. 0-2,4).
    #[arg(long)]
    cpuset_cpus: Option<String>,
    /// Memory nodes allowed.
    #[arg(long)]
    cpuset_mems: Option<String>,
    /// Memory limit (bytes, or with k/m/g suffix; -1 for none).
    #[arg(long, allow_hyphen_values = true)]
    memory: Option<String>,
    /// Memory soft limit.
    #[arg(long, allow_hyphen_values = true)]
    memory_reservation: Option<String>,
    /// Memory plus swap limit.
    #[arg(long, allow_hyphen_values = true)]
    memory_swap: Option<String>,
    /// Kernel memory limit (ignored by the kernel since 5.16; accepted for runc compatibility).
    #[arg(long, allow_hyphen_values = true)]
    kernel_memory: Option<String>,
    /// Maximum number of tasks.
    #[arg(long, allow_hyphen_values = true)]
    pids_limit: Option<i64>,
}

fn mem(r: &mut Resources) -> &mut Memory {
    r.memory.get_or_insert_with(Default::default)
}

fn cpu(r: &mut Resources) -> &mut Cpu {
    r.cpu.get_or_insert_with(Default::default)
}

/// `512`, `64k`, `100m`, `2g`, `-1`.
fn bytes(flag: &str, s: &str) -> anyhow::Result<i64> {
    if s == "-1" {
        return Ok(-1);
    }
    let lower = s.to_ascii_lowercase();
    let t = lower.trim_end_matches('b');
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num.parse().with_context(|| format!("--{flag} {s:?}: not a size"))?;
    if n < 0.0 {
        bail!("--{flag} {s:?}: negative (use -1 for unlimited)");
    }
    Ok((n * mult as f64) as i64)
}

pub fn run(rt: &hull_runtime::Runtime, a: Args) -> anyhow::Result<i32> {
    let mut r: Resources = match a.resources.as_deref() {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context("read resources from stdin")?;
            serde_json::from_str(&text).context("parse resources from stdin")?
        }
        Some(file) => {
            let text = std::fs::read_to_string(file).with_context(|| format!("read {file}"))?;
            serde_json::from_str(&text).with_context(|| format!("parse {file}"))?
        }
        None => Resources::default(),
    };
    if let Some(v) = &a.memory {
        mem(&mut r).limit = Some(bytes("memory", v)?);
    }
    if let Some(v) = &a.memory_reservation {
        mem(&mut r).reservation = Some(bytes("memory-reservation", v)?);
    }
    if let Some(v) = &a.memory_swap {
        mem(&mut r).swap = Some(bytes("memory-swap", v)?);
    }
    if let Some(v) = &a.kernel_memory {
        bytes("kernel-memory", v)?;
    }
    if a.cpu_share.is_some() {
        cpu(&mut r).shares = a.cpu_share;
    }
    if a.cpu_quota.is_some() {
        cpu(&mut r).quota = a.cpu_quota;
    }
    if a.cpu_period.is_some() {
        cpu(&mut r).period = a.cpu_period;
    }
    if a.cpu_burst.is_some() {
        cpu(&mut r).burst = a.cpu_burst;
    }
    if a.cpu_rt_period.is_some() {
        cpu(&mut r).realtime_period = a.cpu_rt_period;
    }
    if a.cpu_rt_runtime.is_some() {
        cpu(&mut r).realtime_runtime = a.cpu_rt_runtime;
    }
    if a.cpuset_cpus.is_some() {
        cpu(&mut r).cpus = a.cpuset_cpus.clone();
    }
    if a.cpuset_mems.is_some() {
        cpu(&mut r).mems = a.cpuset_mems.clone();
    }
    if let Some(limit) = a.pids_limit {
        r.pids = Some(Pids { limit });
    }
    if let Some(w) = a.blkio_weight {
        r.block_io.get_or_insert_with(BlockIo::default).weight = Some(w);
    }
    rt.update(&a.id, &r)?;
    Ok(0)
}
