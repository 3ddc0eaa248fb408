//! Managed objects (Symmetric Key, Public/Private Key, Secret Data, Certificate, ...), the
//! Key Block and its parts, and the small structures shared by attributes, payloads and
//! headers (KMIP 1.4 §2, 2.1 §2–3 and §7).

use super::attributes::{Attributes, IndexedAttribute};
use super::codec::{
    kmip_field_put, kmip_field_take, kmip_field_type, kmip_struct, wrong_type, Choice, FromTtlv, ModelError,
    Path, Reader, SecretBigInt, SecretBytes, ToTtlv, Writer,
};
use super::enums;
use super::enums::{
    AlternativeNameType, BlockCipherMode, CertificateRequestType, CertificateType, CryptographicAlgorithm,
    DRBGAlgorithm, DestroyAction, DigitalSignatureAlgorithm, EncodingOption, FIPS186Variation,
    HashingAlgorithm, KeyCompressionType, KeyFormatType, KeyRoleType, KeyValueLocationType, LinkType,
    MaskGenerator, NameType, OpaqueDataType, PaddingMethod, ProfileName, RNGAlgorithm, RNGMode,
    RecommendedCurve, RevocationReasonCode, RotateNameType, SecretDataType, ShreddingAlgorithm,
    SplitKeyMethod, UnwrapMode, UsageLimitsUnit, ValidationAuthorityType, ValidationType, WrappingMethod,
};
use crate::ttlv::{BigInt, Tag, Ttlv, Value};

/// A Unique Identifier. 1.x: always a Text String. 2.x also allows an Enumeration naming a
/// server-side variable (ID Placeholder, the result of an earlier batch item) or an Integer
/// index into the batch's results (KMIP 2.1 §4.58).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UniqueIdentifier {
    /// A server-assigned identifier.
    Text(String),
    /// A 2.x reference to an identifier produced earlier in the batch.
    Placeholder(enums::UniqueIdentifier),
    /// A 2.x index into the identifiers produced earlier in the batch.
    Index(i32),
}

impl FromTtlv for UniqueIdentifier {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        match &item.value {
            Value::TextString(s) => Ok(UniqueIdentifier::Text(s.clone())),
            Value::Enumeration(_) => {
                enums::UniqueIdentifier::from_ttlv_item(item, path).map(UniqueIdentifier::Placeholder)
            }
            Value::Integer(i) => Ok(UniqueIdentifier::Index(*i)),
            _ => Err(wrong_type(item, path, "TextString, Enumeration or Integer")),
        }
    }
}

impl ToTtlv for UniqueIdentifier {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        match self {
            UniqueIdentifier::Text(s) => Ttlv::text(tag, s.clone()),
            UniqueIdentifier::Placeholder(p) => p.to_ttlv_item(tag),
            UniqueIdentifier::Index(i) => Ttlv::integer(tag, *i),
        }
    }
}

kmip_struct! {
    /// Protocol Version: `major.minor`.
    pub struct ProtocolVersion {
        /// Protocol Version Major.
        major: req i32 = PROTOCOL_VERSION_MAJOR,
        /// Protocol Version Minor.
        minor: req i32 = PROTOCOL_VERSION_MINOR,
    }
}

impl ProtocolVersion {
    /// The registry's version type, when both numbers fit a byte.
    pub fn to_version(&self) -> Option<crate::ttlv::registry::Version> {
        Some(crate::ttlv::registry::Version::new(
            u8::try_from(self.major).ok()?,
            u8::try_from(self.minor).ok()?,
        ))
    }
}

kmip_struct! {
    /// Name attribute.
    pub struct Name {
        /// Name Value.
        name_value: req String = NAME_VALUE,
        /// Name Type.
        name_type: req NameType = NAME_TYPE,
    }
}

kmip_struct! {
    /// Link attribute.
    pub struct Link {
        /// Link Type.
        link_type: req LinkType = LINK_TYPE,
        /// Linked Object Identifier.
        linked_object_identifier: req UniqueIdentifier = LINKED_OBJECT_IDENTIFIER,
    }
}

kmip_struct! {
    /// Cryptographic Parameters (1.4 §3.6, 2.1 §4.16).
    pub struct CryptographicParameters {
        /// Block Cipher Mode.
        block_cipher_mode: opt BlockCipherMode = BLOCK_CIPHER_MODE,
        /// Padding Method.
        padding_method: opt PaddingMethod = PADDING_METHOD,
        /// Hashing Algorithm.
        hashing_algorithm: opt HashingAlgorithm = HASHING_ALGORITHM,
        /// Key Role Type.
        key_role_type: opt KeyRoleType = KEY_ROLE_TYPE,
        /// Digital Signature Algorithm.
        digital_signature_algorithm: opt DigitalSignatureAlgorithm = DIGITAL_SIGNATURE_ALGORITHM,
        /// Cryptographic Algorithm.
        cryptographic_algorithm: opt CryptographicAlgorithm = CRYPTOGRAPHIC_ALGORITHM,
        /// Random IV.
        random_iv: opt bool = RANDOM_IV,
        /// IV Length (bits).
        iv_length: opt i32 = IV_LENGTH,
        /// Tag Length (bytes).
        tag_length: opt i32 = TAG_LENGTH,
        /// Fixed Field Length.
        fixed_field_length: opt i32 = FIXED_FIELD_LENGTH,
        /// Invocation Field Length.
        invocation_field_length: opt i32 = INVOCATION_FIELD_LENGTH,
        /// Counter Length.
        counter_length: opt i32 = COUNTER_LENGTH,
        /// Initial Counter Value.
        initial_counter_value: opt i32 = INITIAL_COUNTER_VALUE,
        /// Salt Length.
        salt_length: opt i32 = SALT_LENGTH,
        /// Mask Generator.
        mask_generator: opt MaskGenerator = MASK_GENERATOR,
        /// Mask Generator Hashing Algorithm.
        mask_generator_hashing_algorithm: opt HashingAlgorithm = MASK_GENERATOR_HASHING_ALGORITHM,
        /// P Source (OAEP label).
        p_source: opt Vec<u8> = P_SOURCE,
        /// Trailer Field.
        trailer_field: opt i32 = TRAILER_FIELD,
    }
}

