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
    /// Ends a follow early (the reader went away).
    pub cancel: Option<crate::cancel::Cancel>,
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
        if row.config.log_driver == "none" {
            return Err(crate::EngineError::Invalid("configured logging driver does not support reading".into()));
        }
        let path = self.log_path(&row.id);
        // A follower's place is taken before the past is read: what is
        // written meanwhile comes from it (once: by time).
        let held = opts.follow.then(|| {
            use std::io::{Seek, SeekFrom};
            let mut f = std::fs::File::open(&path).ok();
            if let Some(f) = f.as_mut() {
                let _ = f.seek(SeekFrom::End(0));
            }
            f
        });
        let keep = |e: &LogEntry| {
            opts.since.as_ref().is_none_or(|s| e.time.as_str() >= s.as_str())
                && opts.until.as_ref().is_none_or(|u| e.time.as_str() < u.as_str())
        };
        let entries = match opts.tail {
            // Read from the end: a long log costs what the tail costs.
            Some(n) => {
                let mut newest_first = Vec::new();
                for f in rotated(&path).iter().rev() {
                    if newest_first.len() >= n {
                        break;
                    }
                    let mut found = last_entries(f, n - newest_first.len(), &keep);
                    newest_first.append(&mut found);
                }
                newest_first.reverse();
                newest_first
            }
            None => {
                let mut entries = Vec::new();
                for f in rotated(&path) {
                    read_from(&f, 0, &mut |e| {
                        if keep(&e) {
                            entries.push(e);
                        }
                    });
                }
                entries
            }
        };
        for e in &entries {
            if !sink(e) {
                return Ok(());
            }
        }
        if !opts.follow {
            return Ok(());
        }
        let last = entries.last().map(|e| e.time.clone());
        self.follow_log(&row, held.flatten(), last, opts.cancel.as_ref(), &keep, sink)
    }

    /// `logs -f`: what the log gains, woken by inotify (no polling), until
    /// the container's shim is gone (its pidfd) or `cancel` fires. The file being read is
    /// held open, so a rotation (even several before we look, even one
    /// that deletes it) loses nothing: its rest is read from the held
    /// descriptor, then every newer file, by time.
    fn follow_log(
        &self,
        row: &crate::db::Row,
        mut file: Option<std::fs::File>,
        mut last: Option<String>,
        cancel: Option<&crate::cancel::Cancel>,
        keep: &dyn Fn(&LogEntry) -> bool,
        sink: &mut dyn FnMut(&LogEntry) -> bool,
    ) -> Result<()> {
        use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
        use std::io::{Seek, SeekFrom};
        use std::os::fd::AsFd;
        let path = &self.log_path(&row.id);
        let dir = path.parent().unwrap_or(std::path::Path::new("/"));
        let inotify = Inotify::init(InitFlags::IN_CLOEXEC | InitFlags::IN_NONBLOCK)
            .map_err(|e| crate::error::io("inotify_init", dir.display())(e.into()))?;
        inotify
            .add_watch(dir, AddWatchFlags::IN_MODIFY | AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO)
            .map_err(|e| crate::error::io("inotify_add_watch", dir.display())(e.into()))?;
        // Watched before the shim is looked at: its end cannot be missed.
        let shim = hull_runtime::sys::pidfd_open(row.state.shim_pid)
            .ok()
            .filter(|_| crate::start_time(row.state.shim_pid) == Some(row.state.shim_start));
        let mut ino =
            file.as_ref().and_then(|f| f.metadata().ok()).map_or(0, |m| std::os::unix::fs::MetadataExt::ino(&m));
        let mut partial = Vec::new();
        let mut deliver = |e: LogEntry, last: &mut Option<String>| -> bool {
            if last.as_ref().is_some_and(|t| e.time <= *t) {
                return true;
            }
            *last = Some(e.time.clone());
            !keep(&e) || sink(&e)
        };
        loop {
            let ended = shim.as_ref().is_none_or(|p| {
                let mut fds = [nix::poll::PollFd::new(p.as_fd(), nix::poll::PollFlags::POLLIN)];
                nix::poll::poll(&mut fds, nix::poll::PollTimeout::ZERO).is_ok_and(|n| n > 0)
            });
            // What the held file gained.
            for e in read_new(file.as_mut(), &mut partial) {
                if !deliver(e, &mut last) {
                    return Ok(());
                }
            }
            if inode(path) != ino {
                // Rotated: the held file is done; the newer ones follow, by time.
                for f in rotated(path) {
                    let mut stop = false;
                    read_from(&f, 0, &mut |e| {
                        if !stop {
                            stop = !deliver(e, &mut last);
                        }
                    });
                    if stop {
                        return Ok(());
                    }
                }
                file = std::fs::File::open(path).ok();
                if let Some(f) = file.as_mut() {
                    let _ = f.seek(SeekFrom::End(0));
                }
                ino = inode(path);
                partial.clear();
            }
            if ended || cancel.is_some_and(|c| c.is_triggered()) {
                return Ok(());
            }
            let mut fds = vec![nix::poll::PollFd::new(inotify.as_fd(), nix::poll::PollFlags::POLLIN)];
            if let Some(p) = &shim {
                fds.push(nix::poll::PollFd::new(p.as_fd(), nix::poll::PollFlags::POLLIN));
            }
            if let Some(c) = cancel {
                fds.push(nix::poll::PollFd::new(c.fd(), nix::poll::PollFlags::POLLIN));
            }
            match nix::poll::poll(&mut fds, nix::poll::PollTimeout::NONE) {
                Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                Err(e) => return Err(crate::error::io("poll", "log")(e.into())),
            }
            while inotify.read_events().is_ok_and(|v| !v.is_empty()) {}
        }
    }
}

