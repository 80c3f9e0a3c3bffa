#![recursion_limit = "256"]
//! hull_engine: Hull's engine. Containers from images: their configuration
//! and state in SQLite, one `hull-shim` per running container, logs,
//! names, restart policies. Every operation is a plain method on
//! [`Engine`] with typed options and results; many processes may use the
//! same engine root at once (the database serialises writes, and a lock
//! file per container serialises its lifecycle).
#![warn(missing_docs)]

pub mod build;
pub mod cancel;
mod container;
pub mod db;
pub mod dockerfile;
pub mod error;
pub mod events;
pub mod filters;
pub mod image;
pub mod inspect;
pub mod model;
pub mod names;
pub mod networks;
pub mod oci;
pub mod parse;
pub mod pull;
pub mod push;
pub mod runtimes;
pub mod seccomp_profile;
pub mod time;
pub mod units;
pub mod usage;
pub mod volumes;

pub use container::archive::{self, PathStat, PutOptions};
pub use container::attach::AttachStream;
pub use container::commit::CommitOptions;
pub use container::create::CreateRequest;
pub use container::exec::{ExecIo, ExecRequest, ExecSession};
pub use container::logs::{LogEntry, LogOptions};
pub use container::sync::Recovered;
pub use container::update::UpdateRequest;
pub use error::{EngineError, ErrorKind, Result};
pub use hull_network::network::{Driver as NetworkDriver, Network};
pub use hull_network::ports::PortMapping;
pub use hull_shim::config::RestartPolicy;
pub use model::{Container, ContainerConfig, ContainerState, Status};
pub use networks::NetworkCreate;
pub use pull::{PullRequest, Pulled, RegistryAuth};
pub use push::{PushRequest, Pushed};

use error::io;
use hull_image::images::Images;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The shims' directories, inside the run root, which is also the runtime's
/// state root (so `hull-runtime list` shows the engine's containers, as
/// `runc --root` does under other engines); a dot name is no container id.
pub const SHIMS_DIR: &str = ".shims";

/// Where the engine keeps things and which programs it starts.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Persistent root (images, containers, volumes, the database).
    pub root: PathBuf,
    /// Runtime root: the runtime's state, and the shims' under `.shims`
    /// (gone after a reboot).
    pub run_root: PathBuf,
    /// The `hull-shim` binary.
    pub shim: PathBuf,
    /// The command a shim runs when its container is gone for good (the
    /// container id is appended): `hull --root R container cleanup`.
    pub exit_command: Vec<String>,
    /// Registries: plain-HTTP ones, the credentials file.
    pub registries: pull::RegistryConfig,
    /// Named OCI runtimes besides Hull's own (`--runtime NAME`).
    pub runtimes: std::collections::BTreeMap<String, runtimes::RuntimeEntry>,
}

impl EngineConfig {
    /// The configuration of an engine whose shim is `shim` and whose
    /// containers are cleaned up by `hull` (the exit command `hull --root R
    /// --run-root RR container cleanup ID`), with no named runtime and no
    /// credentials file.
    pub fn new(root: PathBuf, run_root: PathBuf, shim: PathBuf, hull: &Path) -> EngineConfig {
        let exit_command = vec![
            hull.display().to_string(),
            "--root".into(),
            root.display().to_string(),
            "--run-root".into(),
            run_root.display().to_string(),
            "container".into(),
            "cleanup".into(),
        ];
        EngineConfig {
            root,
            run_root,
            shim,
            exit_command,
            registries: pull::RegistryConfig::default(),
            runtimes: Default::default(),
        }
    }
}

/// The engine.
pub struct Engine {
    cfg: EngineConfig,
    db: Mutex<db::Db>,
    images: Images,
}

/// A held per-container lock (released on drop).
pub(crate) struct Lock(#[allow(dead_code)] File);

impl Engine {
    /// Opens the engine over its roots, creating them.
    pub fn open(cfg: EngineConfig) -> Result<Engine> {
        // Only root looks inside either root (see the security model in
        // ARCHITECTURE.md): the run root is the runtime's state root; the
        // root holds the images' layers, containers' upper directories and
        // volumes, where set-id files must not be reachable by other users.
        // 0700, not docker's 0710: the engine runs no user-namespaced
        // container, whose mapped root would need the traversal bit.
        for r in [&cfg.run_root, &cfg.root] {
            if !r.exists() {
                std::os::unix::fs::DirBuilderExt::mode(std::fs::DirBuilder::new().recursive(true), 0o700)
                    .create(r)
                    .map_err(io("mkdir", r.display()))?;
            }
        }
        let dirs = [
            cfg.root.join("containers"),
            cfg.root.join("locks"),
            cfg.root.join("volumes"),
            cfg.run_root.join(SHIMS_DIR),
        ];
        for d in &dirs {
            std::fs::create_dir_all(d).map_err(io("mkdir", d.display()))?;
        }
        for d in dirs.iter().chain([&cfg.root, &cfg.run_root]) {
            hull_image::private_dir(d).map_err(io("chmod 0700", d.display()))?;
        }
        let db = db::Db::open(&cfg.root.join("containers.db"))?;
        let images = Images::open(&cfg.root)?;
        Ok(Engine { cfg, db: Mutex::new(db), images })
    }

    /// The image store.
    pub fn images(&self) -> &Images {
        &self.images
    }

    fn db(&self) -> std::sync::MutexGuard<'_, db::Db> {
        self.db.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The container's directory (bundle, rootfs, log).
    pub fn container_dir(&self, id: &str) -> PathBuf {
        self.cfg.root.join("containers").join(id)
    }

    /// The container's json-file log.
    pub fn log_path(&self, id: &str) -> PathBuf {
        self.container_dir(id).join(format!("{id}-json.log"))
    }

    fn shim_dir(&self, id: &str) -> PathBuf {
        self.cfg.run_root.join(SHIMS_DIR).join(id)
    }

    fn runtime(&self) -> hull_runtime::Runtime {
        hull_runtime::Runtime::new(&self.cfg.run_root)
    }

    /// Takes the container's lifecycle lock.
    pub(crate) fn lock(&self, id: &str) -> Result<Lock> {
        let path = self.cfg.root.join("locks").join(id);
        let f = File::create(&path).map_err(io("open", path.display()))?;
        fs2::FileExt::lock_exclusive(&f).map_err(io("lock", path.display()))?;
        Ok(Lock(f))
    }

    fn unlink_lock(&self, id: &str) {
        let _ = std::fs::remove_file(self.cfg.root.join("locks").join(id));
    }

    /// The engine's paths.
    pub fn config(&self) -> &EngineConfig {
        &self.cfg
    }
}

/// Whether `path` is a mount point (listed in our mountinfo).
pub(crate) fn is_mounted(path: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else { return false };
    let want = path.to_string_lossy();
    info.lines().any(|l| l.split(' ').nth(4).is_some_and(|m| m == want))
}

/// The start time of a pid (clock ticks since boot), to tell a live
/// process from a reused pid.
pub fn start_time(pid: i32) -> Option<u64> {
    if pid <= 0 {
        return None;
    }
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Zombies are as good as gone.
    if fields.first() == Some(&"Z") {
        return None;
    }
    fields.get(19)?.parse().ok()
}
