//! hull: Docker-style verbs over Hull's libraries (images so far).

mod cmd;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Hull: containers from images, daemonless.
#[derive(Debug, Parser)]
#[command(name = "hull", version, about)]
struct Cli {
    /// Where images and layers are kept.
    #[arg(long, global = true, default_value = "/var/lib/hull")]
    root: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List images.
    Images(cmd::images::Args),
    /// Manage images.
    #[command(subcommand)]
    Image(ImageCommand),
    /// Give an image another name.
    Tag(cmd::tag::Args),
    /// Remove images.
    Rmi(cmd::rmi::Args),
    /// Run a command in a new container from an image (foreground).
    Run(cmd::run::Args),
    /// Download an image from a registry.
    Pull(cmd::registry::PullArgs),
    /// Upload an image to a registry.
    Push(cmd::registry::PushArgs),
    /// Store credentials for a registry (in docker's config.json).
    Login(cmd::registry::LoginArgs),
    /// Remove credentials for a registry.
    Logout(cmd::registry::LogoutArgs),
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
    /// Build Hull's offline default image from the host's busybox-static.
    Default(cmd::default_image::Args),
    /// Mount an image's filesystem read-only (unpacking its layers once).
    Mount(cmd::mount::Args),
    /// Unmount what `image mount` mounted.
    Umount(cmd::mount::UmountArgs),
}

fn main() {
    // Die quietly on a closed pipe (`hull images | head`), as C tools do.
    // SAFETY: restoring the default disposition of SIGPIPE touches no memory.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => cmd::images::run(&cli.root, a),
        Command::Image(ImageCommand::Inspect(a)) => cmd::inspect::run(&cli.root, a),
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => cmd::rmi::run(&cli.root, a),
        Command::Image(ImageCommand::Prune(a)) => cmd::prune::run(&cli.root, a),
        Command::Image(ImageCommand::Load(a)) => cmd::load::run(&cli.root, a),
        Command::Image(ImageCommand::Save(a)) => cmd::save::run(&cli.root, a),
        Command::Image(ImageCommand::Default(a)) => cmd::default_image::run(&cli.root, a),
        Command::Image(ImageCommand::Mount(a)) => cmd::mount::run(&cli.root, a),
        Command::Image(ImageCommand::Umount(a)) => cmd::mount::umount(a),
        Command::Tag(a) => cmd::tag::run(&cli.root, a),
        Command::Run(a) => match cmd::run::run(&cli.root, a) {
            Ok(code) => std::process::exit(code),
            Err(e) => Err(e),
        },
        Command::Pull(a) => cmd::registry::pull(&cli.root, a),
        Command::Push(a) => cmd::registry::push(&cli.root, a),
        Command::Login(a) => cmd::registry::login(a),
        Command::Logout(a) => cmd::registry::logout(a),
    };
    if let Err(e) = result {
        let mut msg = e.to_string();
        for cause in e.chain().skip(1) {
            let c = cause.to_string();
            if !msg.contains(&c) {
                msg = format!("{msg}: {c}");
            }
        }
        eprintln!("Error: {msg}");
        std::process::exit(1);
    }
}
