//! Pure conversions between KMIP Key Blocks and the HSM layer's KMIP-neutral key material
//! ([`SecretBytes`], [`PublicKeyMaterial`], [`PrivateKeyMaterial`]), and the facts Register
//! needs from an X.509 certificate.
//!
//! Register reads a client's Key Block into material the HSM can import; Get writes material
//! the HSM hands out back in the Key Format Type the client asked for. Nothing here reaches the
//! HSM or the store, so every format is checked byte for byte by the unit tests below.
//!
//! | object                      | Key Format Types read and written                                   |
//! |-----------------------------|---------------------------------------------------------------------|
//! | Symmetric Key, Secret Data  | Raw, Opaque, Transparent Symmetric Key                              |
//! | Private Key                 | PKCS#1, PKCS#8 (RSA, EC, Ed25519, DSA), ECPrivateKey, Transparent RSA / EC (and ECDSA, ECDH, ECMQV) / DSA Private Key |
//! | Public Key                  | PKCS#1, X.509 (SubjectPublicKeyInfo), Transparent RSA / EC (and ECDSA, ECDH, ECMQV) Public Key, Raw (EC point) |
//!
//! # Failures
//!
//! - Invalid Field: malformed DER or values, material that contradicts the block's own
//!   Cryptographic Algorithm or Length, and curves or key algorithms kmipd has no
//!   [`Curve`] for (secp256k1, ...).
//! - Feature Not Supported: a Key Format Type or encoding kmipd does not read (Transparent
//!   DH, encrypted PKCS#8, compressed points, an RSA key given by its private exponent
//!   alone, DSA public keys, which the store keeps as registered), and a Key Value that is
//!   still wrapped: the caller unwraps it first.
//! - Key Format Type Not Supported: material Get can't give in the format asked for.
//!
//! Result Messages name the format and what is wrong with it, never key bytes: DER errors are
//! reduced to a kind and an offset, since the decoder's own texts can quote a byte it read.
//!
//! # Secrets
//!
//! Private parts only ever sit in wiped buffers: DER holding a secret is encoded straight into
//! a [`Zeroizing`] buffer of its exact size, and secret Big Integers are built with
//! [`SecretBigInt::from_unsigned`] rather than through a [`BigInt`].

use der::asn1::{AnyRef, BitStringRef, ObjectIdentifier, OctetStringRef, SequenceOf, UintRef};
use der::{Decode, Encode, ErrorKind, Tag, Tagged};
use pkcs1::{RsaPrivateKey, RsaPublicKey};
use pkcs8::PrivateKeyInfo;
use sec1::{EcParameters, EcPrivateKey};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};
use x509_parser::der_parser::asn1_rs::ToDer;
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};
use zeroize::Zeroizing;

use super::OpError;
use crate::hsm::{Curve, PrivateKeyMaterial, PublicKeyMaterial, SecretBytes};
use crate::kmip::codec::{self, SecretBigInt};
use crate::kmip::enums::{
    CryptographicAlgorithm, DigitalSignatureAlgorithm, KeyCompressionType, KeyFormatType, RecommendedCurve,
};
use crate::kmip::objects::{
    KeyBlock, KeyMaterial, KeyValue, TransparentDsaPrivateKey, TransparentEcPrivateKey, TransparentEcPublicKey,
    TransparentRsaPrivateKey, TransparentRsaPublicKey, TransparentSymmetricKey,
};
use crate::ttlv::BigInt;

use KeyFormatType as F;

/// rsaEncryption (PKCS#1): the key algorithm of RSA keys in SPKI and PKCS#8.
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-dsa (RFC 3279): the key algorithm of DSA keys, the domain parameters (Dss-Parms) in its parameters.
const ID_DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");
/// id-ecPublicKey (RFC 5480): the key algorithm of ECDSA-curve keys, the curve in its parameters.
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
// The named-curve OIDs; Ed25519's is also its key algorithm (RFC 8410).
const P256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const P521_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");
const SECP256K1_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.10");
const ED25519_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");

/// Key material read from a Key Block, with the Cryptographic Algorithm and Length the new
/// object's attributes must carry. The block's own values win when it has them (they have been
/// checked against the material); otherwise they are what the material implies. The caller still
/// reconciles them with the request's separate attributes.
#[derive(Debug)]
pub struct ImportedKey<M> {
    /// The material, ready for the HSM.
    pub material: M,
    /// RSA; EC, ECDSA, ECDH or ECMQV for the NIST curves; Ed25519 (or EC) for Ed25519; DSA.
    pub algorithm: CryptographicAlgorithm,
    /// Modulus length for RSA, the curve's field size for EC, the length of the prime p for DSA.
    pub length: i32,
}

/// What a certificate says about itself that KMIP attributes repeat (Certificate Subject and
/// Issuer, X.509 Certificate Identifier, Subject and Issuer, the 1.0 Certificate Identifier,
/// the 2.x Certificate Subject/Issuer CN, O, ..., Digital Signature Algorithm).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    /// Subject DN as an RFC 4514 string (`CN=KMIP,OU=OASIS,O=TEST,C=US`), as the 1.x text
    /// attributes and the OASIS test cases write it.
    pub subject: String,
    /// Subject DN, DER.
    pub subject_der: Vec<u8>,
    /// Issuer DN as an RFC 4514 string.
    pub issuer: String,
    /// Issuer DN, DER.
    pub issuer_der: Vec<u8>,
    /// The serial number's INTEGER content octets, as encoded.
    pub serial_number: Vec<u8>,
    /// The subject's DN values KMIP 2.x names (CN, O, OU, ...), in certificate order; values
    /// that are not strings are left out rather than guessed at.
    pub subject_parts: Vec<(DnPart, String)>,
    /// The issuer's, likewise.
    pub issuer_parts: Vec<(DnPart, String)>,
    /// Subject Alternative Name extension entries.
    pub subject_alternative_names: Vec<AltName>,
    /// Issuer Alternative Name extension entries.
    pub issuer_alternative_names: Vec<AltName>,
    /// The signature algorithm, when KMIP has a value for it (not for Ed25519, say).
    pub signature_algorithm: Option<DigitalSignatureAlgorithm>,
}

/// A DN attribute type that KMIP 2.x gives an attribute of its own (Certificate Subject CN,
/// Certificate Issuer CN, ...; 2.1 §4.6, after RFC 2253).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnPart {
    /// commonName.
    Cn,
    /// organizationName.
    O,
    /// organizationalUnitName.
    Ou,
    /// emailAddress (PKCS#9).
    Email,
    /// countryName.
    C,
    /// stateOrProvinceName.
    St,
    /// localityName.
    L,
    /// userId (RFC 4519 UID).
    Uid,
    /// serialNumber (of the subject, not the certificate).
    SerialNumber,
    /// title.
    Title,
    /// domainComponent.
    Dc,
    /// dnQualifier.
    DnQualifier,
}

impl DnPart {
    /// The attribute types' OIDs.
    const OIDS: [(&'static str, DnPart); 12] = [
        ("2.5.4.3", DnPart::Cn),
        ("2.5.4.10", DnPart::O),
        ("2.5.4.11", DnPart::Ou),
        ("1.2.840.113549.1.9.1", DnPart::Email),
        ("2.5.4.6", DnPart::C),
        ("2.5.4.8", DnPart::St),
        ("2.5.4.7", DnPart::L),
        ("0.9.2342.19200300.100.1.1", DnPart::Uid),
        ("2.5.4.5", DnPart::SerialNumber),
        ("2.5.4.12", DnPart::Title),
        ("0.9.2342.19200300.100.1.25", DnPart::Dc),
        ("2.5.4.46", DnPart::DnQualifier),
    ];

    fn of(oid: &str) -> Option<DnPart> {
        DnPart::OIDS.iter().find(|(o, _)| *o == oid).map(|(_, p)| *p)
    }
}

/// One General Name of an alternative-name extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AltName {
    /// Its DER (the context-tagged GeneralName): the X.509 Certificate Subject/Issuer value.
    pub der: Vec<u8>,
    /// A readable form (`DNS:example.com`, `IP:127.0.0.1`): the 1.0 text attributes.
    pub text: String,
}

/// The kinds of asymmetric key kmipd handles; for EC the curve decides everything else. DSA keys
/// are private keys only: their public halves stay in the store as registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Rsa,
    Ec(Curve),
    Dsa,
}

impl Family {
    fn of_public(material: &PublicKeyMaterial) -> (Family, u32) {
        match material {
            PublicKeyMaterial::Rsa { modulus, .. } => (Family::Rsa, bit_length(modulus)),
            PublicKeyMaterial::Ec { curve, .. } => (Family::Ec(*curve), curve.bits()),
        }
    }

    fn of_private(material: &PrivateKeyMaterial) -> (Family, u32) {
        match material {
            PrivateKeyMaterial::Rsa { modulus, .. } => (Family::Rsa, bit_length(modulus)),
            PrivateKeyMaterial::Ec { curve, .. } => (Family::Ec(*curve), curve.bits()),
            PrivateKeyMaterial::Dsa { prime, .. } => (Family::Dsa, bit_length(prime)),
        }
    }

    /// The algorithm when the client names none. EC rather than ECDSA: the curve alone does
    /// not say which scheme a key is meant for.
    fn default_algorithm(self) -> CryptographicAlgorithm {
        match self {
            Family::Rsa => CryptographicAlgorithm::RSA,
            Family::Ec(Curve::Ed25519) => CryptographicAlgorithm::Ed25519,
            Family::Ec(_) => CryptographicAlgorithm::EC,
            Family::Dsa => CryptographicAlgorithm::DSA,
        }
    }

    /// Whether a client-declared algorithm fits. Ed25519 also takes the generic EC, since KMIP
    /// describes such a key as EC on CURVE25519 as often as by its own algorithm; never ECDH,
    /// which on that curve means X25519, a different key.
    fn accepts(self, algorithm: CryptographicAlgorithm) -> bool {
        use CryptographicAlgorithm as A;
        match self {
            Family::Rsa => algorithm == A::RSA,
            Family::Ec(Curve::Ed25519) => matches!(algorithm, A::Ed25519 | A::EC),
            Family::Ec(_) => matches!(algorithm, A::EC | A::ECDSA | A::ECDH | A::ECMQV),
            Family::Dsa => algorithm == A::DSA,
        }
    }

    /// "an RSA key", "a P-256 key": for messages.
    fn key(self) -> String {
        match self {
            Family::Rsa => "an RSA key".to_owned(),
            Family::Ec(Curve::Ed25519) => "an Ed25519 key".to_owned(),
            Family::Ec(curve) => format!("a {} key", curve_name(curve)),
            Family::Dsa => "a DSA key".to_owned(),
        }
    }

    /// The AlgorithmIdentifier of SPKI and PKCS#8 for this kind of key. A DSA key's carries its
    /// own domain parameters, which the family does not know: [`pkcs8_der`] adds them.
    fn algorithm_identifier(self) -> AlgorithmIdentifierRef<'static> {
        match self {
            Family::Rsa => AlgorithmIdentifierRef { oid: RSA_ENCRYPTION, parameters: Some(AnyRef::NULL) },
            Family::Ec(Curve::Ed25519) => AlgorithmIdentifierRef { oid: ED25519_OID, parameters: None },
            Family::Ec(curve) => {
                AlgorithmIdentifierRef { oid: EC_PUBLIC_KEY, parameters: Some(AnyRef::from(curve_oid(curve))) }
            }
            Family::Dsa => AlgorithmIdentifierRef { oid: ID_DSA, parameters: None },
        }
    }

    /// The kind of key an SPKI or PKCS#8 AlgorithmIdentifier announces.
    fn from_algorithm_identifier(algorithm: &AlgorithmIdentifierRef<'_>) -> Result<Family, OpError> {
        let oid = algorithm.oid;
        if oid == RSA_ENCRYPTION {
            return Ok(Family::Rsa);
        }
        if oid == EC_PUBLIC_KEY {
            let named = algorithm
                .parameters
                .ok_or_else(|| invalid("the EC key names no curve"))?
                .decode_as::<ObjectIdentifier>()
                .map_err(|_| invalid("the EC key's parameters are not a named curve"))?;
            return ecdsa_curve(named).map(Family::Ec);
        }
        if oid == ED25519_OID {
            return Ok(Family::Ec(Curve::Ed25519));
        }
        if oid == ID_DSA {
            return Ok(Family::Dsa);
        }
        Err(invalid(format!("key algorithm {oid} is not supported")))
    }
}

/// The curve a Recommended Curve names, when kmipd supports it. CURVE25519 is read as Ed25519:
/// it is the only curve KMIP offers for such keys, and kmipd has no X25519 keys to confuse it with.
pub fn curve_from_recommended(curve: RecommendedCurve) -> Option<Curve> {
    match curve {
        RecommendedCurve::P_256 => Some(Curve::P256),
        RecommendedCurve::P_384 => Some(Curve::P384),
        RecommendedCurve::P_521 => Some(Curve::P521),
        RecommendedCurve::SECP256K1 => Some(Curve::Secp256k1),
        RecommendedCurve::CURVE25519 => Some(Curve::Ed25519),
        _ => None,
    }
}

/// The Recommended Curve that names `curve` (the inverse of [`curve_from_recommended`]).
pub fn recommended_curve(curve: Curve) -> RecommendedCurve {
    match curve {
        Curve::P256 => RecommendedCurve::P_256,
        Curve::P384 => RecommendedCurve::P_384,
        Curve::P521 => RecommendedCurve::P_521,
        Curve::Secp256k1 => RecommendedCurve::SECP256K1,
        Curve::Ed25519 => RecommendedCurve::CURVE25519,
    }
}

/// The value of a Symmetric Key or Secret Data, for import into the HSM. Kept apart from the
/// asymmetric readers because these formats carry bytes with no structure to check.
pub fn secret_from_block(block: &KeyBlock) -> Result<SecretBytes, OpError> {
    let value = match (block.key_format_type, plain_material(block)?) {
        (F::Raw | F::Opaque, KeyMaterial::Bytes(bytes)) => bytes.expose(),
        (F::TransparentSymmetricKey, KeyMaterial::TransparentSymmetric(key)) => key.key.expose(),
        (format, _) => return Err(unreadable(format, reads_secret, "a symmetric key or secret data")),
    };
    if value.is_empty() {
        return Err(invalid("the key material is empty"));
    }
    Ok(Zeroizing::new(value.to_vec()))
}

/// A Key Block carrying a secret value, for Get. The value moves into the block without being
/// copied; algorithm and length come from the object's attributes, which only the caller has.
pub fn secret_to_block(
    mut value: SecretBytes,
    format: KeyFormatType,
    algorithm: Option<CryptographicAlgorithm>,
    length: Option<i32>,
) -> Result<KeyBlock, OpError> {
    let bytes = codec::SecretBytes::new(std::mem::take(&mut *value));
    let material = match format {
        F::Raw | F::Opaque => KeyMaterial::Bytes(bytes),
        F::TransparentSymmetricKey => {
            KeyMaterial::TransparentSymmetric(Box::new(TransparentSymmetricKey { key: bytes }))
        }
        _ => {
            return Err(OpError::KeyFormatTypeNotSupported(format!(
                "a symmetric key or secret data can't be given as {format:?}"
            )))
        }
    };
    Ok(plain_block(format, material, algorithm, length))
}

