//! `build`: images from Dockerfiles. The Dockerfile is parsed by
//! `parse-dockerfile`; each stage starts FROM an image, `scratch` or an
//! earlier stage; RUN is a real container through the engine (docker's
//! default security, the build's network) whose changes are committed as a
//! layer; COPY and ADD put files from the context (or another stage) into a
//! created container through the archive API (so every path resolves inside
//! its root) and commit that; the config-only instructions add history
//! without a layer. Every step is cached by its parent image and its
//! instruction, and COPY/ADD by the content of what they read.

use crate::dockerfile::{self, env_value, expand};
use crate::error::{io, EngineError, Result};
use crate::model::{ContainerConfig, NetworkMode};
use crate::{CreateRequest, Engine};
use hull_image::images::{CommitRequest, Image};
use hull_image::manifest::ExecConfig;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct BuildRequest {
    /// The build context: a directory on the host.
    pub context: PathBuf,
    /// The Dockerfile's path in the context (default `Dockerfile`).
    pub dockerfile: Option<String>,
    /// The Dockerfile's text, when given apart from the context (`-f -`).
    pub dockerfile_text: Option<String>,
    /// Names for the image (`-t`, repeatable).
    pub tags: Vec<String>,
    /// `--build-arg KEY=VALUE` (a key without a value takes the environment's).
    pub build_args: BTreeMap<String, String>,
    /// `--label`s of the final image.
    pub labels: BTreeMap<String, String>,
    /// The stage to stop at (`--target`).
    pub target: Option<String>,
    /// Run every step (`--no-cache`).
    pub no_cache: bool,
    /// Pull FROM images even when present (`--pull`).
    pub pull: bool,
    /// The network of RUN steps (`--network`; default: the default network).
    pub network: Option<String>,
    /// The cgroup parent of RUN containers.
    pub cgroup_parent: Option<String>,
    /// Set when the client is gone: the build stops at the next step.
    pub cancel: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// `--secret id=ID,src=FILE`: what `RUN --mount=type=secret,id=ID` sees.
    pub secrets: BTreeMap<String, PathBuf>,
    /// The layers' compression (`--compression`; gzip by default).
    pub compression: Option<hull_image::manifest::Compression>,
    /// Credentials for FROM pulls, by registry (the API's X-Registry-Config).
    pub registry_auths: BTreeMap<String, crate::RegistryAuth>,
}

/// What a build made.
#[derive(Debug, Clone)]
pub struct Built {
    /// The final image.
    pub image: Image,
    /// The tags it was given.
    pub tags: Vec<String>,
}

impl BuildRequest {
    /// SOURCE_DATE_EPOCH, from the build args (BuildKit's way).
    fn epoch(&self) -> Option<i64> {
        self.build_args.get("SOURCE_DATE_EPOCH").and_then(|v| v.parse().ok())
    }

    fn layer_options(&self) -> hull_image::diff::LayerOptions {
        hull_image::diff::LayerOptions {
            compression: self.compression.unwrap_or(hull_image::manifest::Compression::Gzip),
            source_date_epoch: self.epoch(),
        }
    }
}

fn bad(msg: impl Into<String>) -> EngineError {
    EngineError::Invalid(msg.into())
}

/// The args predefined by docker, usable without an ARG line.
const PREDEFINED: [&str; 8] =
    ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy"];

/// The state of the stage being built.
struct Stage {
    parent: Option<Image>,
    config: ExecConfig,
    /// ARGs in scope, with their values.
    args: BTreeMap<String, String>,
    shell: Vec<String>,
    /// The here-documents of the COPY being built: (name, content).
    here_docs: Vec<(String, String)>,
}

impl Stage {
    /// A variable for expansion: the image's ENV first, then ARGs.
    fn var(&self, k: &str) -> Option<String> {
        env_value(&self.config, k).or_else(|| self.args.get(k).cloned())
    }
}

/// The build cache: a step's key → the image it made.
struct Cache {
    path: PathBuf,
}

impl Cache {
    /// The image a step made before, if the cache may be used and the
    /// image is still in the store.
    fn hit(&self, engine: &Engine, req: &BuildRequest, key: &str) -> Option<Image> {
        if req.no_cache {
            return None;
        }
        self.get(key).and_then(|id| engine.images.resolve(&id).ok())
    }

