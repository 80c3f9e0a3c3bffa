//! `run`: create and start in one go; in the foreground, wait for the
//! container while forwarding signals, then delete it.

use super::{CreateOptions, Runtime};
use crate::error::{Context, Result};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

/// How a foreground container ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunOutcome {
    /// Detached: the container keeps running.
    Detached,
    /// Exited with this code (128+N for signal N).
    Exited(i32),
}

pub(super) const FORWARDED: &[Signal] = &[
    Signal::SIGHUP,
    Signal::SIGINT,
    Signal::SIGQUIT,
    Signal::SIGTERM,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

impl Runtime {
    /// Runs a container. `keep` leaves a foreground container's state behind.
    pub fn run(&self, opts: &CreateOptions, detach: bool, keep: bool) -> Result<(RunOutcome, Vec<String>)> {
        // In the foreground the terminal is relayed here, and then runc
        // clears ONLCR; a console socket's receiver decides for itself.
        let relayed = !detach && opts.console_socket.is_none();
        let opts = CreateOptions { attach_terminal: !detach, clear_onlcr: relayed, ..opts.clone() };
        let opts = &opts;
        let created = self.create(opts)?;
        let mut warnings = created.warnings;
        let pid = created.record.pid;
        // Block the forwarded signals before start, so none is lost in between.
        let mut set = SigSet::empty();
        if !detach {
            FORWARDED.iter().for_each(|s| set.add(*s));
            set.thread_block().ctx("sigprocmask", "forwarded signals")?;
        }
        match self.start(&opts.id) {
            Ok(w) => warnings.extend(w.iter().map(|e| e.to_string())),
            Err(e) => {
                let _ = self.delete(&opts.id, true);
                return Err(e);
            }
        };
        if detach {
            return Ok((RunOutcome::Detached, warnings));
        }
        let code = wait_forwarding(pid, set, created.console, created.relay)?;
        if !keep {
            if let Err(e) = self.delete(&opts.id, true) {
                warnings.push(e.to_string());
            }
        }
        Ok((RunOutcome::Exited(code), warnings))
    }
}

/// Waits for the process (our child), forwarding signals sent to us, and
/// relays its stdio: with a terminal master, our stdin to it and its
/// output to our stdout (our terminal in raw mode, SIGWINCH passed on as a
/// resize); with pipes (`relay`), our stdin to its stdin and its stdout and
/// stderr to ours.
pub(super) fn wait_forwarding(
    pid: i32,
    set: SigSet,
    console: Option<OwnedFd>,
    relay: Option<crate::stdio::Relay>,
) -> Result<i32> {
    let sfd = SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC).ctx("signalfd", "forwarded signals")?;
    let pidfd = crate::sys::pidfd_open(pid).ctx("pidfd_open", pid)?;
    let _raw = console.as_ref().and_then(|_| crate::terminal::RawMode::enter(0));
    if let (Some(m), Some((rows, cols))) = (&console, crate::terminal::get_size(0)) {
        let _ = crate::terminal::set_size(m.as_raw_fd(), rows, cols);
    }
    // SAFETY: our standard descriptors stay open for the life of the process.
    let (stdin, stdout, stderr) =
        unsafe { (BorrowedFd::borrow_raw(0), BorrowedFd::borrow_raw(1), BorrowedFd::borrow_raw(2)) };
    let mut outputs: Vec<(BorrowedFd, BorrowedFd, bool)> = Vec::new();
    let mut input = None;
    if let Some(m) = &console {
        outputs.push((m.as_fd(), stdout, true));
        input = Some(Input::new(stdin, m.try_clone().ctx("dup", "terminal master")?, false));
    }
    let relay_out = relay.map(|r| {
        input = Some(Input::new(stdin, r.stdin, true));
        (r.stdout, r.stderr)
    });
    if let Some((out, err)) = &relay_out {
        outputs.push((out.as_fd(), stdout, true));
        outputs.push((err.as_fd(), stderr, true));
    }
    loop {
        let mut fds = vec![PollFd::new(pidfd.as_fd(), PollFlags::POLLIN), PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        let open: Vec<usize> = (0..outputs.len()).filter(|i| outputs[*i].2).collect();
        fds.extend(open.iter().map(|i| PollFd::new(outputs[*i].0, PollFlags::POLLIN)));
        let input_poll = input.as_ref().and_then(Input::poll_fd);
        let has_input = input_poll.is_some();
        fds.extend(input_poll);
        match nix::poll::poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => other.ctx("poll", "container process")?,
        };
        let ready: Vec<bool> = fds.iter().map(|f| f.revents().is_some_and(|r| !r.is_empty())).collect();
        drop(fds);
        if ready[1] {
            forward_signal(&sfd, pid, console.as_ref());
        }
        for (k, i) in open.iter().enumerate() {
            if ready[2 + k] {
                let (from, to, _) = outputs[*i];
                outputs[*i].2 = copy(from.as_raw_fd(), to.as_raw_fd());
            }
        }
        if has_input && ready[2 + open.len()] {
            if let Some(i) = input.as_mut() {
                i.step();
            }
        }
        if ready[0] {
            // Whatever the process wrote last is still in the pty or pipes;
            // what a process it left behind writes later is not waited for.
            for (from, to, open) in &outputs {
                if *open {
                    let _ = nix::fcntl::fcntl(
                        from.as_raw_fd(),
                        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
                    );
                    while copy(from.as_raw_fd(), to.as_raw_fd()) {}
                }
            }
            break;
        }
    }
    match waitpid(Pid::from_raw(pid), None).ctx("waitpid", pid)? {
        WaitStatus::Exited(_, code) => Ok(code),
        WaitStatus::Signaled(_, sig, _) => Ok(128 + sig as i32),
        // Stopped/continued cannot happen without WUNTRACED; treat as unknown.
        _ => Ok(255),
    }
}

