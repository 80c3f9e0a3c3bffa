//! `hull image default`: Hull's offline default image.

use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The static busybox to build from.
    #[arg(long, default_value = "/bin/busybox")]
    busybox: PathBuf,
}

pub fn run(root: &Path, a: Args) -> anyhow::Result<()> {
    let img = super::open(root)?.build_default(&a.busybox)?;
    println!("{} {}", img.reference.map(|r| r.to_string()).unwrap_or_default(), img.id);
    Ok(())
}
