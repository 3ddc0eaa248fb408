//! Request and response payloads of the operations used by the KMIP 1.4 and 2.1 mandatory
//! profiles (plus Interop/Log test control). Each payload carries the union of its 1.x and
//! 2.x fields in the specification's order, so either version's form round-trips exactly:
//! 1.x fields (`template_attribute`, `attribute_names`, ...) and 2.x fields (`attributes`,
//! `attribute_references`, ...) sit side by side and a message uses one set or the other.
//!
//! Operations outside this set decode to `Other`, which keeps the payload tree as sent.

use super::attributes::{
    AttributeHolder, AttributeReference, Attributes, IndexedAttribute, TemplateAttribute,
};
use super::codec::{
    kmip_field_put, kmip_field_take, kmip_field_type, kmip_struct, DateTime, FromTtlv,
    ModelError, Path, SecretBytes, ToTtlv,
};
use super::enums::{
    AttestationType, ClientRegistrationMethod, DerivationMethod, InteropFunction,
    KeyCompressionType, KeyFormatType, KeyWrapType, ObjectGroupMember, ObjectType, Operation,
    QueryFunction, ValidityIndicator,
};
use super::objects::{
    CapabilityInformation, CryptographicParameters, DerivationParameters, ExtensionInformation,
    KeyWrappingSpecification, ManagedObject, ObjectGroups, ProfileInformation,
    ProtectionStorageMasks, ProtocolVersion, RevocationReason, RngParameters, UniqueIdentifier,
    ValidationInformation,
};
use crate::ttlv::{Tag, Ttlv};

kmip_struct! {
    /// Create request.
    pub struct CreateRequest {
        /// Object Type to create.
        object_type: req ObjectType = OBJECT_TYPE,
        /// 1.x attributes.
        template_attribute: opt TemplateAttribute = TEMPLATE_ATTRIBUTE,
        /// 2.x attributes.
        attributes: opt Attributes = ATTRIBUTES,
        /// 2.x Protection Storage Masks.
        protection_storage_masks: opt ProtectionStorageMasks = PROTECTION_STORAGE_MASKS,
    }
}

kmip_struct! {
    /// Create response.
    pub struct CreateResponse {
        /// Object Type created.
        object_type: req ObjectType = OBJECT_TYPE,
        /// Its Unique Identifier.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// 1.x: attributes the server set differently from the request.
        template_attribute: opt TemplateAttribute = TEMPLATE_ATTRIBUTE,
    }
}

kmip_struct! {
    /// Create Key Pair request.
    pub struct CreateKeyPairRequest {
        /// 1.x Common Template-Attribute.
        common_template_attribute: opt TemplateAttribute = COMMON_TEMPLATE_ATTRIBUTE,
        /// 1.x Private Key Template-Attribute.
        private_key_template_attribute: opt TemplateAttribute = PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
        /// 1.x Public Key Template-Attribute.
        public_key_template_attribute: opt TemplateAttribute = PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
        /// 2.x Common Attributes.
        common_attributes: opt Attributes = COMMON_ATTRIBUTES,
        /// 2.x Private Key Attributes.
        private_key_attributes: opt Attributes = PRIVATE_KEY_ATTRIBUTES,
        /// 2.x Public Key Attributes.
        public_key_attributes: opt Attributes = PUBLIC_KEY_ATTRIBUTES,
        /// 2.x Common Protection Storage Masks.
        common_protection_storage_masks: opt ProtectionStorageMasks = COMMON_PROTECTION_STORAGE_MASKS,
        /// 2.x Private Protection Storage Masks.
        private_protection_storage_masks: opt ProtectionStorageMasks = PRIVATE_PROTECTION_STORAGE_MASKS,
        /// 2.x Public Protection Storage Masks.
        public_protection_storage_masks: opt ProtectionStorageMasks = PUBLIC_PROTECTION_STORAGE_MASKS,
    }
}

