//! `exec`.

use anyhow::{bail, Context};
use hull_runtime::{ExecOptions, ExecRequest};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Container id.
    id: String,
    /// Command and arguments (after the id; use -- before options meant for the command).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
    /// JSON file holding the whole process (OCI `process` object).
    #[arg(short, long)]
    process: Option<PathBuf>,
    /// Allocate a pseudo-terminal.
    #[arg(short, long)]
    tty: bool,
    /// Unix socket to receive the terminal's master fd.
    #[arg(long)]
    console_socket: Option<PathBuf>,
    /// Return once the process started.
    #[arg(short, long)]
    detach: bool,
    /// File to write the process's pid to.
    #[arg(long)]
    pid_file: Option<PathBuf>,
    /// Extra environment variable (KEY=value), repeatable.
    #[arg(short, long)]
    env: Vec<String>,
    /// Working directory inside the container.
    #[arg(long)]
    cwd: Option<PathBuf>,
    /// User as uid[:gid].
    #[arg(short, long)]
    user: Option<String>,
    /// Additional group id, repeatable.
    #[arg(short = 'g', long)]
    additional_gids: Vec<u32>,
    /// Add a capability to every set, repeatable.
    #[arg(short, long)]
    cap: Vec<String>,
    /// Set no_new_privs for the process.
    #[arg(long)]
    no_new_privs: bool,
    /// AppArmor profile.
    #[arg(short, long)]
    apparmor: Option<String>,
    /// SELinux process label.
    #[arg(long)]
    process_label: Option<String>,
    /// Pass N more file descriptors (from 3) to the process.
    #[arg(long, default_value_t = 0)]
    preserve_fds: u32,
    /// Allow exec in a paused container (the process starts frozen).
    #[arg(long)]
    ignore_paused: bool,
    /// Run in a sub-cgroup of the container's: PATH, or CONTROLLER[,CONTROLLER]:PATH; repeatable.
    #[arg(long = "cgroup")]
    sub_cgroups: Vec<String>,
    /// Unix socket to receive a pidfd of the process.
    #[arg(long)]
    pidfd_socket: Option<PathBuf>,
}

fn parse_user(s: &str) -> anyhow::Result<(u32, Option<u32>)> {
    let (u, g) = match s.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (s, None),
    };
    let uid = u.parse().with_context(|| format!("--user {s:?}: uid must be a number"))?;
    let gid = g.map(|g| g.parse()).transpose().with_context(|| format!("--user {s:?}: gid must be a number"))?;
    Ok((uid, gid))
}

pub fn run(rt: &hull_runtime::Runtime, a: Args) -> anyhow::Result<i32> {
    let process = match &a.process {
        Some(file) => {
            let data = std::fs::read(file).with_context(|| format!("read {}", file.display()))?;
            serde_json::from_slice(&data).with_context(|| format!("parse {}", file.display()))?
        }
        None => {
            if a.command.is_empty() {
                bail!("exec: no command given (and no --process file)");
            }
            let req = ExecRequest {
                args: a.command.clone(),
                env: a.env.clone(),
                cwd: a.cwd.clone(),
                user: a.user.as_deref().map(parse_user).transpose()?,
                additional_gids: a.additional_gids.clone(),
                caps: a.cap.clone(),
                no_new_privs: a.no_new_privs,
                tty: a.tty,
                apparmor: a.apparmor.clone(),
                process_label: a.process_label.clone(),
            };
            rt.exec_process(&a.id, &req)?
        }
    };
    let opts = ExecOptions {
        process,
        detach: a.detach,
        pid_file: a.pid_file.clone(),
        preserve_fds: a.preserve_fds,
        console_socket: a.console_socket.clone(),
        stdio: Default::default(),
        ignore_paused: a.ignore_paused,
        sub_cgroups: a.sub_cgroups.clone(),
        pidfd_socket: a.pidfd_socket.clone(),
        // Relayed here, runc clears it (see ExecOptions::clear_onlcr).
        clear_onlcr: !a.detach && a.console_socket.is_none(),
    };
    let code = rt.exec(&a.id, &opts)?;
    Ok(if a.detach { 0 } else { code })
}