    fn get(&self, key: &str) -> Option<String> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        let map: BTreeMap<String, String> = serde_json::from_str(&text).ok()?;
        map.get(key).cloned()
    }

    fn put(&self, key: &str, image: &str) -> Result<()> {
        let lock_path = self.path.with_extension("lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io("open", lock_path.display()))?;
        fs2::FileExt::lock_exclusive(&lock).map_err(io("lock", lock_path.display()))?;
        let mut map: BTreeMap<String, String> =
            std::fs::read_to_string(&self.path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        map.insert(key.to_string(), image.to_string());
        let tmp = self.path.with_extension("tmp");
        std::fs::write(&tmp, serde_json::to_vec(&map).unwrap_or_default()).map_err(io("write", tmp.display()))?;
        std::fs::rename(&tmp, &self.path).map_err(io("rename", self.path.display()))?;
        Ok(())
    }
}

fn step_key(parent: Option<&Image>, what: &str) -> String {
    let base = parent.map(|p| p.id.to_string()).unwrap_or_else(|| "scratch".into());
    hull_image::digest::Digest::sha256(format!("{base}\n{what}").as_bytes()).to_string()
}

/// One record of the build cache, as `system df` counts it.
#[derive(Debug, Clone)]
pub struct BuildCacheUsage {
    /// The step's key, or the cache mount's id.
    pub id: String,
    /// docker's type: `regular` (a step's image) or `exec.cachemount`.
    pub kind: &'static str,
    /// Bytes on disk (a step's own layer; a cache mount's contents).
    pub size: u64,
}

impl Engine {
    /// The build cache: each cached step, each RUN cache mount.
    pub fn build_cache_usage(&self) -> Vec<BuildCacheUsage> {
        let mut out = Vec::new();
        let cache = self.build_cache();
        let map: BTreeMap<String, String> =
            std::fs::read_to_string(&cache.path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        for (key, image) in map {
            let Ok(img) = self.images.resolve(&image) else { continue };
            let size =
                self.images.chain_ids(&img).last().and_then(|c| self.images.snapshots.unpacked_size(c)).unwrap_or(0);
            out.push(BuildCacheUsage { id: key, kind: "regular", size });
        }
        let mounts = self.cfg.root.join("build-cache-mounts");
        for d in std::fs::read_dir(&mounts).into_iter().flatten().flatten() {
            out.push(BuildCacheUsage {
                id: d.file_name().to_string_lossy().into_owned(),
                kind: "exec.cachemount",
                size: crate::usage::dir_size(&d.path()),
            });
        }
        out
    }

    /// `builder prune`: forgets every cached step, removes the RUN cache
    /// mounts, then the images only the cache kept; the bytes freed.
    pub fn prune_build_cache(&self) -> Result<u64> {
        let mut freed: u64 =
            self.build_cache_usage().iter().filter(|u| u.kind == "exec.cachemount").map(|u| u.size).sum();
        let cache = self.build_cache();
        match std::fs::remove_file(&cache.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io("remove", cache.path.display())(e)),
            _ => {}
        }
        let mounts = self.cfg.root.join("build-cache-mounts");
        match std::fs::remove_dir_all(&mounts) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io("remove", mounts.display())(e)),
            _ => {}
        }
        freed += self.prune_images()?;
        Ok(freed)
    }

    fn build_cache(&self) -> Cache {
        Cache { path: self.cfg.root.join("build-cache.json") }
    }

    /// Builds an image; `say` gets docker's progress lines (`Step 1/3 : FROM
    /// busybox`, the RUN output, ` ---> 3f2a...`).
    pub fn build(&self, req: BuildRequest, say: &mut dyn FnMut(&str)) -> Result<Built> {
        let text = match &req.dockerfile_text {
            Some(t) => t.clone(),
            None => {
                let name = req.dockerfile.clone().unwrap_or_else(|| "Dockerfile".into());
                let root = hull_rootpath::Root::open(&req.context)
                    .map_err(|e| bad(format!("the build context {}: {e}", req.context.display())))?;
                let data = root
                    .read_regular(Path::new(&name), 16 << 20)
                    .map_err(|e| bad(format!("cannot read the Dockerfile {name:?} in the build context: {e}")))?;
                String::from_utf8(data).map_err(|_| bad(format!("the Dockerfile {name:?} is not UTF-8 text")))?
            }
        };
        let file = req.dockerfile.clone().unwrap_or_else(|| {
            if req.dockerfile_text.is_some() {
                "the Dockerfile".into()
            } else {
                "Dockerfile".into()
            }
        });
        let df = parse_dockerfile::parse(&text).map_err(|e| bad(format!("{file}:{}: {e}", e.line())))?;
        let escape = df.parser_directives.escape.as_ref().map_or('\\', |d| d.value.value);
        for t in &req.tags {
            t.parse::<hull_image::reference::Reference>().map_err(|e| bad(e.to_string()))?;
        }
        // Global ARGs: usable in FROM lines, and redeclared in stages.
        let mut global: BTreeMap<String, String> = BTreeMap::new();
        for a in df.global_args() {
            let arg = expand(&a.arguments.value, &|k| global.get(k).cloned(), escape)?;
            let (k, v) = arg.split_once('=').map_or((arg.as_str(), None), |(k, v)| (k, Some(v.to_string())));
            let v = req.build_args.get(k).cloned().or(v).unwrap_or_default();
            global.insert(k.to_string(), v);
        }
        let stages: Vec<_> = df.stages().collect();
        if stages.is_empty() {
            return Err(bad("the Dockerfile has no FROM"));
        }
        let names: Vec<Option<String>> =
            stages.iter().map(|s| s.from.as_.as_ref().map(|(_, n)| n.value.to_ascii_lowercase())).collect();
        let last = match &req.target {
            Some(t) => names
                .iter()
                .position(|n| n.as_deref() == Some(&t.to_ascii_lowercase()))
                .ok_or_else(|| bad(format!("target stage {t:?} could not be found")))?,
            None => stages.len() - 1,
        };
        let total: usize = stages[..=last].iter().map(|s| 1 + s.instructions.len()).sum();
        let mut step = 0;
        let mut built: Vec<Image> = Vec::new();
        let cache = self.build_cache();
        for (si, s) in stages[..=last].iter().enumerate() {
            let from = expand(&s.from.image.value, &|k| global.get(k).cloned(), escape)?;
            step += 1;
            say(&format!(
                "Step {step}/{total} : FROM {from}{}\n",
                names[si].as_ref().map(|n| format!(" AS {n}")).unwrap_or_default()
            ));
            let parent = if from.eq_ignore_ascii_case("scratch") {
                None
            } else if let Some(i) = names[..si].iter().position(|n| n.as_deref() == Some(&from.to_ascii_lowercase())) {
                Some(built[i].clone())
            } else if names[si..].iter().any(|n| n.as_deref() == Some(&from.to_ascii_lowercase())) {
                return Err(bad(format!(
                    "FROM {from}: a stage can build only on an earlier stage (this one is itself or later: a cycle)"
                )));
            } else {
                Some(self.base_image(&req, &from, req.pull, say)?)
            };
            let config = parent.as_ref().and_then(|p| p.config.config.clone()).unwrap_or_default();
            let shell = config.shell.clone().unwrap_or_else(dockerfile::default_shell);
            let mut st = Stage { parent, config, args: BTreeMap::new(), shell, here_docs: Vec::new() };
            // The proxy args reach RUN without an ARG line, as docker's do.
            for k in PREDEFINED {
                if let Some(v) = req.build_args.get(k) {
                    st.args.insert(k.to_string(), v.clone());
                }
            }
            if let Some(p) = &st.parent {
                say(&format!(" ---> {}\n", short(&p.id.to_string())));
            }
            for ins in s.instructions {
                if req.cancel.as_ref().is_some_and(|c| c.load(std::sync::atomic::Ordering::Relaxed)) {
                    return Err(bad("the build was cancelled"));
                }
                step += 1;
                let line = instruction_text(&text, ins, escape);
                say(&format!("Step {step}/{total} : {line}\n"));
                self.build_step(&req, &mut st, ins, &line, &built, &names, &cache, escape, &global, say)?;
                if let Some(p) = &st.parent {
                    say(&format!(" ---> {}\n", short(&p.id.to_string())));
                }
            }
            let img = match st.parent.take() {
                Some(p) => p,
                None => return Err(bad("a stage FROM scratch that adds nothing makes no image")),
            };
            built.push(img);
        }
        let mut img = built.pop().ok_or_else(|| bad("no stage was built"))?;
        if !req.labels.is_empty() {
            let line =
                format!("LABEL {}", req.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect::<Vec<_>>().join(" "));
            let key = step_key(Some(&img), &line);
            match cache.hit(self, &req, &key) {
                Some(hit) => img = hit,
                None => {
                    let mut cfg = img.config.config.clone().unwrap_or_default();
                    cfg.labels.get_or_insert_with(Default::default).extend(req.labels.clone());
                    img = self.commit_config_step(&img, cfg, &line, req.epoch())?;
                    cache.put(&key, &img.id.to_string())?;
                }
            }
        }
        say(&format!("Successfully built {}\n", short(&img.id.to_string())));
        for t in &req.tags {
            self.tag_image(&img.id.to_string(), t)?;
            say(&format!("Successfully tagged {t}\n"));
        }
        self.emit("image", "build", &img.id.to_string(), Default::default());
        Ok(Built { image: img, tags: req.tags.clone() })
    }

    /// `RUN --mount=type=cache|tmpfs|bind|secret,...` as the step
    /// container's mount: a cache directory kept under the root between
    /// builds, a tmpfs, a path of the context (read-only unless `rw`,
    /// resolved inside it), a secret file given with `--secret`.
    fn run_mount(&self, req: &BuildRequest, spec: &str) -> Result<crate::model::MountSpec> {
        use crate::model::{MountKind, MountSpec};
        let mut kv: BTreeMap<String, String> = BTreeMap::new();
        for part in spec.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, "true"));
            kv.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
        let typ = kv.get("type").map(String::as_str).unwrap_or("bind").to_string();
        let target = kv.get("target").or(kv.get("dst")).or(kv.get("destination")).cloned();
        let flag = |k: &str| kv.get(k).is_some_and(|v| v != "false");
        let allowed: &[&str] = match typ.as_str() {
            "cache" => {
                &["type", "target", "dst", "destination", "id", "sharing", "readonly", "ro", "mode", "uid", "gid"]
            }
            "tmpfs" => &["type", "target", "dst", "destination", "size"],
            "bind" => &["type", "target", "dst", "destination", "source", "src", "rw", "readwrite", "readonly", "ro"],
            "secret" => &["type", "target", "dst", "destination", "id", "required", "mode", "uid", "gid"],
            other => return Err(bad(format!("RUN --mount type={other}: want cache, tmpfs, bind or secret"))),
        };
        if let Some(k) = kv.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(bad(format!("RUN --mount type={typ}: unknown key {k:?}")));
        }
        let need_target = || target.clone().ok_or_else(|| bad(format!("RUN --mount type={typ} needs a target")));
        match typ.as_str() {
            "cache" => {
                let target = need_target()?;
                let id = kv.get("id").cloned().unwrap_or_else(|| target.clone());
                let dir = self
                    .cfg
                    .root
                    .join("build-cache-mounts")
                    .join(hull_image::digest::Digest::sha256(id.as_bytes()).hex());
                if !dir.exists() {
                    std::fs::create_dir_all(&dir).map_err(io("mkdir", dir.display()))?;
                    let mode = kv
                        .get("mode")
                        .map(|m| u32::from_str_radix(m, 8))
                        .transpose()
                        .map_err(|_| bad("RUN --mount mode: want octal"))?;
                    use std::os::unix::fs::PermissionsExt;
                    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(mode.unwrap_or(0o755)))
                        .map_err(io("chmod", dir.display()))?;
                    let num = |k: &str| {
                        kv.get(k)
                            .map(|v| v.parse::<u32>())
                            .transpose()
                            .map_err(|_| bad(format!("RUN --mount {k}: want a number")))
                    };
                    let (uid, gid) = (num("uid")?, num("gid")?);
                    if uid.is_some() || gid.is_some() {
                        std::os::unix::fs::chown(&dir, uid, gid).map_err(io("chown", dir.display()))?;
                    }
                }
                Ok(MountSpec {
                    kind: MountKind::Bind,
                    source: dir.display().to_string(),
                    target,
                    readonly: flag("readonly") || flag("ro"),
                    options: Vec::new(),
                    anonymous: false,
                })
            }
            "tmpfs" => {
                let options = kv.get("size").map(|s| vec![format!("size={s}")]).unwrap_or_default();
                Ok(MountSpec {
                    kind: MountKind::Tmpfs,
                    target: need_target()?,
                    options,
                    source: String::new(),
                    readonly: false,
                    anonymous: false,
                })
            }
            "bind" => {
                let target = need_target()?;
                let source = kv.get("source").or(kv.get("src")).cloned().unwrap_or_default();
                let root =
                    hull_rootpath::Root::open(&req.context).map_err(|e| bad(format!("the build context: {e}")))?;
                // Resolved inside the context: a link in it cannot bind a host path.
                let fd =
                    root.resolve(Path::new(&source)).map_err(|e| bad(format!("RUN --mount source {source:?}: {e}")))?;
                let real = std::fs::read_link(hull_rootpath::fd_path(&fd)).map_err(io("resolve", &source))?;
                let rw = flag("rw") || flag("readwrite");
                Ok(MountSpec {
                    kind: MountKind::Bind,
                    source: real.display().to_string(),
                    target,
                    readonly: !rw,
                    options: Vec::new(),
                    anonymous: false,
                })
            }
            _ => {
                let id = kv.get("id").cloned().ok_or_else(|| bad("RUN --mount type=secret needs an id"))?;
                let target = target.unwrap_or_else(|| format!("/run/secrets/{id}"));
                match req.secrets.get(&id) {
                    Some(src) => Ok(MountSpec {
                        kind: MountKind::Bind,
                        source: src.display().to_string(),
                        target,
                        readonly: true,
                        options: Vec::new(),
                        anonymous: false,
                    }),
                    None if flag("required") => {
                        Err(bad(format!("secret {id} not found: give it with --secret id={id},src=FILE")))
                    }
                    // docker: an optional secret that is not given is an empty tmpfs.
                    None => Ok(MountSpec {
                        kind: MountKind::Tmpfs,
                        target,
                        source: String::new(),
                        readonly: false,
                        options: Vec::new(),
                        anonymous: false,
                    }),
                }
            }
        }
    }

    fn base_image(&self, req: &BuildRequest, from: &str, pull: bool, say: &mut dyn FnMut(&str)) -> Result<Image> {
        if !pull {
            if let Ok(img) = self.images.resolve(from) {
                return Ok(img);
            }
        }
        say(&format!("Pulling {from}\n"));
        let registry = from.parse::<hull_image::reference::Reference>().map(|r| r.registry).unwrap_or_default();
        let auth = crate::RegistryAuth::for_registry(&req.registry_auths, &registry);
        self.pull(crate::PullRequest { reference: from.to_string(), auth, ..Default::default() })?;
        Ok(self.images.resolve(from)?)
    }

    fn commit_config_step(&self, parent: &Image, config: ExecConfig, line: &str, epoch: Option<i64>) -> Result<Image> {
        let _lease = self.images.store.ingest_lease().map_err(hull_image::images::ImageError::from)?;
        Ok(self.images.commit(CommitRequest {
            parent: Some(parent),
            layer: None,
            config,
            author: None,
            created_by: format!("/bin/sh -c #(nop)  {line}"),
            comment: None,
            created: crate::container::commit::created_at(epoch),
            tag: None,
        })?)
    }

    #[allow(clippy::too_many_arguments)]
    fn build_step(
        &self,
        req: &BuildRequest,
        st: &mut Stage,
        ins: &parse_dockerfile::Instruction<'_>,
        line: &str,
        built: &[Image],
        names: &[Option<String>],
        cache: &Cache,
        escape: char,
        global: &BTreeMap<String, String>,
        say: &mut dyn FnMut(&str),
    ) -> Result<()> {
        use parse_dockerfile::Instruction as I;
        let key = step_key(st.parent.as_ref(), line);
        let ex = |st: &Stage, s: &str| expand(s, &|k| st.var(k), escape);
        let mut config = st.config.clone();
        match ins {
            I::Arg(a) => {
                let arg = ex(st, &a.arguments.value)?;
                let (k, default) = arg.split_once('=').map_or((arg.as_str(), None), |(k, v)| (k, Some(v.to_string())));
                let v =
                    req.build_args.get(k).cloned().or(default).or_else(|| global.get(k).cloned()).unwrap_or_default();
                st.args.insert(k.to_string(), v);
                return Ok(());
            }
            I::Run(r) => {
                let mut network = req.network.clone();
                let mut mounts = Vec::new();
                for f in &r.options {
                    match (f.name.value.as_ref(), f.value.as_ref().map(|v| v.value.as_ref())) {
                        ("network", Some(n)) => network = Some(n.to_string()),
                        ("mount", Some(m)) => mounts.push(self.run_mount(req, &ex(st, m)?)?),
                        (name, _) => {
                            return Err(bad(format!("RUN --{name} is not supported by Hull's builder yet")));
                        }
                    }
                }
                let mut cmd = match &r.arguments {
                    parse_dockerfile::Command::Exec(v) => v.value.iter().map(|s| s.value.to_string()).collect(),
                    parse_dockerfile::Command::Shell(s) => {
                        st.shell.iter().cloned().chain(std::iter::once(s.value.to_string())).collect::<Vec<_>>()
                    }
                    _ => return Err(bad(format!("{line}: a command form Hull's builder does not know"))),
                };
                if !r.here_docs.is_empty() {
                    cmd = with_here_docs(cmd, &r.here_docs, &st.shell, &|s| ex(st, s))?;
                }
                let args_env: Vec<String> = st.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let what = format!(
                    "RUN {}\n{}\n{}\n{}",
                    serde_json::to_string(&cmd).unwrap_or_default(),
                    args_env.join("\n"),
                    network.clone().unwrap_or_default(),
                    mounts
                        .iter()
                        .map(|m: &crate::model::MountSpec| format!(
                            "{:?}",
                            (m.kind.as_str(), &m.target, m.readonly, &m.options)
                        ))
                        .collect::<Vec<_>>()
                        .join("\n")
                );
                let key = step_key(st.parent.as_ref(), &what);
                if let Some(img) = cache.hit(self, req, &key) {
                    say(" ---> Using cache\n");
                    st.parent = Some(img);
                    return Ok(());
                }
                let parent = st.parent.clone().ok_or_else(|| bad("RUN in a stage FROM scratch has nothing to run"))?;
                let img = self.run_step(req, st, &parent, cmd, args_env, network, mounts, say)?;
                cache.put(&key, &img.id.to_string())?;
                st.parent = Some(img);
                return Ok(());
            }
            I::Copy(c) => {
                let from = c
                    .options
                    .iter()
                    .find(|f| f.name.value == "from")
                    .and_then(|f| f.value.as_ref())
                    .map(|v| v.value.to_string());
                // Here-documents are files named by their `<<NAME`, in order.
                let mut doc_names = line
                    .match_indices("<<")
                    .map(|(i, _)| {
                        let rest = line[i + 2..].trim_start_matches('-');
                        let rest = rest.trim_start_matches(['"', '\'']);
                        rest.chars().take_while(|c| !c.is_whitespace() && *c != '"' && *c != '\'').collect::<String>()
                    })
                    .collect::<Vec<_>>()
                    .into_iter();
                let mut srcs: Vec<String> = Vec::new();
                st.here_docs.clear();
                for s in &c.src {
                    match s {
                        parse_dockerfile::Source::Path(p) => srcs.push(ex(st, &p.value)?),
                        parse_dockerfile::Source::HereDoc(d) => {
                            let body = if d.expand { ex(st, &d.value)? } else { d.value.to_string() };
                            let name = doc_names.next().unwrap_or_else(|| "heredoc".into());
                            st.here_docs.push((name, body));
                        }
                        _ => return Err(bad(format!("{line}: a source Hull's builder does not know"))),
                    }
                }
                let dest = ex(st, &c.dest.value)?;
                let flags = copy_flags(&c.options, &["from", "chown", "chmod", "link"])?;
                return self.copy_step(
                    req,
                    st,
                    &srcs,
                    &dest,
                    from.as_deref(),
                    &flags,
                    false,
                    built,
                    names,
                    cache,
                    line,
                    say,
                );
            }
            I::Add(a) => {
                let srcs: Vec<String> = a
                    .src
                    .iter()
                    .map(|s| match s {
                        parse_dockerfile::Source::Path(p) => ex(st, &p.value),
                        parse_dockerfile::Source::HereDoc(_) => {
                            Err(bad("ADD from a here-document is not supported by Hull's builder yet"))
                        }
                        _ => Err(bad(format!("{line}: a source Hull's builder does not know"))),
                    })
                    .collect::<Result<_>>()?;
                let dest = ex(st, &a.dest.value)?;
                let flags = copy_flags(&a.options, &["chown", "chmod", "link"])?;
                return self.copy_step(req, st, &srcs, &dest, None, &flags, true, built, names, cache, line, say);
            }
            I::Env(e) => {
                for (k, v) in dockerfile::key_values(&e.arguments.value, escape, "ENV")? {
                    let v = ex(st, &v)?;
                    dockerfile::set_env(&mut config, &k, &v);
                    st.config = config.clone();
                }
            }
            I::Label(l) => {
                let labels = config.labels.get_or_insert_with(BTreeMap::new);
                for (k, v) in dockerfile::key_values(&l.arguments.value, escape, "LABEL")? {
                    labels.insert(ex(st, &k)?, ex(st, &v)?);
                }
            }
            I::Cmd(c) => config.cmd = Some(command_of(&c.arguments, &st.shell)),
            I::Entrypoint(e) => {
                config.entrypoint = Some(command_of(&e.arguments, &st.shell));
                config.cmd = None;
            }
            I::Expose(e) => {
                let ports: Vec<String> = e.arguments.iter().map(|p| ex(st, &p.value)).collect::<Result<_>>()?;
                dockerfile::apply(&mut config, "EXPOSE", &ports.join(" "), &st.shell, escape)?;
            }
            I::Volume(v) => {
                let list: Vec<String> = match &v.arguments {
                    parse_dockerfile::JsonOrStringArray::Json(a) => {
                        a.value.iter().map(|s| s.value.to_string()).collect()
                    }
                    parse_dockerfile::JsonOrStringArray::String(a) => a.iter().map(|s| s.value.to_string()).collect(),
                };
                let list: Vec<String> = list.iter().map(|s| ex(st, s)).collect::<Result<_>>()?;
                dockerfile::apply(
                    &mut config,
                    "VOLUME",
                    &serde_json::to_string(&list).unwrap_or_default(),
                    &st.shell,
                    escape,
                )?;
            }
            I::User(u) => {
                dockerfile::apply(&mut config, "USER", &ex(st, &u.arguments.value)?, &st.shell, escape).map(drop)?
            }
            I::Workdir(w) => {
                dockerfile::apply(&mut config, "WORKDIR", &ex(st, &w.arguments.value)?, &st.shell, escape).map(drop)?
            }
            I::Stopsignal(s) => {
                dockerfile::apply(&mut config, "STOPSIGNAL", &ex(st, &s.arguments.value)?, &st.shell, escape)
                    .map(drop)?
            }
            I::Shell(s) => {
                let shell: Vec<String> = s.arguments.iter().map(|a| a.value.to_string()).collect();
                if shell.is_empty() {
                    return Err(bad("SHELL requires at least one argument"));
                }
                config.shell = Some(shell.clone());
                st.shell = shell;
            }
            I::Maintainer(_) => {}
            I::Onbuild(_) => {
                let rest = line.trim_start().get(7..).unwrap_or("").trim();
                dockerfile::apply(&mut config, "ONBUILD", rest, &st.shell, escape)?;
            }
            I::Healthcheck(h) => config.healthcheck = Some(healthcheck(h, &st.shell)?),
            I::From(_) => return Err(bad("FROM inside a stage")),
            _ => return Err(bad(format!("{line}: an instruction Hull's builder does not know"))),
        }
        let parent = st
            .parent
            .clone()
            .ok_or_else(|| bad(format!("{line}: a stage FROM scratch needs a layer before its config")))?;
        if let Some(img) = cache.hit(self, req, &key) {
            say(" ---> Using cache\n");
            st.config = config;
            st.parent = Some(img);
            return Ok(());
        }
        let img = self.commit_config_step(&parent, config.clone(), line, req.epoch())?;
        cache.put(&key, &img.id.to_string())?;
        st.config = config;
        st.parent = Some(img);
        Ok(())
    }

    /// A RUN: a container of the stage's image running `cmd`, its output
    /// said as it comes, its changes committed when it exits 0.
    #[allow(clippy::too_many_arguments)]
    fn run_step(
        &self,
        req: &BuildRequest,
        st: &Stage,
        parent: &Image,
        cmd: Vec<String>,
        args_env: Vec<String>,
        network: Option<String>,
        mounts: Vec<crate::model::MountSpec>,
        say: &mut dyn FnMut(&str),
    ) -> Result<Image> {
        let network = match network.as_deref() {
            None | Some("default") | Some("") => NetworkMode::from("bridge"),
            Some(n) => NetworkMode::from(n),
        };
        let config = ContainerConfig {
            image: parent.id.to_string(),
            cmd: Some(cmd.clone()),
            entrypoint: Some(Vec::new()),
            env: args_env,
            user: st.config.user.clone(),
            workdir: st.config.working_dir.clone(),
            network,
            mounts,
            cgroup_parent: req.cgroup_parent.clone(),
            labels: [("hull.build".to_string(), "step".to_string())].into(),
            ..Default::default()
        };
        // Mount points the image lacks are made for the step and removed
        // before its commit (BuildKit leaves no mount stubs either).
        let layers: Vec<hull_rootpath::Root> =
            self.images.layers(parent)?.iter().filter_map(|l| hull_rootpath::Root::open(l).ok()).collect();
        let stubs: Vec<PathBuf> = config
            .mounts
            .iter()
            .flat_map(|m| {
                let p = PathBuf::from(clean_rel(&m.target));
                p.ancestors().map(Path::to_path_buf).filter(|a| !a.as_os_str().is_empty()).collect::<Vec<_>>()
            })
            .filter(|a| !layers.iter().any(|r| r.exists(a)))
            .collect();
        let c = self.create(CreateRequest { name: None, config })?;
        let id = c.id.clone();
        let result = (|| -> Result<Image> {
            self.start(&id, None)?;
            let opts = crate::LogOptions { follow: true, ..Default::default() };
            let mut last: std::collections::VecDeque<String> = Default::default();
            self.logs(&id, &opts, &mut |e| {
                say(&e.log);
                if last.len() == 5 {
                    last.pop_front();
                }
                last.push_back(e.log.trim_end().to_string());
                true
            })?;
            let code = self.wait(&id)?;
            self.remove_stubs(&id, &stubs);
            if code != 0 {
                let tail = if last.is_empty() {
                    String::new()
                } else {
                    format!("; its last output:\n{}", last.iter().map(String::as_str).collect::<Vec<_>>().join("\n"))
                };
                return Err(bad(format!("The command '{}' returned a non-zero code: {code}{tail}", cmd.join(" "))));
            }
            let img = self.commit(
                &id,
                crate::CommitOptions {
                    config: Some(st.config.clone()),
                    layer: req.layer_options(),
                    created_by: Some(format!("RUN {}", cmd.join(" "))),
                    ..Default::default()
                },
            )?;
            Ok(img)
        })();
        if let Err(e) = self.remove(&id, true, true) {
            tracing::warn!(container = %id, "build: remove the step's container: {e}");
        }
        let img = result?;
        // The step's own history line, as docker writes it.
        Ok(img)
    }

    /// Removes the empty mount points a RUN step made (deepest first),
    /// through the upper directory's descriptors.
    fn remove_stubs(&self, id: &str, stubs: &[PathBuf]) {
        let upper = self.container_dir(id).join("upper");
        let Ok(root) = hull_rootpath::Root::open(&upper) else { return };
        let mut stubs = stubs.to_vec();
        stubs.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
        stubs.dedup();
        for s in stubs {
            let Ok((parent, name)) = root.parent_of(&s) else { continue };
            let dirfd = Some(std::os::fd::AsRawFd::as_raw_fd(&parent));
            // An empty directory, or the empty file a file's bind was made
            // on; anything with content stays.
            let st = nix::sys::stat::fstatat(dirfd, name.as_os_str(), nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW);
            let flag = match st {
                Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFDIR => nix::unistd::UnlinkatFlags::RemoveDir,
                Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFREG && st.st_size == 0 => {
                    nix::unistd::UnlinkatFlags::NoRemoveDir
                }
                _ => continue,
            };
            let _ = nix::unistd::unlinkat(dirfd, name.as_os_str(), flag);
        }
    }

    /// COPY and ADD: the sources as one tar put into a created container of
    /// the stage's image at `/`, committed.
    #[allow(clippy::too_many_arguments)]
    fn copy_step(
        &self,
        req: &BuildRequest,
        st: &mut Stage,
        srcs: &[String],
        dest: &str,
        from: Option<&str>,
        flags: &BTreeMap<String, String>,
        add: bool,
        built: &[Image],
        names: &[Option<String>],
        cache: &Cache,
        line: &str,
        say: &mut dyn FnMut(&str),
    ) -> Result<()> {
        let docs = std::mem::take(&mut st.here_docs);
        if srcs.is_empty() && docs.is_empty() {
            return Err(bad(format!("{line}: requires at least two arguments")));
        }
        let workdir = st.config.working_dir.clone().unwrap_or_else(|| "/".into());
        let dest_abs =
            if dest.starts_with('/') { dest.to_string() } else { format!("{}/{dest}", workdir.trim_end_matches('/')) };
        let into_dir = dest.ends_with('/') || srcs.len() + docs.len() > 1 || dest == ".";
        let (uid, gid) = match flags.get("chown") {
            Some(c) => self.resolve_owner(st.parent.as_ref(), c)?,
            None => (0, 0),
        };
        let chmod = match flags.get("chmod") {
            Some(m) => Some(u32::from_str_radix(m, 8).map_err(|_| bad(format!("invalid --chmod {m:?}: want octal")))?),
            None => None,
        };
        // The files, gathered as (path in the image, what it is).
        let mut files: Vec<(String, Entry)> = Vec::new();
        match from {
            Some(f) => {
                let img = match names.iter().position(|n| n.as_deref() == Some(&f.to_ascii_lowercase())) {
                    Some(i) if i < built.len() => built[i].clone(),
                    Some(_) => {
                        return Err(bad(format!("COPY --from={f}: that stage is this one or a later one (a cycle)")))
                    }
                    None => match f.parse::<usize>() {
                        Ok(i) if i < built.len() => built[i].clone(),
                        Ok(_) => return Err(bad(format!("COPY --from={f}: no such stage"))),
                        _ => self.base_image(req, f, false, say).map_err(|e| {
                            bad(format!("COPY --from={f}: no stage of that name, and not an image: {e}"))
                        })?,
                    },
                };
                for s in srcs {
                    self.gather_from_image(&img, s, &dest_abs, into_dir, &mut files)?;
                }
            }
            None => {
                let ignore = Ignore::load(&req.context)?;
                for s in srcs {
                    if add && (s.starts_with("http://") || s.starts_with("https://")) {
                        let name = s.rsplit('/').next().filter(|n| !n.is_empty()).unwrap_or("index.html");
                        let target = if into_dir {
                            format!("{}/{name}", dest_abs.trim_end_matches('/'))
                        } else {
                            dest_abs.clone()
                        };
                        let data = fetch(s)?;
                        files.push((target, Entry::File { data, mode: 0o600, mtime: 0 }));
                        continue;
                    }
                    gather_context(&req.context, &ignore, s, &dest_abs, into_dir, add, &mut files)?;
                }
            }
        }
        for (name, body) in docs {
            let target = if into_dir { format!("{}/{name}", dest_abs.trim_end_matches('/')) } else { dest_abs.clone() };
            files.push((target, Entry::File { data: body.into_bytes(), mode: 0o644, mtime: 0 }));
        }
        // The key: the parent, the line, and what the files hold.
        let mut h = String::from(line);
        for (p, e) in &files {
            h.push_str(&format!("\n{p} {}", e.digest()));
        }
        h.push_str(&format!("\n{uid}:{gid} {chmod:?}"));
        let key = step_key(st.parent.as_ref(), &h);
        if let Some(img) = cache.hit(self, req, &key) {
            say(" ---> Using cache\n");
            st.parent = Some(img);
            return Ok(());
        }
        let mut tar = tar::Builder::new(Vec::new());
        for (path, e) in &files {
            e.append(&mut tar, path.trim_start_matches('/'), uid, gid, chmod)?;
        }
        let data = tar.into_inner().map_err(io("write", "the copy's archive"))?;
        let parent = match &st.parent {
            Some(p) => p.clone(),
            None => {
                // FROM scratch: the first layer is the files alone.
                return self.scratch_layer(st, &data, line, &key, cache, req.epoch());
            }
        };
        let config = ContainerConfig {
            image: parent.id.to_string(),
            cmd: Some(vec!["true".into()]),
            entrypoint: Some(Vec::new()),
            network: NetworkMode::None,
            cgroup_parent: req.cgroup_parent.clone(),
            ..Default::default()
        };
        let c = self.create(CreateRequest { name: None, config })?;
        let result = (|| -> Result<Image> {
            let mut input = std::io::Cursor::new(data);
            self.archive_put(
                &c.id,
                "/",
                &mut input,
                crate::PutOptions { copy_uid_gid: true, no_overwrite_dir_non_dir: false },
            )?;
            self.commit(
                &c.id,
                crate::CommitOptions {
                    config: Some(st.config.clone()),
                    layer: req.layer_options(),
                    created_by: Some(format!("/bin/sh -c #(nop) {line}")),
                    ..Default::default()
                },
            )
        })();
        if let Err(e) = self.remove(&c.id, true, true) {
            tracing::warn!(container = %c.id, "build: remove the step's container: {e}");
        }
        let img = result?;
        cache.put(&key, &img.id.to_string())?;
        st.parent = Some(img);
        Ok(())
    }

    fn scratch_layer(
        &self,
        st: &mut Stage,
        tar: &[u8],
        line: &str,
        key: &str,
        cache: &Cache,
        epoch: Option<i64>,
    ) -> Result<()> {
        let _lease = self.images.store.ingest_lease().map_err(hull_image::images::ImageError::from)?;
        let layer = hull_image::diff::import_tar(&self.images.store, &mut std::io::Cursor::new(tar))
            .map_err(|e| bad(e.to_string()))?;
        let img = self.images.commit(CommitRequest {
            parent: None,
            layer: Some(&layer),
            config: st.config.clone(),
            author: None,
            created_by: format!("/bin/sh -c #(nop) {line}"),
            comment: None,
            created: crate::container::commit::created_at(epoch),
            tag: None,
        })?;
        cache.put(key, &img.id.to_string())?;
        st.parent = Some(img);
        Ok(())
    }

    /// `--chown=USER[:GROUP]`: numbers, or names in the image's /etc/passwd
    /// and /etc/group.
    fn resolve_owner(&self, parent: Option<&Image>, spec: &str) -> Result<(u64, u64)> {
        let (u, g) = spec.split_once(':').map_or((spec, None), |(u, g)| (u, Some(g)));
        let read = |file: &str| -> String {
            parent
                .and_then(|p| self.image_file(p, file).ok())
                .map(|d| String::from_utf8_lossy(&d).into_owned())
                .unwrap_or_default()
        };
        let lookup = |table: &str, name: &str, field: usize| -> Option<u64> {
            table.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.first() == Some(&name)).then(|| f.get(field).and_then(|n| n.parse().ok())).flatten()
            })
        };
        let passwd = read("/etc/passwd");
        let uid = match u.parse::<u64>() {
            Ok(n) => n,
            Err(_) => lookup(&passwd, u, 2).ok_or_else(|| bad(format!("--chown: no user {u:?} in the image")))?,
        };
        let gid = match g {
            None => match u.parse::<u64>() {
                Ok(n) => n,
                Err(_) => lookup(&passwd, u, 3).unwrap_or(uid),
            },
            Some(g) => match g.parse::<u64>() {
                Ok(n) => n,
                Err(_) => lookup(&read("/etc/group"), g, 2)
                    .ok_or_else(|| bad(format!("--chown: no group {g:?} in the image")))?,
            },
        };
        Ok((uid, gid))
    }

    /// A regular file of an image, read through its layers' roots.
    fn image_file(&self, img: &Image, path: &str) -> Result<Vec<u8>> {
        let mut layers = self.images.layers(img)?;
        layers.reverse();
        for l in layers {
            let root = hull_rootpath::Root::open(&l).map_err(|e| bad(e.to_string()))?;
            if let Ok(d) = root.read_regular(Path::new(path), 1 << 20) {
                return Ok(d);
            }
        }
        Err(bad(format!("{path}: not in the image")))
    }

    /// `COPY --from`: the source path's files from another image, through a
    /// created container's archive (every path resolved inside its root).
    fn gather_from_image(
        &self,
        img: &Image,
        src: &str,
        dest: &str,
        into_dir: bool,
        files: &mut Vec<(String, Entry)>,
    ) -> Result<()> {
        let config = ContainerConfig {
            image: img.id.to_string(),
            cmd: Some(vec!["true".into()]),
            entrypoint: Some(Vec::new()),
            network: NetworkMode::None,
            ..Default::default()
        };
        let c = self.create(CreateRequest { name: None, config })?;
        let mut out = Vec::new();
        let got = self.archive_get(&c.id, src, &mut out);
        if let Err(e) = self.remove(&c.id, true, true) {
            tracing::warn!(container = %c.id, "build: remove the copy's container: {e}");
        }
        let st = got?;
        let mut ar = tar::Archive::new(std::io::Cursor::new(out));
        let base = crate::container::archive::base_name(src);
        for e in ar.entries().map_err(io("read", "the copy's archive"))? {
            let mut e = e.map_err(io("read", "the copy's archive"))?;
            let p = e.path().map_err(io("read", "the copy's archive"))?.into_owned();
            // The top entry is the source's own name: a directory's contents go under dest.
            let rel = p.strip_prefix(&base).map(Path::to_path_buf).unwrap_or(p.clone());
            let target = if st.is_dir() {
                join(dest, &rel)
            } else if into_dir {
                join(dest, Path::new(&base))
            } else {
                dest.to_string()
            };
            let Some(entry) = Entry::from_tar(&mut e, "the copy's archive")? else { continue };
            if rel.as_os_str().is_empty() && st.is_dir() {
                files.push((dest.to_string(), Entry::Dir { mode: 0o755, mtime: 0 }));
                continue;
            }
            files.push((target, entry));
        }
        Ok(())
    }
}

