//! The shim's control socket. A client sends one JSON [`Request`] line.
//! `Attach` and `Wait` are answered by frames until the container is gone
//! for good: a frame is an 8-byte header (kind, three zero bytes, length as
//! u32 big-endian, as docker's stdcopy) and the payload. `Exec` is answered
//! by a line (the process's pid, or the error) and, when the process ends,
//! its EXIT frame. Other requests get one line back: `ok` or `error: <why>`.
//! Launch and exec failures are `error {json}` ([`Failure`]).
//! Descriptors travel with a line as SCM_RIGHTS ([`send_line`], [`recv_line`]).

use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

/// A failure as the shim reports it, on the readiness pipe and in answer
/// to an `Exec`: `error ` and this as JSON, so the engine keeps the kind
/// (docker's 126 and 127) without matching English text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// What kind of failure.
    pub kind: hull_runtime::FailureKind,
    /// What went wrong.
    pub message: String,
}

impl Failure {
    /// The answer line.
    pub fn line(&self) -> String {
        format!("error {}", serde_json::to_string(self).unwrap_or_default())
    }

    /// The failure an answer line reports, if it reports one.
    pub fn parse(answer: &str) -> Option<Failure> {
        let rest = answer.strip_prefix("error")?;
        let rest = rest.strip_prefix(':').unwrap_or(rest).trim_start();
        Some(serde_json::from_str(rest).unwrap_or_else(|_| Failure::from(rest.to_string())))
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { kind: hull_runtime::FailureKind::Other, message }
    }
}

impl From<&hull_runtime::RuntimeError> for Failure {
    fn from(e: &hull_runtime::RuntimeError) -> Failure {
        Failure { kind: e.failure_kind(), message: e.to_string() }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Frame kinds.
pub mod kind {
    /// Bytes for the container's stdin (client to shim).
    pub const STDIN: u8 = 0;
    /// The container's stdout (or its terminal).
    pub const STDOUT: u8 = 1;
    /// The container's stderr.
    pub const STDERR: u8 = 2;
    /// The container ended: payload is the exit code in decimal.
    pub const EXIT: u8 = 3;
    /// The client closed stdin.
    pub const STDIN_EOF: u8 = 4;
    /// The container restarts: payload is the previous exit code.
    pub const RESTART: u8 = 5;
}

/// One request on the control socket.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Request {
    /// Stream output (and take stdin frames when `stdin`).
    Attach {
        /// Forward the client's stdin frames.
        stdin: bool,
    },
    /// Only the exit frame.
    Wait,
    /// Resize the terminal.
    Resize {
        /// Rows.
        rows: u16,
        /// Columns.
        cols: u16,
    },
    /// Send a signal to the init (or to an exec'd process); `stop` also
    /// disables the restart policy and, after `timeout` seconds, sends SIGKILL.
    Signal {
        /// Signal number.
        signal: i32,
        /// A user stop (or kill): no restart afterwards.
        stop: bool,
        /// Seconds before SIGKILL (stop only; negative: wait forever).
        timeout: Option<i64>,
        /// The exec whose process gets it, instead of the init.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exec: Option<String>,
    },
    /// The container's host pids: answered with a JSON array.
    Pids,
    /// Its cgroup's statistics: answered with runc's JSON.
    Stats,
    /// Changes its resources live.
    Update {
        /// The new limits (the runtime spec's `linux.resources`).
        resources: Box<hull_spec::Resources>,
    },
    /// Replaces the restart policy of the running container (docker's
    /// `update --restart` applies at once, to the run under way).
    SetRestart {
        /// The new policy.
        policy: crate::config::RestartPolicy,
    },
    /// Freezes the container (its cgroup).
    Pause,
    /// Thaws it.
    Resume,
    /// Runs a process in the container, supervised by the shim. Without a
    /// terminal its stdin, stdout and stderr come with the request line
    /// (three descriptors); with one, the terminal's master comes back with
    /// the answer `{"pid": N}`. The connection then gets the EXIT frame.
    Exec {
        /// The exec's id (unique in the container).
        id: String,
        /// The process, as the runtime's exec takes it.
        process: Box<hull_spec::Process>,
    },
}

/// The answer to `Exec`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecStarted {
    /// The process's pid.
    pub pid: i32,
}

