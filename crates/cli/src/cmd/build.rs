//! `hull build`: an image from a Dockerfile and a context directory (or a
//! tar of one on stdin, `-`).

use hull_engine::build::BuildRequest;
use hull_engine::Engine;
use std::collections::BTreeMap;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name and optionally a tag (name:tag), repeatable.
    #[arg(short, long = "tag")]
    tag: Vec<String>,
    /// The Dockerfile (default: PATH/Dockerfile; - for stdin).
    #[arg(short, long)]
    file: Option<String>,
    /// Build-time variables (KEY=VALUE, or KEY to take it from the environment).
    #[arg(long = "build-arg")]
    build_arg: Vec<String>,
    /// Metadata of the image (KEY=VALUE).
    #[arg(long)]
    label: Vec<String>,
    /// The stage to build.
    #[arg(long)]
    target: Option<String>,
    /// Do not use the cache.
    #[arg(long)]
    no_cache: bool,
    /// Always pull the images FROM names.
    #[arg(long)]
    pull: bool,
    /// The network of RUN steps (default, none, host, or a network).
    #[arg(long)]
    network: Option<String>,
    /// Print only the image id.
    #[arg(short, long)]
    quiet: bool,
    /// Write the image id to this file.
    #[arg(long)]
    iidfile: Option<std::path::PathBuf>,
    /// Progress output: auto, plain or tty (Hull prints plain lines).
    #[arg(long, default_value = "auto")]
    progress: String,
    /// The build context: a directory, or - for a tar on stdin.
    path: String,
}

fn key_values(flag: &str, list: &[String], env: bool) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for kv in list {
        match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => {
                out.insert(k.to_string(), v.to_string());
            }
            None if env && !kv.is_empty() => {
                if let Ok(v) = std::env::var(kv) {
                    out.insert(kv.clone(), v);
                }
            }
            _ => anyhow::bail!("invalid {flag} {kv:?}: want KEY=VALUE"),
        }
    }
    Ok(out)
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    anyhow::ensure!(
        matches!(a.progress.as_str(), "auto" | "plain" | "tty"),
        "invalid --progress {:?}: want auto, plain or tty",
        a.progress
    );
    let build_args = key_values("--build-arg", &a.build_arg, true)?;
    let labels = key_values("--label", &a.label, false)?;
    // A tar on stdin is unpacked beside the store, and goes with the build.
    let spool;
    let context = if a.path == "-" {
        anyhow::ensure!(a.file.as_deref() != Some("-"), "the context and the Dockerfile cannot both come from stdin");
        spool = tempfile::Builder::new().prefix(".build-").tempdir_in(&engine.config().root)?;
        hull_engine::build::extract_context(&mut std::io::stdin().lock(), spool.path())?;
        spool.path().to_path_buf()
    } else {
        let p = std::path::PathBuf::from(&a.path);
        anyhow::ensure!(p.is_dir(), "unable to prepare context: path {:?} not found or not a directory", a.path);
        p
    };
    let (dockerfile, dockerfile_text) = match a.file.as_deref() {
        Some("-") => {
            let mut t = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut t)?;
            (None, Some(t))
        }
        // A Dockerfile outside the context is read from where it is.
        Some(f)
            if !std::path::Path::new(f).starts_with(&context) && std::path::Path::new(f).is_file() && a.path != "-" =>
        {
            (None, Some(std::fs::read_to_string(f).map_err(|e| anyhow::anyhow!("read {f}: {e}"))?))
        }
        Some(f) => (Some(f.strip_prefix(&format!("{}/", a.path.trim_end_matches('/'))).unwrap_or(f).to_string()), None),
        None => (None, None),
    };
    let req = BuildRequest {
        context,
        dockerfile,
        dockerfile_text,
        tags: a.tag.clone(),
        build_args,
        labels,
        target: a.target.clone(),
        no_cache: a.no_cache,
        pull: a.pull,
        network: a.network.clone(),
        cgroup_parent: None,
        cancel: None,
    };
    let quiet = a.quiet;
    let mut say = |line: &str| {
        if !quiet {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        }
    };
    let built = engine.build(req, &mut say)?;
    if quiet {
        println!("{}", built.image.id);
    }
    if let Some(f) = &a.iidfile {
        std::fs::write(f, built.image.id.to_string())?;
    }
    Ok(0)
}