fn short(id: &str) -> String {
    id.strip_prefix("sha256:").unwrap_or(id).chars().take(12).collect()
}

fn join(base: &str, rel: &Path) -> String {
    let rel = rel.display().to_string();
    let rel = rel.trim_start_matches("./").trim_start_matches('/');
    if rel.is_empty() || rel == "." {
        base.trim_end_matches('/').to_string().max("/".into())
    } else {
        format!("{}/{rel}", base.trim_end_matches('/'))
    }
}

/// Where an instruction's keyword starts in the text.
fn keyword_start(ins: &parse_dockerfile::Instruction<'_>) -> usize {
    use parse_dockerfile::Instruction as I;
    let k = match ins {
        I::Add(i) => &i.add,
        I::Arg(i) => &i.arg,
        I::Cmd(i) => &i.cmd,
        I::Copy(i) => &i.copy,
        I::Entrypoint(i) => &i.entrypoint,
        I::Env(i) => &i.env,
        I::Expose(i) => &i.expose,
        I::From(i) => &i.from,
        I::Healthcheck(i) => &i.healthcheck,
        I::Label(i) => &i.label,
        I::Maintainer(i) => &i.maintainer,
        I::Onbuild(i) => &i.onbuild,
        I::Run(i) => &i.run,
        I::Shell(i) => &i.shell,
        I::Stopsignal(i) => &i.stopsignal,
        I::User(i) => &i.user,
        I::Volume(i) => &i.volume,
        I::Workdir(i) => &i.workdir,
        _ => return 0,
    };
    k.span.start
}

