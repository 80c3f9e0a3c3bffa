//! `hull ps`: containers as docker lists them.

use hull_engine::{Container, Engine, Status};
use serde_json::{json, Value};

/// `hull ps`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show all containers (default shows just running).
    #[arg(short = 'a', long)]
    all: bool,
    /// Only display container IDs.
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Show n last created containers (includes all states).
    #[arg(short = 'n', long = "last")]
    last: Option<usize>,
    /// Show the latest created container (includes all states).
    #[arg(short = 'l', long)]
    latest: bool,
    /// Don't truncate output.
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// Filter output (status=, name=, id=, label=KEY[=VALUE], ancestor=, exited=, network=, volume=, publish=PORT[/PROTO], before=, since=).
    #[arg(short = 'f', long)]
    filter: Vec<String>,
    /// Format output: table, json, or a Go template.
    #[arg(long)]
    format: Option<String>,
}

/// docker's "Up 3 minutes" style durations.
pub fn human_duration(secs: i64) -> String {
    match secs {
        s if s < 1 => "Less than a second".into(),
        1 => "1 second".into(),
        s if s < 60 => format!("{s} seconds"),
        s if s < 120 => "About a minute".into(),
        s if s < 3600 => format!("{} minutes", s / 60),
        s if s < 7200 => "About an hour".into(),
        s if s < 48 * 3600 => format!("{} hours", s / 3600),
        s if s < 14 * 86_400 => format!("{} days", s / 86_400),
        s if s < 60 * 86_400 => format!("{} weeks", s / 604_800),
        s if s < 2 * 365 * 86_400 => format!("{} months", s / 2_592_000),
        s => format!("{} years", s / 31_536_000),
    }
}

fn since(t: &str) -> i64 {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    super::parse_time(t).map_or(0, |t| (now - t).max(0))
}

/// The STATUS column.
pub fn status_text(c: &Container) -> String {
    let s = &c.state;
    match s.status {
        Status::Created => "Created".into(),
        Status::Running => format!("Up {}", human_duration(since(&s.started_at))),
        Status::Paused => format!("Up {} (Paused)", human_duration(since(&s.started_at))),
        Status::Restarting => format!("Restarting ({}) {} ago", s.exit_code, human_duration(since(&s.finished_at))),
        Status::Exited => format!("Exited ({}) {} ago", s.exit_code, human_duration(since(&s.finished_at))),
        Status::Removing => "Removal In Progress".into(),
    }
}

fn row(c: &Container, trunc: bool) -> Value {
    let mut cmd = c
        .config
        .command
        .iter()
        .map(|a| if a.contains(' ') { format!("{a:?}") } else { a.clone() })
        .collect::<Vec<_>>()
        .join(" ");
    if trunc && cmd.chars().count() > 20 {
        cmd = format!("{}…", cmd.chars().take(19).collect::<String>());
    }
    let labels = c.config.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    json!({
        "ID": if trunc { c.short_id().to_string() } else { c.id.clone() },
        "Image": c.config.image,
        "Command": format!("\"{cmd}\""),
        "CreatedAt": c.created,
        "RunningFor": format!("{} ago", human_duration(since(&c.created))),
        "Ports": c
            .state
            .ports
            .iter()
            .map(|p| format!("{}:{}->{}", if p.host_ip.is_empty() { "0.0.0.0" } else { &p.host_ip }, p.host_port, p.key()))
            .collect::<Vec<_>>()
            .join(", "),
        "State": c.state.status.as_str(),
        "Status": status_text(c),
        "Names": c.name,
        "Labels": labels,
        "Mounts": c.config.mounts.iter().map(|m| m.source.clone()).collect::<Vec<_>>().join(","),
        "Networks": if c.config.networks.is_empty() {
            c.config.network.clone()
        } else {
            c.config.networks.iter().map(|a| a.network.as_str()).collect::<Vec<_>>().join(",")
        },
    })
}

const FILTERS: &[&str] =
    &["status", "name", "id", "label", "ancestor", "exited", "network", "volume", "publish", "before", "since"];

