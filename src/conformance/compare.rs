//! Comparison of an actual response with the expected one of a test case.

use std::collections::HashMap;
use std::fmt;

use crate::kmip::enums::Operation;
use crate::kmip::KmipEnum;
use crate::ttlv::{Tag, Ttlv, Value};

use super::NOW_SENTINEL;

/// Where and how a response differs from the expected one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Tag path, e.g. `ResponseMessage/BatchItem[0]/ResultStatus`.
    pub path: String,
    /// What differs.
    pub message: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Per-batch-item comparison rules, derived from the request that was sent.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    items: Vec<ItemRule>,
}

#[derive(Debug, Clone, Copy, Default)]
struct ItemRule {
    /// Payload lists what the reference server supports: compare its shape only.
    shape_only: bool,
    /// GetAttributes naming no attribute: extra attributes and any order are fine.
    unordered_subset: bool,
    /// GetAttributeList: the same names, in any order (KMIP defines none; the reference server's
    /// order changed between its 1.x and 2.x runs).
    unordered_set: bool,
    /// RNGRetrieve: the random Data is compared by length.
    random_data: bool,
    /// Encrypt without an IV: when the expected answer carries the IV the reference server
    /// chose, that IV and the Data it produced are compared by length and bound to
    /// `$IV_COUNTER_NONCE` and the next `$DATA_n` (CS-BC-M-13 writes them as literals in the
    /// answer but as those tokens in the following Decrypt).
    server_iv: bool,
    /// Encrypt, Decrypt or MAC with a key the server generated: Data (MAC Data) by length.
    generated_key: bool,
}

impl Rules {
    /// The rules for the response to `request`.
    pub fn for_request(request: &Ttlv, generated: &[String]) -> Rules {
        let items = request
            .children_with(Tag::BATCH_ITEM)
            .map(|item| {
                let op = match item.child(Tag::OPERATION).map(|o| &o.value) {
                    Some(Value::Enumeration(v)) => Operation::from_u32(*v),
                    _ => None,
                };
                let payload = item.child(Tag::REQUEST_PAYLOAD);
                let names_attributes = payload.is_some_and(|p| {
                    p.child(Tag::ATTRIBUTE_NAME).is_some() || p.child(Tag::ATTRIBUTE_REFERENCE).is_some()
                });
                ItemRule {
                    shape_only: matches!(op, Some(Operation::Query) | Some(Operation::DiscoverVersions)),
                    unordered_subset: op == Some(Operation::GetAttributes) && !names_attributes,
                    unordered_set: op == Some(Operation::GetAttributeList),
                    random_data: op == Some(Operation::RNGRetrieve),
                    server_iv: op == Some(Operation::Encrypt)
                        && payload.is_some_and(|p| p.child(Tag::IV_COUNTER_NONCE).is_none()),
                    generated_key: matches!(op, Some(Operation::Encrypt | Operation::Decrypt | Operation::MAC))
                        && payload.and_then(|p| p.child(Tag::UNIQUE_IDENTIFIER)).is_some_and(|u| {
                            matches!(&u.value, Value::TextString(t) if generated.contains(t))
                        }),
                }
            })
            .collect();
        Rules { items }
    }
}

/// One comparison, binding `$TOKEN`s as it goes.
pub struct Comparison<'a> {
    pub bindings: &'a mut HashMap<String, Value>,
    /// When the request was sent (seconds since the epoch).
    pub sent_at: i64,
    /// Accepted distance from `sent_at (± N)` for `$NOW (± N)`, in seconds.
    pub tolerance: i64,
    pub rules: &'a Rules,
    /// When set, a literal expected time the client never sent is the reference server's own
    /// clock reading (the derived 1.0–1.2 files print them): any actual time from this run is
    /// accepted in its place.
    pub server_clock: Option<ServerClock<'a>>,
}

/// What tells the server's own time stamps from the client's (see [`Comparison::server_clock`]).
#[derive(Debug, Clone, Copy)]
pub struct ServerClock<'a> {
    /// When the replay started (seconds since the epoch).
    pub since: i64,
    /// Every date-time the client sent so far: these must come back exactly.
    pub client_times: &'a std::collections::HashSet<i64>,
}

