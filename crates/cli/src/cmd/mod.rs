//! One module per subcommand.

pub mod attach;
pub mod build;
pub mod commit;
pub mod container_flags;
pub mod container_inspect;
pub mod cp;
pub mod default_image;
pub mod detach_keys;
pub mod engine;
pub mod events;
pub mod exec;
pub mod format;
pub mod images;
pub mod inspect;
pub mod lifecycle;
pub mod load;
pub mod logs;
pub mod mount;
pub mod network;
pub mod progress;
pub mod prune;
pub mod ps;
pub mod registry;
pub mod rmi;
pub mod run;
pub mod save;
pub mod stats;
pub mod system;
pub mod tag;
pub mod template;
pub mod top;
pub mod update;
pub mod usage_error;
pub mod volume;

use hull_image::images::Images;
use std::path::Path;

/// Opens the image store under `root`.
pub fn open(root: &Path) -> anyhow::Result<Images> {
    Ok(Images::open(root)?)
}

/// Whether our descriptor `fd` is a terminal (stdin for `-it`, stdout for `save`).
pub fn is_a_terminal(fd: i32) -> bool {
    nix::unistd::isatty(fd).unwrap_or(false)
}

/// Whether our stdin is a terminal (what `-it` needs).
pub fn stdin_is_a_terminal() -> bool {
    is_a_terminal(0)
}

/// docker's confirmation of a prune: the warning, then `[y/N]` read from
/// stdin (a line; EOF is no).
pub fn confirm(warning: &str) -> bool {
    use std::io::Write;
    print!("WARNING! {warning}\nAre you sure you want to continue? [y/N] ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

/// A `--filter KEY=VALUE` of a list verb, checked against the keys it takes.
pub fn parse_filter(f: &str, keys: &[&str]) -> anyhow::Result<(String, String)> {
    match f.split_once('=') {
        Some((k, v)) if keys.contains(&k) => Ok((k.to_string(), v.to_string())),
        Some((k, _)) => anyhow::bail!("invalid filter {k:?}: filters are {}", keys.join(", ")),
        None => anyhow::bail!("invalid filter {f:?}: want KEY=VALUE"),
    }
}

/// `label=KEY` or `label=KEY=VALUE` against a set of labels.
pub fn label_matches(labels: &std::collections::BTreeMap<String, String>, want: &str) -> bool {
    match want.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(want),
    }
}

/// `dangling=true|false`.
pub fn parse_bool_filter(key: &str, v: &str) -> anyhow::Result<bool> {
    match v {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => anyhow::bail!("invalid filter '{key}={v}': want true or false"),
    }
}

pub use hull_engine::usage::dir_size;

/// The ids of the images containers use (kept by image prune).
pub fn images_in_use(engine: &hull_engine::Engine) -> anyhow::Result<std::collections::BTreeSet<String>> {
    Ok(engine.list()?.into_iter().map(|c| c.config.image_id).collect())
}

/// docker's refusal of `-it` without a terminal: at once, status 1, nothing created.
pub fn not_a_tty() -> i32 {
    eprintln!("the input device is not a TTY");
    1
}

pub fn human_size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < units.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        return format!("{bytes}B");
    }
    // Three significant digits, as docker's HumanSize.
    let decimals = if v >= 100.0 {
        0
    } else if v >= 10.0 {
        1
    } else {
        2
    };
    let num = format!("{v:.decimals$}");
    let num = if num.contains('.') { num.trim_end_matches('0').trim_end_matches('.').to_string() } else { num };
    format!("{num}{}", units[i])
}

/// "3 hours ago" from an RFC 3339 time.
pub fn ago(rfc3339: &str) -> String {
    let Some(secs) = parse_time(rfc3339) else { return "N/A".into() };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    let d = (now - secs).max(0);
    let (n, unit) = match d {
        0..=59 => (d, "second"),
        60..=3599 => (d / 60, "minute"),
        3600..=86_399 => (d / 3600, "hour"),
        86_400..=1_209_599 => (d / 86_400, "day"),
        1_209_600..=5_183_999 => (d / 604_800, "week"),
        5_184_000..=63_071_999 => (d / 2_592_000, "month"),
        _ => (d / 31_536_000, "year"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// An RFC 3339 time in seconds since the epoch.
pub fn parse_time(s: &str) -> Option<i64> {
    hull_engine::time::rfc3339_secs(s)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats() {
        assert_eq!(super::human_size(999), "999B");
        assert_eq!(super::human_size(4_260_000), "4.26MB");
        assert_eq!(super::parse_time("1970-01-02T00:00:00Z"), Some(86_400));
        assert!(super::ago("1970-01-01T00:00:00Z").ends_with("years ago"));
    }
}
