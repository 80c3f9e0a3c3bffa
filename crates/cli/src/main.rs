//! hull: Docker-style verbs over Hull's libraries, daemonless: each command
//! opens the engine (state database, image store) itself; containers live
//! on under their own hull-shim.

mod cmd;

use clap::{Parser, Subcommand};
use hull_engine::Engine;
use std::path::PathBuf;

/// Hull: containers from images, daemonless.
#[derive(Debug, Parser)]
#[command(name = "hull", version, about)]
pub struct Cli {
    /// Where images, containers, volumes and the state database are kept.
    #[arg(long, global = true, default_value = "/var/lib/hull")]
    root: PathBuf,
    /// Where shims and the runtime keep live state (gone after a reboot).
    #[arg(long = "run-root", global = true, default_value = "/run/hull")]
    run_root: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    #[command(flatten)]
    Verb(ContainerVerb),
    /// List containers.
    Ps(cmd::ps::Args),
    /// Get real time events from the engine.
    Events(cmd::events::Args),
    /// Return low-level information on containers or images.
    Inspect(cmd::container_inspect::Args),
    /// Manage containers.
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Manage volumes.
    #[command(subcommand)]
    Volume(VolumeCommand),
    /// Manage networks.
    #[command(subcommand)]
    Network(NetworkCommand),
    /// Manage Hull.
    #[command(subcommand)]
    System(SystemCommand),
    /// Display system-wide information.
    Info,
    /// Serve the Docker Engine API (hull-daemon), for the docker CLI, Compose and the SDKs.
    Daemon(DaemonArgs),
    /// Show the Hull version.
    Version,
    /// List images.
    Images(cmd::images::Args),
    /// Save images to a docker archive (stdout by default).
    Save(cmd::save::Args),
    /// Load an image from an archive (stdin by default).
    Load(cmd::load::Args),
    /// Manage images.
    #[command(subcommand)]
    Image(ImageCommand),
    /// Give an image another name.
    Tag(cmd::tag::Args),
    /// Build an image from a Dockerfile.
    Build(cmd::build::Args),
    /// Manage the build cache.
    #[command(subcommand)]
    Builder(BuilderCommand),
    /// Create a new image from a container's changes.
    Commit(cmd::commit::CommitArgs),
    /// Inspect changes to files or directories on a container's filesystem.
    Diff(cmd::commit::DiffArgs),
    /// Export a container's filesystem as a tar archive.
    Export(cmd::commit::ExportArgs),
    /// Import the contents from a tarball to create a filesystem image.
    Import(cmd::commit::ImportArgs),
    /// Show the history of an image.
    History(cmd::commit::HistoryArgs),
    /// Remove images.
    Rmi(cmd::rmi::Args),
    /// Download an image from a registry.
    Pull(cmd::registry::PullArgs),
    /// Upload an image to a registry.
    Push(cmd::registry::PushArgs),
    /// Store credentials for a registry (in docker's config.json).
    Login(cmd::registry::LoginArgs),
    /// Remove credentials for a registry.
    Logout(cmd::registry::LogoutArgs),
}

/// The container verbs docker has both at the top level and under `container`.
#[derive(Debug, Subcommand)]
enum ContainerVerb {
    /// Create and run a new container from an image.
    Run(cmd::run::Args),
    /// Create a new container.
    Create(cmd::run::CreateArgs),
    /// Start one or more stopped containers.
    Start(cmd::lifecycle::StartArgs),
    /// Stop one or more running containers.
    Stop(cmd::lifecycle::StopArgs),
    /// Restart one or more containers.
    Restart(cmd::lifecycle::StopArgs),
    /// Kill one or more running containers.
    Kill(cmd::lifecycle::KillArgs),
    /// Remove one or more containers.
    #[command(alias = "remove")]
    Rm(cmd::lifecycle::RmArgs),
    /// Fetch the logs of a container.
    Logs(cmd::logs::Args),
    /// Execute a command in a running container.
    Exec(cmd::exec::Args),
    /// Block until containers stop, then print their exit codes.
    Wait(cmd::lifecycle::WaitArgs),
    /// Attach to a running container's input and output.
    Attach(cmd::attach::Args),
    /// Display the running processes of a container.
    Top(cmd::top::Args),
    /// Display containers' resource usage.
    Stats(cmd::stats::Args),
    /// Pause all processes within containers.
    Pause(cmd::lifecycle::NamesArgs),
    /// Unpause all processes within containers.
    Unpause(cmd::lifecycle::NamesArgs),
    /// Rename a container.
    Rename(cmd::lifecycle::RenameArgs),
    /// Copy files between a container and the host.
    Cp(cmd::cp::Args),
    /// List port mappings or a specific mapping for the container.
    Port(cmd::network::PortArgs),
    /// Update configuration of one or more containers.
    Update(cmd::update::Args),
}

