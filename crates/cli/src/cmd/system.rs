//! `hull info`, `hull version`, `hull system df`, `hull system prune`.

use hull_engine::{Engine, Status};
use std::path::Path;

fn dir_size(p: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(p) else { return 0 };
    if !meta.is_dir() {
        return meta.len();
    }
    std::fs::read_dir(p).map_or(0, |rd| rd.flatten().map(|e| dir_size(&e.path())).sum())
}

pub fn info(engine: &Engine) -> anyhow::Result<i32> {
    let list = engine.list()?;
    let count = |s: Status| list.iter().filter(|c| c.state.status == s).count();
    let cgroup_version = match hull_cgroups::Layout::detect().map(|l| l.mode) {
        Ok(hull_cgroups::Mode::Unified) => "2".to_string(),
        Ok(hull_cgroups::Mode::Hybrid) => "1 (hybrid: cgroup2 mounted beside)".to_string(),
        Ok(hull_cgroups::Mode::Legacy) => "1".to_string(),
        Err(e) => e.to_string(),
    };
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_string())))
        .unwrap_or_else(|| "unknown".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines().find_map(|l| l.strip_prefix("MemTotal:").map(|v| v.trim().trim_end_matches(" kB").to_string()))
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or_else(|| "unknown".into(), |kb| format!("{:.2}GiB", kb / 1024.0 / 1024.0));
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let host = nix::unistd::gethostname().map(|h| h.to_string_lossy().into_owned()).unwrap_or_default();
    println!("Client:\n Version:    {}\n Context:    default (daemonless)\n", env!("CARGO_PKG_VERSION"));
    println!("Server:");
    println!(" Containers: {}", list.len());
    println!("  Running: {}", count(Status::Running));
    println!("  Paused: {}", count(Status::Paused));
    println!("  Stopped: {}", count(Status::Exited) + count(Status::Created));
    println!(" Images: {}", engine.images().list()?.len());
    println!(" Server Version: {}", env!("CARGO_PKG_VERSION"));
    println!(" Storage Driver: overlay");
    println!(" Logging Driver: json-file");
    println!(" Cgroup Driver: cgroupfs");
    println!(" Cgroup Version: {cgroup_version}");
    println!(" Runtimes: hull-runtime");
    println!(" Default Runtime: hull-runtime");
    println!(
        " Kernel Version: {}",
        nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default()
    );
    println!(" Operating System: {os}");
    println!(" OSType: linux");
    println!(" Architecture: {}", std::env::consts::ARCH);
    println!(" CPUs: {cpus}");
    println!(" Total Memory: {memory}");
    println!(" Name: {host}");
    println!(" Hull Root Dir: {}", engine.config().root.display());
    println!(" Hull Run Dir: {}", engine.config().run_root.display());
    Ok(0)
}

/// The architecture as docker (Go) names it.
fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

pub fn version() -> anyhow::Result<i32> {
    println!("Client:\n Version:      {}\n OS/Arch:      linux/{}\n", env!("CARGO_PKG_VERSION"), go_arch());
    println!(
        "Engine:\n Version:      {}\n Runtime:      hull-runtime {}",
        env!("CARGO_PKG_VERSION"),
        env!("CARGO_PKG_VERSION")
    );
    Ok(0)
}

pub fn df(engine: &Engine) -> anyhow::Result<i32> {
    let images = engine.images().list()?;
    let containers = engine.list()?;
    let vols = engine.volume_list()?;
    let img_size: u64 = images.iter().map(|i| i.size).sum();
    let ctr_size: u64 = containers.iter().map(|c| dir_size(&engine.container_dir(&c.id).join("upper"))).sum();
    let vol_size: u64 = vols.iter().map(|v| dir_size(&v.mountpoint)).sum();
    let active = containers.iter().filter(|c| c.state.status.is_live()).count();
    let lines = vec![
        "TYPE\tTOTAL\tACTIVE\tSIZE".to_string(),
        format!("Images\t{}\t{}\t{}", images.len(), images.len().min(containers.len()), super::human_size(img_size)),
        format!("Containers\t{}\t{active}\t{}", containers.len(), super::human_size(ctr_size)),
        format!(
            "Local Volumes\t{}\t{}\t{}",
            vols.len(),
            vols.iter().filter(|v| !engine.volume_users(&v.name).unwrap_or_default().is_empty()).count(),
            super::human_size(vol_size)
        ),
    ];
    super::format::print_table(&lines);
    Ok(0)
}

/// `hull system prune`.
#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Do not prompt (Hull never prompts).
    #[arg(short = 'f', long)]
    force: bool,
    /// Also remove unused volumes.
    #[arg(long)]
    volumes: bool,
}

pub fn prune(engine: &Engine, a: PruneArgs) -> anyhow::Result<i32> {
    let _ = a.force;
    let gone = engine.prune()?;
    println!("Deleted Containers: {}", gone.len());
    if a.volumes {
        println!("Deleted Volumes: {}", engine.volume_prune()?.len());
    }
    let (blobs, bytes, layers) = engine.images().prune()?;
    println!("Deleted blobs: {blobs}, layers: {layers}\nTotal reclaimed space: {}", super::human_size(bytes));
    Ok(0)
}
