//! `logs`: reading the json-file log a shim writes, its rotated files
//! first, with tail, since/until and follow.

use crate::error::Result;
use crate::Engine;
use serde::Deserialize;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::PathBuf;

/// Which entries to read.
#[derive(Debug, Clone, Default)]
pub struct LogOptions {
    /// Only the last N entries.
    pub tail: Option<usize>,
    /// Entries at or after this time (RFC 3339).
    pub since: Option<String>,
    /// Entries before this time (RFC 3339).
    pub until: Option<String>,
    /// Keep reading while the container runs.
    pub follow: bool,
}

/// One log entry.
#[derive(Debug, Clone, Deserialize)]
pub struct LogEntry {
    /// The bytes (a line with its newline, or a partial line).
    pub log: String,
    /// `stdout` or `stderr`.
    pub stream: String,
    /// When the shim read it, RFC 3339.
    pub time: String,
}

impl Engine {
    /// Calls `sink` for each entry; `sink` returns false to stop.
    pub fn logs(&self, key: &str, opts: &LogOptions, sink: &mut dyn FnMut(&LogEntry) -> bool) -> Result<()> {
        let row = self.refreshed(key)?;
        let path = self.log_path(&row.id);
        let mut entries = Vec::new();
        for f in rotated(&path) {
            read_from(&f, 0, &mut |e| {
                entries.push(e);
            });
        }
        let keep = |e: &LogEntry| {
            opts.since.as_ref().is_none_or(|s| e.time.as_str() >= s.as_str())
                && opts.until.as_ref().is_none_or(|u| e.time.as_str() < u.as_str())
        };
        entries.retain(keep);
        if let Some(n) = opts.tail {
            let skip = entries.len().saturating_sub(n);
            entries.drain(..skip);
        }
        for e in &entries {
            if !sink(e) {
                return Ok(());
            }
        }
        if !opts.follow {
            return Ok(());
        }
        // Follow the live file from where it ends now; a rotation starts a new file.
        let mut pos = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let mut ino = inode(&path);
        loop {
            let live = match self.refreshed(&row.id) {
                Ok(r) => r.state.status.is_live(),
                Err(_) => false,
            };
            if inode(&path) != ino {
                // Rotated: finish the old file (now .1), then start the new one at 0.
                let old = PathBuf::from(format!("{}.1", path.display()));
                let mut stop = false;
                read_from(&old, pos, &mut |e| stop |= keep(&e) && !sink(&e));
                if stop {
                    return Ok(());
                }
                pos = 0;
                ino = inode(&path);
            }
            let mut stop = false;
            pos = read_from(&path, pos, &mut |e| stop |= keep(&e) && !sink(&e));
            if stop || !live {
                return Ok(());
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

fn inode(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).unwrap_or(0)
}

/// The log files, oldest first.
fn rotated(path: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for n in (1..100).rev() {
        let p = PathBuf::from(format!("{}.{n}", path.display()));
        if p.exists() {
            out.push(p);
        }
    }
    out.push(path.to_path_buf());
    out
}

/// Reads whole lines from `pos`; returns the position after the last one.
fn read_from(path: &std::path::Path, pos: u64, f: &mut dyn FnMut(LogEntry)) -> u64 {
    let Ok(mut file) = std::fs::File::open(path) else { return pos };
    if file.seek(SeekFrom::Start(pos)).is_err() {
        return pos;
    }
    let mut r = BufReader::new(file);
    let mut at = pos;
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return at,
            Ok(n) if !line.ends_with('\n') => {
                let _ = n;
                return at; // a line still being written
            }
            Ok(n) => {
                at += n as u64;
                if let Ok(e) = serde_json::from_str::<LogEntry>(&line) {
                    f(e);
                }
            }
        }
    }
}
