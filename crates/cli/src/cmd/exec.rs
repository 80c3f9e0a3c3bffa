//! `hull exec`: a process in a running container, started by its shim.
//! Without a terminal the process writes to our descriptors itself; with
//! one we relay our terminal to its master (detach keys as `attach` has
//! them). Signals we get go to the process, as runc's exec forwards them.

use hull_engine::{Engine, ExecIo, ExecRequest, ExecSession};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// `hull exec`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Detached mode: run command in the background.
    #[arg(short = 'd', long)]
    detach: bool,
    /// Keep STDIN open.
    #[arg(short = 'i', long)]
    interactive: bool,
    /// Allocate a pseudo-TTY.
    #[arg(short = 't', long)]
    tty: bool,
    /// Set environment variables.
    #[arg(short = 'e', long = "env")]
    env: Vec<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>]).
    #[arg(short = 'u', long)]
    user: Option<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long)]
    workdir: Option<String>,
    /// Give extended privileges to the command.
    #[arg(long)]
    privileged: bool,
    /// Override the key sequence for detaching (docker's syntax: ctrl-p,ctrl-q).
    #[arg(long = "detach-keys")]
    detach_keys: Option<String>,
    /// The container, then the command and its arguments. Options end at
    /// the container, as in docker (`exec C ls -l` passes -l to ls).
    #[arg(value_name = "CONTAINER COMMAND [ARG...]", required = true, num_args = 2.., trailing_var_arg = true)]
    container_and_command: Vec<String>,
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    if !a.detach && a.tty && a.interactive && !super::stdin_is_a_terminal() {
        return Ok(super::not_a_tty());
    }
    let keys = super::detach_keys::chosen(a.detach_keys.as_deref())?;
    let env = a
        .env
        .iter()
        .filter_map(
            |e| if e.contains('=') { Some(e.clone()) } else { std::env::var(e).ok().map(|v| format!("{e}={v}")) },
        )
        .collect();
    let (container, command) = super::run::split_first(&a.container_and_command)?;
    let req = ExecRequest {
        cmd: command.to_vec(),
        env,
        user: a.user,
        workdir: a.workdir,
        tty: a.tty && !a.detach,
        detach: a.detach,
        privileged: a.privileged,
    };
    if a.detach {
        engine.exec_start(container, &req, ExecIo::Null)?;
        return Ok(0);
    }
    // Blocked before the process exists, so that none is lost.
    let set = super::attach::forwarded_signals();
    set.thread_block()?;
    let signals = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
    if a.tty {
        let session = engine.exec_start(container, &req, ExecIo::Terminal)?;
        return relay_terminal(engine, session, &signals, a.interactive, keys);
    }
    let (fds, mut relay) = stdio(a.interactive)?;
    let session = engine.exec_start(container, &req, ExecIo::Fds(fds))?;
    wait_forwarding(engine, session, &signals, &mut relay)
}

/// The pipes that stand in for our descriptors that are terminals: a
/// container process never gets the operator's terminal (it could inject
/// keystrokes with TIOCSTI), so those are relayed.
#[derive(Default)]
struct Relay {
    /// Our stdin goes here.
    stdin: Option<OwnedFd>,
    /// What comes out here goes to our stdout, and stderr.
    out: Option<OwnedFd>,
    err: Option<OwnedFd>,
}

/// The process's 0, 1 and 2: ours, or a pipe we relay where ours is a
/// terminal; docker gives a non-interactive process an empty stdin.
fn stdio(interactive: bool) -> anyhow::Result<([OwnedFd; 3], Relay)> {
    let mut relay = Relay::default();
    let stdin: OwnedFd = match (interactive, super::is_a_terminal(0)) {
        (false, _) => std::fs::File::open("/dev/null")?.into(),
        (true, false) => dup(0)?,
        (true, true) => {
            let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
            relay.stdin = Some(w);
            r
        }
    };
    let output = |fd: i32, keep: &mut Option<OwnedFd>| -> anyhow::Result<OwnedFd> {
        if !super::is_a_terminal(fd) {
            return dup(fd);
        }
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
        *keep = Some(r);
        Ok(w)
    };
    let out = output(1, &mut relay.out)?;
    let err = output(2, &mut relay.err)?;
    Ok(([stdin, out, err], relay))
}

fn dup(fd: i32) -> anyhow::Result<OwnedFd> {
    // SAFETY: our standard descriptors are open for the life of the process.
    Ok(unsafe { BorrowedFd::borrow_raw(fd) }.try_clone_to_owned()?)
}

