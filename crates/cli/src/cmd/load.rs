//! `hull image load`.

use anyhow::bail;
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source: a docker archive file (docker save output), or oci:DIR[:NAME].
    #[arg(short, long)]
    input: String,
    /// Name to give the image (default: the layout's name, under localhost/).
    #[arg(short, long)]
    tag: Option<String>,
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

pub fn run(root: &Path, a: Args) -> anyhow::Result<()> {
    if !a.input.starts_with("oci:") {
        // docker-archive (`docker save` output), with or without the prefix.
        let path = a.input.strip_prefix("docker-archive:").unwrap_or(&a.input);
        let tags = super::open(root)?.load_archive(Path::new(path), a.tag.as_deref())?;
        for t in tags {
            println!("Loaded image: {t}");
        }
        return Ok(());
    }
    let (dir, name) = parse_oci(&a.input)?;
    let tag = match (&a.tag, &name) {
        (Some(t), _) => t.clone(),
        (None, Some(n)) => {
            format!("localhost/{}:{n}", dir.file_name().map(|f| f.to_string_lossy().to_lowercase()).unwrap_or_default())
        }
        (None, None) => bail!("{}: name the image with --tag", a.input),
    };
    let img = super::open(root)?.load_layout(&dir, name.as_deref(), &tag)?;
    println!("Loaded image: {}", img.reference.map(|r| r.to_string()).unwrap_or(tag));
    Ok(())
}
