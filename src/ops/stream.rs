//! Multi-part cryptographic operations (KMIP 1.3+ Init Indicator, Correlation Value, Final
//! Indicator): the server keeps each stream between requests under a random Correlation
//! Value, bound to the client identity, the operation and the key that started it. A value
//! that is unknown, finished, expired or another client's answers Invalid Correlation Value
//! (Item Not Found in 1.x).
//!
//! Ciphers stream through the HSM (`C_EncryptUpdate`…), each holding one pooled session, so
//! few may be open at once ([`MAX_CIPHER_STREAMS`]); signatures, MACs and hashes gather their
//! data in zeroized memory (at most [`MAX_GATHERED_BYTES`]) and compute at the final part.
//! Streams idle for [`IDLE`] are dropped, which returns their session.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::hsm::{CipherStream, Direction};
use crate::kmip::enums::Operation;
use crate::kmip::objects::CryptographicParameters;

use super::cipher::{self, Plan};
use super::crypto::hsm_failure;
use super::{OpContext, OpError};

/// Cipher streams open at once, server-wide: each holds an HSM session.
pub const MAX_CIPHER_STREAMS: usize = 4;
/// Streams of any kind open at once, server-wide.
pub const MAX_STREAMS: usize = 64;
/// Data one gathering stream may hold.
pub const MAX_GATHERED_BYTES: usize = 64 * 1024 * 1024;
/// How long a stream may wait for its next part.
pub const IDLE: Duration = Duration::from_secs(300);

/// Where a request stands in a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Step<'a> {
    /// A single-part request.
    Single,
    /// Init Indicator: starts a stream.
    Begin,
    /// A middle part of the stream named.
    Continue(&'a [u8]),
    /// Final Indicator: the last part of the stream named.
    End(&'a [u8]),
}

/// The step a request's indicators describe.
pub(super) fn step<'a>(init: Option<bool>, last: Option<bool>, correlation: Option<&'a [u8]>) -> Result<Step<'a>, OpError> {
    match (init == Some(true), last == Some(true), correlation) {
        (true, _, Some(_)) => Err(OpError::InvalidField("Init Indicator with a Correlation Value".into())),
        (true, false, None) => Ok(Step::Begin),
        (_, _, None) => Ok(Step::Single),
        (false, false, Some(c)) => Ok(Step::Continue(c)),
        (false, true, Some(c)) => Ok(Step::End(c)),
    }
}

/// What a stream carries between requests.
pub(super) enum Part {
    /// A cipher running in the HSM.
    Cipher {
        stream: Box<dyn CipherStream>,
        plan: Plan,
        /// Bytes fed so far (for the padding added at the end).
        fed: usize,
        /// Decrypted bytes held back until the end, where the padding is removed.
        held: Zeroizing<Vec<u8>>,
    },
    /// Data gathered for a signature, MAC or hash, with the parameters of the first part.
    Gathered { data: Zeroizing<Vec<u8>>, params: Option<CryptographicParameters> },
}

/// One open stream.
pub(super) struct Entry {
    owner: String,
    operation: Operation,
    /// The key it uses (none for Hash).
    pub uid: Option<String>,
    pub part: Part,
    touched: Instant,
}

impl Entry {
    pub fn new(owner: &str, operation: Operation, uid: Option<String>, part: Part) -> Entry {
        Entry { owner: owner.to_owned(), operation, uid, part, touched: Instant::now() }
    }

    /// Adds `data` to a gathering stream.
    pub fn gather(&mut self, data: &[u8]) -> Result<(), OpError> {
        match &mut self.part {
            Part::Gathered { data: all, .. } => {
                if all.len().saturating_add(data.len()) > MAX_GATHERED_BYTES {
                    return Err(OpError::ServerLimitExceeded(format!(
                        "a stream holds at most {MAX_GATHERED_BYTES} bytes"
                    )));
                }
                all.extend_from_slice(data);
                Ok(())
            }
            Part::Cipher { .. } => Err(OpError::Internal("a cipher stream can't gather".into())),
        }
    }
}

