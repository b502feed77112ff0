//! The body of a package download: the payload's chunks, cut and paced as the download plan says,
//! reporting its progress to the log entry of its request.
//!
//! How each `download` fault reaches the client (headers always carry the full Content-Length):
//! - `truncate_at: N`: exactly N body bytes, then the server closes the connection normally (FIN):
//!   the client reads end-of-file before Content-Length is reached ("incomplete body").
//! - `reset_at: N`: exactly N body bytes (the server waits until the kernel has delivered them,
//!   at most 2 s), then the connection is aborted with SO_LINGER 0: a TCP RST, so the client's next
//!   read fails with ECONNRESET ("connection reset by peer").
//! - `stall_at: N, stall_ms: M`: N bytes, a pause of M ms with nothing sent, then the rest. A client
//!   that gives up and closes during the pause ends the body at once.
//! - `drip: {chunk, interval_ms}`: the whole body in pieces of `chunk` bytes, `interval_ms` apart.
//!
//! A cut at or past the payload's length does nothing (the body is complete).
//!
//! The bytes come from the generated payload, or (`payload.file`) from a file read in chunks of
//! [`CHUNK_SIZE`] as the body goes: the faults above apply to the file's bytes alike.
//!
//! The log entry's `body_bytes_sent` counts bytes handed to the connection: at an injected fault
//! these are exactly the bytes written to the socket; when the client disconnects on its own it may
//! have read fewer. `body_complete` turns true when the last byte is handed over.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use tokio::io::AsyncReadExt;

use crate::conn::ConnShared;
use crate::faults::DownloadPlan;
use crate::log::EntryRef;
use crate::payload::{Payload, PayloadStream, CHUNK_SIZE};
use crate::state::App;

/// What a package download sends.
pub enum PackageBody {
    /// The generated ClickHouse-like package.
    Generated(Payload),
    /// `payload.file`: the file's bytes as they are, `len` of them (its length when opened).
    File { file: std::fs::File, len: u64 },
}

