//! `spec`: write an example config.json.

use anyhow::{bail, Context};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Bundle directory to write config.json into.
    #[arg(short, long, default_value = ".")]
    bundle: PathBuf,
    /// Write a config for a rootless container of the calling user.
    #[arg(long)]
    rootless: bool,
}

pub fn run(a: Args) -> anyhow::Result<i32> {
    let path = a.bundle.join("config.json");
    if path.exists() {
        bail!("{}: file exists, remove it first", path.display());
    }
    let ids = a.rootless.then(|| (nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw()));
    let spec = hull_spec::Spec::example(ids);
    let text = serde_json::to_string_pretty(&spec)?;
    std::fs::write(&path, text + "\n").with_context(|| format!("write {}", path.display()))?;
    Ok(0)
}
