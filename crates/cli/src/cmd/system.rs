//! `hull info`, `hull version`, `hull system df`, `hull system prune`.

use hull_engine::{Engine, Status};

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

/// `SIZE (PERCENT%)` of what could go.
fn reclaimable(part: u64, total: u64) -> String {
    match total {
        0 => super::human_size(part),
        t => format!("{} ({}%)", super::human_size(part), part * 100 / t),
    }
}

/// `hull system df`: shared layers counted once; ACTIVE are the images
/// containers use, the running containers and the volumes in use;
/// RECLAIMABLE what a prune of the rest would free, as docker shows it.
pub fn df(engine: &Engine) -> anyhow::Result<i32> {
    let u = engine.disk_usage()?;
    let (img_size, img_used) = (u.layers_size, u.layers_in_use);
    let active_images = u.images.iter().filter(|i| i.containers > 0).count();
    let ids = &u.images;
    let containers = &u.containers;
    let ctr_size: u64 = containers.iter().map(|(_, rw)| rw).sum();
    let ctr_idle: u64 = containers.iter().filter(|(c, _)| !c.state.status.is_live()).map(|(_, rw)| rw).sum();
    let active = containers.iter().filter(|(c, _)| c.state.status.is_live()).count();
    let vols = &u.volumes;
    let vol_size: u64 = vols.iter().map(|v| v.size).sum();
    let vol_idle: u64 = vols.iter().filter(|v| v.ref_count == 0).map(|v| v.size).sum();
    let vol_active = vols.iter().filter(|v| v.ref_count > 0).count();
    let lines = vec![
        "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE".to_string(),
        format!(
            "Images\t{}\t{active_images}\t{}\t{}",
            ids.len(),
            super::human_size(img_size),
            reclaimable(img_size - img_used, img_size)
        ),
        format!(
            "Containers\t{}\t{active}\t{}\t{}",
            containers.len(),
            super::human_size(ctr_size),
            reclaimable(ctr_idle, ctr_size)
        ),
        format!(
            "Local Volumes\t{}\t{vol_active}\t{}\t{}",
            vols.len(),
            super::human_size(vol_size),
            reclaimable(vol_idle, vol_size)
        ),
        {
            let cache = engine.build_cache_usage();
            let size: u64 = cache.iter().map(|c| c.size).sum();
            format!("Build Cache\t{}\t0\t{}\t{}", cache.len(), super::human_size(size), super::human_size(size))
        },
    ];
    super::format::print_table(&lines);
    Ok(0)
}

/// `hull system prune`.
#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation.
    #[arg(short = 'f', long)]
    force: bool,
    /// Also remove unused volumes.
    #[arg(long)]
    volumes: bool,
}

pub fn prune(engine: &Engine, a: PruneArgs) -> anyhow::Result<i32> {
    let volumes = if a.volumes { "  - all anonymous volumes not used by at least one container\n" } else { "" };
    let warning = format!(
        "This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n{volumes}  - all dangling images\n  - unused build cache\n"
    );
    if !a.force && !super::confirm(&warning) {
        return Ok(0);
    }
    let list = |title: &str, items: &[String]| {
        if !items.is_empty() {
            println!("{title}:");
            items.iter().for_each(|i| println!("{i}"));
            println!();
        }
    };
    list("Deleted Containers", &engine.prune()?);
    list("Deleted Networks", &engine.network_prune()?);
    if a.volumes {
        list("Deleted Volumes", &engine.volume_prune()?);
    }
    let (blobs, bytes, layers) = engine.images().prune(&super::images_in_use(engine)?)?;
    if blobs + layers > 0 {
        println!("Deleted {blobs} blobs and {layers} unpacked layers\n");
    }
    println!("Total reclaimed space: {}", super::human_size(bytes));
    Ok(0)
}