// Parsed once per process: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum ContainerCommand {
    #[command(flatten)]
    Verb(ContainerVerb),
    /// List containers.
    #[command(alias = "list", alias = "ps")]
    Ls(cmd::ps::Args),
    /// Show container details.
    Inspect(cmd::container_inspect::Args),
    /// Remove all stopped containers.
    Prune(cmd::lifecycle::PruneArgs),
    /// Record a container's end and release it (run by its shim).
    #[command(hide = true)]
    Cleanup(cmd::lifecycle::CleanupArgs),
    /// Create a new image from a container's changes.
    Commit(cmd::commit::CommitArgs),
    /// Inspect changes to files or directories on a container's filesystem.
    Diff(cmd::commit::DiffArgs),
    /// Export a container's filesystem as a tar archive.
    Export(cmd::commit::ExportArgs),
}

#[derive(Debug, Subcommand)]
enum BuilderCommand {
    /// Remove the build cache (cached steps, RUN cache mounts, the images only they kept).
    Prune(cmd::build::PruneArgs),
}

#[derive(Debug, Subcommand)]
enum VolumeCommand {
    /// Create a volume.
    Create(cmd::volume::CreateArgs),
    /// List volumes.
    #[command(alias = "list")]
    Ls(cmd::volume::LsArgs),
    /// Show volumes' details.
    Inspect(cmd::volume::InspectArgs),
    /// Remove volumes.
    #[command(alias = "remove")]
    Rm(cmd::volume::NamesArgs),
    /// Remove unused volumes.
    Prune(cmd::lifecycle::PruneArgs),
}

#[derive(Debug, Subcommand)]
enum NetworkCommand {
    /// Create a network.
    Create(cmd::network::CreateArgs),
    /// List networks.
    #[command(alias = "list")]
    Ls(cmd::network::LsArgs),
    /// Display detailed information on networks.
    Inspect(cmd::network::NamesArgs),
    /// Remove networks.
    #[command(alias = "remove")]
    Rm(cmd::network::NamesArgs),
    /// Connect a container to a network.
    Connect(cmd::network::ConnectArgs),
    /// Disconnect a container from a network.
    Disconnect(cmd::network::DisconnectArgs),
    /// Remove all unused networks.
    Prune(cmd::network::PruneArgs),
}

#[derive(Debug, Subcommand)]
enum SystemCommand {
    /// Show disk usage.
    Df,
    /// Remove stopped containers and unused image data.
    Prune(cmd::system::PruneArgs),
    /// Display system-wide information.
    Info,
    /// Get real time events from the engine.
    Events(cmd::events::Args),
    /// Serve the Docker Engine API (as `hull daemon`).
    Service(DaemonArgs),
}

/// `hull daemon`: hull-daemon's flags (and `--help`), passed on.
#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
struct DaemonArgs {
    /// hull-daemon's flags (-H unix://PATH, --insecure-tcp, --group NAME).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Debug, Subcommand)]
enum ImageCommand {
    /// List images.
    #[command(alias = "list")]
    Ls(cmd::images::Args),
    /// Show images' details as JSON.
    Inspect(cmd::inspect::Args),
    /// Remove images.
    Rm(cmd::rmi::Args),
    /// Remove unused blobs and layers.
    Prune(cmd::prune::Args),
    /// Load an image from an OCI layout (oci:DIR[:NAME]).
    Load(cmd::load::Args),
    /// Save an image as an OCI layout (oci:DIR).
    Save(cmd::save::Args),
    /// Build an image from a Dockerfile.
    Build(cmd::build::Args),
    /// Show the history of an image.
    History(cmd::commit::HistoryArgs),
    /// Import the contents from a tarball to create a filesystem image.
    Import(cmd::commit::ImportArgs),
    /// Build Hull's offline default image from the host's busybox-static.
    Default(cmd::default_image::Args),
    /// Mount an image's filesystem read-only (unpacking its layers once).
    Mount(cmd::mount::Args),
    /// Unmount what `image mount` mounted.
    Umount(cmd::mount::UmountArgs),
}

/// An error's message with its causes, once each.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !msg.contains(&c) {
            msg = format!("{msg}: {c}");
        }
    }
    msg
}

