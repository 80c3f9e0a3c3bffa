//! Being attached to a container through its shim: frames to our stdout
//! and stderr, our stdin to it, our terminal in raw mode with resizes
//! passed on, and (without a terminal) our signals forwarded. Used by
//! `run`, `start -a` and `attach`.

use hull_engine::Engine;
use hull_shim::protocol::{self, kind};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::net::UnixStream;

/// `hull attach`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Do not attach STDIN.
    #[arg(long = "no-stdin")]
    no_stdin: bool,
    /// Proxy received signals to the process (without a terminal only, as docker).
    #[arg(long = "sig-proxy", default_value_t = true, action = clap::ArgAction::Set)]
    sig_proxy: bool,
    /// Override the key sequence for detaching a container (docker's syntax: ctrl-p,ctrl-q).
    #[arg(long = "detach-keys")]
    detach_keys: Option<String>,
    /// Container.
    container: String,
}

pub fn run(engine: &Engine, a: Args) -> anyhow::Result<i32> {
    let keys = super::detach_keys::chosen(a.detach_keys.as_deref())?;
    let c = engine.get(&a.container)?;
    let stdin = c.config.stdin && !a.no_stdin;
    let s = engine.attach(&c.id, stdin)?;
    let tty = s.tty;
    Ok(pump(engine, &c.id, s.stream, tty, stdin, a.sig_proxy && !tty, keys, Streams::ALL)?.code().unwrap_or(0))
}

/// How an attachment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The container's process exited with this code (None: the shim went
    /// away without saying).
    Exited(Option<i32>),
    /// The detach keys were typed: the container runs on.
    Detached,
    /// A signal this client does not forward ended it (its default
    /// action, as docker's client dies of it); the container runs on.
    Signalled(i32),
}

impl Ended {
    /// The status the client exits with (None: ask the engine).
    pub fn code(self) -> Option<i32> {
        match self {
            Ended::Exited(c) => c,
            Ended::Detached => Some(0),
            Ended::Signalled(sig) => Some(128 + sig),
        }
    }
}

/// Copies until the container's exit frame, the detach keys (`detach`,
/// empty for none) or a signal not forwarded.
/// The streams a client attaches (`run -a`).
#[derive(Debug, Clone, Copy)]
pub struct Streams {
    /// Our stdin to the container's (if it keeps one open).
    pub stdin: bool,
    /// Its stdout to ours.
    pub stdout: bool,
    /// Its stderr to ours.
    pub stderr: bool,
}

impl Streams {
    /// Every stream.
    pub const ALL: Streams = Streams { stdin: true, stdout: true, stderr: true };
}

#[allow(clippy::too_many_arguments)]
pub fn pump(
    engine: &Engine,
    id: &str,
    mut stream: UnixStream,
    tty: bool,
    stdin: bool,
    sig_proxy: bool,
    detach: Vec<u8>,
    streams: Streams,
) -> anyhow::Result<Ended> {
    let stdin = stdin && streams.stdin;
    let mut escape = super::detach_keys::EscapeProxy::new(detach);
    let set = forwarded_signals();
    set.thread_block()?;
    let sfd = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
    let _raw = (tty && stdin).then(|| hull_runtime::terminal::RawMode::enter(0)).flatten();
    if tty {
        if let Some((rows, cols)) = hull_runtime::terminal::get_size(0) {
            let _ = engine.resize(id, rows, cols);
        }
    }
    let mut stdin_open = stdin;
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr();
    loop {
        // SAFETY: fd 0 stays open for the life of the process.
        let fd0 = unsafe { BorrowedFd::borrow_raw(0) };
        let mut fds = vec![PollFd::new(stream.as_fd(), PollFlags::POLLIN), PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        if stdin_open {
            fds.push(PollFd::new(fd0, PollFlags::POLLIN));
        }
        match nix::poll::poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => other?,
        };
        let ready: Vec<bool> = fds.iter().map(|f| f.revents().is_some_and(|r| !r.is_empty())).collect();
        drop(fds);
        if ready[1] {
            while let Ok(Some(info)) = sfd.read_signal() {
                match Signal::try_from(info.ssi_signo as i32) {
                    Ok(Signal::SIGWINCH) if tty => {
                        if let Some((rows, cols)) = hull_runtime::terminal::get_size(0) {
                            let _ = engine.resize(id, rows, cols);
                        }
                    }
                    Ok(Signal::SIGWINCH) => {}
                    Ok(sig) if sig_proxy => {
                        if let Ok(sig) = sig.as_str().parse() {
                            let _ = engine.kill(id, &sig);
                        }
                    }
                    Ok(sig) => return Ok(Ended::Signalled(sig as i32)),
                    _ => {}
                }
            }
        }
        if stdin_open && ready.get(2) == Some(&true) {
            let mut buf = [0u8; 8192];
            match nix::unistd::read(0, &mut buf) {
                Ok(0) | Err(_) => {
                    stdin_open = false;
                    let _ = protocol::write_frame(&mut stream, kind::STDIN_EOF, &[]);
                }
                Ok(n) => {
                    let (data, detached) = escape.feed(&buf[..n]);
                    if !data.is_empty() && protocol::write_frame(&mut stream, kind::STDIN, &data).is_err() {
                        stdin_open = false;
                    }
                    if detached {
                        return Ok(Ended::Detached);
                    }
                }
            }
        }
        if ready[0] {
            match protocol::read_frame(&mut stream) {
                Ok(Some((kind::STDOUT, data))) if streams.stdout => {
                    out.write_all(&data)?;
                    out.flush()?;
                }
                Ok(Some((kind::STDERR, data))) if streams.stderr => err.write_all(&data)?,
                Ok(Some((kind::EXIT, code))) => {
                    return Ok(Ended::Exited(String::from_utf8_lossy(&code).trim().parse().ok()))
                }
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return Ok(Ended::Exited(None)),
            }
        }
    }
}

/// The signals an attached client takes (SIGWINCH to resize, the rest to
/// forward or to end on), blocked and read from a signalfd.
pub fn forwarded_signals() -> SigSet {
    let mut set = SigSet::empty();
    for s in [
        Signal::SIGWINCH,
        Signal::SIGINT,
        Signal::SIGTERM,
        Signal::SIGHUP,
        Signal::SIGQUIT,
        Signal::SIGUSR1,
        Signal::SIGUSR2,
    ] {
        set.add(s);
    }
    set
}

/// A socket pair: ours, and the shim's end to hand to `Engine::start`.
pub fn pair() -> anyhow::Result<(UnixStream, std::os::fd::OwnedFd)> {
    let (a, b) = UnixStream::pair()?;
    // Our end must not leak into the shim.
    nix::fcntl::fcntl(a.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC))?;
    Ok((a, b.into()))
}
