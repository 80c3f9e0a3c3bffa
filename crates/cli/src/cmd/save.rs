//! `hull image save`.

use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Destination: oci:DIR.
    #[arg(short, long)]
    output: String,
    /// Image.
    image: String,
}

pub fn run(root: &Path, a: Args) -> anyhow::Result<()> {
    let (dir, _) = super::load::parse_oci(&a.output)?;
    std::fs::create_dir_all(&dir)?;
    super::open(root)?.save_layout(&a.image, &dir)?;
    Ok(())
}