/// The instruction as written, its continuation lines joined (docker's
/// `Step` line).
fn instruction_text(text: &str, ins: &parse_dockerfile::Instruction<'_>, escape: char) -> String {
    let rest = text.get(keyword_start(ins)..).unwrap_or("");
    let mut parts = Vec::new();
    for (i, l) in rest.lines().enumerate() {
        let t = l.trim();
        if i > 0 && t.starts_with('#') {
            continue;
        }
        match t.strip_suffix(escape) {
            Some(cont) => parts.push(cont.trim().to_string()),
            None => {
                parts.push(t.to_string());
                break;
            }
        }
    }
    parts.into_iter().filter(|p| !p.is_empty()).collect::<Vec<_>>().join(" ")
}

/// A RUN with a here-document (`RUN <<EOF`, the document on the lines
/// after it): run by the shell as a script when nothing follows the
/// marker, else given as stdin to the command that follows it.
fn with_here_docs(
    cmd: Vec<String>,
    docs: &[parse_dockerfile::HereDoc<'_>],
    shell: &[String],
    expand_var: &dyn Fn(&str) -> Result<String>,
) -> Result<Vec<String>> {
    let Some(text) = cmd.last().filter(|_| cmd.len() == shell.len() + 1).cloned() else {
        return Err(bad("here-documents go with the shell form of RUN"));
    };
    let mut script = String::new();
    for d in docs {
        let body = if d.expand { expand_var(&d.value)? } else { d.value.to_string() };
        script.push_str(&body);
    }
    let run = if text.trim().is_empty() {
        script
    } else {
        format!("{} <<'HULL_HEREDOC_END'\n{}\nHULL_HEREDOC_END", text.trim(), script.trim_end_matches('\n'))
    };
    Ok(shell.iter().cloned().chain(std::iter::once(run)).collect())
}

fn command_of(c: &parse_dockerfile::Command<'_>, shell: &[String]) -> Vec<String> {
    match c {
        parse_dockerfile::Command::Exec(v) => v.value.iter().map(|s| s.value.to_string()).collect(),
        parse_dockerfile::Command::Shell(s) => {
            shell.iter().cloned().chain(std::iter::once(s.value.to_string())).collect()
        }
        _ => Vec::new(),
    }
}

fn copy_flags(opts: &[parse_dockerfile::Flag<'_>], allowed: &[&str]) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for f in opts {
        let name = f.name.value.to_string();
        if !allowed.contains(&name.as_str()) {
            return Err(bad(format!("unknown flag: --{name}")));
        }
        out.insert(name, f.value.as_ref().map(|v| v.value.to_string()).unwrap_or_default());
    }
    Ok(out)
}

fn healthcheck(h: &parse_dockerfile::HealthcheckInstruction<'_>, shell: &[String]) -> Result<serde_json::Value> {
    let mut v = serde_json::Map::new();
    match &h.arguments {
        parse_dockerfile::HealthcheckArguments::None { .. } => {
            v.insert("Test".into(), serde_json::json!(["NONE"]));
            return Ok(serde_json::Value::Object(v));
        }
        parse_dockerfile::HealthcheckArguments::Cmd { arguments, .. } => {
            let test: Vec<String> = match arguments {
                parse_dockerfile::Command::Exec(a) => {
                    std::iter::once("CMD".to_string()).chain(a.value.iter().map(|s| s.value.to_string())).collect()
                }
                parse_dockerfile::Command::Shell(s) => {
                    let _ = shell;
                    vec!["CMD-SHELL".to_string(), s.value.to_string()]
                }
                _ => return Err(bad("HEALTHCHECK: a command form Hull's builder does not know")),
            };
            v.insert("Test".into(), serde_json::json!(test));
        }
        _ => return Err(bad("HEALTHCHECK: a form Hull's builder does not know")),
    }
    for f in &h.options {
        let val = f.value.as_ref().map(|v| v.value.to_string()).unwrap_or_default();
        let key = match f.name.value.as_ref() {
            "interval" => "Interval",
            "timeout" => "Timeout",
            "start-period" => "StartPeriod",
            "start-interval" => "StartInterval",
            "retries" => {
                let n: u32 = val.parse().map_err(|_| bad(format!("invalid --retries {val:?}")))?;
                v.insert("Retries".into(), serde_json::json!(n));
                continue;
            }
            other => return Err(bad(format!("unknown flag: --{other}"))),
        };
        v.insert(
            key.into(),
            serde_json::json!(crate::units::parse_duration(&format!("HEALTHCHECK --{}", f.name.value), &val)?),
        );
    }
    Ok(serde_json::Value::Object(v))
}

fn fetch(url: &str) -> Result<Vec<u8>> {
    let resp = ureq::get(url).call().map_err(|e| bad(format!("ADD {url}: {e}")))?;
    let mut data = Vec::new();
    resp.into_reader().take(1 << 30).read_to_end(&mut data).map_err(io("read", url))?;
    Ok(data)
}

/// One file of a COPY.
enum Entry {
    File { data: Vec<u8>, mode: u32, mtime: u64 },
    Dir { mode: u32, mtime: u64 },
    Symlink { target: PathBuf },
}

impl Entry {
    /// A tar entry as a file, directory or link; None for anything else.
    fn from_tar(e: &mut tar::Entry<'_, impl Read>, what: &str) -> Result<Option<Entry>> {
        let h = e.header().clone();
        Ok(Some(match h.entry_type() {
            tar::EntryType::Directory => Entry::Dir { mode: h.mode().unwrap_or(0o755), mtime: h.mtime().unwrap_or(0) },
            tar::EntryType::Symlink => {
                Entry::Symlink { target: h.link_name().ok().flatten().map(|l| l.into_owned()).unwrap_or_default() }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut data = Vec::new();
                e.read_to_end(&mut data).map_err(io("read", what))?;
                Entry::File { data, mode: h.mode().unwrap_or(0o644), mtime: h.mtime().unwrap_or(0) }
            }
            _ => return Ok(None),
        }))
    }

    fn digest(&self) -> String {
        match self {
            Entry::File { data, mode, .. } => format!("f{mode:o}:{}", hull_image::digest::Digest::sha256(data)),
            Entry::Dir { mode, .. } => format!("d{mode:o}"),
            Entry::Symlink { target } => format!("l:{}", target.display()),
        }
    }

    fn append(
        &self,
        tar: &mut tar::Builder<Vec<u8>>,
        path: &str,
        uid: u64,
        gid: u64,
        chmod: Option<u32>,
    ) -> Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_uid(uid);
        h.set_gid(gid);
        let path = if path.is_empty() { "." } else { path };
        let r = match self {
            Entry::File { data, mode, mtime } => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(chmod.unwrap_or(*mode));
                h.set_size(data.len() as u64);
                h.set_mtime(*mtime);
                tar.append_data(&mut h, path, data.as_slice())
            }
            Entry::Dir { mode, mtime } => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(chmod.unwrap_or(*mode));
                h.set_size(0);
                h.set_mtime(*mtime);
                tar.append_data(&mut h, path, std::io::empty())
            }
            Entry::Symlink { target } => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                tar.append_link(&mut h, path, target)
            }
        };
        r.map_err(io("write", path))
    }
}

