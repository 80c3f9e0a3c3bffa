//! `run`.

use hull_runtime::RunOutcome;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub flags: super::create::CreateFlags,
    /// Return once the container started.
    #[arg(short, long)]
    detach: bool,
    /// Keep the container's state after it exits.
    #[arg(long)]
    keep: bool,
    /// Accepted for runc compatibility (hull-runtime is the init's parent anyway).
    #[arg(long)]
    no_subreaper: bool,
}

pub fn run(rt: &hull_runtime::Runtime, a: Args, log: &super::log::Logger) -> anyhow::Result<i32> {
    let _ = a.no_subreaper;
    let (outcome, warnings) = rt.run(&a.flags.options(!a.detach), a.detach, a.keep)?;
    for w in warnings {
        log.warn(&w);
    }
    Ok(match outcome {
        RunOutcome::Detached => 0,
        RunOutcome::Exited(code) => code,
    })
}
