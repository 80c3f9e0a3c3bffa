//! `features`: what this runtime supports, as the spec's JSON document.

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_: Args) -> anyhow::Result<i32> {
    println!("{}", serde_json::to_string_pretty(&hull_runtime::features::document())?);
    Ok(0)
}
