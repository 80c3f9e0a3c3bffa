//! `hull rmi`.

use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Force removal: an image id's tags even when it has several; an
    /// image a container uses loses its name and stays as `<none>`.
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
        let id = images.resolve(name).ok().map(|i| i.id.to_string());
        let removed = in_use(engine, &images, name, a.force).and_then(|()| Ok(images.remove(name, a.force)?));
        match removed {
            Ok(tags) => {
                for t in &tags {
                    println!("Untagged: {t}");
                    super::emit_image(engine, "untag", t);
                }
                // Its last name went and nothing keeps it: the image is gone.
                if let Some(id) = id.filter(|id| images.resolve(id).is_err()) {
                    super::emit_image(engine, "delete", &id);
                }
            }
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

/// The last name of an image a container uses: docker refuses without -f;
/// with -f the name goes and the image stays, as a `<none>` image, until
/// no container uses it and a prune runs (so the container still starts).
fn in_use(
    engine: &hull_engine::Engine,
    images: &hull_image::images::Images,
    name: &str,
    force: bool,
) -> anyhow::Result<()> {
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
    if force {
        images.keep_unnamed(&img)?;
        return Ok(());
    }
    anyhow::bail!(
        "conflict: unable to remove repository reference \"{name}\" (must force) - container {} is using its referenced image {}",
        users.join(", "),
        &img.id.hex()[..12]
    )
}