/// A private key from a Register request, with the algorithm and length it implies.
pub fn private_from_block(block: &KeyBlock) -> Result<ImportedKey<PrivateKeyMaterial>, OpError> {
    let material = match (block.key_format_type, plain_material(block)?) {
        (F::PKCS_1, KeyMaterial::Bytes(der)) => rsa_private_from_pkcs1(der.expose())?,
        (F::PKCS_8, KeyMaterial::Bytes(der)) => private_from_pkcs8(der.expose())?,
        (F::ECPrivateKey, KeyMaterial::Bytes(der)) => ec_private_from_sec1(der.expose(), None)?,
        (F::TransparentRSAPrivateKey, KeyMaterial::TransparentRsaPrivate(key)) => rsa_private_from_transparent(key)?,
        (format, KeyMaterial::TransparentEcPrivate(key)) if transparent_ec_private(format) => {
            // For Ed25519, D is the 32-byte seed read as a big-endian number.
            let curve = supported_curve(key.recommended_curve)?;
            PrivateKeyMaterial::Ec { curve, value: private_value(curve, magnitude(key.d.expose(), "D")?)? }
        }
        (F::TransparentDSAPrivateKey, KeyMaterial::TransparentDsaPrivate(key)) => dsa_private([
            magnitude(key.p.as_bytes(), "P")?,
            magnitude(key.q.as_bytes(), "Q")?,
            magnitude(key.g.as_bytes(), "G")?,
            magnitude(key.x.expose(), "X")?,
        ])?,
        (format, _) => return Err(unreadable(format, reads_private, "a private key")),
    };
    let (family, bits) = Family::of_private(&material);
    settle(material, family, bits, block.cryptographic_algorithm, block.cryptographic_length)
}

/// A public key from a Register request, with the algorithm and length it implies.
pub fn public_from_block(block: &KeyBlock) -> Result<ImportedKey<PublicKeyMaterial>, OpError> {
    match block.key_compression_type {
        None | Some(KeyCompressionType::ECPublicKeyTypeUncompressed) => {}
        Some(other) => return Err(OpError::FeatureNotSupported(format!("Key Compression Type {other:?}"))),
    }
    let material = match (block.key_format_type, plain_material(block)?) {
        (F::PKCS_1, KeyMaterial::Bytes(der)) => rsa_public_from_pkcs1(der.expose())?,
        (F::X_509, KeyMaterial::Bytes(der)) => public_from_spki(der.expose())?,
        (F::Raw, KeyMaterial::Bytes(point)) => ec_public_from_raw(point.expose(), block.cryptographic_algorithm)?,
        (F::TransparentRSAPublicKey, KeyMaterial::TransparentRsaPublic(key)) => rsa_public(
            magnitude(key.modulus.as_bytes(), "Modulus")?,
            magnitude(key.public_exponent.as_bytes(), "Public Exponent")?,
        )?,
        (format, KeyMaterial::TransparentEcPublic(key)) if transparent_ec_public(format) => {
            ec_public(supported_curve(key.recommended_curve)?, &key.q_string)?
        }
        (format, _) => return Err(unreadable(format, reads_public, "a public key")),
    };
    let (family, bits) = Family::of_public(&material);
    settle(material, family, bits, block.cryptographic_algorithm, block.cryptographic_length)
}

/// A Key Block carrying a public key in `format`, for Get (the caller picks the default format
/// its protocol version prefers). The block's algorithm is the generic one ([`ImportedKey`]
/// explains which); a caller whose object says ECDSA or ECDH overwrites it.
pub fn public_to_block(material: &PublicKeyMaterial, format: KeyFormatType) -> Result<KeyBlock, OpError> {
    let (family, bits) = Family::of_public(material);
    let key_material = match (format, material) {
        (F::X_509, _) => public_bytes(spki_der(material)?),
        (F::PKCS_1, PublicKeyMaterial::Rsa { modulus, public_exponent }) => {
            public_bytes(rsa_public_der(modulus, public_exponent)?)
        }
        (F::TransparentRSAPublicKey, PublicKeyMaterial::Rsa { modulus, public_exponent }) => {
            KeyMaterial::TransparentRsaPublic(Box::new(TransparentRsaPublicKey {
                modulus: big_int(modulus),
                public_exponent: big_int(public_exponent),
            }))
        }
        (format, PublicKeyMaterial::Ec { curve, point }) if transparent_ec_public(format) => {
            KeyMaterial::TransparentEcPublic(Box::new(TransparentEcPublicKey {
                recommended_curve: recommended_curve(*curve),
                q_string: point.clone(),
            }))
        }
        // A Raw point names no curve, and a 65-byte one reads back as P-256 (`curve_of_point`):
        // a secp256k1 key given as Raw would come back as another key.
        (F::Raw, PublicKeyMaterial::Ec { curve, point }) if *curve != Curve::Secp256k1 => public_bytes(point.clone()),
        _ => return Err(cannot_give(family, format)),
    };
    Ok(asymmetric_block(format, key_material, family, bits))
}

/// A Key Block carrying a private key in `format`, for Get of an extractable private key.
/// The material holds no EC public point: an EC key's RFC 5915 encoding (alone or inside
/// PKCS#8) carries `public_point` when the caller found one, and goes without it otherwise.
pub fn private_to_block(
    material: &PrivateKeyMaterial,
    public_point: Option<&[u8]>,
    format: KeyFormatType,
) -> Result<KeyBlock, OpError> {
    let (family, bits) = Family::of_private(material);
    let key_material = match (format, material) {
        (F::PKCS_1, PrivateKeyMaterial::Rsa { .. }) => secret_bytes(rsa_private_der(material)?),
        (F::PKCS_8, _) => secret_bytes(pkcs8_der(material, public_point)?),
        (F::ECPrivateKey, PrivateKeyMaterial::Ec { curve, value }) if *curve != Curve::Ed25519 => {
            let value = private_value(*curve, value)?;
            secret_bytes(sec1_der(&value, Some(*curve), public_point)?)
        }
        (F::TransparentRSAPrivateKey, PrivateKeyMaterial::Rsa { .. }) => {
            let [n, e, d, p, q, dp, dq, qinv] = rsa_parts(material).ok_or_else(|| cannot_give(family, format))?;
            KeyMaterial::TransparentRsaPrivate(Box::new(TransparentRsaPrivateKey {
                modulus: big_int(n),
                private_exponent: Some(SecretBigInt::from_unsigned(d)),
                public_exponent: Some(big_int(e)),
                p: Some(SecretBigInt::from_unsigned(p)),
                q: Some(SecretBigInt::from_unsigned(q)),
                prime_exponent_p: Some(SecretBigInt::from_unsigned(dp)),
                prime_exponent_q: Some(SecretBigInt::from_unsigned(dq)),
                crt_coefficient: Some(SecretBigInt::from_unsigned(qinv)),
            }))
        }
        (format, PrivateKeyMaterial::Ec { curve, value }) if transparent_ec_private(format) => {
            KeyMaterial::TransparentEcPrivate(Box::new(TransparentEcPrivateKey {
                recommended_curve: recommended_curve(*curve),
                d: SecretBigInt::from_unsigned(value),
            }))
        }
        (F::TransparentDSAPrivateKey, PrivateKeyMaterial::Dsa { prime, subprime, base, value }) => {
            KeyMaterial::TransparentDsaPrivate(Box::new(TransparentDsaPrivateKey {
                p: big_int(prime),
                q: big_int(subprime),
                g: big_int(base),
                x: SecretBigInt::from_unsigned(value),
            }))
        }
        _ => return Err(cannot_give(family, format)),
    };
    Ok(asymmetric_block(format, key_material, family, bits))
}

/// The X.509 SubjectPublicKeyInfo DER of a public key: the X.509 Key Format Type, and what
/// certificates and digests are built over.
pub fn spki_der(material: &PublicKeyMaterial) -> Result<Vec<u8>, OpError> {
    const WHAT: &str = "SubjectPublicKeyInfo";
    let (family, _) = Family::of_public(material);
    let rsa_key;
    let key: &[u8] = match material {
        PublicKeyMaterial::Rsa { modulus, public_exponent } => {
            rsa_key = rsa_public_der(modulus, public_exponent)?;
            &rsa_key
        }
        PublicKeyMaterial::Ec { point, .. } => point,
    };
    let spki = SubjectPublicKeyInfoRef {
        algorithm: family.algorithm_identifier(),
        subject_public_key: BitStringRef::from_bytes(key).map_err(encode_failed(WHAT))?,
    };
    spki.to_der().map_err(encode_failed(WHAT))
}

/// The public key a certificate certifies, with the algorithm and length it implies: Register
/// of a certificate links it to its key, and Certify checks the two match.
pub fn public_from_certificate(der: &[u8]) -> Result<ImportedKey<PublicKeyMaterial>, OpError> {
    let certificate = parse_certificate(der)?;
    let material = public_from_spki(certificate.public_key().raw)?;
    let (family, bits) = Family::of_public(&material);
    settle(material, family, bits, None, None)
}

/// The names, serial number and signature algorithm of a certificate, for the attributes that
/// repeat them.
pub fn certificate_summary(der: &[u8]) -> Result<CertificateSummary, OpError> {
    let certificate = parse_certificate(der)?;
    let (subject, issuer) = (certificate.subject(), certificate.issuer());
    Ok(CertificateSummary {
        subject: rfc4514(subject),
        subject_der: subject.as_raw().to_vec(),
        issuer: rfc4514(issuer),
        issuer_der: issuer.as_raw().to_vec(),
        serial_number: certificate.raw_serial().to_vec(),
        subject_parts: dn_parts(subject),
        issuer_parts: dn_parts(issuer),
        subject_alternative_names: alt_names(&certificate, &x509_parser::oid_registry::OID_X509_EXT_SUBJECT_ALT_NAME)?,
        issuer_alternative_names: alt_names(&certificate, &x509_parser::oid_registry::OID_X509_EXT_ISSUER_ALT_NAME)?,
        signature_algorithm: signature_algorithm(&certificate.signature_algorithm.algorithm.to_id_string()),
    })
}

/// The DER of an INTEGER with these content octets: the X.509 Certificate Identifier's
/// Certificate Serial Number, which the OASIS reference server (TC-CERTATTR-1-14/20) gives
/// as the whole serialNumber field, as it gives the Issuer Distinguished Name.
pub fn serial_number_der(content: &[u8]) -> Result<Vec<u8>, OpError> {
    AnyRef::new(Tag::Integer, content).and_then(|any| any.to_der()).map_err(encode_failed("serial number"))
}

fn dn_parts(name: &X509Name<'_>) -> Vec<(DnPart, String)> {
    name.iter_attributes()
        .filter_map(|a| Some((DnPart::of(&a.attr_type().to_id_string())?, a.as_str().ok()?.to_owned())))
        .collect()
}

/// The General Names of the extension `oid` (Subject or Issuer Alternative Name), if present.
fn alt_names(certificate: &X509Certificate<'_>, oid: &x509_parser::der_parser::Oid<'_>) -> Result<Vec<AltName>, OpError> {
    use x509_parser::extensions::ParsedExtension;
    let Some(extension) = certificate.extensions().iter().find(|e| e.oid == *oid) else {
        return Ok(Vec::new());
    };
    let parsed = match extension.parsed_extension() {
        ParsedExtension::SubjectAlternativeName(n) => &n.general_names,
        ParsedExtension::IssuerAlternativeName(n) => &n.general_names,
        _ => return Err(invalid("malformed X.509 certificate: unreadable alternative name extension")),
    };
    // The raw GeneralNames SEQUENCE, split into its elements for their DER.
    let sequence = AnyRef::from_der(extension.value).map_err(malformed("alternative names"))?;
    let mut reader = der::SliceReader::new(sequence.value()).map_err(malformed("alternative names"))?;
    let mut out = Vec::with_capacity(parsed.len());
    for name in parsed {
        let element = AnyRef::decode(&mut reader).map_err(malformed("alternative names"))?;
        out.push(AltName { der: element.to_der().map_err(encode_failed("alternative name"))?, text: alt_name_text(name) });
    }
    Ok(out)
}

fn alt_name_text(name: &x509_parser::extensions::GeneralName<'_>) -> String {
    use x509_parser::extensions::GeneralName as G;
    match name {
        G::DNSName(s) => format!("DNS:{s}"),
        G::RFC822Name(s) => format!("email:{s}"),
        G::URI(s) => format!("URI:{s}"),
        G::IPAddress(b) => match (<[u8; 4]>::try_from(*b), <[u8; 16]>::try_from(*b)) {
            (Ok(v4), _) => format!("IP:{}", std::net::Ipv4Addr::from(v4)),
            (_, Ok(v6)) => format!("IP:{}", std::net::Ipv6Addr::from(v6)),
            _ => format!("IP:#{}", hex::encode(b)),
        },
        G::DirectoryName(dn) => format!("DirName:{}", rfc4514(dn)),
        other => other.to_string(),
    }
}

/// KMIP's name for a certificate signature algorithm (by OID, RFC 3279/4055/5758, NIST CSOR).
fn signature_algorithm(oid: &str) -> Option<DigitalSignatureAlgorithm> {
    use DigitalSignatureAlgorithm as D;
    Some(match oid {
        "1.2.840.113549.1.1.2" => D::MD2WithRSAEncryption,
        "1.2.840.113549.1.1.4" => D::MD5WithRSAEncryption,
        "1.2.840.113549.1.1.5" => D::SHA_1WithRSAEncryption,
        "1.2.840.113549.1.1.14" => D::SHA_224WithRSAEncryption,
        "1.2.840.113549.1.1.11" => D::SHA_256WithRSAEncryption,
        "1.2.840.113549.1.1.12" => D::SHA_384WithRSAEncryption,
        "1.2.840.113549.1.1.13" => D::SHA_512WithRSAEncryption,
        "1.2.840.113549.1.1.10" => D::RSASSA_PSS,
        "1.2.840.10040.4.3" => D::DSAWithSHA_1,
        "2.16.840.1.101.3.4.3.1" => D::DSAWithSHA224,
        "2.16.840.1.101.3.4.3.2" => D::DSAWithSHA256,
        "1.2.840.10045.4.1" => D::ECDSAWithSHA_1,
        "1.2.840.10045.4.3.1" => D::ECDSAWithSHA224,
        "1.2.840.10045.4.3.2" => D::ECDSAWithSHA256,
        "1.2.840.10045.4.3.3" => D::ECDSAWithSHA384,
        "1.2.840.10045.4.3.4" => D::ECDSAWithSHA512,
        "2.16.840.1.101.3.4.3.14" => D::SHA3_256WithRSAEncryption,
        "2.16.840.1.101.3.4.3.15" => D::SHA3_384WithRSAEncryption,
        "2.16.840.1.101.3.4.3.16" => D::SHA3_512WithRSAEncryption,
        _ => return None,
    })
}

fn parse_certificate(der: &[u8]) -> Result<X509Certificate<'_>, OpError> {
    match X509Certificate::from_der(der) {
        Ok(([], certificate)) => Ok(certificate),
        Ok(_) => Err(invalid("the X.509 certificate is followed by trailing data")),
        // Certificates are public, so the parser's text may be quoted.
        Err(e) => Err(invalid(format!("malformed X.509 certificate: {e}"))),
    }
}

