//! The state one request's batch items share: the ID Placeholder and the identifiers earlier
//! items returned (KMIP 1.4 §4 "ID Placeholder"; 2.1 §4.58 and §11.58 for the Enumeration
//! and Integer forms of Unique Identifier).
//!
//! The batch processor updates this state from each successful item's typed response
//! payload, so an operation never has to: Create, Create Key Pair (the private key),
//! Register, Derive Key, Re-key, Re-key Key Pair, Certify, Re-certify, Recover, Import,
//! Join Split Key and Create Split Key set the ID Placeholder to the identifier they return;
//! Locate sets it when it returns exactly one identifier and empties it otherwise; a failed
//! Check empties it.
//! Operations resolve the identifier they act on with [`BatchState::resolve`].

use crate::kmip::enums::{self, BatchErrorContinuationOption, Operation};
use crate::kmip::objects::UniqueIdentifier;
use crate::ttlv::registry::Version;
use crate::ttlv::{Tag, Ttlv, Value};

use super::error::OpError;

/// What the batch items of one request share.
#[derive(Debug, Clone)]
pub struct BatchState {
    version: Version,
    continuation: BatchErrorContinuationOption,
    placeholder: Option<String>,
    /// Every Unique Identifier returned so far, in response order (2.x Integer references).
    returned: Vec<String>,
    /// The identifiers returned by the most recent item of each operation (2.x Enumeration
    /// references), most recent last.
    by_operation: Vec<(Operation, Vec<String>)>,
}

impl BatchState {
    /// The state at the start of a request spoken in `version`.
    pub fn new(version: Version, continuation: BatchErrorContinuationOption) -> BatchState {
        BatchState {
            version,
            continuation,
            placeholder: None,
            returned: Vec::new(),
            by_operation: Vec::new(),
        }
    }

    /// The protocol version of the request.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Whether the client asked for Undo on failure: an operation whose effect cannot be
    /// reversed must then refuse to run (Feature Not Supported) rather than act.
    pub fn undo_requested(&self) -> bool {
        self.continuation == BatchErrorContinuationOption::Undo
    }

    /// The current ID Placeholder value.
    pub fn placeholder(&self) -> Option<&str> {
        self.placeholder.as_deref()
    }

    /// The identifier an operation acts on: `requested` when it names one (a Text String,
    /// or in 2.x an Enumeration or Integer reference to an earlier item's result), else the
    /// ID Placeholder.
    pub fn resolve(&self, requested: Option<&UniqueIdentifier>) -> Result<String, OpError> {
        match requested {
            Some(UniqueIdentifier::Text(uid)) => Ok(uid.clone()),
            Some(_) if self.version.major < 2 => {
                Err(OpError::InvalidField("a Unique Identifier is a Text String in KMIP 1.x".into()))
            }
            None | Some(UniqueIdentifier::Placeholder(enums::UniqueIdentifier::IDPlaceholder)) => {
                self.placeholder.clone().ok_or_else(|| {
                    OpError::MissingData("no Unique Identifier given and the ID Placeholder is empty".into())
                })
            }
            Some(UniqueIdentifier::Placeholder(kind)) => self.by_kind(*kind),
            Some(UniqueIdentifier::Index(i)) => self.by_index(*i),
        }
    }

    fn by_kind(&self, kind: enums::UniqueIdentifier) -> Result<String, OpError> {
        use enums::UniqueIdentifier as U;
        // (operation, which of its returned identifiers)
        let (operation, pick) = match kind {
            U::Create => (Operation::Create, Pick::Only),
            U::CreateKeyPair | U::CreateKeyPairPrivateKey => (Operation::CreateKeyPair, Pick::Nth(0)),
            U::CreateKeyPairPublicKey => (Operation::CreateKeyPair, Pick::Nth(1)),
            U::ReKeyKeyPair | U::ReKeyKeyPairPrivateKey => (Operation::ReKeyKeyPair, Pick::Nth(0)),
            U::ReKeyKeyPairPublicKey => (Operation::ReKeyKeyPair, Pick::Nth(1)),
            U::Certify => (Operation::Certify, Pick::Only),
            U::ReCertify => (Operation::ReCertify, Pick::Only),
            U::CreateSplitKey => (Operation::CreateSplitKey, Pick::Nth(0)),
            U::DeriveKey => (Operation::DeriveKey, Pick::Only),
            U::Import => (Operation::Import, Pick::Only),
            U::JoinSplitKey => (Operation::JoinSplitKey, Pick::Only),
            U::Locate => (Operation::Locate, Pick::Only),
            U::Register => (Operation::Register, Pick::Only),
            U::ReKey => (Operation::ReKey, Pick::Only),
            U::IDPlaceholder
            | U::ReProvision
            | U::CreateUser
            | U::CreateGroup
            | U::CreateCredential
            | U::Extension(_) => {
                return Err(OpError::FeatureNotSupported(format!("Unique Identifier reference {kind:?}")))
            }
        };
        let ids =
            self.by_operation.iter().rev().find(|(op, _)| *op == operation).map(|(_, ids)| ids).ok_or_else(
                || {
                    OpError::MissingData(format!(
                        "no earlier {operation:?} in this batch returned an identifier"
                    ))
                },
            )?;
        let found = match pick {
            Pick::Only if ids.len() > 1 => {
                return Err(OpError::FeatureNotSupported(format!(
                    "the reference to {operation:?} names {} identifiers; repeating the operation for each is not supported",
                    ids.len()
                )))
            }
            Pick::Only => ids.first(),
            Pick::Nth(n) => ids.get(n),
        };
        found.cloned().ok_or_else(|| {
            OpError::MissingData(format!("the earlier {operation:?} returned no such identifier"))
        })
    }

