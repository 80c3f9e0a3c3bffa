//! Keeping the database truthful. A live container's status comes from its
//! shim: alive (pid and start time match) and without an exit record, it
//! runs (or restarts, or is paused); otherwise its end is recorded: from
//! the shim's `exit.json`, or, when the shim died without one (kill -9, a
//! reboot), as killed, after making sure nothing of it is left running.

use crate::db::Row;
use crate::error::Result;
use crate::model::{Container, Status};
use crate::Engine;
use hull_shim::config::{self, ExitRecord, ShimState};

/// What [`Engine::recover`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovered {
    /// The container runs (its shim is alive).
    Alive,
    /// It ended, and stays down.
    Ended,
    /// Its shim had died and its restart policy started it again.
    Restarted,
}

impl Engine {
    /// A container with its live status brought up to date.
    pub(crate) fn refreshed(&self, id: &str) -> Result<Row> {
        let row = self.db().find(id)?;
        if (!row.state.status.is_live() && !self.started_unrecorded(&row)) || self.shim_alive(&row) {
            return Ok(self.with_live_status(row));
        }
        let _lock = self.lock(&row.id)?;
        self.refreshed_locked(&row.id)
    }

    /// As [`Engine::refreshed`], with the container's lock held.
    pub(crate) fn refreshed_locked(&self, id: &str) -> Result<Row> {
        let mut row = self.db().find(id)?;
        if self.started_unrecorded(&row) {
            let (pid, start) = crate::container::start::read_shim_pid(&self.shim_dir(&row.id));
            if crate::start_time(pid) != Some(start) || self.shim_dir(&row.id).join(config::EXIT_FILE).exists() {
                return self.finalize(row);
            }
            // A start whose caller died before recording it (kill -9 of
            // `run -d`): the shim runs the container, so the row says so.
            row.state.status = Status::Running;
            row.state.shim_pid = pid;
            row.state.shim_start = start;
            row.state.started_at = config::now_rfc3339();
            row.state.error.clear();
            self.db().set_state(&row.id, &row.state)?;
        }
        if !row.state.status.is_live() || self.shim_alive(&row) {
            return Ok(self.with_live_status(row));
        }
        self.finalize(row)
    }

    /// A row still Created although a shim was started for it: the only
    /// start that leaves a shim directory without recording Running is one
    /// whose caller was killed in between (a failed start removes it).
    fn started_unrecorded(&self, row: &Row) -> bool {
        row.state.status == Status::Created && self.shim_dir(&row.id).join(config::PID_FILE).exists()
    }

    /// The shim runs and has not recorded an end.
    fn shim_alive(&self, row: &Row) -> bool {
        let dir = self.shim_dir(&row.id);
        crate::start_time(row.state.shim_pid) == Some(row.state.shim_start) && !dir.join(config::EXIT_FILE).exists()
    }

    fn with_live_status(&self, mut row: Row) -> Row {
        if !row.state.status.is_live() {
            return row;
        }
        let dir = self.shim_dir(&row.id);
        if let Ok(Some(s)) = config::read_json::<ShimState>(&dir.join(config::STATE_FILE)) {
            row.state.pid = s.pid;
            row.state.restart_count = s.restart_count;
            if !s.started_at.is_empty() {
                row.state.started_at = s.started_at;
            }
            if let Some(code) = s.last_exit {
                row.state.exit_code = code;
            }
            if let Some(f) = s.last_finished_at {
                row.state.finished_at = f;
            }
            row.state.status = match (s.restarting, s.paused) {
                (true, _) => Status::Restarting,
                (false, Some(true)) => Status::Paused,
                (false, Some(false)) => Status::Running,
                // A shim that does not record pauses: the runtime says.
                (false, None) => match self.runtime_of(&row).state(&row.id) {
                    Some((status, _)) if status == "paused" => Status::Paused,
                    _ => Status::Running,
                },
            };
        }
        row
    }