fn parse_filter(f: &str) -> anyhow::Result<(String, String)> {
    match f.split_once('=') {
        Some((k, v)) if FILTERS.contains(&k) => Ok((k.to_string(), v.to_string())),
        Some((k, _)) => anyhow::bail!("invalid filter {k:?}: Hull filters on {}", FILTERS.join(", ")),
        None => anyhow::bail!("invalid filter {f:?}: want KEY=VALUE"),
    }
}

/// The creation time of the container `key` names (for before=/since=),
/// as the RFC 3339 text with nanoseconds Hull writes: it orders as text,
/// finer than seconds.
fn created_of<'a>(list: &'a [Container], key: &str) -> anyhow::Result<&'a str> {
    let c = list
        .iter()
        .find(|c| c.name == key || c.id.starts_with(key))
        .ok_or_else(|| anyhow::anyhow!("No such container: {key}"))?;
    Ok(&c.created)
}

fn matches(c: &Container, filters: &[(String, String)], list: &[Container]) -> bool {
    let created = c.created.as_str();
    for (k, v) in filters {
        let ok = match k.as_str() {
            "network" => c.config.network == *v || c.config.networks.iter().any(|a| a.network == *v),
            "volume" => c.config.mounts.iter().any(|m| m.source == *v || m.target == *v),
            "publish" => {
                let (port, proto) = v.split_once('/').unwrap_or((v, "tcp"));
                c.state.ports.iter().any(|p| p.container_port.to_string() == port && p.protocol == proto)
            }
            "before" => created_of(list, v).is_ok_and(|t| created < t),
            "since" => created_of(list, v).is_ok_and(|t| created > t),
            "status" => c.state.status.as_str() == v,
            "name" => c.name.contains(v.as_str()),
            "id" => c.id.starts_with(v.as_str()),
            "label" => match v.split_once('=') {
                Some((lk, lv)) => c.config.labels.get(lk).is_some_and(|x| x == lv),
                None => c.config.labels.contains_key(v),
            },
            "ancestor" => c.config.image == *v || c.config.image_id.contains(v.as_str()),
            "exited" => c.state.status == Status::Exited && c.state.exit_code.to_string() == *v,
            _ => false, // parse_filter admits only the keys above
        };
        if !ok {
            return false;
        }
    }
    true
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    let filters: Vec<(String, String)> = a.filter.iter().map(|f| parse_filter(f)).collect::<anyhow::Result<_>>()?;
    let mut list = engine.list()?;
    list.reverse(); // newest first, as docker
    for (k, v) in filters.iter().filter(|(k, _)| k == "before" || k == "since") {
        created_of(&list, v).map_err(|e| anyhow::anyhow!("--filter {k}={v}: {e}"))?;
    }
    let last = if a.latest { Some(1) } else { a.last };
    let all = a.all || last.is_some() || filters.iter().any(|(k, _)| k == "status" || k == "exited");
    let mut shown = Vec::new();
    for c in &list {
        if (all || matches!(c.state.status, Status::Running | Status::Paused | Status::Restarting))
            && matches(c, &filters, &list)
        {
            shown.push(c.clone());
        }
    }
    if let Some(n) = last {
        shown.truncate(n);
    }
    let rows: Vec<Value> = shown.iter().map(|c| row(c, !a.no_trunc)).collect();
    if a.quiet {
        for r in &rows {
            println!("{}", r["ID"].as_str().unwrap_or_default());
        }
        return Ok(0);
    }
    let format = a.format.unwrap_or_else(|| {
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}".into()
    });
    let format = if format == "table" {
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}".to_string()
    } else {
        format
    };
    super::format::print(&format, &rows, &title)?;
    Ok(0)
}

fn title(field: &str) -> String {
    match field {
        "ID" => "CONTAINER ID".into(),
        "RunningFor" => "CREATED".into(),
        "CreatedAt" => "CREATED AT".into(),
        other => other.to_uppercase(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        assert_eq!(super::human_duration(0), "Less than a second");
        assert_eq!(super::human_duration(5), "5 seconds");
        assert_eq!(super::human_duration(90), "About a minute");
        assert_eq!(super::human_duration(3 * 3600), "3 hours");
    }
}