/// `.dockerignore`: docker's patterns (`*`, `?`, `**`, `!` exceptions,
/// the last match wins).
struct Ignore {
    rules: Vec<(bool, regex::Regex)>,
}

impl Ignore {
    fn load(context: &Path) -> Result<Ignore> {
        let root = hull_rootpath::Root::open(context).map_err(|e| bad(format!("the build context: {e}")))?;
        let text = root
            .read_regular(Path::new(".dockerignore"), 1 << 20)
            .map(|d| String::from_utf8_lossy(&d).into_owned())
            .unwrap_or_default();
        let mut rules = Vec::new();
        for l in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            let (neg, pat) = match l.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, l),
            };
            let pat = clean_rel(pat);
            rules.push((neg, glob_regex(&pat, true)?));
        }
        Ok(Ignore { rules })
    }

    fn ignored(&self, rel: &str) -> bool {
        let mut out = false;
        for (neg, re) in &self.rules {
            if re.is_match(rel) {
                out = !neg;
            }
        }
        out
    }
}

fn clean_rel(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

/// A Dockerfile/dockerignore glob as a regex over `/`-separated relative
/// paths; `prefix`: also match what is under a matching directory.
fn glob_regex(pat: &str, prefix: bool) -> Result<regex::Regex> {
    let mut re = String::from("^");
    let chars: Vec<char> = pat.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '*' if chars.get(i + 1) == Some(&'*') => {
                re.push_str(".*");
                i += 1;
                if chars.get(i + 1) == Some(&'/') {
                    i += 1;
                }
            }
            '*' => re.push_str("[^/]*"),
            '?' => re.push_str("[^/]"),
            '[' => {
                let end = chars[i..].iter().position(|c| *c == ']').map(|p| p + i);
                match end {
                    Some(e) => {
                        let class: String = chars[i + 1..e].iter().collect();
                        re.push('[');
                        re.push_str(&class.replacen('!', "^", 1).replace('\\', "\\\\"));
                        re.push(']');
                        i = e;
                    }
                    None => re.push_str("\\["),
                }
            }
            '\\' if i + 1 < chars.len() => {
                i += 1;
                re.push_str(&regex::escape(&chars[i].to_string()));
            }
            c => re.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    if prefix {
        re.push_str("(/.*)?");
    }
    re.push('$');
    regex::Regex::new(&re).map_err(|e| bad(format!("bad pattern {pat:?}: {e}")))
}

/// The files of one COPY source from the context: a path, a directory (its
/// contents), or a glob; none outside the context, none ignored.
fn gather_context(
    context: &Path,
    ignore: &Ignore,
    src: &str,
    dest: &str,
    into_dir: bool,
    add: bool,
    files: &mut Vec<(String, Entry)>,
) -> Result<()> {
    let rel = clean_rel(src);
    let root = hull_rootpath::Root::open(context).map_err(|e| bad(format!("the build context: {e}")))?;
    // Every path in the context, walked once through the root's descriptors.
    let mut all: Vec<(String, std::fs::Metadata)> = Vec::new();
    walk(&root, Path::new(""), &mut all)?;
    let glob = rel.contains(['*', '?', '[']);
    let re = glob_regex(if rel.is_empty() { "**" } else { &rel }, false)?;
    let matched: Vec<&(String, std::fs::Metadata)> = if rel.is_empty() {
        Vec::new()
    } else if glob {
        all.iter().filter(|(p, _)| re.is_match(p)).collect()
    } else {
        all.iter().filter(|(p, _)| *p == rel).collect()
    };
    let whole_context = rel.is_empty();
    if matched.is_empty() && !whole_context {
        return Err(bad(format!("COPY failed: file not found in build context or excluded by .dockerignore: stat {src}: file does not exist")));
    }
    let tops: Vec<(String, bool)> = if whole_context {
        vec![(String::new(), true)]
    } else {
        matched.iter().map(|(p, m)| (p.clone(), m.is_dir())).collect()
    };
    let many = tops.len() > 1 || into_dir;
    for (top, is_dir) in tops {
        if !top.is_empty() && ignore.ignored(&top) {
            if glob {
                continue;
            }
            return Err(bad(format!("COPY failed: file not found in build context or excluded by .dockerignore: stat {src}: file does not exist")));
        }
        if is_dir {
            let prefix = if top.is_empty() { String::new() } else { format!("{top}/") };
            files.push((dest.to_string(), Entry::Dir { mode: 0o755, mtime: 0 }));
            for (p, m) in all.iter().filter(|(p, _)| top.is_empty() || p.starts_with(&prefix)) {
                if ignore.ignored(p) {
                    continue;
                }
                let under = p.strip_prefix(&prefix).unwrap_or(p);
                files.push((join(dest, Path::new(under)), entry_of(&root, p, m)?));
            }
            continue;
        }
        let name = top.rsplit('/').next().unwrap_or(&top).to_string();
        let m =
            &all.iter().find(|(p, _)| *p == top).map(|(_, m)| m.clone()).ok_or_else(|| bad(format!("{src}: gone")))?;
        let target = if many { join(dest, Path::new(&name)) } else { dest.to_string() };
        let entry = entry_of(&root, &top, m)?;
        if add {
            if let Entry::File { data, .. } = &entry {
                if let Some(list) = untar(data)? {
                    // An archive is unpacked into dest, whatever the number of sources.
                    files.extend(list.into_iter().map(|(p, e)| (join(dest, Path::new(&p)), e)));
                    continue;
                }
            }
        }
        files.push((target, entry));
    }
    Ok(())
}

fn walk(root: &hull_rootpath::Root, rel: &Path, out: &mut Vec<(String, std::fs::Metadata)>) -> Result<()> {
    let dir = root.open_dir(rel).map_err(|e| bad(format!("the build context {}: {e}", rel.display())))?;
    let fd_path = hull_rootpath::fd_path(&dir);
    let mut entries: Vec<_> = std::fs::read_dir(&fd_path).map_err(io("read", rel.display()))?.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = rel.join(e.file_name());
        let m = std::fs::symlink_metadata(fd_path.join(e.file_name())).map_err(io("stat", p.display()))?;
        let text = p.display().to_string();
        let is_dir = m.is_dir();
        out.push((text, m));
        if is_dir {
            walk(root, &p, out)?;
        }
    }
    Ok(())
}