kmip_struct! {
    /// Create Key Pair response (also Re-key Key Pair response).
    pub struct CreateKeyPairResponse {
        /// Private Key Unique Identifier.
        private_key_unique_identifier: req UniqueIdentifier = PRIVATE_KEY_UNIQUE_IDENTIFIER,
        /// Public Key Unique Identifier.
        public_key_unique_identifier: req UniqueIdentifier = PUBLIC_KEY_UNIQUE_IDENTIFIER,
        /// 1.x Private Key Template-Attribute set by the server.
        private_key_template_attribute: opt TemplateAttribute = PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
        /// 1.x Public Key Template-Attribute set by the server.
        public_key_template_attribute: opt TemplateAttribute = PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
    }
}

kmip_struct! {
    /// Register request.
    pub struct RegisterRequest {
        /// Object Type registered.
        object_type: req ObjectType = OBJECT_TYPE,
        /// 1.x attributes.
        template_attribute: opt TemplateAttribute = TEMPLATE_ATTRIBUTE,
        /// 2.x attributes.
        attributes: opt Attributes = ATTRIBUTES,
        /// The object.
        object: choice ManagedObject = SYMMETRIC_KEY,
        /// 2.x Protection Storage Masks.
        protection_storage_masks: opt ProtectionStorageMasks = PROTECTION_STORAGE_MASKS,
    }
}

kmip_struct! {
    /// Response carrying a Unique Identifier and, in 1.x, server-set attributes (Register,
    /// Re-key, Derive Key, Certify, Re-certify).
    pub struct IdentifierWithTemplateResponse {
        /// Unique Identifier.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// 1.x attributes set by the server.
        template_attribute: opt TemplateAttribute = TEMPLATE_ATTRIBUTE,
    }
}

kmip_struct! {
    /// Re-key request.
    pub struct ReKeyRequest {
        /// Key to re-key (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Offset (seconds).
        offset: opt u32 = OFFSET,
        /// 1.x attributes.
        template_attribute: opt TemplateAttribute = TEMPLATE_ATTRIBUTE,
        /// 2.x attributes.
        attributes: opt Attributes = ATTRIBUTES,
        /// 2.x Protection Storage Masks.
        protection_storage_masks: opt ProtectionStorageMasks = PROTECTION_STORAGE_MASKS,
    }
}

kmip_struct! {
    /// Re-key Key Pair request.
    pub struct ReKeyKeyPairRequest {
        /// Private key to re-key (default: ID Placeholder).
        private_key_unique_identifier: opt UniqueIdentifier = PRIVATE_KEY_UNIQUE_IDENTIFIER,
        /// Offset (seconds).
        offset: opt u32 = OFFSET,
        /// 1.x Common Template-Attribute.
        common_template_attribute: opt TemplateAttribute = COMMON_TEMPLATE_ATTRIBUTE,
        /// 1.x Private Key Template-Attribute.
        private_key_template_attribute: opt TemplateAttribute = PRIVATE_KEY_TEMPLATE_ATTRIBUTE,
        /// 1.x Public Key Template-Attribute.
        public_key_template_attribute: opt TemplateAttribute = PUBLIC_KEY_TEMPLATE_ATTRIBUTE,
        /// 2.x Common Attributes.
        common_attributes: opt Attributes = COMMON_ATTRIBUTES,
        /// 2.x Private Key Attributes.
        private_key_attributes: opt Attributes = PRIVATE_KEY_ATTRIBUTES,
        /// 2.x Public Key Attributes.
        public_key_attributes: opt Attributes = PUBLIC_KEY_ATTRIBUTES,
        /// 2.x Common Protection Storage Masks.
        common_protection_storage_masks: opt ProtectionStorageMasks = COMMON_PROTECTION_STORAGE_MASKS,
        /// 2.x Private Protection Storage Masks.
        private_protection_storage_masks: opt ProtectionStorageMasks = PRIVATE_PROTECTION_STORAGE_MASKS,
        /// 2.x Public Protection Storage Masks.
        public_protection_storage_masks: opt ProtectionStorageMasks = PUBLIC_PROTECTION_STORAGE_MASKS,
    }
}

