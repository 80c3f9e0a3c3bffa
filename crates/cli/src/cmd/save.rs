//! `hull save` (`image save`): a docker archive to a file or stdout, or an OCI layout.

use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Destination: a docker archive file, or oci:DIR; stdout when absent.
    #[arg(short, long)]
    output: Option<String>,
    /// Images (one for oci:DIR).
    #[arg(required = true)]
    images: Vec<String>,
}

pub fn run(root: &Path, a: Args) -> anyhow::Result<()> {
    let images = super::open(root)?;
    let Some(output) = a.output.as_deref() else {
        if super::is_a_terminal(1) {
            anyhow::bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
        }
        let spool = tempfile::Builder::new().prefix(".save-").tempdir_in(root)?;
        let file = spool.path().join("archive.tar");
        images.save_archive(&a.images, &file)?;
        std::io::copy(&mut std::fs::File::open(&file)?, &mut std::io::stdout().lock())?;
        return Ok(());
    };
    if !output.starts_with("oci:") {
        let path = output.strip_prefix("docker-archive:").unwrap_or(output);
        images.save_archive(&a.images, Path::new(path))?;
        return Ok(());
    }
    let (dir, _) = super::load::parse_oci(output)?;
    anyhow::ensure!(a.images.len() == 1, "an OCI layout takes one image per save");
    images.save_layout(&a.images[0], &dir)?;
    Ok(())
}
