//! Events: what the engine and the shims did, in docker's vocabulary, from
//! the journal under the run root (see [`hull_shim::events`]), so that any
//! process sees them: `hull events` in one shell, `run` in another.
//! Readers follow the journal with inotify (no polling); `wait` blocks on
//! it.

use crate::db::Row;
use crate::error::{io, EngineError, Result};
use crate::Engine;
use hull_shim::events::{Event, Journal};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use std::collections::BTreeMap;
use std::io::{Seek, SeekFrom};
use std::os::fd::AsFd;

/// docker's `--filter` keys for events.
const KEYS: &[&str] = &["type", "event", "container", "image", "label", "network", "volume"];

/// `--filter KEY=VALUE` of `events`: within a key any value matches,
/// every key must (docker's rule).
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    filters: crate::filters::Filters,
}

impl EventFilter {
    /// Parses `KEY=VALUE` filters.
    pub fn parse(given: &[String]) -> Result<EventFilter> {
        Ok(EventFilter { filters: crate::filters::Filters::parse(given, KEYS)? })
    }

    /// The API's JSON form of the filters.
    pub fn from_json(text: &str) -> Result<EventFilter> {
        Ok(EventFilter { filters: crate::filters::Filters::from_json(text, KEYS)? })
    }

    /// Whether `e` passes.
    pub fn matches(&self, e: &Event) -> bool {
        let attr = |k: &str| e.actor.attributes.get(k).map(String::as_str);
        self.filters.iter().all(|(k, values)| {
            values.iter().any(|v| match k {
                "type" => e.typ == *v,
                // `exec_start: sh -c x` is an exec_start.
                "event" => e.action == *v || e.action.split(':').next() == Some(v.as_str()),
                "container" => e.typ == "container" && (e.actor.id.starts_with(v.as_str()) || attr("name") == Some(v)),
                "image" => attr("image") == Some(v) || (e.typ == "image" && e.actor.id == *v),
                "label" => match v.split_once('=') {
                    Some((lk, lv)) => attr(lk) == Some(lv),
                    None => attr(v).is_some(),
                },
                "network" => e.typ == "network" && (e.actor.id.starts_with(v.as_str()) || attr("name") == Some(v)),
                "volume" => e.typ == "volume" && e.actor.id == *v,
                _ => false,
            })
        })
    }
}

/// What `wait` waits for (docker's `--condition`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitCondition {
    /// Until it is not running (at once if it is not).
    #[default]
    NotRunning,
    /// Until it next exits.
    NextExit,
    /// Until it is removed.
    Removed,
}

impl std::str::FromStr for WaitCondition {
    type Err = EngineError;
    fn from_str(s: &str) -> Result<WaitCondition> {
        match s {
            "not-running" | "" => Ok(WaitCondition::NotRunning),
            "next-exit" => Ok(WaitCondition::NextExit),
            "removed" => Ok(WaitCondition::Removed),
            _ => Err(EngineError::Invalid(format!("invalid condition {s:?}: want not-running, next-exit or removed"))),
        }
    }
}

impl Engine {
    /// The journal.
    pub(crate) fn journal(&self) -> Journal {
        Journal::new(self.cfg.run_root.join(hull_shim::events::FILE))
    }

    /// Records an event. Best effort: an event that cannot be written must
    /// not fail what it reports (the journal's directory is the run root
    /// the engine already writes).
    pub fn emit(&self, typ: &str, action: &str, id: &str, attributes: BTreeMap<String, String>) {
        let _ = self.journal().append(&Event::new(typ, action, id, attributes));
    }

    /// A container event, with docker's attributes (name, image, labels).
    pub(crate) fn emit_container(&self, row: &Row, action: &str, extra: &[(&str, String)]) {
        self.emit("container", action, &row.id, container_attributes(row, extra));
    }

    /// Calls `sink` for each event from `since` (nanoseconds; None: from
    /// now) until `until` (None: for ever), as they come; `sink` returns
    /// false to stop.
    pub fn events(
        &self,
        since: Option<i64>,
        until: Option<i64>,
        filter: &EventFilter,
        sink: &mut dyn FnMut(&Event) -> bool,
    ) -> Result<()> {
        self.events_until(since, until, filter, None, sink)
    }

