//! The network side of kmipd: mutual-TLS listener, client identity, KMIP framing, limits and
//! graceful shutdown. What a request *means* is the business of a [`RequestHandler`].
//!
//! - [`tls`]: the rustls configuration (TLS 1.3 and TLS 1.2 ECDHE-GCM, client cert required).
//! - [`identity`]: [`ClientIdentity`] from the verified client certificate.
//! - [`connection`]: [`Connection`], KMIP framing over any byte stream.
//! - [`listener`]: [`Server`], the accept loop, connection cap, timeouts and shutdown.
//! - [`logging`]: the `tracing` subscriber (text or JSON, plus the audit stream).
//!
//! # Wiring (what `kmipd serve` does)
//!
//! ```no_run
//! use std::sync::Arc;
//! use kmipd::config::Config;
//! use kmipd::server::{logging, shutdown_signal, HandlerOutcome, PeerInfo, RequestHandler, Server};
//! use tokio_util::sync::CancellationToken;
//! use zeroize::Zeroizing;
//!
//! struct Ops; // the operations layer
//! impl RequestHandler for Ops {
//!     async fn handle(&self, _peer: &PeerInfo, request: Zeroizing<Vec<u8>>) -> HandlerOutcome {
//!         HandlerOutcome::Respond(request)
//!     }
//! }
//!
//! # async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::load("/etc/kmipd/kmipd.toml".as_ref())?;
//! let _log_guard = logging::init(&config.log, &config.audit)?; // hold until exit
//! let server = Server::from_config(&config, Arc::new(Ops)).await?;
//! let shutdown = CancellationToken::new();
//! let trigger = shutdown.clone();
//! tokio::spawn(async move {
//!     shutdown_signal().await;
//!     trigger.cancel();
//! });
//! server.run(shutdown).await; // returns once in-flight requests are done
//! # Ok(())
//! # }
//! ```

pub mod connection;
pub mod identity;
pub mod listener;
pub mod logging;
pub mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use zeroize::Zeroizing;

pub use connection::{Connection, FrameError, FrameLimits};
pub use identity::{ClientIdentity, IdentityError};
pub use listener::{Server, ServerError};

/// What the server knows about the client that sent a request.
#[derive(Debug, Clone)]
pub struct PeerInfo {
    /// Process-unique number of the connection, for correlating logs and audit events.
    pub connection_id: u64,
    /// The client's network address.
    pub addr: SocketAddr,
    /// The authenticated identity from the client certificate.
    pub identity: Arc<ClientIdentity>,
}

/// What to do after a request has been handled.
#[derive(Clone, PartialEq, Eq)]
pub enum HandlerOutcome {
    /// Send these bytes (one encoded KMIP response message) and wait for the next request. A
    /// response may carry key material (Get), so it is wiped when dropped (DESIGN.md invariant 1).
    Respond(Zeroizing<Vec<u8>>),
    /// Close the connection without answering: the request was so malformed that no
    /// response header could be salvaged from it.
    Close,
}

impl std::fmt::Debug for HandlerOutcome {
    // The bytes may be key material: only their length is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandlerOutcome::Respond(bytes) => write!(f, "Respond({} bytes)", bytes.len()),
            HandlerOutcome::Close => f.write_str("Close"),
        }
    }
}

/// Turns request messages into response messages; implemented by the operations layer.
///
/// The server calls `handle` once per framed message, in order, one at a time per connection
/// (KMIP responses carry no request identifier outside the message, so they must come back
/// in order). Several connections call it concurrently. The request bytes are one complete
/// TTLV Structure no larger than `limits.max_message_bytes`; they have not been decoded. They
/// may carry key material (Register) and are wiped when dropped.
/// A handler that overruns `limits.request_timeout` is dropped at its next await point and
/// the connection closed, so blocking work must run on blocking threads.
pub trait RequestHandler: Send + Sync + 'static {
    /// Handles one request message from `peer`.
    fn handle(&self, peer: &PeerInfo, request: Zeroizing<Vec<u8>>) -> impl Future<Output = HandlerOutcome> + Send;
}

/// Resolves when the process receives SIGINT (Ctrl-C) or, on Unix, SIGTERM; the usual
/// trigger for cancelling the token given to [`Server::run`]. If the signal handlers cannot
/// be installed it logs why and never resolves for that signal.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("SIGINT received"),
        () = terminate => tracing::info!("SIGTERM received"),
    }
}
