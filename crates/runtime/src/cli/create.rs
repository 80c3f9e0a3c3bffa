//! `create`.

use std::path::PathBuf;

/// What `create` and `run` share: the id and how to set the container up.
#[derive(Debug, clap::Args)]
pub struct CreateFlags {
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
    /// Use MS_MOVE and chroot instead of pivot_root.
    #[arg(long)]
    no_pivot: bool,
    /// Do not create a new session keyring for the container.
    #[arg(long)]
    no_new_keyring: bool,
    /// Pass N more file descriptors (from 3) to the container.
    #[arg(long, default_value_t = 0)]
    preserve_fds: u32,
    /// Unix socket to receive a pidfd of the container's init.
    #[arg(long)]
    pidfd_socket: Option<PathBuf>,
}

impl CreateFlags {
    /// The bundle directory.
    pub fn bundle(&self) -> &std::path::Path {
        &self.bundle
    }

    /// The library's options; `attach_terminal` for a foreground `run`.
    pub fn options(&self, attach_terminal: bool) -> hull_runtime::CreateOptions {
        hull_runtime::CreateOptions {
            id: self.id.clone(),
            bundle: self.bundle.clone(),
            pid_file: self.pid_file.clone(),
            no_pivot: self.no_pivot,
            new_keyring: !self.no_new_keyring,
            preserve_fds: self.preserve_fds,
            console_socket: self.console_socket.clone(),
            listen_fds: super::socket_activation_fds(),
            attach_terminal,
            die_with_parent: false,
            pidfd_socket: self.pidfd_socket.clone(),
            // Set by the library's run when it relays the terminal itself.
            clear_onlcr: false,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    flags: CreateFlags,
}

pub fn run(rt: &hull_runtime::Runtime, a: Args, log: &super::log::Logger) -> anyhow::Result<i32> {
    for w in rt.create(&a.flags.options(false))?.warnings {
        log.warn(&w);
    }
    Ok(0)
}
