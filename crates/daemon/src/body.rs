//! Response bodies: whole, or streamed from a channel (logs, events, pull
//! progress, wait), so headers go out at once.

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame};
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// The daemon's response body.
pub enum Body {
    /// All of it.
    Full(Option<Bytes>),
    /// Chunks as they come; ends when every sender is gone. Its signal
    /// fires when hyper drops the body (the stream ended, or the client
    /// went away): a follower feeding it then ends even if nothing comes.
    Stream(mpsc::Receiver<Bytes>, Option<hull_engine::cancel::Cancel>),
}

impl Drop for Body {
    fn drop(&mut self) {
        if let Body::Stream(_, Some(c)) = self {
            c.trigger();
        }
    }
}

impl Body {
    pub fn empty() -> Body {
        Body::Full(None)
    }

    pub fn full(b: impl Into<Bytes>) -> Body {
        Body::Full(Some(b.into()))
    }

    /// A streamed body and the sender that feeds it.
    pub fn channel() -> (mpsc::Sender<Bytes>, Body) {
        let (tx, rx) = mpsc::channel(64);
        (tx, Body::Stream(rx, None))
    }

    /// [`Body::channel`] whose drop triggers `cancel`.
    pub fn cancelling(cancel: Option<hull_engine::cancel::Cancel>) -> (mpsc::Sender<Bytes>, Body) {
        let (tx, rx) = mpsc::channel(64);
        (tx, Body::Stream(rx, cancel))
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Stream(rx, _) => rx.poll_recv(cx).map(|c| c.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        matches!(self, Body::Full(None))
    }
}

/// docker's stdcopy header for a chunk of `stream` (1 stdout, 2 stderr).
pub fn stdcopy(stream: u8, data: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(8 + data.len());
    out.extend_from_slice(&[stream, 0, 0, 0]);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
    Bytes::from(out)
}

/// A request body read on a blocking thread (never on the runtime's).
pub struct BodyReader {
    rx: mpsc::Receiver<std::io::Result<Bytes>>,
    chunk: Bytes,
}

impl BodyReader {
    pub fn new(rx: mpsc::Receiver<std::io::Result<Bytes>>) -> BodyReader {
        BodyReader { rx, chunk: Bytes::new() }
    }
}

impl BodyReader {
    /// Reads the rest (up to 256 MiB) and drops it: a refusal part way is
    /// then heard by a client still sending, instead of breaking its pipe.
    pub fn drain(&mut self) {
        let _ = std::io::copy(&mut std::io::Read::take(&mut *self, 256 << 20), &mut std::io::sink());
    }
}

impl std::io::Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(c)) => self.chunk = c,
                Some(Err(e)) => return Err(e),
                // Every frame is in: the end.
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

/// A response body written on a blocking thread (an engine call that
/// writes a stream), in chunks of up to 64 KiB.
pub struct BodyWriter {
    tx: mpsc::Sender<Bytes>,
    buf: Vec<u8>,
}

impl BodyWriter {
    pub fn new(tx: mpsc::Sender<Bytes>) -> BodyWriter {
        BodyWriter { tx, buf: Vec::with_capacity(64 * 1024) }
    }
}

impl std::io::Write for BodyWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(64 * 1024)));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Drop for BodyWriter {
    fn drop(&mut self) {
        let _ = std::io::Write::flush(self);
    }
}

/// A new signal for a follower to end by (see [`Body::cancelling`]).
pub fn cancel() -> crate::error::ApiResult<hull_engine::cancel::Cancel> {
    hull_engine::cancel::Cancel::new()
        .map_err(|e| crate::error::ApiError::new(hyper::StatusCode::INTERNAL_SERVER_ERROR, format!("eventfd: {e}")))
}
