//! The parent↔init channel used during `create`: a SOCK_SEQPACKET pair, one
//! JSON message per packet.

use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use serde::{Deserialize, Serialize};
use std::os::fd::{AsRawFd, OwnedFd};

/// Messages between the runtime and the container init.
#[derive(Debug, Serialize, Deserialize)]
pub enum Message {
    /// Parent → init: ids mapped and cgroup joined; carries the init's host pid.
    Go {
        /// Host pid of the init.
        pid: i32,
    },
    /// Init → parent: mounts are in place, run createRuntime hooks now.
    RunCreateRuntimeHooks,
    /// Parent → init: createRuntime hooks done; the state for the init's own hooks.
    HooksDone {
        /// The state JSON.
        state: hull_spec::State,
    },
    /// Init → parent: the seccomp notify fd is attached, for the listener.
    SeccompFd,
    /// Init → parent: the terminal's master is attached.
    ConsoleMaster,
    /// Exec child → parent: the process continues as this (host) pid.
    ExecPid {
        /// Host pid.
        pid: i32,
    },
    /// Exec child → parent: put me in the container's (frozen) cgroups now;
    /// answered with `Go`.
    JoinCgroups,
    /// Init → parent: set-up complete, waiting for `start`.
    Ready,
    /// Init → parent: set-up failed.
    Error {
        /// What went wrong.
        message: String,
        /// Its kind.
        kind: crate::error::FailureKind,
    },
}

/// One end of the channel.
pub struct Channel {
    fd: OwnedFd,
}

/// Makes a connected pair (parent end, child end), both close-on-exec.
pub fn pair() -> std::io::Result<(Channel, Channel)> {
    let (a, b) = socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

impl Channel {
    /// Sends one message.
    pub fn send(&self, msg: &Message) -> std::io::Result<()> {
        let data = serde_json::to_vec(msg).map_err(std::io::Error::other)?;
        nix::unistd::write(&self.fd, &data)?;
        Ok(())
    }

    /// Receives one message; `None` when the other end closed.
    pub fn recv(&self) -> std::io::Result<Option<Message>> {
        let mut buf = vec![0u8; 64 * 1024];
        let n = loop {
            match nix::unistd::read(self.fd.as_raw_fd(), &mut buf) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => break other?,
            }
        };
        if n == 0 {
            return Ok(None);
        }
        serde_json::from_slice(&buf[..n]).map(Some).map_err(std::io::Error::other)
    }
}

impl Channel {
    /// Sends one message with a descriptor attached (SCM_RIGHTS).
    pub fn send_with_fd(&self, msg: &Message, fd: std::os::fd::RawFd) -> std::io::Result<()> {
        let data = serde_json::to_vec(msg).map_err(std::io::Error::other)?;
        send_fd(self.fd.as_raw_fd(), &data, fd)
    }

    /// Receives one message and the descriptor sent with it, if any.
    pub fn recv_with_fd(&self) -> std::io::Result<Option<(Message, Option<OwnedFd>)>> {
        use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
        use std::os::fd::FromRawFd;
        let mut buf = vec![0u8; 64 * 1024];
        let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let (n, fd) = {
            let mut iov = [std::io::IoSliceMut::new(&mut buf)];
            let msg = loop {
                match recvmsg::<()>(self.fd.as_raw_fd(), &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC) {
                    Err(nix::errno::Errno::EINTR) => continue,
                    other => break other?,
                }
            };
            let mut fd = None;
            for c in msg.cmsgs()? {
                if let ControlMessageOwned::ScmRights(fds) = c {
                    // SAFETY: the kernel just installed these descriptors for us.
                    fd = fds.first().map(|f| unsafe { OwnedFd::from_raw_fd(*f) });
                }
            }
            (msg.bytes, fd)
        };
        if n == 0 {
            return Ok(None);
        }
        let msg = serde_json::from_slice(&buf[..n]).map_err(std::io::Error::other)?;
        Ok(Some((msg, fd)))
    }
}

/// sendmsg(2) of `data` with one descriptor in SCM_RIGHTS.
pub fn send_fd(sock: std::os::fd::RawFd, data: &[u8], fd: std::os::fd::RawFd) -> std::io::Result<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let iov = [std::io::IoSlice::new(data)];
    let fds = [fd];
    let cmsg = [ControlMessage::ScmRights(&fds)];
    sendmsg::<()>(sock, &iov, &cmsg, MsgFlags::empty(), None)?;
    Ok(())
}
