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
    /// A secret for RUN --mount=type=secret: id=ID,src=FILE (repeatable).
    #[arg(long)]
    secret: Vec<String>,
    /// The layers' compression: gzip or zstd.
    #[arg(long, default_value = "gzip")]
    compression: String,
    /// Where the result goes besides the store: type=local|tar|docker|oci,dest=PATH.
    #[arg(short, long)]
    output: Option<String>,
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
    let compression = match a.compression.as_str() {
        "gzip" => hull_image::manifest::Compression::Gzip,
        "zstd" => hull_image::manifest::Compression::Zstd,
        other => anyhow::bail!("invalid --compression {other:?}: want gzip or zstd"),
    };
    let mut secrets = BTreeMap::new();
    for s in &a.secret {
        let kv: BTreeMap<&str, &str> = s.split(',').filter_map(|p| p.split_once('=')).collect();
        let (Some(id), Some(src)) = (kv.get("id"), kv.get("src").or(kv.get("source"))) else {
            anyhow::bail!("invalid --secret {s:?}: want id=ID,src=FILE");
        };
        anyhow::ensure!(std::path::Path::new(src).is_file(), "--secret {id}: {src} is not a file");
        secrets.insert(id.to_string(), std::fs::canonicalize(src)?);
    }
    let output = a.output.as_deref().map(Output::parse).transpose()?;
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
        secrets,
        compression: Some(compression),
        // The CLI's pulls read the user's docker config.json.
        registry_auths: Default::default(),
    };
    let quiet = a.quiet;
    let live = !quiet && (a.progress == "tty" || (a.progress == "auto" && super::is_a_terminal(1)));
    let display = Live::start(live);
    let mut say = |line: &str| {
        if !quiet {
            display.say(line);
        }
    };
    let built = engine.build(req, &mut say);
    display.stop();
    let built = built?;
    if quiet {
        println!("{}", built.image.id);
    }
    if let Some(f) = &a.iidfile {
        std::fs::write(f, built.image.id.to_string())?;
    }
    if let Some(o) = output {
        o.write(engine, &built)?;
    }
    Ok(0)
}

/// `--output type=...,dest=...`.
struct Output {
    typ: String,
    dest: std::path::PathBuf,
}

impl Output {
    fn parse(s: &str) -> anyhow::Result<Output> {
        let kv: BTreeMap<&str, &str> = s.split(',').filter_map(|p| p.split_once('=')).collect();
        let typ = kv.get("type").copied().unwrap_or(if s.contains('=') { "" } else { "local" });
        let dest = kv.get("dest").copied().unwrap_or(if s.contains('=') { "" } else { s });
        anyhow::ensure!(
            matches!(typ, "local" | "tar" | "docker" | "oci"),
            "invalid --output {s:?}: type must be local, tar, docker or oci"
        );
        anyhow::ensure!(!dest.is_empty(), "invalid --output {s:?}: dest= is required");
        Ok(Output { typ: typ.to_string(), dest: dest.into() })
    }

    fn write(&self, engine: &Engine, built: &hull_engine::build::Built) -> anyhow::Result<()> {
        let id = built.image.id.to_string();
        match self.typ.as_str() {
            "docker" => {
                let name = built.tags.first().cloned().unwrap_or(id);
                let mut f = std::fs::File::create(&self.dest)?;
                engine.save(&[name], &mut f)?;
            }
            "oci" => {
                let name = built.tags.first().cloned().unwrap_or(id);
                let spool = tempfile::Builder::new().prefix(".oci-").tempdir_in(&engine.config().root)?;
                engine.images().save_layout(&name, &spool.path().join("layout"))?;
                let mut t = tar::Builder::new(std::fs::File::create(&self.dest)?);
                t.append_dir_all(".", spool.path().join("layout"))?;
                t.finish()?;
            }
            typ => {
                // The image's filesystem, flattened: through a created container.
                let c = engine.create(hull_engine::CreateRequest {
                    name: None,
                    config: hull_engine::ContainerConfig {
                        image: id,
                        cmd: Some(vec!["true".into()]),
                        entrypoint: Some(Vec::new()),
                        network: hull_engine::model::NetworkMode::None,
                        ..Default::default()
                    },
                })?;
                let r = (|| -> anyhow::Result<()> {
                    if typ == "tar" {
                        let mut f = std::io::BufWriter::new(std::fs::File::create(&self.dest)?);
                        engine.export(&c.id, &mut f)?;
                        std::io::Write::flush(&mut f)?;
                    } else {
                        std::fs::create_dir_all(&self.dest)?;
                        let spool = tempfile::Builder::new().prefix(".out-").tempfile_in(&engine.config().root)?;
                        let mut f = std::io::BufWriter::new(spool.reopen()?);
                        engine.export(&c.id, &mut f)?;
                        std::io::Write::flush(&mut f)?;
                        hull_engine::build::extract_context(&mut std::fs::File::open(spool.path())?, &self.dest)?;
                    }
                    Ok(())
                })();
                engine.remove(&c.id, true, true)?;
                r?;
            }
        }
        Ok(())
    }
}

