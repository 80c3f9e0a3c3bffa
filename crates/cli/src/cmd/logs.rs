//! `hull logs`.

use hull_engine::{Engine, LogOptions};
use std::io::Write;

/// `hull logs`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Follow log output.
    #[arg(short = 'f', long)]
    follow: bool,
    /// Number of lines to show from the end of the logs ("all" for all).
    #[arg(short = 'n', long, default_value = "all")]
    tail: String,
    /// Show logs since a timestamp (RFC 3339, a date, date and time, or unix seconds) or relative (e.g. 42m).
    #[arg(long)]
    since: Option<String>,
    /// Show logs before a timestamp or relative time.
    #[arg(long)]
    until: Option<String>,
    /// Show timestamps.
    #[arg(short = 't', long)]
    timestamps: bool,
    /// Show extra details provided to logs (the labels and env --log-opt names).
    #[arg(long)]
    details: bool,
    /// Container.
    container: String,
}

/// A `--since`/`--until` value (docker's forms: see
/// `hull_engine::time::parse_arg`) as RFC 3339 in UTC, as the log's times are.
pub fn time_arg(flag: &str, s: &str) -> anyhow::Result<String> {
    let nanos = hull_engine::time::parse_arg(flag, s, hull_engine::time::now_nanos())?;
    Ok(hull_engine::time::format_nanos(nanos))
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    let tail = match a.tail.as_str() {
        "all" | "-1" => None,
        n => Some(n.parse().map_err(|_| anyhow::anyhow!("invalid --tail {n:?}: want a number or all"))?),
    };
    let opts = LogOptions {
        tail,
        since: a.since.as_deref().map(|s| time_arg("--since", s)).transpose()?,
        until: a.until.as_deref().map(|s| time_arg("--until", s)).transpose()?,
        follow: a.follow,
        cancel: None,
    };
    // docker's details: the attributes, comma-separated, then a space.
    let details =
        if a.details { format!("{} ", log_attributes(&engine.get(&a.container)?.config)) } else { String::new() };
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    engine.logs(&a.container, &opts, &mut |e| {
        let text = if a.timestamps { format!("{} {details}{}", e.time, e.log) } else { format!("{details}{}", e.log) };
        let w: &mut dyn Write = if e.stream == "stderr" { &mut err } else { &mut out };
        w.write_all(text.as_bytes()).and_then(|()| w.flush()).is_ok()
    })?;
    Ok(0)
}

/// The `--log-opt labels=` and `env=` attributes: `key=value` of each named
/// label and variable the container has, sorted, as docker attaches them.
fn log_attributes(cfg: &hull_engine::ContainerConfig) -> String {
    let mut attrs: Vec<String> = cfg
        .log_labels
        .iter()
        .filter_map(|k| cfg.labels.get(k).map(|v| format!("{k}={v}")))
        .chain(cfg.log_env.iter().filter_map(|k| {
            cfg.env.iter().rev().find_map(|e| e.strip_prefix(&format!("{k}="))).map(|v| format!("{k}={v}"))
        }))
        .collect();
    attrs.sort();
    attrs.join(",")
}

#[cfg(test)]
mod tests {
    use super::time_arg;

    #[test]
    fn since_takes_dockers_short_forms() {
        assert_eq!(time_arg("--since", "2026-12-01T10:30:05+01:00").unwrap(), "2026-12-01T09:30:05.000000000Z");
        assert_eq!(time_arg("--since", "0").unwrap(), "1970-01-01T00:00:00.000000000Z");
        assert!(time_arg("--since", "2026-13").is_err());
        assert!(time_arg("--since", "yesterday").is_err());
    }
}