    fn by_index(&self, index: i32) -> Result<String, OpError> {
        // Non-negative: the nth identifier of the response; negative: counted back from
        // this item (-1 is the last identifier returned before it).
        let position = if index >= 0 {
            usize::try_from(index).ok()
        } else {
            usize::try_from(index.unsigned_abs()).ok().and_then(|back| self.returned.len().checked_sub(back))
        };
        position.and_then(|p| self.returned.get(p)).cloned().ok_or_else(|| {
            OpError::InvalidField(format!(
                "Unique Identifier index {index} is out of range ({} returned so far)",
                self.returned.len()
            ))
        })
    }

    /// Records what a successful item returned (its encoded Response Payload) and updates
    /// the ID Placeholder; gives back the identifiers the payload holds.
    pub(crate) fn record(&mut self, operation: Operation, payload: Option<&Ttlv>) -> Vec<String> {
        let ids = payload.map(returned_identifiers).unwrap_or_default();
        self.returned.extend(ids.iter().cloned());
        match placeholder_effect(operation) {
            Effect::Keep => {}
            Effect::First => {
                if let Some(first) = ids.first() {
                    self.placeholder = Some(first.clone());
                }
            }
            Effect::Single => {
                self.placeholder = match ids.as_slice() {
                    [one] => Some(one.clone()),
                    _ => None,
                };
            }
        }
        if !ids.is_empty() {
            self.by_operation.push((operation, ids.clone()));
        }
        ids
    }
}

impl BatchState {
    /// Records that an item failed: a failed Check empties the ID Placeholder, so that the
    /// items batched after it can't act on the object it refused (KMIP 1.4 §4.10).
    pub(crate) fn record_failure(&mut self, operation: Option<Operation>) {
        if operation == Some(Operation::Check) {
            self.placeholder = None;
        }
    }
}

enum Pick {
    Only,
    Nth(usize),
}

enum Effect {
    Keep,
    /// The first identifier returned becomes the ID Placeholder.
    First,
    /// The ID Placeholder is the identifier returned if there is exactly one, else empty.
    Single,
}

fn placeholder_effect(operation: Operation) -> Effect {
    match operation {
        Operation::Create
        | Operation::CreateKeyPair
        | Operation::Register
        | Operation::DeriveKey
        | Operation::ReKey
        | Operation::ReKeyKeyPair
        | Operation::Certify
        | Operation::ReCertify
        | Operation::Recover
        | Operation::Import
        | Operation::JoinSplitKey
        | Operation::CreateSplitKey => Effect::First,
        Operation::Locate => Effect::Single,
        _ => Effect::Keep,
    }
}

