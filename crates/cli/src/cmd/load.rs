//! `hull image load`.

use anyhow::bail;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source: a tar archive (docker-archive or oci-archive, plain, gzip
    /// or zstd), docker-archive:FILE, or oci:DIR[:NAME]; stdin when absent.
    #[arg(short, long)]
    input: Option<String>,
    /// Name to give the image (default: the archive's, or the layout's under localhost/).
    #[arg(short, long)]
    tag: Option<String>,
    /// Suppress the load output.
    #[arg(short, long)]
    quiet: bool,
}

/// Splits `oci:DIR[:NAME]`.
pub fn parse_oci(spec: &str) -> anyhow::Result<(PathBuf, Option<String>)> {
    let Some(rest) = spec.strip_prefix("oci:") else {
        bail!("{spec:?}: only OCI layouts (oci:DIR[:NAME]) are supported yet");
    };
    Ok(match rest.rsplit_once(':') {
        Some((dir, name)) if !name.contains('/') => (PathBuf::from(dir), Some(name.to_string())),
        _ => (PathBuf::from(rest), None),
    })
}

pub fn run(engine: &hull_engine::Engine, a: Args) -> anyhow::Result<()> {
    let say = |t: &str| {
        if !a.quiet {
            println!("Loaded image: {t}");
        }
    };
    let input = a.input.clone().unwrap_or_else(|| "-".into());
    if input.starts_with("oci:") {
        let (dir, name) = parse_oci(&input)?;
        let tag = match (&a.tag, &name) {
            (Some(t), _) => t.clone(),
            (None, Some(n)) => format!(
                "localhost/{}:{n}",
                dir.file_name().map(|f| f.to_string_lossy().to_lowercase()).unwrap_or_default()
            ),
            (None, None) => bail!("{input}: name the image with --tag"),
        };
        say(&engine.load_layout(&dir, name.as_deref(), &tag)?);
        return Ok(());
    }
    let path = input.strip_prefix("docker-archive:").unwrap_or(&input);
    let mut src: Box<dyn std::io::Read> = if path == "-" {
        if super::stdin_is_a_terminal() {
            bail!("requested load from stdin, but stdin is empty (a terminal): use -i FILE or redirect");
        }
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(path).map_err(|e| anyhow::anyhow!("open {path}: {e}"))?)
    };
    for t in engine.load(&mut src, a.tag.as_deref())? {
        say(&t);
    }
    Ok(())
}