/// The complete JSON lines a file being appended to gained since the last
/// call (`partial` keeps a line still being written); the log follower's
/// and the event journal's.
pub(crate) fn read_new<T: serde::de::DeserializeOwned>(
    file: Option<&mut std::fs::File>,
    partial: &mut Vec<u8>,
) -> Vec<T> {
    use std::io::Read;
    let Some(f) = file else { return Vec::new() };
    let _ = f.read_to_end(partial);
    let mut out = Vec::new();
    while let Some(n) = partial.iter().position(|b| *b == b'\n') {
        let line: Vec<u8> = partial.drain(..=n).collect();
        if let Ok(e) = serde_json::from_slice::<T>(&line) {
            out.push(e);
        }
    }
    out
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

/// Up to `n` entries that `keep` takes from the end of `path`, newest
/// first, read backwards in blocks (a last line still being written is
/// not one yet).
fn last_entries(path: &std::path::Path, n: usize, keep: &dyn Fn(&LogEntry) -> bool) -> Vec<LogEntry> {
    use std::io::Read;
    const BLOCK: u64 = 64 * 1024;
    let mut out = Vec::new();
    let Ok(mut file) = std::fs::File::open(path) else { return out };
    let Ok(len) = file.metadata().map(|m| m.len()) else { return out };
    let mut end = len;
    // Bytes after the last newline seen so far (the start of a line whose
    // beginning is in an earlier block).
    let mut carry: Vec<u8> = Vec::new();
    // Until the file's last newline is found, bytes are the partial line
    // still being written.
    let mut in_partial = true;
    while end > 0 && out.len() < n {
        let start = end.saturating_sub(BLOCK);
        let mut buf = vec![0u8; (end - start) as usize];
        if file.seek(SeekFrom::Start(start)).is_err() || file.read_exact(&mut buf).is_err() {
            return out;
        }
        end = start;
        if in_partial {
            match buf.iter().rposition(|b| *b == b'\n') {
                Some(i) => {
                    buf.truncate(i);
                    in_partial = false;
                }
                None => continue,
            }
        } else {
            buf.extend_from_slice(&carry);
        }
        let mut lines: Vec<&[u8]> = buf.split(|b| *b == b'\n').collect();
        // The piece before the first newline may continue in the block before.
        let head = if start > 0 { lines.remove(0).to_vec() } else { Vec::new() };
        for line in lines.iter().rev() {
            if out.len() >= n {
                break;
            }
            if let Ok(e) = serde_json::from_slice::<LogEntry>(line) {
                if keep(&e) {
                    out.push(e);
                }
            }
        }
        carry = head;
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_reads_from_the_end_across_blocks_and_skips_a_partial_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.json");
        let mut text = String::new();
        for i in 0..5000 {
            text.push_str(&format!(
                "{{\"log\":\"line {i} {}\\n\",\"stream\":\"stdout\",\"time\":\"t{i:05}\"}}\n",
                "x".repeat(i % 50)
            ));
        }
        text.push_str("{\"log\":\"half"); // still being written
        std::fs::write(&path, &text).unwrap();
        let all = |_: &LogEntry| true;
        let got: Vec<String> = last_entries(&path, 3, &all).iter().map(|e| e.time.clone()).collect();
        assert_eq!(got, ["t04999", "t04998", "t04997"]);
        // Across many 64 KiB blocks, every entry once, in order.
        let every = last_entries(&path, 10_000, &all);
        assert_eq!(every.len(), 5000);
        assert!(every.iter().rev().enumerate().all(|(i, e)| e.time == format!("t{i:05}")));
        // A filter applies while reading back.
        let even = |e: &LogEntry| e.time.ends_with('0');
        let got: Vec<String> = last_entries(&path, 2, &even).iter().map(|e| e.time.clone()).collect();
        assert_eq!(got, ["t04990", "t04980"]);
    }
}
