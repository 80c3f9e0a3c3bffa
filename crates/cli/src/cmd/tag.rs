//! `hull tag`.

use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Existing image.
    source: String,
    /// New name.
    target: String,
}

pub fn run(root: &Path, a: Args) -> anyhow::Result<()> {
    super::open(root)?.tag(&a.source, &a.target)?;
    Ok(())
}
