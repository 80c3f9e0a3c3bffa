//! The shim's event loop: one container, its stdio, its clients, its exit
//! and its restarts, all on one thread with poll(2).

use crate::backend::Backend;
use crate::logger::Logger;
use crate::stdio::{self, Stdio};
use hull_shim::config::{self, now_rfc3339, ExecRecord, ExitRecord, HealthResult, HealthState, ShimConfig, ShimState};
use hull_shim::protocol::{self, kind, Request};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use std::io::Write;
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

/// A process exec'd into the container, which the shim reaps (as subreaper).
struct Exec {
    record: ExecRecord,
    /// Gets the EXIT frame; while it is connected it reads the terminal.
    client: Option<UnixStream>,
    /// The terminal's master, held for the process's life: a client that
    /// detaches must not hang it up. Drained once the client is gone.
    console: Option<OwnedFd>,
}

/// The container's health check, run by the shim as an exec.
struct Health {
    setup: hull_shim::config::HealthSetup,
    state: HealthState,
    /// When the container (re)started: the start period counts from it.
    since: Instant,
    next_at: Instant,
    running: Option<Check>,
}

/// A health check under way.
struct Check {
    pid: i32,
    output: OwnedFd,
    start: String,
    deadline: Instant,
    timed_out: bool,
}