/// The Text String identifiers at the top level of a response payload, in order (Unique
/// Identifier, Private Key Unique Identifier, Public Key Unique Identifier).
fn returned_identifiers(payload: &Ttlv) -> Vec<String> {
    payload
        .children()
        .iter()
        .filter(|c| {
            matches!(
                c.tag,
                Tag::UNIQUE_IDENTIFIER
                    | Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER
                    | Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER
            )
        })
        .filter_map(|c| match &c.value {
            Value::TextString(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmip::enums::ObjectType;
    use crate::kmip::payloads::{CreateKeyPairResponse, CreateResponse, IdentifierResponse, LocateResponse};
    use crate::kmip::ResponsePayload;

    fn text(s: &str) -> UniqueIdentifier {
        UniqueIdentifier::Text(s.into())
    }

    fn created(uid: &str) -> ResponsePayload {
        ResponsePayload::Create(Box::new(CreateResponse {
            object_type: ObjectType::SymmetricKey,
            unique_identifier: text(uid),
            template_attribute: None,
        }))
    }

    fn located(uids: &[&str]) -> ResponsePayload {
        ResponsePayload::Locate(Box::new(LocateResponse {
            located_items: None,
            unique_identifiers: uids.iter().map(|u| text(u)).collect(),
        }))
    }

    fn record(b: &mut BatchState, operation: Operation, payload: ResponsePayload) {
        b.record(operation, Some(&payload.to_ttlv()));
    }

    fn state(v: Version) -> BatchState {
        BatchState::new(v, BatchErrorContinuationOption::Stop)
    }

    #[test]
    fn placeholder_follows_creating_operations() {
        let mut b = state(Version::new(1, 4));
        assert!(matches!(b.resolve(None), Err(OpError::MissingData(_))));
        record(&mut b, Operation::Create, created("k1"));
        assert_eq!(b.resolve(None).unwrap(), "k1");
        assert_eq!(b.resolve(Some(&text("other"))).unwrap(), "other");
        // Activate returns an identifier but does not move the placeholder.
        record(
            &mut b,
            Operation::Activate,
            ResponsePayload::Activate(Box::new(IdentifierResponse { unique_identifier: text("x") })),
        );
        assert_eq!(b.resolve(None).unwrap(), "k1");
    }

    #[test]
    fn locate_sets_the_placeholder_only_for_a_single_match() {
        let mut b = state(Version::new(2, 1));
        record(&mut b, Operation::Locate, located(&["a"]));
        assert_eq!(b.placeholder(), Some("a"));
        record(&mut b, Operation::Locate, located(&["a", "b"]));
        assert_eq!(b.placeholder(), None);
        record(&mut b, Operation::Create, created("c"));
        record(&mut b, Operation::Locate, located(&[]));
        assert_eq!(b.placeholder(), None);
    }

    #[test]
    fn create_key_pair_places_the_private_key() {
        let mut b = state(Version::new(2, 1));
        let pair = ResponsePayload::CreateKeyPair(Box::new(CreateKeyPairResponse {
            private_key_unique_identifier: text("priv"),
            public_key_unique_identifier: text("pub"),
            private_key_template_attribute: None,
            public_key_template_attribute: None,
        }));
        record(&mut b, Operation::CreateKeyPair, pair);
        use enums::UniqueIdentifier as U;
        assert_eq!(b.resolve(None).unwrap(), "priv");
        assert_eq!(b.resolve(Some(&UniqueIdentifier::Placeholder(U::IDPlaceholder))).unwrap(), "priv");
        assert_eq!(
            b.resolve(Some(&UniqueIdentifier::Placeholder(U::CreateKeyPairPublicKey))).unwrap(),
            "pub"
        );
        assert_eq!(b.resolve(Some(&UniqueIdentifier::Placeholder(U::CreateKeyPair))).unwrap(), "priv");
        assert!(matches!(
            b.resolve(Some(&UniqueIdentifier::Placeholder(U::Create))),
            Err(OpError::MissingData(_))
        ));
    }

    #[test]
    fn integer_references_count_returned_identifiers() {
        let mut b = state(Version::new(2, 1));
        record(&mut b, Operation::Create, created("first"));
        record(&mut b, Operation::Create, created("second"));
        assert_eq!(b.resolve(Some(&UniqueIdentifier::Index(0))).unwrap(), "first");
        assert_eq!(b.resolve(Some(&UniqueIdentifier::Index(1))).unwrap(), "second");
        assert_eq!(b.resolve(Some(&UniqueIdentifier::Index(-1))).unwrap(), "second");
        assert_eq!(b.resolve(Some(&UniqueIdentifier::Index(-2))).unwrap(), "first");
        assert!(matches!(b.resolve(Some(&UniqueIdentifier::Index(2))), Err(OpError::InvalidField(_))));
        assert!(matches!(b.resolve(Some(&UniqueIdentifier::Index(-3))), Err(OpError::InvalidField(_))));
        assert!(matches!(b.resolve(Some(&UniqueIdentifier::Index(i32::MIN))), Err(OpError::InvalidField(_))));
    }

    #[test]
    fn references_are_text_only_in_1_x() {
        let mut b = state(Version::new(1, 2));
        record(&mut b, Operation::Create, created("k"));
        let r = b.resolve(Some(&UniqueIdentifier::Placeholder(enums::UniqueIdentifier::IDPlaceholder)));
        assert!(matches!(r, Err(OpError::InvalidField(_))));
    }
}