impl Default for CryptographicParameters {
    /// No parameter given: each use applies its own defaults.
    fn default() -> Self {
        CryptographicParameters {
            block_cipher_mode: None,
            padding_method: None,
            hashing_algorithm: None,
            key_role_type: None,
            digital_signature_algorithm: None,
            cryptographic_algorithm: None,
            random_iv: None,
            iv_length: None,
            tag_length: None,
            fixed_field_length: None,
            invocation_field_length: None,
            counter_length: None,
            initial_counter_value: None,
            salt_length: None,
            mask_generator: None,
            mask_generator_hashing_algorithm: None,
            p_source: None,
            trailer_field: None,
        }
    }
}

kmip_struct! {
    /// Cryptographic Domain Parameters.
    pub struct CryptographicDomainParameters {
        /// Qlength (bits).
        qlength: opt i32 = QLENGTH,
        /// Recommended Curve.
        recommended_curve: opt RecommendedCurve = RECOMMENDED_CURVE,
    }
}

kmip_struct! {
    /// Digest attribute.
    pub struct Digest {
        /// Hashing Algorithm.
        hashing_algorithm: req HashingAlgorithm = HASHING_ALGORITHM,
        /// Digest Value.
        digest_value: opt Vec<u8> = DIGEST_VALUE,
        /// Key Format Type the digest was computed over.
        key_format_type: opt KeyFormatType = KEY_FORMAT_TYPE,
    }
}

kmip_struct! {
    /// Usage Limits attribute.
    pub struct UsageLimits {
        /// Usage Limits Total.
        usage_limits_total: opt i64 = USAGE_LIMITS_TOTAL,
        /// Usage Limits Count.
        usage_limits_count: opt i64 = USAGE_LIMITS_COUNT,
        /// Usage Limits Unit.
        usage_limits_unit: opt UsageLimitsUnit = USAGE_LIMITS_UNIT,
    }
}

kmip_struct! {
    /// Revocation Reason attribute / Revoke field.
    pub struct RevocationReason {
        /// Revocation Reason Code.
        revocation_reason_code: req RevocationReasonCode = REVOCATION_REASON_CODE,
        /// Revocation Message.
        revocation_message: opt String = REVOCATION_MESSAGE,
    }
}

kmip_struct! {
    /// Application Specific Information attribute.
    pub struct ApplicationSpecificInformation {
        /// Application Namespace.
        application_namespace: req String = APPLICATION_NAMESPACE,
        /// Application Data.
        application_data: opt String = APPLICATION_DATA,
    }
}

kmip_struct! {
    /// Alternative Name attribute.
    pub struct AlternativeName {
        /// Alternative Name Value.
        alternative_name_value: req String = ALTERNATIVE_NAME_VALUE,
        /// Alternative Name Type.
        alternative_name_type: req AlternativeNameType = ALTERNATIVE_NAME_TYPE,
    }
}

kmip_struct! {
    /// Key Value Location attribute.
    pub struct KeyValueLocation {
        /// Key Value Location Value.
        key_value_location_value: req String = KEY_VALUE_LOCATION_VALUE,
        /// Key Value Location Type.
        key_value_location_type: req KeyValueLocationType = KEY_VALUE_LOCATION_TYPE,
    }
}

kmip_struct! {
    /// X.509 Certificate Identifier attribute.
    pub struct X509CertificateIdentifier {
        /// Issuer Distinguished Name (DER).
        issuer_distinguished_name: req Vec<u8> = ISSUER_DISTINGUISHED_NAME,
        /// Certificate Serial Number.
        certificate_serial_number: req Vec<u8> = CERTIFICATE_SERIAL_NUMBER,
    }
}

kmip_struct! {
    /// X.509 Certificate Subject attribute.
    pub struct X509CertificateSubject {
        /// Subject Distinguished Name (DER).
        subject_distinguished_name: req Vec<u8> = SUBJECT_DISTINGUISHED_NAME,
        /// Subject Alternative Names.
        subject_alternative_name: vec Vec<u8> = SUBJECT_ALTERNATIVE_NAME,
    }
}

kmip_struct! {
    /// X.509 Certificate Issuer attribute.
    pub struct X509CertificateIssuer {
        /// Issuer Distinguished Name (DER).
        issuer_distinguished_name: req Vec<u8> = ISSUER_DISTINGUISHED_NAME,
        /// Issuer Alternative Names.
        issuer_alternative_name: vec Vec<u8> = ISSUER_ALTERNATIVE_NAME,
    }
}

