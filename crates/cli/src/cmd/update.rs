//! `hull update`: a container's limits, changed live, and its restart policy.

use hull_engine::units;
use hull_engine::{Engine, UpdateRequest};

/// `hull update`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Memory limit.
    #[arg(short = 'm', long, allow_hyphen_values = true)]
    memory: Option<String>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap.
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    memory_swap: Option<String>,
    /// Memory soft limit.
    #[arg(long = "memory-reservation")]
    memory_reservation: Option<String>,
    /// Number of CPUs.
    #[arg(long)]
    cpus: Option<String>,
    /// CPU shares (relative weight).
    #[arg(short = 'c', long = "cpu-shares")]
    cpu_shares: Option<u64>,
    /// Limit CPU CFS (Completely Fair Scheduler) period.
    #[arg(long = "cpu-period")]
    cpu_period: Option<u64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota.
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    cpu_quota: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1).
    #[arg(long = "cpuset-cpus")]
    cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1).
    #[arg(long = "cpuset-mems")]
    cpuset_mems: Option<String>,
    /// Tune container pids limit (-1 for unlimited).
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pids_limit: Option<i64>,
    /// Block IO (relative weight), between 10 and 1000.
    #[arg(long = "blkio-weight")]
    blkio_weight: Option<u16>,
    /// Restart policy to apply when a container exits.
    #[arg(long)]
    restart: Option<String>,
    /// Containers.
    #[arg(required = true)]
    containers: Vec<String>,
}

impl Args {
    fn request(&self) -> anyhow::Result<UpdateRequest> {
        let bytes = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<i64>> {
            Ok(v.as_deref().map(|s| units::parse_bytes(flag, s)).transpose()?)
        };
        Ok(UpdateRequest {
            memory: bytes("--memory", &self.memory)?,
            memory_swap: match self.memory_swap.as_deref() {
                Some("-1") => Some(-1),
                other => other.map(|s| units::parse_bytes("--memory-swap", s)).transpose()?,
            },
            memory_reservation: bytes("--memory-reservation", &self.memory_reservation)?,
            nano_cpus: self.cpus.as_deref().map(units::parse_cpus).transpose()?,
            cpu_shares: self.cpu_shares,
            cpu_period: self.cpu_period,
            cpu_quota: self.cpu_quota,
            cpuset_cpus: self.cpuset_cpus.clone(),
            cpuset_mems: self.cpuset_mems.clone(),
            pids_limit: self.pids_limit,
            blkio_weight: self.blkio_weight,
            restart: self.restart.as_deref().map(str::parse).transpose()?,
        })
    }
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    let req = a.request()?;
    let mut code = 0;
    for c in &a.containers {
        match engine.update(c, &req) {
            Ok(()) => println!("{c}"),
            Err(e) => {
                eprintln!("Error response from daemon: {e}");
                code = 1;
            }
        }
    }
    Ok(code)
}
