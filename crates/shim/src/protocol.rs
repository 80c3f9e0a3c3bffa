//! The shim's control socket. A client sends one JSON [`Request`] line.
//! `Attach` and `Wait` are answered by frames until the container is gone
//! for good: a frame is an 8-byte header (kind, three zero bytes, length as
//! u32 big-endian, as docker's stdcopy) and the payload. Other requests get
//! one line back: `ok` or `error: <why>`.

use serde::{Deserialize, Serialize};
use std::io::{Read, Write};

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
    /// Send a signal to the init; `stop` also disables the restart policy
    /// and, after `timeout` seconds, sends SIGKILL.
    Signal {
        /// Signal number.
        signal: i32,
        /// A user stop (or kill): no restart afterwards.
        stop: bool,
        /// Seconds before SIGKILL (stop only; negative: wait forever).
        timeout: Option<i64>,
    },
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
        let line = serde_json::to_string(&Request::Signal { signal: 15, stop: true, timeout: Some(10) }).unwrap();
        assert!(matches!(serde_json::from_str(&line).unwrap(), Request::Signal { signal: 15, .. }));
    }
}
