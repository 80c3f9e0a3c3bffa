//! `hull events`: the engine's events as docker prints them, past ones
//! from `--since`, then live ones until `--until` (or for ever).

use hull_engine::events::EventFilter;
use hull_engine::Engine;
use hull_shim::events::Event;
use std::io::Write;

/// `hull events`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Show events created since timestamp (RFC 3339, a date, unix seconds, or relative like 10m).
    #[arg(long)]
    since: Option<String>,
    /// Stream events until this timestamp.
    #[arg(long)]
    until: Option<String>,
    /// Filter output (type=, event=, container=, image=, label=, network=, volume=).
    #[arg(short = 'f', long)]
    filter: Vec<String>,
    /// Format output: json or a Go template ({{json .}}, {{.Action}}, ...).
    #[arg(long)]
    format: Option<String>,
}

/// A time flag as nanoseconds since the epoch.
fn nanos(flag: &str, s: &str) -> anyhow::Result<i64> {
    Ok(hull_engine::time::parse_arg(flag, s, hull_shim::events::now_nanos())?)
}

/// docker's line: time, type, action, id, and the attributes in brackets.
fn line(e: &Event) -> String {
    let secs = e.time_nano.div_euclid(1_000_000_000);
    let ns = e.time_nano.rem_euclid(1_000_000_000);
    let at = hull_shim::config::rfc3339(secs, ns as u32);
    let attrs: Vec<String> = e.actor.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let tail = if attrs.is_empty() { String::new() } else { format!(" ({})", attrs.join(", ")) };
    format!("{at} {} {} {}{tail}", e.typ, e.action, e.actor.id)
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    let since = a.since.as_deref().map(|s| nanos("--since", s)).transpose()?;
    let until = a.until.as_deref().map(|s| nanos("--until", s)).transpose()?;
    let filter = EventFilter::parse(&a.filter)?;
    // `json` parses to no template: each event as its JSON line.
    let template = a.format.as_deref().map(super::format::Template::parse).transpose()?;
    let mut out = std::io::stdout();
    let mut failed = None;
    engine.events(since, until, &filter, &mut |e| {
        let text = match &template {
            None => Ok(line(e)),
            Some(None) => serde_json::to_string(e).map_err(anyhow::Error::from),
            Some(Some(t)) => t.render(&serde_json::to_value(e).unwrap_or_default()),
        };
        match text {
            Ok(t) => writeln!(out, "{t}").and_then(|()| out.flush()).is_ok(),
            Err(err) => {
                failed = Some(err);
                false
            }
        }
    })?;
    match failed {
        Some(e) => Err(e),
        None => Ok(0),
    }
}