/// A DN the way RFC 4514 writes it: last RDN first, short attribute names where they exist,
/// values that are not strings as `#` and their DER in hex.
fn rfc4514(name: &X509Name<'_>) -> String {
    let rdns: Vec<String> = name
        .iter_rdn()
        .map(|rdn| {
            let parts: Vec<String> = rdn
                .iter()
                .map(|attribute| {
                    let oid = attribute.attr_type();
                    let key = match x509_parser::objects::oid2abbrev(oid, x509_parser::objects::oid_registry()) {
                        Ok(short) => short.to_owned(),
                        Err(_) => oid.to_id_string(),
                    };
                    let value = match attribute.as_str() {
                        Ok(text) => escape_dn_value(text),
                        Err(_) => {
                            format!("#{}", attribute.attr_value().to_der_vec().map(hex::encode).unwrap_or_default())
                        }
                    };
                    format!("{key}={value}")
                })
                .collect();
            parts.join("+")
        })
        .collect();
    rdns.into_iter().rev().collect::<Vec<_>>().join(",")
}

/// RFC 4514 §2.4 escaping of an attribute value.
fn escape_dn_value(value: &str) -> String {
    let last = value.chars().count().saturating_sub(1);
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let special = matches!(c, '"' | '+' | ',' | ';' | '<' | '>' | '\\')
            || (i == 0 && matches!(c, '#' | ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        if c == '\0' {
            out.push_str("\\00");
        } else {
            out.push(c);
        }
    }
    out
}

/// The block's plaintext Key Material. Anything wrapped, whether the whole Key Value or only
/// the material (a Key Block with Key Wrapping Data), is the caller's to unwrap first.
fn plain_material(block: &KeyBlock) -> Result<&KeyMaterial, OpError> {
    match &block.key_value {
        None => Err(OpError::MissingData("the Key Block has no Key Value".into())),
        Some(KeyValue::Plain { key_material, .. }) if block.key_wrapping_data.is_none() => Ok(key_material),
        Some(_) => Err(OpError::FeatureNotSupported("a wrapped Key Value must be unwrapped first".into())),
    }
}

/// Why a block can't be read: a format the reader knows whose material has the wrong shape
/// (only a hand-built block can have that), or a format it does not read.
fn unreadable(format: KeyFormatType, reads: fn(KeyFormatType) -> bool, object: &str) -> OpError {
    if reads(format) {
        invalid(format!("the Key Material does not have the shape Key Format Type {format:?} requires"))
    } else {
        OpError::FeatureNotSupported(format!("Key Format Type {format:?} for {object}"))
    }
}

fn reads_secret(format: KeyFormatType) -> bool {
    matches!(format, F::Raw | F::Opaque | F::TransparentSymmetricKey)
}

fn reads_private(format: KeyFormatType) -> bool {
    matches!(
        format,
        F::PKCS_1 | F::PKCS_8 | F::ECPrivateKey | F::TransparentRSAPrivateKey | F::TransparentDSAPrivateKey
    ) || transparent_ec_private(format)
}

fn reads_public(format: KeyFormatType) -> bool {
    matches!(format, F::PKCS_1 | F::X_509 | F::Raw | F::TransparentRSAPublicKey) || transparent_ec_public(format)
}

/// KMIP 1.x had a Transparent private key format per EC scheme; 1.4 and 2.x add the generic
/// one. All four carry the same structure.
fn transparent_ec_private(format: KeyFormatType) -> bool {
    matches!(
        format,
        F::TransparentECDSAPrivateKey
            | F::TransparentECDHPrivateKey
            | F::TransparentECMQVPrivateKey
            | F::TransparentECPrivateKey
    )
}

/// The public counterparts of [`transparent_ec_private`].
fn transparent_ec_public(format: KeyFormatType) -> bool {
    matches!(
        format,
        F::TransparentECDSAPublicKey
            | F::TransparentECDHPublicKey
            | F::TransparentECMQVPublicKey
            | F::TransparentECPublicKey
    )
}

fn cannot_give(family: Family, format: KeyFormatType) -> OpError {
    OpError::KeyFormatTypeNotSupported(format!("{} can't be given as {format:?}", family.key()))
}

/// Checks the block's own algorithm and length against the material and settles what the
/// object's attributes will say.
fn settle<M>(
    material: M,
    family: Family,
    bits: u32,
    algorithm: Option<CryptographicAlgorithm>,
    length: Option<i32>,
) -> Result<ImportedKey<M>, OpError> {
    let algorithm = match algorithm {
        Some(a) if family.accepts(a) => a,
        Some(a) => return Err(invalid(format!("Cryptographic Algorithm {a:?} does not fit {}", family.key()))),
        None => family.default_algorithm(),
    };
    let actual = i32::try_from(bits).map_err(|_| invalid("the key is too long"))?;
    match length {
        Some(declared) if declared != actual => {
            Err(invalid(format!("Cryptographic Length {declared} does not fit {} of {actual} bits", family.key())))
        }
        _ => Ok(ImportedKey { material, algorithm, length: actual }),
    }
}

fn plain_block(
    format: KeyFormatType,
    key_material: KeyMaterial,
    algorithm: Option<CryptographicAlgorithm>,
    length: Option<i32>,
) -> KeyBlock {
    KeyBlock {
        key_format_type: format,
        key_compression_type: None,
        key_value: Some(KeyValue::Plain { key_material, attributes_v1: Vec::new(), attributes: None }),
        cryptographic_algorithm: algorithm,
        cryptographic_length: length,
        key_wrapping_data: None,
    }
}

fn asymmetric_block(format: KeyFormatType, key_material: KeyMaterial, family: Family, bits: u32) -> KeyBlock {
    plain_block(format, key_material, Some(family.default_algorithm()), i32::try_from(bits).ok())
}

fn public_bytes(bytes: Vec<u8>) -> KeyMaterial {
    KeyMaterial::Bytes(codec::SecretBytes::new(bytes))
}

/// Moves a secret buffer into Key Material without leaving a copy.
fn secret_bytes(mut bytes: SecretBytes) -> KeyMaterial {
    KeyMaterial::Bytes(codec::SecretBytes::new(std::mem::take(&mut *bytes)))
}

fn rsa_private_from_pkcs1(der: &[u8]) -> Result<PrivateKeyMaterial, OpError> {
    let key = RsaPrivateKey::from_der(der).map_err(malformed("PKCS#1 RSAPrivateKey"))?;
    if key.other_prime_infos.is_some() {
        return Err(OpError::FeatureNotSupported("multi-prime RSA keys".into()));
    }
    rsa_private(
        [
            key.modulus,
            key.public_exponent,
            key.private_exponent,
            key.prime1,
            key.prime2,
            key.exponent1,
            key.exponent2,
            key.coefficient,
        ]
        .map(|part| part.as_bytes()),
    )
}

/// The names of the RSA private key parts, in the order [`rsa_private`] and [`rsa_parts`] use.
const RSA_PART_NAMES: [&str; 8] = [
    "Modulus",
    "Public Exponent",
    "Private Exponent",
    "P",
    "Q",
    "Prime Exponent P",
    "Prime Exponent Q",
    "CRT Coefficient",
];

/// The HSM wants every CRT part, and computing the missing ones needs big-number arithmetic
/// kmipd does not carry: a key given by its private exponent alone is refused, naming what
/// is missing.
fn rsa_private_from_transparent(key: &TransparentRsaPrivateKey) -> Result<PrivateKeyMaterial, OpError> {
    fn secret(part: &Option<SecretBigInt>) -> Option<&[u8]> {
        part.as_ref().map(SecretBigInt::expose)
    }
    let given: [Option<&[u8]>; 8] = [
        Some(key.modulus.as_bytes()),
        key.public_exponent.as_ref().map(BigInt::as_bytes),
        secret(&key.private_exponent),
        secret(&key.p),
        secret(&key.q),
        secret(&key.prime_exponent_p),
        secret(&key.prime_exponent_q),
        secret(&key.crt_coefficient),
    ];
    let mut parts: [&[u8]; 8] = [&[]; 8];
    let mut missing = Vec::new();
    for ((part, value), name) in parts.iter_mut().zip(given).zip(RSA_PART_NAMES) {
        match value {
            Some(value) => *part = magnitude(value, name)?,
            None => missing.push(name),
        }
    }
    if !missing.is_empty() {
        return Err(OpError::FeatureNotSupported(format!(
            "a Transparent RSA Private Key without {}; send all CRT parts or PKCS#1",
            missing.join(", ")
        )));
    }
    rsa_private(parts)
}

/// RSA private material from the magnitudes of n, e, d, p, q, dP, dQ and qInv.
fn rsa_private(parts: [&[u8]; 8]) -> Result<PrivateKeyMaterial, OpError> {
    for (part, name) in parts.iter().zip(RSA_PART_NAMES) {
        if strip_zeros(part).is_empty() {
            return Err(invalid(format!("the RSA {name} is zero")));
        }
    }
    let [n, e, d, p, q, dp, dq, qinv] = parts.map(strip_zeros);
    let secret = |part: &[u8]| Zeroizing::new(part.to_vec());
    Ok(PrivateKeyMaterial::Rsa {
        modulus: n.to_vec(),
        public_exponent: e.to_vec(),
        private_exponent: secret(d),
        prime_1: secret(p),
        prime_2: secret(q),
        exponent_1: secret(dp),
        exponent_2: secret(dq),
        coefficient: secret(qinv),
    })
}

/// The RSA parts in [`RSA_PART_NAMES`] order; `None` for an EC key.
fn rsa_parts(material: &PrivateKeyMaterial) -> Option<[&[u8]; 8]> {
    match material {
        PrivateKeyMaterial::Rsa {
            modulus: n,
            public_exponent: e,
            private_exponent: d,
            prime_1: p,
            prime_2: q,
            exponent_1: dp,
            exponent_2: dq,
            coefficient: qinv,
        } => Some([n, e, d, p, q, dp, dq, qinv]),
        PrivateKeyMaterial::Ec { .. } | PrivateKeyMaterial::Dsa { .. } => None,
    }
}

fn rsa_private_der(material: &PrivateKeyMaterial) -> Result<SecretBytes, OpError> {
    const WHAT: &str = "PKCS#1 RSAPrivateKey";
    let parts = rsa_parts(material).ok_or_else(|| OpError::Internal(format!("{WHAT} of a key that is not RSA")))?;
    let uint = |part| UintRef::new(part).map_err(encode_failed(WHAT));
    let [n, e, d, p, q, dp, dq, qinv] = parts;
    let key = RsaPrivateKey {
        modulus: uint(n)?,
        public_exponent: uint(e)?,
        private_exponent: uint(d)?,
        prime1: uint(p)?,
        prime2: uint(q)?,
        exponent1: uint(dp)?,
        exponent2: uint(dq)?,
        coefficient: uint(qinv)?,
        other_prime_infos: None,
    };
    encode_secret(&key, WHAT)
}

/// PKCS#8 wraps the algorithm's own private key encoding, itself secret, so both layers are
/// encoded into wiped buffers.
fn pkcs8_der(material: &PrivateKeyMaterial, public_point: Option<&[u8]>) -> Result<SecretBytes, OpError> {
    let (family, _) = Family::of_private(material);
    // A DSA key's domain parameters, which its AlgorithmIdentifier borrows.
    let dss_parms;
    let mut algorithm = family.algorithm_identifier();
    let inner = match material {
        PrivateKeyMaterial::Rsa { .. } => rsa_private_der(material)?,
        PrivateKeyMaterial::Ec { curve: Curve::Ed25519, value } => {
            // RFC 8410: the seed as an OCTET STRING (CurvePrivateKey) inside the privateKey octets.
            let seed = private_value(Curve::Ed25519, value)?;
            let octets = OctetStringRef::new(&seed).map_err(encode_failed("Ed25519 CurvePrivateKey"))?;
            encode_secret(&octets, "Ed25519 CurvePrivateKey")?
        }
        // The curve is in the AlgorithmIdentifier; RFC 5915 lets the inner key leave it out.
        PrivateKeyMaterial::Ec { curve, value } => sec1_der(&private_value(*curve, value)?, None, public_point)?,
        // RFC 3279: p, q and g in the AlgorithmIdentifier, x as an INTEGER.
        PrivateKeyMaterial::Dsa { prime, subprime, base, value } => {
            const WHAT: &str = "DSA private key";
            dss_parms = dss_parms_der(prime, subprime, base)?;
            algorithm.parameters = Some(AnyRef::from_der(&dss_parms).map_err(encode_failed(WHAT))?);
            encode_secret(&UintRef::new(value).map_err(encode_failed(WHAT))?, WHAT)?
        }
    };
    encode_secret(&PrivateKeyInfo::new(algorithm, &inner), "PKCS#8 PrivateKeyInfo")
}

fn sec1_der(value: &[u8], curve: Option<Curve>, public_point: Option<&[u8]>) -> Result<SecretBytes, OpError> {
    let key = EcPrivateKey {
        private_key: value,
        parameters: curve.map(|c| EcParameters::NamedCurve(*curve_oid(c))),
        public_key: public_point,
    };
    encode_secret(&key, "SEC1 ECPrivateKey")
}

fn private_from_pkcs8(der: &[u8]) -> Result<PrivateKeyMaterial, OpError> {
    let info = match PrivateKeyInfo::from_der(der) {
        Ok(info) => info,
        Err(_) if is_encrypted_pkcs8(der) => {
            return Err(OpError::FeatureNotSupported("encrypted PKCS#8; send the key unencrypted or wrapped".into()))
        }
        // The OASIS test case TC-ECC-2-14 labels a bare SEC1 ECPrivateKey PKCS#8, and clients
        // copy the test cases.
        Err(_) if EcPrivateKey::from_der(der).is_ok() => return ec_private_from_sec1(der, None),
        Err(e) => return Err(malformed("PKCS#8 PrivateKeyInfo")(e)),
    };
    match Family::from_algorithm_identifier(&info.algorithm)? {
        Family::Rsa => rsa_private_from_pkcs1(info.private_key),
        Family::Ec(Curve::Ed25519) => {
            let seed = OctetStringRef::from_der(info.private_key).map_err(malformed("Ed25519 CurvePrivateKey"))?;
            if seed.as_bytes().len() != 32 {
                return Err(invalid("an Ed25519 private key must be 32 bytes"));
            }
            Ok(PrivateKeyMaterial::Ec { curve: Curve::Ed25519, value: Zeroizing::new(seed.as_bytes().to_vec()) })
        }
        Family::Ec(curve) => ec_private_from_sec1(info.private_key, Some(curve)),
        Family::Dsa => {
            let [p, q, g] = dss_parms(info.algorithm.parameters)?;
            let x = UintRef::from_der(info.private_key).map_err(malformed("DSA private key"))?;
            dsa_private([p, q, g, x.as_bytes()])
        }
    }
}

/// The Dss-Parms (RFC 3279) of a DSA AlgorithmIdentifier: p, q and g.
fn dss_parms<'a>(parameters: Option<AnyRef<'a>>) -> Result<[&'a [u8]; 3], OpError> {
    let parameters = parameters.ok_or_else(|| invalid("the DSA key has no domain parameters"))?;
    let parts: SequenceOf<UintRef<'a>, 3> = parameters.decode_as().map_err(malformed("DSA domain parameters"))?;
    match parts.iter().map(UintRef::as_bytes).collect::<Vec<_>>()[..] {
        [p, q, g] => Ok([p, q, g]),
        _ => Err(invalid("the DSA domain parameters must be p, q and g")),
    }
}

