//! The process's `tracing` subscriber: operational logs on standard error (text or JSON) and
//! audit events (target [`AUDIT_TARGET`]) either among them or in their own JSON file.
//!
//! The audit file writer runs on a background thread but is built non-lossy: when its buffer
//! is full, logging callers wait rather than drop audit lines (tracing-appender drops by
//! default).

use std::fs::OpenOptions;
use std::io::IsTerminal;
use std::path::PathBuf;

use thiserror::Error;
use tracing::Level;
use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::filter::{EnvFilter, FilterExt, Targets};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

use crate::audit::AUDIT_TARGET;
use crate::config::{AuditConfig, LogConfig, LogFormat};

/// Why logging could not be set up.
#[derive(Debug, Error)]
pub enum LoggingError {
    /// The level/filter string is not a valid `tracing` filter.
    #[error("invalid log filter: {0}")]
    Filter(String),
    /// The audit log file could not be opened for appending.
    #[error("cannot open the audit log {path}: {source}")]
    AuditFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A global subscriber is already installed.
    #[error("logging already initialized: {0}")]
    AlreadyInitialized(#[from] tracing_subscriber::util::TryInitError),
}

/// Keeps the audit file writer alive; dropping it flushes the remaining audit lines, so hold
/// it until the server has stopped.
#[must_use = "dropping the guard stops the audit writer"]
pub struct LogGuard {
    _audit_writer: Option<WorkerGuard>,
}

/// Installs the global subscriber. `RUST_LOG`, when set, replaces `log.level`. Audit events
/// are never filtered out by the level.
pub fn init(log: &LogConfig, audit: &AuditConfig) -> Result<LogGuard, LoggingError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(directives) if !directives.is_empty() => EnvFilter::try_new(directives),
        _ => EnvFilter::try_new(&log.level),
    }
    .map_err(|e| LoggingError::Filter(e.to_string()))?;
    let audit_only = Targets::new().with_target(AUDIT_TARGET, Level::INFO);

    let (audit_layer, guard) = match &audit.path {
        Some(path) => {
            let mut options = OpenOptions::new();
            options.append(true).create(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o640);
            let file =
                options.open(path).map_err(|source| LoggingError::AuditFile { path: path.clone(), source })?;
            let (writer, guard) = NonBlockingBuilder::default().lossy(false).finish(file);
            let layer = tracing_subscriber::fmt::layer()
                .json()
                .with_writer(writer)
                .with_ansi(false)
                .with_filter(audit_only.clone())
                .boxed();
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };

    // Operational lines: everything the filter lets through; audit events too unless they
    // have a file of their own.
    let to_stderr = audit.path.is_none();
    let operational = filter.and(tracing_subscriber::filter::filter_fn(|m| m.target() != AUDIT_TARGET));
    let operational = operational.or(tracing_subscriber::filter::filter_fn(move |m| {
        to_stderr && m.target() == AUDIT_TARGET
    }));
    let stderr_layer: Box<dyn Layer<Registry> + Send + Sync> = match log.format {
        // Colours only for a person at a terminal, never into journald or a file.
        LogFormat::Text => tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .with_filter(operational)
            .boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .with_filter(operational)
            .boxed(),
    };

    tracing_subscriber::registry().with(stderr_layer).with(audit_layer).try_init()?;
    Ok(LogGuard { _audit_writer: guard })
}
