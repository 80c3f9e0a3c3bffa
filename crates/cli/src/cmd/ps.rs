//! `hull ps`: containers as docker lists them.

use hull_engine::{Container, Engine};
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
    /// Display total file sizes.
    #[arg(short = 's', long)]
    size: bool,
}

pub use hull_engine::inspect::{human_duration, since};

/// The COMMAND column as docker writes it: the path, then the arguments,
/// those holding a space in single quotes; cut to 20 characters; then
/// quoted as Go's strconv.Quote does.
pub fn command_text(command: &[String], trunc: bool) -> String {
    let mut cmd = command
        .iter()
        .enumerate()
        .map(|(i, a)| if i > 0 && a.contains(' ') { format!("'{a}'") } else { a.clone() })
        .collect::<Vec<_>>()
        .join(" ");
    if trunc && cmd.chars().count() > 20 {
        cmd = format!("{}…", cmd.chars().take(19).collect::<String>());
    }
    let mut quoted = String::from("\"");
    for ch in cmd.chars() {
        match ch {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            c if c.is_control() => quoted.push_str(&format!("\\x{:02x}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// docker's CreatedAt: Go's time.String() (`2006-01-02 15:04:05 -0700 MST`), in UTC.
pub fn created_at(rfc3339: &str) -> String {
    hull_engine::time::go_string(rfc3339)
}

fn row(c: &Container, trunc: bool) -> Value {
    let cmd = command_text(&c.config.command, trunc);
    let labels = c.config.labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    json!({
        "ID": if trunc { c.short_id().to_string() } else { c.id.clone() },
        "Image": c.config.image,
        "Command": cmd,
        "CreatedAt": created_at(&c.created),
        "RunningFor": format!("{} ago", human_duration(since(&c.created))),
        "Ports": c
            .state
            .ports
            .iter()
            .map(|p| format!("{}:{}->{}", if p.host_ip.is_empty() { "0.0.0.0" } else { &p.host_ip }, p.host_port, p.key()))
            .collect::<Vec<_>>()
            .join(", "),
        "State": c.state.status.as_str(),
        "Names": c.name,
        "Labels": labels,
        "Mounts": c.config.mounts.iter().map(|m| m.source.clone()).collect::<Vec<_>>().join(","),
        "Networks": if c.config.networks.is_empty() {
            c.config.network.to_string()
        } else {
            c.config.networks.iter().map(|a| a.network.as_str()).collect::<Vec<_>>().join(",")
        },
    })
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    let filters = hull_engine::filters::Filters::parse(&a.filter, hull_engine::filters::CONTAINER_KEYS)?;
    let limit = if a.latest { Some(1) } else { a.last };
    let opts = hull_engine::filters::ListOptions { all: a.all, limit, filters };
    let shown = engine.list_containers(&opts)?;
    let mut rows: Vec<Value> = shown.iter().map(|c| row(c, !a.no_trunc)).collect();
    // docker's `(healthy)`, `(unhealthy)`, `(health: starting)` after Up.
    for (r, c) in rows.iter_mut().zip(&shown) {
        r["Status"] = json!(engine.status_text(c));
    }
    if a.size {
        for (r, c) in rows.iter_mut().zip(&shown) {
            r["Size"] = json!(size_text(engine, c));
        }
    }
    if a.quiet {
        for r in &rows {
            println!("{}", r["ID"].as_str().unwrap_or_default());
        }
        return Ok(0);
    }
    let default = if a.size {
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}\t{{.Size}}"
    } else {
        "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
    };
    let format = match a.format {
        None => default.to_string(),
        Some(f) if f == "table" => default.to_string(),
        Some(f) => f,
    };
    super::format::print(&format, &rows, &title)?;
    Ok(0)
}

/// docker's SIZE column: what the container wrote, and with its image.
fn size_text(engine: &Engine, c: &Container) -> String {
    let rw = super::dir_size(&engine.container_dir(&c.id).join("upper"));
    let images = engine.images();
    let image = images
        .resolve(&c.config.image_id)
        .map(|i| images.chain_ids(&i).iter().filter_map(|l| images.snapshots.unpacked_size(l)).sum::<u64>())
        .unwrap_or(0);
    format!("{} (virtual {})", super::human_size(rw), super::human_size(rw + image))
}

fn title(field: &str) -> String {
    match field {
        "ID" => "CONTAINER ID".into(),
        "RunningFor" => "CREATED".into(),
        "CreatedAt" => "CREATED AT".into(),
        other => other.to_uppercase(),
    }
}
