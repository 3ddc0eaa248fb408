//! Test cases whose failure is not kmipd's to fix, each with the reason: the HSM lacks what the
//! case needs, or the case itself is wrong. The runner applies this list only to cases that
//! fail; a listed case that passes is simply a pass.
//!
//! Keep every entry specific (one file, or one family with `*`) and its reason checkable.

use super::runner::Class;
use crate::kmip::enums::ResultReason;

/// A curated classification.
#[derive(Debug, Clone, Copy)]
pub struct Known {
    /// A file stem (`SKFF-M-4-14`), or a stem prefix ending in `*`.
    pub stem: &'static str,
    /// [`Class::HsmLacksMechanism`] or [`Class::BrokenTestCase`].
    pub class: Class,
    /// Why, naming the missing mechanism or the defect.
    pub why: &'static str,
    /// Text the first mismatch must contain, or the name of a Result Reason in kmipd's last
    /// answer (`EncodingOptionError`), for the entry to apply (one of several separated by `|`),
    /// so that a case failing for another reason is not excused.
    pub symptom: &'static str,
}

const DIGEST_OF_PRIVATE_KEY: &str = "expects a Digest of a private key: PKCS#11 C_DigestKey digests secret keys only, \
     and the private key never leaves the HSM";
const REFERENCE_ATTRIBUTES: &str = "expects attributes only the reference server sets (Lease Time, Random Number \
     Generator ANSI X9.31); the specification does not require them";

const OAEP_SHA2: &str = "RSA-OAEP with a SHA-2 hash or MGF1 hash: SoftHSM 2.6.1 implements CKM_RSA_PKCS_OAEP with \
     SHA-1 only (CKR_ARGUMENTS_BAD otherwise)";
const HMAC_ON_AES: &str = "HMAC-SHA256 with a 16-byte key registered as AES: SoftHSM 2.6.1 refuses HMAC with a \
     CKK_AES key (CKR_KEY_TYPE_INCONSISTENT) and HMAC keys shorter than 32 bytes (CKR_KEY_SIZE_RANGE)";
const CHACHA: &str = "ChaCha20 / ChaCha20-Poly1305: SoftHSM 2.6.1 has no CKM_CHACHA20 mechanisms";
const SEED_ALTERNATIVE: &str = "one of four mutually exclusive answers to the same RNG Seed request (CS-RNG-O-1..4); \
     SoftHSM accepts the whole seed, which is CS-RNG-O-1's answer";

const TTLV_ENCODED_WRAP: &str = "Get wrapping the TTLV-encoded Key Value (no Encoding Option): C_WrapKey wraps a \
     key's value alone; building the TTLV in the HSM needs CKM_CONCATENATE_DATA_AND_BASE, which SoftHSM 2.6.1 lacks. \
     kmipd answers Encoding Option Error";

const PSS_SIGNATURE_LITERAL: &str = "expects the reference server's own RSA-PSS signature byte for byte, but PSS \
     salts are random (the 1.4 version of the case writes $SIGNATURE_DATA instead)";

const OFFSET_ORDER_1_3: &str = "its Locate answers disagree on order: all five keys newest first (step 1), then the \
     oldest for Maximum Items 1 (step 2); the 1.4 and 2.0 versions of the case expect the newest there";

const NAMELESS_ATTRIBUTE: &str = "its Register sends a Template-Attribute Attribute without Attribute Name (the \
     Cryptographic Parameters' name is missing); kmipd answers Invalid Message, as a required field is absent";

/// A curated entry.
const fn known(stem: &'static str, class: Class, why: &'static str, symptom: &'static str) -> Known {
    Known { stem, class, why, symptom }
}

