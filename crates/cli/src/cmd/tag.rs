//! `hull tag`.

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Existing image.
    source: String,
    /// New name.
    target: String,
}

pub fn run(engine: &hull_engine::Engine, a: Args) -> anyhow::Result<()> {
    engine.tag_image(&a.source, &a.target)?;
    Ok(())
}
