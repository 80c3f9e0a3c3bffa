//! `hull run` and `hull create`: a container from an image (pulled if it
//! is missing), started detached, or attached until it ends.

use super::container_flags::ContainerFlags;
use hull_engine::Engine;

/// What `run` and `create` share: the image, its command, the options.
#[derive(Debug, clap::Args)]
pub struct Launch {
    /// Pull the image first: missing, always, never.
    #[arg(long, default_value = "missing")]
    pull: String,
    #[command(flatten)]
    flags: ContainerFlags,
    /// The image, then the command and its arguments (replacing the
    /// image's Cmd). Options end at the image, as in docker: everything
    /// after it is the command's (`run IMG -c x` passes -c to it).
    #[arg(value_name = "IMAGE [COMMAND] [ARG...]", required = true, num_args = 1.., trailing_var_arg = true)]
    image_and_command: Vec<String>,
}

/// `hull run`.
#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub struct Args {
    /// Run container in background and print container ID.
    #[arg(short = 'd', long)]
    detach: bool,
    /// Proxy received signals to the process.
    #[arg(long = "sig-proxy", default_value_t = true, action = clap::ArgAction::Set)]
    sig_proxy: bool,
    /// Override the key sequence for detaching a container (docker's syntax: ctrl-p,ctrl-q).
    #[arg(long = "detach-keys")]
    detach_keys: Option<String>,
    #[command(flatten)]
    launch: Launch,
}

/// `hull create`.
#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub struct CreateArgs {
    #[command(flatten)]
    launch: Launch,
}

impl Launch {
    /// Checks the flags, pulls the image as `--pull` says, creates the container.
    fn create(&self, engine: &Engine) -> anyhow::Result<hull_engine::Container> {
        let (image, command) = split_first(&self.image_and_command)?;
        let req = self.flags.request(image, command)?;
        if let Some(p) = &self.flags.platform {
            check_platform(image, p)?;
        }
        let cidfile = self.flags.cidfile.as_deref().map(std::path::Path::new);
        if let Some(f) = cidfile.filter(|f| f.exists()) {
            anyhow::bail!(
                "Container ID file found, make sure the other container isn't running or delete {}",
                f.display()
            );
        }
        ensure_image(engine, image, &self.pull, self.flags.platform.as_deref())?;
        let c = engine.create(req)?;
        if let Some(f) = cidfile {
            // create_new: a second run racing for the same file loses.
            let written = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(f)
                .and_then(|mut file| std::io::Write::write_all(&mut file, c.id.as_bytes()));
            if let Err(e) = written {
                let _ = engine.remove(&c.id, true, false);
                anyhow::bail!("failed to write the container ID to the file: {}: {e}", f.display());
            }
        }
        Ok(c)
    }
}

/// The first positional argument and the rest (clap makes sure there is one).
pub fn split_first(args: &[String]) -> anyhow::Result<(&str, &[String])> {
    match args.split_first() {
        Some((first, rest)) => Ok((first.as_str(), rest)),
        None => anyhow::bail!("\"run\" requires at least 1 argument."),
    }
}

/// `--platform`: Hull runs images of this host's platform only (it
/// emulates none), so another one is refused before anything is pulled.
fn check_platform(image: &str, asked: &str) -> anyhow::Result<()> {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let mut parts = asked.split('/');
    let (os, want) = (parts.next().unwrap_or_default(), parts.next().unwrap_or(arch));
    let want = if want == "x86_64" { "amd64" } else { want };
    if os != "linux" || want != arch {
        anyhow::bail!(
            "image {image}: platform {asked} was asked for, and this host runs linux/{arch} (Hull emulates no other platform)"
        );
    }
    Ok(())
}

/// Makes sure the image is in the store, pulling it as `docker run` does.
pub fn ensure_image(engine: &Engine, image: &str, pull: &str, platform: Option<&str>) -> anyhow::Result<()> {
    let present = engine.images().resolve(image).is_ok();
    if !present {
        // A malformed name is said to be one, before any talk of pulling it.
        image.parse::<hull_image::reference::Reference>()?;
    }
    match pull {
        "missing" | "never" if present => Ok(()),
        "never" => anyhow::bail!("No such image: {image} (and --pull never)"),
        "missing" => {
            eprintln!("Unable to find image '{image}' locally");
            super::registry::pull_quiet(engine, image, platform)
        }
        "always" => super::registry::pull_quiet(engine, image, platform),
        other => anyhow::bail!("invalid --pull {other:?}: want missing, always or never"),
    }
}

pub fn create(engine: &Engine, a: CreateArgs) -> anyhow::Result<()> {
    let c = a.launch.create(engine)?;
    println!("{}", c.id);
    Ok(())
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    let keys = super::detach_keys::chosen(a.detach_keys.as_deref())?;
    let streams = a.launch.flags.streams()?;
    if a.detach && !a.launch.flags.attach.is_empty() {
        anyhow::bail!("Conflicting options: -a and -d");
    }
    if !a.detach && a.launch.flags.tty && a.launch.flags.interactive && !super::stdin_is_a_terminal() {
        return Ok(super::not_a_tty());
    }
    let c = a.launch.create(engine)?;
    // Attached: the shim gets one end of a socket pair as its first client.
    let (ours, theirs) = match a.detach {
        true => (None, None),
        false => {
            let (ours, theirs) = super::attach::pair()?;
            (Some(ours), Some(theirs))
        }
    };
    let started = match engine.start(&c.id, theirs) {
        Ok(s) => s,
        Err(e) => {
            // A run that cannot start leaves nothing behind.
            let _ = engine.remove(&c.id, true, false);
            return Err(e.into());
        }
    };
    let Some(ours) = ours else {
        println!("{}", c.id);
        return Ok(0);
    };
    let ended = super::attach::pump(
        engine,
        &c.id,
        ours,
        c.config.tty,
        c.config.stdin,
        a.sig_proxy && !c.config.tty,
        keys,
        streams,
    )?;
    let code = match ended {
        // Still running: --rm removes it when it ends (the shim does).
        super::attach::Ended::Detached | super::attach::Ended::Signalled(_) => return Ok(ended.code().unwrap_or(0)),
        super::attach::Ended::Exited(Some(c)) => c,
        super::attach::Ended::Exited(None) => engine.wait(&c.id).unwrap_or(137),
    };
    if c.config.auto_remove {
        // The shim's cleanup removes it too; whoever comes second finds it gone.
        match engine.remove(&c.id, true, true) {
            Ok(()) => {}
            // The shim's exit command removed it; it is ending.
            Err(hull_engine::EngineError::NoSuchContainer(_)) => {
                engine.await_shim(started.state.shim_pid, started.state.shim_start)
            }
            Err(e) => eprintln!("Error: remove {}: {e}", c.short_id()),
        }
    }
    Ok(code)
}