fn entry_of(root: &hull_rootpath::Root, rel: &str, m: &std::fs::Metadata) -> Result<Entry> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mtime = m.mtime().max(0) as u64;
    if m.is_dir() {
        return Ok(Entry::Dir { mode: m.permissions().mode() & 0o7777, mtime });
    }
    if m.file_type().is_symlink() {
        let (parent, name) = root.parent_of(Path::new(rel)).map_err(|e| bad(e.to_string()))?;
        let target = nix::fcntl::readlinkat(Some(std::os::fd::AsRawFd::as_raw_fd(&parent)), name.as_os_str())
            .map_err(|e| bad(format!("readlink {rel}: {e}")))?;
        return Ok(Entry::Symlink { target: PathBuf::from(target) });
    }
    if !m.is_file() {
        return Err(bad(format!("{rel}: COPY takes regular files, directories and symlinks")));
    }
    let data = root.read_regular(Path::new(rel), 1 << 32).map_err(|e| bad(format!("read {rel}: {e}")))?;
    Ok(Entry::File { data, mode: m.permissions().mode() & 0o7777, mtime })
}

/// ADD's local archives: a tar (plain, gzip, bzip2-less) as its entries; None when not one.
fn untar(data: &[u8]) -> Result<Option<Vec<(String, Entry)>>> {
    let decoded: Box<dyn Read> = match data {
        [0x1f, 0x8b, ..] => Box::new(flate2::read::MultiGzDecoder::new(data)),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => match zstd::stream::read::Decoder::new(data) {
            Ok(d) => Box::new(d),
            Err(_) => return Ok(None),
        },
        _ if data.len() >= 512 && &data[257..262] == b"ustar" => Box::new(data),
        _ => return Ok(None),
    };
    let mut ar = tar::Archive::new(decoded);
    let mut out = Vec::new();
    let Ok(entries) = ar.entries() else { return Ok(None) };
    for e in entries {
        let Ok(mut e) = e else { return Ok(None) };
        let p = e.path().map(|p| clean_rel(&p.display().to_string())).unwrap_or_default();
        if p.is_empty() {
            continue;
        }
        let Some(entry) = Entry::from_tar(&mut e, "an ADD archive")? else { continue };
        out.push((p, entry));
    }
    Ok(Some(out))
}