fn main() {
    // Die quietly on a closed pipe (`hull images | head`), as C tools do.
    // SAFETY: restoring the default disposition of SIGPIPE touches no memory.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    hull_runtime::stdio::open_missing_standard_fds();
    // The libraries log through `tracing`; warnings (and what HULL_LOG
    // asks for: `debug`, `hull_engine=trace`) go to stderr.
    let filter = tracing_subscriber::EnvFilter::try_from_env("HULL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .without_time()
        .with_target(false)
        .init();
    // No process of a container is a clone of this one: exec goes through
    // the container's shim, which runs from a sealed view of its binary
    // (see hull_runtime::sealed), so `hull` itself needs no re-execution.
    let cli = Cli::try_parse().unwrap_or_else(|e| cmd::usage_error::exit(e));
    let launch = matches!(
        cli.command,
        Command::Verb(ContainerVerb::Run(_) | ContainerVerb::Create(_) | ContainerVerb::Start(_))
            | Command::Container(ContainerCommand::Verb(
                ContainerVerb::Run(_) | ContainerVerb::Create(_) | ContainerVerb::Start(_)
            ))
    );
    let result = dispatch(cli);
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("Error: {}", error_text(&e));
            std::process::exit(cmd::engine::exit_code(&e, launch));
        }
    }
}

fn unit(r: anyhow::Result<()>) -> anyhow::Result<i32> {
    r.map(|()| 0)
}

fn verb(engine: &Engine, v: ContainerVerb) -> anyhow::Result<i32> {
    use cmd::lifecycle as lc;
    match v {
        ContainerVerb::Run(a) => cmd::run::run(engine, a),
        ContainerVerb::Create(a) => unit(cmd::run::create(engine, a)),
        ContainerVerb::Start(a) => lc::start(engine, a),
        ContainerVerb::Stop(a) => lc::stop(engine, a),
        ContainerVerb::Restart(a) => lc::restart(engine, a),
        ContainerVerb::Kill(a) => lc::kill(engine, a),
        ContainerVerb::Rm(a) => lc::rm(engine, a),
        ContainerVerb::Logs(a) => cmd::logs::run(engine, a),
        ContainerVerb::Exec(a) => cmd::exec::run(engine, a),
        ContainerVerb::Wait(a) => lc::wait(engine, a),
        ContainerVerb::Attach(a) => cmd::attach::run(engine, a),
        ContainerVerb::Top(a) => cmd::top::run(engine, a),
        ContainerVerb::Stats(a) => cmd::stats::run(engine, a),
        ContainerVerb::Pause(a) => lc::pause(engine, a),
        ContainerVerb::Unpause(a) => lc::unpause(engine, a),
        ContainerVerb::Rename(a) => lc::rename(engine, a),
        ContainerVerb::Cp(a) => cmd::cp::run(engine, a),
        ContainerVerb::Port(a) => cmd::network::port(engine, a),
        ContainerVerb::Update(a) => cmd::update::run(engine, a),
    }
}

/// Runs hull-daemon from beside hull, in this process's place (tokio is
/// the daemon's alone: this binary stays without it).
fn daemon(root: &std::path::Path, run_root: &std::path::Path, a: DaemonArgs) -> anyhow::Result<i32> {
    use std::os::unix::process::CommandExt;
    let me = hull_runtime::sealed::original_exe()?;
    let bin = me.with_file_name("hull-daemon");
    let err =
        std::process::Command::new(&bin).arg("--root").arg(root).arg("--run-root").arg(run_root).args(&a.args).exec();
    anyhow::bail!("run {}: {err}", bin.display())
}

