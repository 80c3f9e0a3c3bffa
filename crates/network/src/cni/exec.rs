//! Running one plugin: its binary found in the plugin directories, the
//! `CNI_*` environment, the config on stdin, the result or error on stdout.

use super::error::CniError;
use super::{Cni, RuntimeConf};
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The binary of plugin `typ`.
pub fn find_plugin(dirs: &[PathBuf], typ: &str) -> Result<PathBuf, CniError> {
    let not_found = || CniError::PluginNotFound {
        plugin: typ.into(),
        dirs: dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(":"),
    };
    if typ.is_empty() || typ.contains('/') {
        return Err(not_found());
    }
    dirs.iter().map(|d| d.join(typ)).find(|p| p.is_file()).ok_or_else(not_found)
}

/// Runs `command` on plugin `typ`; returns its stdout as JSON (Null when empty, as DEL's is).
pub fn run(cni: &Cni, command: &str, typ: &str, conf: &Value, rt: &RuntimeConf) -> Result<Value, CniError> {
    let bin = find_plugin(&cni.plugin_dirs, typ)?;
    let exec_err = |source| CniError::Exec { plugin: typ.into(), source };
    let path = std::env::join_paths(&cni.plugin_dirs).map_err(|e| exec_err(std::io::Error::other(e)))?;
    let args = rt.args.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(";");
    // The config is in the pipe before the plugin starts: one that exits
    // without reading it (VERSION) cannot make us write to a closed pipe,
    // which would be EPIPE here and SIGPIPE in a CLI that keeps the
    // default disposition.
    let data = conf.to_string();
    let (stdin, mut w) = std::io::pipe().map_err(exec_err)?;
    let fd = std::os::fd::AsRawFd::as_raw_fd(&w);
    if data.len() >= 64 << 10 {
        // SAFETY: F_SETPIPE_SZ on a pipe we own; a failure leaves the default size.
        unsafe { libc::fcntl(fd, libc::F_SETPIPE_SZ, (data.len() + 4096) as libc::c_int) };
    }
    // SAFETY: F_GETPIPE_SZ reads the capacity of a pipe we own.
    let capacity = unsafe { libc::fcntl(fd, libc::F_GETPIPE_SZ) };
    if capacity < 0 || data.len() > capacity as usize {
        return Err(CniError::BadOutput {
            plugin: typ.into(),
            why: format!("its config is {} bytes, more than a pipe holds", data.len()),
        });
    }
    w.write_all(data.as_bytes()).map_err(exec_err)?;
    drop(w);
    let child = Command::new(&bin)
        .env_clear()
        .env("CNI_COMMAND", command)
        .env("CNI_CONTAINERID", &rt.container_id)
        .env("CNI_NETNS", &rt.netns)
        .env("CNI_IFNAME", &rt.ifname)
        .env("CNI_ARGS", args)
        .env("CNI_PATH", path)
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(exec_err)?;
    let out = child.wait_with_output().map_err(exec_err)?;
    let stdout: Value = if out.stdout.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&out.stdout)
            .map_err(|e| CniError::BadOutput { plugin: typ.into(), why: e.to_string() })?
    };
    if out.status.success() {
        return Ok(stdout);
    }
    let field = |k: &str| stdout.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let msg = match field("msg") {
        m if m.is_empty() => format!("{} ({})", String::from_utf8_lossy(&out.stderr).trim(), out.status),
        m => m,
    };
    Err(CniError::Plugin {
        plugin: typ.into(),
        command: command.into(),
        code: stdout.get("code").and_then(Value::as_u64).unwrap_or(0),
        msg,
        details: field("details"),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn missing_plugin_names_itself_and_where() {
        let e = super::find_plugin(&["/nonexistent".into()], "nosuch").unwrap_err();
        assert_eq!(e.to_string(), "CNI plugin \"nosuch\" not found in /nonexistent");
        assert!(super::find_plugin(&["/usr/lib/cni".into()], "../bin/sh").is_err());
    }
}
