//! `hull pull`, `hull push`, `hull login`, `hull logout`.

use anyhow::Context;
use hull_image::reference::Reference;
use hull_image::registry::{Client, Credentials, Progress};
use std::io::IsTerminal;
use std::path::PathBuf;

/// docker's credentials file: $DOCKER_CONFIG/config.json or ~/.docker/config.json.
pub fn config_path() -> PathBuf {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(d) => PathBuf::from(d).join("config.json"),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into())).join(".docker/config.json"),
    }
}

/// Registries spoken to over plain HTTP (besides localhost).
pub fn insecure_registries() -> Vec<String> {
    hull_engine::pull::RegistryConfig::insecure_from_env()
}

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// Image to pull.
    image: String,
    /// os/arch[/variant] to pick from a multi-platform image (the host's by default).
    #[arg(long)]
    platform: Option<String>,
    /// Print only the image reference.
    #[arg(short, long)]
    quiet: bool,
}

pub fn pull(engine: &hull_engine::Engine, a: PullArgs) -> anyhow::Result<()> {
    let r: Reference = a.image.parse()?;
    if let Some(p) = &a.platform {
        hull_engine::pull::parse_platform(p)?;
    }
    let quiet = a.quiet;
    let tty = std::io::stdout().is_terminal();
    if !quiet {
        println!("{}: Pulling from {}", r.tag.clone().unwrap_or_default(), r.repository);
    }
    let display = super::progress::Display::new(tty, quiet);
    let progress = |p: Progress| display.event(p);
    let pulled = engine.pull(hull_engine::PullRequest {
        reference: a.image.clone(),
        platform: a.platform.clone(),
        progress: Some(&progress),
        ..Default::default()
    })?;
    let fetched = display.unpacked();
    if quiet {
        println!("{r}");
    } else {
        println!("Digest: {}", pulled.digest);
        let familiar = r.familiar_name() + &r.tag.as_ref().map(|t| format!(":{t}")).unwrap_or_default();
        if fetched || pulled.updated {
            println!("Status: Downloaded newer image for {familiar}");
        } else {
            println!("Status: Image is up to date for {familiar}");
        }
        println!("{r}");
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// Image to push (its name says where).
    image: String,
}

/// docker's lines: the repository, each layer's `Preparing` and its fate,
/// then the tag's digest and size.
pub fn push(engine: &hull_engine::Engine, a: PushArgs) -> anyhow::Result<()> {
    let r: Reference = a.image.parse()?;
    println!("The push refers to repository [{}/{}]", r.registry, r.repository);
    let say = |d: &hull_image::digest::Digest, p: hull_engine::push::BlobPush| {
        println!("{}: {}", &d.hex()[..12], p.docker_status());
    };
    let pushed = engine.push(hull_engine::PushRequest { reference: a.image, auth: None, progress: Some(&say) })?;
    println!("{}: digest: {} size: {}", pushed.tag, pushed.digest, pushed.size);
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// Registry (default docker.io).
    registry: Option<String>,
    /// User name.
    #[arg(short, long)]
    username: String,
    /// Password.
    #[arg(short, long, conflicts_with = "password_stdin")]
    password: Option<String>,
    /// Read the password from stdin.
    #[arg(long)]
    password_stdin: bool,
}

pub fn login(a: LoginArgs) -> anyhow::Result<()> {
    let registry = a.registry.unwrap_or_else(|| hull_image::reference::DOCKER_HUB.to_string());
    let password = match (a.password, a.password_stdin) {
        (Some(p), _) => p,
        (None, true) => {
            let mut s = String::new();
            std::io::stdin().read_line(&mut s).context("read password from stdin")?;
            s.trim_end_matches(['\n', '\r']).to_string()
        }
        (None, false) => anyhow::bail!("give --password or --password-stdin"),
    };
    let path = config_path();
    let mut creds = Credentials::load(&path);
    creds.save(&registry, Some((&a.username, &password))).with_context(|| format!("write {}", path.display()))?;
    creds = Credentials::load(&path);
    let c = Client::new(creds.clone(), insecure_registries());
    if let Err(e) = c.check_login(&registry) {
        let _ = creds.save(&registry, None);
        return Err(e.into());
    }
    println!("Login Succeeded");
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    /// Registry (default docker.io).
    registry: Option<String>,
}

pub fn logout(a: LogoutArgs) -> anyhow::Result<()> {
    let registry = a.registry.unwrap_or_else(|| hull_image::reference::DOCKER_HUB.to_string());
    let path = config_path();
    Credentials::load(&path).save(&registry, None).with_context(|| format!("write {}", path.display()))?;
    println!("Removing login credentials for {registry}");
    Ok(())
}

/// Pulls `image` for `run`/`create` when the store lacks it (messages on stderr).
pub fn pull_quiet(engine: &hull_engine::Engine, image: &str, platform: Option<&str>) -> anyhow::Result<()> {
    let display = super::progress::Display::new(false, true);
    let progress = |p: Progress| display.event(p);
    let pulled = engine.pull(hull_engine::PullRequest {
        reference: image.to_string(),
        platform: platform.map(String::from),
        progress: Some(&progress),
        ..Default::default()
    })?;
    eprintln!("Digest: {}\nStatus: Downloaded newer image for {}", pulled.digest, pulled.reference);
    Ok(())
}
