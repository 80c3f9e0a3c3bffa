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
    /// Format output: table, json, or a Go template ({{.Name}}, {{.CPUPerc}}, {{.MemUsage}}, {{.NetIO}}, ...).
    #[arg(long)]
    format: Option<String>,
    /// Do not truncate output.
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// Containers (default: all running).
    containers: Vec<String>,
}

const DEFAULT_FORMAT: &str =
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

/// Bytes received and sent on the container's interfaces (loopback aside),
/// from its network namespace's /proc/net/dev.
fn net_io(pid: i32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/net/dev")).ok()?;
    let mut total = (0, 0);
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else { continue };
        if name.trim() == "lo" {
            continue;
        }
        let f: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        if f.len() >= 9 {
            total.0 += f[0];
            total.1 += f[8];
        }
    }
    Some(total)
}

/// Bytes read and written, from the blkio counters.
fn block_io(s: &hull_cgroups::stats::Stats) -> (u64, u64) {
    let sum = |op: &str| {
        s.blkio.io_service_bytes_recursive.iter().filter(|e| e.op.eq_ignore_ascii_case(op)).map(|e| e.value).sum()
    };
    (sum("read"), sum("write"))
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    let format = match a.format.as_deref() {
        None | Some("table") => DEFAULT_FORMAT.to_string(),
        Some(f) => f.to_string(),
    };
    loop {
        let chosen: Vec<(String, hull_engine::Container)> = if a.containers.is_empty() {
            engine
                .list()?
                .into_iter()
                .filter(|c| a.all || c.state.status == Status::Running)
                .map(|c| (c.id.clone(), c))
                .collect()
        } else {
            a.containers.iter().map(|n| engine.get(n).map(|c| (n.clone(), c))).collect::<Result<_, _>>()?
        };
        let first: Vec<Option<u64>> =
            chosen.iter().map(|(_, c)| engine.stats(&c.id).ok().map(|s| s.cpu.usage.total)).collect();
        let t0 = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(500));
        let mut rows = Vec::new();
        for ((given, c), cpu0) in chosen.iter().zip(first) {
            let id = if a.no_trunc { c.id.clone() } else { c.id[..12].to_string() };
            let mut row = serde_json::json!({
                "Container": given, "Name": c.name, "ID": id, "CPUPerc": "--", "MemUsage": "-- / --",
                "MemPerc": "--", "NetIO": "-- / --", "BlockIO": "-- / --", "PIDs": "--",
            });
            let (Ok(s), true) = (engine.stats(&c.id), c.state.status.is_live()) else {
                rows.push(row);
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
            let (rx, tx) = net_io(c.state.pid).unwrap_or((0, 0));
            let (read, written) = block_io(&s);
            row["CPUPerc"] = serde_json::json!(format!("{cpu:.2}%"));
            row["MemUsage"] = serde_json::json!(format!("{} / {}", binary_size(used), binary_size(limit)));
            row["MemPerc"] = serde_json::json!(format!("{:.2}%", used as f64 / limit.max(1) as f64 * 100.0));
            row["NetIO"] = serde_json::json!(format!("{} / {}", super::human_size(rx), super::human_size(tx)));
            row["BlockIO"] = serde_json::json!(format!("{} / {}", super::human_size(read), super::human_size(written)));
            row["PIDs"] = serde_json::json!(s.pids.current.to_string());
            rows.push(row);
        }
        if !a.no_stream {
            print!("\x1b[2J\x1b[H");
        }
        super::format::print(&format, &rows, &title)?;
        if a.no_stream {
            return Ok(0);
        }
    }
}

fn title(field: &str) -> String {
    match field {
        "ID" => "CONTAINER ID",
        "Container" => "CONTAINER",
        "CPUPerc" => "CPU %",
        "MemUsage" => "MEM USAGE / LIMIT",
        "MemPerc" => "MEM %",
        "NetIO" => "NET I/O",
        "BlockIO" => "BLOCK I/O",
        "PIDs" => "PIDS",
        other => return other.to_uppercase(),
    }
    .to_string()
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
