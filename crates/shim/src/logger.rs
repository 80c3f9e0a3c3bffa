//! The container's log in docker's json-file format: one JSON object per
//! line (`log`, `stream`, `time`), rotated by size into `<path>.1` ...
//! `<path>.<max_files-1>`. An empty path is docker's `none` driver: the
//! output is relayed to attached clients and kept nowhere.

use hull_shim::config::{now_rfc3339, LogConfig};
use std::fs::{File, OpenOptions};
use std::io::Write;

/// Longest partial line held back before it is written as its own entry.
const MAX_PARTIAL: usize = 16 * 1024;

pub struct Logger {
    cfg: LogConfig,
    file: Option<File>,
    size: u64,
    partial: [Vec<u8>; 2],
}

fn open(cfg: &LogConfig) -> std::io::Result<(Option<File>, u64)> {
    if cfg.path.as_os_str().is_empty() {
        return Ok((None, 0));
    }
    let file = OpenOptions::new().create(true).append(true).open(&cfg.path)?;
    let size = file.metadata()?.len();
    Ok((Some(file), size))
}

impl Logger {
    pub fn new(cfg: LogConfig) -> std::io::Result<Logger> {
        let (file, size) = open(&cfg)?;
        Ok(Logger { cfg, file, size, partial: [Vec::new(), Vec::new()] })
    }

    /// Takes output of stream 1 (stdout) or 2 (stderr); writes its complete lines.
    pub fn write(&mut self, stream: u8, data: &[u8]) {
        let i = usize::from(stream == 2);
        let mut buf = std::mem::take(&mut self.partial[i]);
        buf.extend_from_slice(data);
        let mut start = 0;
        while let Some(n) = buf[start..].iter().position(|b| *b == b'\n') {
            self.entry(stream, &buf[start..start + n + 1]);
            start += n + 1;
        }
        buf.drain(..start);
        if buf.len() >= MAX_PARTIAL {
            self.entry(stream, &buf);
            buf.clear();
        }
        self.partial[i] = buf;
    }

    /// Writes what is held back (the stream ended without a newline).
    pub fn flush(&mut self) {
        for stream in [1u8, 2] {
            let buf = std::mem::take(&mut self.partial[usize::from(stream == 2)]);
            if !buf.is_empty() {
                self.entry(stream, &buf);
            }
        }
    }

    fn entry(&mut self, stream: u8, line: &[u8]) {
        if self.file.is_none() {
            return;
        }
        let name = if stream == 2 { "stderr" } else { "stdout" };
        let obj = serde_json::json!({ "log": String::from_utf8_lossy(line), "stream": name, "time": now_rfc3339() });
        let mut out = obj.to_string().into_bytes();
        out.push(b'\n');
        if self.cfg.max_size > 0 && self.size > 0 && self.size + out.len() as u64 > self.cfg.max_size {
            if let Err(e) = self.rotate() {
                eprintln!("hull-shim: rotate {}: {e}", self.cfg.path.display());
            }
        }
        let Some(file) = self.file.as_mut() else { return };
        match file.write_all(&out) {
            Ok(()) => self.size += out.len() as u64,
            Err(e) => eprintln!("hull-shim: write {}: {e}", self.cfg.path.display()),
        }
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let keep = self.cfg.max_files.max(1);
        let name = |n: u32| {
            let mut p = self.cfg.path.clone().into_os_string();
            p.push(format!(".{n}"));
            std::path::PathBuf::from(p)
        };
        if keep == 1 {
            if let Some(f) = &self.file {
                f.set_len(0)?;
            }
            self.size = 0;
            return Ok(());
        }
        let _ = std::fs::remove_file(name(keep - 1));
        for n in (1..keep - 1).rev() {
            let _ = std::fs::rename(name(n), name(n + 1));
        }
        std::fs::rename(&self.cfg.path, name(1))?;
        let (file, size) = open(&self.cfg)?;
        self.file = file;
        self.size = size;
        Ok(())
    }
}
