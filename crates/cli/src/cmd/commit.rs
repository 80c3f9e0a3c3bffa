//! Images from containers and tarballs, and what they are made of:
//! `hull commit`, `diff`, `export`, `import` and `history`.

use hull_engine::{CommitOptions, Engine};

/// `hull commit`.
#[derive(Debug, clap::Args)]
pub struct CommitArgs {
    /// Author (e.g. "Jane Doe <jane@example.com>").
    #[arg(short, long)]
    author: Option<String>,
    /// Apply Dockerfile instructions to the image (CMD, ENV, LABEL, ...).
    #[arg(short, long = "change")]
    change: Vec<String>,
    /// Commit message.
    #[arg(short, long)]
    message: Option<String>,
    /// Pause the container during commit.
    #[arg(short, long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pause: bool,
    /// The container.
    container: String,
    /// REPOSITORY[:TAG] of the new image.
    reference: Option<String>,
}

pub fn commit(engine: &Engine, a: CommitArgs) -> anyhow::Result<i32> {
    let img = engine.commit(
        &a.container,
        CommitOptions {
            reference: a.reference,
            author: a.author,
            comment: a.message,
            changes: a.change,
            pause: a.pause,
            ..Default::default()
        },
    )?;
    println!("{}", img.id);
    Ok(0)
}

/// `hull diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The container.
    container: String,
}

pub fn diff(engine: &Engine, a: DiffArgs) -> anyhow::Result<i32> {
    for c in engine.changes(&a.container)? {
        println!("{} {}", c.kind.letter(), c.path);
    }
    Ok(0)
}

/// `hull export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Write to a file, instead of stdout.
    #[arg(short, long)]
    output: Option<std::path::PathBuf>,
    /// The container.
    container: String,
}

pub fn export(engine: &Engine, a: ExportArgs) -> anyhow::Result<i32> {
    match &a.output {
        Some(path) => {
            // Written beside its place, then renamed: a failed export leaves no half tar.
            let tmp = path.with_file_name(format!(
                ".{}.part",
                path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
            ));
            let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            let r = engine.export(&a.container, &mut f).map_err(anyhow::Error::from).and_then(|()| {
                std::io::Write::flush(&mut f)?;
                Ok(())
            });
            drop(f);
            if let Err(e) = r {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
            std::fs::rename(&tmp, path)?;
        }
        None => {
            if super::is_a_terminal(1) {
                anyhow::bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
            }
            let mut out = std::io::stdout().lock();
            engine.export(&a.container, &mut out)?;
        }
    }
    Ok(0)
}

/// `hull import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Apply Dockerfile instructions to the image (CMD, ENV, LABEL, ...).
    #[arg(short, long = "change")]
    change: Vec<String>,
    /// Commit message.
    #[arg(short, long)]
    message: Option<String>,
    /// A tar file (plain, gzip or zstd), or - for stdin.
    file: String,
    /// REPOSITORY[:TAG] of the new image.
    reference: Option<String>,
}

pub fn import(engine: &Engine, a: ImportArgs) -> anyhow::Result<i32> {
    let img = if a.file == "-" {
        engine.import(&mut std::io::stdin().lock(), a.reference.as_deref(), &a.change, a.message.as_deref())?
    } else {
        let mut f = std::fs::File::open(&a.file).map_err(|e| anyhow::anyhow!("open {}: {e}", a.file))?;
        engine.import(&mut f, a.reference.as_deref(), &a.change, a.message.as_deref())?
    };
    println!("{}", img.id);
    Ok(0)
}

/// `hull history`.
#[derive(Debug, clap::Args)]
pub struct HistoryArgs {
    /// Show the full instructions.
    #[arg(long)]
    no_trunc: bool,
    /// Only the image ids.
    #[arg(short, long)]
    quiet: bool,
    /// The image.
    image: String,
}

pub fn history(engine: &Engine, a: HistoryArgs) -> anyhow::Result<i32> {
    let rows = engine.history(&a.image)?;
    if a.quiet {
        for r in &rows {
            println!("{}", if a.no_trunc { r.id.clone() } else { short_id(&r.id) });
        }
        return Ok(0);
    }
    println!("{:<14}{:<20}{:<47}{:<10}COMMENT", "IMAGE", "CREATED", "CREATED BY", "SIZE");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    for r in &rows {
        let by = if a.no_trunc || r.created_by.chars().count() <= 45 {
            r.created_by.clone()
        } else {
            format!("{}…", r.created_by.chars().take(44).collect::<String>())
        };
        let created = if r.created == 0 {
            "N/A".to_string()
        } else {
            format!("{} ago", hull_engine::inspect::human_duration(now - r.created))
        };
        println!(
            "{:<14}{:<20}{:<47}{:<10}{}",
            if a.no_trunc { r.id.clone() } else { short_id(&r.id) },
            created,
            by,
            super::human_size(r.size),
            r.comment
        );
    }
    Ok(0)
}

fn short_id(id: &str) -> String {
    match id.strip_prefix("sha256:") {
        Some(hex) => hex.chars().take(12).collect(),
        None => id.to_string(),
    }
}
