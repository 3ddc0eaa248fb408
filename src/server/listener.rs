//! The accept loop: TLS handshakes, the connection cap, one task per connection, and the
//! graceful shutdown that lets in-flight requests finish.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn, Instrument};

use super::{ClientIdentity, Connection, FrameError, FrameLimits, HandlerOutcome, PeerInfo, RequestHandler};
use super::tls::{self, TlsSetupError};
use crate::config::{Config, Limits};

/// How long to pause accepting after an accept error (typically out of file descriptors), so
/// the loop doesn't spin while the condition lasts.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);

/// Why the server could not start or stopped abnormally.
#[derive(Debug, Error)]
pub enum ServerError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The bound socket's address could not be read.
    #[error("cannot read the listening address: {0}")]
    LocalAddr(#[source] io::Error),
    /// The TLS certificate, key or client CA could not be loaded.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
}

/// A KMIP server: a bound TCP listener, its TLS configuration, limits and request handler.
pub struct Server<H> {
    listener: TcpListener,
    local_addr: SocketAddr,
    shared: Arc<Shared<H>>,
}

/// What every connection task needs.
struct Shared<H> {
    acceptor: TlsAcceptor,
    limits: Limits,
    handler: Arc<H>,
}

impl<H: RequestHandler> Server<H> {
    /// Loads the TLS files named by `config.tls` and binds `config.listen`, with
    /// `config.limits`: everything `kmipd serve` needs from its configuration.
    pub async fn from_config(config: &Config, handler: Arc<H>) -> Result<Server<H>, ServerError> {
        let tls = tls::server_config(&config.tls)?;
        Server::bind(config.listen, tls, config.limits.clone(), handler).await
    }

    /// Binds `addr` (port 0 picks a free port; see [`Server::local_addr`]).
    pub async fn bind(
        addr: SocketAddr,
        tls: Arc<rustls::ServerConfig>,
        limits: Limits,
        handler: Arc<H>,
    ) -> Result<Server<H>, ServerError> {
        let listener = TcpListener::bind(addr).await.map_err(|source| ServerError::Bind { addr, source })?;
        Server::from_listener(listener, tls, limits, handler)
    }