/// `hull builder prune`.
#[derive(Debug, clap::Args)]
pub struct PruneArgs {
    /// Remove all of it (Hull keeps no partial cache: the same as without).
    #[arg(short, long)]
    all: bool,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    force: bool,
}

pub fn prune(engine: &Engine, a: PruneArgs) -> anyhow::Result<i32> {
    let _ = (a.all, a.force);
    let freed = engine.prune_build_cache()?;
    println!("Total reclaimed space: {}", super::human_size(freed));
    Ok(0)
}

/// The terminal's step display (`--progress tty`, or `auto` on a
/// terminal): the step under way on one line with its running time,
/// redrawn in place; its output above it; each step's time once done.
/// Otherwise lines are printed as they come (plain).
struct Live {
    state: std::sync::Arc<std::sync::Mutex<LiveState>>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

#[derive(Default)]
struct LiveState {
    live: bool,
    done: bool,
    step: Option<(String, std::time::Instant)>,
    cached: bool,
}

impl LiveState {
    fn status(&self, out: &mut dyn std::io::Write) {
        if let Some((step, since)) = &self.step {
            let _ = write!(out, "\r\x1b[K\x1b[1m{step}\x1b[0m  {:.1}s", since.elapsed().as_secs_f64());
            let _ = out.flush();
        }
    }
}

impl Live {
    fn start(live: bool) -> Live {
        let state = std::sync::Arc::new(std::sync::Mutex::new(LiveState { live, ..Default::default() }));
        let ticker = live.then(|| {
            let state = state.clone();
            std::thread::spawn(move || loop {
                std::thread::sleep(std::time::Duration::from_millis(100));
                let Ok(s) = state.lock() else { return };
                if s.done {
                    return;
                }
                s.status(&mut std::io::stdout().lock());
            })
        });
        Live { state, ticker }
    }

    fn say(&self, line: &str) {
        use std::io::Write;
        let Ok(mut s) = self.state.lock() else { return };
        let mut out = std::io::stdout().lock();
        if !s.live {
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
            return;
        }
        let text = line.trim_end_matches('\n');
        if text.starts_with("Step ") {
            s.step = Some((text.to_string(), std::time::Instant::now()));
            s.cached = false;
        } else if text == " ---> Using cache" {
            s.cached = true;
        } else if let Some(id) = text.strip_prefix(" ---> ") {
            if let Some((step, since)) = s.step.take() {
                let how =
                    if s.cached { "cached".to_string() } else { format!("{:.1}s", since.elapsed().as_secs_f64()) };
                let _ = writeln!(out, "\r\x1b[K\x1b[32m✔\x1b[0m {step}  {how}  {id}");
            }
        } else {
            let _ = write!(out, "\r\x1b[K");
            let _ = out.write_all(line.as_bytes());
            if !line.ends_with('\n') {
                let _ = writeln!(out);
            }
        }
        s.status(&mut out);
    }

    fn stop(self) {
        if let Ok(mut s) = self.state.lock() {
            s.done = true;
            if s.live && s.step.take().is_some() {
                use std::io::Write;
                let _ = writeln!(std::io::stdout().lock());
            }
        }
        if let Some(t) = self.ticker {
            let _ = t.join();
        }
    }
}