kmip_struct! {
    /// Derive Key request.
    pub struct DeriveKeyRequest {
        /// Object Type to derive.
        object_type: req ObjectType = OBJECT_TYPE,
        /// Source objects (at least one).
        unique_identifiers: vec1 UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Derivation Method.
        derivation_method: req DerivationMethod = DERIVATION_METHOD,
        /// Derivation Parameters.
        derivation_parameters: req DerivationParameters = DERIVATION_PARAMETERS,
        /// 1.x attributes.
        template_attribute: opt TemplateAttribute = TEMPLATE_ATTRIBUTE,
        /// 2.x attributes.
        attributes: opt Attributes = ATTRIBUTES,
    }
}

kmip_struct! {
    /// Locate request.
    pub struct LocateRequest {
        /// Maximum Items.
        maximum_items: opt i32 = MAXIMUM_ITEMS,
        /// Offset Items.
        offset_items: opt i32 = OFFSET_ITEMS,
        /// Storage Status Mask.
        storage_status_mask: opt i32 = STORAGE_STATUS_MASK,
        /// Object Group Member.
        object_group_member: opt ObjectGroupMember = OBJECT_GROUP_MEMBER,
        /// 1.x: attributes to match (ANDed).
        attributes_v1: vec IndexedAttribute = ATTRIBUTE,
        /// 2.x: attributes to match (ANDed).
        attributes: opt Attributes = ATTRIBUTES,
    }
}

kmip_struct! {
    /// Locate response.
    pub struct LocateResponse {
        /// Located Items: how many objects matched in total.
        located_items: opt i32 = LOCATED_ITEMS,
        /// Identifiers found.
        unique_identifiers: vec UniqueIdentifier = UNIQUE_IDENTIFIER,
    }
}

kmip_struct! {
    /// Check request and response.
    pub struct CheckPayload {
        /// Object to check.
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Usage Limits Count.
        usage_limits_count: opt i64 = USAGE_LIMITS_COUNT,
        /// Cryptographic Usage Mask.
        cryptographic_usage_mask: opt i32 = CRYPTOGRAPHIC_USAGE_MASK,
        /// Lease Time.
        lease_time: opt u32 = LEASE_TIME,
    }
}

kmip_struct! {
    /// Get request.
    pub struct GetRequest {
        /// Object to get (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Key Format Type wanted.
        key_format_type: opt KeyFormatType = KEY_FORMAT_TYPE,
        /// Key Wrap Type wanted.
        key_wrap_type: opt KeyWrapType = KEY_WRAP_TYPE,
        /// Key Compression Type wanted.
        key_compression_type: opt KeyCompressionType = KEY_COMPRESSION_TYPE,
        /// Key Wrapping Specification.
        key_wrapping_specification: opt KeyWrappingSpecification = KEY_WRAPPING_SPECIFICATION,
    }
}

kmip_struct! {
    /// Get response.
    pub struct GetResponse {
        /// Object Type.
        object_type: req ObjectType = OBJECT_TYPE,
        /// Unique Identifier.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// The object.
        object: choice ManagedObject = SYMMETRIC_KEY,
    }
}

kmip_struct! {
    /// Get Attributes request.
    pub struct GetAttributesRequest {
        /// Object (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// 1.x: names of the attributes wanted (none: all).
        attribute_names: vec String = ATTRIBUTE_NAME,
        /// 2.x: references to the attributes wanted (none: all).
        attribute_references: vec AttributeReference = ATTRIBUTE_REFERENCE,
    }
}

kmip_struct! {
    /// Get Attributes response.
    pub struct GetAttributesResponse {
        /// Object.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// 1.x attributes.
        attributes_v1: vec IndexedAttribute = ATTRIBUTE,
        /// 2.x attributes.
        attributes: opt Attributes = ATTRIBUTES,
    }
}

