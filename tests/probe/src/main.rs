//! The probe: run inside a container, it prints one JSON object describing
//! what the process sees. Std only, built static (`+crt-static`) so it runs
//! in a bare busybox rootfs. Nothing here writes anywhere.
//!
//! Usage: probe [--masked PATH]... [--readonly PATH]... [--sysctl KEY]... [--cgroup-file CONTROLLER/FILE]...

use std::fmt::Write as _;
use std::fs;

struct Json(String);

impl Json {
    fn str(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
    fn field(&mut self, key: &str, raw: String) {
        if self.0.len() > 1 {
            self.0.push(',');
        }
        let _ = write!(self.0, "{}:{}", Self::str(key), raw);
    }
}

fn opt_str(v: Option<String>) -> String {
    v.map_or("null".into(), |s| Json::str(&s))
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    format!("[{}]", items.into_iter().collect::<Vec<_>>().join(","))
}

fn object(items: impl IntoIterator<Item = (String, String)>) -> String {
    let body: Vec<String> = items.into_iter().map(|(k, v)| format!("{}:{}", Json::str(&k), v)).collect();
    format!("{{{}}}", body.join(","))
}

fn read(path: &str) -> Option<String> {
    fs::read_to_string(path).ok().map(|s| s.trim_end_matches('\n').to_string())
}

fn status_field(status: &str, key: &str) -> Option<String> {
    status.lines().find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
}

fn mounts() -> (String, Vec<(String, String)>) {
    let text = read("/proc/self/mountinfo").unwrap_or_default();
    let mut out = Vec::new();
    let mut pairs = Vec::new();
    for line in text.lines() {
        let Some((pre, post)) = line.split_once(" - ") else { continue };
        let pre: Vec<&str> = pre.split(' ').collect();
        let post: Vec<&str> = post.split(' ').collect();
        if pre.len() < 6 || post.len() < 3 {
            continue;
        }
        let options = format!("{},{}", pre[5], post[2]);
        let propagation = pre[6..].join(" ");
        pairs.push((pre[4].to_string(), options.clone()));
        out.push(object([
            ("destination".into(), Json::str(pre[4])),
            ("type".into(), Json::str(post[0])),
            ("source".into(), Json::str(post[1])),
            ("root".into(), Json::str(pre[3])),
            ("options".into(), Json::str(&options)),
            ("propagation".into(), Json::str(&propagation)),
        ]));
    }
    (list(out), pairs)
}

fn mount_is_ro(pairs: &[(String, String)], path: &str) -> Option<bool> {
    let best = pairs
        .iter()
        .filter(|(mp, _)| path == mp || path.starts_with(&format!("{}/", mp.trim_end_matches('/'))) || mp == "/")
        .max_by_key(|(mp, _)| mp.len())?;
    Some(best.1.split(',').any(|o| o == "ro"))
}

fn masked_view(path: &str) -> String {
    let bytes = match fs::metadata(path) {
        Err(_) => return "null".into(),
        Ok(m) if m.is_dir() => fs::read_dir(path).map(|d| d.count()).unwrap_or(0),
        Ok(_) => fs::read(path).map(|d| d.len()).unwrap_or(0),
    };
    bytes.to_string()
}

extern "C" {
    fn syscall(number: i64, ...) -> i64;
    fn __errno_location() -> *mut i32;
}

/// `probe --syscalls NR...`: makes each syscall with six zero arguments
/// and prints `NR errno` per line (0 when it succeeded). Only for numbers
/// that are harmless that way (the caller picks them).
fn syscalls(numbers: &[String]) {
    for nr in numbers {
        let Ok(n) = nr.parse::<i64>() else { continue };
        // SAFETY: a raw syscall with zero (NULL) arguments; the caller passes
        // numbers for which that only fails or reads nothing.
        let ret = unsafe { syscall(n, 0i64, 0i64, 0i64, 0i64, 0i64, 0i64) };
        // SAFETY: __errno_location returns this thread's errno slot.
        let errno = if ret < 0 { unsafe { *__errno_location() } } else { 0 };
        println!("{n} {errno}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--syscalls") {
        return syscalls(&args[1..]);
    }
    let mut masked = Vec::new();
    let mut readonly = Vec::new();
    let mut sysctls = Vec::new();
    let mut cgroup_files = Vec::new();
    let mut i = 0;
    while i + 1 < args.len() {
        let v = args[i + 1].clone();
        match args[i].as_str() {
            "--masked" => masked.push(v),
            "--readonly" => readonly.push(v),
            "--sysctl" => sysctls.push(v),
            "--cgroup-file" => cgroup_files.push(v),
            _ => {}
        }
        i += 2;
    }
    let status = read("/proc/self/status").unwrap_or_default();
    let ids = |key: &str| status_field(&status, key).map(|v| v.split_whitespace().next().unwrap_or("").to_string()).unwrap_or_default();
    let mut j = Json(String::from("{"));
    j.field("pid", std::process::id().to_string());
    j.field("ppid", status_field(&status, "PPid:").unwrap_or_default());
    j.field("hostname", opt_str(read("/proc/sys/kernel/hostname")));
    j.field("domainname", opt_str(read("/proc/sys/kernel/domainname")));
    j.field("uid", ids("Uid:"));
    j.field("gid", ids("Gid:"));
    let groups = status_field(&status, "Groups:").unwrap_or_default();
    j.field("groups", list(groups.split_whitespace().map(String::from)));
    j.field("umask", opt_str(status_field(&status, "Umask:")));
    j.field("cwd", opt_str(std::env::current_dir().ok().map(|p| p.display().to_string())));
    j.field("env", list(std::env::vars().map(|(k, v)| Json::str(&format!("{k}={v}")))));
    let caps = ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]
        .map(|k| (k.to_string(), opt_str(status_field(&status, &format!("{k}:")))));
    j.field("capabilities", object(caps));
        j.field("no_new_privs", opt_str(status_field(&status, "NoNewPrivs:")));
        // (No SigIgn: the probe's own Rust runtime ignores SIGPIPE.)

    j.field("signals_blocked", opt_str(status_field(&status, "SigBlk:")));
    j.field("seccomp", opt_str(status_field(&status, "Seccomp:")));
    let limits = read("/proc/self/limits").unwrap_or_default();
    let rl = limits.lines().skip(1).filter_map(|l| {
        let name = l.get(..26)?.trim().to_string();
        let rest: Vec<&str> = l.get(26..)?.split_whitespace().collect();
        Some((name, list([Json::str(rest.first()?), Json::str(rest.get(1)?)])))
    });
    j.field("rlimits", object(rl));
    j.field("oom_score_adj", opt_str(read("/proc/self/oom_score_adj")));
    let (mount_json, pairs) = mounts();
    j.field("mounts", mount_json);
    j.field("cgroup", list(read("/proc/self/cgroup").unwrap_or_default().lines().map(Json::str)));
    let cg = cgroup_files.iter().map(|f| (f.clone(), opt_str(read(&format!("/sys/fs/cgroup/{f}")))));
    j.field("cgroup_files", object(cg));
    let ns = ["cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"]
        .map(|n| (n.to_string(), opt_str(fs::read_link(format!("/proc/self/ns/{n}")).ok().map(|p| p.display().to_string()))));
    j.field("namespaces", object(ns));
    j.field("masked", object(masked.iter().map(|p| (p.clone(), masked_view(p)))));
    // null: the path does not exist here (e.g. /proc/sysrq-trigger without CONFIG_MAGIC_SYSRQ).
    let ro = readonly.iter().map(|p| {
        let ro = fs::symlink_metadata(p).ok().and_then(|_| mount_is_ro(&pairs, p));
        (p.clone(), ro.map_or("null".into(), |b| b.to_string()))
    });
    j.field("readonly", object(ro));
    let sc = sysctls.iter().map(|k| (k.clone(), opt_str(read(&format!("/proc/sys/{}", k.replace('.', "/"))))));
    j.field("sysctls", object(sc));
    j.field("uid_map", opt_str(read("/proc/self/uid_map")));
    j.0.push('}');
    println!("{}", j.0);
}
