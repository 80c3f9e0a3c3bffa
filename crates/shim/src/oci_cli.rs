//! An OCI runtime driven through runc's command line (runc, crun, runsc):
//! what the shim uses for a container the engine runs with `--runtime
//! NAME`, and what the engine uses to clean up after a shim that died.
//! Every call is one short-lived process of the runtime, with its state
//! under its own root and its errors in a JSON log the failure is read from.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A runtime with runc's command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OciCli {
    /// Its name in the engine's table (`runc`, `runsc`, ...).
    pub name: String,
    /// Its executable.
    pub path: PathBuf,
    /// Global arguments before the command (`--platform=ptrace`).
    #[serde(default)]
    pub args: Vec<String>,
    /// Its state root (`--root`).
    pub root: PathBuf,
}

/// The state a runtime reports (`state ID`).
#[derive(Debug, Clone, Deserialize)]
pub struct RuntimeState {
    /// `created`, `running`, `paused`, `stopped`.
    pub status: String,
    /// The init's host pid.
    #[serde(default)]
    pub pid: i32,
}

/// A process the runtime started, and its terminal's master if it has one.
pub struct Started {
    /// Host pid.
    pub pid: i32,
    /// The terminal's master.
    pub console: Option<OwnedFd>,
}

/// How long a runtime may take for one command (runsc's create boots a sandbox).
const DEADLINE: Duration = Duration::from_secs(120);

impl OciCli {
    fn command(&self, log: Option<&Path>) -> Command {
        let mut c = Command::new(&self.path);
        c.args(&self.args).arg("--root").arg(&self.root);
        if let Some(l) = log {
            c.arg("--log").arg(l).arg("--log-format").arg("json");
        }
        c.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        c
    }

    /// Runs `args`; the error is the runtime's own words (its JSON log's
    /// last error, else its stderr).
    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<Vec<u8>, String> {
        let log = tempfile_path(&self.root, "log");
        let mut c = self.command(Some(&log));
        c.args(args).stdout(Stdio::piped());
        if stdin.is_some() {
            c.stdin(Stdio::piped());
        }
        let mut child = c.spawn().map_err(|e| format!("{}: {e}", self.path.display()))?;
        if let (Some(data), Some(mut w)) = (stdin, child.stdin.take()) {
            let _ = w.write_all(data);
        }
        let out = child.wait_with_output().map_err(|e| format!("{}: {e}", self.path.display()))?;
        let failure = (!out.status.success()).then(|| self.failure(&log, &out.stderr, args));
        let _ = std::fs::remove_file(&log);
        match failure {
            Some(f) => Err(f),
            None => Ok(out.stdout),
        }
    }

