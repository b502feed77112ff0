//! The accept loop and each connection's socket, wrapped so that a streaming body can:
//! - wait until everything it handed to hyper has been written to the socket (hyper calls the
//!   socket's `poll_flush` only once its own buffer is empty), before injecting a fault;
//! - learn that the client closed its side (a read returned end-of-file or an error);
//! - turn the connection's close into a reset (SO_LINGER 0) and wait for the kernel's send queue
//!   to drain before that, so that a reset comes exactly after the promised bytes.

use std::io;
#[cfg(unix)]
use std::os::fd::{AsRawFd, RawFd};
/// Not Unix (the CLI's demo embeds this server and must build for Windows): the fault injection that
/// needs the socket's descriptor (reset on close, send-queue drain) is Unix only; a placeholder here.
#[cfg(not(unix))]
type RawFd = i32;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify};
use tower_service::Service;

/// What a connection shares with the requests it carries (a request extension).
#[derive(Debug)]
pub struct ConnShared {
    fd: RawFd,
    flushes: AtomicU64,
    peer_closed: AtomicBool,
    reset_on_close: AtomicBool,
    notify: Notify,
}

impl ConnShared {
    fn new(fd: RawFd) -> ConnShared {
        ConnShared {
            fd,
            flushes: AtomicU64::new(0),
            peer_closed: AtomicBool::new(false),
            reset_on_close: AtomicBool::new(false),
            notify: Notify::new(),
        }
    }

    pub fn peer_closed(&self) -> bool {
        self.peer_closed.load(Ordering::SeqCst)
    }

    /// Resolves once hyper has written out everything handed to it so far (or the peer left).
    pub async fn flushed(&self) {
        let start = self.flushes.load(Ordering::SeqCst);
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.flushes.load(Ordering::SeqCst) > start || self.peer_closed() {
                return;
            }
            notified.await;
        }
    }

    /// Resolves when the peer closes its side of the connection.
    pub async fn closed_by_peer(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.peer_closed() {
                return;
            }
            notified.await;
        }
    }

    /// Waits (at most `limit`) until the kernel has no unacknowledged bytes queued for sending.
    pub async fn drained(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while unsent_bytes(self.fd) > 0 && Instant::now() < deadline && !self.peer_closed() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// Makes the coming close of this connection a TCP reset.
    pub fn reset_on_close(&self) {
        self.reset_on_close.store(true, Ordering::SeqCst);
        #[cfg(unix)]
        let linger = libc::linger { l_onoff: 1, l_linger: 0 };
        // SAFETY: the fd belongs to the connection's TcpStream, alive while its requests are.
        #[cfg(unix)]
        unsafe {
            libc::setsockopt(
                self.fd,
                libc::SOL_SOCKET,
                libc::SO_LINGER,
                (&linger as *const libc::linger).cast(),
                std::mem::size_of::<libc::linger>() as libc::socklen_t,
            );
        }
    }

    fn signal(&self) {
        self.notify.notify_waiters();
    }
}

#[cfg(target_os = "linux")]
fn unsent_bytes(fd: RawFd) -> i32 {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (SIOCOUTQ) writes one int.
    let rc = unsafe { libc::ioctl(fd, libc::TIOCOUTQ, &mut n) };
    if rc == 0 {
        n
    } else {
        0
    }
}

#[cfg(not(target_os = "linux"))]
fn unsent_bytes(_fd: RawFd) -> i32 {
    0
}

/// The connection's socket as hyper sees it.
struct ConnIo {
    stream: TcpStream,
    shared: Arc<ConnShared>,
}

impl AsyncRead for ConnIo {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.stream).poll_read(cx, buf);
        let eof = matches!(res, Poll::Ready(Ok(()))) && buf.filled().len() == before && buf.remaining() > 0;
        if eof || matches!(res, Poll::Ready(Err(_))) {
            self.shared.peer_closed.store(true, Ordering::SeqCst);
            self.shared.signal();
        }
        res
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let res = Pin::new(&mut self.stream).poll_flush(cx);
        if res.is_ready() {
            self.shared.flushes.fetch_add(1, Ordering::SeqCst);
            self.shared.signal();
        }
        res
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.shared.reset_on_close.load(Ordering::SeqCst) {
            // A FIN now would turn the reset into a clean end of stream.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Serves `router` on `listener` until `shutdown` turns true; every connection ends then too.
pub async fn serve(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    loop {
        let accepted = tokio::select! {
            _ = wait_true(&mut shutdown) => return,
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of file descriptors or a connection aborted before accept: keep going.
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        #[cfg(unix)]
        let fd = stream.as_raw_fd();
        #[cfg(not(unix))]
        let fd = -1;
        let shared = Arc::new(ConnShared::new(fd));
        let io = TokioIo::new(ConnIo { stream, shared: shared.clone() });
        let router = router.clone();
        let service = service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(shared.clone());
            let mut router = router.clone();
            async move { router.call(req).await }
        });
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let conn = http1::Builder::new().keep_alive(true).serve_connection(io, service);
            tokio::select! {
                _ = conn => {}
                _ = wait_true(&mut conn_shutdown) => {}
            }
        });
    }
}

async fn wait_true(rx: &mut watch::Receiver<bool>) {
    // An error means the sender is gone: the server is being dropped, which stops it too.
    let _ = rx.wait_for(|v| *v).await;
}