    /// Records the end of a container whose shim is gone (or done) and
    /// releases what it held: its process, runtime state, mounts.
    pub(crate) fn finalize(&self, mut row: Row) -> Result<Row> {
        let dir = self.shim_dir(&row.id);
        let recorded = config::read_json::<ExitRecord>(&dir.join(config::EXIT_FILE));
        row.state.shim_died = !matches!(recorded, Ok(Some(_)));
        let end: ExitRecord = match recorded {
            Ok(Some(e)) => e,
            _ => ExitRecord {
                code: 137,
                finished_at: config::now_rfc3339(),
                restart_count: row.state.restart_count,
                oom_killed: false,
                error: Some("hull-shim died; the container was killed with it".into()),
            },
        };
        let s = &mut row.state;
        s.status = Status::Exited;
        s.pid = 0;
        s.exit_code = end.code;
        s.finished_at = end.finished_at;
        s.restart_count = end.restart_count;
        s.oom_killed = end.oom_killed;
        s.error = end.error.unwrap_or_default();
        // Recorded before the shim's directory (and its exit record) goes:
        // a reader without the lock never sees a live row with no record.
        self.db().set_state(&row.id, &row.state)?;
        // After the record: whoever waits on the event finds it there.
        if row.state.oom_killed {
            self.emit_container(&row, "oom", &[]);
        }
        self.emit_container(&row, "die", &[("exitCode", row.state.exit_code.to_string())]);
        // The end is recorded whatever the teardown leaves: rm tries again,
        // and says what it cannot undo.
        if let Err(e) = self.release(&row.id) {
            tracing::warn!(container = %row.id, "teardown: {e}");
        }
        // release tore the networking down (and recorded that).
        row.state.endpoints.clear();
        row.state.netns.clear();
        row.state.ports.clear();
        Ok(row)
    }

