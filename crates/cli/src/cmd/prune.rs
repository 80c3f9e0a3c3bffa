//! `hull image prune`.

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Do not prompt for confirmation.
    #[arg(short, long)]
    force: bool,
}

pub fn run(engine: &hull_engine::Engine, a: Args) -> anyhow::Result<()> {
    if !a.force && !super::confirm("This will remove all dangling images.") {
        return Ok(());
    }
    let (blobs, bytes, layers) = engine.images().prune(&super::images_in_use(engine)?)?;
    println!("Deleted {blobs} blobs and {layers} unpacked layers");
    println!("Total reclaimed space: {}", super::human_size(bytes));
    Ok(())
}
