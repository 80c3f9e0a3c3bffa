//! `hull image save`.

use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Destination: a docker archive file, or oci:DIR.
    #[arg(short, long)]
    output: String,
    /// Images (one for oci:DIR).
    #[arg(required = true)]
    images: Vec<String>,
}

pub fn run(root: &Path, a: Args) -> anyhow::Result<()> {
    if !a.output.starts_with("oci:") {
        let path = a.output.strip_prefix("docker-archive:").unwrap_or(&a.output);
        super::open(root)?.save_archive(&a.images, Path::new(path))?;
        return Ok(());
    }
    let (dir, _) = super::load::parse_oci(&a.output)?;
    anyhow::ensure!(a.images.len() == 1, "an OCI layout takes one image per save");
    super::open(root)?.save_layout(&a.images[0], &dir)?;
    Ok(())
}