impl Entry {
    /// Runs one part of a cipher stream. At the last part (`last` is `Some`, with the AES-GCM
    /// tag to check when decrypting) it adds or removes the padding and finishes; otherwise
    /// the entry comes back to be put back.
    pub fn cipher_part(
        mut self,
        direction: Direction,
        data: &[u8],
        last: Option<Option<&[u8]>>,
    ) -> Result<(Zeroizing<Vec<u8>>, Option<Entry>), OpError> {
        let Part::Cipher { stream, plan, fed, held } = &mut self.part else {
            return Err(OpError::Internal("not a cipher stream".into()));
        };
        let unpad_here = plan.pad_here && direction == Direction::Decrypt;
        let mut out = std::mem::take(held);
        out.extend_from_slice(&stream.update(data).map_err(hsm_failure)?);
        *fed = fed.saturating_add(data.len());
        let Some(tag) = last else {
            if unpad_here {
                // The last block carries the padding: keep it until the end.
                let keep = out.len().saturating_sub(16);
                held.extend_from_slice(out.get(keep..).unwrap_or_default());
                out.truncate(keep);
            }
            return Ok((out, Some(self)));
        };
        if plan.pad_here && direction == Direction::Encrypt {
            out.extend_from_slice(&stream.update(&cipher::padding(*fed)).map_err(hsm_failure)?);
        }
        if let Some(tag) = tag {
            out.extend_from_slice(&stream.update(tag).map_err(hsm_failure)?);
        }
        let Part::Cipher { stream, .. } = self.part else {
            return Err(OpError::Internal("not a cipher stream".into()));
        };
        out.extend_from_slice(&stream.finish().map_err(hsm_failure)?);
        Ok((if unpad_here { cipher::unpad(out)? } else { out }, None))
    }
}

/// The open streams of a server.
#[derive(Default)]
pub struct Streams {
    open: Mutex<HashMap<Vec<u8>, Entry>>,
}

impl Streams {
    /// Registers a new stream under `correlation` (fresh random bytes).
    pub(super) fn begin(&self, correlation: Vec<u8>, entry: Entry) -> Result<(), OpError> {
        let mut open = self.lock()?;
        // Idle streams go first; dropping one ends its HSM operation and frees its session.
        open.retain(|_, e| e.touched.elapsed() < IDLE);
        let ciphers = open.values().filter(|e| matches!(e.part, Part::Cipher { .. })).count();
        if open.len() >= MAX_STREAMS
            || (matches!(entry.part, Part::Cipher { .. }) && ciphers >= MAX_CIPHER_STREAMS)
        {
            return Err(OpError::ServerLimitExceeded("too many multi-part operations in progress".into()));
        }
        open.insert(correlation, entry);
        Ok(())
    }

    /// Takes the stream `correlation` of `owner` for `operation` out while a part runs.
    pub(super) fn take(&self, owner: &str, operation: Operation, correlation: &[u8]) -> Result<Entry, OpError> {
        let mut open = self.lock()?;
        let fits = open
            .get(correlation)
            .is_some_and(|e| e.owner == owner && e.operation == operation && e.touched.elapsed() < IDLE);
        match fits.then(|| open.remove(correlation)).flatten() {
            Some(entry) => Ok(entry),
            None => Err(OpError::UnknownCorrelationValue(format!("no open {operation:?} stream with it"))),
        }
    }

