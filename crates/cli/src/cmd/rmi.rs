//! `hull rmi`.

use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Remove an image id's tags even when it has several.
    #[arg(short, long)]
    force: bool,
    /// Images.
    #[arg(required = true)]
    images: Vec<String>,
}

pub fn run(root: &Path, a: Args) -> anyhow::Result<()> {
    let images = super::open(root)?;
    let mut failed = None;
    for name in &a.images {
        match images.remove(name, a.force) {
            Ok(tags) => tags.iter().for_each(|t| println!("Untagged: {t}")),
            Err(e) => {
                eprintln!("Error: {e}");
                failed = Some(e);
            }
        }
    }
    match failed {
        Some(_) => std::process::exit(1),
        None => Ok(()),
    }
}
