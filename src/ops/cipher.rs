//! Encrypt and Decrypt share this: the HSM cipher a key and its Cryptographic Parameters
//! describe, the IV rules, PKCS#5 padding the HSM lacks (ECB), and where an AES-GCM tag goes.
//!
//! - AES: ECB, CBC (PKCS#5 padding in the HSM, `CKM_AES_CBC_PAD`), CTR and GCM. A missing IV
//!   on encryption is generated (and returned); on decryption it is Invalid Message, as the
//!   OASIS CS-BC cases answer.
//! - AES-GCM: tag length 12..=16 bytes (default 16). KMIP 1.4 and later carry the tag in
//!   Authenticated Encryption Tag; KMIP 1.0–1.3 have no such field, so there the tag follows
//!   the ciphertext in Data, both ways.
//! - RSA: OAEP (MGF1 over the same hash, empty label) and PKCS#1 v1.5.
//! - Anything else (ChaCha20, XTS, CCM, 3DES …) is Feature Not Supported; a mechanism the HSM
//!   profile lacks answers the same way from the HSM layer.

use zeroize::Zeroizing;

use crate::hsm::{Cipher, Direction};
use crate::kmip::enums::{BlockCipherMode as Mode, CryptographicAlgorithm as Alg, PaddingMethod};
use crate::kmip::objects::CryptographicParameters;
use crate::ttlv::registry::Version;

use super::crypto;
use super::OpError;

/// How one encryption or decryption runs.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    pub cipher: Cipher,
    /// PKCS#5 padding added/removed here: the HSM has no padded ECB.
    pub pad_here: bool,
    /// The tag length of AES-GCM, in bytes.
    pub tag_len: Option<usize>,
}

const BLOCK: usize = 16;

/// The plan for `direction` with a key of `algorithm`.
pub(super) fn plan(
    algorithm: Option<Alg>,
    params: &CryptographicParameters,
    iv: Option<&[u8]>,
    aad: Option<&[u8]>,
    direction: Direction,
) -> Result<Plan, OpError> {
    let plain = |cipher| Ok(Plan { cipher, pad_here: false, tag_len: None });
    match algorithm {
        Some(Alg::AES) => aes(params, iv, aad, direction),
        Some(Alg::RSA) => match params.padding_method {
            Some(PaddingMethod::OAEP) => {
                let hash = crypto::hash(params.hashing_algorithm.unwrap_or(crate::kmip::enums::HashingAlgorithm::SHA_1))?;
                let mgf = params.mask_generator_hashing_algorithm.map(crypto::hash).transpose()?.unwrap_or(hash);
                if mgf != hash {
                    return Err(OpError::FeatureNotSupported(format!(
                        "RSA-OAEP with {hash:?} and MGF1 over {mgf:?}: the HSM takes one hash for both"
                    )));
                }
                if params.p_source.as_ref().is_some_and(|p| !p.is_empty()) {
                    return Err(OpError::FeatureNotSupported("RSA-OAEP with a label (P Source)".into()));
                }
                plain(Cipher::RsaOaep(hash))
            }
            Some(PaddingMethod::PKCS1V1_5) => plain(Cipher::RsaPkcs1v15),
            None => Err(OpError::InvalidField("RSA encryption needs a Padding Method (OAEP or PKCS1 v1.5)".into())),
            Some(other) => Err(OpError::FeatureNotSupported(format!("RSA encryption with {other:?} padding"))),
        },
        Some(other) => Err(OpError::FeatureNotSupported(format!("{other:?} encryption: no HSM mechanism for it"))),
        None => Err(OpError::InvalidField("the key has no Cryptographic Algorithm".into())),
    }
}

fn aes(
    params: &CryptographicParameters,
    iv: Option<&[u8]>,
    aad: Option<&[u8]>,
    direction: Direction,
) -> Result<Plan, OpError> {
    let padding = match params.padding_method {
        None | Some(PaddingMethod::None) => false,
        Some(PaddingMethod::PKCS5) => true,
        Some(other) => return Err(OpError::FeatureNotSupported(format!("AES with {other:?} padding"))),
    };
    let need_iv = |mode: &str| -> Result<Option<Vec<u8>>, OpError> {
        match (iv, direction) {
            (Some([]), _) => Err(OpError::InvalidField(format!("an empty IV/Counter/Nonce for {mode}"))),
            (Some(iv), _) => Ok(Some(iv.to_vec())),
            (None, Direction::Encrypt) => Ok(None),
            (None, Direction::Decrypt) => Err(OpError::MissingIv(format!("{mode} decryption needs the IV"))),
        }
    };
    let block = |mode: &str| -> Result<Option<[u8; BLOCK]>, OpError> {
        need_iv(mode)?
            .map(|iv| {
                <[u8; BLOCK]>::try_from(iv.as_slice())
                    .map_err(|_| OpError::InvalidField(format!("{mode} takes a 16-byte IV, not {} bytes", iv.len())))
            })
            .transpose()
    };
    let (cipher, pad_here, tag_len) = match params.block_cipher_mode {
        Some(Mode::ECB) => (Cipher::AesEcb, padding, None),
        Some(Mode::CBC) => (Cipher::AesCbc { iv: block("AES-CBC")?, padding }, false, None),
        Some(Mode::CTR) if !padding => {
            let counter_bits = match params.counter_length {
                None => 32,
                Some(bits @ 1..=128) => bits.unsigned_abs(),
                Some(bits) => return Err(OpError::InvalidField(format!("Counter Length {bits}"))),
            };
            (Cipher::AesCtr { counter_block: block("AES-CTR")?, counter_bits }, false, None)
        }
        Some(Mode::GCM) if !padding => {
            let tag_len = match params.tag_length {
                None => 16,
                Some(t @ 12..=16) => t.unsigned_abs() as usize,
                Some(t) => return Err(OpError::InvalidTagLength(format!("AES-GCM tags are 12 to 16 bytes, not {t}"))),
            };
            let cipher = Cipher::AesGcm { iv: need_iv("AES-GCM")?, aad: aad.unwrap_or_default().to_vec(), tag_len };
            (cipher, false, Some(tag_len))
        }
        Some(mode @ (Mode::CTR | Mode::GCM)) => {
            return Err(OpError::InvalidField(format!("{mode:?} takes no padding")))
        }
        Some(other) => return Err(OpError::FeatureNotSupported(format!("AES in {other:?} mode"))),
        None => return Err(OpError::InvalidField("AES needs a Block Cipher Mode (Cryptographic Parameters)".into())),
    };
    Ok(Plan { cipher, pad_here, tag_len })
}

