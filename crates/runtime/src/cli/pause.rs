//! `pause` and `resume`.

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Container id.
    id: String,
}

pub fn pause(rt: &hull_runtime::Runtime, a: Args) -> anyhow::Result<i32> {
    rt.pause(&a.id)?;
    Ok(0)
}

pub fn resume(rt: &hull_runtime::Runtime, a: Args) -> anyhow::Result<i32> {
    rt.resume(&a.id)?;
    Ok(0)
}