fn dss_parms_der(p: &[u8], q: &[u8], g: &[u8]) -> Result<Vec<u8>, OpError> {
    let fail = encode_failed("DSA domain parameters");
    let mut parts = SequenceOf::<UintRef<'_>, 3>::new();
    for part in [p, q, g] {
        parts.add(UintRef::new(part).map_err(&fail)?).map_err(&fail)?;
    }
    parts.to_der().map_err(fail)
}

/// DSA private material from the magnitudes of p, q, g and x, with the checks that catch parts
/// given in the wrong fields: none is zero, g < p and 0 < x < q (FIPS 186-4 §4.1, §4.5).
fn dsa_private(parts: [&[u8]; 4]) -> Result<PrivateKeyMaterial, OpError> {
    let [p, q, g, x] = parts.map(strip_zeros);
    for (part, name) in [(p, "P"), (q, "Q"), (g, "G"), (x, "X")] {
        if part.is_empty() {
            return Err(invalid(format!("the DSA {name} is zero")));
        }
    }
    if !less(g, p) || !less(q, p) {
        return Err(invalid("the DSA G and Q must be smaller than P"));
    }
    if !less(x, q) {
        return Err(invalid("the DSA X must be smaller than Q"));
    }
    Ok(PrivateKeyMaterial::Dsa {
        prime: p.to_vec(),
        subprime: q.to_vec(),
        base: g.to_vec(),
        value: Zeroizing::new(x.to_vec()),
    })
}

/// `a < b` for big-endian magnitudes without leading zeros.
fn less(a: &[u8], b: &[u8]) -> bool {
    (a.len(), a) < (b.len(), b)
}

/// Whether bytes that are no PrivateKeyInfo are an EncryptedPrivateKeyInfo, whose first element
/// is an AlgorithmIdentifier SEQUENCE where a PrivateKeyInfo has its version INTEGER. It only
/// picks the answer: a feature kmipd lacks rather than a malformed key.
fn is_encrypted_pkcs8(der: &[u8]) -> bool {
    AnyRef::from_der(der).is_ok_and(|outer| outer.tag() == Tag::Sequence && outer.value().first() == Some(&0x30))
}

/// An ECPrivateKey (RFC 5915). Its curve is the one the enclosing PKCS#8 names, else its own
/// parameters, else the one its public point's length implies.
fn ec_private_from_sec1(der: &[u8], outer: Option<Curve>) -> Result<PrivateKeyMaterial, OpError> {
    let key = EcPrivateKey::from_der(der).map_err(malformed("SEC1 ECPrivateKey"))?;
    let own = key.parameters.and_then(EcParameters::named_curve).map(ecdsa_curve).transpose()?;
    let curve = match (outer, own) {
        (Some(a), Some(b)) if a != b => {
            return Err(invalid("the ECPrivateKey's curve differs from the PKCS#8 algorithm's"))
        }
        (Some(curve), _) | (None, Some(curve)) => curve,
        (None, None) => {
            key.public_key.and_then(curve_of_point).ok_or_else(|| invalid("the ECPrivateKey names no curve"))?
        }
    };
    Ok(PrivateKeyMaterial::Ec { curve, value: private_value(curve, key.private_key)? })
}

/// PKCS#11 and RFC 5915 both want the private value at the curve's full width, while some
/// encoders (and every Big Integer) drop its leading zero bytes: they are put back here.
fn private_value(curve: Curve, value: &[u8]) -> Result<SecretBytes, OpError> {
    let width = field_bytes(curve);
    let digits = strip_zeros(value);
    if digits.is_empty() {
        return Err(invalid("the EC private value is zero"));
    }
    if digits.len() > width {
        return Err(invalid(format!("the private value is too long for {}", curve_name(curve))));
    }
    let mut out = Zeroizing::new(vec![0u8; width]);
    out[width - digits.len()..].copy_from_slice(digits);
    Ok(out)
}

fn rsa_public_from_pkcs1(der: &[u8]) -> Result<PublicKeyMaterial, OpError> {
    let key = RsaPublicKey::from_der(der).map_err(malformed("PKCS#1 RSAPublicKey"))?;
    rsa_public(key.modulus.as_bytes(), key.public_exponent.as_bytes())
}

fn rsa_public(modulus: &[u8], public_exponent: &[u8]) -> Result<PublicKeyMaterial, OpError> {
    let (modulus, public_exponent) = (strip_zeros(modulus), strip_zeros(public_exponent));
    if modulus.is_empty() || public_exponent.is_empty() {
        return Err(invalid("the RSA modulus and public exponent must not be zero"));
    }
    Ok(PublicKeyMaterial::Rsa { modulus: modulus.to_vec(), public_exponent: public_exponent.to_vec() })
}

fn rsa_public_der(modulus: &[u8], public_exponent: &[u8]) -> Result<Vec<u8>, OpError> {
    let fail = encode_failed("PKCS#1 RSAPublicKey");
    let key = RsaPublicKey {
        modulus: UintRef::new(modulus).map_err(&fail)?,
        public_exponent: UintRef::new(public_exponent).map_err(&fail)?,
    };
    key.to_der().map_err(fail)
}

fn public_from_spki(der: &[u8]) -> Result<PublicKeyMaterial, OpError> {
    let spki = SubjectPublicKeyInfoRef::from_der(der).map_err(malformed("SubjectPublicKeyInfo"))?;
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| invalid("the subject public key is not a whole number of bytes"))?;
    match Family::from_algorithm_identifier(&spki.algorithm)? {
        Family::Rsa => rsa_public_from_pkcs1(key),
        Family::Ec(curve) => ec_public(curve, key),
        Family::Dsa => {
            Err(OpError::FeatureNotSupported("DSA public keys are kept as registered, not converted".into()))
        }
    }
}

/// A Raw public key is the bare point, which names no curve: the length of an uncompressed
/// point does, and 32 bytes under Cryptographic Algorithm Ed25519 are an Ed25519 key. (kmipd
/// reads Raw public keys only as EC points; the algorithm is checked against the curve later.)
fn ec_public_from_raw(point: &[u8], algorithm: Option<CryptographicAlgorithm>) -> Result<PublicKeyMaterial, OpError> {
    if algorithm == Some(CryptographicAlgorithm::Ed25519) {
        return ec_public(Curve::Ed25519, point);
    }
    match curve_of_point(point) {
        Some(curve) => ec_public(curve, point),
        None if is_compressed(point) => Err(compressed_point()),
        None => Err(invalid("a Raw public key must be an uncompressed P-256, P-384 or P-521 point")),
    }
}

/// Checks that `point` has the encoding PKCS#11 wants for `curve`: the uncompressed SEC1 form,
/// or the 32-byte encoding for Ed25519. Whether it lies on the curve is the HSM's to check.
fn ec_public(curve: Curve, point: &[u8]) -> Result<PublicKeyMaterial, OpError> {
    let valid = match curve {
        Curve::Ed25519 => point.len() == 32,
        _ => point.first() == Some(&0x04) && point.len() == 1 + 2 * field_bytes(curve),
    };
    if !valid {
        return Err(match curve {
            Curve::Ed25519 => invalid("an Ed25519 public key must be 32 bytes"),
            _ if is_compressed(point) => compressed_point(),
            _ => invalid(format!("the public key is not an uncompressed {} point", curve_name(curve))),
        });
    }
    Ok(PublicKeyMaterial::Ec { curve, point: point.to_vec() })
}

fn is_compressed(point: &[u8]) -> bool {
    matches!(point.first(), Some(0x02 | 0x03))
}

fn compressed_point() -> OpError {
    OpError::FeatureNotSupported("compressed EC points".into())
}

/// The NIST curve whose uncompressed points have this length. Only NIST curves: a 65-byte point
/// could as well be secp256k1's, and P-256 is what an unnamed 256-bit point is taken to be.
fn curve_of_point(point: &[u8]) -> Option<Curve> {
    if point.first() != Some(&0x04) {
        return None;
    }
    [Curve::P256, Curve::P384, Curve::P521].into_iter().find(|&c| point.len() == 1 + 2 * field_bytes(c))
}

fn supported_curve(curve: RecommendedCurve) -> Result<Curve, OpError> {
    curve_from_recommended(curve).ok_or_else(|| invalid(format!("Recommended Curve {curve:?} is not supported")))
}

/// A `'static` reference, so that an `AnyRef` can borrow it for as long as an encoder needs.
fn curve_oid(curve: Curve) -> &'static ObjectIdentifier {
    match curve {
        Curve::P256 => &P256_OID,
        Curve::P384 => &P384_OID,
        Curve::P521 => &P521_OID,
        Curve::Secp256k1 => &SECP256K1_OID,
        Curve::Ed25519 => &ED25519_OID,
    }
}

/// The curve of an id-ecPublicKey key or an ECPrivateKey: a NIST curve or secp256k1 (Ed25519
/// keys have an algorithm of their own and never come this way).
fn ecdsa_curve(oid: ObjectIdentifier) -> Result<Curve, OpError> {
    match Curve::ALL.into_iter().find(|&c| *curve_oid(c) == oid) {
        Some(curve) if curve != Curve::Ed25519 => Ok(curve),
        _ => Err(invalid(format!("elliptic curve {oid} is not supported"))),
    }
}

fn curve_name(curve: Curve) -> &'static str {
    match curve {
        Curve::P256 => "P-256",
        Curve::P384 => "P-384",
        Curve::P521 => "P-521",
        Curve::Secp256k1 => "secp256k1",
        Curve::Ed25519 => "Ed25519",
    }
}

/// Bytes of a coordinate or private value on `curve`.
fn field_bytes(curve: Curve) -> usize {
    curve.bits().div_ceil(8) as usize
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Bits in a big-endian unsigned number.
fn bit_length(bytes: &[u8]) -> u32 {
    match strip_zeros(bytes) {
        [] => 0,
        [first, rest @ ..] => {
            u32::try_from(rest.len() * 8).unwrap_or(u32::MAX - 8).saturating_add(8 - first.leading_zeros())
        }
    }
}

/// The magnitude of a Big Integer's two's-complement wire bytes; key parts are never negative.
fn magnitude<'a>(twos_complement: &'a [u8], name: &str) -> Result<&'a [u8], OpError> {
    if twos_complement.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(invalid(format!("{name} is negative")));
    }
    Ok(strip_zeros(twos_complement))
}

/// A public Big Integer from a magnitude (the same sign handling as the secret one).
fn big_int(magnitude: &[u8]) -> BigInt {
    SecretBigInt::from_unsigned(magnitude).to_big_int()
}

/// DER of a value holding secrets, written straight into a wiped buffer of its exact size (a
/// `to_der` vector would be freed unwiped).
fn encode_secret(value: &impl Encode, what: &'static str) -> Result<SecretBytes, OpError> {
    let fail = encode_failed(what);
    let len = value.encoded_len().and_then(usize::try_from).map_err(&fail)?;
    let mut out = Zeroizing::new(vec![0u8; len]);
    let written = value.encode_to_slice(&mut out).map_err(&fail)?.len();
    out.truncate(written);
    Ok(out)
}

fn encode_failed(what: &'static str) -> impl Fn(der::Error) -> OpError {
    move |e| OpError::Internal(format!("encoding {what} failed: {e}"))
}

/// A DER decoding error as Invalid Field. Only its kind and offset are kept: the decoder's own
/// text can quote a byte it met, and in a private key any byte may be secret.
fn malformed(what: &'static str) -> impl Fn(der::Error) -> OpError {
    move |e| {
        let problem = match e.kind() {
            ErrorKind::Incomplete { .. } => "is truncated",
            ErrorKind::TrailingData { .. } => "is followed by trailing data",
            ErrorKind::TagUnexpected { .. } | ErrorKind::TagUnknown { .. } => "has an unexpected element",
            ErrorKind::Length { .. }
            | ErrorKind::IndefiniteLength
            | ErrorKind::Overflow
            | ErrorKind::Overlength
            | ErrorKind::Noncanonical { .. } => "has a bad length or a non-canonical encoding",
            _ => "is not valid DER",
        };
        let at = e.position().map(|p| format!(" (at byte {p})")).unwrap_or_default();
        invalid(format!("malformed {what}: it {problem}{at}"))
    }
}

