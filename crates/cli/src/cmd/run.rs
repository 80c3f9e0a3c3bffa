//! `hull run` and `hull create`: a container from an image (pulled if it
//! is missing), started detached, or attached until it ends.

use super::container_flags::ContainerFlags;
use hull_engine::Engine;

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
    /// Pull image before running (missing, always, never).
    #[arg(long, default_value = "missing")]
    pull: String,
    #[command(flatten)]
    flags: ContainerFlags,
    /// Image.
    image: String,
    /// Command and arguments (replace the image's Cmd).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// `hull create`.
#[derive(Debug, clap::Args)]
#[command(disable_help_flag = true)]
pub struct CreateArgs {
    /// Pull image before creating (missing, always, never).
    #[arg(long, default_value = "missing")]
    pull: String,
    #[command(flatten)]
    flags: ContainerFlags,
    /// Image.
    image: String,
    /// Command and arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// Makes sure the image is in the store, pulling it as `docker run` does.
pub fn ensure_image(engine: &Engine, root: &std::path::Path, image: &str, pull: &str) -> anyhow::Result<()> {
    let present = engine.images().resolve(image).is_ok();
    match pull {
        "missing" if present => return Ok(()),
        "never" if present => return Ok(()),
        "never" => anyhow::bail!("No such image: {image} (and --pull never)"),
        "missing" | "always" => {}
        other => anyhow::bail!("invalid --pull {other:?}: want missing, always or never"),
    }
    if pull == "always" {
        return super::registry::pull_quiet(root, image);
    }
    eprintln!("Unable to find image '{image}' locally");
    super::registry::pull_quiet(root, image)
}

pub fn create(engine: &Engine, root: &std::path::Path, a: CreateArgs) -> anyhow::Result<()> {
    let req = a.flags.request(&a.image, &a.command)?;
    ensure_image(engine, root, &a.image, &a.pull)?;
    let c = engine.create(req)?;
    println!("{}", c.id);
    Ok(())
}

pub fn run(engine: &Engine, root: &std::path::Path, a: Args) -> anyhow::Result<i32> {
    let req = a.flags.request(&a.image, &a.command)?;
    if a.detach && a.flags.rm && req.config.restart != hull_engine::RestartPolicy::No {
        anyhow::bail!("conflicting options: cannot specify both --restart and --rm");
    }
    ensure_image(engine, root, &a.image, &a.pull)?;
    let c = engine.create(req)?;
    if a.detach {
        if let Err(e) = engine.start(&c.id, None) {
            let _ = engine.remove(&c.id, true, false);
            return Err(e.into());
        }
        println!("{}", c.id);
        return Ok(0);
    }
    let (ours, theirs) = super::attach::pair()?;
    if let Err(e) = engine.start(&c.id, Some(theirs)) {
        let _ = engine.remove(&c.id, true, false);
        return Err(e.into());
    }
    let code = super::attach::pump(engine, &c.id, ours, c.config.tty, c.config.stdin, a.sig_proxy && !c.config.tty)?;
    let code = match code {
        Some(c) => c,
        None => engine.wait(&c.id).unwrap_or(137),
    };
    if a.flags.rm {
        // The shim's cleanup removes it too; whoever comes second finds it gone.
        match engine.remove(&c.id, true, false) {
            Ok(()) | Err(hull_engine::EngineError::NoSuchContainer(_)) => {}
            Err(e) => eprintln!("Error: remove {}: {e}", c.short_id()),
        }
    }
    Ok(code)
}
