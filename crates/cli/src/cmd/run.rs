//! `hull run` (first cut): a container from an image, in the foreground.
//! The image's layers are stacked with overlayfs under a per-container
//! upper directory, the image config becomes the runtime spec, and the
//! runtime library runs it in-process. The engine issue adds detached
//! containers, names, ps/stop/rm, volumes, networks and the shim.

use anyhow::Context;
use hull_image::runtime_spec::{spec_for_image, SpecOptions};
use std::io::Read;
use std::path::Path;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Remove the container when it exits (the only mode so far).
    #[arg(long)]
    rm: bool,
    /// Environment variable KEY=value, repeatable.
    #[arg(short, long)]
    env: Vec<String>,
    /// Working directory.
    #[arg(short, long)]
    workdir: Option<String>,
    /// user[:group], names or ids.
    #[arg(short, long)]
    user: Option<String>,
    /// Replace the image's entrypoint.
    #[arg(long)]
    entrypoint: Option<String>,
    /// Hostname.
    #[arg(long)]
    hostname: Option<String>,
    /// Image.
    image: String,
    /// Command and arguments (replace the image's Cmd).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

fn new_id() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

pub fn run(root: &Path, a: Args) -> anyhow::Result<i32> {
    let images = super::open(root)?;
    let img = images.resolve(&a.image)?;
    let layers = images.layers(&img)?;
    let id = new_id()?;
    let dir = root.join("containers").join(&id);
    for d in ["upper", "work", "rootfs", "bundle"] {
        std::fs::create_dir_all(dir.join(d)).with_context(|| format!("mkdir {}", dir.join(d).display()))?;
    }
    let result = run_in(&img, &layers, &dir, &id, &a);
    // Teardown whatever happened: the overlay and the container's directories.
    let _ = nix::mount::umount2(&dir.join("rootfs"), nix::mount::MntFlags::MNT_DETACH);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = a.rm;
    result
}

fn run_in(
    img: &hull_image::images::Image,
    layers: &[std::path::PathBuf],
    dir: &Path,
    id: &str,
    a: &Args,
) -> anyhow::Result<i32> {
    let rootfs = dir.join("rootfs");
    hull_image::snapshot::mount_overlay(layers, &dir.join("upper"), &dir.join("work"), &rootfs)?;
    let opts = SpecOptions {
        cmd: (!a.command.is_empty()).then(|| a.command.clone()),
        entrypoint: a.entrypoint.as_ref().map(|e| if e.is_empty() { Vec::new() } else { vec![e.clone()] }),
        env: a.env.clone(),
        workdir: a.workdir.clone(),
        user: a.user.clone(),
        hostname: a.hostname.clone(),
    };
    let mut spec = spec_for_image(&img.config, &rootfs, &opts)?;
    if let Some(linux) = spec.linux.as_mut() {
        linux.cgroups_path = Some(format!("/hull/{id}").into());
    }
    let bundle = dir.join("bundle");
    std::fs::write(bundle.join("config.json"), serde_json::to_vec_pretty(&spec)?)?;
    let runtime = hull_runtime::Runtime::new("/run/hull");
    let opts = hull_runtime::CreateOptions { id: id.to_string(), bundle, ..Default::default() };
    let (outcome, warnings) = runtime.run(&opts, false, false)?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(match outcome {
        hull_runtime::RunOutcome::Exited(code) => code,
        hull_runtime::RunOutcome::Detached => 0,
    })
}
