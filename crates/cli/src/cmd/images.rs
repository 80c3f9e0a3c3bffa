//! `hull images`.

use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only image ids.
    #[arg(short, long)]
    quiet: bool,
    /// Show manifest digests.
    #[arg(long)]
    digests: bool,
    /// Full ids.
    #[arg(long)]
    no_trunc: bool,
    /// `table` or `json`.
    #[arg(long, default_value = "table")]
    format: String,
}

pub fn run(root: &Path, a: Args) -> anyhow::Result<()> {
    let images = super::open(root)?;
    let list = images.list()?;
    let short = |id: &str| -> String {
        let hex = id.strip_prefix("sha256:").unwrap_or(id);
        if a.no_trunc {
            id.to_string()
        } else {
            hex.chars().take(12).collect()
        }
    };
    match (a.quiet, a.format.as_str()) {
        (true, _) => {
            let mut seen = Vec::new();
            for i in &list {
                let id = short(&i.id);
                if !seen.contains(&id) {
                    println!("{id}");
                    seen.push(id);
                }
            }
        }
        (false, "json") => {
            for i in &list {
                println!("{}", serde_json::to_string(i)?);
            }
        }
        (false, "table") => {
            let digest_col = if a.digests { format!("{:<72}", "DIGEST") } else { String::new() };
            println!("{:<40} {:<16} {digest_col}{:<14} {:<16} SIZE", "REPOSITORY", "TAG", "IMAGE ID", "CREATED");
            for i in &list {
                let digest = if a.digests { format!("{:<72}", i.digest) } else { String::new() };
                println!(
                    "{:<40} {:<16} {digest}{:<14} {:<16} {}",
                    i.repository,
                    i.tag,
                    short(&i.id),
                    super::ago(&i.created),
                    super::human_size(i.size)
                );
            }
        }
        (false, other) => anyhow::bail!("--format {other:?}: use table or json"),
    }
    Ok(())
}