    /// [`Engine::events`] that also ends when `cancel` fires (a front end's
    /// client went away while no event came).
    pub fn events_until(
        &self,
        since: Option<i64>,
        until: Option<i64>,
        filter: &EventFilter,
        cancel: Option<&crate::cancel::Cancel>,
        sink: &mut dyn FnMut(&Event) -> bool,
    ) -> Result<()> {
        let journal = self.journal();
        let dir = self.cfg.run_root.clone();
        std::fs::create_dir_all(&dir).map_err(io("mkdir", dir.display()))?;
        // Watching starts before the first read: nothing falls in between.
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
            .map_err(|e| io("inotify_init", dir.display())(e.into()))?;
        inotify
            .add_watch(&dir, AddWatchFlags::IN_MODIFY | AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO)
            .map_err(|e| io("inotify_add_watch", dir.display())(e.into()))?;
        // The follower's place is taken before the past is read: what is
        // appended meanwhile comes from it (once: by time, see last_seen).
        let mut reader = Follower::open(journal.path());
        reader.skip_to_end();
        let mut last_seen = None;
        for e in since.map(|from| journal.since(from)).unwrap_or_default() {
            if until.is_some_and(|u| e.time_nano > u) {
                return Ok(());
            }
            last_seen = Some(e.time_nano);
            if filter.matches(&e) && !sink(&e) {
                return Ok(());
            }
        }
        loop {
            for e in reader.new_events() {
                if last_seen.is_some_and(|t| e.time_nano <= t) {
                    continue;
                }
                if until.is_some_and(|u| e.time_nano > u) {
                    return Ok(());
                }
                if filter.matches(&e) && !sink(&e) {
                    return Ok(());
                }
            }
            let now = hull_shim::events::now_nanos();
            if until.is_some_and(|u| now > u) || cancel.is_some_and(|c| c.is_triggered()) {
                return Ok(());
            }
            let timeout = match until {
                Some(u) => nix::poll::PollTimeout::from(((u - now) / 1_000_000).clamp(1, 60_000) as u16),
                None => nix::poll::PollTimeout::NONE,
            };
            let mut fds = vec![nix::poll::PollFd::new(inotify.as_fd(), nix::poll::PollFlags::POLLIN)];
            if let Some(c) = cancel {
                fds.push(nix::poll::PollFd::new(c.fd(), nix::poll::PollFlags::POLLIN));
            }
            match nix::poll::poll(&mut fds, timeout) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(io("poll", "event journal")(e.into())),
            }
            while inotify.read_events().is_ok_and(|v| !v.is_empty()) {}
        }
    }

    /// Waits for a container as `docker wait --condition` does; returns its
    /// exit code.
    pub fn wait_for(&self, key: &str, condition: WaitCondition) -> Result<i32> {
        self.wait_for_until(key, condition, None)
    }

    /// [`Engine::wait_for`] that gives up when `cancel` fires (the waiting
    /// client went away: docker's CLI asks for `next-exit` at every `run`
    /// and may leave before the end), returning the last exit code known.
    pub fn wait_for_until(
        &self,
        key: &str,
        condition: WaitCondition,
        cancel: Option<&crate::cancel::Cancel>,
    ) -> Result<i32> {
        let t0 = hull_shim::events::now_nanos();
        let row = self.refreshed(key)?;
        if condition == WaitCondition::NotRunning && !row.state.status.is_live() {
            return Ok(row.state.exit_code);
        }
        let id = row.id.clone();
        let mut code = row.state.exit_code;
        let filter = EventFilter::parse(&[format!("container={id}"), "type=container".into()])?;
        let mut removed_already = false;
        if condition == WaitCondition::Removed {
            // Gone between the lookup and the watch: nothing to wait for.
            removed_already = self.db().find(&id).is_err();
        }
        if !removed_already {
            // A shim that dies without its exit command (kill -9) writes no
            // end: when it goes, the refresh below records it (finalize's die).
            let (stop_r, stop_w) =
                nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| io("pipe", "wait")(e.into()))?;
            let shim = hull_runtime::sys::pidfd_open(row.state.shim_pid).ok();
            let result = std::thread::scope(|scope| {
                if let Some(pidfd) = &shim {
                    scope.spawn(|| {
                        let mut fds = [
                            nix::poll::PollFd::new(pidfd.as_fd(), nix::poll::PollFlags::POLLIN),
                            nix::poll::PollFd::new(stop_r.as_fd(), nix::poll::PollFlags::POLLIN),
                        ];
                        while nix::poll::poll(&mut fds, nix::poll::PollTimeout::NONE) == Err(nix::errno::Errno::EINTR) {
                        }
                        if fds[0].any().unwrap_or(false) {
                            let _ = self.refreshed(&id);
                        }
                    });
                }
                let r = self.wait_events(t0, &id, condition, &filter, cancel, &mut code);
                let _ = nix::unistd::write(&stop_w, b"x");
                r
            });
            result?;
        }
        Ok(code)
    }

    fn wait_events(
        &self,
        t0: i64,
        id: &str,
        condition: WaitCondition,
        filter: &EventFilter,
        cancel: Option<&crate::cancel::Cancel>,
        code: &mut i32,
    ) -> Result<()> {
        self.events_until(Some(t0), None, filter, cancel, &mut |e| {
            if e.action == "die" {
                *code = e.actor.attributes.get("exitCode").and_then(|c| c.parse().ok()).unwrap_or(*code);
                return match condition {
                    WaitCondition::NextExit => false,
                    WaitCondition::Removed => true,
                    // A restart policy's exit is not the end: it restarts.
                    WaitCondition::NotRunning => self.refreshed(id).is_ok_and(|r| r.state.status.is_live()),
                };
            }
            e.action != "destroy"
        })
    }
}

