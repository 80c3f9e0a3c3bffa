//! `hull exec`: a process in a running container, run from this process.

use hull_engine::{Engine, ExecRequest};

/// `hull exec`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Detached mode: run command in the background.
    #[arg(short = 'd', long)]
    detach: bool,
    /// Keep STDIN open.
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Allocate a pseudo-TTY.
    #[arg(short = 't', long)]
    tty: bool,
    /// Set environment variables.
    #[arg(short = 'e', long = "env")]
    env: Vec<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>]).
    #[arg(short = 'u', long)]
    user: Option<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long)]
    workdir: Option<String>,
    /// Give extended privileges to the command.
    #[arg(long)]
    privileged: bool,
    /// The container, then the command and its arguments. Options end at
    /// the container, as in docker (`exec C ls -l` passes -l to ls).
    #[arg(value_name = "CONTAINER COMMAND [ARG...]", required = true, num_args = 2.., trailing_var_arg = true)]
    container_and_command: Vec<String>,
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    if !a.detach && a.tty && a.interactive && !super::stdin_is_a_terminal() {
        return Ok(super::not_a_tty());
    }
    if !a.interactive || a.detach {
        // docker gives a non-interactive process an empty stdin.
        let null = std::fs::File::open("/dev/null")?;
        nix::unistd::dup2(std::os::fd::AsRawFd::as_raw_fd(&null), 0)?;
    }
    let env = a
        .env
        .iter()
        .filter_map(
            |e| if e.contains('=') { Some(e.clone()) } else { std::env::var(e).ok().map(|v| format!("{e}={v}")) },
        )
        .collect();
    let (container, command) = super::run::split_first(&a.container_and_command)?;
    let req = ExecRequest {
        cmd: command.to_vec(),
        env,
        user: a.user,
        workdir: a.workdir,
        tty: a.tty && !a.detach,
        detach: a.detach,
        privileged: a.privileged,
    };
    Ok(engine.exec(container, &req)?)
}
