//! `list`.

/// Writes a line to stdout; a closed pipe (`list | head`) is not an error.
/// (The runtime keeps SIGPIPE ignored: a foreground `run` must outlive a
/// reader that goes away.)
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(short, long, default_value = "table", value_parser = ["table", "json"])]
    format: String,
    /// Print only the container ids.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(rt: &hull_runtime::Runtime, a: Args) -> anyhow::Result<i32> {
    let list = rt.list()?;
    if a.quiet {
        list.iter().for_each(|c| out!("{}", c.id));
    } else if a.format == "json" {
        out!("{}", serde_json::to_string(&list)?);
    } else {
        out!("{:<12} {:<10} {:<10} {:<40} {:<31} OWNER", "ID", "PID", "STATUS", "BUNDLE", "CREATED");
        for c in &list {
            out!(
                "{:<12} {:<10} {:<10} {:<40} {:<31} {}",
                c.id,
                c.pid,
                c.status,
                c.bundle.display(),
                c.created,
                c.owner
            );
        }
    }
    Ok(0)
}