pub struct Supervisor {
    dir: PathBuf,
    execs: Vec<Exec>,
    health: Option<Health>,
    cfg: ShimConfig,
    backend: Backend,
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
    /// (record, fd of the client waiting for its exit, fd of its terminal)
    #[serde(default)]
    execs: Vec<(ExecRecord, Option<RawFd>, Option<RawFd>)>,
    /// Where another runtime put the container.
    #[serde(default)]
    cgroup: Option<hull_cgroups::CgroupPaths>,
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
        // Exec'd processes are started by a short-lived helper: they become
        // ours when it ends (kept across the re-execution).
        hull_runtime::sys::prctl(libc::PR_SET_CHILD_SUBREAPER, 1)?;
        let logger = Logger::new(cfg.log.clone())?;
        let backend = Backend::new(&cfg);
        let clients = first.into_iter().map(|stream| Client { stream, output: true, stdin: cfg.stdin }).collect();
        let health = new_health(&dir, &cfg);
        Ok(Supervisor {
            dir,
            execs: Vec::new(),
            health,
            backend,
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
            execs: self
                .execs
                .iter()
                .map(|e| {
                    (
                        e.record.clone(),
                        e.client.as_ref().map(|c| c.as_raw_fd()),
                        e.console.as_ref().map(|c| c.as_raw_fd()),
                    )
                })
                .collect(),
            cgroup: self.backend.cgroup().cloned(),
        };
        let fds: Vec<RawFd> = [handoff.out, handoff.err, handoff.stdin, Some(handoff.listener)]
            .into_iter()
            .flatten()
            .chain(handoff.clients.iter().map(|c| c.0))
            .chain(handoff.execs.iter().flat_map(|e| [e.1, e.2]).flatten())
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
        let execs = h
            .execs
            .into_iter()
            .map(|(record, client, console)| Exec {
                record,
                client: client.map(|fd| UnixStream::from(own(fd))),
                console: console.map(own),
            })
            .collect();
        let backend = Backend::new(&cfg);
        backend.adopt_cgroup(h.cgroup);
        Ok(Supervisor {
            execs,
            health: new_health(&dir, &cfg),
            backend,
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
    pub fn launch(&mut self) -> Result<i32, protocol::Failure> {
        let id = self.cfg.id.clone();
        let _ = self.backend.delete(&id);
        let (io, ends) = if self.cfg.tty {
            (Stdio { out: None, err: None, stdin: None }, None)
        } else {
            let (io, ends) = stdio::pipes(self.cfg.stdin).map_err(|e| format!("pipe: {e}"))?;
            (io, Some(ends))
        };
        let fds = ends.map(stdio::ContainerEnds::into_fds).transpose().map_err(|e| format!("open /dev/null: {e}"))?;
        let created = self.backend.create(&id, &self.cfg.bundle, &self.dir, self.cfg.tty, fds)?;
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
        if let Err(e) = self.backend.start(&id) {
            let _ = self.backend.delete(&id);
            return Err(e);
        }
        for fd in [&io.out, &io.err].into_iter().flatten() {
            stdio::nonblocking(fd.as_raw_fd());
        }
        self.io = io;
        self.pid = created.pid;
        self.started = Instant::now();
        if let Some(h) = self.health.as_mut() {
            h.reset();
        }
        self.save_health();
        self.state.pid = self.pid;
        self.state.started_at = now_rfc3339();
        self.state.restarting = false;
        self.state.paused = Some(false);
        self.save_state();
        Ok(self.pid)
    }

    /// Appends one of the container's events to the engine's journal.
    fn emit(&self, action: &str, extra: &[(&str, String)]) {
        let Some(path) = &self.cfg.events else { return };
        let mut attrs = self.cfg.event_attributes.clone();
        attrs.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let event = hull_shim::events::Event::new("container", action, &self.cfg.id, attrs);
        if let Err(e) = hull_shim::events::Journal::new(path).append(&event) {
            eprintln!("hull-shim: write event: {e}");
        }
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
        let health = self.health.as_ref().filter(|_| self.pid != 0).map(|h| match &h.running {
            Some(c) => c.deadline,
            None => h.next_at,
        });
        let next = [self.kill_at, self.restart_at, health].into_iter().flatten().min();
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
        // An exec's client is watched for its going; then its terminal is drained.
        let exec_fds: Vec<(usize, RawFd)> = self
            .execs
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match (&e.client, &e.console) {
                (Some(c), Some(_)) => Some((i, c.as_raw_fd())),
                (None, Some(m)) => Some((i, m.as_raw_fd())),
                _ => None,
            })
            .collect();
        let raw: Vec<RawFd> = [self.signals.as_raw_fd(), self.listener.as_raw_fd()]
            .into_iter()
            .chain(out)
            .chain(err)
            .chain(stdin_clients.iter().map(|i| self.clients[*i].stream.as_raw_fd()))
            .chain(exec_fds.iter().map(|(_, fd)| *fd))
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
        i += stdin_clients.len();
        let exec_ready: Vec<usize> =
            exec_fds.iter().enumerate().filter(|(k, _)| ready[i + k]).map(|(_, (e, _))| *e).collect();
        self.take_stdin(&stdin_ready);
        self.exec_terminals(&exec_ready);
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
        // Not zeroed: read(2) writes what it returns, and an idle monitor
        // must not dirty 32 KiB of stack each time it looks.
        let mut buf = std::mem::MaybeUninit::<[u8; 32 * 1024]>::uninit();
        loop {
            // SAFETY: read writes at most the buffer's size into it; only
            // the n bytes it reports are read back below.
            let got = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), 32 * 1024) };
            let got = if got < 0 { Err(nix::errno::Errno::last()) } else { Ok(got as usize) };
            match got {
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
                    // SAFETY: the kernel initialised the first n bytes.
                    let data = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), n) };
                    self.logger.write(stream, data);
                    self.broadcast(stream, data);
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
        let Ok((line, fds)) = protocol::recv_line(&stream) else { return };
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
            Ok(Request::Signal { signal, stop, timeout, exec: None }) => reply(&self.signal(signal, stop, timeout)),
            Ok(Request::Signal { signal, exec: Some(id), .. }) => reply(&self.signal_exec(&id, signal)),
            Ok(Request::Exec { id, process }) => self.exec(stream, id, *process, fds),
            Ok(Request::Pids) => reply(&self.measure(|b, id| b.pids(id).map(|p| serde_json::json!(p)))),
            Ok(Request::Stats) => reply(&self.measure(|b, id| b.stats(id))),
            Ok(Request::Update { resources }) => reply(&self.update(&resources)),
            Ok(Request::SetRestart { policy }) => {
                self.cfg.restart = policy;
                // A re-executed monitor reads its config again: keep it true.
                match config::write_json(&self.dir.join(config::CONFIG_FILE), &self.cfg) {
                    Ok(()) => reply("ok"),
                    Err(e) => reply(&format!("error: write config: {e}")),
                }
            }
            Ok(Request::Pause) => reply(&self.freeze(true)),
            Ok(Request::Resume) => reply(&self.freeze(false)),
        }
    }

    /// Starts an exec'd process through a forked helper (the runtime's
    /// exec clones from a single-threaded process, and what it touches
    /// stays out of the shim's memory), answers the client, and keeps the
    /// process to reap.
    fn exec(&mut self, stream: UnixStream, id: String, process: hull_spec::Process, fds: Vec<OwnedFd>) {
        let answer = |line: &str, fds: &[RawFd]| {
            let _ = protocol::send_line(&stream, line, fds);
        };
        if self.pid == 0 {
            return answer("error: the container is not running", &[]);
        }
        if id.is_empty() || self.execs.iter().any(|e| e.record.id == id) {
            return answer(&format!("error: exec id {id:?} is empty or in use"), &[]);
        }
        let tty = process.terminal == Some(true);
        let stdio: Option<[OwnedFd; 3]> = match (tty, <[OwnedFd; 3]>::try_from(fds)) {
            (false, Ok(three)) => Some(three),
            (false, Err(_)) => return answer("error: exec without a terminal needs three descriptors", &[]),
            (true, _) => None,
        };
        match self.start_exec(process, stdio) {
            Err(e) => answer(&e.line(), &[]),
            Ok((pid, console)) => {
                // Recorded before the answer: the caller may look at once.
                let record = ExecRecord { id, pid, started_at: now_rfc3339(), ..Default::default() };
                self.save_exec(&record);
                let line = serde_json::to_string(&protocol::ExecStarted { pid }).unwrap_or_default();
                answer(&line, &console.iter().map(|c| c.as_raw_fd()).collect::<Vec<_>>());
                let _ = stream.set_read_timeout(None);
                let _ = stream.set_nonblocking(true);
                if let Some(c) = &console {
                    stdio::nonblocking(c.as_raw_fd());
                }
                self.execs.push(Exec { record, client: Some(stream), console });
            }
        }
    }

    fn start_exec(
        &self,
        process: hull_spec::Process,
        stdio: Option<[OwnedFd; 3]>,
    ) -> Result<(i32, Option<OwnedFd>), protocol::Failure> {
        self.backend.exec(&self.cfg.id, &self.dir, process, stdio)
    }

    fn save_exec(&self, record: &ExecRecord) {
        if let Err(e) = config::write_json(&self.dir.join(config::exec_record_file(&record.id)), record) {
            eprintln!("hull-shim: write exec record: {e}");
        }
    }

    /// A JSON answer about the running container (its pids, its stats).
    fn measure(&self, f: impl FnOnce(&Backend, &str) -> Result<serde_json::Value, String>) -> String {
        if self.pid == 0 {
            return "error: the container is not running".into();
        }
        match f(&self.backend, &self.cfg.id) {
            Ok(v) => v.to_string(),
            Err(e) => format!("error: {e}"),
        }
    }

    /// Changes the running container's resources.
    fn update(&self, resources: &hull_spec::Resources) -> String {
        if self.pid == 0 {
            return "error: the container is not running".into();
        }
        match self.backend.update(&self.cfg.id, resources) {
            Ok(()) => "ok".into(),
            Err(e) => format!("error: {e}"),
        }
    }

    /// Pauses or resumes the container (the runtime's freezer writes).
    fn freeze(&mut self, pause: bool) -> String {
        if self.pid == 0 {
            return "error: the container is not running".into();
        }
        let done = self.backend.freeze(&self.cfg.id, pause);
        match done {
            Ok(()) => {
                self.state.paused = Some(pause);
                self.save_state();
                self.emit(if pause { "pause" } else { "unpause" }, &[]);
                "ok".into()
            }
            Err(e) => format!("error: {e}"),
        }
    }

    fn signal_exec(&mut self, id: &str, signal: i32) -> String {
        let Some(e) = self.execs.iter().find(|e| e.record.id == id) else {
            return format!("error: no running exec {id:?}");
        };
        match Signal::try_from(signal) {
            Err(_) => format!("error: invalid signal {signal}"),
            Ok(sig) => match nix::sys::signal::kill(Pid::from_raw(e.record.pid), sig) {
                Ok(()) => "ok".into(),
                Err(err) => format!("error: kill {}: {err}", e.record.pid),
            },
        }
    }

    /// The init is gone: in a pid namespace of its own every exec'd
    /// process is being killed with it; their ends are recorded (waiting a
    /// little for the kernel). One that outlives it (a shared pid
    /// namespace) is left alone.
    fn reap_execs(&mut self) {
        let deadline = Instant::now() + Duration::from_millis(500);
        while !self.execs.is_empty() && Instant::now() < deadline {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(p, code)) => self.exec_exited(p.as_raw(), code),
                Ok(WaitStatus::Signaled(p, sig, _)) => self.exec_exited(p.as_raw(), 128 + sig as i32),
                Ok(WaitStatus::StillAlive) => std::thread::sleep(Duration::from_millis(5)),
                Err(_) => break,
                Ok(_) => {}
            }
        }
    }

    /// Starts a due health check, or ends one past its timeout.
    fn health_tick(&mut self, now: Instant) {
        if self.pid == 0 {
            return;
        }
        let Some(h) = self.health.as_mut() else { return };
        match &mut h.running {
            Some(c) if now >= c.deadline && !c.timed_out => {
                c.timed_out = true;
                let _ = nix::sys::signal::kill(Pid::from_raw(c.pid), Signal::SIGKILL);
            }
            Some(_) => {}
            None if now >= h.next_at => {
                let process = h.setup.process.clone();
                let timeout = h.setup.check.timeout();
                match self.start_check(process) {
                    Ok((pid, output)) => {
                        let start = now_rfc3339();
                        if let Some(h) = self.health.as_mut() {
                            h.running = Some(Check { pid, output, start, deadline: now + timeout, timed_out: false });
                        }
                    }
                    Err(e) => self.health_result(-1, format!("health check: {e}"), now_rfc3339()),
                }
            }
            None => {}
        }
    }

    /// A check's process: stdout and stderr to one pipe, which the shim reads at its end.
    fn start_check(&self, process: hull_spec::Process) -> Result<(i32, OwnedFd), String> {
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
        let null: OwnedFd = std::fs::File::open("/dev/null").map_err(|e| format!("open /dev/null: {e}"))?.into();
        let w2 = w.try_clone().map_err(|e| format!("dup: {e}"))?;
        stdio::nonblocking(r.as_raw_fd());
        let (pid, _) = self.start_exec(process, Some([null, w, w2])).map_err(|e| e.message)?;
        Ok((pid, r))
    }

    fn health_done(&mut self, code: i32) {
        let Some(c) = self.health.as_mut().and_then(|h| h.running.take()) else { return };
        let mut buf = vec![0u8; 4096];
        let n = nix::unistd::read(c.output.as_raw_fd(), &mut buf).unwrap_or(0);
        let mut output = String::from_utf8_lossy(&buf[..n]).into_owned();
        let code = if c.timed_out {
            output = format!(
                "Health check exceeded timeout ({:?})",
                self.health.as_ref().map(|h| h.setup.check.timeout()).unwrap_or_default()
            );
            -1
        } else {
            code
        };
        self.health_result(code, output, c.start);
    }

    /// Records a check's result, updates the status (docker's rules) and
    /// says so when it changed.
    fn health_result(&mut self, code: i32, output: String, start: String) {
        let Some(h) = self.health.as_mut() else { return };
        let before = h.state.status.clone();
        let in_start_period = h.since.elapsed() < h.setup.check.start_period();
        if code == 0 {
            h.state.status = "healthy".into();
            h.state.failing_streak = 0;
        } else if !(in_start_period && h.state.status == "starting") {
            h.state.failing_streak += 1;
            if h.state.failing_streak >= h.setup.check.retries() {
                h.state.status = "unhealthy".into();
            }
        }
        h.state.log.push(HealthResult { start, end: now_rfc3339(), exit_code: code, output });
        if h.state.log.len() > 5 {
            h.state.log.remove(0);
        }
        let starting = h.state.status == "starting";
        let every = if starting && in_start_period { h.setup.check.start_interval() } else { h.setup.check.interval() };
        h.next_at = Instant::now() + every;
        let after = h.state.status.clone();
        self.save_health();
        if after != before {
            self.emit(&format!("health_status: {after}"), &[]);
        }
    }

    fn save_health(&self) {
        if let Some(h) = &self.health {
            if let Err(e) = config::write_json(&self.dir.join(config::HEALTH_FILE), &h.state) {
                eprintln!("hull-shim: write health state: {e}");
            }
        }
    }

    /// An exec with a terminal whose client went: the terminal's output,
    /// read and dropped, so that the process never blocks writing it.
    fn exec_terminals(&mut self, ready: &[usize]) {
        let mut buf = [0u8; 8192];
        for &i in ready {
            let e = &mut self.execs[i];
            if let Some(c) = &e.client {
                // Nothing is expected from the client: data or EOF, it is gone.
                if matches!(nix::unistd::read(c.as_raw_fd(), &mut buf), Ok(0) | Err(nix::errno::Errno::ECONNRESET)) {
                    e.client = None;
                }
                continue;
            }
            if let Some(m) = &e.console {
                loop {
                    match nix::unistd::read(m.as_raw_fd(), &mut buf) {
                        Ok(n) if n > 0 => {}
                        Err(nix::errno::Errno::EAGAIN) => break,
                        Err(nix::errno::Errno::EINTR) => {}
                        // EOF, EIO: its last process is gone.
                        _ => {
                            e.console = None;
                            break;
                        }
                    }
                }
            }
        }
    }

    /// An exec'd process ended: its record, and its client's EXIT frame.
    fn exec_exited(&mut self, pid: i32, code: i32) {
        let Some(i) = self.execs.iter().position(|e| e.record.pid == pid) else { return };
        let mut e = self.execs.swap_remove(i);
        e.record.exit_code = Some(code);
        e.record.finished_at = Some(now_rfc3339());
        self.save_exec(&e.record);
        self.emit("exec_die", &[("execID", e.record.id.clone()), ("exitCode", code.to_string())]);
        if let Some(mut c) = e.client {
            let _ = c.set_nonblocking(false);
            let _ = protocol::write_frame(&mut c, kind::EXIT, code.to_string().as_bytes());
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
        if let Err(e) = self.backend.kill(&self.cfg.id, self.pid, sig) {
            return format!("error: {e}");
        }
        if let Some(t) = timeout.filter(|t| *t >= 0 && stop && sig != Signal::SIGKILL) {
            self.kill_at = Some(Instant::now() + Duration::from_secs(t as u64));
        }
        "ok".into()
    }

    fn timers(&mut self) {
        let now = Instant::now();
        self.health_tick(now);
        if self.kill_at.is_some_and(|t| t <= now) {
            self.kill_at = None;
            if self.pid > 0 {
                let _ = self.backend.kill(&self.cfg.id, self.pid, Signal::SIGKILL);
            }
        }
        if self.restart_at.is_some_and(|t| t <= now) {
            self.restart_at = None;
            self.state.restart_count += 1;
            let launched = self.launch();
            if launched.is_ok() {
                self.emit("start", &[]);
                let e = self.reexec();
                eprintln!("hull-shim: re-exec after restart: {e}; supervising in place");
            }
            if let Err(e) = launched {
                eprintln!("hull-shim: restart: {e}");
                self.state.restarting = false;
                self.save_state();
                self.pending_end = Some(e.message);
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
        // Every status first: an exec that ended with the init gets its
        // record before the container's end is handled.
        let mut init_ended = None;
        loop {
            let (pid, code) = match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(p, code)) => (p.as_raw(), code),
                Ok(WaitStatus::Signaled(p, sig, _)) => (p.as_raw(), 128 + sig as i32),
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(_) => continue,
            };
            if pid == self.pid {
                init_ended = Some(code);
            } else if self.health.as_ref().and_then(|h| h.running.as_ref()).is_some_and(|c| c.pid == pid) {
                self.health_done(code);
            } else {
                self.exec_exited(pid, code);
            }
        }
        match init_ended {
            Some(code) => {
                self.reap_execs();
                self.exited(code)
            }
            None => None,
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
        let oom = self.backend.oom_killed(&self.cfg.id);
        if let Err(e) = self.backend.delete(&self.cfg.id) {
            eprintln!("hull-shim: delete: {e}");
        }
        self.state.last_exit = Some(code);
        self.state.last_finished_at = Some(now_rfc3339());
        self.state.pid = 0;
        if !self.cfg.restart.wants_restart(code, self.state.restart_count, self.stopping) {
            // The engine records the end, and says so (die) once it has.
            let mut end = self.finish(code, None);
            end.oom_killed = oom;
            return Some(end);
        }
        if oom {
            self.emit("oom", &[]);
        }
        self.emit("die", &[("exitCode", code.to_string())]);
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

/// The container's health check from its config, its state from the last
/// image of this shim (after a re-execution) or fresh.
fn new_health(dir: &std::path::Path, cfg: &ShimConfig) -> Option<Health> {
    let setup = cfg.health.clone()?;
    let state = config::read_json(&dir.join(config::HEALTH_FILE)).ok().flatten().unwrap_or_default();
    let mut h = Health { setup, state, since: Instant::now(), next_at: Instant::now(), running: None };
    // Fresh (or re-executed right after a start, before any check): from the start.
    if h.state.log.is_empty() {
        h.reset();
    } else {
        h.next_at = Instant::now() + h.setup.check.interval();
    }
    Some(h)
}

impl Health {
    /// A (re)started container: starting, first check after an interval.
    fn reset(&mut self) {
        self.state = HealthState { status: "starting".into(), failing_streak: 0, log: Vec::new() };
        self.since = Instant::now();
        self.running = None;
        let first = if self.setup.check.start_period().is_zero() {
            self.setup.check.interval()
        } else {
            self.setup.check.start_interval()
        };
        self.next_at = Instant::now() + first;
    }
}
