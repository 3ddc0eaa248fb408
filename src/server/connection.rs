//! KMIP framing over a byte stream: one TTLV Structure per message, its size taken from the
//! 8-byte header and checked against the limit before a single body byte is read or
//! allocated.
//!
//! Messages may carry key material (a Register request, a Get response). A request is read
//! into one buffer of exactly its size that is wiped when dropped (never grown, so no copy is
//! left behind in freed memory); a response is written from the caller's buffer without a copy
//! of its own. What the TLS layer buffers is outside kmipd's reach.

use std::io;
use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;
use zeroize::Zeroizing;

use crate::ttlv::binary::{frame_len, HEADER_LEN};
use crate::ttlv::{DecodeError, ItemType};

/// The bounds a [`Connection`] enforces while reading and writing.
#[derive(Debug, Clone, Copy)]
pub struct FrameLimits {
    /// Largest message accepted, header included.
    pub max_message_bytes: usize,
    /// How long to wait for the first byte of the next message.
    pub idle_timeout: Duration,
    /// How long the rest of a message may take once its first byte arrived; also the bound
    /// on writing a response.
    pub read_timeout: Duration,
}

impl From<&crate::config::Limits> for FrameLimits {
    fn from(limits: &crate::config::Limits) -> Self {
        FrameLimits {
            max_message_bytes: limits.max_message_bytes,
            idle_timeout: limits.idle_timeout,
            read_timeout: limits.read_timeout,
        }
    }
}

/// Why a message could not be read or written. Every variant ends the connection: after a
/// framing error the stream position is unknown.
#[derive(Debug, Error)]
pub enum FrameError {
    /// The transport failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// No message started within the idle timeout.
    #[error("idle for longer than {0:?}")]
    Idle(Duration),
    /// A message started but was not complete within the read timeout (a slow or stalled
    /// sender).
    #[error("message not complete within {0:?}")]
    ReadTimeout(Duration),
    /// The peer did not take a response within the timeout.
    #[error("response not accepted within {0:?}")]
    WriteTimeout(Duration),
    /// The peer closed the stream in the middle of a message.
    #[error("stream closed in the middle of a message")]
    Truncated,
    /// The header announces a message larger than the limit.
    #[error("message of {announced} bytes exceeds the limit of {limit}")]
    TooLarge {
        /// Total size the header announces, header and padding included.
        announced: u64,
        /// The configured maximum.
        limit: usize,
    },
    /// The top-level item is not a Structure, as every KMIP message is.
    #[error("message is not a TTLV Structure (item type byte 0x{0:02X})")]
    NotStructure(u8),
    /// The header itself is malformed.
    #[error("invalid message header: {0}")]
    BadHeader(DecodeError),
}

