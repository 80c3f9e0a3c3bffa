//! `state`.

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Container id.
    id: String,
}

pub fn run(rt: &hull_runtime::Runtime, a: Args) -> anyhow::Result<i32> {
    let state = rt.state(&a.id)?;
    println!("{}", serde_json::to_string_pretty(&state)?);
    Ok(0)
}
