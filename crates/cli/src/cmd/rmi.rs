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

pub fn run(engine: &hull_engine::Engine, root: &Path, a: Args) -> anyhow::Result<()> {
    let images = super::open(root)?;
    let mut failed = None;
    for name in &a.images {
        match in_use(engine, &images, name).and_then(|()| Ok(images.remove(name, a.force)?)) {
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

/// Refuses to remove the last name of an image a container uses (its
/// layers would go with the next prune). docker's -f would untag it anyway;
/// Hull keeps the container startable and says so.
fn in_use(engine: &hull_engine::Engine, images: &hull_image::images::Images, name: &str) -> anyhow::Result<()> {
    let Ok(img) = images.resolve(name) else { return Ok(()) }; // remove() reports it
    let id = img.id.to_string();
    let users: Vec<String> =
        engine.list()?.into_iter().filter(|c| c.config.image_id == id).map(|c| c.short_id().to_string()).collect();
    let tags = images.store.tags()?;
    let names = tags.values().filter(|d| **d == img.target).count();
    // By one of several tags: the others keep it. By id: every tag goes.
    let by_tag = name.parse::<hull_image::reference::Reference>().is_ok_and(|r| tags.contains_key(&r.to_string()));
    if users.is_empty() || (by_tag && names > 1) {
        return Ok(());
    }
    anyhow::bail!(
        "conflict: unable to remove image {name}: container {} is using it (remove the container first)",
        users.join(", ")
    )
}