kmip_struct! {
    /// Request that names at most one object (Activate, Destroy, Archive, Recover, Get
    /// Attribute List, Obtain Lease, ...).
    pub struct IdentifierRequest {
        /// Object (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
    }
}

kmip_struct! {
    /// Response that names the object acted on.
    pub struct IdentifierResponse {
        /// Object.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
    }
}

kmip_struct! {
    /// Get Attribute List response.
    pub struct GetAttributeListResponse {
        /// Object.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// 1.x attribute names.
        attribute_names: vec String = ATTRIBUTE_NAME,
        /// 2.x attribute references.
        attribute_references: vec AttributeReference = ATTRIBUTE_REFERENCE,
    }
}

kmip_struct! {
    /// Add Attribute request.
    pub struct AddAttributeRequest {
        /// Object (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// 1.x attribute.
        attribute: opt IndexedAttribute = ATTRIBUTE,
        /// 2.x New Attribute.
        new_attribute: opt AttributeHolder = NEW_ATTRIBUTE,
    }
}

kmip_struct! {
    /// Add/Modify/Delete Attribute response: the object and, in 1.x, the attribute.
    pub struct AttributeChangeResponse {
        /// Object.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// 1.x: the attribute as added, modified or deleted.
        attribute: opt IndexedAttribute = ATTRIBUTE,
    }
}

kmip_struct! {
    /// Modify Attribute request.
    pub struct ModifyAttributeRequest {
        /// Object (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// 1.x attribute (name and index select the instance).
        attribute: opt IndexedAttribute = ATTRIBUTE,
        /// 2.x Current Attribute.
        current_attribute: opt AttributeHolder = CURRENT_ATTRIBUTE,
        /// 2.x New Attribute.
        new_attribute: opt AttributeHolder = NEW_ATTRIBUTE,
    }
}

kmip_struct! {
    /// Delete Attribute request.
    pub struct DeleteAttributeRequest {
        /// Object (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// 1.x Attribute Name.
        attribute_name: opt String = ATTRIBUTE_NAME,
        /// 1.x Attribute Index.
        attribute_index: opt i32 = ATTRIBUTE_INDEX,
        /// 2.x Current Attribute.
        current_attribute: opt AttributeHolder = CURRENT_ATTRIBUTE,
        /// 2.x Attribute Reference.
        attribute_reference: opt AttributeReference = ATTRIBUTE_REFERENCE,
    }
}

kmip_struct! {
    /// Set Attribute request (2.x).
    pub struct SetAttributeRequest {
        /// Object (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// New Attribute.
        new_attribute: req AttributeHolder = NEW_ATTRIBUTE,
    }
}

kmip_struct! {
    /// Revoke request.
    pub struct RevokeRequest {
        /// Object (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Revocation Reason.
        revocation_reason: req RevocationReason = REVOCATION_REASON,
        /// Compromise Occurrence Date.
        compromise_occurrence_date: opt DateTime = COMPROMISE_OCCURRENCE_DATE,
    }
}

kmip_struct! {
    /// Query request.
    pub struct QueryRequest {
        /// What to report.
        query_functions: vec QueryFunction = QUERY_FUNCTION,
        /// 2.1 Object Groups.
        object_groups: opt ObjectGroups = OBJECT_GROUPS,
    }
}