kmip_struct! {
    /// KMIP 1.0 Certificate Identifier attribute (deprecated in 1.1, removed in 2.0).
    pub struct CertificateIdentifier {
        /// Issuer.
        issuer: req String = ISSUER,
        /// Serial Number.
        serial_number: req String = SERIAL_NUMBER,
    }
}

kmip_struct! {
    /// KMIP 1.0 Certificate Subject attribute (deprecated in 1.1, removed in 2.0).
    pub struct CertificateSubject {
        /// Certificate Subject Distinguished Name.
        distinguished_name: req String = CERTIFICATE_SUBJECT_DISTINGUISHED_NAME,
        /// Certificate Subject Alternative Names.
        alternative_name: vec String = CERTIFICATE_SUBJECT_ALTERNATIVE_NAME,
    }
}

kmip_struct! {
    /// KMIP 1.0 Certificate Issuer attribute (deprecated in 1.1, removed in 2.0).
    pub struct CertificateIssuer {
        /// Certificate Issuer Distinguished Name.
        distinguished_name: req String = CERTIFICATE_ISSUER_DISTINGUISHED_NAME,
        /// Certificate Issuer Alternative Names.
        alternative_name: vec String = CERTIFICATE_ISSUER_ALTERNATIVE_NAME,
    }
}

kmip_struct! {
    /// RNG Parameters (Random Number Generator attribute, Query response).
    pub struct RngParameters {
        /// RNG Algorithm.
        rng_algorithm: req RNGAlgorithm = RNG_ALGORITHM,
        /// Cryptographic Algorithm.
        cryptographic_algorithm: opt CryptographicAlgorithm = CRYPTOGRAPHIC_ALGORITHM,
        /// Cryptographic Length.
        cryptographic_length: opt i32 = CRYPTOGRAPHIC_LENGTH,
        /// Hashing Algorithm.
        hashing_algorithm: opt HashingAlgorithm = HASHING_ALGORITHM,
        /// DRBG Algorithm.
        drbg_algorithm: opt DRBGAlgorithm = DRBG_ALGORITHM,
        /// Recommended Curve.
        recommended_curve: opt RecommendedCurve = RECOMMENDED_CURVE,
        /// FIPS186 Variation.
        fips186_variation: opt FIPS186Variation = FIPS186_VARIATION,
        /// Prediction Resistance.
        prediction_resistance: opt bool = PREDICTION_RESISTANCE,
    }
}

kmip_struct! {
    /// Rotate Name attribute (2.1).
    pub struct RotateName {
        /// Rotate Name Value.
        rotate_name_value: req String = ROTATE_NAME_VALUE,
        /// Rotate Name Type.
        rotate_name_type: req RotateNameType = ROTATE_NAME_TYPE,
    }
}

kmip_struct! {
    /// Encryption Key Information or MAC/Signature Key Information (same fields).
    pub struct KeyInformation {
        /// The key used.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// How it is used.
        cryptographic_parameters: opt CryptographicParameters = CRYPTOGRAPHIC_PARAMETERS,
    }
}

kmip_struct! {
    /// Key Wrapping Data: how a wrapped Key Value was wrapped.
    pub struct KeyWrappingData {
        /// Wrapping Method.
        wrapping_method: req WrappingMethod = WRAPPING_METHOD,
        /// Encryption Key Information.
        encryption_key_information: opt KeyInformation = ENCRYPTION_KEY_INFORMATION,
        /// MAC/Signature Key Information.
        mac_signature_key_information: opt KeyInformation = MAC_SIGNATURE_KEY_INFORMATION,
        /// MAC/Signature.
        mac_signature: opt Vec<u8> = MAC_SIGNATURE,
        /// IV/Counter/Nonce.
        iv_counter_nonce: opt Vec<u8> = IV_COUNTER_NONCE,
        /// Encoding Option.
        encoding_option: opt EncodingOption = ENCODING_OPTION,
    }
}

kmip_struct! {
    /// Key Wrapping Specification: how the client wants a key wrapped (Get, Export).
    pub struct KeyWrappingSpecification {
        /// Wrapping Method.
        wrapping_method: req WrappingMethod = WRAPPING_METHOD,
        /// Encryption Key Information.
        encryption_key_information: opt KeyInformation = ENCRYPTION_KEY_INFORMATION,
        /// MAC/Signature Key Information.
        mac_signature_key_information: opt KeyInformation = MAC_SIGNATURE_KEY_INFORMATION,
        /// Attributes to wrap together with the key.
        attribute_name: vec String = ATTRIBUTE_NAME,
        /// Encoding Option.
        encoding_option: opt EncodingOption = ENCODING_OPTION,
    }
}

kmip_struct! {
    /// Key Material of a Transparent Symmetric Key.
    pub struct TransparentSymmetricKey {
        /// Key.
        key: req SecretBytes = KEY,
    }
}

kmip_struct! {
    /// Key Material of a Transparent DSA Private Key.
    pub struct TransparentDsaPrivateKey {
        /// P.
        p: req BigInt = P,
        /// Q.
        q: req BigInt = Q,
        /// G.
        g: req BigInt = G,
        /// X (private).
        x: req SecretBigInt = X,
    }
}

kmip_struct! {
    /// Key Material of a Transparent DSA Public Key.
    pub struct TransparentDsaPublicKey {
        /// P.
        p: req BigInt = P,
        /// Q.
        q: req BigInt = Q,
        /// G.
        g: req BigInt = G,
        /// Y.
        y: req BigInt = Y,
    }
}

