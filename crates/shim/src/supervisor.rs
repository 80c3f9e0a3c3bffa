//! The shim's event loop: one container, its stdio, its clients, its exit
//! and its restarts, all on one thread with poll(2).

use crate::logger::Logger;
use crate::stdio::{self, Stdio};
use hull_shim::config::{self, now_rfc3339, ExitRecord, ShimConfig, ShimState};
use hull_shim::protocol::{self, kind, Request};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A client of the control socket that stays connected.
struct Client {
    stream: UnixStream,
    /// Gets output frames (attach) or only the exit frame (wait).
    output: bool,
    /// Sends stdin frames.
    stdin: bool,
}

pub struct Supervisor {
    dir: PathBuf,
    cfg: ShimConfig,
    runtime: hull_runtime::Runtime,
    listener: UnixListener,
    signals: SignalFd,
    logger: Logger,
    clients: Vec<Client>,
    io: Stdio,
    pid: i32,
    started: Instant,
    state: ShimState,
    /// The user stopped it: no restart.
    stopping: bool,
    kill_at: Option<Instant>,
    restart_at: Option<Instant>,
    backoff: Duration,
    /// A restart failed with this error: the container ends.
    pending_end: Option<String>,
}

/// Back-off before the first restart; doubled per quick failure as docker does.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// A run this long resets the back-off.
const RESET_AFTER: Duration = Duration::from_secs(10);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// What a re-executed shim takes over: descriptor numbers and the loop's state.
#[derive(Debug, Serialize, Deserialize)]
struct Handoff {
    pid: i32,
    out: Option<RawFd>,
    err: Option<RawFd>,
    stdin: Option<RawFd>,
    listener: RawFd,
    /// (fd, gets output, sends stdin)
    clients: Vec<(RawFd, bool, bool)>,
    state: ShimState,
    stopping: bool,
    backoff_ms: u64,
    ran_ms: u64,
}

const HANDOFF_FILE: &str = "handoff.json";

fn signal_set() -> SigSet {
    let mut set = SigSet::empty();
    for s in [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP, Signal::SIGPIPE] {
        set.add(s);
    }
    set
}

fn set_cloexec(fd: RawFd, on: bool) {
    let flags = if on { nix::fcntl::FdFlag::FD_CLOEXEC } else { nix::fcntl::FdFlag::empty() };
    let _ = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_SETFD(flags));
}

impl Supervisor {
    pub fn new(dir: PathBuf, cfg: ShimConfig, first: Option<UnixStream>) -> std::io::Result<Supervisor> {
        let _ = std::fs::remove_file(dir.join(config::SOCKET_FILE));
        let dir_fd = config::open_dir(&dir)?;
        let listener = UnixListener::bind(config::socket_path(&dir_fd))?;
        listener.set_nonblocking(true)?;
        let set = signal_set();
        set.thread_block()?;
        let signals = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
        let logger = Logger::new(cfg.log.clone())?;
        let runtime = hull_runtime::Runtime::new(&cfg.runtime_root);
        let clients = first.into_iter().map(|stream| Client { stream, output: true, stdin: cfg.stdin }).collect();
        Ok(Supervisor {
            dir,
            runtime,
            listener,
            signals,
            logger,
            clients,
            io: Stdio { out: None, err: None, stdin: None },
            pid: 0,
            started: Instant::now(),
            state: ShimState::default(),
            stopping: false,
            kill_at: None,
            restart_at: None,
            backoff: FIRST_BACKOFF,
            pending_end: None,
            cfg,
        })
    }

