//! `hull image prune`.

use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Do not ask (there is nothing to ask yet: accepted for docker's fingers).
    #[arg(short, long)]
    force: bool,
}

pub fn run(root: &Path, a: Args) -> anyhow::Result<()> {
    let _ = a.force;
    let (blobs, bytes, layers) = super::open(root)?.prune()?;
    println!("Deleted {blobs} blobs and {layers} unpacked layers");
    println!("Total reclaimed space: {}", super::human_size(bytes));
    Ok(())
}
