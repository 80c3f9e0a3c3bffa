//! Command-line parsing (runc's verbs and flags) and error reporting.

mod create;
mod delete;
mod events;
mod exec;
mod features;
mod kill;
mod list;
mod log;
mod pause;
mod ps;
mod run;
mod spec;
mod start;
mod state;
mod update;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Hull's OCI runtime (runc-compatible command line).
#[derive(Debug, Parser)]
#[command(name = "hull-runtime", version, about)]
// `-v` as runc spells it, beside clap's `-V`.
#[command(disable_version_flag = true)]
pub struct Cli {
    /// Print version.
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version, visible_short_alias = 'V')]
    version: Option<bool>,
    /// Directory for container state [default: /run/hull; for other users
    /// $XDG_RUNTIME_DIR/hull, or /tmp/hull-UID without it].
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    /// Also write log messages (and errors) to this file.
    #[arg(long, global = true)]
    log: Option<PathBuf>,
    /// Log format.
    #[arg(long, global = true, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    /// Log debug messages.
    #[arg(long, global = true)]
    debug: bool,
    /// Use the systemd cgroup driver (not available yet).
    #[arg(long, global = true)]
    systemd_cgroup: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a new config.json to a bundle.
    Spec(spec::Args),
    /// Create a container (its process waits for `start`).
    Create(create::Args),
    /// Start a created container's process.
    Start(start::Args),
    /// Print a container's state as JSON.
    State(state::Args),
    /// Send a signal to a container.
    Kill(kill::Args),
    /// Delete a container.
    Delete(delete::Args),
    /// Create and start a container.
    Run(run::Args),
    /// Run a process in a running container.
    Exec(exec::Args),
    /// Freeze every process of a container.
    Pause(pause::Args),
    /// Thaw a paused container.
    Resume(pause::Args),
    /// List the processes of a container.
    Ps(ps::Args),
    /// Change a container's resource limits.
    Update(update::Args),
    /// Print resource statistics and OOM events.
    Events(events::Args),
    /// Print the features this runtime supports (JSON).
    Features(features::Args),
    /// List containers.
    List(list::Args),
}

/// Parses, dispatches, reports errors once; returns the exit code.
pub fn main() -> i32 {
    hull_runtime::stdio::open_missing_standard_fds();
    // exec's process is a clone of this one, visible to the container's
    // processes before it execve's: it must run from a binary the container
    // cannot write (see hull_runtime::sealed). Looked for before parsing, so
    // the first image does no more than it must ("exec" elsewhere in the
    // line costs a needless re-execution, nothing else).
    if std::env::args_os().skip(1).any(|a| a == "exec") {
        seal_or_exit();
    }
    let cli = Cli::parse();
    // create: always, as the init waits for `start` in the container's pid
    // namespace, where an exec may put a container process beside it. run
    // starts it at once: only when the init is born into a pid namespace
    // that already holds other processes (see sealed::needed_for_bundle).
    match &cli.command {
        Command::Create(_) => seal_or_exit(),
        Command::Run(run::Args { flags, .. }) if hull_runtime::sealed::needed_for_bundle(flags.bundle()) => {
            seal_or_exit()
        }
        _ => {}
    }
    let logger = log::Logger::new(cli.log.as_deref(), &cli.log_format, cli.debug);
    let root = cli.root.clone().unwrap_or_else(default_root);
    let runtime = hull_runtime::Runtime::new(&root);
    let needs_cgroups = matches!(cli.command, Command::Create(_) | Command::Run(_));
    if cli.systemd_cgroup && needs_cgroups {
        logger.error("--systemd-cgroup: the systemd cgroup driver is not supported yet; drop the flag to use cgroupfs");
        return 1;
    }
    logger.debug(&format!(
        "hull-runtime {} (root {})",
        std::env::args().skip(1).collect::<Vec<_>>().join(" "),
        root.display()
    ));
    // runc's exec exits 255 when the runtime itself failed, so a caller can
    // tell that from the process's own exit 1.
    let failure = if matches!(cli.command, Command::Exec(_)) { 255 } else { 1 };
    let result = match cli.command {
        Command::Spec(a) => spec::run(a),
        Command::Create(a) => create::run(&runtime, a, &logger),
        Command::Start(a) => start::run(&runtime, a, &logger),
        Command::State(a) => state::run(&runtime, a),
        Command::Kill(a) => kill::run(&runtime, a),
        Command::Delete(a) => delete::run(&runtime, a),
        Command::Run(a) => run::run(&runtime, a, &logger),
        Command::Exec(a) => exec::run(&runtime, a),
        Command::Pause(a) => pause::pause(&runtime, a),
        Command::Resume(a) => pause::resume(&runtime, a),
        Command::Ps(a) => ps::run(&runtime, a),
        Command::Update(a) => update::run(&runtime, a),
        Command::Events(a) => events::run(&runtime, a),
        Command::Features(a) => features::run(a),
        Command::List(a) => list::run(&runtime, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            logger.error(&describe(&e));
            failure
        }
    }
}

/// The error and its causes on one line, skipping causes that the message
/// above them already quotes (thiserror messages embed their source).
fn describe(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out = format!("{out}: {text}");
        }
    }
    out
}

/// systemd socket activation: LISTEN_FDS descriptors meant for this
/// process (LISTEN_PID is ours, or unset) are passed on to the container.
fn socket_activation_fds() -> u32 {
    let ours = std::env::var("LISTEN_PID").map_or(true, |p| p == std::process::id().to_string());
    let n = std::env::var("LISTEN_FDS").ok().and_then(|n| n.parse().ok()).unwrap_or(0);
    if ours {
        n
    } else {
        0
    }
}

/// Where state lives when --root is not given: runc's choice of
/// /run/<runtime> for root and the user's runtime directory otherwise.
fn default_root() -> PathBuf {
    let uid = nix::unistd::geteuid();
    if uid.is_root() {
        return PathBuf::from("/run/hull");
    }
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("hull"),
        None => PathBuf::from(format!("/tmp/hull-{uid}")),
    }
}

/// Re-executes from a read-only view of the binary, or exits saying why not.
fn seal_or_exit() {
    if let Err(e) = hull_runtime::sealed::ensure() {
        eprintln!("hull-runtime: re-execute from a read-only copy of the runtime binary: {e}");
        std::process::exit(1);
    }
}