kmip_struct! {
    /// Key Material of a Transparent RSA Private Key. The specification lets a key carry
    /// either the CRT parts or the private exponent, so every part but the modulus is optional.
    pub struct TransparentRsaPrivateKey {
        /// Modulus.
        modulus: req BigInt = MODULUS,
        /// Private Exponent.
        private_exponent: opt SecretBigInt = PRIVATE_EXPONENT,
        /// Public Exponent.
        public_exponent: opt BigInt = PUBLIC_EXPONENT,
        /// P.
        p: opt SecretBigInt = P,
        /// Q.
        q: opt SecretBigInt = Q,
        /// Prime Exponent P.
        prime_exponent_p: opt SecretBigInt = PRIME_EXPONENT_P,
        /// Prime Exponent Q.
        prime_exponent_q: opt SecretBigInt = PRIME_EXPONENT_Q,
        /// CRT Coefficient.
        crt_coefficient: opt SecretBigInt = CRT_COEFFICIENT,
    }
}

kmip_struct! {
    /// Key Material of a Transparent RSA Public Key.
    pub struct TransparentRsaPublicKey {
        /// Modulus.
        modulus: req BigInt = MODULUS,
        /// Public Exponent.
        public_exponent: req BigInt = PUBLIC_EXPONENT,
    }
}

kmip_struct! {
    /// Key Material of a Transparent DH Private Key.
    pub struct TransparentDhPrivateKey {
        /// P.
        p: req BigInt = P,
        /// Q.
        q: opt BigInt = Q,
        /// G.
        g: req BigInt = G,
        /// J.
        j: opt BigInt = J,
        /// X (private).
        x: req SecretBigInt = X,
    }
}

kmip_struct! {
    /// Key Material of a Transparent DH Public Key.
    pub struct TransparentDhPublicKey {
        /// P.
        p: req BigInt = P,
        /// Q.
        q: opt BigInt = Q,
        /// G.
        g: req BigInt = G,
        /// J.
        j: opt BigInt = J,
        /// Y.
        y: req BigInt = Y,
    }
}

kmip_struct! {
    /// Key Material of a Transparent EC (ECDSA, ECDH, ECMQV) Private Key.
    pub struct TransparentEcPrivateKey {
        /// Recommended Curve.
        recommended_curve: req RecommendedCurve = RECOMMENDED_CURVE,
        /// D (private).
        d: req SecretBigInt = D,
    }
}

kmip_struct! {
    /// Key Material of a Transparent EC (ECDSA, ECDH, ECMQV) Public Key.
    pub struct TransparentEcPublicKey {
        /// Recommended Curve.
        recommended_curve: req RecommendedCurve = RECOMMENDED_CURVE,
        /// Q String (the encoded point).
        q_string: req Vec<u8> = Q_STRING,
    }
}

/// Key Material: a byte string for Raw, Opaque, PKCS#1, PKCS#8, ... formats, or a
/// Structure whose shape the Key Block's Key Format Type decides.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyMaterial {
    /// Raw, Opaque, PKCS1, PKCS8, ECPrivateKey, X.509 ... or extension formats.
    Bytes(SecretBytes),
    /// Transparent Symmetric Key.
    TransparentSymmetric(Box<TransparentSymmetricKey>),
    /// Transparent DSA Private Key.
    TransparentDsaPrivate(Box<TransparentDsaPrivateKey>),
    /// Transparent DSA Public Key.
    TransparentDsaPublic(Box<TransparentDsaPublicKey>),
    /// Transparent RSA Private Key.
    TransparentRsaPrivate(Box<TransparentRsaPrivateKey>),
    /// Transparent RSA Public Key.
    TransparentRsaPublic(Box<TransparentRsaPublicKey>),
    /// Transparent DH Private Key.
    TransparentDhPrivate(Box<TransparentDhPrivateKey>),
    /// Transparent DH Public Key.
    TransparentDhPublic(Box<TransparentDhPublicKey>),
    /// Transparent EC/ECDSA/ECDH/ECMQV Private Key.
    TransparentEcPrivate(Box<TransparentEcPrivateKey>),
    /// Transparent EC/ECDSA/ECDH/ECMQV Public Key.
    TransparentEcPublic(Box<TransparentEcPublicKey>),
}

