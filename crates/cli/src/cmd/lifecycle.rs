//! The verbs that take container names and act on each: start, stop,
//! kill, restart, rm, pause, unpause, wait, rename, container prune and
//! the shim's cleanup. Like docker, each name is tried; errors are
//! printed per name and the exit status is 1 if any failed.

use hull_engine::Engine;

/// `hull start`.
#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals.
    #[arg(short = 'a', long)]
    attach: bool,
    /// Attach container's STDIN.
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Override the key sequence for detaching a container (docker's syntax: ctrl-p,ctrl-q).
    #[arg(long = "detach-keys")]
    detach_keys: Option<String>,
    /// Containers.
    #[arg(required = true)]
    containers: Vec<String>,
}

/// `hull stop` / `hull restart`.
#[derive(Debug, clap::Args)]
pub struct StopArgs {
    /// Seconds to wait before killing the container.
    #[arg(short = 't', long = "time", visible_alias = "timeout", allow_hyphen_values = true)]
    time: Option<i64>,
    /// Signal to send to the container (default: its stop signal).
    #[arg(short = 's', long = "signal")]
    signal: Option<String>,
    /// Containers.
    #[arg(required = true)]
    containers: Vec<String>,
}

/// `hull kill`.
#[derive(Debug, clap::Args)]
pub struct KillArgs {
    /// Signal to send to the container.
    #[arg(short = 's', long, default_value = "KILL")]
    signal: String,
    /// Containers.
    #[arg(required = true)]
    containers: Vec<String>,
}

/// `hull rm`.
#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL).
    #[arg(short = 'f', long)]
    force: bool,
    /// Remove anonymous volumes associated with the container.
    #[arg(short = 'v', long)]
    volumes: bool,
    /// Containers.
    #[arg(required = true)]
    containers: Vec<String>,
}

/// Verbs that only take names (pause, unpause, wait).
#[derive(Debug, clap::Args)]
pub struct NamesArgs {
    /// Containers.
    #[arg(required = true)]
    containers: Vec<String>,
}

/// `hull rename`.
#[derive(Debug, clap::Args)]
pub struct RenameArgs {
    /// Container.
    container: String,
    /// New name.
    new_name: String,
}

/// `hull container prune`.
#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation.
    #[arg(short = 'f', long)]
    pub force: bool,
}

/// `hull container cleanup` (the shim's exit command).
#[derive(Debug, clap::Args)]
pub struct CleanupArgs {
    /// Container id.
    container: String,
}

fn each(names: &[String], mut f: impl FnMut(&str) -> anyhow::Result<()>) -> anyhow::Result<i32> {
    let mut code = 0;
    for n in names {
        if let Err(e) = f(n) {
            eprintln!("Error response from daemon: {}", super::super::error_text(&e));
            code = 1;
        }
    }
    Ok(code)
}

pub fn start(engine: &Engine, a: StartArgs) -> anyhow::Result<i32> {
    if a.attach || a.interactive {
        if a.containers.len() > 1 {
            anyhow::bail!("you cannot start and attach multiple containers at once");
        }
        let c = engine.get(&a.containers[0])?;
        let (ours, theirs) = super::attach::pair()?;
        engine.start(&c.id, Some(theirs))?;
        let stdin = a.interactive && c.config.stdin;
        let keys = super::detach_keys::chosen(a.detach_keys.as_deref())?;
        let ended = super::attach::pump(
            engine,
            &c.id,
            ours,
            c.config.tty,
            stdin,
            !c.config.tty,
            keys,
            super::attach::Streams::ALL,
        )?;
        return Ok(ended.code().unwrap_or_else(|| engine.wait(&c.id).unwrap_or(137)));
    }
    each(&a.containers, |n| {
        engine.start(n, None)?;
        println!("{n}");
        Ok(())
    })
}

pub fn stop(engine: &Engine, a: StopArgs) -> anyhow::Result<i32> {
    let signal: Option<hull_engine::model::Signal> = a.signal.as_deref().map(str::parse).transpose()?;
    each(&a.containers, |n| {
        engine.stop_with(n, a.time, signal.clone())?;
        println!("{n}");
        Ok(())
    })
}

pub fn restart(engine: &Engine, a: StopArgs) -> anyhow::Result<i32> {
    let signal: Option<hull_engine::model::Signal> = a.signal.as_deref().map(str::parse).transpose()?;
    each(&a.containers, |n| {
        engine.stop_with(n, a.time, signal.clone())?;
        engine.start(n, None)?;
        println!("{n}");
        Ok(())
    })
}

pub fn kill(engine: &Engine, a: KillArgs) -> anyhow::Result<i32> {
    let signal: hull_engine::model::Signal = a.signal.parse()?;
    each(&a.containers, |n| {
        engine.kill(n, &signal)?;
        println!("{n}");
        Ok(())
    })
}

pub fn rm(engine: &Engine, a: RmArgs) -> anyhow::Result<i32> {
    each(&a.containers, |n| {
        engine.remove(n, a.force, a.volumes)?;
        println!("{n}");
        Ok(())
    })
}

pub fn pause(engine: &Engine, a: NamesArgs) -> anyhow::Result<i32> {
    each(&a.containers, |n| {
        engine.pause(n)?;
        println!("{n}");
        Ok(())
    })
}

pub fn unpause(engine: &Engine, a: NamesArgs) -> anyhow::Result<i32> {
    each(&a.containers, |n| {
        engine.unpause(n)?;
        println!("{n}");
        Ok(())
    })
}

/// `hull wait`.
#[derive(Debug, clap::Args)]
pub struct WaitArgs {
    /// Wait until the container reaches this condition: not-running, next-exit or removed.
    #[arg(long, default_value = "not-running")]
    condition: String,
    /// Containers.
    #[arg(required = true)]
    containers: Vec<String>,
}

pub fn wait(engine: &Engine, a: WaitArgs) -> anyhow::Result<i32> {
    let condition: hull_engine::events::WaitCondition = a.condition.parse()?;
    each(&a.containers, |n| {
        println!("{}", engine.wait_for(n, condition)?);
        Ok(())
    })
}

pub fn rename(engine: &Engine, a: RenameArgs) -> anyhow::Result<i32> {
    engine.rename(&a.container, &a.new_name)?;
    Ok(0)
}

pub fn prune(engine: &Engine, a: PruneArgs) -> anyhow::Result<i32> {
    if !a.force && !super::confirm("This will remove all stopped containers.") {
        return Ok(0);
    }
    let gone = engine.prune()?;
    if !gone.is_empty() {
        println!("Deleted Containers:");
        for id in &gone {
            println!("{id}");
        }
        println!();
    }
    println!("Total reclaimed space: {} containers", gone.len());
    Ok(0)
}

pub fn cleanup(engine: &Engine, a: CleanupArgs) -> anyhow::Result<i32> {
    let shim = std::env::var("HULL_SHIM_PID").ok().and_then(|p| p.parse().ok());
    engine.cleanup(&a.container, shim)?;
    Ok(0)
}