/// A framed KMIP byte stream (TLS in production, anything in tests).
#[derive(Debug)]
pub struct Connection<S> {
    stream: S,
    /// The header of the message being read; bytes `..header_filled` have arrived.
    header: [u8; HEADER_LEN],
    header_filled: usize,
    limits: FrameLimits,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Connection<S> {
    /// Wraps `stream`.
    pub fn new(stream: S, limits: FrameLimits) -> Self {
        Connection { stream, header: [0; HEADER_LEN], header_filled: 0, limits }
    }

    /// The underlying stream.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// Waits, at most the idle timeout, until the next message starts arriving. Returns
    /// `false` when the peer closed the stream cleanly between messages.
    ///
    /// Cancel-safe: dropping the future loses no data, so it can race a shutdown signal.
    pub async fn wait_for_message(&mut self) -> Result<bool, FrameError> {
        if self.header_filled > 0 {
            return Ok(true);
        }
        let read = timeout(self.limits.idle_timeout, self.stream.read(&mut self.header))
            .await
            .map_err(|_| FrameError::Idle(self.limits.idle_timeout))?;
        match read {
            Ok(read) => {
                self.header_filled = read;
                Ok(read > 0)
            }
            // Many clients close TCP without a TLS close_notify; between messages that is
            // an ordinary goodbye, not a truncation.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads one whole message, or `None` if the peer closed the stream between messages.
    ///
    /// The idle timeout covers the wait for the first byte; from then on the whole message
    /// must arrive within the read timeout, however the sender paces it.
    pub async fn read_frame(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>, FrameError> {
        if !self.wait_for_message().await? {
            return Ok(None);
        }
        let read_timeout = self.limits.read_timeout;
        timeout(read_timeout, self.read_started_frame())
            .await
            .map_err(|_| FrameError::ReadTimeout(read_timeout))?
            .map(Some)
    }

    async fn read_started_frame(&mut self) -> Result<Zeroizing<Vec<u8>>, FrameError> {
        while let Some(rest) = self.header.get_mut(self.header_filled..).filter(|rest| !rest.is_empty()) {
            let read = self.stream.read(rest).await?;
            if read == 0 {
                return Err(FrameError::Truncated);
            }
            self.header_filled += read;
        }
        self.header_filled = 0;

        let type_code = self.header[3];
        if type_code != ItemType::Structure.code() {
            return Err(FrameError::NotStructure(type_code));
        }
        let total = frame_len(&self.header, self.limits.max_message_bytes).map_err(|e| match e {
            DecodeError::TooLarge { length, limit, .. } => FrameError::TooLarge { announced: length, limit },
            other => FrameError::BadHeader(other),
        })?;

        // `total` is within the limit here, so this allocation is bounded by configuration. The
        // buffer is allocated at its final size and filled in place: growing it would free
        // unwiped copies of what was read so far.
        let mut message = Zeroizing::new(vec![0u8; total]);
        let (header, body) = message.split_at_mut(HEADER_LEN.min(total));
        header.copy_from_slice(&self.header[..header.len()]);
        match self.stream.read_exact(body).await {
            Ok(_) => Ok(message),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(FrameError::Truncated),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes one message and flushes it, within the read timeout.
    pub async fn write_frame(&mut self, message: &[u8]) -> Result<(), FrameError> {
        let limit = self.limits.read_timeout;
        timeout(limit, async {
            self.stream.write_all(message).await?;
            self.stream.flush().await
        })
        .await
        .map_err(|_| FrameError::WriteTimeout(limit))?
        .map_err(FrameError::from)
    }

    /// Shuts the stream down (a TLS close_notify, then FIN), giving up after the read timeout.
    pub async fn shutdown(&mut self) {
        // Errors here mean the peer is already gone, which is the goal.
        let _ = timeout(self.limits.read_timeout, self.stream.shutdown()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::duplex;

    fn limits() -> FrameLimits {
        FrameLimits {
            max_message_bytes: 1024,
            idle_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_millis(200),
        }
    }

    /// A Structure holding one Integer (tag 0x420001 is arbitrary here).
    fn message() -> Vec<u8> {
        let mut m = vec![0x42, 0x00, 0x78, 0x01, 0, 0, 0, 16];
        m.extend_from_slice(&[0x42, 0x00, 0x6A, 0x02, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0]);
        m
    }

    #[tokio::test]
    async fn reads_messages_back_to_back() {
        let (mut client, server) = duplex(4096);
        let mut conn = Connection::new(server, limits());
        let mut two = message();
        two.extend(message());
        client.write_all(&two).await.unwrap();
        assert_eq!(*conn.read_frame().await.unwrap().unwrap(), message());
        assert_eq!(*conn.read_frame().await.unwrap().unwrap(), message());
        drop(client);
        assert!(conn.read_frame().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn reads_a_message_delivered_byte_by_byte() {
        let (mut client, server) = duplex(4096);
        let mut conn = Connection::new(server, limits());
        let writer = tokio::spawn(async move {
            for byte in message() {
                client.write_all(&[byte]).await.unwrap();
                tokio::task::yield_now().await;
            }
            client
        });
        let frame = conn.read_frame().await.unwrap().unwrap();
        assert_eq!(*frame, message());
        // Filled in place, never grown: no unwiped earlier buffer was freed on the way.
        assert_eq!(frame.capacity(), frame.len());
        drop(writer.await.unwrap());
    }

    #[tokio::test]
    async fn oversized_header_is_refused_before_reading_on() {
        let (mut client, server) = duplex(4096);
        let mut conn = Connection::new(server, limits());
        client.write_all(&[0x42, 0x00, 0x78, 0x01, 0xFF, 0xFF, 0xFF, 0xF8]).await.unwrap();
        match conn.read_frame().await {
            Err(FrameError::TooLarge { announced, limit: 1024 }) => assert_eq!(announced, 0xFFFF_FFF8 + 8),
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn non_structure_and_unknown_types_are_refused() {
        let (mut client, server) = duplex(4096);
        let mut conn = Connection::new(server, limits());
        client.write_all(&[0x42, 0x00, 0x78, 0x02, 0, 0, 0, 4]).await.unwrap();
        assert!(matches!(conn.read_frame().await, Err(FrameError::NotStructure(2))));
    }

    #[tokio::test]
    async fn stalled_sender_times_out() {
        let (mut client, server) = duplex(4096);
        let mut conn = Connection::new(server, limits());
        client.write_all(&message()[..12]).await.unwrap();
        assert!(matches!(conn.read_frame().await, Err(FrameError::ReadTimeout(_))));
    }

    #[tokio::test]
    async fn truncated_message_is_an_error() {
        let (mut client, server) = duplex(4096);
        let mut conn = Connection::new(server, limits());
        client.write_all(&message()[..12]).await.unwrap();
        drop(client);
        assert!(matches!(conn.read_frame().await, Err(FrameError::Truncated)));
    }

    #[tokio::test]
    async fn idle_connection_times_out() {
        let (_client, server) = duplex(4096);
        let mut conn = Connection::new(server, FrameLimits { idle_timeout: Duration::from_millis(50), ..limits() });
        assert!(matches!(conn.read_frame().await, Err(FrameError::Idle(_))));
    }
}
