//! `hull stats`: CPU, memory and pids of running containers.

use hull_engine::{Engine, Status};

/// `hull stats`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show all containers (default shows just running).
    #[arg(short = 'a', long)]
    all: bool,
    /// Disable streaming stats and only pull the first result.
    #[arg(long = "no-stream")]
    no_stream: bool,
    /// Containers (default: all running).
    containers: Vec<String>,
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    loop {
        let ids: Vec<(String, String)> = if a.containers.is_empty() {
            engine
                .list()?
                .into_iter()
                .filter(|c| a.all || c.state.status == Status::Running)
                .map(|c| (c.id.clone(), c.name))
                .collect()
        } else {
            a.containers.iter().map(|n| engine.get(n).map(|c| (c.id.clone(), c.name))).collect::<Result<_, _>>()?
        };
        let first: Vec<Option<u64>> =
            ids.iter().map(|(id, _)| engine.stats(id).ok().map(|s| s.cpu.usage.total)).collect();
        let t0 = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(500));
        let mut lines = vec!["CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tPIDS".to_string()];
        for ((id, name), cpu0) in ids.iter().zip(first) {
            let Ok(s) = engine.stats(id) else {
                lines.push(format!("{}\t{name}\t--\t-- / --\t--\t--", &id[..12]));
                continue;
            };
            let elapsed = t0.elapsed().as_nanos() as f64;
            let cpu = cpu0.map_or(0.0, |c0| (s.cpu.usage.total.saturating_sub(c0)) as f64 / elapsed * 100.0);
            let limit = if s.memory.usage.limit == 0 || s.memory.usage.limit > 1 << 60 {
                host_memory()
            } else {
                s.memory.usage.limit
            };
            let used = s.memory.usage.usage.saturating_sub(s.memory.cache);
            lines.push(format!(
                "{}\t{name}\t{cpu:.2}%\t{} / {}\t{:.2}%\t{}",
                &id[..12],
                binary_size(used),
                binary_size(limit),
                used as f64 / limit.max(1) as f64 * 100.0,
                s.pids.current
            ));
        }
        if !a.no_stream {
            print!("\x1b[2J\x1b[H");
        }
        super::format::print_table(&lines);
        if a.no_stream {
            return Ok(0);
        }
    }
}

fn host_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| m.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<u64>().ok()))
        .map_or(0, |k| k * 1024)
}

fn binary_size(b: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.2}{}", units[i]).replace(".00B", "B")
}
