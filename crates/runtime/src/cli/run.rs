//! `run`.

use hull_runtime::RunOutcome;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Container id.
    id: String,
    /// Bundle directory (holding config.json).
    #[arg(short, long, default_value = ".")]
    bundle: PathBuf,
    /// File to write the container init's pid to.
    #[arg(long)]
    pid_file: Option<PathBuf>,
    /// Unix socket to receive the terminal's master fd (with process.terminal).
    #[arg(long)]
    console_socket: Option<PathBuf>,
    /// Return once the container started.
    #[arg(short, long)]
    detach: bool,
    /// Keep the container's state after it exits.
    #[arg(long)]
    keep: bool,
    /// Accepted for runc compatibility (hull-runtime is the init's parent anyway).
    #[arg(long)]
    no_subreaper: bool,
    /// Use MS_MOVE and chroot instead of pivot_root.
    #[arg(long)]
    no_pivot: bool,
    /// Do not create a new session keyring for the container.
    #[arg(long)]
    no_new_keyring: bool,
    /// Pass N more file descriptors (from 3) to the container.
    #[arg(long, default_value_t = 0)]
    preserve_fds: u32,
}

pub fn run(rt: &hull_runtime::Runtime, a: Args, log: &super::log::Logger) -> anyhow::Result<i32> {
    let _ = a.no_subreaper;
    let opts = hull_runtime::CreateOptions {
        id: a.id.clone(),
        bundle: a.bundle.clone(),
        pid_file: a.pid_file.clone(),
        no_pivot: a.no_pivot,
        new_keyring: !a.no_new_keyring,
        preserve_fds: a.preserve_fds,
        console_socket: a.console_socket.clone(),
        listen_fds: super::socket_activation_fds(),
        attach_terminal: !a.detach,
    };
    let (outcome, warnings) = rt.run(&opts, a.detach, a.keep)?;
    for w in warnings {
        log.warn(&w);
    }
    Ok(match outcome {
        RunOutcome::Detached => 0,
        RunOutcome::Exited(code) => code,
    })
}
