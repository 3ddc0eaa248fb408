//! kmipd's HSM objects as the store's [`HsmRef`]s: the convention every record follows, and the inventory the
//! start-up reconciler walks (DESIGN.md invariant 3).
//!
//! # The `HsmRef` of a record
//!
//! ```text
//! HsmRef { kind: hsm_kind(<the object's ObjectKind>), id: <the caller id given to the Hsm trait as NewObject.id> }
//! ```
//!
//! - `kind` is the PKCS#11 class number of the object (`CKO_SECRET_KEY` 4, `CKO_PRIVATE_KEY` 3,
//!   `CKO_PUBLIC_KEY` 2), from [`hsm_kind`].
//! - `id` is the caller id, not the `CKA_ID` derived from it: it is what every [`Hsm`] method takes, it does not
//!   depend on the profile's id strategy, and the store stays unaware of PKCS#11.
//! - The operations layer uses the KMIP Unique Identifier's UTF-8 bytes as the caller id. A key pair is two HSM
//!   objects and two KMIP objects, each half with its own UID, so each half has its own caller id and `HsmRef`.
//!
//! [`hsm_ref`] builds it; records written with anything else are invisible to the reconciler (their objects would
//! be reported as strangers and the records as missing).
//!
//! # kmipd's own keys
//!
//! Keys kmipd keeps for itself, with no KMIP object and no record (the envelope key, [`ENVELOPE_KEY_ID`]), have
//! caller ids no UID can take (UIDs never hold a `:`); [`Inventory`] leaves them out, so the reconciler never
//! reports them as strangers.
//!
//! # Recovering the caller id from the token
//!
//! [`Hsm::list_objects`] gives it back as [`ObjectSummary::caller_id`]: under the `prefixed` id strategy from the
//! `CKA_ID` itself; under `hashed` (a truncated SHA-256 cannot be reversed) from the `CKA_LABEL`, which
//! [`Pkcs11Hsm`](super::Pkcs11Hsm) sets to the caller id under that strategy and which is believed only when
//! hashing it gives the `CKA_ID` back. An object whose caller id cannot be recovered (a foreign object on a
//! `hashed` token, or one relabelled behind kmipd's back) is listed with [`UNRESOLVED`] set in `kind` and its raw
//! `CKA_ID` as `id`: no record's reference can equal it, so it is reported as a stranger and never destroyed.

use std::fmt;

use super::{ErrorClass, Hsm, HsmError, ObjectKind, ObjectSummary};
use crate::store::{HsmInventory, HsmRef};

/// `CKO_PUBLIC_KEY`.
const CKO_PUBLIC_KEY: u32 = 2;
/// `CKO_PRIVATE_KEY`.
const CKO_PRIVATE_KEY: u32 = 3;
/// `CKO_SECRET_KEY`.
const CKO_SECRET_KEY: u32 = 4;
/// Any class that is not a key (data objects, certificates…); kmipd never makes one, so only strangers have it.
const OTHER_CLASS: u32 = 0x3FFF_FFFF;

/// Set in the `kind` of an object whose caller id could not be recovered; its `id` is then the raw `CKA_ID`.
/// No PKCS#11 class kmipd records uses this bit.
pub const UNRESOLVED: u32 = 0x4000_0000;

/// Caller id of the AES-256 key-encryption key under which kmipd envelope-encrypts what the HSM can't hold as a
/// key (opaque objects; DESIGN.md invariant 1). One per token, made on first use, never extractable.
pub const ENVELOPE_KEY_ID: &[u8] = b"kmipd:envelope-kek";

/// Whether a caller id is one of kmipd's own keys rather than a KMIP object's.
pub fn is_own_key(caller_id: &[u8]) -> bool {
    caller_id == ENVELOPE_KEY_ID
}

/// The `HsmRef::kind` of an object of this kind: its PKCS#11 class number.
pub fn hsm_kind(kind: ObjectKind) -> u32 {
    match kind {
        ObjectKind::SecretKey => CKO_SECRET_KEY,
        ObjectKind::PrivateKey => CKO_PRIVATE_KEY,
        ObjectKind::PublicKey => CKO_PUBLIC_KEY,
        ObjectKind::Other => OTHER_CLASS,
    }
}

/// The reference a record stores for the HSM object made with caller id `caller_id` (the KMIP UID's bytes).
pub fn hsm_ref(kind: ObjectKind, caller_id: &[u8]) -> HsmRef {
    HsmRef { kind: hsm_kind(kind), id: caller_id.to_vec() }
}

/// The reference of a listed object, per the convention above.
pub fn listed_ref(object: &ObjectSummary) -> HsmRef {
    match &object.caller_id {
        Some(caller_id) => hsm_ref(object.kind, caller_id),
        None => HsmRef { kind: hsm_kind(object.kind) | UNRESOLVED, id: object.cka_id.clone() },
    }
}