    /// Uses an already bound listener (for socket activation or tests).
    pub fn from_listener(
        listener: TcpListener,
        tls: Arc<rustls::ServerConfig>,
        limits: Limits,
        handler: Arc<H>,
    ) -> Result<Server<H>, ServerError> {
        let local_addr = listener.local_addr().map_err(ServerError::LocalAddr)?;
        let shared = Arc::new(Shared { acceptor: TlsAcceptor::from(tls), limits, handler });
        Ok(Server { listener, local_addr, shared })
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` is cancelled, then stops accepting, lets each connection finish
    /// the request it is handling (idle connections close at once), and returns when all are
    /// closed or after `limits.shutdown_timeout`, whichever comes first.
    pub async fn run(self, shutdown: CancellationToken) {
        let Server { listener, local_addr, shared } = self;
        let slots = Arc::new(Semaphore::new(shared.limits.max_connections));
        let mut connections = JoinSet::new();
        let mut next_id: u64 = 0;
        let mut over_cap = OverCapLog::default();
        info!(%local_addr, max_connections = shared.limits.max_connections, "listening");

        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                Some(joined) = connections.join_next(), if !connections.is_empty() => {
                    if let Err(e) = joined {
                        warn!(error = %e, "connection task failed");
                    }
                }
                accepted = listener.accept() => {
                    let (tcp, addr) = match accepted {
                        Ok(pair) => pair,
                        Err(e) => {
                            warn!(error = %e, "accept failed");
                            tokio::time::sleep(ACCEPT_ERROR_BACKOFF).await;
                            continue;
                        }
                    };
                    let Ok(slot) = slots.clone().try_acquire_owned() else {
                        // Dropping the socket closes it now: a client over the cap learns at
                        // once instead of hanging in a queue.
                        over_cap.refused(addr);
                        continue;
                    };
                    next_id += 1;
                    let span = tracing::info_span!("connection", id = next_id, peer = %addr);
                    let task = serve_connection(shared.clone(), tcp, addr, next_id, slot, shutdown.clone());
                    connections.spawn(task.instrument(span));
                }
            }
        }

        drop(listener);
        let open = connections.len();
        info!(open, "shutting down: no new connections, finishing in-flight requests");
        let drain = async { while connections.join_next().await.is_some() {} };
        if timeout(shared.limits.shutdown_timeout, drain).await.is_err() {
            warn!(remaining = connections.len(), "shutdown timeout reached; dropping remaining connections");
            connections.abort_all();
            while connections.join_next().await.is_some() {}
        }
        info!("server stopped");
    }
}

/// Warnings about connections refused at the cap, at most one a second so that a flood of
/// connections cannot flood the log too.
#[derive(Default)]
struct OverCapLog {
    last_warning: Option<Instant>,
    refused_since: u64,
}

impl OverCapLog {
    const INTERVAL: Duration = Duration::from_secs(1);

    fn refused(&mut self, peer: SocketAddr) {
        self.refused_since += 1;
        if self.last_warning.is_none_or(|at| at.elapsed() >= Self::INTERVAL) {
            warn!(%peer, refused = self.refused_since, "connection limit reached; closing new connections");
            self.last_warning = Some(Instant::now());
            self.refused_since = 0;
        }
    }
}

/// One client connection, from TLS handshake to close. Holds its connection slot until done.
async fn serve_connection<H: RequestHandler>(
    shared: Arc<Shared<H>>,
    tcp: TcpStream,
    addr: SocketAddr,
    connection_id: u64,
    _slot: OwnedSemaphorePermit,
    shutdown: CancellationToken,
) {
    let limits = &shared.limits;
    // KMIP is request/response with small messages: don't let Nagle delay responses.
    if let Err(e) = tcp.set_nodelay(true) {
        debug!(error = %e, "cannot set TCP_NODELAY");
    }
    let tls = match timeout(limits.read_timeout, shared.acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            info!(error = %e, "TLS handshake failed");
            return;
        }
        Err(_) => {
            info!(timeout = ?limits.read_timeout, "TLS handshake timed out");
            return;
        }
    };

    let (_, session) = tls.get_ref();
    let identity = match session.peer_certificates().and_then(|chain| chain.first()) {
        Some(cert) => ClientIdentity::from_certificate_der(cert),
        None => Err(super::IdentityError::NoCertificate),
    };
    let identity = match identity {
        Ok(identity) => identity,
        Err(e) => {
            warn!(error = %e, "client identity unavailable; closing");
            return;
        }
    };
    info!(
        client = %identity.subject,
        fingerprint = %identity.fingerprint_hex(),
        tls_version = ?session.protocol_version(),
        cipher_suite = ?session.negotiated_cipher_suite().map(|s| s.suite()),
        "client connected"
    );
    let peer = PeerInfo { connection_id, addr, identity: Arc::new(identity) };
    let mut connection = Connection::new(tls, FrameLimits::from(limits));

    let reason = serve_requests(&shared, &peer, &mut connection, &shutdown).await;
    connection.shutdown().await;
    info!(reason, "connection closed");
}

/// The request loop; returns why it ended.
async fn serve_requests<H: RequestHandler, S>(
    shared: &Shared<H>,
    peer: &PeerInfo,
    connection: &mut Connection<S>,
    shutdown: &CancellationToken,
) -> &'static str
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    loop {
        // Between requests, shutdown wins; once a request has started it is finished.
        let started = tokio::select! {
            biased;
            () = shutdown.cancelled() => return "server shutting down",
            started = connection.wait_for_message() => started,
        };
        let request = match started {
            Ok(true) => connection.read_frame().await,
            Ok(false) => return "closed by client",
            Err(e) => Err(e),
        };
        let request = match request {
            Ok(Some(request)) => request,
            Ok(None) => return "closed by client",
            Err(e) => return frame_error_reason(&e),
        };

        let received = Instant::now();
        let size = request.len();
        let outcome = match timeout(shared.limits.request_timeout, shared.handler.handle(peer, request)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                warn!(timeout = ?shared.limits.request_timeout, "request timed out");
                return "request timed out";
            }
        };
        match outcome {
            HandlerOutcome::Respond(response) => {
                let elapsed = received.elapsed();
                debug!(request_bytes = size, response_bytes = response.len(), ?elapsed, "request served");
                if let Err(e) = connection.write_frame(&response).await {
                    return frame_error_reason(&e);
                }
            }
            HandlerOutcome::Close => return "unreadable request",
        }
    }
}

/// Logs a framing error at a level that fits its cause and names it for the close log line.
fn frame_error_reason(error: &FrameError) -> &'static str {
    match error {
        FrameError::Idle(_) => {
            debug!(%error, "idle timeout");
            "idle timeout"
        }
        FrameError::Io(_) | FrameError::Truncated => {
            info!(%error, "transport error");
            "transport error"
        }
        FrameError::ReadTimeout(_) | FrameError::WriteTimeout(_) => {
            warn!(%error, "slow peer");
            "slow peer"
        }
        FrameError::TooLarge { .. } | FrameError::NotStructure(_) | FrameError::BadHeader(_) => {
            warn!(%error, "bad message framing");
            "bad message framing"
        }
    }
}
