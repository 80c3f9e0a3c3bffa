//! `start`: the bundle made ready again, then a `hull-shim` started for the
//! container; it reports `ok <pid>` or the runtime's error on a pipe.

use crate::db::Row;
use crate::error::{io, EngineError, Result};
use crate::model::{Container, Status};
use crate::Engine;
use hull_shim::config::{LogConfig, ShimConfig};
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;

impl Engine {
    /// Starts a container. `attach` is the shim's end of a socket pair whose
    /// other end gets the container's output from its first byte.
    pub fn start(&self, key: &str, attach: Option<OwnedFd>) -> Result<Container> {
        let id = self.db().find(key)?.id;
        let _lock = self.lock(&id)?;
        let row = self.refreshed_locked(&id)?;
        match row.state.status {
            Status::Running | Status::Restarting => return Ok(self.to_container(row)),
            Status::Paused => {
                return Err(EngineError::Conflict {
                    id,
                    status: "paused".into(),
                    what: "cannot start a paused container, try unpause instead".into(),
                })
            }
            Status::Removing => {
                return Err(EngineError::Conflict {
                    id,
                    status: "being removed".into(),
                    what: "cannot start it".into(),
                })
            }
            Status::Created | Status::Exited => {}
        }
        match self.start_locked(row.clone(), attach) {
            Ok(c) => Ok(c),
            Err(e) => {
                let mut state = row.state;
                state.error = e.to_string();
                let _ = self.db().set_state(&id, &state);
                // docker's AutoRemove: a container that cannot start goes
                // too (a client waiting for `removed` is woken).
                if row.config.auto_remove {
                    drop(_lock);
                    let _ = self.remove(&id, true, true);
                }
                Err(e)
            }
        }
    }

    fn start_locked(&self, mut row: Row, attach: Option<OwnedFd>) -> Result<Container> {
        let id = row.id.clone();
        let spec = self.ready_spec(&row)?;
        ensure_workdir(&self.container_dir(&id).join("rootfs"), &spec)?;
        check_command(&self.container_dir(&id).join("rootfs"), &spec)?;
        // Endpoints a start killed half-way recorded: gone before new ones.
        if !row.state.endpoints.is_empty() || !row.state.netns.is_empty() {
            // What cannot be undone of a killed start must not keep the
            // container from starting: said, and left.
            if let Err(e) = self.network_down(&mut row) {
                tracing::warn!(container = %id, "the networking of an earlier start: {e}");
            }
        }
        // Each endpoint is in the row before its ADD (attach_all): a start
        // killed from here on leaves what release (rm, finalize) tears down.
        self.network_up(&mut row)?;
        // Its records are served before its process runs (a lookup of its
        // database at boot must not miss), then it starts. Its addresses
        // are saved first: another container's update reads them from the
        // row (the endpoints were recorded before their ADD, without them).
        if !row.state.endpoints.is_empty() {
            self.db().set_state(&id, &row.state)?;
        }
        for a in &row.config.networks {
            self.dns_sync_joining(&a.network, &row);
        }
        match self.spawn_locked(&mut row, attach) {
            Ok(()) => {}
            Err(e) => {
                // Its records go with its endpoints (network_down), and the
                // row says so: another start must not serve it as starting.
                let down = self.network_down(&mut row);
                let recorded = self.db().set_state(&id, &row.state);
                return Err(e.with_cleanup(down).with_cleanup(recorded));
            }
        }
        self.emit_container(&row, "start", &[]);
        Ok(self.to_container(row))
    }