/// Unpacks a build context sent as a tar (the API's body, `build -`) into
/// `dir`, an empty directory: regular files, directories and symlinks only,
/// every path created through `dir`'s descriptors (a link in the archive
/// cannot send a later entry outside it).
pub fn extract_context(input: &mut dyn Read, dir: &Path) -> Result<()> {
    let root = hull_rootpath::Root::open(dir).map_err(|e| bad(format!("the build context {}: {e}", dir.display())))?;
    let decoded: Box<dyn Read> = {
        let mut head = [0u8; 2];
        let mut got = 0;
        while got < 2 {
            match input.read(&mut head[got..]).map_err(io("read", "the build context"))? {
                0 => break,
                n => got += n,
            }
        }
        let rest = std::io::Cursor::new(head[..got].to_vec()).chain(input);
        if head[..got] == [0x1f, 0x8b] {
            Box::new(flate2::read::MultiGzDecoder::new(rest))
        } else {
            Box::new(rest)
        }
    };
    let mut ar = tar::Archive::new(decoded);
    let bad_tar = |e: std::io::Error| bad(format!("the build context is not a tar archive: {e}"));
    for e in ar.entries().map_err(bad_tar)? {
        let mut e = e.map_err(bad_tar)?;
        let rel = clean_rel(&e.path().map_err(bad_tar)?.display().to_string());
        if rel.is_empty() {
            continue;
        }
        let mode = e.header().mode().unwrap_or(0o644) & 0o7777;
        let path = Path::new(&rel);
        match e.header().entry_type() {
            tar::EntryType::Directory => {
                root.mkdir_all(path, 0o755).map_err(|e| bad(format!("the build context {rel}: {e}")))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    root.mkdir_all(parent, 0o755).map_err(|e| bad(format!("the build context {rel}: {e}")))?;
                }
                let (pfd, name) = root.parent_of(path).map_err(|e| bad(format!("the build context {rel}: {e}")))?;
                // Never through a link at the name (O_NOFOLLOW), in the parent
                // resolved inside the context.
                let flags = nix::fcntl::OFlag::O_WRONLY
                    | nix::fcntl::OFlag::O_CREAT
                    | nix::fcntl::OFlag::O_TRUNC
                    | nix::fcntl::OFlag::O_NOFOLLOW
                    | nix::fcntl::OFlag::O_CLOEXEC;
                let raw = nix::fcntl::openat(
                    Some(std::os::fd::AsRawFd::as_raw_fd(&pfd)),
                    name.as_os_str(),
                    flags,
                    nix::sys::stat::Mode::from_bits_truncate(mode),
                )
                .map_err(|e| bad(format!("the build context {rel}: {e}")))?;
                // SAFETY: openat just returned this descriptor; it is owned here alone.
                let mut f = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(raw) };
                std::io::copy(&mut e, &mut f).map_err(io("write", &rel))?;
            }
            tar::EntryType::Symlink => {
                let target = e.link_name().map_err(bad_tar)?.map(|l| l.into_owned()).unwrap_or_default();
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    root.mkdir_all(parent, 0o755).map_err(|e| bad(format!("the build context {rel}: {e}")))?;
                }
                let (pfd, name) = root.parent_of(path).map_err(|e| bad(format!("the build context {rel}: {e}")))?;
                nix::unistd::symlinkat(
                    target.as_os_str(),
                    Some(std::os::fd::AsRawFd::as_raw_fd(&pfd)),
                    name.as_os_str(),
                )
                .map_err(|e| bad(format!("the build context {rel}: symlink: {e}")))?;
            }
            // Devices, fifos and hard links have no place in a context.
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerignore_patterns_and_paths() {
        let re = |p: &str| glob_regex(p, true).unwrap();
        assert!(re("*.log").is_match("a.log") && !re("*.log").is_match("dir/a.log"));
        assert!(re("**/*.log").is_match("dir/sub/a.log"));
        assert!(re("build").is_match("build/out/x"));
        assert!(re("a?c").is_match("abc"));
        assert_eq!(clean_rel("./a/../b/"), "b");
        assert_eq!(join("/app", Path::new("x/y")), "/app/x/y");
        assert_eq!(join("/", Path::new("x")), "/x");
    }
}
