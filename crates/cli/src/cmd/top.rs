//! `hull top`: the container's processes, as `ps -f` shows them.

use hull_engine::Engine;

/// `hull top`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Container.
    container: String,
    /// ps options (default -f).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    ps_args: Vec<String>,
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    let pids = engine.top(&a.container)?;
    let list = pids.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
    let ps_args = if a.ps_args.is_empty() { vec!["-f".to_string()] } else { a.ps_args };
    let status = std::process::Command::new("ps").args(&ps_args).arg("-p").arg(&list).status()?;
    Ok(if status.success() { 0 } else { 1 })
}