kmip_struct! {
    /// Query response.
    pub struct QueryResponse {
        /// Operations supported.
        operations: vec Operation = OPERATION,
        /// Object Types supported.
        object_types: vec ObjectType = OBJECT_TYPE,
        /// Vendor Identification.
        vendor_identification: opt String = VENDOR_IDENTIFICATION,
        /// Server Information (vendor-specific content, kept as sent).
        server_information: opt Ttlv = SERVER_INFORMATION,
        /// Application Namespaces supported.
        application_namespaces: vec String = APPLICATION_NAMESPACE,
        /// Extension Information.
        extension_information: vec ExtensionInformation = EXTENSION_INFORMATION,
        /// Attestation Types supported.
        attestation_types: vec AttestationType = ATTESTATION_TYPE,
        /// RNG Parameters.
        rng_parameters: vec RngParameters = RNG_PARAMETERS,
        /// Profile Information.
        profile_information: vec ProfileInformation = PROFILE_INFORMATION,
        /// Validation Information.
        validation_information: vec ValidationInformation = VALIDATION_INFORMATION,
        /// Capability Information.
        capability_information: vec CapabilityInformation = CAPABILITY_INFORMATION,
        /// Client Registration Methods.
        client_registration_methods: vec ClientRegistrationMethod = CLIENT_REGISTRATION_METHOD,
        /// 2.x Defaults Information (kept as sent).
        defaults_information: opt Ttlv = DEFAULTS_INFORMATION,
        /// 2.x Protection Storage Masks.
        protection_storage_masks: opt ProtectionStorageMasks = PROTECTION_STORAGE_MASKS,
    }
}

kmip_struct! {
    /// Discover Versions request and response.
    pub struct DiscoverVersionsPayload {
        /// Protocol versions, preferred first.
        protocol_versions: vec ProtocolVersion = PROTOCOL_VERSION,
    }
}

kmip_struct! {
    /// Encrypt request.
    pub struct EncryptRequest {
        /// Key (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Cryptographic Parameters.
        cryptographic_parameters: opt CryptographicParameters = CRYPTOGRAPHIC_PARAMETERS,
        /// Plaintext.
        data: opt SecretBytes = DATA,
        /// IV/Counter/Nonce.
        iv_counter_nonce: opt Vec<u8> = IV_COUNTER_NONCE,
        /// Correlation Value (multi-part).
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
        /// Init Indicator (multi-part).
        init_indicator: opt bool = INIT_INDICATOR,
        /// Final Indicator (multi-part).
        final_indicator: opt bool = FINAL_INDICATOR,
        /// Authenticated Encryption Additional Data.
        authenticated_encryption_additional_data: opt Vec<u8> = AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA,
    }
}

kmip_struct! {
    /// Encrypt response.
    pub struct EncryptResponse {
        /// Key used.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Ciphertext.
        data: opt SecretBytes = DATA,
        /// IV/Counter/Nonce the server chose.
        iv_counter_nonce: opt Vec<u8> = IV_COUNTER_NONCE,
        /// Correlation Value (multi-part).
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
        /// Authenticated Encryption Tag.
        authenticated_encryption_tag: opt Vec<u8> = AUTHENTICATED_ENCRYPTION_TAG,
    }
}

kmip_struct! {
    /// Decrypt request.
    pub struct DecryptRequest {
        /// Key (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Cryptographic Parameters.
        cryptographic_parameters: opt CryptographicParameters = CRYPTOGRAPHIC_PARAMETERS,
        /// Ciphertext.
        data: opt SecretBytes = DATA,
        /// IV/Counter/Nonce.
        iv_counter_nonce: opt Vec<u8> = IV_COUNTER_NONCE,
        /// Correlation Value (multi-part).
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
        /// Init Indicator (multi-part).
        init_indicator: opt bool = INIT_INDICATOR,
        /// Final Indicator (multi-part).
        final_indicator: opt bool = FINAL_INDICATOR,
        /// Authenticated Encryption Additional Data.
        authenticated_encryption_additional_data: opt Vec<u8> = AUTHENTICATED_ENCRYPTION_ADDITIONAL_DATA,
        /// Authenticated Encryption Tag.
        authenticated_encryption_tag: opt Vec<u8> = AUTHENTICATED_ENCRYPTION_TAG,
    }
}

kmip_struct! {
    /// Decrypt response.
    pub struct DecryptResponse {
        /// Key used.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Plaintext.
        data: opt SecretBytes = DATA,
        /// Correlation Value (multi-part).
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
    }
}

