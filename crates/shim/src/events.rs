//! The event journal: one JSON line per event in docker's vocabulary
//! (`container start`, `container die`, `image pull`, ...), appended by the
//! engine and by the shims, under the run root. Each line is one
//! `write(2)` to a file opened with O_APPEND, so writers in several
//! processes never interleave; the file is rotated to `<path>.1` past
//! [`MAX_BYTES`] (so a reader that starts from a time reads `.1`, then the
//! file). Readers follow it with inotify.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Size past which the journal is rotated.
pub const MAX_BYTES: u64 = 4 << 20;

/// The journal's file name under the run root.
pub const FILE: &str = "events.log";

/// One event, as docker's `/events` gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `container`, `image`, `network`, `volume`.
    #[serde(rename = "Type")]
    pub typ: String,
    /// `create`, `start`, `die`, `pull`, `connect`, ...
    #[serde(rename = "Action")]
    pub action: String,
    /// What it is about.
    #[serde(rename = "Actor")]
    pub actor: Actor,
    /// Always `local`.
    pub scope: String,
    /// Seconds since the epoch.
    pub time: i64,
    /// Nanoseconds since the epoch.
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
    /// The legacy fields docker still sends for containers and images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Legacy: the actor's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Legacy: a container's image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// The object of an event.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    /// Its id (a container or network id, an image reference, a volume name).
    #[serde(rename = "ID")]
    pub id: String,
    /// `name`, `image`, `exitCode`, labels, ...
    #[serde(rename = "Attributes")]
    pub attributes: BTreeMap<String, String>,
}

/// Nanoseconds since the epoch, now.
pub fn now_nanos() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64)
}

impl Event {
    /// An event of now.
    pub fn new(typ: &str, action: &str, id: &str, attributes: BTreeMap<String, String>) -> Event {
        let time_nano = now_nanos();
        let legacy = typ == "container" || typ == "image";
        Event {
            typ: typ.into(),
            action: action.into(),
            status: legacy.then(|| action.to_string()),
            id: legacy.then(|| id.to_string()),
            from: (typ == "container").then(|| attributes.get("image").cloned()).flatten(),
            actor: Actor { id: id.into(), attributes },
            scope: "local".into(),
            time: time_nano / 1_000_000_000,
            time_nano,
        }
    }
}

/// The journal under a run root.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    /// The journal at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Journal {
        Journal { path: path.into() }
    }

    /// Its file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn rotated(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".1");
        p.into()
    }

    /// Appends one event (rotating first when the file is full).
    pub fn append(&self, event: &Event) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(event).map_err(std::io::Error::other)?;
        line.push(b'\n');
        if std::fs::metadata(&self.path).is_ok_and(|m| m.len() + line.len() as u64 > MAX_BYTES) {
            // Two writers may both rotate: the second renames a small file
            // over the first's .1, losing little; the lines stay whole.
            let _ = std::fs::rename(&self.path, self.rotated());
        }
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        f.write_all(&line)
    }

    /// Every event at or after `since` (nanoseconds), oldest first.
    pub fn since(&self, since: i64) -> Vec<Event> {
        let mut out = Vec::new();
        for p in [self.rotated(), self.path.clone()] {
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            out.extend(
                text.lines().filter_map(|l| serde_json::from_str::<Event>(l).ok()).filter(|e| e.time_nano >= since),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_reads_back_and_rotates() {
        let dir = tempfile_dir();
        let j = Journal::new(dir.join(FILE));
        let attrs: BTreeMap<String, String> = [("image".to_string(), "busybox".to_string())].into();
        let first = Event::new("container", "create", "abc", attrs.clone());
        j.append(&first).unwrap();
        j.append(&Event::new("network", "create", "n1", BTreeMap::new())).unwrap();
        let all = j.since(0);
        assert_eq!(all.len(), 2);
        assert_eq!(all[0], first);
        assert_eq!(all[0].from.as_deref(), Some("busybox"));
        assert_eq!(all[1].status, None, "no legacy status for networks");
        assert_eq!(j.since(all[1].time_nano).len(), 1);
        // Past the size: rotated, and both files read.
        std::fs::write(j.path(), vec![b' '; MAX_BYTES as usize]).unwrap();
        j.append(&Event::new("volume", "create", "v", BTreeMap::new())).unwrap();
        assert!(j.rotated().exists());
        assert_eq!(j.since(0).last().unwrap().typ, "volume");
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("hull-events-test-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
