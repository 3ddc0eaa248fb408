//! Envelope encryption of material the HSM can't hold as a key — opaque objects — so that it
//! never reaches the store in the clear (DESIGN.md invariant 1).
//!
//! The material is encrypted with AES-256-GCM inside the HSM under kmipd's envelope key
//! ([`ENVELOPE_KEY_ID`]: one per token, sensitive, never extractable, made on first use and
//! checked at start-up by [`ensure_key`]; the start-up reconciler knows it as kmipd's own).
//! The record keeps
//!
//! ```text
//! 0x01 (format) | IV length (1 byte) | IV | ciphertext | GCM tag (16 bytes)
//! ```
//!
//! with the object's type as additional authenticated data. A record that fails to open
//! (altered, or sealed under another token's key) answers Cryptographic Failure.

use std::sync::Mutex;

use crate::hsm::{Cipher, ErrorClass, Hsm, HsmError, KeyUsage, NewObject, SecretKeyAlgorithm, SecretKeySpec, ENVELOPE_KEY_ID};
use crate::kmip::codec::SecretBytes;
use crate::kmip::enums::ObjectType;
use crate::kmip::KmipEnum;

use super::OpError;

const FORMAT: u8 = 1;
const TAG_LEN: usize = 16;

/// Serializes the check-and-create of the envelope key: two threads must not both make one
/// (PKCS#11 tokens accept duplicate `CKA_ID`s).
static CREATING: Mutex<()> = Mutex::new(());

/// Makes the envelope key unless the token has it; whether it was made now.
pub fn ensure_key(hsm: &dyn Hsm) -> Result<bool, HsmError> {
    let _guard = CREATING.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match hsm.object_info(ENVELOPE_KEY_ID) {
        Ok(_) => return Ok(false),
        Err(e) if e.class() == ErrorClass::NotFound => {}
        Err(e) => return Err(e),
    }
    let usage = KeyUsage { encrypt: true, decrypt: true, ..KeyUsage::default() };
    let key = NewObject::token(ENVELOPE_KEY_ID, "kmipd envelope key", usage);
    hsm.generate_secret_key(SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits: 256 }, &key)?;
    Ok(true)
}

fn cipher(object_type: ObjectType, iv: Option<Vec<u8>>) -> Cipher {
    Cipher::AesGcm { iv, aad: object_type.to_u32().to_be_bytes().to_vec(), tag_len: TAG_LEN }
}

/// Encrypts `plaintext` of an object of `object_type` for the store.
pub(super) fn seal(hsm: &dyn Hsm, object_type: ObjectType, plaintext: &[u8]) -> Result<Vec<u8>, OpError> {
    ensure_key(hsm)?;
    let sealed = hsm.encrypt(ENVELOPE_KEY_ID, &cipher(object_type, None), plaintext)?;
    let iv = sealed.generated_iv.ok_or_else(|| OpError::Internal("the HSM reported no AES-GCM IV".into()))?;
    let iv_len = u8::try_from(iv.len()).map_err(|_| OpError::Internal("AES-GCM IV over 255 bytes".into()))?;
    let mut out = Vec::with_capacity(2 + iv.len() + sealed.ciphertext.len());
    out.extend([FORMAT, iv_len]);
    out.extend(iv);
    out.extend(sealed.ciphertext);
    Ok(out)
}

/// Decrypts what [`seal`] stored for an object of `object_type`.
pub(super) fn open(hsm: &dyn Hsm, object_type: ObjectType, sealed: &[u8]) -> Result<SecretBytes, OpError> {
    let unreadable = || OpError::Internal("stored envelope is malformed".into());
    let (&format, rest) = sealed.split_first().ok_or_else(unreadable)?;
    let (&iv_len, rest) = rest.split_first().ok_or_else(unreadable)?;
    if format != FORMAT || rest.len() < usize::from(iv_len) + TAG_LEN {
        return Err(unreadable());
    }
    let (iv, ciphertext) = rest.split_at(usize::from(iv_len));
    let mut plaintext = hsm.decrypt(ENVELOPE_KEY_ID, &cipher(object_type, Some(iv.to_vec())), ciphertext)?;
    Ok(SecretBytes::new(std::mem::take(&mut *plaintext)))
}
