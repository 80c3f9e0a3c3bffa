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
    /// Init → parent: set-up complete, waiting for `start`.
    Ready,
    /// Init → parent: set-up failed.
    Error(String),
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
