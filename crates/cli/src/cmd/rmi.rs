//! `hull rmi`.

use hull_engine::image::ImageDeleted;

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

pub fn run(engine: &hull_engine::Engine, a: Args) -> anyhow::Result<()> {
    let mut failed = false;
    for name in &a.images {
        match engine.remove_image(name, a.force) {
            Ok(done) => {
                for d in done {
                    match d {
                        ImageDeleted::Untagged(t) => println!("Untagged: {t}"),
                        ImageDeleted::Deleted(id) => println!("Deleted: {id}"),
                    }
                }
            }
            Err(e) => {
                eprintln!("Error: {e}");
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
    Ok(())
}