    fn spawn_locked(&self, row: &mut Row, attach: Option<OwnedFd>) -> Result<()> {
        let id = row.id.clone();
        for link in &row.config.links {
            let (name, alias) = link.split_once(':').unwrap_or((link, link));
            let running = self.refreshed(name).is_ok_and(|o| o.state.status.is_live());
            if !running {
                return Err(crate::EngineError::Invalid(format!(
                    "Cannot link to a non running container: /{name} AS /{}/{alias}",
                    row.name
                )));
            }
        }
        self.write_etc(row)?;
        let shim_dir = self.shim_dir(&id);
        let _ = std::fs::remove_dir_all(&shim_dir);
        std::fs::create_dir_all(&shim_dir).map_err(io("mkdir", shim_dir.display()))?;
        let mut exit_command = self.cfg.exit_command.clone();
        exit_command.push(id.clone());
        let runtime = self.runtime_named(&row.config.runtime)?;
        if let Some(r) = &runtime {
            std::fs::create_dir_all(&r.root).map_err(io("mkdir", r.root.display()))?;
            hull_image::private_dir(&r.root).map_err(io("chmod 0700", r.root.display()))?;
        }
        let shim_cfg = ShimConfig {
            id: id.clone(),
            bundle: self.container_dir(&id),
            runtime_root: self.cfg.run_root.clone(),
            runtime,
            tty: row.config.tty,
            stdin: row.config.stdin,
            log: LogConfig {
                // docker's `none` driver: nothing kept.
                path: if row.config.log_driver == "none" { Default::default() } else { self.log_path(&id) },
                max_size: row.config.log_max_size,
                max_files: row.config.log_max_files.max(1),
            },
            restart: row.config.restart,
            exit_command,
            events: Some(self.journal().path().to_path_buf()),
            health: self.health_setup(row)?,
            event_attributes: crate::events::container_attributes(row, &[]),
        };
        hull_shim::config::write_json(&shim_dir.join(hull_shim::config::CONFIG_FILE), &shim_cfg)
            .map_err(io("write", shim_dir.display()))?;
        let pid = match self.spawn_shim(&shim_dir, attach) {
            Ok(pid) => pid,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&shim_dir);
                return Err(e);
            }
        };
        let (shim_pid, shim_start) = read_shim_pid(&shim_dir);
        let s = &mut row.state;
        s.status = Status::Running;
        s.pid = pid;
        s.shim_pid = shim_pid;
        s.shim_start = shim_start;
        s.started_at = hull_shim::config::now_rfc3339();
        s.error.clear();
        s.stopped_by_user = false;
        s.shim_died = false;
        s.oom_killed = false;
        s.exit_code = 0;
        self.db().set_state(&id, &row.state)
    }

    /// Runs `hull-shim DIR` with the readiness pipe on fd 3 and the attach
    /// socket on fd 4; returns the container's pid once the shim reports it.
    fn spawn_shim(&self, dir: &Path, attach: Option<OwnedFd>) -> Result<i32> {
        let (ready_r, ready_w) =
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| io("pipe", "shim readiness")(e.into()))?;
        let w = ready_w.as_raw_fd();
        let a = attach.as_ref().map(|f| f.as_raw_fd());
        // From a read-only view of its binary, so the shim (whose clone is
        // the container's init) need not re-execute itself for that.
        let shim = hull_runtime::sealed::readonly_path(&self.cfg.shim).unwrap_or_else(|_| self.cfg.shim.clone());
        let mut cmd = std::process::Command::new(&shim);
        cmd.arg0("hull-shim").arg(dir).stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null());
        // SAFETY: the closure only calls dup2/fcntl, which are async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                place_fd(w, 3)?;
                if let Some(a) = a {
                    place_fd(a, 4)?;
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(io("start", self.cfg.shim.display()))?;
        drop(ready_w);
        drop(attach);
        // The shim forks away at once; its first process is reaped here.
        let _ = child.wait();
        let mut answer = String::new();
        let _ = std::fs::File::from(ready_r).read_to_string(&mut answer);
        let answer = answer.trim();
        if let Some(pid) = answer.strip_prefix("ok ") {
            return pid.trim().parse().map_err(|_| EngineError::Shim(format!("bad readiness answer {answer:?}")));
        }
        Err(match hull_shim::protocol::Failure::parse(answer) {
            Some(f) => failure(f),
            None if answer.is_empty() => EngineError::Shim("exited without an answer".into()),
            None => EngineError::Shim(answer.to_string()),
        })
    }
}