fn forward_signal(sfd: &SignalFd, pid: i32, console: Option<&OwnedFd>) {
    if let Ok(Some(info)) = sfd.read_signal() {
        match (Signal::try_from(info.ssi_signo as i32), console) {
            (Ok(Signal::SIGWINCH), Some(m)) => {
                if let Some((rows, cols)) = crate::terminal::get_size(0) {
                    let _ = crate::terminal::set_size(m.as_raw_fd(), rows, cols);
                }
            }
            (Ok(sig), _) => {
                let _ = nix::sys::signal::kill(Pid::from_raw(pid), sig);
            }
            _ => {}
        }
    }
}

/// Our stdin copied to the process. Into a pipe the writes do not block
/// (what the process has not read yet waits here, and its output keeps
/// flowing meanwhile); at our EOF the pipe is closed, so the process sees
/// its own EOF.
struct Input<'a> {
    from: BorrowedFd<'a>,
    to: Option<OwnedFd>,
    pending: Vec<u8>,
    open: bool,
    close_at_eof: bool,
}

impl<'a> Input<'a> {
    fn new(from: BorrowedFd<'a>, to: OwnedFd, pipe: bool) -> Input<'a> {
        if pipe {
            let _ = nix::fcntl::fcntl(to.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK));
        }
        Input { from, to: Some(to), pending: Vec::new(), open: true, close_at_eof: pipe }
    }

    fn poll_fd(&self) -> Option<PollFd<'_>> {
        let to = self.to.as_ref()?;
        if !self.pending.is_empty() {
            Some(PollFd::new(to.as_fd(), PollFlags::POLLOUT))
        } else if self.open {
            Some(PollFd::new(self.from, PollFlags::POLLIN))
        } else {
            None
        }
    }

    fn step(&mut self) {
        let Some(to) = &self.to else { return };
        if self.pending.is_empty() {
            let mut buf = [0u8; 8192];
            match nix::unistd::read(self.from.as_raw_fd(), &mut buf) {
                Ok(0) | Err(_) => self.open = false,
                Ok(n) => self.pending.extend_from_slice(&buf[..n]),
            }
        }
        while !self.pending.is_empty() {
            match nix::unistd::write(to, &self.pending) {
                Ok(w) => drop(self.pending.drain(..w)),
                Err(nix::errno::Errno::EINTR) => {}
                Err(nix::errno::Errno::EAGAIN) => return,
                // The process closed its stdin: drop what it will never read.
                Err(_) => {
                    self.pending.clear();
                    self.open = false;
                }
            }
        }
        if !self.open && self.close_at_eof {
            self.to = None;
        }
    }
}

/// Copies one read's worth from `from` to `to`; false at EOF or error.
fn copy(from: i32, to: i32) -> bool {
    let mut buf = [0u8; 8192];
    let n = match nix::unistd::read(from, &mut buf) {
        Ok(0) | Err(_) => return false,
        Ok(n) => n,
    };
    // SAFETY: `to` is open for the duration of the call.
    let out = unsafe { BorrowedFd::borrow_raw(to) };
    let mut rest = &buf[..n];
    while !rest.is_empty() {
        match nix::unistd::write(out, rest) {
            Ok(w) => rest = &rest[w..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(_) => return false,
        }
    }
    true
}
