//! `events`: stats every interval and OOM notifications, as JSON lines.

use anyhow::{bail, Context};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use std::os::fd::AsFd;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Container id.
    id: String,
    /// Print one stats event and exit.
    #[arg(long)]
    stats: bool,
    /// Interval between stats events (e.g. 5s, 500ms, 1m).
    #[arg(long, default_value = "5s")]
    interval: String,
}

/// One event line, its keys in runc's order (type, id, data): tools read
/// the lines as they come.
#[derive(serde::Serialize)]
struct Event<'a, T: serde::Serialize> {
    #[serde(rename = "type")]
    typ: &'a str,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<T>,
}

fn line<T: serde::Serialize>(typ: &str, id: &str, data: Option<T>) -> String {
    serde_json::to_string(&Event { typ, id, data }).unwrap_or_default()
}

fn duration(s: &str) -> anyhow::Result<Duration> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len()));
    let n: f64 = num.parse().with_context(|| format!("--interval {s:?}: not a duration"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" | "" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => bail!("--interval {s:?}: unknown unit {unit:?} (ms, s, m, h)"),
    };
    if secs <= 0.0 {
        bail!("--interval {s:?}: must be positive");
    }
    Ok(Duration::from_secs_f64(secs))
}

pub fn run(rt: &hull_runtime::Runtime, a: Args) -> anyhow::Result<i32> {
    let interval = duration(&a.interval)?;
    let stats_event =
        |rt: &hull_runtime::Runtime| -> anyhow::Result<String> { Ok(line("stats", &a.id, Some(rt.stats(&a.id)?))) };
    if a.stats {
        println!("{}", stats_event(rt)?);
        return Ok(0);
    }
    let oom = rt.oom_eventfd(&a.id)?;
    // Without a v1 eventfd (cgroup v2), OOM kills are seen by their counter.
    let mut kills = rt.oom_kills(&a.id)?;
    let ms = u16::try_from(interval.as_millis()).unwrap_or(u16::MAX);
    loop {
        if rt.state(&a.id)?.status == "stopped" {
            return Ok(0);
        }
        let ready = match &oom {
            Some(fd) => {
                let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
                nix::poll::poll(&mut fds, PollTimeout::from(ms)).unwrap_or(0) > 0
            }
            None => {
                std::thread::sleep(interval);
                let now = rt.oom_kills(&a.id).unwrap_or(kills);
                let grew = now > kills;
                kills = now;
                grew
            }
        };
        if ready {
            let mut buf = [0u8; 8];
            if let Some(fd) = &oom {
                let _ = nix::unistd::read(std::os::fd::AsRawFd::as_raw_fd(fd), &mut buf);
            }
            println!("{}", line::<()>("oom", &a.id, None));
        } else {
            println!("{}", stats_event(rt)?);
        }
    }
}
