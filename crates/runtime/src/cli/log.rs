//! runc-compatible logging: text or JSON lines (`{"level","msg","time"}`) to
//! `--log`, errors also to stderr. containerd reads the last error from a
//! JSON log file, so the shape matters.

use std::io::Write;
use std::path::Path;

pub struct Logger {
    file: Option<std::fs::File>,
    json: bool,
    debug: bool,
}

impl Logger {
    pub fn new(path: Option<&Path>, format: &str, debug: bool) -> Logger {
        let file = path.and_then(|p| std::fs::OpenOptions::new().create(true).append(true).open(p).ok());
        Logger { file, json: format == "json", debug }
    }

    fn write(&self, level: &str, msg: &str) {
        let Some(mut f) = self.file.as_ref() else {
            return;
        };
        let line = if self.json {
            Self::json_line(level, msg)
        } else {
            format!("time=\"{}\" level={level} msg={msg:?}", hull_runtime::util::now_rfc3339())
        };
        let _ = writeln!(f, "{line}");
    }

    /// With `--log-format json` and no `--log` file, the error goes to
    /// stderr as runc's JSON line (`{"level":"error","msg":..,"time":..}`),
    /// which callers scrape; otherwise as `hull-runtime: MSG`, and to the
    /// log file in its format.
    pub fn error(&self, msg: &str) {
        if self.json && self.file.is_none() {
            eprintln!("{}", Self::json_line("error", msg));
        } else {
            eprintln!("hull-runtime: {msg}");
        }
        self.write("error", msg);
    }

    fn json_line(level: &str, msg: &str) -> String {
        let time = hull_runtime::util::now_rfc3339();
        serde_json::json!({ "level": level, "msg": msg, "time": time }).to_string()
    }

    /// Debug messages go to the log file only, and only with --debug.
    pub fn debug(&self, msg: &str) {
        if self.debug {
            self.write("debug", msg);
        }
    }

    pub fn warn(&self, msg: &str) {
        eprintln!("hull-runtime: warning: {msg}");
        self.write("warning", msg);
    }
}