kmip_struct! {
    /// Sign request.
    pub struct SignRequest {
        /// Key (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Cryptographic Parameters.
        cryptographic_parameters: opt CryptographicParameters = CRYPTOGRAPHIC_PARAMETERS,
        /// Data to sign.
        data: opt SecretBytes = DATA,
        /// Digest to sign instead of Data.
        digested_data: opt Vec<u8> = DIGESTED_DATA,
        /// Correlation Value (multi-part).
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
        /// Init Indicator (multi-part).
        init_indicator: opt bool = INIT_INDICATOR,
        /// Final Indicator (multi-part).
        final_indicator: opt bool = FINAL_INDICATOR,
    }
}

kmip_struct! {
    /// Sign response.
    pub struct SignResponse {
        /// Key used.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Signature.
        signature_data: opt Vec<u8> = SIGNATURE_DATA,
        /// Correlation Value (multi-part).
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
    }
}

kmip_struct! {
    /// Signature Verify request.
    pub struct SignatureVerifyRequest {
        /// Key (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Cryptographic Parameters.
        cryptographic_parameters: opt CryptographicParameters = CRYPTOGRAPHIC_PARAMETERS,
        /// Signed data.
        data: opt SecretBytes = DATA,
        /// Digest of the signed data.
        digested_data: opt Vec<u8> = DIGESTED_DATA,
        /// Signature.
        signature_data: opt Vec<u8> = SIGNATURE_DATA,
        /// Correlation Value (multi-part).
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
        /// Init Indicator (multi-part).
        init_indicator: opt bool = INIT_INDICATOR,
        /// Final Indicator (multi-part).
        final_indicator: opt bool = FINAL_INDICATOR,
    }
}

kmip_struct! {
    /// Signature Verify response.
    pub struct SignatureVerifyResponse {
        /// Key used.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Validity Indicator.
        validity_indicator: opt ValidityIndicator = VALIDITY_INDICATOR,
        /// Recovered data.
        data: opt SecretBytes = DATA,
        /// Correlation Value (multi-part).
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
    }
}

kmip_struct! {
    /// MAC request.
    pub struct MacRequest {
        /// Key (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Cryptographic Parameters.
        cryptographic_parameters: opt CryptographicParameters = CRYPTOGRAPHIC_PARAMETERS,
        /// Data.
        data: opt SecretBytes = DATA,
        /// Correlation Value (multi-part).
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
        /// Init Indicator (multi-part).
        init_indicator: opt bool = INIT_INDICATOR,
        /// Final Indicator (multi-part).
        final_indicator: opt bool = FINAL_INDICATOR,
    }
}

kmip_struct! {
    /// MAC response.
    pub struct MacResponse {
        /// Key used.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// MAC.
        mac_data: opt Vec<u8> = MAC_DATA,
        /// Correlation Value (multi-part).
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
    }
}

kmip_struct! {
    /// MAC Verify request.
    pub struct MacVerifyRequest {
        /// Key (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Cryptographic Parameters.
        cryptographic_parameters: opt CryptographicParameters = CRYPTOGRAPHIC_PARAMETERS,
        /// Data.
        data: opt SecretBytes = DATA,
        /// MAC to verify.
        mac_data: opt Vec<u8> = MAC_DATA,
        /// Correlation Value (multi-part).
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
        /// Init Indicator (multi-part).
        init_indicator: opt bool = INIT_INDICATOR,
        /// Final Indicator (multi-part).
        final_indicator: opt bool = FINAL_INDICATOR,
    }
}

kmip_struct! {
    /// MAC Verify response.
    pub struct MacVerifyResponse {
        /// Key used.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Validity Indicator.
        validity_indicator: opt ValidityIndicator = VALIDITY_INDICATOR,
        /// Correlation Value (multi-part).
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
    }
}