    /// Puts a stream back after a middle part.
    pub(super) fn put_back(&self, correlation: &[u8], mut entry: Entry) -> Result<(), OpError> {
        entry.touched = Instant::now();
        self.lock()?.insert(correlation.to_vec(), entry);
        Ok(())
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, HashMap<Vec<u8>, Entry>>, OpError> {
        self.open.lock().map_err(|_| OpError::Internal("stream table poisoned".into()))
    }
}

/// A fresh Correlation Value from the HSM's generator.
pub(super) fn correlation_value(hsm: &dyn crate::hsm::Hsm) -> Result<Vec<u8>, OpError> {
    Ok(hsm.random(16)?.to_vec())
}

/// What one part of a cipher stream gives back.
pub(super) struct CipherOutput {
    /// The key's UID.
    pub uid: String,
    pub data: Zeroizing<Vec<u8>>,
    /// Set while the stream goes on.
    pub correlation: Option<Vec<u8>>,
    /// The AES-GCM tag length, at the end of an AES-GCM stream.
    pub tag_len: Option<usize>,
}

/// Starts a cipher stream with the key `uid` (already checked) and runs its first part.
pub(super) fn open_cipher(
    cx: &OpContext<'_>,
    hsm: &dyn crate::hsm::Hsm,
    (uid, operation): (String, Operation),
    plan: Plan,
    direction: Direction,
    data: &[u8],
) -> Result<CipherOutput, OpError> {
    let running = hsm.begin_cipher(uid.as_bytes(), &plan.cipher, direction).map_err(hsm_failure)?;
    let part = Part::Cipher { stream: running, plan, fed: 0, held: Zeroizing::default() };
    let entry = Entry::new(&cx.request.client_identity, operation, Some(uid.clone()), part);
    let (data, entry) = entry.cipher_part(direction, data, None)?;
    let correlation = correlation_value(hsm)?;
    if let Some(entry) = entry {
        cx.streams.begin(correlation.clone(), entry)?;
    }
    Ok(CipherOutput { uid, data, correlation: Some(correlation), tag_len: None })
}

/// Runs a middle or last part of the cipher stream `correlation`, after `check(uid)` (the
/// key may have been revoked since the last part); `last` as in [`Entry::cipher_part`].
pub(super) fn continue_cipher(
    cx: &OpContext<'_>,
    (operation, correlation): (Operation, &[u8]),
    direction: Direction,
    data: &[u8],
    last: Option<Option<&[u8]>>,
    check: impl FnOnce(&str) -> Result<(), OpError>,
) -> Result<CipherOutput, OpError> {
    let entry = cx.streams.take(&cx.request.client_identity, operation, correlation)?;
    let uid = entry.uid.clone().unwrap_or_default();
    check(&uid)?;
    let tag_len = match &entry.part {
        Part::Cipher { plan, .. } => plan.tag_len,
        Part::Gathered { .. } => None,
    };
    let (data, entry) = entry.cipher_part(direction, data, last)?;
    match entry {
        Some(entry) => {
            cx.streams.put_back(correlation, entry)?;
            Ok(CipherOutput { uid, data, correlation: Some(correlation.to_vec()), tag_len: None })
        }
        None => Ok(CipherOutput { uid, data, correlation: None, tag_len }),
    }
}

/// Where a gathering operation (sign, verify, MAC, hash) stands after a part.
pub(super) enum Gathered {
    /// The part was kept; answer with this Correlation Value.
    Pending(Vec<u8>),
    /// Everything is here: compute over `data`, with the parameters of the first part unless
    /// the last one gives its own.
    Ready { data: Zeroizing<Vec<u8>>, params: Option<CryptographicParameters> },
}

/// The key UID a gathering request names: its own (or the ID Placeholder) when it starts,
/// the stream's when it continues one.
pub(super) fn gathering_key(
    cx: &OpContext<'_>,
    (operation, step): (Operation, Step<'_>),
    given: Option<&crate::kmip::objects::UniqueIdentifier>,
) -> Result<String, OpError> {
    match step {
        Step::Single | Step::Begin => cx.batch.resolve(given),
        Step::Continue(c) | Step::End(c) => {
            let open = cx.streams.lock()?;
            match open.get(c) {
                Some(e) if e.owner == cx.request.client_identity && e.operation == operation => {
                    Ok(e.uid.clone().unwrap_or_default())
                }
                _ => Err(OpError::UnknownCorrelationValue(format!("no open {operation:?} stream with it"))),
            }
        }
    }
}

/// Runs one part of a gathering operation.
pub(super) fn gather(
    cx: &OpContext<'_>,
    hsm: &dyn crate::hsm::Hsm,
    (operation, step): (Operation, Step<'_>),
    uid: Option<String>,
    params: Option<&CryptographicParameters>,
    data: &[u8],
) -> Result<Gathered, OpError> {
    let owner = &cx.request.client_identity;
    match step {
        Step::Single => Ok(Gathered::Ready { data: Zeroizing::new(data.to_vec()), params: params.cloned() }),
        Step::Begin => {
            let part = Part::Gathered { data: Zeroizing::default(), params: params.cloned() };
            let mut entry = Entry::new(owner, operation, uid, part);
            entry.gather(data)?;
            let correlation = correlation_value(hsm)?;
            cx.streams.begin(correlation.clone(), entry)?;
            Ok(Gathered::Pending(correlation))
        }
        Step::Continue(c) => {
            let mut entry = cx.streams.take(owner, operation, c)?;
            entry.gather(data)?;
            cx.streams.put_back(c, entry)?;
            Ok(Gathered::Pending(c.to_vec()))
        }
        Step::End(c) => {
            let mut entry = cx.streams.take(owner, operation, c)?;
            entry.gather(data)?;
            match entry.part {
                Part::Gathered { data, params: first } => Ok(Gathered::Ready { data, params: params.cloned().or(first) }),
                Part::Cipher { .. } => Err(OpError::Internal("not a gathering stream".into())),
            }
        }
    }
}