fn dispatch(cli: Cli) -> anyhow::Result<i32> {
    let root = cli.root.clone();
    let engine = || -> anyhow::Result<Engine> { cmd::engine::open(&cli.root, &cli.run_root) };
    use cmd::lifecycle as lc;
    match cli.command {
        Command::Verb(v) | Command::Container(ContainerCommand::Verb(v)) => verb(&engine()?, v),
        Command::Ps(a) | Command::Container(ContainerCommand::Ls(a)) => cmd::ps::run(&engine()?, a),
        Command::Inspect(a) => cmd::container_inspect::run(&engine()?, a, false),
        Command::Container(ContainerCommand::Inspect(a)) => cmd::container_inspect::run(&engine()?, a, true),
        Command::Container(ContainerCommand::Prune(a)) => lc::prune(&engine()?, a),
        Command::Container(ContainerCommand::Cleanup(a)) => lc::cleanup(&engine()?, a),
        Command::Volume(VolumeCommand::Create(a)) => cmd::volume::create(&engine()?, a),
        Command::Volume(VolumeCommand::Ls(a)) => cmd::volume::ls(&engine()?, a),
        Command::Volume(VolumeCommand::Inspect(a)) => cmd::volume::inspect(&engine()?, a),
        Command::Volume(VolumeCommand::Rm(a)) => cmd::volume::rm(&engine()?, a),
        Command::Volume(VolumeCommand::Prune(a)) => cmd::volume::prune(&engine()?, a),
        Command::Network(NetworkCommand::Create(a)) => cmd::network::create(&engine()?, a),
        Command::Network(NetworkCommand::Ls(a)) => cmd::network::ls(&engine()?, a),
        Command::Network(NetworkCommand::Inspect(a)) => cmd::network::inspect(&engine()?, a),
        Command::Network(NetworkCommand::Rm(a)) => cmd::network::rm(&engine()?, a),
        Command::Network(NetworkCommand::Connect(a)) => cmd::network::connect(&engine()?, a),
        Command::Network(NetworkCommand::Disconnect(a)) => cmd::network::disconnect(&engine()?, a),
        Command::Network(NetworkCommand::Prune(a)) => cmd::network::prune(&engine()?, a),
        Command::System(SystemCommand::Df) => cmd::system::df(&engine()?),
        Command::System(SystemCommand::Prune(a)) => cmd::system::prune(&engine()?, a),
        Command::Info | Command::System(SystemCommand::Info) => cmd::system::info(&engine()?),
        Command::Daemon(a) | Command::System(SystemCommand::Service(a)) => daemon(&root, &cli.run_root, a),
        Command::Version => cmd::system::version(),
        Command::Events(a) | Command::System(SystemCommand::Events(a)) => cmd::events::run(&engine()?, a),
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => unit(cmd::images::run(&root, a)),
        Command::Image(ImageCommand::Inspect(a)) => unit(cmd::inspect::run(&engine()?, a)),
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => unit(cmd::rmi::run(&engine()?, a)),
        Command::Image(ImageCommand::Prune(a)) => unit(cmd::prune::run(&engine()?, a)),
        Command::Image(ImageCommand::Load(a)) | Command::Load(a) => unit(cmd::load::run(&engine()?, a)),
        Command::Image(ImageCommand::Save(a)) | Command::Save(a) => unit(cmd::save::run(&root, a)),
        Command::Image(ImageCommand::Default(a)) => unit(cmd::default_image::run(&root, a)),
        Command::Image(ImageCommand::Mount(a)) => unit(cmd::mount::run(&root, a)),
        Command::Image(ImageCommand::Umount(a)) => unit(cmd::mount::umount(a)),
        Command::Tag(a) => unit(cmd::tag::run(&engine()?, a)),
        Command::Build(a) | Command::Image(ImageCommand::Build(a)) => cmd::build::run(&engine()?, a),
        Command::Builder(BuilderCommand::Prune(a)) => cmd::build::prune(&engine()?, a),
        Command::Commit(a) | Command::Container(ContainerCommand::Commit(a)) => cmd::commit::commit(&engine()?, a),
        Command::Diff(a) | Command::Container(ContainerCommand::Diff(a)) => cmd::commit::diff(&engine()?, a),
        Command::Export(a) | Command::Container(ContainerCommand::Export(a)) => cmd::commit::export(&engine()?, a),
        Command::Import(a) | Command::Image(ImageCommand::Import(a)) => cmd::commit::import(&engine()?, a),
        Command::History(a) | Command::Image(ImageCommand::History(a)) => cmd::commit::history(&engine()?, a),
        Command::Pull(a) => unit(cmd::registry::pull(&engine()?, a)),
        Command::Push(a) => unit(cmd::registry::push(&engine()?, a)),
        Command::Login(a) => unit(cmd::registry::login(a)),
        Command::Logout(a) => unit(cmd::registry::logout(a)),
    }
}