impl KeyMaterial {
    fn decode(format: KeyFormatType, item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        use KeyFormatType as F;
        match (&item.value, is_transparent(format)) {
            (Value::ByteString(b), false) => return Ok(KeyMaterial::Bytes(SecretBytes::new(b.clone()))),
            (Value::ByteString(_), true) => {
                return Err(ModelError::InvalidValue {
                    path: path.to_string(),
                    reason: "a Transparent Key Format Type needs a Structure Key Material",
                })
            }
            _ => {}
        }
        Ok(match format {
            F::TransparentSymmetricKey => {
                KeyMaterial::TransparentSymmetric(Box::new(FromTtlv::from_ttlv_item(item, path)?))
            }
            F::TransparentDSAPrivateKey => {
                KeyMaterial::TransparentDsaPrivate(Box::new(FromTtlv::from_ttlv_item(item, path)?))
            }
            F::TransparentDSAPublicKey => {
                KeyMaterial::TransparentDsaPublic(Box::new(FromTtlv::from_ttlv_item(item, path)?))
            }
            F::TransparentRSAPrivateKey => {
                KeyMaterial::TransparentRsaPrivate(Box::new(FromTtlv::from_ttlv_item(item, path)?))
            }
            F::TransparentRSAPublicKey => {
                KeyMaterial::TransparentRsaPublic(Box::new(FromTtlv::from_ttlv_item(item, path)?))
            }
            F::TransparentDHPrivateKey => {
                KeyMaterial::TransparentDhPrivate(Box::new(FromTtlv::from_ttlv_item(item, path)?))
            }
            F::TransparentDHPublicKey => {
                KeyMaterial::TransparentDhPublic(Box::new(FromTtlv::from_ttlv_item(item, path)?))
            }
            F::TransparentECDSAPrivateKey
            | F::TransparentECDHPrivateKey
            | F::TransparentECMQVPrivateKey
            | F::TransparentECPrivateKey => {
                KeyMaterial::TransparentEcPrivate(Box::new(FromTtlv::from_ttlv_item(item, path)?))
            }
            F::TransparentECDSAPublicKey
            | F::TransparentECDHPublicKey
            | F::TransparentECMQVPublicKey
            | F::TransparentECPublicKey => {
                KeyMaterial::TransparentEcPublic(Box::new(FromTtlv::from_ttlv_item(item, path)?))
            }
            _ => {
                return Err(ModelError::InvalidValue {
                    path: path.to_string(),
                    reason: "a Structure Key Material needs a Transparent Key Format Type",
                })
            }
        })
    }
}

/// Whether the format's Key Material is a Structure (the Transparent formats) rather than a
/// Byte String.
fn is_transparent(format: KeyFormatType) -> bool {
    use KeyFormatType as F;
    matches!(
        format,
        F::TransparentSymmetricKey
            | F::TransparentDSAPrivateKey
            | F::TransparentDSAPublicKey
            | F::TransparentRSAPrivateKey
            | F::TransparentRSAPublicKey
            | F::TransparentDHPrivateKey
            | F::TransparentDHPublicKey
            | F::TransparentECDSAPrivateKey
            | F::TransparentECDSAPublicKey
            | F::TransparentECDHPrivateKey
            | F::TransparentECDHPublicKey
            | F::TransparentECMQVPrivateKey
            | F::TransparentECMQVPublicKey
            | F::TransparentECPrivateKey
            | F::TransparentECPublicKey
    )
}

impl ToTtlv for KeyMaterial {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        match self {
            KeyMaterial::Bytes(b) => b.to_ttlv_item(tag),
            KeyMaterial::TransparentSymmetric(k) => k.to_ttlv_item(tag),
            KeyMaterial::TransparentDsaPrivate(k) => k.to_ttlv_item(tag),
            KeyMaterial::TransparentDsaPublic(k) => k.to_ttlv_item(tag),
            KeyMaterial::TransparentRsaPrivate(k) => k.to_ttlv_item(tag),
            KeyMaterial::TransparentRsaPublic(k) => k.to_ttlv_item(tag),
            KeyMaterial::TransparentDhPrivate(k) => k.to_ttlv_item(tag),
            KeyMaterial::TransparentDhPublic(k) => k.to_ttlv_item(tag),
            KeyMaterial::TransparentEcPrivate(k) => k.to_ttlv_item(tag),
            KeyMaterial::TransparentEcPublic(k) => k.to_ttlv_item(tag),
        }
    }
}

/// Key Value: a Structure in plaintext, a Byte String when wrapped (whole-Key-Value wrapping).
#[derive(Debug, Clone, PartialEq)]
pub enum KeyValue {
    /// The wrapped encoding of the Key Value structure.
    Wrapped(SecretBytes),
    /// Plaintext key material with optional attributes.
    Plain {
        /// Key Material.
        key_material: KeyMaterial,
        /// 1.x: Attribute structures bound to the key.
        attributes_v1: Vec<IndexedAttribute>,
        /// 2.x: the Attributes structure bound to the key.
        attributes: Option<Attributes>,
    },
}

impl KeyValue {
    fn decode(format: KeyFormatType, item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        if let Value::ByteString(b) = &item.value {
            return Ok(KeyValue::Wrapped(SecretBytes::new(b.clone())));
        }
        let mut r = Reader::structure(item, path)?;
        let key_material = match r.peek() {
            Some(m) if m.tag == Tag::KEY_MATERIAL => {
                r.required::<Ttlv>(Tag::KEY_MATERIAL)?;
                KeyMaterial::decode(format, m, &path.child(Tag::KEY_MATERIAL, None))?
            }
            _ => return Err(ModelError::MissingField { path: path.to_string(), field: Tag::KEY_MATERIAL }),
        };
        let attributes_v1 = r.repeated(Tag::ATTRIBUTE)?;
        let attributes = r.optional(Tag::ATTRIBUTES)?;
        r.finish()?;
        Ok(KeyValue::Plain { key_material, attributes_v1, attributes })
    }
}

impl ToTtlv for KeyValue {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        match self {
            KeyValue::Wrapped(b) => b.to_ttlv_item(tag),
            KeyValue::Plain { key_material, attributes_v1, attributes } => {
                let mut w = Writer::new();
                w.required(Tag::KEY_MATERIAL, key_material);
                w.repeated(Tag::ATTRIBUTE, attributes_v1);
                w.optional(Tag::ATTRIBUTES, attributes);
                w.finish(tag)
            }
        }
    }
}