/// Waits for the process's end, passing it the signals we get and
/// relaying what stands in for our terminals.
fn wait_forwarding(
    engine: &Engine,
    session: ExecSession,
    signals: &SignalFd,
    relay: &mut Relay,
) -> anyhow::Result<i32> {
    let mut code = None;
    let mut buf = [0u8; 8192];
    // Until the process ended and its output is drained.
    while code.is_none() || relay.out.is_some() || relay.err.is_some() {
        // SAFETY: fd 0 stays open for the loop.
        let fd0 = unsafe { BorrowedFd::borrow_raw(0) };
        let mut fds = vec![PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        let mut slots = Vec::new();
        if code.is_none() {
            fds.push(PollFd::new(session.fd(), PollFlags::POLLIN));
            slots.push(0);
            if relay.stdin.is_some() {
                fds.push(PollFd::new(fd0, PollFlags::POLLIN));
                slots.push(1);
            }
        }
        for (slot, fd) in [(2, &relay.out), (3, &relay.err)] {
            if let Some(f) = fd {
                fds.push(PollFd::new(f.as_fd(), PollFlags::POLLIN));
                slots.push(slot);
            }
        }
        match nix::poll::poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => other?,
        };
        let ready: Vec<usize> =
            fds.iter().skip(1).zip(&slots).filter(|(f, _)| f.any().unwrap_or(false)).map(|(_, s)| *s).collect();
        if fds[0].any().unwrap_or(false) {
            forward(engine, &session, signals);
        }
        drop(fds);
        for slot in ready {
            match slot {
                0 => code = Some(read_exit(&session)?),
                1 => match nix::unistd::read(0, &mut buf) {
                    Ok(n) if n > 0 => write_all(relay.stdin.as_ref().map_or(-1, |f| f.as_raw_fd()), &buf[..n]),
                    _ => relay.stdin = None,
                },
                s => {
                    let (src, dst) = if s == 2 { (&mut relay.out, 1) } else { (&mut relay.err, 2) };
                    match src.as_ref().map(|f| nix::unistd::read(f.as_raw_fd(), &mut buf)) {
                        Some(Ok(n)) if n > 0 => write_all(dst, &buf[..n]),
                        _ => *src = None,
                    }
                }
            }
        }
    }
    Ok(code.unwrap_or(0))
}

/// Reads the end off the session's connection (it is readable).
fn read_exit(session: &ExecSession) -> anyhow::Result<i32> {
    Ok(session.read_exit()?)
}

fn forward(engine: &Engine, session: &ExecSession, signals: &SignalFd) {
    while let Ok(Some(info)) = signals.read_signal() {
        let sig = info.ssi_signo as i32;
        if sig == libc::SIGWINCH {
            if let (Some(m), Some((rows, cols))) = (&session.console, hull_runtime::terminal::get_size(0)) {
                let _ = hull_runtime::terminal::set_size(m.as_raw_fd(), rows, cols);
            }
        } else if session.console.is_none() {
            // With a terminal, keys reach the process through it (^C is SIGINT there).
            let _ = engine.exec_signal(session, sig);
        }
    }
}

/// Our terminal to the process's, in raw mode, until it ends or the detach
/// keys are typed (it then goes on under the shim).
fn relay_terminal(
    engine: &Engine,
    session: ExecSession,
    signals: &SignalFd,
    interactive: bool,
    keys: Vec<u8>,
) -> anyhow::Result<i32> {
    let Some(master) = session.console.as_ref().map(|m| m.as_raw_fd()) else { return Ok(session.wait()?) };
    let _raw = hull_runtime::terminal::RawMode::enter(0);
    if let Some((rows, cols)) = hull_runtime::terminal::get_size(0) {
        let _ = hull_runtime::terminal::set_size(master, rows, cols);
    }
    let mut escape = super::detach_keys::EscapeProxy::new(keys);
    let mut stdin_open = interactive;
    let mut buf = [0u8; 8192];
    loop {
        // SAFETY: fd 0 and the master stay open for the loop.
        let (fd0, m) = unsafe { (BorrowedFd::borrow_raw(0), BorrowedFd::borrow_raw(master)) };
        let mut fds = vec![PollFd::new(m, PollFlags::POLLIN), PollFd::new(signals.as_fd(), PollFlags::POLLIN)];
        if stdin_open {
            fds.push(PollFd::new(fd0, PollFlags::POLLIN));
        }
        match nix::poll::poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => other?,
        };
        let ready: Vec<bool> = fds.iter().map(|f| f.any().unwrap_or(false)).collect();
        drop(fds);
        if ready[1] {
            forward(engine, &session, signals);
        }
        if ready.get(2) == Some(&true) {
            match nix::unistd::read(0, &mut buf) {
                Ok(0) | Err(_) => stdin_open = false,
                Ok(n) => {
                    let (data, detached) = escape.feed(&buf[..n]);
                    write_all(master, &data);
                    if detached {
                        return Ok(0);
                    }
                }
            }
        }
        if ready[0] {
            match nix::unistd::read(master, &mut buf) {
                Ok(n) if n > 0 => write_all(1, &buf[..n]),
                // EOF or EIO: the terminal's last process is gone.
                _ => return Ok(session.wait()?),
            }
        }
    }
}

fn write_all(fd: i32, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: fd is open for the call (ours, or the master we hold).
        match nix::unistd::write(unsafe { BorrowedFd::borrow_raw(fd) }, data) {
            Ok(n) => data = &data[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}
