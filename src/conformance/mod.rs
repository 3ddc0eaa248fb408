//! Replay of the OASIS KMIP test cases against a server, comparing every response with the
//! expected one (`kmip-testcases/INDEX.md` §3.4).
//!
//! A test case is a file of alternating request/expected-response messages run in order on
//! one connection. Run-specific values are handled by rule, never by skipping a step:
//!
//! - `$TOKEN`s in an expected response are bound to the actual value the first time they are
//!   seen and must be equal afterwards; requests are parsed only when sent, with the tokens
//!   bound so far substituted (see [`crate::ttlv::xml::Placeholders`]).
//! - `$NOW`, `$NOW±N` are the send time (± N) in requests and, in responses, any time within
//!   [`Replay::tolerance`] of it.
//! - Values the OASIS files hard-code but that differ per server (INDEX.md §3.3) are compared
//!   as [`compare::Rules`] says: result messages and correlation values by type only,
//!   generated key material, digests and random data by length, Query/DiscoverVersions
//!   payloads by shape, GetAttributes-without-names as an unordered subset.

pub mod compare;
pub mod known;
pub mod runner;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use thiserror::Error;

use crate::ttlv::xml::{self, Placeholders, XmlError};
use crate::ttlv::{Tag, Ttlv, Value};

pub use compare::{Mismatch, Rules};

/// Sends one request and returns the server's response.
pub trait Exchange {
    /// Sends `request` and waits for its response.
    fn exchange(&mut self, request: &Ttlv) -> Result<Ttlv, String>;
}

/// Why a test case did not pass.
#[derive(Debug, Error)]
pub enum ReplayError {
    /// The test-case file can't be read.
    #[error("cannot read {path}: {message}")]
    Io { path: String, message: String },
    /// The file is not a valid test case.
    #[error("step {step}: {source}")]
    Xml { step: usize, source: XmlError },
    /// Requests and responses do not alternate.
    #[error("the file does not alternate requests and responses (step {step})")]
    Shape { step: usize },
    /// The transport failed.
    #[error("step {step}: transport: {message}")]
    Transport { step: usize, message: String },
    /// The response differs from the expected one.
    #[error("step {step}: {mismatch}")]
    Mismatch { step: usize, mismatch: Mismatch },
}

/// The state of one test-case replay.
#[derive(Debug, Clone)]
pub struct Replay {
    /// Tokens bound so far.
    pub placeholders: Placeholders,
    /// How far a `$NOW` in a response may be from the send time, in seconds.
    pub tolerance: i64,
    /// Steps completed.
    pub steps: usize,
    /// Unique Identifiers of the keys the server generated (Create, Create Key Pair): what
    /// they encrypt, sign or MAC is compared by length only (the reference run's key differed).
    pub generated: Vec<String>,
    /// Every date-time the requests so far carried (the client's, which the server must echo).
    pub client_times: std::collections::HashSet<i64>,
    /// When the replay started.
    pub started_at: i64,
}

impl Default for Replay {
    fn default() -> Self {
        Replay {
            placeholders: Placeholders::default(),
            tolerance: 120,
            steps: 0,
            generated: Vec::new(),
            client_times: Default::default(),
            started_at: unix_now(),
        }
    }
}

/// Sentinel standing for `$NOW` while reading an expected response: far from any real time,
/// so `$NOW±N` values are recognisable after parsing.
pub const NOW_SENTINEL: i64 = -(1 << 40);

/// Seconds since the epoch.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