/// Key Block: the key material of a key-bearing managed object and how it is encoded.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyBlock {
    /// Key Format Type.
    pub key_format_type: KeyFormatType,
    /// Key Compression Type.
    pub key_compression_type: Option<KeyCompressionType>,
    /// Key Value (absent when the server does not return key material, 2.x).
    pub key_value: Option<KeyValue>,
    /// Cryptographic Algorithm.
    pub cryptographic_algorithm: Option<CryptographicAlgorithm>,
    /// Cryptographic Length.
    pub cryptographic_length: Option<i32>,
    /// Key Wrapping Data, when the Key Value is wrapped.
    pub key_wrapping_data: Option<KeyWrappingData>,
}

impl FromTtlv for KeyBlock {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        let mut r = Reader::structure(item, path)?;
        let key_format_type: KeyFormatType = r.required(Tag::KEY_FORMAT_TYPE)?;
        let key_compression_type = r.optional(Tag::KEY_COMPRESSION_TYPE)?;
        // The Key Value's shape depends on the format read just before it.
        let key_value = match r.optional::<Ttlv>(Tag::KEY_VALUE)? {
            Some(v) => Some(KeyValue::decode(key_format_type, &v, &path.child(Tag::KEY_VALUE, None))?),
            None => None,
        };
        let cryptographic_algorithm = r.optional(Tag::CRYPTOGRAPHIC_ALGORITHM)?;
        let cryptographic_length = r.optional(Tag::CRYPTOGRAPHIC_LENGTH)?;
        let key_wrapping_data = r.optional(Tag::KEY_WRAPPING_DATA)?;
        r.finish()?;
        Ok(KeyBlock {
            key_format_type,
            key_compression_type,
            key_value,
            cryptographic_algorithm,
            cryptographic_length,
            key_wrapping_data,
        })
    }
}

impl ToTtlv for KeyBlock {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        let mut w = Writer::new();
        w.required(Tag::KEY_FORMAT_TYPE, &self.key_format_type);
        w.optional(Tag::KEY_COMPRESSION_TYPE, &self.key_compression_type);
        w.optional(Tag::KEY_VALUE, &self.key_value);
        w.optional(Tag::CRYPTOGRAPHIC_ALGORITHM, &self.cryptographic_algorithm);
        w.optional(Tag::CRYPTOGRAPHIC_LENGTH, &self.cryptographic_length);
        w.optional(Tag::KEY_WRAPPING_DATA, &self.key_wrapping_data);
        w.finish(tag)
    }
}

kmip_struct! {
    /// Certificate object.
    pub struct Certificate {
        /// Certificate Type.
        certificate_type: req CertificateType = CERTIFICATE_TYPE,
        /// Certificate Value (DER).
        certificate_value: req Vec<u8> = CERTIFICATE_VALUE,
    }
}

kmip_struct! {
    /// Certificate Request object (2.x).
    pub struct CertificateRequest {
        /// Certificate Request Type.
        certificate_request_type: req CertificateRequestType = CERTIFICATE_REQUEST_TYPE,
        /// Certificate Request Value.
        certificate_request_value: req Vec<u8> = CERTIFICATE_REQUEST_VALUE,
    }
}

kmip_struct! {
    /// Symmetric Key object.
    pub struct SymmetricKey {
        /// Key Block.
        key_block: req KeyBlock = KEY_BLOCK,
    }
}

kmip_struct! {
    /// Public Key object.
    pub struct PublicKey {
        /// Key Block.
        key_block: req KeyBlock = KEY_BLOCK,
    }
}

kmip_struct! {
    /// Private Key object.
    pub struct PrivateKey {
        /// Key Block.
        key_block: req KeyBlock = KEY_BLOCK,
    }
}

kmip_struct! {
    /// Split Key object.
    pub struct SplitKey {
        /// Split Key Parts.
        split_key_parts: req i32 = SPLIT_KEY_PARTS,
        /// Key Part Identifier.
        key_part_identifier: req i32 = KEY_PART_IDENTIFIER,
        /// Split Key Threshold.
        split_key_threshold: req i32 = SPLIT_KEY_THRESHOLD,
        /// Split Key Method.
        split_key_method: req SplitKeyMethod = SPLIT_KEY_METHOD,
        /// Prime Field Size.
        prime_field_size: opt BigInt = PRIME_FIELD_SIZE,
        /// Key Block.
        key_block: req KeyBlock = KEY_BLOCK,
    }
}

kmip_struct! {
    /// Template object (1.x; deprecated in 1.3, removed in 2.0).
    pub struct Template {
        /// The template's attributes.
        attributes: vec IndexedAttribute = ATTRIBUTE,
    }
}

kmip_struct! {
    /// Secret Data object.
    pub struct SecretData {
        /// Secret Data Type.
        secret_data_type: req SecretDataType = SECRET_DATA_TYPE,
        /// Key Block.
        key_block: req KeyBlock = KEY_BLOCK,
    }
}

kmip_struct! {
    /// Opaque Object.
    pub struct OpaqueObject {
        /// Opaque Data Type.
        opaque_data_type: req OpaqueDataType = OPAQUE_DATA_TYPE,
        /// Opaque Data Value.
        opaque_data_value: req SecretBytes = OPAQUE_DATA_VALUE,
    }
}

kmip_struct! {
    /// PGP Key object.
    pub struct PgpKey {
        /// PGP Key Version.
        pgp_key_version: req i32 = PGP_KEY_VERSION,
        /// Key Block.
        key_block: req KeyBlock = KEY_BLOCK,
    }
}