/// Sends `line` and a newline, with `fds` attached (SCM_RIGHTS).
pub fn send_line(
    stream: &std::os::unix::net::UnixStream,
    line: &str,
    fds: &[std::os::fd::RawFd],
) -> std::io::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    use std::os::fd::AsRawFd;
    let data = format!("{line}\n");
    let iov = [std::io::IoSlice::new(data.as_bytes())];
    let cmsg = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage] = if fds.is_empty() { &[] } else { &cmsg };
    let sent = sendmsg::<()>(stream.as_raw_fd(), &iov, cmsgs, MsgFlags::empty(), None)?;
    if sent < data.len() {
        // The rest without descriptors (a stream socket may take it in parts).
        (&mut &*stream).write_all(&data.as_bytes()[sent..])?;
    }
    Ok(())
}

/// Reads one line (at most 64 KiB) without reading past it, and the
/// descriptors that came with it: what is queued is peeked at, and only
/// the line is taken.
pub fn recv_line(stream: &std::os::unix::net::UnixStream) -> std::io::Result<(String, Vec<std::os::fd::OwnedFd>)> {
    use nix::sys::socket::{recv, recvmsg, ControlMessageOwned, MsgFlags};
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let mut line = Vec::new();
    let mut fds = Vec::new();
    let mut peeked = vec![0u8; 4096];
    loop {
        let n = recv(stream.as_raw_fd(), &mut peeked, MsgFlags::MSG_PEEK)?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed mid-line"));
        }
        let end = peeked[..n].iter().position(|b| *b == b'\n');
        let take = end.map_or(n, |e| e + 1);
        let mut chunk = vec![0u8; take];
        let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 4]);
        let mut iov = [std::io::IoSliceMut::new(&mut chunk)];
        let msg = recvmsg::<()>(stream.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC)?;
        for c in msg.cmsgs()? {
            if let ControlMessageOwned::ScmRights(got) = c {
                // SAFETY: the kernel just installed these descriptors for us.
                fds.extend(got.into_iter().map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }));
            }
        }
        let got = msg.bytes;
        line.extend_from_slice(&chunk[..got]);
        if end.is_some() && got == take {
            line.pop();
            break;
        }
        if line.len() > 64 << 10 {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "line too long"));
        }
    }
    let line = String::from_utf8(line).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    Ok((line, fds))
}

/// Writes one frame.
pub fn write_frame(w: &mut impl Write, kind: u8, payload: &[u8]) -> std::io::Result<()> {
    let mut head = [0u8; 8];
    head[0] = kind;
    head[4..].copy_from_slice(&(payload.len() as u32).to_be_bytes());
    w.write_all(&head)?;
    w.write_all(payload)
}

/// The header of a frame.
pub fn frame_header(kind: u8, len: usize) -> [u8; 8] {
    let mut head = [0u8; 8];
    head[0] = kind;
    head[4..].copy_from_slice(&(len as u32).to_be_bytes());
    head
}

/// Reads one frame; `None` at a clean end of stream.
pub fn read_frame(r: &mut impl Read) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 8];
    match r.read_exact(&mut head) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes([head[4], head[5], head[6], head[7]]) as usize;
    if len > 16 << 20 {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "frame too large"));
    }
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)?;
    Ok(Some((head[0], payload)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip() {
        let mut buf = Vec::new();
        write_frame(&mut buf, kind::STDERR, b"oops\n").unwrap();
        write_frame(&mut buf, kind::EXIT, b"3").unwrap();
        assert_eq!(&buf[..8], &[2, 0, 0, 0, 0, 0, 0, 5]);
        let mut r = &buf[..];
        assert_eq!(read_frame(&mut r).unwrap(), Some((kind::STDERR, b"oops\n".to_vec())));
        assert_eq!(read_frame(&mut r).unwrap(), Some((kind::EXIT, b"3".to_vec())));
        assert_eq!(read_frame(&mut r).unwrap(), None);
        let line =
            serde_json::to_string(&Request::Signal { signal: 15, stop: true, timeout: Some(10), exec: None }).unwrap();
        assert!(matches!(serde_json::from_str(&line).unwrap(), Request::Signal { signal: 15, .. }));
    }
}

#[cfg(test)]
mod failure_tests {
    use super::*;

    #[test]
    fn failures_keep_their_kind_across_the_line() {
        let f = Failure { kind: hull_runtime::FailureKind::CommandNotFound, message: "exec nope: not found".into() };
        assert_eq!(Failure::parse(&f.line()), Some(f));
        assert_eq!(Failure::parse("error: plain words").unwrap().kind, hull_runtime::FailureKind::Other);
        assert_eq!(Failure::parse("error daemonize: x").unwrap().message, "daemonize: x");
        assert_eq!(Failure::parse("ok 12"), None);
    }
}
