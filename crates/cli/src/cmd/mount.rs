//! `hull image mount` / `umount`: an image's filesystem, read-only, at a directory.

use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image.
    image: String,
    /// Where to mount it.
    target: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct UmountArgs {
    /// Mount point.
    target: PathBuf,
}

pub fn run(root: &Path, a: Args) -> anyhow::Result<()> {
    let images = super::open(root)?;
    let img = images.resolve(&a.image)?;
    let layers = images.layers(&img)?;
    hull_image::snapshot::mount_readonly(&layers, &a.target)?;
    println!("{}", a.target.display());
    Ok(())
}

pub fn umount(a: UmountArgs) -> anyhow::Result<()> {
    let st = std::process::Command::new("umount").arg(&a.target).status()?;
    anyhow::ensure!(st.success(), "umount {} failed", a.target.display());
    Ok(())
}