/// The curated list.
pub const KNOWN: &[Known] = &[
    known("AKLC-M-*", Class::HsmLacksMechanism, DIGEST_OF_PRIVATE_KEY, "Digest"),
    known("AKLC-O-*", Class::HsmLacksMechanism, DIGEST_OF_PRIVATE_KEY, "Digest"),
    // Step 1 reads the RNG attribute (1.4, 2.x); step 8's Get Attribute List lists Lease Time (and, in 1.4, the RNG):
    // checked to be the only difference in every version.
    known("CS-AC-M-3-12", Class::BrokenTestCase, NAMELESS_ATTRIBUTE, "InvalidMessage"),
    known("CS-AC-M-8-12", Class::BrokenTestCase, NAMELESS_ATTRIBUTE, "InvalidMessage"),
    known("TC-OFFSET-1-13", Class::BrokenTestCase, OFFSET_ORDER_1_3, "step 2:"),
    known("TC-OFFSET-2-13", Class::BrokenTestCase, OFFSET_ORDER_1_3, "step 2:"),
    known("SKFF-M-9-*", Class::BrokenTestCase, REFERENCE_ATTRIBUTES, "step 8:"),
    known("SKFF-M-10-*", Class::BrokenTestCase, REFERENCE_ATTRIBUTES, "step 1:|step 8:"),
    known("SKFF-M-11-*", Class::BrokenTestCase, REFERENCE_ATTRIBUTES, "step 1:|step 8:"),
    known("SKFF-M-12-*", Class::BrokenTestCase, REFERENCE_ATTRIBUTES, "step 1:|step 8:"),
    known("SKFF-O-6-10", Class::BrokenTestCase, REFERENCE_ATTRIBUTES, "step 8:"),
    known("SKFF-O-6-12", Class::BrokenTestCase, REFERENCE_ATTRIBUTES, "step 8:"),
    known("SKLC-O-1-1*", Class::BrokenTestCase, REFERENCE_ATTRIBUTES, "step 3:"),
    known("SKLC-O-1-2*", Class::BrokenTestCase, REFERENCE_ATTRIBUTES, "step 3:"),
    // The reference server's Get Attribute List: Lease Time (and the RNG from 1.4), and no Fresh in 1.1/1.2.
    known("TL-M-3-*", Class::BrokenTestCase, REFERENCE_ATTRIBUTES, "BatchItem[1]/ResponsePayload"),
    known("CS-AC-M-1-12", Class::BrokenTestCase, PSS_SIGNATURE_LITERAL, "SignatureData"),
    known("CS-AC-M-1-13", Class::BrokenTestCase, PSS_SIGNATURE_LITERAL, "SignatureData"),
    known("OMOS-O-1-14", Class::BrokenTestCase, "its second response claims protocol 1.3 to a 1.4 request", "ProtocolVersionMinor"),
    known("CS-AC-M-OAEP-*", Class::HsmLacksMechanism, OAEP_SHA2, ""),
    known("CS-AC-M-4-12", Class::HsmLacksMechanism, HMAC_ON_AES, "CryptographicFailure"),
    known("CS-AC-M-4-13", Class::HsmLacksMechanism, HMAC_ON_AES, "CryptographicFailure"),
    known("CS-AC-M-5-12", Class::HsmLacksMechanism, HMAC_ON_AES, "CryptographicFailure"),
    known("CS-AC-M-5-13", Class::HsmLacksMechanism, HMAC_ON_AES, "CryptographicFailure"),
    known("CS-AC-M-6-12", Class::HsmLacksMechanism, HMAC_ON_AES, "CryptographicFailure"),
    known("CS-AC-M-6-13", Class::HsmLacksMechanism, HMAC_ON_AES, "CryptographicFailure"),
    known("CS-AC-M-4-14", Class::HsmLacksMechanism, HMAC_ON_AES, ""),
    known("CS-AC-M-5-14", Class::HsmLacksMechanism, HMAC_ON_AES, ""),
    known("CS-AC-M-6-14", Class::HsmLacksMechanism, HMAC_ON_AES, ""),
    known("CS-AC-M-4-2*", Class::HsmLacksMechanism, HMAC_ON_AES, ""),
    known("CS-AC-M-5-2*", Class::HsmLacksMechanism, HMAC_ON_AES, ""),
    known("CS-AC-M-6-2*", Class::HsmLacksMechanism, HMAC_ON_AES, ""),
    known("CS-BC-M-CHACHA20*", Class::HsmLacksMechanism, CHACHA, ""),
    // Its Undo batches stop at the first wrapped Get, whose mismatch is only the Batch Count: the reason tells.
    known("AX-M-2-*", Class::HsmLacksMechanism, TTLV_ENCODED_WRAP, "EncodingOptionError"),
    known("CS-RNG-O-2-*", Class::BrokenTestCase, SEED_ALTERNATIVE, "step 0:"),
    known("CS-RNG-O-3-*", Class::BrokenTestCase, SEED_ALTERNATIVE, "step 0:"),
    known("CS-RNG-O-4-*", Class::BrokenTestCase, SEED_ALTERNATIVE, "step 0:"),
];

/// The entry for the file `stem` failing with `mismatch`, kmipd's last answer carrying `reasons`, if any.
pub fn lookup(stem: &str, mismatch: &str, reasons: &[ResultReason]) -> Option<&'static Known> {
    KNOWN.iter().find(|k| {
        let named = match k.stem.strip_suffix('*') {
            Some(prefix) => stem.starts_with(prefix),
            None => stem == k.stem,
        };
        let shows = |symptom: &str| {
            mismatch.contains(symptom) || reasons.iter().any(|r| format!("{r:?}") == symptom)
        };
        named && k.symptom.split('|').any(shows)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_applies_only_to_its_symptom() {
        let batch_count = "step 1: ResponseMessage/ResponseHeader/BatchCount: Integer(4) expected, Integer(2) found";
        let found = lookup("AX-M-2-21", batch_count, &[ResultReason::EncodingOptionError]);
        assert_eq!(found.map(|k| k.class), Some(Class::HsmLacksMechanism));
        assert!(lookup("AX-M-2-21", batch_count, &[ResultReason::InvalidField]).is_none());
        assert!(lookup("AX-M-1-21", batch_count, &[ResultReason::EncodingOptionError]).is_none());
        assert!(lookup("SKFF-M-9-14", "step 8: AttributeName", &[]).is_some());
        assert!(lookup("SKFF-M-9-14", "step 2: AttributeName", &[]).is_none());
    }
}