    /// Kills whatever is left of the container, deletes its runtime state,
    /// tears its networking down, removes its cgroups and unmounts its
    /// root. Each step runs whatever the others did; every failure is
    /// returned (what is left behind, and why).
    pub(crate) fn release(&self, id: &str) -> Result<()> {
        let mut failed = crate::error::Failures::default();
        // Bound first: the database guard must not live through network_down.
        let row = self.db().get(id);
        let rt = match &row {
            Ok(Some(r)) => self.runtime_of(r),
            _ => crate::runtimes::Handle::Hull(self.runtime()),
        };
        if let Some((status, pid)) = rt.state(id) {
            if status != "stopped" {
                if let Err(e) = rt.kill_all(id) {
                    failed.fail(format!("kill the processes of {}", short(id)), e);
                }
                for _ in 0..200 {
                    if crate::start_time(pid).is_none() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
            }
            if let Err(e) = rt.delete(id) {
                failed.fail(format!("delete the runtime state of {}", short(id)), e);
            }
        }
        if let Some(Some(mut row)) = failed.note(row) {
            if !row.state.endpoints.is_empty() || !row.state.netns.is_empty() {
                // A network that cannot be told (a plugin gone, its config
                // removed) must not keep a container from going, as in
                // docker: said, and the endpoints forgotten.
                if let Err(e) = self.network_down(&mut row) {
                    tracing::warn!(container = %id, "network teardown: {e}");
                }
                failed.note(self.db().set_state(id, &row.state));
            }
        }
        match std::fs::remove_dir_all(self.shim_dir(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                failed.fail(format!("remove {}", self.shim_dir(id).display()), e)
            }
            _ => {}
        }
        failed.note(self.remove_cgroups(id));
        for m in ["rootfs", "shm"] {
            let path = self.container_dir(id).join(m);
            if crate::is_mounted(&path) {
                if let Err(e) = nix::mount::umount2(&path, nix::mount::MntFlags::MNT_DETACH) {
                    failed.fail(format!("unmount {}", path.display()), e);
                }
            }
        }
        failed.into_result()
    }

    /// The shim's exit command: record the end, release, and remove the
    /// container if it was run with --rm. `shim_pid` is the calling shim's
    /// pid: a shim whose container was since started again by another shim
    /// (a stop and a start that beat its exit command) changes nothing.
    pub fn cleanup(&self, key: &str, shim_pid: Option<i32>) -> Result<()> {
        let row = match self.db().find(key) {
            Ok(r) => r,
            Err(crate::EngineError::NoSuchContainer(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let lock = self.lock(&row.id)?;
        let mut row = self.db().find(&row.id)?;
        if self.started_unrecorded(&row) {
            // This shim's start was never recorded (its caller was killed):
            // the shim directory says whose it is.
            let (pid, start) = crate::container::start::read_shim_pid(&self.shim_dir(&row.id));
            row.state.shim_pid = pid;
            row.state.shim_start = start;
            self.db().set_state(&row.id, &row.state)?;
        }
        if shim_pid.is_some_and(|p| p != row.state.shim_pid) {
            return Ok(());
        }
        let row = self.refreshed_locked(&row.id)?;
        drop(lock);
        if row.state.status.is_live() {
            return Ok(());
        }
        if row.config.auto_remove {
            return self.remove(&row.id, true, true);
        }
        Ok(())
    }

    /// Removes the container's cgroup directories the runtime left (its
    /// state was lost, as after a reboot of /run); only empty ones go.
    fn remove_cgroups(&self, id: &str) -> Result<()> {
        let Ok(row) = self.db().find(id) else { return Ok(()) };
        let parent = row.config.cgroup_parent.clone().unwrap_or_else(|| "/hull".into());
        let rel = format!("{}/{id}", parent.trim_matches('/'));
        let info = std::fs::read_to_string("/proc/self/mountinfo")
            .map_err(crate::error::io("read", "/proc/self/mountinfo"))?;
        let mut failed = crate::error::Failures::default();
        for line in info.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            let fstype = fields.iter().position(|f| *f == "-").and_then(|i| fields.get(i + 1));
            if matches!(fstype, Some(&"cgroup") | Some(&"cgroup2")) {
                if let Some(mnt) = fields.get(4) {
                    let dir = std::path::Path::new(mnt).join(&rel);
                    // Busy while the last of its killed processes are reaped.
                    let mut tries = 0;
                    let r = loop {
                        match std::fs::remove_dir(&dir) {
                            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && tries < 100 => {
                                tries += 1;
                                std::thread::sleep(std::time::Duration::from_millis(10));
                            }
                            r => break r,
                        }
                    };
                    match r {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            failed.fail(format!("remove the cgroup {}", dir.display()), e)
                        }
                        _ => {}
                    }
                }
            }
        }
        failed.into_result()
    }

    /// Answers a shim's death as the shim would have answered its
    /// container's exit: the end is recorded (exit code 137), and the
    /// restart policy (with the user's stops) decides whether it starts
    /// again. A supervisor (the daemon) calls this when it sees a shim go
    /// and, for every container, when it starts; harmless otherwise: a live
    /// container, or one that ended by itself, is left alone.
    pub fn recover(&self, key: &str) -> Result<Recovered> {
        // Bound first: the database guard must not be held while waiting for the lock.
        let id = self.db().find(key)?.id;
        let lock = self.lock(&id)?;
        let row = self.refreshed_locked(key)?;
        if row.state.status.is_live() {
            return Ok(Recovered::Alive);
        }
        if !row.state.shim_died {
            return Ok(Recovered::Ended);
        }
        if row.config.auto_remove {
            // Its exit command died with the shim: --rm is done here.
            drop(lock);
            self.remove(&row.id, true, true)?;
            return Ok(Recovered::Ended);
        }
        let s = &row.state;
        if !row.config.restart.wants_restart(s.exit_code, s.restart_count, s.stopped_by_user) {
            return Ok(Recovered::Ended);
        }
        drop(lock);
        tracing::info!(container = %row.id, "its shim died: restarting it by its restart policy");
        self.start(&row.id, None)?;
        Ok(Recovered::Restarted)
    }

    /// [`Engine::recover`] for every container; the ids it restarted.
    pub fn recover_all(&self) -> Result<Vec<String>> {
        let mut restarted = Vec::new();
        // Bound first: the database guard must not live through the loop.
        let rows = self.db().list()?;
        for r in rows {
            match self.recover(&r.id) {
                Ok(Recovered::Restarted) => restarted.push(r.id),
                Ok(_) | Err(crate::EngineError::NoSuchContainer(_)) => {}
                Err(e) => tracing::warn!(container = %r.id, "recover: {e}"),
            }
        }
        Ok(restarted)
    }

    /// One container, up to date.
    pub fn get(&self, key: &str) -> Result<Container> {
        Ok(self.to_container(self.refreshed(key)?))
    }

    /// Every container, up to date (oldest first).
    pub fn list(&self) -> Result<Vec<Container>> {
        let rows = self.db().list()?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            match self.refreshed(&r.id) {
                Ok(r) => out.push(self.to_container(r)),
                Err(crate::EngineError::NoSuchContainer(_)) => {} // removed meanwhile
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

/// An id as docker shows it.
fn short(id: &str) -> &str {
    &id[..12.min(id.len())]
}