    fn failure(&self, log: &Path, stderr: &[u8], args: &[&str]) -> String {
        let logged = std::fs::read_to_string(log).unwrap_or_default();
        let from_log = logged
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| matches!(v["level"].as_str(), Some("error" | "fatal")))
            .find_map(|v| v["msg"].as_str().map(str::to_string));
        let said = from_log.unwrap_or_else(|| String::from_utf8_lossy(stderr).trim().to_string());
        let what = args.first().copied().unwrap_or("");
        format!("{} {what}: {}", self.name, if said.is_empty() { "failed" } else { &said })
    }

    /// `create`: the init made, waiting for `start`. Without a terminal it
    /// gets `stdio` as its 0-2; with one, the master comes back over a
    /// console socket in `dir`.
    pub fn create(
        &self,
        id: &str,
        bundle: &Path,
        dir: &Path,
        tty: bool,
        stdio: Option<[OwnedFd; 3]>,
    ) -> Result<Started, String> {
        let pid_file = dir.join("runtime.pid");
        let _ = std::fs::remove_file(&pid_file);
        let mut args: Vec<String> = vec!["create".into(), "--bundle".into(), bundle.display().to_string()];
        args.extend(["--pid-file".into(), pid_file.display().to_string()]);
        let console = tty.then(|| ConsoleSocket::new(dir)).transpose()?;
        if let Some(c) = &console {
            args.extend(["--console-socket".into(), c.path.display().to_string()]);
        }
        args.push(id.into());
        let master = self.spawn_with(&args, stdio, console.as_ref())?;
        let pid = read_pid(&pid_file)?;
        Ok(Started { pid, console: master })
    }

    /// `exec --detach`: a process in the running container (the shim, as
    /// subreaper, gets it once the runtime exits).
    pub fn exec(
        &self,
        id: &str,
        process: &hull_spec::Process,
        dir: &Path,
        stdio: Option<[OwnedFd; 3]>,
    ) -> Result<Started, String> {
        let spec = tempfile_path(dir, "process.json");
        std::fs::write(&spec, serde_json::to_vec(process).unwrap_or_default())
            .map_err(|e| format!("write {}: {e}", spec.display()))?;
        let pid_file = tempfile_path(dir, "exec.pid");
        let mut args: Vec<String> = vec!["exec".into(), "--detach".into()];
        args.extend(["--pid-file".into(), pid_file.display().to_string()]);
        args.extend(["--process".into(), spec.display().to_string()]);
        let tty = process.terminal == Some(true);
        let console = tty.then(|| ConsoleSocket::new(dir)).transpose();
        let result = console.and_then(|console| {
            if let Some(c) = &console {
                args.extend(["--console-socket".into(), c.path.display().to_string()]);
            }
            args.push(id.into());
            let master = self.spawn_with(&args, stdio, console.as_ref())?;
            Ok(Started { pid: read_pid(&pid_file)?, console: master })
        });
        let _ = std::fs::remove_file(&spec);
        let _ = std::fs::remove_file(&pid_file);
        result
    }

    /// Runs a command whose child may keep stdio (create, exec): the
    /// runtime's own stdio are the process's; its errors are in the log.
    fn spawn_with(
        &self,
        args: &[String],
        stdio: Option<[OwnedFd; 3]>,
        console: Option<&ConsoleSocket>,
    ) -> Result<Option<OwnedFd>, String> {
        let log = tempfile_path(&self.root, "log");
        let mut c = self.command(Some(&log));
        c.args(args);
        if let Some([i, o, e]) = stdio {
            c.stdin(Stdio::from(i)).stdout(Stdio::from(o)).stderr(Stdio::from(e));
        } else {
            c.stderr(Stdio::null());
        }
        let mut child = c.spawn().map_err(|e| format!("{}: {e}", self.path.display()))?;
        let deadline = Instant::now() + DEADLINE;
        let mut master = None;
        let status = loop {
            if let (Some(sock), None) = (console, &master) {
                master = sock.try_receive();
            }
            match child.try_wait() {
                Ok(Some(st)) => break st,
                Ok(None) if Instant::now() > deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = std::fs::remove_file(&log);
                    return Err(format!("{} {}: no answer in {}s", self.name, args[0], DEADLINE.as_secs()));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                Err(e) => return Err(format!("wait for {}: {e}", self.name)),
            }
        };
        if let (Some(sock), None) = (console, &master) {
            master = sock.try_receive();
        }
        let failure = (!status.success()).then(|| self.failure(&log, b"", &[args[0].as_str()]));
        let _ = std::fs::remove_file(&log);
        if let Some(f) = failure {
            return Err(f);
        }
        if console.is_some() && master.is_none() {
            return Err(format!("{} {}: no terminal came over the console socket", self.name, args[0]));
        }
        Ok(master)
    }

    /// `start`.
    pub fn start(&self, id: &str) -> Result<(), String> {
        self.run(&["start", id], None).map(drop)
    }

    /// `state`.
    pub fn state(&self, id: &str) -> Result<RuntimeState, String> {
        let out = self.run(&["state", id], None)?;
        serde_json::from_slice(&out).map_err(|e| format!("{} state: {e}", self.name))
    }

    /// `kill [--all] ID SIGNAL`.
    pub fn kill(&self, id: &str, signal: i32, all: bool) -> Result<(), String> {
        let sig = signal.to_string();
        let args: Vec<&str> = if all { vec!["kill", "--all", id, &sig] } else { vec!["kill", id, &sig] };
        self.run(&args, None).map(drop)
    }

    /// `delete --force`.
    pub fn delete(&self, id: &str) -> Result<(), String> {
        self.run(&["delete", "--force", id], None).map(drop)
    }

    /// `pause` or `resume`.
    pub fn freeze(&self, id: &str, pause: bool) -> Result<(), String> {
        self.run(&[if pause { "pause" } else { "resume" }, id], None).map(drop)
    }

    /// `update --resources -` with the resources as JSON.
    pub fn update(&self, id: &str, resources: &hull_spec::Resources) -> Result<(), String> {
        let data = serde_json::to_vec(resources).unwrap_or_default();
        self.run(&["update", "--resources", "-", id], Some(&data)).map(drop)
    }

    /// `events --stats`: the runtime's stats (runc's JSON shape), as JSON.
    pub fn stats(&self, id: &str) -> Result<serde_json::Value, String> {
        let out = self.run(&["events", "--stats", id], None)?;
        let v: serde_json::Value = serde_json::from_slice(&out).map_err(|e| format!("{} events: {e}", self.name))?;
        Ok(v.get("data").cloned().unwrap_or(v))
    }

    /// `ps --format json`: the container's host pids. gVisor's are pids in
    /// its sandbox, not the host's: a host `ps` filtered by them would show
    /// the host's own processes, so they are refused.
    pub fn pids(&self, id: &str) -> Result<Vec<i32>, String> {
        if self.name == "runsc" || self.path.file_name().is_some_and(|f| f == "runsc") {
            return Err(format!(
                "{}: the container's processes live in gVisor's sandbox, not on the host: use `exec {id} ps`",
                self.name
            ));
        }
        let out = self.run(&["ps", "--format", "json", id], None)?;
        serde_json::from_slice(&out).map_err(|e| format!("{} ps: {e}", self.name))
    }
}

fn tempfile_path(dir: &Path, what: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    dir.join(format!(".{}-{n}.{what}", std::process::id()))
}

fn read_pid(path: &Path) -> Result<i32, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    text.trim().parse().map_err(|_| format!("{}: not a pid: {text:?}", path.display()))
}

/// The console socket a runtime sends a terminal's master over (runc's
/// `--console-socket`).
struct ConsoleSocket {
    path: PathBuf,
    listener: UnixListener,
}

impl ConsoleSocket {
    fn new(dir: &Path) -> Result<ConsoleSocket, String> {
        let path = tempfile_path(dir, "console.sock");
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path).map_err(|e| format!("console socket {}: {e}", path.display()))?;
        listener.set_nonblocking(true).map_err(|e| format!("console socket: {e}"))?;
        Ok(ConsoleSocket { path, listener })
    }

    /// The master, if the runtime has connected and sent it.
    fn try_receive(&self) -> Option<OwnedFd> {
        let (stream, _) = self.listener.accept().ok()?;
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let mut buf = [0u8; 4096];
        let mut iov = [std::io::IoSliceMut::new(&mut buf)];
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let msg = nix::sys::socket::recvmsg::<()>(
            stream.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            nix::sys::socket::MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .ok()?;
        let fd = msg.cmsgs().ok()?.find_map(|c| match c {
            nix::sys::socket::ControlMessageOwned::ScmRights(fds) => fds.first().copied(),
            _ => None,
        })?;
        // SAFETY: the kernel just installed this descriptor for us (SCM_RIGHTS).
        Some(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) })
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}
