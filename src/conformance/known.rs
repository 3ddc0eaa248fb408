//! Test cases whose failure is not kmipd's to fix, each with the reason: the HSM lacks what the
//! case needs, or the case itself is wrong. The runner applies this list only to cases that
//! fail; a listed case that passes is simply a pass.
//!
//! Keep every entry specific (one file, or one family with `*`) and its reason checkable.

use super::runner::Class;

/// A curated classification.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    /// A file stem (`SKFF-M-4-14`), or a stem prefix ending in `*`.
    pub stem: &'static str,
    /// [`Class::HsmLacksMechanism`] or [`Class::BrokenTestCase`].
    pub class: Class,
    /// Why, naming the missing mechanism or the defect.
    pub why: &'static str,
}

const DIGEST_OF_PRIVATE_KEY: &str = "expects a Digest of a private key: PKCS#11 C_DigestKey digests secret keys only, \
     and the private key never leaves the HSM";
const REFERENCE_ATTRIBUTES: &str = "expects attributes only the reference server sets (Lease Time, Random Number \
     Generator ANSI X9.31); the specification does not require them";

const PSS_SIGNATURE_LITERAL: &str = "expects the reference server's own RSA-PSS signature byte for byte, but PSS \
     salts are random (the 1.4 version of the case writes $SIGNATURE_DATA instead)";

/// The curated list.
pub const KNOWN: &[Known] = &[
    Known { stem: "AKLC-M-1-1*", class: Class::HsmLacksMechanism, why: DIGEST_OF_PRIVATE_KEY },
    Known { stem: "AKLC-M-2-1*", class: Class::HsmLacksMechanism, why: DIGEST_OF_PRIVATE_KEY },
    Known { stem: "AKLC-M-3-1*", class: Class::HsmLacksMechanism, why: DIGEST_OF_PRIVATE_KEY },
    Known { stem: "AKLC-O-1-1*", class: Class::HsmLacksMechanism, why: DIGEST_OF_PRIVATE_KEY },
    Known { stem: "AKLC-M-1-2*", class: Class::HsmLacksMechanism, why: DIGEST_OF_PRIVATE_KEY },
    Known { stem: "AKLC-M-2-2*", class: Class::HsmLacksMechanism, why: DIGEST_OF_PRIVATE_KEY },
    Known { stem: "AKLC-M-3-2*", class: Class::HsmLacksMechanism, why: DIGEST_OF_PRIVATE_KEY },
    Known { stem: "AKLC-O-1-2*", class: Class::HsmLacksMechanism, why: DIGEST_OF_PRIVATE_KEY },
    Known { stem: "SKFF-M-9-*", class: Class::BrokenTestCase, why: REFERENCE_ATTRIBUTES },
    Known { stem: "SKFF-M-10-*", class: Class::BrokenTestCase, why: REFERENCE_ATTRIBUTES },
    Known { stem: "SKFF-M-11-*", class: Class::BrokenTestCase, why: REFERENCE_ATTRIBUTES },
    // The Triple DES steps of these pass; what fails is the same reference-server attributes.
    Known { stem: "SKFF-M-12-*", class: Class::BrokenTestCase, why: REFERENCE_ATTRIBUTES },
    Known { stem: "SKFF-O-6-*", class: Class::BrokenTestCase, why: REFERENCE_ATTRIBUTES },
    Known { stem: "CS-AC-M-1-12", class: Class::BrokenTestCase, why: PSS_SIGNATURE_LITERAL },
    Known { stem: "CS-AC-M-1-13", class: Class::BrokenTestCase, why: PSS_SIGNATURE_LITERAL },
    Known {
        stem: "OMOS-O-1-14",
        class: Class::BrokenTestCase,
        why: "its second response claims protocol 1.3 to a 1.4 request",
    },
];

/// The entry for the file `stem`, if any.
pub fn lookup(stem: &str) -> Option<&'static Known> {
    KNOWN.iter().find(|k| match k.stem.strip_suffix('*') {
        Some(prefix) => stem.starts_with(prefix),
        None => stem == k.stem,
    })
}
