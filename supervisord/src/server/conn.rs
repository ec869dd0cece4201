//! Serving connections with the limits axum's `serve` does not set: a client that connects and
//! says nothing, or sends its request head slowly (slow loris), or an HTTP/2 peer that went
//! away, is closed after a timeout instead of holding a task and a descriptor for ever.
//! Streams in progress (log follows, event subscriptions) are not cut: they are requests.

use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::tls::{self, Tls};

/// How long a new connection may stay silent before its first byte.
pub(super) const FIRST_BYTE: Duration = Duration::from_secs(10);

/// How long an HTTP/1 request head may take to arrive (and an idle keep-alive connection may
/// wait for the next one).
pub(super) const HEAD: Duration = Duration::from_secs(10);

/// HTTP/2: a ping after this much silence, and the connection closed if it is not answered in
/// [`PING_ANSWER`].
const PING_EVERY: Duration = Duration::from_secs(30);
const PING_ANSWER: Duration = Duration::from_secs(20);

/// Something that accepts connections (a unix socket or a TCP port).
pub(super) trait Accept: Send + 'static {
    type Io: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    fn accept(&mut self) -> impl Future<Output = std::io::Result<Self::Io>> + Send;
    /// Waits until the connection has something to read, and returns its first byte.
    fn readable(io: &Self::Io) -> impl Future<Output = std::io::Result<u8>> + Send;
}

/// Waits for a byte to read (or the end): readiness alone can be a false alarm, so a byte is
/// peeked at (and returned: an HTTPS port tells a TLS client from a plain one by it).
macro_rules! first_byte {
    ($io:expr) => {{
        let io = $io;
        let mut b = [0u8; 1];
        loop {
            io.readable().await?;
            let peek = io.try_io(tokio::io::Interest::READABLE, || {
                nix::sys::socket::recv(
                    std::os::fd::AsRawFd::as_raw_fd(io),
                    &mut b,
                    nix::sys::socket::MsgFlags::MSG_PEEK,
                )
                .map_err(std::io::Error::from)
            });
            match peek {
                Ok(0) => break Err(std::io::ErrorKind::UnexpectedEof.into()),
                Ok(_) => break Ok(b[0]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => break Err(e),
            }
        }
    }};
}

impl Accept for tokio::net::UnixListener {
    type Io = tokio::net::UnixStream;
    async fn accept(&mut self) -> std::io::Result<Self::Io> {
        tokio::net::UnixListener::accept(self).await.map(|(s, _)| s)
    }
    async fn readable(io: &Self::Io) -> std::io::Result<u8> {
        first_byte!(io)
    }
}

impl Accept for tokio::net::TcpListener {
    type Io = tokio::net::TcpStream;
    async fn accept(&mut self) -> std::io::Result<Self::Io> {
        let (s, _) = tokio::net::TcpListener::accept(self).await?;
        let _ = s.set_nodelay(true);
        Ok(s)
    }
    async fn readable(io: &Self::Io) -> std::io::Result<u8> {
        first_byte!(io)
    }
}

/// What a listener serves new connections with; a reload may replace it.
#[derive(Clone)]
pub(super) struct Setup {
    pub app: axum::Router,
    /// Over TLS with this certificate.
    pub tls: Option<Arc<Tls>>,
}

/// Serves every connection `listener` accepts with the current `setup`, until `stop` (this
/// listener goes) or `shutdown` (the daemon ends); at `shutdown` each connection finishes its
/// requests in progress (streams end with the daemon's tasks). Connections outlive `stop`.
pub(super) async fn serve<L: Accept>(
    mut listener: L,
    setup: watch::Receiver<Setup>,
    stop: CancellationToken,
    shutdown: CancellationToken,
    connections: TaskTracker,
) {
    loop {
        let io = tokio::select! {
            r = listener.accept() => match r {
                Ok(io) => io,
                Err(e) => {
                    // Out of descriptors, say: wait a little rather than spin.
                    tracing::warn!("can't accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stop.cancelled() => break,
        };
        let Setup { app, tls } = setup.borrow().clone();
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let first = match tokio::time::timeout(FIRST_BYTE, L::readable(&io)).await {
                Ok(Ok(b)) => b,
                // Silent, or gone.
                _ => return,
            };
            match tls {
                None => connection(io, app, shutdown).await,
                Some(tls) => secure(io, first, &tls, app, shutdown).await,
            }
        });
    }
}

/// A connection to an HTTPS port: the handshake (within [`HEAD`], as a request head), then
/// HTTP inside it. A client speaking plain HTTP is told so.
async fn secure<Io>(
    mut io: Io,
    first: u8,
    tls: &Tls,
    app: axum::Router,
    shutdown: CancellationToken,
) where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    if first != tls::HANDSHAKE {
        let _ = tokio::time::timeout(HEAD, async {
            io.write_all(tls::PLAIN_HTTP_ANSWER).await?;
            io.shutdown().await?;
            // Closing with the request unread would reset the connection, and the client
            // might never see the answer: read what it sent (a little, briefly) first.
            let mut sink = [0u8; 4096];
            let mut left: usize = 64 * 1024;
            let drain = async {
                while left > 0 {
                    match io.read(&mut sink).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => left = left.saturating_sub(n),
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
            Ok::<(), std::io::Error>(())
        })
        .await;
        return;
    }
    match tokio::time::timeout(HEAD, tls.acceptor().accept(io)).await {
        Ok(Ok(io)) => connection(io, app, shutdown).await,
        Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
        Err(_) => tracing::debug!("TLS handshake not done within {} s", HEAD.as_secs()),
    }
}

async fn connection<Io>(io: Io, app: axum::Router, shutdown: CancellationToken)
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app);
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(PING_EVERY)
        .keep_alive_timeout(PING_ANSWER);
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(io), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        r = conn.as_mut() => {
            if let Err(e) = r {
                tracing::trace!("connection ended: {e}");
            }
            return;
        }
        () = shutdown.cancelled() => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}
