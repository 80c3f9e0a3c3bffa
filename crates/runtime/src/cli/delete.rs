//! `delete`.

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Container id.
    id: String,
    /// Kill the container first if it is still running.
    #[arg(short, long)]
    force: bool,
}

pub fn run(rt: &hull_runtime::Runtime, a: Args) -> anyhow::Result<i32> {
    match rt.delete(&a.id, a.force) {
        // runc: deleting a missing container with --force is not an error.
        Err(hull_runtime::RuntimeError::NotFound(_)) if a.force => Ok(0),
        other => other.map(|()| 0).map_err(Into::into),
    }
}