/// Any managed object, as carried by Register, Get, Put, Import, Export.
#[derive(Debug, Clone, PartialEq)]
pub enum ManagedObject {
    /// Certificate.
    Certificate(Certificate),
    /// Certificate Request (2.x).
    CertificateRequest(CertificateRequest),
    /// Symmetric Key.
    SymmetricKey(SymmetricKey),
    /// Public Key.
    PublicKey(PublicKey),
    /// Private Key.
    PrivateKey(PrivateKey),
    /// Split Key.
    SplitKey(SplitKey),
    /// Template (1.x).
    Template(Template),
    /// Secret Data.
    SecretData(SecretData),
    /// Opaque Object.
    OpaqueObject(OpaqueObject),
    /// PGP Key.
    PgpKey(PgpKey),
}

impl FromTtlv for ManagedObject {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        Ok(match item.tag {
            Tag::CERTIFICATE => ManagedObject::Certificate(FromTtlv::from_ttlv_item(item, path)?),
            Tag::CERTIFICATE_REQUEST => {
                ManagedObject::CertificateRequest(FromTtlv::from_ttlv_item(item, path)?)
            }
            Tag::SYMMETRIC_KEY => ManagedObject::SymmetricKey(FromTtlv::from_ttlv_item(item, path)?),
            Tag::PUBLIC_KEY => ManagedObject::PublicKey(FromTtlv::from_ttlv_item(item, path)?),
            Tag::PRIVATE_KEY => ManagedObject::PrivateKey(FromTtlv::from_ttlv_item(item, path)?),
            Tag::SPLIT_KEY => ManagedObject::SplitKey(FromTtlv::from_ttlv_item(item, path)?),
            Tag::TEMPLATE => ManagedObject::Template(FromTtlv::from_ttlv_item(item, path)?),
            Tag::SECRET_DATA => ManagedObject::SecretData(FromTtlv::from_ttlv_item(item, path)?),
            Tag::OPAQUE_OBJECT => ManagedObject::OpaqueObject(FromTtlv::from_ttlv_item(item, path)?),
            Tag::PGP_KEY => ManagedObject::PgpKey(FromTtlv::from_ttlv_item(item, path)?),
            _ => return Err(ModelError::UnexpectedField { path: path.to_string() }),
        })
    }
}

impl Choice for ManagedObject {
    fn accepts(tag: Tag) -> bool {
        matches!(
            tag,
            Tag::CERTIFICATE
                | Tag::CERTIFICATE_REQUEST
                | Tag::SYMMETRIC_KEY
                | Tag::PUBLIC_KEY
                | Tag::PRIVATE_KEY
                | Tag::SPLIT_KEY
                | Tag::TEMPLATE
                | Tag::SECRET_DATA
                | Tag::OPAQUE_OBJECT
                | Tag::PGP_KEY
        )
    }

    fn tag(&self) -> Tag {
        match self {
            ManagedObject::Certificate(_) => Tag::CERTIFICATE,
            ManagedObject::CertificateRequest(_) => Tag::CERTIFICATE_REQUEST,
            ManagedObject::SymmetricKey(_) => Tag::SYMMETRIC_KEY,
            ManagedObject::PublicKey(_) => Tag::PUBLIC_KEY,
            ManagedObject::PrivateKey(_) => Tag::PRIVATE_KEY,
            ManagedObject::SplitKey(_) => Tag::SPLIT_KEY,
            ManagedObject::Template(_) => Tag::TEMPLATE,
            ManagedObject::SecretData(_) => Tag::SECRET_DATA,
            ManagedObject::OpaqueObject(_) => Tag::OPAQUE_OBJECT,
            ManagedObject::PgpKey(_) => Tag::PGP_KEY,
        }
    }

    fn to_ttlv(&self) -> Ttlv {
        let tag = self.tag();
        match self {
            ManagedObject::Certificate(o) => o.to_ttlv_item(tag),
            ManagedObject::CertificateRequest(o) => o.to_ttlv_item(tag),
            ManagedObject::SymmetricKey(o) => o.to_ttlv_item(tag),
            ManagedObject::PublicKey(o) => o.to_ttlv_item(tag),
            ManagedObject::PrivateKey(o) => o.to_ttlv_item(tag),
            ManagedObject::SplitKey(o) => o.to_ttlv_item(tag),
            ManagedObject::Template(o) => o.to_ttlv_item(tag),
            ManagedObject::SecretData(o) => o.to_ttlv_item(tag),
            ManagedObject::OpaqueObject(o) => o.to_ttlv_item(tag),
            ManagedObject::PgpKey(o) => o.to_ttlv_item(tag),
        }
    }
}

kmip_struct! {
    /// Derivation Parameters (Derive Key).
    pub struct DerivationParameters {
        /// Cryptographic Parameters.
        cryptographic_parameters: opt CryptographicParameters = CRYPTOGRAPHIC_PARAMETERS,
        /// Initialization Vector.
        initialization_vector: opt Vec<u8> = INITIALIZATION_VECTOR,
        /// Derivation Data (may be secret input keying material).
        derivation_data: opt SecretBytes = DERIVATION_DATA,
        /// Salt (PBKDF2).
        salt: opt Vec<u8> = SALT,
        /// Iteration Count (PBKDF2).
        iteration_count: opt i32 = ITERATION_COUNT,
    }
}