fn invalid(message: impl Into<String>) -> OpError {
    OpError::InvalidField(message.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmip::enums::WrappingMethod;
    use crate::kmip::objects::KeyWrappingData;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    fn bytes_block(format: KeyFormatType, bytes: &[u8]) -> KeyBlock {
        plain_block(format, KeyMaterial::Bytes(codec::SecretBytes::new(bytes.to_vec())), None, None)
    }

    fn block_bytes(block: &KeyBlock) -> &[u8] {
        match &block.key_value {
            Some(KeyValue::Plain { key_material: KeyMaterial::Bytes(b), .. }) => b.expose(),
            other => panic!("not a byte string Key Material: {other:?}"),
        }
    }

    fn key_material(block: &KeyBlock) -> &KeyMaterial {
        match &block.key_value {
            Some(KeyValue::Plain { key_material, .. }) => key_material,
            other => panic!("no plaintext Key Material: {other:?}"),
        }
    }

    /// `PrivateKeyMaterial` has no `PartialEq` (nothing outside tests should compare secrets).
    fn private_parts(material: &PrivateKeyMaterial) -> Vec<Vec<u8>> {
        match material {
            PrivateKeyMaterial::Rsa { .. } => rsa_parts(material).unwrap().iter().map(|p| p.to_vec()).collect(),
            PrivateKeyMaterial::Ec { curve, value } => vec![curve_oid(*curve).as_bytes().to_vec(), value.to_vec()],
            PrivateKeyMaterial::Dsa { prime, subprime, base, value } => {
                vec![prime.clone(), subprime.clone(), base.clone(), value.to_vec()]
            }
        }
    }

    fn private(format: KeyFormatType, der: &str) -> ImportedKey<PrivateKeyMaterial> {
        private_from_block(&bytes_block(format, &hex(der))).unwrap()
    }

    fn public(format: KeyFormatType, der: &str) -> ImportedKey<PublicKeyMaterial> {
        public_from_block(&bytes_block(format, &hex(der))).unwrap()
    }

    /// The public half of private material (RSA only: EC material holds no point).
    fn rsa_public_of(material: &PrivateKeyMaterial) -> PublicKeyMaterial {
        let [n, e, ..] = rsa_parts(material).unwrap();
        PublicKeyMaterial::Rsa { modulus: n.to_vec(), public_exponent: e.to_vec() }
    }

    fn transparent_rsa_fixture() -> TransparentRsaPrivateKey {
        let [n, e, d, p, q, dp, dq, qinv] = RSA1024_TRANSPARENT.map(|h| BigInt::from_signed_bytes(&hex(h)));
        let secret = |b: &BigInt| Some(SecretBigInt::new(b));
        TransparentRsaPrivateKey {
            modulus: n,
            private_exponent: secret(&d),
            public_exponent: Some(e),
            p: secret(&p),
            q: secret(&q),
            prime_exponent_p: secret(&dp),
            prime_exponent_q: secret(&dq),
            crt_coefficient: secret(&qinv),
        }
    }

    fn assert_invalid<T: std::fmt::Debug>(result: Result<T, OpError>, needle: &str) {
        match result {
            Err(OpError::InvalidField(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
            other => panic!("expected Invalid Field ({needle}), got {other:?}"),
        }
    }

    fn assert_unsupported<T: std::fmt::Debug>(result: Result<T, OpError>, needle: &str) {
        match result {
            Err(OpError::FeatureNotSupported(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
            other => panic!("expected Feature Not Supported ({needle}), got {other:?}"),
        }
    }

    #[test]
    fn secrets_round_trip_through_every_format() {
        // BL-M-3-21 registers this AES key as a Transparent Symmetric Key.
        let key = hex("0123456789abcdef0123456789abcdef");
        for format in [F::Raw, F::Opaque, F::TransparentSymmetricKey] {
            let block =
                secret_to_block(Zeroizing::new(key.clone()), format, Some(CryptographicAlgorithm::AES), Some(128))
                    .unwrap();
            assert_eq!(block.key_format_type, format);
            assert_eq!(block.cryptographic_algorithm, Some(CryptographicAlgorithm::AES));
            assert_eq!(block.cryptographic_length, Some(128));
            assert_eq!(*secret_from_block(&block).unwrap(), key);
        }
        let transparent = plain_block(
            F::TransparentSymmetricKey,
            KeyMaterial::TransparentSymmetric(Box::new(TransparentSymmetricKey {
                key: codec::SecretBytes::new(key.clone()),
            })),
            None,
            None,
        );
        assert_eq!(*secret_from_block(&transparent).unwrap(), key);
    }

    #[test]
    fn secrets_refuse_what_they_cant_be() {
        let result = secret_to_block(Zeroizing::new(vec![1; 16]), F::PKCS_8, None, None);
        assert!(matches!(result, Err(OpError::KeyFormatTypeNotSupported(_))), "{result:?}");
        assert_unsupported(secret_from_block(&bytes_block(F::PKCS_1, &[1; 16])), "PKCS_1");
        assert_invalid(secret_from_block(&bytes_block(F::Raw, &[])), "empty");
        // A Transparent format with byte-string material can only be built by hand.
        assert_invalid(secret_from_block(&bytes_block(F::TransparentSymmetricKey, &[1; 16])), "shape");
    }

    #[test]
    fn wrapped_or_absent_key_values_are_not_read() {
        let mut wrapped = bytes_block(F::Raw, &[1; 16]);
        wrapped.key_value = Some(KeyValue::Wrapped(codec::SecretBytes::new(vec![2; 24])));
        assert_unsupported(secret_from_block(&wrapped), "unwrapped first");
        // Material-only wrapping leaves a plain-looking Key Value: the Key Wrapping Data tells.
        let mut material_only = bytes_block(F::PKCS_1, &hex(RSA1024_PKCS1));
        material_only.key_wrapping_data = Some(KeyWrappingData {
            wrapping_method: WrappingMethod::Encrypt,
            encryption_key_information: None,
            mac_signature_key_information: None,
            mac_signature: None,
            iv_counter_nonce: None,
            encoding_option: None,
        });
        assert_unsupported(private_from_block(&material_only), "unwrapped first");
        let mut absent = bytes_block(F::Raw, &[1; 16]);
        absent.key_value = None;
        assert!(matches!(secret_from_block(&absent), Err(OpError::MissingData(_))));
    }

    #[test]
    fn one_rsa_key_reads_the_same_from_each_oasis_format() {
        let pkcs1 = private(F::PKCS_1, RSA1024_PKCS1);
        let pkcs8 = private(F::PKCS_8, RSA1024_PKCS8);
        let transparent_block = plain_block(
            F::TransparentRSAPrivateKey,
            KeyMaterial::TransparentRsaPrivate(Box::new(transparent_rsa_fixture())),
            Some(CryptographicAlgorithm::RSA),
            Some(1024),
        );
        let transparent = private_from_block(&transparent_block).unwrap();
        for key in [&pkcs1, &pkcs8, &transparent] {
            assert_eq!((key.algorithm, key.length), (CryptographicAlgorithm::RSA, 1024));
            assert_eq!(private_parts(&key.material), private_parts(&pkcs1.material));
        }
        let spki = public(F::X_509, RSA1024_SPKI);
        assert_eq!((spki.algorithm, spki.length), (CryptographicAlgorithm::RSA, 1024));
        assert_eq!(spki.material, rsa_public_of(&pkcs1.material));
    }

    #[test]
    fn rsa_keys_are_written_as_the_oasis_test_cases_write_them() {
        let material = private(F::PKCS_1, RSA1024_PKCS1).material;
        let pkcs1 = private_to_block(&material, None, F::PKCS_1).unwrap();
        assert_eq!(block_bytes(&pkcs1), hex(RSA1024_PKCS1));
        assert_eq!(
            (pkcs1.cryptographic_algorithm, pkcs1.cryptographic_length),
            (Some(CryptographicAlgorithm::RSA), Some(1024))
        );
        assert_eq!(block_bytes(&private_to_block(&material, None, F::PKCS_8).unwrap()), hex(RSA1024_PKCS8));
        let transparent = private_to_block(&material, None, F::TransparentRSAPrivateKey).unwrap();
        assert_eq!(
            key_material(&transparent),
            &KeyMaterial::TransparentRsaPrivate(Box::new(transparent_rsa_fixture()))
        );
        let public = rsa_public_of(&material);
        assert_eq!(block_bytes(&public_to_block(&public, F::X_509).unwrap()), hex(RSA1024_SPKI));

        let big = private(F::PKCS_1, RSA2048_PKCS1);
        assert_eq!(big.length, 2048);
        assert_eq!(block_bytes(&private_to_block(&big.material, None, F::PKCS_1).unwrap()), hex(RSA2048_PKCS1));
    }

    #[test]
    fn rsa_public_keys_match_across_oasis_formats() {
        let pkcs1 = public(F::PKCS_1, RSA2048_PKCS1_PUBLIC);
        assert_eq!((pkcs1.algorithm, pkcs1.length), (CryptographicAlgorithm::RSA, 2048));
        assert_eq!(pkcs1.material, rsa_public_of(&private(F::PKCS_1, RSA2048_PKCS1).material));
        let expected = KeyMaterial::TransparentRsaPublic(Box::new(TransparentRsaPublicKey {
            modulus: BigInt::from_signed_bytes(&hex(RSA2048_TRANSPARENT_MODULUS)),
            public_exponent: BigInt::from_signed_bytes(&hex("0000000000010001")),
        }));
        let transparent = public_to_block(&pkcs1.material, F::TransparentRSAPublicKey).unwrap();
        assert_eq!(key_material(&transparent), &expected);
        let block = plain_block(F::TransparentRSAPublicKey, expected, Some(CryptographicAlgorithm::RSA), Some(2048));
        assert_eq!(public_from_block(&block).unwrap().material, pkcs1.material);
        assert_eq!(block_bytes(&public_to_block(&pkcs1.material, F::PKCS_1).unwrap()), hex(RSA2048_PKCS1_PUBLIC));
    }

    #[test]
    fn oasis_ec_keys_read_with_their_declared_algorithm() {
        for (private_der, spki_der_hex, format) in
            [(P256_SEC1, P256_SEC1_SPKI, F::ECPrivateKey), (P256_PKCS8, P256_PKCS8_SPKI, F::PKCS_8)]
        {
            let mut block = bytes_block(format, &hex(private_der));
            block.cryptographic_algorithm = Some(CryptographicAlgorithm::ECDSA);
            block.cryptographic_length = Some(256);
            let key = private_from_block(&block).unwrap();
            assert_eq!((key.algorithm, key.length), (CryptographicAlgorithm::ECDSA, 256));
            let PrivateKeyMaterial::Ec { curve: Curve::P256, value } = &key.material else { panic!("{key:?}") };
            assert_eq!(value.len(), 32);

            let public = public(F::X_509, spki_der_hex);
            assert_eq!((public.algorithm, public.length), (CryptographicAlgorithm::EC, 256));
            let PublicKeyMaterial::Ec { curve: Curve::P256, point } = &public.material else { panic!() };
            // The private key carries its public point too: the two fixtures are one key pair.
            let inner = match format {
                F::PKCS_8 => PrivateKeyInfo::from_der(&hex(private_der)).unwrap().private_key.to_vec(),
                _ => hex(private_der),
            };
            assert_eq!(EcPrivateKey::from_der(&inner).unwrap().public_key, Some(&point[..]));
            assert_eq!(block_bytes(&public_to_block(&public.material, F::X_509).unwrap()), hex(spki_der_hex));
        }
    }

    #[test]
    fn oasis_keys_kmipd_cannot_take_say_why() {
        // TC-ECC-2-14 registers an encrypted PKCS#8 key, then reads it back as a bare SEC1 key
        // labelled PKCS#8: the first is refused as a feature, the second read as what it is.
        assert_unsupported(private_from_block(&bytes_block(F::PKCS_8, &hex(ENCRYPTED_PKCS8))), "encrypted PKCS#8");
        let sec1_as_pkcs8 = private(F::PKCS_8, P256_SEC1);
        assert_eq!(
            private_parts(&sec1_as_pkcs8.material),
            private_parts(&private(F::ECPrivateKey, P256_SEC1).material)
        );
    }

    #[test]
    fn openssl_keys_of_every_curve_read_and_write_back() {
        let cases = [
            (Curve::P384, F::PKCS_8, P384_PKCS8, P384_SPKI, CryptographicAlgorithm::EC, 384),
            (Curve::P521, F::ECPrivateKey, P521_SEC1, P521_SPKI, CryptographicAlgorithm::EC, 521),
            (Curve::Secp256k1, F::ECPrivateKey, SECP256K1_SEC1, SECP256K1_SPKI, CryptographicAlgorithm::EC, 256),
            (Curve::Ed25519, F::PKCS_8, ED25519_PKCS8, ED25519_SPKI, CryptographicAlgorithm::Ed25519, 256),
        ];
        for (curve, format, private_der, spki, algorithm, bits) in cases {
            let key = private(format, private_der);
            assert_eq!((key.algorithm, key.length), (algorithm, bits), "{curve:?}");
            let PrivateKeyMaterial::Ec { curve: c, value } = &key.material else { panic!() };
            assert_eq!((*c, value.len()), (curve, field_bytes(curve)));
            let public = public(F::X_509, spki);
            assert_eq!((public.algorithm, public.length), (algorithm, bits), "{curve:?}");
            assert_eq!(block_bytes(&public_to_block(&public.material, F::X_509).unwrap()), hex(spki));
        }
        // OpenSSL writes Ed25519 PKCS#8 without the optional public key, as kmipd does.
        let ed = private(F::PKCS_8, ED25519_PKCS8);
        assert_eq!(block_bytes(&private_to_block(&ed.material, None, F::PKCS_8).unwrap()), hex(ED25519_PKCS8));
    }

    #[test]
    fn a_secp256k1_key_with_its_public_point_writes_back_as_registered() {
        let key = private(F::ECPrivateKey, SECP256K1_SEC1);
        let PublicKeyMaterial::Ec { curve: Curve::Secp256k1, point } = public(F::X_509, SECP256K1_SPKI).material else {
            panic!()
        };
        let sec1 = private_to_block(&key.material, Some(&point), F::ECPrivateKey).unwrap();
        assert_eq!(block_bytes(&sec1), hex(SECP256K1_SEC1));
        // Inside PKCS#8 the curve is the AlgorithmIdentifier's; the point stays in the inner key.
        let pkcs8 = private_to_block(&key.material, Some(&point), F::PKCS_8).unwrap();
        let pkcs8 = block_bytes(&pkcs8);
        let inner = PrivateKeyInfo::from_der(pkcs8).unwrap().private_key.to_vec();
        assert_eq!(EcPrivateKey::from_der(&inner).unwrap().public_key, Some(&point[..]));
        let back = private_from_block(&bytes_block(F::PKCS_8, pkcs8)).unwrap();
        assert_eq!(private_parts(&back.material), private_parts(&key.material));
        let transparent = private_to_block(&key.material, None, F::TransparentECPrivateKey).unwrap();
        let Some(KeyValue::Plain { key_material: KeyMaterial::TransparentEcPrivate(t), .. }) = transparent.key_value else {
            panic!()
        };
        assert_eq!(t.recommended_curve, RecommendedCurve::SECP256K1);
    }

    fn public_samples() -> Vec<PublicKeyMaterial> {
        [RSA1024_SPKI, P256_SEC1_SPKI, P384_SPKI, P521_SPKI, SECP256K1_SPKI, ED25519_SPKI]
            .into_iter()
            .map(|spki| public(F::X_509, spki).material)
            .chain([public(F::PKCS_1, RSA2048_PKCS1_PUBLIC).material])
            .collect()
    }

    fn private_samples() -> Vec<PrivateKeyMaterial> {
        [
            (F::PKCS_1, RSA1024_PKCS1),
            (F::PKCS_1, RSA2048_PKCS1),
            (F::ECPrivateKey, P256_SEC1),
            (F::PKCS_8, P384_PKCS8),
            (F::ECPrivateKey, P521_SEC1),
            (F::ECPrivateKey, SECP256K1_SEC1),
            (F::PKCS_8, ED25519_PKCS8),
            (F::PKCS_8, DSA1024_PKCS8),
        ]
        .into_iter()
        .map(|(format, der)| private(format, der).material)
        .collect()
    }

    /// Every format a key could be asked for, whether or not it fits.
    const FORMATS: [KeyFormatType; 16] = [
        F::Raw,
        F::Opaque,
        F::PKCS_1,
        F::PKCS_8,
        F::X_509,
        F::ECPrivateKey,
        F::TransparentSymmetricKey,
        F::TransparentRSAPublicKey,
        F::TransparentRSAPrivateKey,
        F::TransparentECPublicKey,
        F::TransparentECDSAPublicKey,
        F::TransparentECDHPublicKey,
        F::TransparentECPrivateKey,
        F::TransparentECDSAPrivateKey,
        F::TransparentECMQVPrivateKey,
        F::TransparentDSAPrivateKey,
    ];

    /// Writes each sample in each format: the formats `has` allows must read back as the same
    /// key with the generic algorithm and its length, the others must be refused as formats.
    fn round_trips<M>(
        samples: Vec<M>,
        facts: fn(&M) -> (Family, u32),
        has: fn(Family, KeyFormatType) -> bool,
        write: fn(&M, KeyFormatType) -> Result<KeyBlock, OpError>,
        read: fn(&KeyBlock) -> Result<ImportedKey<M>, OpError>,
        compare: fn(&M) -> Vec<Vec<u8>>,
    ) {
        for material in samples {
            let (family, bits) = facts(&material);
            for format in FORMATS {
                let block = match write(&material, format) {
                    Ok(block) => block,
                    Err(OpError::KeyFormatTypeNotSupported(_)) if !has(family, format) => continue,
                    Err(e) => panic!("{family:?} as {format:?}: {e}"),
                };
                assert!(has(family, format), "{family:?} as {format:?} should have been refused");
                let generic = (Some(family.default_algorithm()), Some(bits as i32));
                assert_eq!((block.cryptographic_algorithm, block.cryptographic_length), generic);
                let back = read(&block).unwrap();
                assert_eq!(compare(&back.material), compare(&material), "{family:?} as {format:?}");
                assert_eq!((Some(back.algorithm), Some(back.length)), generic);
            }
        }
    }

    #[test]
    fn public_keys_round_trip_through_every_format_they_have() {
        round_trips(
            public_samples(),
            Family::of_public,
            |family, format| match family {
                Family::Rsa => matches!(format, F::X_509 | F::PKCS_1 | F::TransparentRSAPublicKey),
                Family::Ec(Curve::Secp256k1) => format == F::X_509 || transparent_ec_public(format),
                Family::Ec(_) => matches!(format, F::X_509 | F::Raw) || transparent_ec_public(format),
                Family::Dsa => false,
            },
            public_to_block,
            public_from_block,
            |material| vec![spki_der(material).unwrap()],
        );
    }

    #[test]
    fn private_keys_round_trip_through_every_format_they_have() {
        round_trips(
            private_samples(),
            Family::of_private,
            |family, format| match family {
                Family::Rsa => matches!(format, F::PKCS_1 | F::PKCS_8 | F::TransparentRSAPrivateKey),
                Family::Ec(Curve::Ed25519) => format == F::PKCS_8 || transparent_ec_private(format),
                Family::Ec(_) => matches!(format, F::PKCS_8 | F::ECPrivateKey) || transparent_ec_private(format),
                Family::Dsa => matches!(format, F::PKCS_8 | F::TransparentDSAPrivateKey),
            },
            |material, format| private_to_block(material, None, format),
            private_from_block,
            private_parts,
        );
    }

    fn dsa_block(key: TransparentDsaPrivateKey) -> KeyBlock {
        plain_block(F::TransparentDSAPrivateKey, KeyMaterial::TransparentDsaPrivate(Box::new(key)), None, None)
    }

    fn bl_m_13_key() -> TransparentDsaPrivateKey {
        let [p, q, g, x] = BL_M_13_DSA.map(|h| BigInt::from_signed_bytes(&hex(h)));
        TransparentDsaPrivateKey { p, q, g, x: SecretBigInt::new(&x) }
    }

    #[test]
    fn dsa_private_keys_read_and_write_as_the_oasis_case_and_openssl_do() {
        // BL-M-13-21 registers a Transparent DSA Private Key and expects it back unchanged.
        let mut block = dsa_block(bl_m_13_key());
        block.cryptographic_algorithm = Some(CryptographicAlgorithm::DSA);
        block.cryptographic_length = Some(512);
        let key = private_from_block(&block).unwrap();
        assert_eq!((key.algorithm, key.length), (CryptographicAlgorithm::DSA, 512));
        let back = private_to_block(&key.material, None, F::TransparentDSAPrivateKey).unwrap();
        assert_eq!(back, block);
        // The same key as PKCS#8, byte for byte as OpenSSL writes it, and read back.
        let pkcs8 = private_to_block(&key.material, None, F::PKCS_8).unwrap();
        assert_eq!(block_bytes(&pkcs8), hex(BL_M_13_DSA_PKCS8));
        assert_eq!(private_parts(&private(F::PKCS_8, BL_M_13_DSA_PKCS8).material), private_parts(&key.material));
        // A key OpenSSL generated.
        let openssl = private(F::PKCS_8, DSA1024_PKCS8);
        assert_eq!((openssl.algorithm, openssl.length), (CryptographicAlgorithm::DSA, 1024));
        assert_eq!(block_bytes(&private_to_block(&openssl.material, None, F::PKCS_8).unwrap()), hex(DSA1024_PKCS8));
        for format in [F::PKCS_1, F::ECPrivateKey, F::TransparentRSAPrivateKey, F::TransparentECPrivateKey] {
            let result = private_to_block(&key.material, None, format);
            let refused = matches!(result, Err(OpError::KeyFormatTypeNotSupported(ref m)) if m.contains("a DSA key"));
            assert!(refused, "{format:?}: {result:?}");
        }
    }

    #[test]
    fn dsa_keys_with_misplaced_or_missing_parts_say_which() {
        let declared = |algorithm, length| {
            let mut block = dsa_block(bl_m_13_key());
            block.cryptographic_algorithm = algorithm;
            block.cryptographic_length = length;
            private_from_block(&block)
        };
        assert_invalid(declared(Some(CryptographicAlgorithm::RSA), None), "RSA does not fit a DSA key");
        assert_invalid(declared(None, Some(1024)), "Length 1024 does not fit a DSA key of 512 bits");
        // P and Q swapped, X outside [1, Q), a zero and a negative part.
        let mut swapped = bl_m_13_key();
        std::mem::swap(&mut swapped.p, &mut swapped.q);
        assert_invalid(private_from_block(&dsa_block(swapped)), "G and Q must be smaller than P");
        let mut big_x = bl_m_13_key();
        big_x.x = SecretBigInt::new(&big_x.q);
        assert_invalid(private_from_block(&dsa_block(big_x)), "X must be smaller than Q");
        let mut zero = bl_m_13_key();
        zero.g = BigInt::from_signed_bytes(&[0]);
        assert_invalid(private_from_block(&dsa_block(zero)), "the DSA G is zero");
        let mut negative = bl_m_13_key();
        negative.q = BigInt::from_signed_bytes(&[0x80, 1, 2, 3, 4, 5, 6, 7]);
        assert_invalid(private_from_block(&dsa_block(negative)), "Q is negative");
        // PKCS#8 whose AlgorithmIdentifier lost its Dss-Parms, or carries only two of them.
        let no_parameters = pkcs8_with_dss_parms(None);
        assert_invalid(private_from_block(&bytes_block(F::PKCS_8, &no_parameters)), "no domain parameters");
        let two = pkcs8_with_dss_parms(Some(&hex("3006020105020103")));
        assert_invalid(private_from_block(&bytes_block(F::PKCS_8, &two)), "must be p, q and g");
        // DSA public keys stay as registered: they are not read.
        let spki = SubjectPublicKeyInfoRef {
            algorithm: AlgorithmIdentifierRef { oid: ID_DSA, parameters: None },
            subject_public_key: BitStringRef::from_bytes(&[2, 1, 5]).unwrap(),
        };
        assert_unsupported(public_from_block(&bytes_block(F::X_509, &spki.to_der().unwrap())), "DSA public keys");
    }

    /// BL-M-13's key as PKCS#8 with other (or no) DSA domain parameters.
    fn pkcs8_with_dss_parms(parameters: Option<&[u8]>) -> Vec<u8> {
        let x = hex("0214095411d740d2443fa3f97d1ed9a0411bb45e7131");
        let parameters = parameters.map(|der| AnyRef::from_der(der).unwrap());
        let algorithm = AlgorithmIdentifierRef { oid: ID_DSA, parameters };
        PrivateKeyInfo::new(algorithm, &x).to_der().unwrap()
    }

    #[test]
    fn transparent_rsa_without_crt_parts_is_refused_by_name() {
        let mut key = transparent_rsa_fixture();
        key.p = None;
        key.q = None;
        key.prime_exponent_p = None;
        key.prime_exponent_q = None;
        key.crt_coefficient = None;
        let block =
            plain_block(F::TransparentRSAPrivateKey, KeyMaterial::TransparentRsaPrivate(Box::new(key)), None, None);
        assert_unsupported(
            private_from_block(&block),
            "without P, Q, Prime Exponent P, Prime Exponent Q, CRT Coefficient",
        );

        let mut negative = transparent_rsa_fixture();
        negative.modulus = BigInt::from_signed_bytes(&[0x80, 1, 2, 3, 4, 5, 6, 7]);
        let block = plain_block(
            F::TransparentRSAPrivateKey,
            KeyMaterial::TransparentRsaPrivate(Box::new(negative)),
            None,
            None,
        );
        assert_invalid(private_from_block(&block), "Modulus is negative");
    }

    #[test]
    fn declared_algorithm_and_length_must_fit_the_material() {
        let mut block = bytes_block(F::PKCS_1, &hex(RSA1024_PKCS1));
        block.cryptographic_algorithm = Some(CryptographicAlgorithm::AES);
        assert_invalid(private_from_block(&block), "AES does not fit an RSA key");
        block.cryptographic_algorithm = Some(CryptographicAlgorithm::RSA);
        block.cryptographic_length = Some(2048);
        assert_invalid(private_from_block(&block), "Length 2048 does not fit an RSA key of 1024 bits");

        let mut block = bytes_block(F::X_509, &hex(ED25519_SPKI));
        block.cryptographic_algorithm = Some(CryptographicAlgorithm::ECDH);
        assert_invalid(public_from_block(&block), "ECDH does not fit an Ed25519 key");
        block.cryptographic_algorithm = Some(CryptographicAlgorithm::EC);
        assert_eq!(public_from_block(&block).unwrap().algorithm, CryptographicAlgorithm::EC);
    }

    #[test]
    fn raw_public_keys_are_points_whose_length_names_the_curve() {
        let PublicKeyMaterial::Ec { point, .. } = public(F::X_509, P384_SPKI).material else { panic!() };
        let raw = public_from_block(&bytes_block(F::Raw, &point)).unwrap();
        assert_eq!(raw.material, PublicKeyMaterial::Ec { curve: Curve::P384, point: point.clone() });

        let mut compressed = point[..49].to_vec();
        compressed[0] = 0x02;
        assert_unsupported(public_from_block(&bytes_block(F::Raw, &compressed)), "compressed");
        assert_invalid(public_from_block(&bytes_block(F::Raw, &[4; 10])), "uncompressed");

        let mut declared = bytes_block(F::Raw, &point);
        declared.key_compression_type = Some(KeyCompressionType::ECPublicKeyTypeX9_62CompressedPrime);
        assert_unsupported(public_from_block(&declared), "Key Compression Type");

        // 32 bytes name no curve until the algorithm says Ed25519.
        let PublicKeyMaterial::Ec { point: ed, .. } = public(F::X_509, ED25519_SPKI).material else { panic!() };
        assert_invalid(public_from_block(&bytes_block(F::Raw, &ed)), "uncompressed");
        let mut block = bytes_block(F::Raw, &ed);
        block.cryptographic_algorithm = Some(CryptographicAlgorithm::Ed25519);
        assert_eq!(
            public_from_block(&block).unwrap().material,
            PublicKeyMaterial::Ec { curve: Curve::Ed25519, point: ed }
        );
    }

    #[test]
    fn transparent_ec_keys_need_a_curve_kmipd_has() {
        let key = TransparentEcPublicKey { recommended_curve: RecommendedCurve::SECP192K1, q_string: vec![4; 49] };
        let block = plain_block(F::TransparentECPublicKey, KeyMaterial::TransparentEcPublic(Box::new(key)), None, None);
        assert_invalid(public_from_block(&block), "SECP192K1");
        // A Big Integer drops a private value's leading zeros; they are put back.
        let key = TransparentEcPrivateKey {
            recommended_curve: RecommendedCurve::P_256,
            d: SecretBigInt::from_unsigned(&[7]),
        };
        let block =
            plain_block(F::TransparentECPrivateKey, KeyMaterial::TransparentEcPrivate(Box::new(key)), None, None);
        let PrivateKeyMaterial::Ec { value, .. } = private_from_block(&block).unwrap().material else { panic!() };
        assert_eq!(value.len(), 32);
        assert_eq!(value[31], 7);
    }

    #[test]
    fn unsupported_formats_are_features_not_malformed_fields() {
        assert_unsupported(private_from_block(&bytes_block(F::PKCS_12, &[0x30, 0])), "PKCS_12");
        assert_unsupported(public_from_block(&bytes_block(F::PKCS_8, &hex(P384_PKCS8))), "PKCS_8");
        let multi = public_to_block(&public(F::X_509, P384_SPKI).material, F::PKCS_1);
        assert!(matches!(multi, Err(OpError::KeyFormatTypeNotSupported(ref m)) if m.contains("P-384")), "{multi:?}");
    }

    #[test]
    fn a_certificate_gives_its_key_and_names() {
        let der = hex(CERTIFICATE_RSA);
        let key = public_from_certificate(&der).unwrap();
        assert_eq!((key.algorithm, key.length), (CryptographicAlgorithm::RSA, 2048));
        let summary = certificate_summary(&der).unwrap();
        // TC-CREG-2-14 expects exactly these strings in its 1.x attributes.
        assert_eq!(summary.subject, "CN=KMIP,OU=OASIS,O=TEST,C=US");
        assert_eq!(summary.issuer, "CN=KMIP,OU=OASIS,O=TEST,C=US");
        assert_eq!(summary.serial_number, [1]);
        let part = |p: DnPart| -> Vec<&str> {
            summary.subject_parts.iter().filter(|(q, _)| *q == p).map(|(_, v)| v.as_str()).collect()
        };
        assert_eq!((part(DnPart::Cn), part(DnPart::O), part(DnPart::Ou), part(DnPart::C)), (vec!["KMIP"], vec!["TEST"], vec!["OASIS"], vec!["US"]));
        assert_eq!(summary.issuer_parts, summary.subject_parts);
        assert_eq!(summary.signature_algorithm, Some(DigitalSignatureAlgorithm::SHA_1WithRSAEncryption));
        assert!(summary.subject_alternative_names.is_empty());
        assert_eq!(serial_number_der(&summary.serial_number).unwrap(), [2, 1, 1]);
        assert!(summary.subject_der.starts_with(&hex("303b310b3009060355040613025553")));
        assert_eq!(summary.subject_der, summary.issuer_der);

        let mut trailing = der.clone();
        trailing.push(0);
        assert_invalid(certificate_summary(&trailing), "trailing");
        assert_invalid(public_from_certificate(&der[..der.len() - 1]), "malformed X.509 certificate");
    }

    #[test]
    fn a_generated_ec_certificate_gives_its_point_and_odd_names() {
        use rcgen::string::BmpString;
        use rcgen::{CertificateParams, DnType, DnValue, KeyPair, PKCS_ECDSA_P256_SHA256};
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, "a, b");
        params
            .distinguished_name
            .push(DnType::OrganizationName, DnValue::BmpString(BmpString::from_utf16be(vec![0, 0x41]).unwrap()));
        let der = params.self_signed(&key).unwrap().der().to_vec();

        let public = public_from_certificate(&der).unwrap();
        assert_eq!(public.material, PublicKeyMaterial::Ec { curve: Curve::P256, point: key.public_key_raw().to_vec() });
        assert_eq!((public.algorithm, public.length), (CryptographicAlgorithm::EC, 256));
        let summary = certificate_summary(&der).unwrap();
        // x509-parser reads no BMPString as text, so the value is written as its DER.
        assert_eq!(summary.subject, "O=#1e020041,CN=a\\, b");
        assert_eq!(summary.subject_parts, [(DnPart::Cn, "a, b".to_owned())]);
        assert_eq!(summary.signature_algorithm, Some(DigitalSignatureAlgorithm::ECDSAWithSHA256));
    }

    #[test]
    fn alternative_names_keep_their_der_and_read_as_text() {
        use rcgen::{CertificateParams, KeyPair, PKCS_ECDSA_P256_SHA256};
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).unwrap();
        let params = CertificateParams::new(vec!["kmip.example".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        let names = certificate_summary(&der).unwrap().subject_alternative_names;
        let texts: Vec<&str> = names.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(texts, ["DNS:kmip.example", "IP:127.0.0.1"]);
        // dNSName is [2] IMPLICIT IA5String, iPAddress [7] IMPLICIT OCTET STRING.
        assert_eq!(names[0].der, [&[0x82, 12][..], b"kmip.example"].concat());
        assert_eq!(names[1].der, [0x87, 4, 127, 0, 0, 1]);
    }

    #[test]
    fn dn_values_are_escaped_as_rfc_4514_says() {
        assert_eq!(escape_dn_value("plain"), "plain");
        assert_eq!(escape_dn_value(" Smith, J+co "), "\\ Smith\\, J\\+co\\ ");
        assert_eq!(escape_dn_value("#1"), "\\#1");
        assert_eq!(escape_dn_value("a\0b"), "a\\00b");
    }

    #[test]
    fn curves_map_both_ways() {
        for curve in Curve::ALL {
            assert_eq!(curve_from_recommended(recommended_curve(curve)), Some(curve));
            // The OIDs spelled out here are the ones the HSM layer uses for CKA_EC_PARAMS.
            assert_eq!(curve_oid(curve).to_der().unwrap(), curve.der_oid());
        }
        assert_eq!(curve_from_recommended(RecommendedCurve::P_192), None);
        assert_eq!(curve_from_recommended(RecommendedCurve::SECP192K1), None);
    }

    #[test]
    fn numbers_keep_their_sign_and_width() {
        assert_eq!(bit_length(&[0, 1, 0, 0]), 17);
        assert_eq!(bit_length(&[]), 0);
        assert_eq!(SecretBigInt::from_unsigned(&[]).expose(), [0; 8]);
        assert_eq!(SecretBigInt::from_unsigned(&[0, 0, 0x7f]).expose(), [0, 0, 0, 0, 0, 0, 0, 0x7f]);
        assert_eq!(SecretBigInt::from_unsigned(&[0x80]).expose(), [0, 0, 0, 0, 0, 0, 0, 0x80]);
        let eight = [0xff; 8];
        assert_eq!(SecretBigInt::from_unsigned(&eight).expose(), [[0; 8], eight].concat());
        assert_eq!(big_int(&[0x80]), BigInt::from_signed_bytes(&[0, 0x80]));
        assert_eq!(magnitude(&[0, 0, 5], "x").unwrap(), [5]);
    }

    /// Every reader, fed `bytes` under each format it takes.
    fn read_everything(bytes: &[u8]) -> Vec<Result<(), OpError>> {
        let mut results = Vec::new();
        for format in [F::PKCS_1, F::PKCS_8, F::ECPrivateKey] {
            results.push(private_from_block(&bytes_block(format, bytes)).map(drop));
        }
        for format in [F::PKCS_1, F::X_509, F::Raw] {
            results.push(public_from_block(&bytes_block(format, bytes)).map(drop));
        }
        results.push(public_from_certificate(bytes).map(drop));
        results.push(certificate_summary(bytes).map(drop));
        results
    }

    #[test]
    fn every_truncation_of_every_fixture_is_refused_without_a_panic() {
        let fixtures = [
            RSA1024_PKCS1,
            RSA1024_PKCS8,
            RSA1024_SPKI,
            RSA2048_PKCS1_PUBLIC,
            P256_SEC1,
            P256_PKCS8,
            P256_SEC1_SPKI,
            P384_PKCS8,
            P521_SEC1,
            ED25519_PKCS8,
            ED25519_SPKI,
            ENCRYPTED_PKCS8,
            CERTIFICATE_RSA,
            DSA1024_PKCS8,
            BL_M_13_DSA_PKCS8,
        ];
        for fixture in fixtures {
            let der = hex(fixture);
            for len in 0..der.len() {
                for result in read_everything(&der[..len]) {
                    match result {
                        Err(OpError::InvalidField(m) | OpError::FeatureNotSupported(m)) => {
                            // No run of hex long enough to be key bytes: offsets are the only numbers.
                            let longest = m.split(|c: char| !c.is_ascii_hexdigit()).map(str::len).max();
                            assert!(longest.unwrap_or(0) < 8, "{m:?}");
                        }
                        // A Raw prefix of a point can be a point of a smaller curve.
                        Ok(()) => {}
                        Err(e) => panic!("truncated to {len}: unexpected {e:?}"),
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            for result in read_everything(&bytes) {
                prop_assert!(matches!(
                    result,
                    Ok(()) | Err(OpError::InvalidField(_) | OpError::FeatureNotSupported(_))
                ), "{result:?}");
            }
        }

        #[test]
        fn corrupted_fixtures_never_panic(index in 0usize..600, byte in any::<u8>(), which in 0usize..5) {
            let mut der = hex([RSA1024_PKCS8, P256_SEC1, P384_SPKI, CERTIFICATE_RSA, DSA1024_PKCS8][which]);
            let at = index % der.len();
            der[at] = byte;
            for result in read_everything(&der) {
                prop_assert!(matches!(
                    result,
                    Ok(()) | Err(OpError::InvalidField(_) | OpError::FeatureNotSupported(_))
                ), "{result:?}");
            }
        }
    }

    /// kmip-2.1 BL-M-7-21.xml (PKCS_1)
    const RSA1024_PKCS1: &str = "\
        3082025c02010002818100930451c9ecd94f5bb9da17dd09381bd23be43eca8c7539f301fc8a8cd5d5274c3e7699dbdc\
        711c97a7aa91e2c50a82bd0b1034f0df493dec16362427e58acce7f6ce0f9bcc617bbd8c90d0094a2703ba0d09eb19d1\
        005f2fb265526aac75af32f8bc782cded2a57f811e03eaf67a944de5e78413dca8f232d074e6dcea4cec9f0203010001\
        0281800b6a7d736199ea48a420e4537ca0c7c046784dcbeaa63baebc0bc132787449cde8d7cad0c0c863c0fefb06c306\
        2befc50033ecf87b4e33a9be7bcbc8f1511ae215e80deb5d8af2bd31319d7821196640935a0cd67c94599579f2100d65\
        e038831fdafb0dbe2bbdac00a696e67e756350e1c99ace11a36dabac3ed3e730960059024100ddf672fbcc5bda3d73af\
        fc4e791e0c03390224405d69ccaabc749faa0dcd4c2583c71dde8941a7b9aa030f52ef1451466c074d4d338fe677892a\
        cd9e10fd35bd024100a98fbc3ed6b4c6f860f97165ac2f7bb6f2e2cb192a9abd49795be5bcf37d8ee69a6e169c24e5c3\
        2e4e7fa33265461407f952ba49e204818a2f785f113f922b8b0240253f9470390d39049303777ddbc9750e9d64849ce0\
        903eae704dc9f589b7680deb9d609fd5bcd4decd6f120542e5cff5d76f2a43c8615fb5b3a9213463797aa9024100a1dd\
        f023c0cd94c019bb26d09b9e3ca8fa971cb16aa58b9baf79d6081a1dbba452ba53653e2804ba98ff69e8bb1b3a161ea2\
        25ea501463216a8dab9b88a75e5f02406178646e112cf79d921a8a843f17f6e7ff974f688122365bf6690cdfc996e189\
        0952eb3820dd1890ec1c8619e87a2bd38f9d03b37fac742efb748c7885942c39";
    /// kmip-1.0-1.2 TC_82_10_Register_Both_Halves_of_a_Key_Pair.xml (PKCS_8)
    const RSA1024_PKCS8: &str = "\
        30820276020100300d06092a864886f70d0101010500048202603082025c02010002818100930451c9ecd94f5bb9da17\
        dd09381bd23be43eca8c7539f301fc8a8cd5d5274c3e7699dbdc711c97a7aa91e2c50a82bd0b1034f0df493dec163624\
        27e58acce7f6ce0f9bcc617bbd8c90d0094a2703ba0d09eb19d1005f2fb265526aac75af32f8bc782cded2a57f811e03\
        eaf67a944de5e78413dca8f232d074e6dcea4cec9f02030100010281800b6a7d736199ea48a420e4537ca0c7c046784d\
        cbeaa63baebc0bc132787449cde8d7cad0c0c863c0fefb06c3062befc50033ecf87b4e33a9be7bcbc8f1511ae215e80d\
        eb5d8af2bd31319d7821196640935a0cd67c94599579f2100d65e038831fdafb0dbe2bbdac00a696e67e756350e1c99a\
        ce11a36dabac3ed3e730960059024100ddf672fbcc5bda3d73affc4e791e0c03390224405d69ccaabc749faa0dcd4c25\
        83c71dde8941a7b9aa030f52ef1451466c074d4d338fe677892acd9e10fd35bd024100a98fbc3ed6b4c6f860f97165ac\
        2f7bb6f2e2cb192a9abd49795be5bcf37d8ee69a6e169c24e5c32e4e7fa33265461407f952ba49e204818a2f785f113f\
        922b8b0240253f9470390d39049303777ddbc9750e9d64849ce0903eae704dc9f589b7680deb9d609fd5bcd4decd6f12\
        0542e5cff5d76f2a43c8615fb5b3a9213463797aa9024100a1ddf023c0cd94c019bb26d09b9e3ca8fa971cb16aa58b9b\
        af79d6081a1dbba452ba53653e2804ba98ff69e8bb1b3a161ea225ea501463216a8dab9b88a75e5f02406178646e112c\
        f79d921a8a843f17f6e7ff974f688122365bf6690cdfc996e1890952eb3820dd1890ec1c8619e87a2bd38f9d03b37fac\
        742efb748c7885942c39";
    /// kmip-1.0-1.2 TC_82_10_Register_Both_Halves_of_a_Key_Pair.xml (X_509)
    const RSA1024_SPKI: &str = "\
        30819f300d06092a864886f70d010101050003818d0030818902818100930451c9ecd94f5bb9da17dd09381bd23be43e\
        ca8c7539f301fc8a8cd5d5274c3e7699dbdc711c97a7aa91e2c50a82bd0b1034f0df493dec16362427e58acce7f6ce0f\
        9bcc617bbd8c90d0094a2703ba0d09eb19d1005f2fb265526aac75af32f8bc782cded2a57f811e03eaf67a944de5e784\
        13dca8f232d074e6dcea4cec9f0203010001";
    /// kmip-1.0-1.2 CS-AC-M-2-12.xml (PKCS_1)
    const RSA2048_PKCS1_PUBLIC: &str = "\
        3082010a0282010100ab7f161c0042496ccd6c6d4dadb919973435357776003acf54b7af1e440afb80b64a8755f8002c\
        feba6b184540a2d66086d74648346d75b8d71812b205387c0f6583bc4d7dc7ec114f3b176b7957c422e7d03fc6267fa2\
        a6f89b9bee9e60a1d7c2d833e5a5f4bb0b1434f4e795a41100f8aa214900df8b65089f98135b1c67b701675abdbc7d57\
        21aac9d14a7f081fcec80b64e8a0ecc8295353c795328abf70e1b42e7bb8b7f4e8ac8c810cdb66e3d21126eba8da7d0c\
        a34142cb76f91f013da809e9c1b7ae64c54130fbc21d80e9c2cb06c5c8d7cce8946a9ac99b1c2815c3612a29a82d73a1\
        f99374fe30e54951662a6eda29c6fc411335d5dc7426b0f6050203010001";
    /// kmip-1.0-1.2 CS-AC-M-1-12.xml (PKCS_1)
    const RSA2048_PKCS1: &str = "\
        308204a50201000282010100ab7f161c0042496ccd6c6d4dadb919973435357776003acf54b7af1e440afb80b64a8755\
        f8002cfeba6b184540a2d66086d74648346d75b8d71812b205387c0f6583bc4d7dc7ec114f3b176b7957c422e7d03fc6\
        267fa2a6f89b9bee9e60a1d7c2d833e5a5f4bb0b1434f4e795a41100f8aa214900df8b65089f98135b1c67b701675abd\
        bc7d5721aac9d14a7f081fcec80b64e8a0ecc8295353c795328abf70e1b42e7bb8b7f4e8ac8c810cdb66e3d21126eba8\
        da7d0ca34142cb76f91f013da809e9c1b7ae64c54130fbc21d80e9c2cb06c5c8d7cce8946a9ac99b1c2815c3612a29a8\
        2d73a1f99374fe30e54951662a6eda29c6fc411335d5dc7426b0f6050203010001028201003b12455d53c1816516c518\
        493f6398aafa72b17dfa894db888a7d48c0a47f62579a4e644f86da711fec850cdd9dbbd17f69a443d2ec1dd60d3c618\
        fa74cde5fdafabd6baa26eb0a3adb4def6480fb1218cd3b083e252e885b6f0729f98b2144d2b72293e1b11d73393bc41\
        f75b15ee3d7569b4995ed1a14425da4319b7b26b0e8fef17c37542ae5c6d5849f87209567f3925a47b016d564859717b\
        c57fcb4522d0aa49ce816e5be7b3088193236ec9efff140858045b73c5d79baf38f7c67f04c5dcf0e3806ad982d12590\
        58c3473e847179a878f2c6b3bd968fb99ea46e9185892f3676e78965c2aed4877ba3917df07c5e927474f19e764ba61d\
        c38d63bf2902818100d5c69c8c3cdc2464744a793713dafb9f1dbc799ff96423fecd3cba794286bce920f4b5c183f99e\
        e9028db6212c6277c4c8297fcfbce7f7c24ca4c51fc7182fb8f4019fb1d5659674c5cbe6d5fa992051341760cd007357\
        29a070a9e54d342beba8ef47ee82d3a01b04cec4a00d4ddb41e35116fc221e854b43a696c0e6419b1b02818100cd5ea7\
        702789064b673540cbff09356ad80bc3d592812eba47610b9fac6aecefe22acae438459cda74e59653d88c04189d3439\
        9bf5b14b920e34ef38a7d09fe69593396e8fe735e6f0a6ae4990401041d8a406b6fd86a1161e45f95a3eaa5c1012e666\
        2e44f15f335ac971e1766b2bb9c985109974141b44d37e1e319820a55f02818100b2871237bf9fad38c3316ab7877a6a\
        868063e542a7186d431e8d27c19ac0414584033942e9ff6e2973bb7b2d8b0e94ad1ee82158108fbc8664517a5a467fb9\
        63014bd5dcc2b4fb087c23039d11920dbe22fd9f16b4d89e23225cd455adbaf32ef43f185864a36d630309d6853f7714\
        b39aae1ebee3938f87c2707e178c739f9f028181009690bed14b2afaa26d986d592231ee27d71d49065bd2ba1f78157e\
        20229881fd9d23227d0f8479eaefa922fd75d5b16b1a561fa6680b040ca0bdce650b23b917a4b1bb7983a74fad70e1c3\
        05cbec2bff1a85a726a1d90260e4f1084f518234dcd3fe770b9520215bd543bb6a4117718754676a34171666a79f26e7\
        9c149c5aa102818100a0c985a0a0a791a659f99731134c44f37b2e520a2cea35800ad27241ed360dfde6e8ca614f1204\
        7fd08b76ac4d13c056a0699e2f98a1cac91011294d71208f4abab33ba87aa0517f415baca88d6bac006088fa601d3494\
        17e1f0c9b23affa4d496618dbc024986ed690bbb7b025768ff9df8ac15416f489f8129c32341a8b44f";
    /// kmip-1.0-1.2 TC_ECC_1_10_Register_an_ECC_Key_Pair.xml (ECPrivateKey)
    const P256_SEC1: &str = "\
        30770201010420912a0e208f5dd734b1851847e4659c4588b16d9f3bc1ada510ea2c969daf9ef4a00a06082a8648ce3d\
        030107a14403420004b344392fb72aa267f86d7d837de1d96ce960ffc05ceef3f1fa26d8546a6442f3c1397e929aad8d\
        cab25b282ca8a1cf00bef7cb18a0f5ea44493a30a6d223b25b";
    /// kmip-1.0-1.2 TC_ECC_1_10_Register_an_ECC_Key_Pair.xml (X_509)
    const P256_SEC1_SPKI: &str = "\
        3059301306072a8648ce3d020106082a8648ce3d03010703420004b344392fb72aa267f86d7d837de1d96ce960ffc05c\
        eef3f1fa26d8546a6442f3c1397e929aad8dcab25b282ca8a1cf00bef7cb18a0f5ea44493a30a6d223b25b";
    /// kmip-1.0-1.2 TC_ECC_2_10_Register_an_ECC_Key_Pair_in_PKCS8_Format_Unencrypted.xml (PKCS_8)
    const P256_PKCS8: &str = "\
        308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b02010104208654ccf8c5af12d15190abac\
        27b35291ecc356bff8a01c657b15e51b73ecf933a144034200041c9dfa6f45bc7b278590f996858c26bf1f5f7d8de62d\
        ceed19cec50fdaf2e589994af352e19276287fa40cc8a5dac389a97fe24100a5d7aaebfb281639d9b42f";
    /// kmip-1.0-1.2 TC_ECC_2_10_Register_an_ECC_Key_Pair_in_PKCS8_Format_Unencrypted.xml (X_509)
    const P256_PKCS8_SPKI: &str = "\
        3059301306072a8648ce3d020106082a8648ce3d030107034200041c9dfa6f45bc7b278590f996858c26bf1f5f7d8de6\
        2dceed19cec50fdaf2e589994af352e19276287fa40cc8a5dac389a97fe24100a5d7aaebfb281639d9b42f";
    /// kmip-1.4 TC-ECC-1-14.xml (ECPrivateKey)
    const SECP256K1_SEC1: &str = "\
        30740201010420db4d128c30ca309e62c4019758c00ba244dd64d9bf52a31078866b8a00c19c68a00706052b8104000a\
        a14403420004dab5d3c253113db414abfc1c0ebf5a02559e656aa1c8b0aa8d870aa0324cda4899925ea1e6dbc259a6c7\
        825cf46592ac7594cc40bd604b728d88b636f317d366";
    /// kmip-1.4 TC-ECC-1-14.xml (X_509)
    const SECP256K1_SPKI: &str = "\
        3056301006072a8648ce3d020106052b8104000a03420004dab5d3c253113db414abfc1c0ebf5a02559e656aa1c8b0aa\
        8d870aa0324cda4899925ea1e6dbc259a6c7825cf46592ac7594cc40bd604b728d88b636f317d366";
    /// kmip-1.4 TC-ECC-2-14.xml (PKCS_8)
    const ENCRYPTED_PKCS8: &str = "\
        3081a9301c060a2a864886f70d010c0103300e0408dc4dc656aa7bcc0402020800048188824b0a6786064a1d5686b852\
        d8ff3073cb3379397dee978c60031353e1835a1a3c6289f16ff617b2d8b2d32829c265b997b406a69b96894caa39cee1\
        c556cda380e7174271606a4dfde4bc6182943de6e827573ce3d877b72f1cdd3a59a3721b34740466fa43390ab29fb8ac\
        01df172f9af6bb222aeee0f9be744b425e9620902ebc76ab8ceaa555";
    /// openssl 3.0 (ed.p8)
    const ED25519_PKCS8: &str =
        "302e020100300506032b6570042204200245579bce936fffd8908468a85ffbcc60ed9ed48c16f74af239e949383a0924";
    /// openssl 3.0 (ed.spki)
    const ED25519_SPKI: &str =
        "302a300506032b6570032100dd5f0e8ce51011d096d6c941276e293463ac2082a62cca7f2ae6117d5cc45375";
    /// openssl 3.0 (p384.pk8)
    const P384_PKCS8: &str = "\
        3081b6020100301006072a8648ce3d020106052b8104002204819e30819b02010104302ddc0151d231db139fe331930b\
        526369e94582a75371d683b288420aab0d62ad442b7de0d1a9180a2cb24f98458726a2a16403620004b21eeee2fd5b09\
        d09e722af76198cfd25c9ef0fffa7cc448cbcea5512225222ccc120d576491f98cc318a8f1c41758bd79b8f9b43fcc67\
        fba3a75a94f37b7bf16d83f65bce62db8d711223a952c30670eee28893197571505c12834cacb01fc6";
    /// openssl 3.0 (p384.spki)
    const P384_SPKI: &str = "\
        3076301006072a8648ce3d020106052b8104002203620004b21eeee2fd5b09d09e722af76198cfd25c9ef0fffa7cc448\
        cbcea5512225222ccc120d576491f98cc318a8f1c41758bd79b8f9b43fcc67fba3a75a94f37b7bf16d83f65bce62db8d\
        711223a952c30670eee28893197571505c12834cacb01fc6";
    /// openssl 3.0 (p521.sec1)
    const P521_SEC1: &str = "\
        3081dc020101044201eb4237c5522aa79927d888648e84ff3e2b4313d462dd424fba915d76dd976e96007c01cb9aeca3\
        b5ef2c5218090fff12c9779e1a1cacec50888f32be34cd985dbca00706052b81040023a1818903818600040041957572\
        8909aa4e6f8d434ad521932ede0c1f1305850f3f0566e15f7271be03254421de8700483c099781b06048cd6bce716a98\
        deb63ec45605a3601a0b3d507101d9906e939693a4cddab0d6a23f686f59d2caffcd2847f427296f814b929c886350f5\
        9db553d8a95c1b38ac790b940b2b18fdc6a461be39742765d94ab599b822ab";
    /// openssl 3.0 (p521.spki)
    const P521_SPKI: &str = "\
        30819b301006072a8648ce3d020106052b81040023038186000400419575728909aa4e6f8d434ad521932ede0c1f1305\
        850f3f0566e15f7271be03254421de8700483c099781b06048cd6bce716a98deb63ec45605a3601a0b3d507101d9906e\
        939693a4cddab0d6a23f686f59d2caffcd2847f427296f814b929c886350f59db553d8a95c1b38ac790b940b2b18fdc6\
        a461be39742765d94ab599b822ab";
    /// kmip-1.4 TC-CREG-2-14.xml (Certificate Value)
    const CERTIFICATE_RSA: &str = "\
        30820312308201faa003020102020101300d06092a864886f70d0101050500303b310b3009060355040613025553310d\
        300b060355040a130454455354310e300c060355040b13054f41534953310d300b060355040313044b4d4950301e170d\
        3130313130313233353935395a170d3230313130313233353935395a303b310b3009060355040613025553310d300b06\
        0355040a130454455354310e300c060355040b13054f41534953310d300b060355040313044b4d495030820122300d06\
        092a864886f70d01010105000382010f003082010a0282010100ab7f161c0042496ccd6c6d4dadb91997343535777600\
        3acf54b7af1e440afb80b64a8755f8002cfeba6b184540a2d66086d74648346d75b8d71812b205387c0f6583bc4d7dc7\
        ec114f3b176b7957c422e7d03fc6267fa2a6f89b9bee9e60a1d7c2d833e5a5f4bb0b1434f4e795a41100f8aa214900df\
        8b65089f98135b1c67b701675abdbc7d5721aac9d14a7f081fcec80b64e8a0ecc8295353c795328abf70e1b42e7bb8b7\
        f4e8ac8c810cdb66e3d21126eba8da7d0ca34142cb76f91f013da809e9c1b7ae64c54130fbc21d80e9c2cb06c5c8d7cc\
        e8946a9ac99b1c2815c3612a29a82d73a1f99374fe30e54951662a6eda29c6fc411335d5dc7426b0f6050203010001a3\
        21301f301d0603551d0e0416041404e57bd2c431b2e816e180a19823fac858273f6b300d06092a864886f70d01010505\
        000382010100a876adbc6c8e0ff017216e195fea76bff61a567c9a13dc50d13fec12a4273c441547cfabcb5d61d991e9\
        66319df72c0d41ba826a45112ff26089a2344f4d71cf7c921b4bdfaef1600d1baaa15336057e014b8b496d4fae9e8a6c\
        1da9aeb6cbc960cbf2fae77f587ec4bb282045338845b88dd9aeea53e482a36e734e4f5f03b9d0dfc4cafc6bb34ea905\
        3e52bd609ee01e86d9b09fb51120c19834a997b09ce08d79e81311762f974bb1c8c09186c4d78933e0db38e905084877\
        e147c78af52fae07192ff166d19fa94a11cc11b27ed050f7a27fae13b205a574c4ee00aa8bd65d0d7057c985c839ef33\
        6a441ed53a53c6b6b696f1bdeb5f7ea811ebb25a7f86";
    /// openssl 3.0 (genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:1024, genpkey, pkcs8 -topk8)
    const DSA1024_PKCS8: &str = "\
        3082014b0201003082012c06072a8648ce3804013082011f02818100d61fbeffd8e4a415b27ceb37c3e968fecfa12db4\
        7984c0901b234951bdd27777128ce805f04c34a2cac8a82543d2772a08cc1c6ccda86ec5eb23eb46f1ef94a282c34a36\
        c05fc796b15a91fc44d4a77b21ea0076b37d351a8942e8a56198aa6c2d28e61462a47ac2ada185031811ba78cfa169f1\
        ea30f7e528f8ff3fb04784f7021500d77cfd00e840bd2f4af11a0b76096504734db1f902818100a01da7405d48fcd198\
        043c13b36e6d5b20fbb79f6e3953329d93e78f7539991b6283d513560c289fdbc1bff0b5898bbf97a00e9c85bcf2c93a\
        c585c8e98b4ad152c0660d5a212f05067e05873170adff3ebef60c538595f0bf64606e763adfe3a60bd6ea7d85c8080c\
        cca881a2ea2af3211a8eacb5691dabda61f165469be8800416021463f41375c02db0ee38cbcea4c55f33a357ebda70";
    /// kmip-2.1 BL-M-13-21.xml (TransparentDSAPrivateKey): the wire Big Integers P, Q, G, X.
    const BL_M_13_DSA: [&str; 4] = [
        "\
         0000000000000000fca682ce8e12caba26efccf7110e526db078b05edecbcd1eb4a208f3ae1617ae01f35b91a47e6df6\
         3413c5e12ed0899bcd132acd50d99151bdc43ee737592e17",
        "00000000962eddcc369cba8ebb260ee6b6a126d9346e38c5",
        "\
         678471b27a9cf44ee91a49c5147db1a9aaf244f05a434d6486931d2d14271b9e35030b71fd73da179069b32e2935630e\
         1c2062354d0da20a6c416e50be794ca4",
        "00000000095411d740d2443fa3f97d1ed9a0411bb45e7131",
    ];
    /// The BL-M-13-21 key as PKCS#8, written by openssl 3.0 (asn1parse -genconf; `openssl pkey` reads it back).
    const BL_M_13_DSA_PKCS8: &str = "\
        3081c60201003081a806072a8648ce38040130819c024100fca682ce8e12caba26efccf7110e526db078b05edecbcd1e\
        b4a208f3ae1617ae01f35b91a47e6df63413c5e12ed0899bcd132acd50d99151bdc43ee737592e17021500962eddcc36\
        9cba8ebb260ee6b6a126d9346e38c50240678471b27a9cf44ee91a49c5147db1a9aaf244f05a434d6486931d2d14271b\
        9e35030b71fd73da179069b32e2935630e1c2062354d0da20a6c416e50be794ca404160214095411d740d2443fa3f97d\
        1ed9a0411bb45e7131";
    /// kmip-2.0 TC-IMPEXP-4-20.xml (TransparentRSAPrivateKey): the wire Big Integers, the same key as RSA1024_PKCS1.
    const RSA1024_TRANSPARENT: [&str; 8] = [
        // Modulus
        "\
         0000000000000000930451c9ecd94f5bb9da17dd09381bd23be43eca8c7539f301fc8a8cd5d5274c3e7699dbdc711c97\
         a7aa91e2c50a82bd0b1034f0df493dec16362427e58acce7f6ce0f9bcc617bbd8c90d0094a2703ba0d09eb19d1005f2f\
         b265526aac75af32f8bc782cded2a57f811e03eaf67a944de5e78413dca8f232d074e6dcea4cec9f",
        // PublicExponent
        "0000000000010001",
        // PrivateExponent
        "\
         0b6a7d736199ea48a420e4537ca0c7c046784dcbeaa63baebc0bc132787449cde8d7cad0c0c863c0fefb06c3062befc5\
         0033ecf87b4e33a9be7bcbc8f1511ae215e80deb5d8af2bd31319d7821196640935a0cd67c94599579f2100d65e03883\
         1fdafb0dbe2bbdac00a696e67e756350e1c99ace11a36dabac3ed3e730960059",
        // P
        "\
         0000000000000000ddf672fbcc5bda3d73affc4e791e0c03390224405d69ccaabc749faa0dcd4c2583c71dde8941a7b9\
         aa030f52ef1451466c074d4d338fe677892acd9e10fd35bd",
        // Q
        "\
         0000000000000000a98fbc3ed6b4c6f860f97165ac2f7bb6f2e2cb192a9abd49795be5bcf37d8ee69a6e169c24e5c32e\
         4e7fa33265461407f952ba49e204818a2f785f113f922b8b",
        // PrimeExponentP
        "\
         253f9470390d39049303777ddbc9750e9d64849ce0903eae704dc9f589b7680deb9d609fd5bcd4decd6f120542e5cff5\
         d76f2a43c8615fb5b3a9213463797aa9",
        // PrimeExponentQ
        "\
         0000000000000000a1ddf023c0cd94c019bb26d09b9e3ca8fa971cb16aa58b9baf79d6081a1dbba452ba53653e2804ba\
         98ff69e8bb1b3a161ea225ea501463216a8dab9b88a75e5f",
        // CRTCoefficient
        "\
         6178646e112cf79d921a8a843f17f6e7ff974f688122365bf6690cdfc996e1890952eb3820dd1890ec1c8619e87a2bd3\
         8f9d03b37fac742efb748c7885942c39",
    ];
    /// kmip-2.1 BL-M-8-21.xml (TransparentRSAPublicKey Modulus; Public Exponent 0x10001), the same key as RSA2048_PKCS1_PUBLIC.
    const RSA2048_TRANSPARENT_MODULUS: &str = "\
        0000000000000000ab7f161c0042496ccd6c6d4dadb919973435357776003acf54b7af1e440afb80b64a8755f8002cfe\
        ba6b184540a2d66086d74648346d75b8d71812b205387c0f6583bc4d7dc7ec114f3b176b7957c422e7d03fc6267fa2a6\
        f89b9bee9e60a1d7c2d833e5a5f4bb0b1434f4e795a41100f8aa214900df8b65089f98135b1c67b701675abdbc7d5721\
        aac9d14a7f081fcec80b64e8a0ecc8295353c795328abf70e1b42e7bb8b7f4e8ac8c810cdb66e3d21126eba8da7d0ca3\
        4142cb76f91f013da809e9c1b7ae64c54130fbc21d80e9c2cb06c5c8d7cce8946a9ac99b1c2815c3612a29a82d73a1f9\
        9374fe30e54951662a6eda29c6fc411335d5dc7426b0f605";
}