/// Distance from the sentinel within which an expected date-time was a `$NOW±N`.
const NOW_RANGE: i64 = 1 << 32;

fn name(tag: Tag) -> String {
    format!("{tag}")
}

/// A response header without its Server Correlation Value: the reference runs send one in
/// some files and not in others for the same kind of exchange (INDEX.md §3.3 says ignore it).
fn without_server_correlation(header: &Ttlv) -> Ttlv {
    let children = header.children().iter().filter(|c| c.tag != Tag::SERVER_CORRELATION_VALUE).cloned().collect();
    Ttlv::structure(header.tag, children)
}

fn token_of_bytes(bytes: &[u8]) -> Option<&str> {
    let s = std::str::from_utf8(bytes).ok()?;
    (s.starts_with('$') && s.len() > 1 && s[1..].bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'))
        .then_some(s)
}

impl Comparison<'_> {
    /// Compares a whole ResponseMessage.
    pub fn message(&mut self, expected: &Ttlv, actual: &Ttlv) -> Result<(), Mismatch> {
        let path = name(expected.tag);
        self.same_tag_and_type(expected, actual, &path)?;
        let (e, a) = (expected.children(), actual.children());
        let mut batch = 0;
        let mut ai = 0;
        for child in e {
            let child_path = if child.tag == Tag::BATCH_ITEM {
                format!("{path}/BatchItem[{batch}]")
            } else {
                format!("{path}/{}", name(child.tag))
            };
            let Some(act) = a.get(ai) else {
                return Err(Mismatch { path: child_path, message: "missing".into() });
            };
            if child.tag == Tag::BATCH_ITEM {
                let rule = self.rules.items.get(batch).copied().unwrap_or_default();
                self.batch_item(child, act, &child_path, rule)?;
                batch += 1;
            } else if child.tag == Tag::RESPONSE_HEADER {
                self.item(&without_server_correlation(child), &without_server_correlation(act), &child_path)?;
            } else {
                self.item(child, act, &child_path)?;
            }
            ai += 1;
        }
        if let Some(extra) = a.get(ai) {
            return Err(Mismatch { path: format!("{path}/{}", name(extra.tag)), message: "unexpected item".into() });
        }
        Ok(())
    }

    fn batch_item(&mut self, expected: &Ttlv, actual: &Ttlv, path: &str, rule: ItemRule) -> Result<(), Mismatch> {
        self.same_tag_and_type(expected, actual, path)?;
        let (e, a) = (expected.children(), actual.children());
        if e.len() != a.len() {
            return Err(Mismatch { path: path.into(), message: format!("{} items expected, {} found", e.len(), a.len()) });
        }
        for (x, y) in e.iter().zip(a) {
            let p = format!("{path}/{}", name(x.tag));
            if x.tag == Tag::RESPONSE_PAYLOAD && rule.shape_only {
                self.same_tag_and_type(x, y, &p)?;
            } else if x.tag == Tag::RESPONSE_PAYLOAD && rule.unordered_subset {
                self.unordered(x, y, &p)?;
            } else if x.tag == Tag::RESPONSE_PAYLOAD && rule.unordered_set {
                if x.children().len() != y.children().len() {
                    let message = format!("{} items expected, {} found", x.children().len(), y.children().len());
                    return Err(Mismatch { path: p, message });
                }
                self.unordered(x, y, &p)?;
            } else if x.tag == Tag::RESPONSE_PAYLOAD && (rule.random_data || rule.generated_key) {
                self.by_length_payload(x, y, &p, &[Tag::DATA, Tag::MAC_DATA], false)?;
            } else if x.tag == Tag::RESPONSE_PAYLOAD && rule.server_iv && x.child(Tag::IV_COUNTER_NONCE).is_some() {
                self.by_length_payload(x, y, &p, &[Tag::DATA, Tag::IV_COUNTER_NONCE], true)?;
            } else {
                self.item(x, y, &p)?;
            }
        }
        Ok(())
    }

    fn same_tag_and_type(&self, expected: &Ttlv, actual: &Ttlv, path: &str) -> Result<(), Mismatch> {
        if expected.tag != actual.tag {
            return Err(Mismatch { path: path.into(), message: format!("tag {} found instead", actual.tag) });
        }
        if expected.item_type() != actual.item_type() {
            return Err(Mismatch {
                path: path.into(),
                message: format!("{:?} expected, {:?} found", expected.item_type(), actual.item_type()),
            });
        }
        Ok(())
    }

    /// Compares two items in order, applying the placeholder and field rules.
    fn item(&mut self, expected: &Ttlv, actual: &Ttlv, path: &str) -> Result<(), Mismatch> {
        self.same_tag_and_type(expected, actual, path)?;
        let differ = |what: String| Err(Mismatch { path: path.into(), message: what });
        match (&expected.value, &actual.value) {
            (Value::Structure(e), Value::Structure(a)) => {
                for (i, x) in e.iter().enumerate() {
                    let p = format!("{path}/{}", name(x.tag));
                    match a.get(i) {
                        Some(y) => self.item(x, y, &p)?,
                        None => return differ(format!("{} missing", name(x.tag))),
                    }
                }
                if let Some(extra) = a.get(e.len()) {
                    return differ(format!("unexpected {}", name(extra.tag)));
                }
                Ok(())
            }
            (Value::TextString(_), Value::TextString(_))
                if expected.tag == Tag::RESULT_MESSAGE || expected.tag == Tag::SERVER_CORRELATION_VALUE =>
            {
                Ok(())
            }
            (Value::TextString(e), Value::TextString(_)) if e.starts_with('$') => self.bind(e, &actual.value, path),
            (Value::ByteString(e), Value::ByteString(_)) if token_of_bytes(e).is_some() => {
                // The guard just parsed it; a token is ASCII, so this copy is lossless.
                let token = String::from_utf8_lossy(e).into_owned();
                self.bind(&token, &actual.value, path)
            }
            (Value::ByteString(e), Value::ByteString(a))
                if expected.tag == Tag::KEY_MATERIAL || expected.tag == Tag::DIGEST_VALUE =>
            {
                // Generated keys and their digests differ per server: same length is what can be asked.
                if e.len() == a.len() {
                    Ok(())
                } else {
                    differ(format!("{} bytes expected, {} found", e.len(), a.len()))
                }
            }
            (Value::DateTime(e), Value::DateTime(a)) => self.time(*e, *a, expected.tag, path),
            (Value::DateTimeExtended(e), Value::DateTimeExtended(a)) => {
                self.time(e.div_euclid(1_000_000), a.div_euclid(1_000_000), expected.tag, path)
            }
            (e, a) if e == a => Ok(()),
            (e, a) => differ(format!("{e:?} expected, {a:?} found")),
        }
    }

    fn time(&self, expected: i64, actual: i64, tag: Tag, path: &str) -> Result<(), Mismatch> {
        let offset = expected - NOW_SENTINEL;
        if offset.abs() < NOW_RANGE {
            let want = self.sent_at + offset;
            if (actual - want).abs() <= self.tolerance {
                return Ok(());
            }
            return Err(Mismatch { path: path.into(), message: format!("time {actual} is not within {}s of {want}", self.tolerance) });
        }
        // Response time stamps in the derived 1.0-1.2 files are the reference run's literals.
        if tag == Tag::TIME_STAMP || expected == actual {
            return Ok(());
        }
        if let Some(clock) = self.server_clock {
            let during_run = actual >= clock.since - self.tolerance && actual <= self.sent_at + self.tolerance;
            if !clock.client_times.contains(&expected) && during_run {
                return Ok(());
            }
        }
        Err(Mismatch { path: path.into(), message: format!("time {expected} expected, {actual} found") })
    }

    fn bind(&mut self, token: &str, actual: &Value, path: &str) -> Result<(), Mismatch> {
        if token == "$SERVER_CORRELATION_VALUE" {
            return Ok(());
        }
        match self.bindings.get(token) {
            Some(bound) if bound == actual => Ok(()),
            Some(bound) => Err(Mismatch { path: path.into(), message: format!("{token} is {bound:?}, found {actual:?}") }),
            None => {
                self.bindings.insert(token.to_owned(), actual.clone());
                Ok(())
            }
        }
    }

    /// Every expected child must match some actual child (order free, extras allowed); the
    /// children of a 2.x `Attributes` are matched the same way.
    fn unordered(&mut self, expected: &Ttlv, actual: &Ttlv, path: &str) -> Result<(), Mismatch> {
        self.same_tag_and_type(expected, actual, path)?;
        let mut used = vec![false; actual.children().len()];
        for x in expected.children() {
            let p = format!("{path}/{}", name(x.tag));
            let mut found = false;
            for (i, y) in actual.children().iter().enumerate() {
                if used.get(i).copied().unwrap_or(true) || y.tag != x.tag {
                    continue;
                }
                let saved = self.bindings.clone();
                let ok = if x.tag == Tag::ATTRIBUTES { self.unordered(x, y, &p).is_ok() } else { self.item(x, y, &p).is_ok() };
                if ok {
                    if let Some(u) = used.get_mut(i) {
                        *u = true;
                    }
                    found = true;
                    break;
                }
                *self.bindings = saved;
            }
            if !found {
                return Err(Mismatch { path: p, message: format!("no matching {} in the response", name(x.tag)) });
            }
        }
        Ok(())
    }

    /// A payload whose byte values differ per run: `tags` are compared by length only and,
    /// with `bind`, bound to `$IV_COUNTER_NONCE` and the next free `$DATA_n`; the rest as usual.
    fn by_length_payload(&mut self, expected: &Ttlv, actual: &Ttlv, path: &str, tags: &[Tag], bind: bool) -> Result<(), Mismatch> {
        self.same_tag_and_type(expected, actual, path)?;
        let (e, a) = (expected.children(), actual.children());
        if e.len() != a.len() {
            return Err(Mismatch { path: path.into(), message: "different number of items".into() });
        }
        for (x, y) in e.iter().zip(a) {
            let p = format!("{path}/{}", name(x.tag));
            match (&x.value, &y.value) {
                (Value::ByteString(eb), Value::ByteString(ab)) if tags.contains(&x.tag) && token_of_bytes(eb).is_none() => {
                    if eb.len() != ab.len() {
                        return Err(Mismatch { path: p, message: format!("{} bytes expected, {} found", eb.len(), ab.len()) });
                    }
                    if bind {
                        let token = if x.tag == Tag::IV_COUNTER_NONCE {
                            "$IV_COUNTER_NONCE".to_owned()
                        } else {
                            let n = (0..).find(|n| !self.bindings.contains_key(&format!("$DATA_{n}"))).unwrap_or(0);
                            format!("$DATA_{n}")
                        };
                        self.bind(&token, &y.value, &p)?;
                    }
                }
                _ => self.item(x, y, &p)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(with_correlation: bool) -> Ttlv {
        let mut h = vec![Ttlv::integer(Tag::BATCH_COUNT, 1)];
        if with_correlation {
            h.insert(0, Ttlv::text(Tag::SERVER_CORRELATION_VALUE, "A5E83842-2A456820-4"));
        }
        Ttlv::structure(Tag::RESPONSE_MESSAGE, vec![Ttlv::structure(Tag::RESPONSE_HEADER, h)])
    }

    #[test]
    fn server_correlation_value_may_be_present_or_absent() {
        let rules = Rules::default();
        let mut bindings = HashMap::new();
        let mut cmp = Comparison { bindings: &mut bindings, sent_at: 0, tolerance: 1, rules: &rules, server_clock: None };
        assert!(cmp.message(&header(true), &header(false)).is_ok());
        assert!(cmp.message(&header(false), &header(true)).is_ok());
    }
}