/// A reference in a form fit for logs: the kind's name and the caller id as text (UIDs are not secret), or the raw
/// `CKA_ID` in hex for an unresolved object.
pub fn display_ref(object: &HsmRef) -> impl fmt::Display + '_ {
    struct Shown<'a>(&'a HsmRef);
    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let kind = match self.0.kind & !UNRESOLVED {
                CKO_SECRET_KEY => "secret key",
                CKO_PRIVATE_KEY => "private key",
                CKO_PUBLIC_KEY => "public key",
                _ => "non-key object",
            };
            if self.0.kind & UNRESOLVED == 0 {
                write!(f, "{kind} {:?}", String::from_utf8_lossy(&self.0.id))
            } else {
                write!(f, "{kind} with unrecognized CKA_ID {}", hex::encode(&self.0.id))
            }
        }
    }
    Shown(object)
}

/// The [`HsmInventory`] of any [`Hsm`]: what `store::reconcile` walks at start-up.
#[derive(Debug)]
pub struct Inventory<'a, H: ?Sized> {
    hsm: &'a H,
    /// A listing made moments ago (when the token was opened), answered once instead of a new scan.
    listed: std::sync::Mutex<Option<Vec<ObjectSummary>>>,
}

impl<'a, H: Hsm + ?Sized> Inventory<'a, H> {
    /// The inventory of `hsm`.
    pub fn new(hsm: &'a H) -> Self {
        Inventory { hsm, listed: std::sync::Mutex::new(None) }
    }

    /// The inventory of `hsm` whose first [`HsmInventory::list_objects`] answers `listing`, a scan of the token
    /// that nothing has changed since ([`crate::hsm::Pkcs11Hsm::take_opening_listing`]); later ones scan again.
    pub fn with_listing(hsm: &'a H, listing: Option<Vec<ObjectSummary>>) -> Self {
        Inventory { hsm, listed: std::sync::Mutex::new(listing) }
    }
}

impl<H: Hsm + ?Sized> HsmInventory for Inventory<'_, H> {
    type Error = HsmError;

    /// One scan of the token ([`Hsm::list_objects`]), each object mapped by [`listed_ref`], kmipd's own keys left
    /// out.
    fn list_objects(&self) -> Result<Vec<HsmRef>, HsmError> {
        let listed = self.listed.lock().ok().and_then(|mut listed| listed.take());
        let objects = match listed {
            Some(objects) => objects,
            None => self.hsm.list_objects()?,
        };
        Ok(objects
            .iter()
            .filter(|o| !o.caller_id.as_deref().is_some_and(is_own_key))
            .map(listed_ref)
            .collect())
    }

    /// Destroys the object with this caller id, after checking that its class is the one the reference names. The
    /// reconciler only destroys objects it just listed, so a mismatch means the token changed in between: the
    /// object is left alone and the record unsettled. An absent object is success.
    fn destroy_object(&self, object: &HsmRef) -> Result<(), HsmError> {
        if object.kind & UNRESOLVED != 0 {
            return Err(HsmError::InvalidInput("an object without a known caller id cannot be addressed".into()));
        }
        let info = match self.hsm.object_info(&object.id) {
            Ok(info) => info,
            Err(e) if e.class() == ErrorClass::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        if hsm_kind(info.kind) != object.kind {
            return Err(HsmError::InvalidInput(format!(
                "the HSM object is a {:?}, the record expects class {}: left alone",
                info.kind, object.kind
            )));
        }
        match self.hsm.destroy(&object.id) {
            Err(e) if e.class() == ErrorClass::NotFound => Ok(()),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_pkcs11_classes() {
        assert_eq!(u64::from(hsm_kind(ObjectKind::SecretKey)), cryptoki_sys::CKO_SECRET_KEY);
        assert_eq!(u64::from(hsm_kind(ObjectKind::PrivateKey)), cryptoki_sys::CKO_PRIVATE_KEY);
        assert_eq!(u64::from(hsm_kind(ObjectKind::PublicKey)), cryptoki_sys::CKO_PUBLIC_KEY);
        assert_eq!(hsm_kind(ObjectKind::Other) & UNRESOLVED, 0);
    }

    #[test]
    fn unresolved_objects_never_equal_a_record_reference() {
        let summary = |caller_id: Option<&[u8]>| ObjectSummary {
            cka_id: b"42".to_vec(),
            caller_id: caller_id.map(<[u8]>::to_vec),
            label: String::new(),
            kind: ObjectKind::SecretKey,
        };
        assert_eq!(listed_ref(&summary(Some(b"42"))), hsm_ref(ObjectKind::SecretKey, b"42"));
        let unresolved = listed_ref(&summary(None));
        assert_eq!(unresolved.id, b"42");
        assert_ne!(unresolved, hsm_ref(ObjectKind::SecretKey, b"42"));
        assert_eq!(display_ref(&unresolved).to_string(), "secret key with unrecognized CKA_ID 3432");
        assert_eq!(display_ref(&hsm_ref(ObjectKind::PublicKey, b"7")).to_string(), "public key \"7\"");
    }
}