impl Replay {
    /// Runs the test case in `text` (the content of `name`) through `transport`.
    pub fn run(&mut self, text: &str, transport: &mut dyn Exchange) -> Result<(), ReplayError> {
        let sources = xml::message_sources(text).map_err(|source| ReplayError::Xml { step: 0, source })?;
        for (step, pair) in sources.chunks(2).enumerate() {
            let [request_src, expected_src] = pair else {
                return Err(ReplayError::Shape { step });
            };
            if !request_src.starts_with("<RequestMessage") || !expected_src.starts_with("<ResponseMessage") {
                return Err(ReplayError::Shape { step });
            }
            let sent_at = unix_now();
            self.placeholders.now = sent_at;
            let request = parse_one(request_src, &self.placeholders).map_err(|source| ReplayError::Xml { step, source })?;
            let mut expected_ph = self.placeholders.clone();
            expected_ph.now = NOW_SENTINEL;
            // Unbound tokens stay recognisable: Text Strings keep the token, Byte Strings its ASCII bytes.
            let expected = parse_one(expected_src, &expected_ph).map_err(|source| ReplayError::Xml { step, source })?;
            let actual = transport.exchange(&request).map_err(|message| ReplayError::Transport { step, message })?;
            let rules = Rules::for_request(&request, &self.generated);
            self.generated.extend(generated_keys(&actual));
            collect_times(&request, &mut self.client_times);
            let mut cmp = compare::Comparison {
                bindings: &mut self.placeholders.bindings,
                sent_at,
                tolerance: self.tolerance,
                rules: &rules,
                server_clock: Some(compare::ServerClock { since: self.started_at, client_times: &self.client_times }),
            };
            cmp.message(&expected, &actual).map_err(|mismatch| ReplayError::Mismatch { step, mismatch })?;
            self.steps = step + 1;
        }
        Ok(())
    }
}

/// Every DateTime (and Date Time Extended, in seconds) in `item`.
fn collect_times(item: &Ttlv, out: &mut std::collections::HashSet<i64>) {
    match &item.value {
        Value::DateTime(t) => {
            out.insert(*t);
        }
        Value::DateTimeExtended(t) => {
            out.insert(t.div_euclid(1_000_000));
        }
        Value::Structure(children) => children.iter().for_each(|c| collect_times(c, out)),
        _ => {}
    }
}

fn parse_one(src: &str, placeholders: &Placeholders) -> Result<Ttlv, XmlError> {
    let mut items = xml::parse_test_case(src, placeholders)?;
    items.pop().ok_or(XmlError::Empty)
}

/// Runs one test-case file.
pub fn run_file(path: &Path, transport: &mut dyn Exchange) -> Result<Replay, ReplayError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ReplayError::Io { path: path.display().to_string(), message: e.to_string() })?;
    let mut replay = Replay::default();
    replay.run(&text, transport)?;
    Ok(replay)
}

/// The Unique Identifiers a response's successful Create / Create Key Pair items return.
fn generated_keys(response: &Ttlv) -> Vec<String> {
    use crate::kmip::enums::{Operation, ResultStatus};
    use crate::kmip::KmipEnum;
    let mut out = Vec::new();
    for item in response.children_with(Tag::BATCH_ITEM) {
        let is = |tag, value: u32| matches!(item.child(tag).map(|o| &o.value), Some(Value::Enumeration(v)) if *v == value);
        let creates = is(Tag::OPERATION, Operation::Create.to_u32()) || is(Tag::OPERATION, Operation::CreateKeyPair.to_u32());
        if !creates || !is(Tag::RESULT_STATUS, ResultStatus::Success.to_u32()) {
            continue;
        }
        let Some(payload) = item.child(Tag::RESPONSE_PAYLOAD) else { continue };
        for tag in [Tag::UNIQUE_IDENTIFIER, Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER, Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER] {
            if let Some(Value::TextString(uid)) = payload.child(tag).map(|i| &i.value) {
                out.push(uid.clone());
            }
        }
    }
    out
}

/// The operation of each batch item of a request, in order.
pub fn operations(request: &Ttlv) -> Vec<u32> {
    request
        .children_with(Tag::BATCH_ITEM)
        .filter_map(|b| match b.child(Tag::OPERATION).map(|o| &o.value) {
            Some(Value::Enumeration(v)) => Some(*v),
            _ => None,
        })
        .collect()
}