impl PackageBody {
    /// Opens `payload.file` for one download.
    pub fn open_file(path: &Path) -> io::Result<PackageBody> {
        let file = std::fs::File::open(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        Ok(PackageBody::File { file, len: meta.len() })
    }

    /// Exact length of the body (the Content-Length).
    pub fn len(&self) -> u64 {
        match self {
            PackageBody::Generated(p) => p.len(),
            PackageBody::File { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn chunks(self) -> Chunks {
        match self {
            PackageBody::Generated(p) => Chunks::Generated(Box::new(p.stream())),
            PackageBody::File { file, len } => Chunks::File { file: tokio::fs::File::from_std(file), left: len },
        }
    }
}

/// The body's bytes, one chunk at a time: never more than one chunk in memory.
enum Chunks {
    Generated(Box<PayloadStream>),
    File { file: tokio::fs::File, left: u64 },
}

impl Chunks {
    async fn next(&mut self) -> io::Result<Bytes> {
        match self {
            Chunks::Generated(s) => {
                s.next().ok_or_else(|| io::Error::other("mock-mes: payload ended before its length"))
            }
            Chunks::File { file, left } => {
                let want = (*left).min(CHUNK_SIZE as u64) as usize;
                let mut buf = BytesMut::zeroed(want);
                let n = file.read(&mut buf).await?;
                if n == 0 && want > 0 {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("mock-mes: payload.file shrank while being served ({left} bytes missing)"),
                    ));
                }
                buf.truncate(n);
                *left -= n as u64;
                Ok(buf.freeze())
            }
        }
    }
}

/// How long a reset waits for the kernel to deliver the bytes before it.
const DRAIN_LIMIT: Duration = Duration::from_secs(2);

pub struct DownloadBody {
    app: Arc<App>,
    entry: EntryRef,
    conn: Option<Arc<ConnShared>>,
    chunks: Chunks,
    pending: Bytes,
    total: u64,
    sent: u64,
    plan: DownloadPlan,
    stalled: bool,
    finished: bool,
}

impl DownloadBody {
    pub fn new(
        app: Arc<App>,
        entry: EntryRef,
        conn: Option<Arc<ConnShared>>,
        package: PackageBody,
        plan: DownloadPlan,
    ) -> DownloadBody {
        let total = package.len();
        DownloadBody {
            app,
            entry,
            conn,
            chunks: package.chunks(),
            pending: Bytes::new(),
            total,
            sent: 0,
            plan,
            stalled: false,
            finished: false,
        }
    }

    pub fn into_body(self) -> Body {
        Body::from_stream(futures::stream::unfold(self, |mut body| async move {
            let item = body.next().await?;
            Some((item, body))
        }))
    }

    async fn next(&mut self) -> Option<io::Result<Bytes>> {
        if self.finished {
            return None;
        }
        if let Some((at, pause)) = self.plan.stall {
            if !self.stalled && self.sent >= at.min(self.total) {
                self.stalled = true;
                self.flushed().await;
                if !self.pause(pause).await {
                    return Some(self.client_left());
                }
            }
        }
        if let Some((at, reset)) = self.plan.cut() {
            if at < self.total && self.sent >= at {
                return Some(self.cut(reset).await);
            }
        }
        if self.sent >= self.total {
            self.finish(true);
            return None;
        }
        if let Some((_, interval)) = self.plan.drip {
            if self.sent > 0 && !self.pause(interval).await {
                return Some(self.client_left());
            }
        }
        if self.pending.is_empty() {
            match self.chunks.next().await {
                Ok(chunk) => self.pending = chunk,
                Err(e) => {
                    // Ends the body early: the client sees an incomplete body.
                    self.finish(false);
                    return Some(Err(e));
                }
            }
        }
        let mut n = self.pending.len() as u64;
        if let Some((at, _)) = self.plan.stall {
            if !self.stalled && at > self.sent {
                n = n.min(at - self.sent);
            }
        }
        if let Some((at, _)) = self.plan.cut() {
            if at > self.sent {
                n = n.min(at - self.sent);
            }
        }
        if let Some((chunk, _)) = self.plan.drip {
            n = n.min(chunk);
        }
        let piece = self.pending.split_to(n as usize);
        self.sent += n;
        if self.sent == self.total {
            self.finish(true);
        } else {
            self.app.update_entry(self.entry, self.sent, false);
        }
        Some(Ok(piece))
    }

    /// Ends the body with an error after the bytes so far, which makes hyper drop the connection.
    async fn cut(&mut self, reset: bool) -> io::Result<Bytes> {
        self.flushed().await;
        if let Some(conn) = &self.conn {
            if reset {
                conn.drained(DRAIN_LIMIT).await;
                conn.reset_on_close();
            }
        }
        self.finish(false);
        let (kind, what) = if reset {
            (io::ErrorKind::ConnectionReset, "reset_at")
        } else {
            (io::ErrorKind::UnexpectedEof, "truncate_at")
        };
        Err(io::Error::new(kind, format!("mock-mes: injected {what} after {} bytes", self.sent)))
    }

    fn client_left(&mut self) -> io::Result<Bytes> {
        self.finish(false);
        Err(io::Error::new(io::ErrorKind::BrokenPipe, "mock-mes: the client closed the connection"))
    }

    async fn flushed(&self) {
        if let Some(conn) = &self.conn {
            conn.flushed().await;
        }
    }

    /// Sleeps `d`; false if the client closed the connection meanwhile.
    async fn pause(&self, d: Duration) -> bool {
        match &self.conn {
            Some(conn) => tokio::select! {
                _ = tokio::time::sleep(d) => !conn.peer_closed(),
                _ = conn.closed_by_peer() => false,
            },
            None => {
                tokio::time::sleep(d).await;
                true
            }
        }
    }

    fn finish(&mut self, complete: bool) {
        if !self.finished {
            self.finished = true;
            self.app.update_entry(self.entry, self.sent, complete);
        }
    }
}

impl Drop for DownloadBody {
    /// The stream was dropped before its end: the client went away or the connection failed.
    fn drop(&mut self) {
        self.finish(false);
    }
}