/// Gives a stream's cipher an IV from the HSM's generator when the client gave none (a
/// stream's IV must be known before its first part); returns the IV chosen.
pub(super) fn ensure_iv(plan: &mut Plan, hsm: &dyn crate::hsm::Hsm) -> Result<Option<Vec<u8>>, OpError> {
    let fresh = |len| -> Result<Vec<u8>, OpError> { Ok(hsm.random(len)?.to_vec()) };
    let chosen = match &mut plan.cipher {
        Cipher::AesGcm { iv: iv @ None, .. } => iv.insert(fresh(12)?).clone(),
        Cipher::AesCbc { iv: iv @ None, .. } => {
            let block = <[u8; BLOCK]>::try_from(fresh(BLOCK)?.as_slice()).map_err(|_| OpError::Internal("RNG".into()))?;
            iv.insert(block).to_vec()
        }
        Cipher::AesCtr { counter_block: cb @ None, counter_bits } => {
            let mut block =
                <[u8; BLOCK]>::try_from(fresh(BLOCK)?.as_slice()).map_err(|_| OpError::Internal("RNG".into()))?;
            // A zero counter part: a long stream can't run into the nonce.
            let counter_bytes = usize::try_from(counter_bits.div_ceil(8)).unwrap_or(BLOCK).min(BLOCK);
            block.iter_mut().skip(BLOCK - counter_bytes).for_each(|b| *b = 0);
            cb.insert(block).to_vec()
        }
        _ => return Ok(None),
    };
    Ok(Some(chosen))
}

/// Whether the client's version carries the GCM tag in its own field (KMIP 1.4 and later).
pub(super) fn tag_field(version: Version) -> bool {
    version >= Version::new(1, 4)
}

/// PKCS#5 (PKCS#7 over 16-byte blocks) padding for `len` bytes so far.
pub(super) fn padding(len: usize) -> Vec<u8> {
    let n = BLOCK - len % BLOCK;
    vec![n as u8; n]
}

/// `data` followed by its padding.
pub(super) fn pad(data: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(data.len() + BLOCK));
    out.extend_from_slice(data);
    out.extend_from_slice(&padding(data.len()));
    out
}

/// Removes PKCS#5 padding; a bad one is a Cryptographic Failure (wrong key or data).
pub(super) fn unpad(mut data: Zeroizing<Vec<u8>>) -> Result<Zeroizing<Vec<u8>>, OpError> {
    let bad = || OpError::CryptographicFailure("bad PKCS#5 padding".into());
    let n = usize::from(*data.last().ok_or_else(bad)?);
    if n == 0 || n > BLOCK || n > data.len() || data.len() % BLOCK != 0 {
        return Err(bad());
    }
    let keep = data.len() - n;
    if data.get(keep..).is_some_and(|tail| tail.iter().any(|&b| usize::from(b) != n)) {
        return Err(bad());
    }
    data.truncate(keep);
    Ok(data)
}

/// Splits `ciphertext || tag` into its two parts.
pub(super) fn split_tag(mut output: Vec<u8>, tag_len: usize) -> Result<(Vec<u8>, Vec<u8>), OpError> {
    let at = output
        .len()
        .checked_sub(tag_len)
        .ok_or_else(|| OpError::Internal("AES-GCM output shorter than its tag".into()))?;
    let tag = output.split_off(at);
    Ok((output, tag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_round_trips_and_rejects_garbage() {
        for len in [0, 1, 15, 16, 17, 33] {
            let data = vec![7u8; len];
            let padded = pad(&data);
            assert_eq!(padded.len() % BLOCK, 0);
            assert_eq!(&unpad(padded).unwrap()[..], &data[..]);
        }
        assert!(unpad(Zeroizing::new(vec![0u8; 16])).is_err());
        assert!(unpad(Zeroizing::new(vec![17u8; 16])).is_err());
        let mut bad = vec![3u8; 16];
        bad[14] = 2;
        assert!(unpad(Zeroizing::new(bad)).is_err());
        assert!(unpad(Zeroizing::new(Vec::new())).is_err());
    }
}
