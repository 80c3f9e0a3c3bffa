//! `hull tag`.

use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Existing image.
    source: String,
    /// New name.
    target: String,
}

pub fn run(engine: &hull_engine::Engine, root: &Path, a: Args) -> anyhow::Result<()> {
    let r = super::open(root)?.tag(&a.source, &a.target)?;
    super::emit_image(engine, "tag", &r.to_string());
    Ok(())
}