kmip_struct! {
    /// Hash request.
    pub struct HashRequest {
        /// Cryptographic Parameters (the hashing algorithm).
        cryptographic_parameters: req CryptographicParameters = CRYPTOGRAPHIC_PARAMETERS,
        /// Data.
        data: opt SecretBytes = DATA,
        /// Correlation Value (multi-part).
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
        /// Init Indicator (multi-part).
        init_indicator: opt bool = INIT_INDICATOR,
        /// Final Indicator (multi-part).
        final_indicator: opt bool = FINAL_INDICATOR,
    }
}

kmip_struct! {
    /// Hash response.
    pub struct HashResponse {
        /// Digest.
        data: opt Vec<u8> = DATA,
        /// Correlation Value (multi-part).
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
    }
}

kmip_struct! {
    /// RNG Retrieve request; also the RNG Seed response.
    pub struct DataLengthPayload {
        /// Data Length (bytes).
        data_length: req i32 = DATA_LENGTH,
    }
}

kmip_struct! {
    /// RNG Retrieve response; also the RNG Seed request.
    pub struct DataPayload {
        /// Random bytes / seed.
        data: req SecretBytes = DATA,
    }
}

kmip_struct! {
    /// Interop request (2.x test control).
    pub struct InteropRequest {
        /// Begin, End or Reset.
        interop_function: req InteropFunction = INTEROP_FUNCTION,
        /// Test identifier.
        interop_identifier: req String = INTEROP_IDENTIFIER,
    }
}

kmip_struct! {
    /// Log request (2.x test control).
    pub struct LogRequest {
        /// Text to log.
        log_message: req String = LOG_MESSAGE,
    }
}

kmip_struct! {
    /// An empty payload (Interop, Log responses).
    pub struct EmptyPayload {}
}