/// Puts `fd` at `target` without CLOEXEC (for the exec'd shim).
fn place_fd(fd: RawFd, target: RawFd) -> std::io::Result<()> {
    if fd == target {
        // SAFETY: fcntl on a descriptor we own.
        let r = unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
        return if r < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) };
    }
    // SAFETY: dup2 onto a descriptor number this child process may replace.
    if unsafe { libc::dup2(fd, target) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// The shim's pid and start time, from the file it writes as it starts.
pub(crate) fn read_shim_pid(dir: &Path) -> (i32, u64) {
    let s = std::fs::read_to_string(dir.join(hull_shim::config::PID_FILE)).unwrap_or_default();
    let mut it = s.split_whitespace();
    let pid = it.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let start = it.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    (pid, start)
}

/// A failure the shim reported, its kind made docker's 126/127.
pub(crate) fn failure(f: hull_shim::protocol::Failure) -> EngineError {
    match f.kind {
        hull_runtime::FailureKind::CommandNotFound => EngineError::CommandNotFound(f.message),
        hull_runtime::FailureKind::CommandNotExecutable => EngineError::CommandNotExecutable(f.message),
        hull_runtime::FailureKind::Other => EngineError::Shim(f.message),
    }
}

/// Resolves the command in the container's root as execve will (PATH from
/// its environment), so a missing or non-executable command is docker's
/// 127 or 126 before anything starts.
/// A working directory the image lacks is made (docker does, 0755, owned
/// by the container's root), inside the root: never through a symlink out.
fn ensure_workdir(rootfs: &Path, spec: &hull_spec::Spec) -> Result<()> {
    let Some(p) = spec.process.as_ref() else { return Ok(()) };
    if p.cwd.as_os_str().is_empty() || p.cwd == Path::new("/") {
        return Ok(());
    }
    let root = hull_rootpath::Root::open(rootfs).map_err(|e| EngineError::Invalid(e.to_string()))?;
    if root.open_dir(&p.cwd).is_ok() {
        return Ok(());
    }
    root.mkdir_all(&p.cwd, 0o755)
        .map(drop)
        .map_err(|e| EngineError::Invalid(format!("working directory {}: {e}", p.cwd.display())))
}

fn check_command(rootfs: &Path, spec: &hull_spec::Spec) -> Result<()> {
    let Some(p) = spec.process.as_ref() else { return Ok(()) };
    // Behind --init's init, the user's command is what must run.
    let args = p.args.as_deref().unwrap_or_default();
    let args = if args.first().map(String::as_str) == Some(crate::oci::INIT_PATH) {
        args.get(2..).unwrap_or_default()
    } else {
        args
    };
    let Some(arg0) = args.first() else { return Ok(()) };
    let env = p.env.clone().unwrap_or_default();
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    let cwd = p.cwd.to_string_lossy().to_string();
    let candidates: Vec<String> = if arg0.contains('/') {
        vec![if arg0.starts_with('/') { arg0.clone() } else { format!("{cwd}/{arg0}") }]
    } else {
        path.split(':').map(|d| format!("{d}/{arg0}")).collect()
    };
    let mut seen_unexecutable = false;
    // Looked up as the container will, inside its root, never on the host.
    let root = hull_rootpath::Root::open(rootfs).map_err(|e| EngineError::Invalid(e.to_string()))?;
    for c in candidates {
        let Ok(fd) = root.resolve(Path::new(&c)) else { continue };
        let Ok(st) = rustix::fs::fstat(&fd) else { continue };
        let regular = rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile;
        if regular && st.st_mode & 0o111 != 0 {
            return Ok(());
        }
        seen_unexecutable = true;
    }
    // Mounts (volumes, binds) are not in the root yet: leave those to the runtime.
    if spec
        .mounts
        .iter()
        .flatten()
        .any(|m| arg0.starts_with(&*m.destination.to_string_lossy()) && m.destination != Path::new("/"))
    {
        return Ok(());
    }
    if seen_unexecutable {
        return Err(EngineError::CommandNotExecutable(format!("exec: {arg0:?}: permission denied")));
    }
    if arg0.contains('/') {
        return Err(EngineError::CommandNotFound(format!("exec: {arg0:?}: no such file or directory")));
    }
    Err(EngineError::CommandNotFound(format!("exec: {arg0:?}: executable file not found in $PATH")))
}