/// docker's container event attributes: name, image, the labels, and more.
pub(crate) fn container_attributes(row: &Row, extra: &[(&str, String)]) -> BTreeMap<String, String> {
    let mut a: BTreeMap<String, String> = row.config.labels.clone();
    a.insert("name".into(), row.name.clone());
    a.insert("image".into(), row.config.image.clone());
    a.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
    a
}

/// Reads what the journal gains, across a rotation.
struct Follower {
    path: std::path::PathBuf,
    file: Option<std::fs::File>,
    ino: u64,
    partial: Vec<u8>,
}

impl Follower {
    fn open(path: &std::path::Path) -> Follower {
        let mut f = Follower { path: path.to_path_buf(), file: None, ino: 0, partial: Vec::new() };
        f.reopen();
        f
    }

    fn reopen(&mut self) {
        use std::os::unix::fs::MetadataExt;
        self.file = std::fs::File::open(&self.path).ok();
        self.ino = self.file.as_ref().and_then(|f| f.metadata().ok()).map_or(0, |m| m.ino());
        self.partial.clear();
    }

    fn skip_to_end(&mut self) {
        if let Some(f) = self.file.as_mut() {
            let _ = f.seek(SeekFrom::End(0));
        }
    }

    fn new_events(&mut self) -> Vec<Event> {
        use std::os::unix::fs::MetadataExt;
        let mut out = self.drain();
        // Rotated (or made): the old file's rest is read above; now the new one.
        let now = std::fs::metadata(&self.path).map_or(0, |m| m.ino());
        if now != self.ino {
            self.reopen();
            out.extend(self.drain());
        }
        out
    }

    fn drain(&mut self) -> Vec<Event> {
        crate::container::logs::read_new(self.file.as_mut(), &mut self.partial)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(typ: &str, action: &str, id: &str, attrs: &[(&str, &str)]) -> Event {
        Event::new(typ, action, id, attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn filters_as_docker_combines_them() {
        let f = |given: &[&str]| EventFilter::parse(&given.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
        let die = ev("container", "die", "abc123", &[("name", "web"), ("image", "busybox"), ("tier", "front")]);
        let exec = ev("container", "exec_start: sh -c true", "abc123", &[("name", "web")]);
        let net = ev("network", "create", "n1", &[("name", "appnet")]);
        assert!(f(&["type=container", "event=die"]).matches(&die));
        assert!(f(&["event=start", "event=die"]).matches(&die), "values of one key: any");
        assert!(!f(&["type=network", "event=die"]).matches(&die), "keys: all");
        assert!(f(&["container=web"]).matches(&die) && f(&["container=abc"]).matches(&die));
        assert!(f(&["label=tier=front"]).matches(&die) && !f(&["label=tier=back"]).matches(&die));
        assert!(f(&["event=exec_start"]).matches(&exec));
        assert!(f(&["network=appnet"]).matches(&net) && !f(&["container=appnet"]).matches(&net));
        assert!(EventFilter::parse(&["colour=red".into()]).is_err());
        assert_eq!("removed".parse::<WaitCondition>().unwrap(), WaitCondition::Removed);
        assert!("soon".parse::<WaitCondition>().is_err());
    }
}