macro_rules! operations {
    ($( $(#[$m:meta])* $variant:ident : $req:ty => $resp:ty ),* $(,)?) => {
        /// A typed request payload, chosen by the batch item's Operation.
        #[derive(Debug, Clone, PartialEq)]
        pub enum RequestPayload {
            $( $(#[$m])* $variant(Box<$req>), )*
            /// An operation this model does not type yet: the payload as sent.
            Other {
                /// The batch item's Operation.
                operation: Operation,
                /// The Request Payload item.
                payload: Ttlv,
            },
        }

        /// A typed response payload, chosen by the batch item's Operation.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ResponsePayload {
            $( $(#[$m])* $variant(Box<$resp>), )*
            /// An operation this model does not type yet: the payload as sent.
            Other {
                /// The batch item's Operation.
                operation: Operation,
                /// The Response Payload item.
                payload: Ttlv,
            },
        }

        impl RequestPayload {
            /// Decodes a Request Payload for `operation`.
            pub fn decode(operation: Operation, item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
                Ok(match operation {
                    $( Operation::$variant => RequestPayload::$variant(Box::new(FromTtlv::from_ttlv_item(item, path)?)), )*
                    _ => RequestPayload::Other { operation, payload: item.clone() },
                })
            }

            /// The operation this payload belongs to.
            pub fn operation(&self) -> Operation {
                match self {
                    $( RequestPayload::$variant(_) => Operation::$variant, )*
                    RequestPayload::Other { operation, .. } => *operation,
                }
            }

            /// Whether the payload is typed (not `Other`).
            pub fn is_typed(&self) -> bool {
                !matches!(self, RequestPayload::Other { .. })
            }

            /// Encodes the payload as a Request Payload item.
            pub fn to_ttlv(&self) -> Ttlv {
                match self {
                    $( RequestPayload::$variant(p) => p.to_ttlv_item(Tag::REQUEST_PAYLOAD), )*
                    RequestPayload::Other { payload, .. } => payload.to_ttlv_item(Tag::REQUEST_PAYLOAD),
                }
            }
        }

        impl ResponsePayload {
            /// Decodes a Response Payload for `operation`.
            pub fn decode(operation: Operation, item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
                Ok(match operation {
                    $( Operation::$variant => ResponsePayload::$variant(Box::new(FromTtlv::from_ttlv_item(item, path)?)), )*
                    _ => ResponsePayload::Other { operation, payload: item.clone() },
                })
            }

            /// The operation this payload belongs to.
            pub fn operation(&self) -> Operation {
                match self {
                    $( ResponsePayload::$variant(_) => Operation::$variant, )*
                    ResponsePayload::Other { operation, .. } => *operation,
                }
            }

            /// Whether the payload is typed (not `Other`).
            pub fn is_typed(&self) -> bool {
                !matches!(self, ResponsePayload::Other { .. })
            }

            /// Encodes the payload as a Response Payload item.
            pub fn to_ttlv(&self) -> Ttlv {
                match self {
                    $( ResponsePayload::$variant(p) => p.to_ttlv_item(Tag::RESPONSE_PAYLOAD), )*
                    ResponsePayload::Other { payload, .. } => payload.to_ttlv_item(Tag::RESPONSE_PAYLOAD),
                }
            }
        }
    };
}

operations! {
    /// Create.
    Create: CreateRequest => CreateResponse,
    /// Create Key Pair.
    CreateKeyPair: CreateKeyPairRequest => CreateKeyPairResponse,
    /// Register.
    Register: RegisterRequest => IdentifierWithTemplateResponse,
    /// Re-key.
    ReKey: ReKeyRequest => IdentifierWithTemplateResponse,
    /// Re-key Key Pair.
    ReKeyKeyPair: ReKeyKeyPairRequest => CreateKeyPairResponse,
    /// Derive Key.
    DeriveKey: DeriveKeyRequest => IdentifierWithTemplateResponse,
    /// Locate.
    Locate: LocateRequest => LocateResponse,
    /// Check.
    Check: CheckPayload => CheckPayload,
    /// Get.
    Get: GetRequest => GetResponse,
    /// Get Attributes.
    GetAttributes: GetAttributesRequest => GetAttributesResponse,
    /// Get Attribute List.
    GetAttributeList: IdentifierRequest => GetAttributeListResponse,
    /// Add Attribute.
    AddAttribute: AddAttributeRequest => AttributeChangeResponse,
    /// Modify Attribute.
    ModifyAttribute: ModifyAttributeRequest => AttributeChangeResponse,
    /// Delete Attribute.
    DeleteAttribute: DeleteAttributeRequest => AttributeChangeResponse,
    /// Set Attribute (2.x).
    SetAttribute: SetAttributeRequest => IdentifierResponse,
    /// Activate.
    Activate: IdentifierRequest => IdentifierResponse,
    /// Revoke.
    Revoke: RevokeRequest => IdentifierResponse,
    /// Destroy.
    Destroy: IdentifierRequest => IdentifierResponse,
    /// Archive.
    Archive: IdentifierRequest => IdentifierResponse,
    /// Recover.
    Recover: IdentifierRequest => IdentifierResponse,
    /// Query.
    Query: QueryRequest => QueryResponse,
    /// Discover Versions.
    DiscoverVersions: DiscoverVersionsPayload => DiscoverVersionsPayload,
    /// Encrypt.
    Encrypt: EncryptRequest => EncryptResponse,
    /// Decrypt.
    Decrypt: DecryptRequest => DecryptResponse,
    /// Sign.
    Sign: SignRequest => SignResponse,
    /// Signature Verify.
    SignatureVerify: SignatureVerifyRequest => SignatureVerifyResponse,
    /// MAC.
    MAC: MacRequest => MacResponse,
    /// MAC Verify.
    MACVerify: MacVerifyRequest => MacVerifyResponse,
    /// Hash.
    Hash: HashRequest => HashResponse,
    /// RNG Retrieve.
    RNGRetrieve: DataLengthPayload => DataPayload,
    /// RNG Seed.
    RNGSeed: DataPayload => DataLengthPayload,
    /// Interop (2.x test control).
    Interop: InteropRequest => EmptyPayload,
    /// Log (2.x test control).
    Log: LogRequest => EmptyPayload,
}
