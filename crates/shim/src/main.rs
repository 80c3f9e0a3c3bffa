//! hull-shim: the supervisor of one container. Started by the engine as
//! `hull-shim <dir>` with the readiness pipe on fd 3 (and, for a
//! foreground run, the first attached client on fd 4). It forks away from
//! the engine into its own session, becomes the child subreaper, creates and
//! starts the container with the runtime library in-process (or another OCI
//! runtime by its command line: `backend`), reports `ok <pid>` or
//! `error <failure>` on fd 3, and then holds the container's stdio,
//! writes its log, runs its restart policy and serves its control socket
//! until the container is gone for good. It records the end in `exit.json`
//! and runs the engine's exit command.

mod backend;
mod logger;
mod resident;
mod stdio;
mod supervisor;

use hull_shim::config::{self, ShimConfig};
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

const READY_FD: i32 = 3;
const CLIENT_FD: i32 = 4;

fn fd_is_open(fd: i32) -> bool {
    nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFD).is_ok()
}

fn main() {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: hull-shim DIR (started by the hull engine)");
        std::process::exit(2);
    };
    if std::env::args_os().nth(2).is_some_and(|a| a == "--monitor") {
        return monitor(dir);
    }
    // The container's init is a clone of this process: it must run from a
    // binary the container cannot write (see hull_runtime::sealed). The
    // monitor re-executes /proc/self/exe, which stays the read-only view.
    if let Err(e) = hull_runtime::sealed::ensure() {
        eprintln!("hull-shim: re-execute from a read-only copy of the shim: {e}");
        std::process::exit(1);
    }
    if !fd_is_open(READY_FD) {
        eprintln!("hull-shim: no readiness pipe on fd {READY_FD} (started by the hull engine only)");
        std::process::exit(2);
    }
    // Whatever else the engine's caller left open (a shell's pipes, say)
    // must not be held for the container's lifetime.
    // SAFETY: close_range only closes descriptors; none above 4 is in use yet.
    unsafe { libc::syscall(libc::SYS_close_range, 5u32, u32::MAX, 0u32) };
    // SAFETY: fd 3 is open (checked above) and handed to us by the engine for this use only.
    let mut ready = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(READY_FD) });
    let first = fd_is_open(CLIENT_FD).then(|| {
        // SAFETY: fd 4, when open, is the engine's attach socket given to us alone.
        UnixStream::from(unsafe { OwnedFd::from_raw_fd(CLIENT_FD) })
    });
    let cfg = match ShimConfig::load(&dir) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(ready, "error read {}: {e}", dir.join(config::CONFIG_FILE).display());
            std::process::exit(1);
        }
    };
    if let Err(e) = daemonize(&dir) {
        let _ = writeln!(ready, "error daemonize: {e}");
        std::process::exit(1);
    }
    let mut sup = match supervisor::Supervisor::new(dir.clone(), cfg.clone(), first) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(ready, "error shim setup: {e}");
            std::process::exit(1);
        }
    };
    match sup.launch() {
        Ok(pid) => {
            let _ = writeln!(ready, "ok {pid}");
        }
        Err(e) => {
            let _ = writeln!(ready, "{}", e.line());
            std::process::exit(1);
        }
    }
    drop(ready);
    let e = sup.reexec();
    eprintln!("hull-shim: re-exec: {e}; supervising in place");
    supervise(sup, &cfg);
}

/// The re-executed shim: takes over and supervises.
fn monitor(dir: PathBuf) {
    let sup = take_over(dir);
    match sup {
        Ok((sup, cfg)) => {
            resident::trim();
            supervise(sup, &cfg)
        }
        Err(e) => {
            // The container dies with us (its parent-death signal); the engine records that.
            eprintln!("hull-shim: take over after re-exec: {e}");
            std::process::exit(1);
        }
    }
}

/// Reads the config and the hand-off. Never inlined: its deep frames
/// (JSON parsing) are below the monitor's, dead once it returns, so
/// `resident::trim` can drop them.
#[inline(never)]
fn take_over(dir: PathBuf) -> std::io::Result<(supervisor::Supervisor, ShimConfig)> {
    ShimConfig::load(&dir).and_then(|cfg| Ok((supervisor::Supervisor::resume(dir, cfg.clone())?, cfg)))
}

/// Runs the container to its end, records it and runs the exit command.
fn supervise(mut sup: supervisor::Supervisor, cfg: &ShimConfig) {
    let end = sup.run();
    sup.report(&end);
    drop(sup);
    if let Some((prog, args)) = cfg.exit_command.split_first() {
        match std::process::Command::new(prog).args(args).env("HULL_SHIM_PID", std::process::id().to_string()).status()
        {
            Ok(s) if !s.success() => eprintln!("hull-shim: exit command {prog}: {s}"),
            Err(e) => eprintln!("hull-shim: exit command {prog}: {e}"),
            Ok(_) => {}
        }
    }
}

/// Leaves the engine: a grandchild in a new session, reaping the
/// container's orphans, with stdio on /dev/null and stderr in `shim.log`.
fn daemonize(dir: &std::path::Path) -> std::io::Result<()> {
    // SAFETY: single-threaded here; the child only continues into plain code.
    match unsafe { nix::unistd::fork() }? {
        // SAFETY: _exit ends the intermediate process without running destructors twice.
        nix::unistd::ForkResult::Parent { .. } => unsafe { libc::_exit(0) },
        nix::unistd::ForkResult::Child => {}
    }
    nix::unistd::setsid()?;
    hull_runtime::sys::prctl(libc::PR_SET_CHILD_SUBREAPER, 1)?;
    let null = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null")?;
    let log = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("shim.log"))?;
    for (from, to) in [(null.as_raw_fd(), 0), (null.as_raw_fd(), 1), (log.as_raw_fd(), 2)] {
        nix::unistd::dup2(from, to)?;
    }
    let me = std::process::id();
    let start = std::fs::read_to_string(format!("/proc/{me}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').and_then(|(_, r)| r.split_whitespace().nth(19).map(str::to_string)))
        .unwrap_or_default();
    std::fs::write(dir.join(config::PID_FILE), format!("{me} {start}\n"))?;
    std::env::set_current_dir("/")?;
    Ok(())
}
