//! `kill`.

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Container id.
    id: String,
    /// Signal name or number.
    #[arg(default_value = "SIGTERM")]
    signal: String,
    /// Signal every process in the container's cgroup.
    #[arg(short, long)]
    all: bool,
}

pub fn run(rt: &hull_runtime::Runtime, a: Args) -> anyhow::Result<i32> {
    let sig = hull_runtime::parse_signal(&a.signal).map_err(anyhow::Error::msg)?;
    rt.kill(&a.id, sig, a.all)?;
    Ok(0)
}
