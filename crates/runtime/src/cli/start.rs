//! `start`.

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Container id.
    id: String,
}

pub fn run(rt: &hull_runtime::Runtime, a: Args, log: &super::log::Logger) -> anyhow::Result<i32> {
    for w in rt.start(&a.id)? {
        log.warn(&w.to_string());
    }
    Ok(0)
}