kmip_struct! {
    /// Capability Information (Query response).
    pub struct CapabilityInformation {
        /// Streaming Capability.
        streaming_capability: opt bool = STREAMING_CAPABILITY,
        /// Asynchronous Capability.
        asynchronous_capability: opt bool = ASYNCHRONOUS_CAPABILITY,
        /// Attestation Capability.
        attestation_capability: opt bool = ATTESTATION_CAPABILITY,
        /// Batch Undo Capability.
        batch_undo_capability: opt bool = BATCH_UNDO_CAPABILITY,
        /// Batch Continue Capability.
        batch_continue_capability: opt bool = BATCH_CONTINUE_CAPABILITY,
        /// Unwrap Mode.
        unwrap_mode: opt UnwrapMode = UNWRAP_MODE,
        /// Destroy Action.
        destroy_action: opt DestroyAction = DESTROY_ACTION,
        /// Shredding Algorithm.
        shredding_algorithm: opt ShreddingAlgorithm = SHREDDING_ALGORITHM,
        /// RNG Mode.
        rng_mode: opt RNGMode = RNG_MODE,
        /// Quantum Safe Capability (2.1).
        quantum_safe_capability: opt bool = QUANTUM_SAFE_CAPABILITY,
    }
}

kmip_struct! {
    /// Profile Version (2.x Profile Information).
    pub struct ProfileVersion {
        /// Profile Version Major.
        major: req i32 = PROFILE_VERSION_MAJOR,
        /// Profile Version Minor.
        minor: req i32 = PROFILE_VERSION_MINOR,
    }
}

kmip_struct! {
    /// Profile Information (Query response).
    pub struct ProfileInformation {
        /// Profile Name.
        profile_name: req ProfileName = PROFILE_NAME,
        /// Profile Version (2.x).
        profile_version: opt ProfileVersion = PROFILE_VERSION,
        /// Server URI.
        server_uri: opt String = SERVER_URI,
        /// Server Port.
        server_port: opt i32 = SERVER_PORT,
    }
}

kmip_struct! {
    /// Validation Information (Query response).
    pub struct ValidationInformation {
        /// Validation Authority Type.
        validation_authority_type: req ValidationAuthorityType = VALIDATION_AUTHORITY_TYPE,
        /// Validation Authority Country.
        validation_authority_country: opt String = VALIDATION_AUTHORITY_COUNTRY,
        /// Validation Authority URI.
        validation_authority_uri: opt String = VALIDATION_AUTHORITY_URI,
        /// Validation Version Major.
        validation_version_major: req i32 = VALIDATION_VERSION_MAJOR,
        /// Validation Version Minor.
        validation_version_minor: opt i32 = VALIDATION_VERSION_MINOR,
        /// Validation Type.
        validation_type: req ValidationType = VALIDATION_TYPE,
        /// Validation Level.
        validation_level: req i32 = VALIDATION_LEVEL,
        /// Validation Certificate Identifier.
        validation_certificate_identifier: opt String = VALIDATION_CERTIFICATE_IDENTIFIER,
        /// Validation Certificate URI.
        validation_certificate_uri: opt String = VALIDATION_CERTIFICATE_URI,
        /// Validation Vendor URI.
        validation_vendor_uri: opt String = VALIDATION_VENDOR_URI,
        /// Validation Profiles.
        validation_profile: vec String = VALIDATION_PROFILE,
    }
}

/// Extension Type: an Integer in 1.x, an Item Type enumeration in 2.x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtensionType {
    /// 1.x form.
    Integer(i32),
    /// 2.x form.
    ItemType(enums::ItemType),
}

impl FromTtlv for ExtensionType {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        match item.value {
            Value::Integer(i) => Ok(ExtensionType::Integer(i)),
            Value::Enumeration(_) => FromTtlv::from_ttlv_item(item, path).map(ExtensionType::ItemType),
            _ => Err(wrong_type(item, path, "Integer or Enumeration")),
        }
    }
}

impl ToTtlv for ExtensionType {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        match self {
            ExtensionType::Integer(i) => Ttlv::integer(tag, *i),
            ExtensionType::ItemType(t) => t.to_ttlv_item(tag),
        }
    }
}

kmip_struct! {
    /// Extension Information (Query response).
    pub struct ExtensionInformation {
        /// Extension Name.
        extension_name: req String = EXTENSION_NAME,
        /// Extension Tag.
        extension_tag: opt i32 = EXTENSION_TAG,
        /// Extension Type.
        extension_type: opt ExtensionType = EXTENSION_TYPE,
        /// Extension Enumeration (2.x).
        extension_enumeration: opt i32 = EXTENSION_ENUMERATION,
        /// Extension Attribute (2.x).
        extension_attribute: opt bool = EXTENSION_ATTRIBUTE,
        /// Extension Parent Structure Tag (2.x).
        extension_parent_structure_tag: opt i32 = EXTENSION_PARENT_STRUCTURE_TAG,
        /// Extension Description (2.x).
        extension_description: opt String = EXTENSION_DESCRIPTION,
    }
}

kmip_struct! {
    /// Protection Storage Masks (2.x).
    pub struct ProtectionStorageMasks {
        /// Each acceptable Protection Storage Mask.
        protection_storage_mask: vec i32 = PROTECTION_STORAGE_MASK,
    }
}

kmip_struct! {
    /// Object Groups (2.x Query).
    pub struct ObjectGroups {
        /// Object Group names.
        object_group: vec String = OBJECT_GROUP,
    }
}