    /// Replaces this process's image with a fresh `hull-shim DIR --monitor`
    /// that takes over every descriptor and the loop's state: creating a
    /// container touches much of the runtime library and the heap, and a
    /// supervisor that idles for the container's life should not keep that
    /// resident. The pid (so the container's parent and the subreaper), the
    /// session and the blocked signals stay. Returns only on failure, with
    /// this process still in charge.
    pub fn reexec(&mut self) -> std::io::Error {
        let raw = |f: &Option<OwnedFd>| f.as_ref().map(|f| f.as_raw_fd());
        let handoff = Handoff {
            pid: self.pid,
            out: raw(&self.io.out),
            err: raw(&self.io.err),
            stdin: raw(&self.io.stdin),
            listener: self.listener.as_raw_fd(),
            clients: self.clients.iter().map(|c| (c.stream.as_raw_fd(), c.output, c.stdin)).collect(),
            state: self.state.clone(),
            stopping: self.stopping,
            backoff_ms: self.backoff.as_millis() as u64,
            ran_ms: self.started.elapsed().as_millis() as u64,
        };
        let fds: Vec<RawFd> = [handoff.out, handoff.err, handoff.stdin, Some(handoff.listener)]
            .into_iter()
            .flatten()
            .chain(handoff.clients.iter().map(|c| c.0))
            .collect();
        if let Err(e) = config::write_json(&self.dir.join(HANDOFF_FILE), &handoff) {
            return e;
        }
        fds.iter().for_each(|fd| set_cloexec(*fd, false));
        let argv0 = std::env::args_os().next().unwrap_or_else(|| "hull-shim".into());
        let args: Vec<std::ffi::CString> = [argv0.as_os_str(), self.dir.as_os_str(), "--monitor".as_ref()]
            .iter()
            .filter_map(|a| std::ffi::CString::new(std::os::unix::ffi::OsStrExt::as_bytes(*a)).ok())
            .collect();
        // execv, not Command: Command would empty the signal mask, and a
        // SIGTERM in between would kill the shim.
        let err = match nix::unistd::execv(c"/proc/self/exe", &args) {
            Err(e) => std::io::Error::from(e),
            Ok(never) => match never {},
        };
        fds.iter().for_each(|fd| set_cloexec(*fd, true));
        let _ = std::fs::remove_file(self.dir.join(HANDOFF_FILE));
        err
    }

    /// Takes over from the image that ran [`Supervisor::reexec`].
    pub fn resume(dir: PathBuf, cfg: ShimConfig) -> std::io::Result<Supervisor> {
        let path = dir.join(HANDOFF_FILE);
        let h: Handoff = config::read_json(&path)?.ok_or_else(|| std::io::Error::other("no handoff record"))?;
        let _ = std::fs::remove_file(&path);
        let own = |fd: RawFd| {
            set_cloexec(fd, true);
            // SAFETY: the previous image handed this descriptor over, open
            // and owned by nothing else in this image; each is taken once.
            unsafe { OwnedFd::from_raw_fd(fd) }
        };
        let set = signal_set();
        set.thread_block()?;
        let signals = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)?;
        let clients = h
            .clients
            .iter()
            .map(|&(fd, output, stdin)| Client { stream: UnixStream::from(own(fd)), output, stdin })
            .collect();
        Ok(Supervisor {
            runtime: hull_runtime::Runtime::new(&cfg.runtime_root),
            listener: UnixListener::from(own(h.listener)),
            signals,
            logger: Logger::new(cfg.log.clone())?,
            clients,
            io: Stdio { out: h.out.map(own), err: h.err.map(own), stdin: h.stdin.map(own) },
            pid: h.pid,
            started: Instant::now() - Duration::from_millis(h.ran_ms),
            state: h.state,
            stopping: h.stopping,
            kill_at: None,
            restart_at: None,
            backoff: Duration::from_millis(h.backoff_ms),
            pending_end: None,
            dir,
            cfg,
        })
    }

    /// Creates and starts the container; returns the init's pid.
    pub fn launch(&mut self) -> Result<i32, String> {
        let id = self.cfg.id.clone();
        let _ = self.runtime.delete(&id, true);
        let opts = hull_runtime::CreateOptions {
            id: id.clone(),
            bundle: self.cfg.bundle.clone(),
            new_keyring: true,
            attach_terminal: self.cfg.tty,
            die_with_parent: true,
            ..Default::default()
        };
        let (io, ends) = if self.cfg.tty {
            (Stdio { out: None, err: None, stdin: None }, None)
        } else {
            let (io, ends) = stdio::pipes(self.cfg.stdin).map_err(|e| format!("pipe: {e}"))?;
            (io, Some(ends))
        };
        let created = stdio::with_ends(ends, || self.runtime.create(&opts)).map_err(|e| e.to_string())?;
        let mut io = io;
        if let Some(master) = created.console {
            let dup = nix::unistd::dup(master.as_raw_fd()).map_err(|e| format!("dup: {e}"))?;
            // SAFETY: dup just returned this descriptor and nothing else owns it.
            let writer = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(dup) };
            let _ = nix::fcntl::fcntl(dup, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC));
            io.out = Some(master);
            io.stdin = self.cfg.stdin.then_some(writer);
        }
        for w in created.warnings {
            eprintln!("hull-shim: warning: {w}");
        }
        if let Err(e) = self.runtime.start(&id) {
            let _ = self.runtime.delete(&id, true);
            return Err(e.to_string());
        }
        for fd in [&io.out, &io.err].into_iter().flatten() {
            stdio::nonblocking(fd.as_raw_fd());
        }
        self.io = io;
        self.pid = created.record.pid;
        self.started = Instant::now();
        self.state.pid = self.pid;
        self.state.started_at = now_rfc3339();
        self.state.restarting = false;
        self.save_state();
        Ok(self.pid)
    }

    fn save_state(&self) {
        if let Err(e) = config::write_json(&self.dir.join(config::STATE_FILE), &self.state) {
            eprintln!("hull-shim: write state: {e}");
        }
    }

    /// Runs until the container is gone for good; returns how it ended.
    pub fn run(&mut self) -> ExitRecord {
        loop {
            if let Some(end) = self.turn() {
                return end;
            }
        }
    }

    fn timeout(&self) -> PollTimeout {
        let next = [self.kill_at, self.restart_at].into_iter().flatten().min();
        match next {
            None => PollTimeout::NONE,
            Some(t) => {
                let ms = t.saturating_duration_since(Instant::now()).as_millis().min(60_000) as u16;
                PollTimeout::from(ms)
            }
        }
    }

    /// One round of poll and its work; `Some` when the container is gone.
    fn turn(&mut self) -> Option<ExitRecord> {
        let out = self.io.out.as_ref().map(|f| f.as_raw_fd());
        let err = self.io.err.as_ref().map(|f| f.as_raw_fd());
        let stdin_clients: Vec<usize> = (0..self.clients.len()).filter(|i| self.clients[*i].stdin).collect();
        let raw: Vec<RawFd> = [self.signals.as_raw_fd(), self.listener.as_raw_fd()]
            .into_iter()
            .chain(out)
            .chain(err)
            .chain(stdin_clients.iter().map(|i| self.clients[*i].stream.as_raw_fd()))
            .collect();
        // SAFETY: every descriptor in `raw` is owned by `self` and outlives this poll.
        let borrowed: Vec<BorrowedFd> = raw.iter().map(|fd| unsafe { BorrowedFd::borrow_raw(*fd) }).collect();
        let mut fds: Vec<PollFd> = borrowed.iter().map(|b| PollFd::new(b.as_fd(), PollFlags::POLLIN)).collect();
        let timeout = self.timeout();
        if let Err(e) = nix::poll::poll(&mut fds, timeout) {
            if e != nix::errno::Errno::EINTR {
                eprintln!("hull-shim: poll: {e}");
            }
            return None;
        }
        let ready: Vec<bool> = fds.iter().map(|f| f.revents().is_some_and(|r| !r.is_empty())).collect();
        drop(fds);
        let mut i = 2;
        if out.is_some() {
            if ready[i] {
                self.pump(1);
            }
            i += 1;
        }
        if err.is_some() {
            if ready[i] {
                self.pump(2);
            }
            i += 1;
        }
        let stdin_ready: Vec<usize> =
            stdin_clients.iter().enumerate().filter(|(k, _)| ready[i + k]).map(|(_, c)| *c).collect();
        self.take_stdin(&stdin_ready);
        if ready[1] {
            self.accept();
        }
        self.timers();
        if let Some(e) = self.pending_end.take() {
            return Some(self.finish(self.state.last_exit.unwrap_or(128), Some(e)));
        }
        if ready[0] {
            return self.on_signals();
        }
        if self.pid == 0 && self.restart_at.is_none() {
            // Stopped during the back-off: the last exit is the end.
            return Some(self.finish(self.state.last_exit.unwrap_or(0), None));
        }
        None
    }

    /// Copies what the container wrote on `stream` to the log and to clients.
    fn pump(&mut self, stream: u8) {
        let fd = match stream {
            1 => self.io.out.as_ref(),
            _ => self.io.err.as_ref(),
        };
        let Some(fd) = fd.map(|f| f.as_raw_fd()) else { return };
        let mut buf = [0u8; 32 * 1024];
        loop {
            match nix::unistd::read(fd, &mut buf) {
                Ok(0) | Err(nix::errno::Errno::EIO) => {
                    // EOF (EIO: the terminal's last process is gone).
                    if stream == 1 {
                        self.io.out = None;
                    } else {
                        self.io.err = None;
                    }
                    return;
                }
                Ok(n) => {
                    self.logger.write(stream, &buf[..n]);
                    self.broadcast(stream, &buf[..n]);
                }
                Err(nix::errno::Errno::EINTR) => {}
                Err(_) => return, // EAGAIN: all read for now
            }
        }
    }

    fn broadcast(&mut self, k: u8, data: &[u8]) {
        self.clients.retain_mut(|c| {
            if !c.output && k != kind::EXIT {
                return true;
            }
            let mut msg = protocol::frame_header(k, data.len()).to_vec();
            msg.extend_from_slice(data);
            c.stream.write_all(&msg).is_ok()
        });
    }

    fn take_stdin(&mut self, ready: &[usize]) {
        for &i in ready {
            let frame = protocol::read_frame(&mut self.clients[i].stream);
            match frame {
                Ok(Some((kind::STDIN, data))) => {
                    if let Some(w) = &self.io.stdin {
                        write_all(w.as_fd(), &data);
                    }
                }
                Ok(Some((kind::STDIN_EOF, _))) if !self.cfg.tty => {
                    // The client is done with stdin: so is the container
                    // (docker's StdinOnce, which a terminal never closes).
                    self.io.stdin = None;
                    self.clients[i].stdin = false;
                }
                // Gone, or detached with its detach keys: the container's
                // stdin stays for the next `attach`.
                Ok(Some((kind::STDIN_EOF, _))) | Ok(None) | Err(_) => self.clients[i].stdin = false,
                Ok(Some(_)) => {}
            }
        }
    }

    fn accept(&mut self) {
        while let Ok((stream, _)) = self.listener.accept() {
            let _ = stream.set_nonblocking(false);
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
            self.request(stream);
        }
    }

    fn request(&mut self, stream: UnixStream) {
        // Byte by byte: frames may follow the line, and must stay in the socket.
        let Some(line) = read_line(&stream) else { return };
        let reply = |s: &str| {
            let _ = (&stream).write_all(format!("{s}\n").as_bytes());
        };
        match serde_json::from_str::<Request>(&line) {
            Err(e) => reply(&format!("error: bad request: {e}")),
            Ok(Request::Attach { stdin }) => {
                let _ = stream.set_read_timeout(None);
                let stdin = stdin && self.io.stdin.is_some();
                self.clients.push(Client { stream, output: true, stdin });
            }
            Ok(Request::Wait) => self.clients.push(Client { stream, output: false, stdin: false }),
            Ok(Request::Resize { rows, cols }) => match &self.io.out {
                Some(m) if self.cfg.tty => match hull_runtime::terminal::set_size(m.as_raw_fd(), rows, cols) {
                    Ok(()) => reply("ok"),
                    Err(e) => reply(&format!("error: {e}")),
                },
                _ => reply("error: the container has no terminal"),
            },
            Ok(Request::Signal { signal, stop, timeout }) => reply(&self.signal(signal, stop, timeout)),
        }
    }

    fn signal(&mut self, signal: i32, stop: bool, timeout: Option<i64>) -> String {
        if stop {
            self.stopping = true;
            self.restart_at = None;
        }
        if self.pid == 0 {
            return "ok".into();
        }
        let sig = match Signal::try_from(signal) {
            Ok(s) => s,
            Err(_) => return format!("error: invalid signal {signal}"),
        };
        if let Err(e) = nix::sys::signal::kill(Pid::from_raw(self.pid), sig) {
            return format!("error: kill {}: {e}", self.pid);
        }
        if let Some(t) = timeout.filter(|t| *t >= 0 && stop && sig != Signal::SIGKILL) {
            self.kill_at = Some(Instant::now() + Duration::from_secs(t as u64));
        }
        "ok".into()
    }

    fn timers(&mut self) {
        let now = Instant::now();
        if self.kill_at.is_some_and(|t| t <= now) {
            self.kill_at = None;
            if self.pid > 0 {
                let _ = nix::sys::signal::kill(Pid::from_raw(self.pid), Signal::SIGKILL);
            }
        }
        if self.restart_at.is_some_and(|t| t <= now) {
            self.restart_at = None;
            self.state.restart_count += 1;
            let launched = self.launch();
            if launched.is_ok() {
                let e = self.reexec();
                eprintln!("hull-shim: re-exec after restart: {e}; supervising in place");
            }
            if let Err(e) = launched {
                eprintln!("hull-shim: restart: {e}");
                self.state.restarting = false;
                self.save_state();
                self.pending_end = Some(e);
            }
        }
    }

    fn on_signals(&mut self) -> Option<ExitRecord> {
        while let Ok(Some(info)) = self.signals.read_signal() {
            match Signal::try_from(info.ssi_signo as i32) {
                Ok(Signal::SIGCHLD) => {}
                Ok(Signal::SIGTERM | Signal::SIGINT) => {
                    let _ = self.signal(libc::SIGTERM, true, Some(10));
                }
                _ => {}
            }
        }
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(p, code)) if p.as_raw() == self.pid => return self.exited(code),
                Ok(WaitStatus::Signaled(p, sig, _)) if p.as_raw() == self.pid => return self.exited(128 + sig as i32),
                Ok(WaitStatus::StillAlive) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// The init exited with `code`: restart it or end.
    fn exited(&mut self, code: i32) -> Option<ExitRecord> {
        self.pid = 0;
        self.kill_at = None;
        self.pump(1);
        self.pump(2);
        self.logger.flush();
        self.io = Stdio { out: None, err: None, stdin: None };
        let oom = self.runtime.oom_kills(&self.cfg.id).unwrap_or(0) > 0;
        if let Err(e) = self.runtime.delete(&self.cfg.id, true) {
            eprintln!("hull-shim: delete: {e}");
        }
        self.state.last_exit = Some(code);
        self.state.last_finished_at = Some(now_rfc3339());
        self.state.pid = 0;
        if !self.cfg.restart.wants_restart(code, self.state.restart_count, self.stopping) {
            let mut end = self.finish(code, None);
            end.oom_killed = oom;
            return Some(end);
        }
        self.backoff = if self.started.elapsed() >= RESET_AFTER { FIRST_BACKOFF } else { self.backoff };
        self.restart_at = Some(Instant::now() + self.backoff);
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        self.state.restarting = true;
        self.save_state();
        self.broadcast(kind::RESTART, code.to_string().as_bytes());
        None
    }

    fn finish(&mut self, code: i32, error: Option<String>) -> ExitRecord {
        ExitRecord {
            code,
            finished_at: self.state.last_finished_at.clone().unwrap_or_else(now_rfc3339),
            restart_count: self.state.restart_count,
            oom_killed: false,
            error,
        }
    }

    /// Records the end and tells every client.
    pub fn report(&mut self, end: &ExitRecord) {
        if let Err(e) = config::write_json(&self.dir.join(config::EXIT_FILE), end) {
            eprintln!("hull-shim: write exit record: {e}");
        }
        self.broadcast(kind::EXIT, end.code.to_string().as_bytes());
        self.clients.clear();
    }
}

/// Writes all of `data` (the container's stdin is blocking: a full pipe
/// waits for the container to read).
fn write_all(fd: BorrowedFd, mut data: &[u8]) {
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return,
        }
    }
}

/// Reads one request line (at most 4 KiB) without reading past it.
fn read_line(mut stream: &UnixStream) -> Option<String> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() < 4096 {
        match stream.read(&mut byte) {
            Ok(1) if byte[0] == b'\n' => return String::from_utf8(line).ok(),
            Ok(1) => line.push(byte[0]),
            _ => return None,
        }
    }
    None
}
