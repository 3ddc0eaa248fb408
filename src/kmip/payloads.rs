//! Request and response payloads of the operations used by the KMIP 1.4 and 2.1 mandatory
//! profiles (plus Interop/Log test control and the other operations the OASIS test cases use:
//! split keys, login/ticket, import/export, certify, constraints, PKCS#11, ...). Each payload carries the union of its 1.x and
//! 2.x fields in the specification's order, so either version's form round-trips exactly:
//! 1.x fields (`template_attribute`, `attribute_names`, ...) and 2.x fields (`attributes`,
//! `attribute_references`, ...) sit side by side and a message uses one set or the other.
//!
//! Operations outside this set (Poll, whose response is the polled operation's, and the 3.0
//! drafts' additions) decode to `Other`, which keeps the payload tree as sent.

use super::attributes::{
    AttributeHolder, AttributeReference, Attributes, IndexedAttribute, TemplateAttribute,
};
use super::codec::{
    kmip_field_put, kmip_field_take, kmip_field_type, kmip_struct, wrong_type, DateTime, DateTimeExtended,
    FromTtlv, ModelError, Path, RawStructure, SecretBytes, ToTtlv,
};
use super::enums::{
    AdjustmentType, AttestationType, CancellationResult, CertificateRequestType, ClientRegistrationMethod,
    DerivationMethod, EndpointRole, InteropFunction, KeyCompressionType, KeyFormatType, KeyWrapType,
    ObjectGroupMember, ObjectType, Operation, PKCS_11Function, ProcessingStage, PutFunction, QueryFunction,
    SecretDataType, SplitKeyMethod, ValidityIndicator,
};
use super::message::Ticket;
use super::objects::{
    CapabilityInformation, Certificate, CertificateRequest, CryptographicParameters, DerivationParameters,
    ExtensionInformation, KeyWrappingSpecification, ManagedObject, ObjectGroups, ProfileInformation,
    ProtectionStorageMasks, ProtocolVersion, RevocationReason, RngParameters, UniqueIdentifier, UsageLimits,
    ValidationInformation,
};
use crate::ttlv::registry::Version;
use crate::ttlv::{BigInt, Tag, Ttlv, Value};

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
    #[derive(Default)]
    pub struct QueryResponse {
        /// Operations supported.
        operations: vec Operation = OPERATION,
        /// Object Types supported.
        object_types: vec ObjectType = OBJECT_TYPE,
        /// Vendor Identification.
        vendor_identification: opt String = VENDOR_IDENTIFICATION,
        /// Server Information (vendor-specific content, kept as sent).
        server_information: opt RawStructure = SERVER_INFORMATION,
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
        defaults_information: opt RawStructure = DEFAULTS_INFORMATION,
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

kmip_struct! {
    /// Create Split Key request.
    pub struct CreateSplitKeyRequest {
        /// Object Type to create.
        object_type: req ObjectType = OBJECT_TYPE,
        /// Key to split, if any.
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Split Key Parts.
        split_key_parts: req i32 = SPLIT_KEY_PARTS,
        /// Split Key Threshold.
        split_key_threshold: req i32 = SPLIT_KEY_THRESHOLD,
        /// Split Key Method.
        split_key_method: req SplitKeyMethod = SPLIT_KEY_METHOD,
        /// Prime Field Size.
        prime_field_size: opt BigInt = PRIME_FIELD_SIZE,
        /// 1.x attributes.
        template_attribute: opt TemplateAttribute = TEMPLATE_ATTRIBUTE,
        /// 2.x attributes.
        attributes: opt Attributes = ATTRIBUTES,
        /// 2.x Protection Storage Masks.
        protection_storage_masks: opt ProtectionStorageMasks = PROTECTION_STORAGE_MASKS,
    }
}

kmip_struct! {
    /// Create Split Key response.
    pub struct CreateSplitKeyResponse {
        /// The parts created.
        unique_identifiers: vec1 UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// 1.x attributes set by the server.
        template_attribute: opt TemplateAttribute = TEMPLATE_ATTRIBUTE,
    }
}

kmip_struct! {
    /// Join Split Key request.
    pub struct JoinSplitKeyRequest {
        /// Object Type to form.
        object_type: req ObjectType = OBJECT_TYPE,
        /// The parts to join.
        unique_identifiers: vec1 UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Secret Data Type of the result.
        secret_data_type: opt SecretDataType = SECRET_DATA_TYPE,
        /// 1.x attributes.
        template_attribute: opt TemplateAttribute = TEMPLATE_ATTRIBUTE,
        /// 2.x attributes.
        attributes: opt Attributes = ATTRIBUTES,
        /// 2.x Protection Storage Masks.
        protection_storage_masks: opt ProtectionStorageMasks = PROTECTION_STORAGE_MASKS,
    }
}

kmip_struct! {
    /// Operations (2.x Right).
    pub struct Operations {
        /// Operations allowed.
        operations: vec Operation = OPERATION,
    }
}

kmip_struct! {
    /// Objects (2.x Right).
    pub struct Objects {
        /// Objects allowed.
        unique_identifiers: vec UniqueIdentifier = UNIQUE_IDENTIFIER,
    }
}

kmip_struct! {
    /// Right (2.x Delegated Login).
    pub struct Right {
        /// Usage Limits.
        usage_limits: opt UsageLimits = USAGE_LIMITS,
        /// Operations.
        operations: opt Operations = OPERATIONS,
        /// Objects.
        objects: opt Objects = OBJECTS,
        /// Object Groups.
        object_groups: opt ObjectGroups = OBJECT_GROUPS,
    }
}

kmip_struct! {
    /// Rights (2.x Delegated Login).
    pub struct Rights {
        /// Each Right granted.
        rights: vec Right = RIGHT,
    }
}

kmip_struct! {
    /// Login request (2.x).
    pub struct LoginRequest {
        /// Lease Time of the ticket.
        lease_time: opt u32 = LEASE_TIME,
        /// Request Count the ticket allows.
        request_count: opt i32 = REQUEST_COUNT,
        /// Usage Limits.
        usage_limits: opt UsageLimits = USAGE_LIMITS,
    }
}

kmip_struct! {
    /// Delegated Login request (2.x).
    pub struct DelegatedLoginRequest {
        /// Lease Time of the ticket.
        lease_time: opt u32 = LEASE_TIME,
        /// Request Count the ticket allows.
        request_count: opt i32 = REQUEST_COUNT,
        /// Usage Limits.
        usage_limits: opt UsageLimits = USAGE_LIMITS,
        /// Rights granted.
        rights: req Rights = RIGHTS,
    }
}

kmip_struct! {
    /// Login/Delegated Login response and Logout request (2.x).
    pub struct TicketPayload {
        /// Ticket.
        ticket: req Ticket = TICKET,
    }
}

kmip_struct! {
    /// Export response.
    pub struct ExportResponse {
        /// Object Type.
        object_type: req ObjectType = OBJECT_TYPE,
        /// Unique Identifier.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// 1.x attributes.
        attributes_v1: vec IndexedAttribute = ATTRIBUTE,
        /// 2.x attributes.
        attributes: opt Attributes = ATTRIBUTES,
        /// The object.
        object: choice ManagedObject = SYMMETRIC_KEY,
    }
}

kmip_struct! {
    /// Import request.
    pub struct ImportRequest {
        /// Unique Identifier to import under.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Object Type.
        object_type: opt ObjectType = OBJECT_TYPE,
        /// Replace an existing object with this identifier.
        replace_existing: opt bool = REPLACE_EXISTING,
        /// Key Wrap Type, when the object is wrapped.
        key_wrap_type: opt KeyWrapType = KEY_WRAP_TYPE,
        /// 1.x attributes.
        attributes_v1: vec IndexedAttribute = ATTRIBUTE,
        /// 2.x attributes.
        attributes: opt Attributes = ATTRIBUTES,
        /// The object.
        object: choice ManagedObject = SYMMETRIC_KEY,
    }
}

kmip_struct! {
    /// Cancel and Process request: names a pending asynchronous operation.
    pub struct AsynchronousOperationRequest {
        /// Asynchronous Correlation Value of the pending operation.
        asynchronous_correlation_value: req Vec<u8> = ASYNCHRONOUS_CORRELATION_VALUE,
    }
}

kmip_struct! {
    /// Cancel response.
    pub struct CancelResponse {
        /// Asynchronous Correlation Value.
        asynchronous_correlation_value: req Vec<u8> = ASYNCHRONOUS_CORRELATION_VALUE,
        /// Cancellation Result.
        cancellation_result: req CancellationResult = CANCELLATION_RESULT,
    }
}

kmip_struct! {
    /// Obtain Lease response.
    pub struct ObtainLeaseResponse {
        /// Object.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Lease Time granted.
        lease_time: req u32 = LEASE_TIME,
        /// Last Change Date.
        last_change_date: req DateTime = LAST_CHANGE_DATE,
    }
}

kmip_struct! {
    /// Get Usage Allocation request.
    pub struct GetUsageAllocationRequest {
        /// Object (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Usage Limits Count wanted.
        usage_limits_count: req i64 = USAGE_LIMITS_COUNT,
    }
}

kmip_struct! {
    /// Certify and Re-certify request.
    pub struct CertifyRequest {
        /// Public key or certificate (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// 2.x Certificate Request Unique Identifier (Re-certify).
        certificate_request_unique_identifier: opt UniqueIdentifier = CERTIFICATE_REQUEST_UNIQUE_IDENTIFIER,
        /// Certificate Request Type.
        certificate_request_type: opt CertificateRequestType = CERTIFICATE_REQUEST_TYPE,
        /// 1.x Certificate Request (a Byte String there).
        certificate_request: opt Vec<u8> = CERTIFICATE_REQUEST,
        /// 2.x Certificate Request Value.
        certificate_request_value: opt Vec<u8> = CERTIFICATE_REQUEST_VALUE,
        /// Offset (Re-certify).
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
    /// Validate request.
    pub struct ValidateRequest {
        /// Certificates of the chain.
        certificates: vec Certificate = CERTIFICATE,
        /// Certificates by identifier.
        unique_identifiers: vec UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Date to validate at.
        validity_date: opt DateTime = VALIDITY_DATE,
    }
}

kmip_struct! {
    /// Validate response.
    pub struct ValidateResponse {
        /// Validity Indicator.
        validity_indicator: req ValidityIndicator = VALIDITY_INDICATOR,
    }
}

kmip_struct! {
    /// Notify (server to client).
    pub struct NotifyRequest {
        /// Object.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// 1.x attributes that changed.
        attributes_v1: vec IndexedAttribute = ATTRIBUTE,
        /// 2.x attributes that changed.
        attributes: opt Attributes = ATTRIBUTES,
        /// 2.x attributes deleted.
        attribute_references: vec AttributeReference = ATTRIBUTE_REFERENCE,
    }
}

kmip_struct! {
    /// Put (server to client).
    pub struct PutRequest {
        /// Object.
        unique_identifier: req UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// Put Function.
        put_function: req PutFunction = PUT_FUNCTION,
        /// Replaced Unique Identifier.
        replaced_unique_identifier: opt UniqueIdentifier = REPLACED_UNIQUE_IDENTIFIER,
        /// The object.
        object: choice ManagedObject = SYMMETRIC_KEY,
        /// 1.x attributes.
        attributes_v1: vec IndexedAttribute = ATTRIBUTE,
        /// 2.x attributes.
        attributes: opt Attributes = ATTRIBUTES,
    }
}

kmip_struct! {
    /// Object Types (2.x Constraint).
    pub struct ObjectTypes {
        /// Object Types.
        object_types: vec ObjectType = OBJECT_TYPE,
    }
}

kmip_struct! {
    /// Constraint (2.x).
    pub struct Constraint {
        /// Object Types it applies to.
        object_types: opt ObjectTypes = OBJECT_TYPES,
        /// Object Groups it applies to.
        object_groups: opt ObjectGroups = OBJECT_GROUPS,
        /// Attribute values required.
        attributes: opt Attributes = ATTRIBUTES,
    }
}

kmip_struct! {
    /// Get Constraints response (2.x).
    pub struct ConstraintsPayload {
        /// Constraints.
        constraints: req Constraints = CONSTRAINTS,
    }
}

kmip_struct! {
    /// Set Constraints request (2.x). 2.1 §6.1.52 makes Constraints required, but the OASIS
    /// test case TC-MD-24-21 clears the constraints with an empty payload, so it is optional.
    pub struct SetConstraintsRequest {
        /// Constraints; absent to clear them.
        constraints: opt Constraints = CONSTRAINTS,
    }
}

kmip_struct! {
    /// Constraints (2.x).
    pub struct Constraints {
        /// Each Constraint.
        constraints: vec Constraint = CONSTRAINT,
    }
}

/// PKCS#11 Function: an enumeration for the standard functions, an Integer for vendor ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pkcs11Function {
    /// A standard PKCS#11 function.
    Standard(PKCS_11Function),
    /// A vendor-defined function.
    Vendor(i32),
}

impl FromTtlv for Pkcs11Function {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        match item.value {
            Value::Integer(i) => Ok(Pkcs11Function::Vendor(i)),
            Value::Enumeration(_) => FromTtlv::from_ttlv_item(item, path).map(Pkcs11Function::Standard),
            _ => Err(wrong_type(item, path, "Enumeration or Integer")),
        }
    }
}

impl ToTtlv for Pkcs11Function {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        match self {
            Pkcs11Function::Standard(f) => f.to_ttlv_item(tag),
            Pkcs11Function::Vendor(i) => Ttlv::integer(tag, *i),
        }
    }
}

/// PKCS#11 Return Code: a `CK_RV` value. The KMIP tables list none (they defer to PKCS#11),
/// so every value is accepted as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pkcs11ReturnCode(pub u32);

impl FromTtlv for Pkcs11ReturnCode {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        match item.value {
            Value::Enumeration(v) => Ok(Pkcs11ReturnCode(v)),
            _ => Err(wrong_type(item, path, "Enumeration")),
        }
    }
}

impl ToTtlv for Pkcs11ReturnCode {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        Ttlv::enumeration(tag, self.0)
    }
}

kmip_struct! {
    /// PKCS#11 request (2.x).
    pub struct Pkcs11Request {
        /// PKCS#11 Interface.
        interface: opt String = PKCS_11_INTERFACE,
        /// PKCS#11 Function.
        function: req Pkcs11Function = PKCS_11_FUNCTION,
        /// Correlation Value from the previous response.
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
        /// PKCS#11 Input Parameters.
        input_parameters: opt SecretBytes = PKCS_11_INPUT_PARAMETERS,
    }
}

kmip_struct! {
    /// PKCS#11 response (2.x).
    pub struct Pkcs11Response {
        /// PKCS#11 Interface.
        interface: opt String = PKCS_11_INTERFACE,
        /// PKCS#11 Function.
        function: req Pkcs11Function = PKCS_11_FUNCTION,
        /// Correlation Value for the next request.
        correlation_value: opt Vec<u8> = CORRELATION_VALUE,
        /// PKCS#11 Output Parameters.
        output_parameters: opt SecretBytes = PKCS_11_OUTPUT_PARAMETERS,
        /// PKCS#11 Return Code.
        return_code: req Pkcs11ReturnCode = PKCS_11_RETURN_CODE,
    }
}

kmip_struct! {
    /// Adjust Attribute request (2.1).
    pub struct AdjustAttributeRequest {
        /// Object (default: ID Placeholder).
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
        /// The attribute to adjust.
        attribute_reference: req AttributeReference = ATTRIBUTE_REFERENCE,
        /// Increment, decrement or negate.
        adjustment_type: req AdjustmentType = ADJUSTMENT_TYPE,
        /// Adjustment Value (its item type follows the attribute's).
        adjustment_value: opt Ttlv = ADJUSTMENT_VALUE,
    }
}

kmip_struct! {
    /// Set Endpoint Role request and response (2.x).
    pub struct EndpointRolePayload {
        /// Endpoint Role.
        endpoint_role: req EndpointRole = ENDPOINT_ROLE,
    }
}

kmip_struct! {
    /// Set Defaults request (2.x).
    pub struct SetDefaultsRequest {
        /// Defaults Information (kept as sent); absent to reset.
        defaults_information: opt RawStructure = DEFAULTS_INFORMATION,
    }
}

kmip_struct! {
    /// Asynchronous Correlation Values (2.x Query Asynchronous Requests).
    pub struct AsynchronousCorrelationValues {
        /// The values.
        values: vec Vec<u8> = ASYNCHRONOUS_CORRELATION_VALUE,
    }
}

kmip_struct! {
    /// Query Asynchronous Requests request (2.x).
    pub struct QueryAsynchronousRequestsRequest {
        /// Requests to report on.
        asynchronous_correlation_values: opt AsynchronousCorrelationValues = ASYNCHRONOUS_CORRELATION_VALUES,
        /// Operations to report on.
        operations: opt Operations = OPERATIONS,
    }
}

kmip_struct! {
    /// Asynchronous Request (2.x Query Asynchronous Requests response).
    pub struct AsynchronousRequest {
        /// Asynchronous Correlation Value.
        asynchronous_correlation_value: req Vec<u8> = ASYNCHRONOUS_CORRELATION_VALUE,
        /// Operation.
        operation: req Operation = OPERATION,
        /// Submission Date.
        submission_date: req DateTimeExtended = SUBMISSION_DATE,
        /// Processing Stage.
        processing_stage: req ProcessingStage = PROCESSING_STAGE,
    }
}

kmip_struct! {
    /// Query Asynchronous Requests response (2.x).
    pub struct QueryAsynchronousRequestsResponse {
        /// The pending requests.
        asynchronous_requests: vec AsynchronousRequest = ASYNCHRONOUS_REQUEST,
    }
}

kmip_struct! {
    /// Re-Provision request (2.1).
    pub struct ReProvisionRequest {
        /// Certificate Request to be signed.
        certificate_request: opt CertificateRequest = CERTIFICATE_REQUEST,
        /// Certificate replacing the existing one.
        certificate: opt Certificate = CERTIFICATE,
    }
}

kmip_struct! {
    /// Re-Provision response (2.1).
    pub struct ReProvisionResponse {
        /// Certificate or Private Key identifier.
        unique_identifier: opt UniqueIdentifier = UNIQUE_IDENTIFIER,
    }
}

/// The field a payload of protocol `version` must carry when the 1.x and 2.x forms of the
/// payload require different ones (`Template-Attribute` vs `Attributes`, ...).
fn require_form(
    version: Version,
    has_v1: bool,
    v1_tag: Tag,
    has_v2: bool,
    v2_tag: Tag,
    path: &Path<'_>,
) -> Result<(), ModelError> {
    let (present, field) = if version.major >= 2 { (has_v2, v2_tag) } else { (has_v1, v1_tag) };
    if present {
        Ok(())
    } else {
        Err(ModelError::MissingField { path: path.to_string(), field })
    }
}

impl RequestPayload {
    /// Checks the fields that are required in one protocol version's form of the payload but
    /// not in the other's (decoding accepts either form, so it cannot check these). `path` is
    /// the payload's path, for the error.
    pub fn check_required_for_version(&self, version: Version, path: &Path<'_>) -> Result<(), ModelError> {
        use RequestPayload as P;
        let (ta, at) = (Tag::TEMPLATE_ATTRIBUTE, Tag::ATTRIBUTES);
        match self {
            P::Create(p) => {
                require_form(version, p.template_attribute.is_some(), ta, p.attributes.is_some(), at, path)
            }
            P::Register(p) => {
                require_form(version, p.template_attribute.is_some(), ta, p.attributes.is_some(), at, path)
            }
            P::DeriveKey(p) => {
                require_form(version, p.template_attribute.is_some(), ta, p.attributes.is_some(), at, path)
            }
            P::CreateSplitKey(p) => {
                require_form(version, p.template_attribute.is_some(), ta, p.attributes.is_some(), at, path)
            }
            P::Locate(p) => require_form(version, true, at, p.attributes.is_some(), at, path),
            P::AddAttribute(p) => require_form(
                version,
                p.attribute.is_some(),
                Tag::ATTRIBUTE,
                p.new_attribute.is_some(),
                Tag::NEW_ATTRIBUTE,
                path,
            ),
            P::ModifyAttribute(p) => require_form(
                version,
                p.attribute.is_some(),
                Tag::ATTRIBUTE,
                p.new_attribute.is_some(),
                Tag::NEW_ATTRIBUTE,
                path,
            ),
            P::DeleteAttribute(p) => {
                require_form(version, p.attribute_name.is_some(), Tag::ATTRIBUTE_NAME, true, at, path)
            }
            _ => Ok(()),
        }
    }
}

impl ResponsePayload {
    /// Checks the fields that are required in one protocol version's form of the payload but
    /// not in the other's. `path` is the payload's path, for the error.
    pub fn check_required_for_version(&self, version: Version, path: &Path<'_>) -> Result<(), ModelError> {
        use ResponsePayload as P;
        let attr = Tag::ATTRIBUTE;
        match self {
            P::GetAttributes(p) => {
                require_form(version, true, attr, p.attributes.is_some(), Tag::ATTRIBUTES, path)
            }
            P::AddAttribute(p) | P::ModifyAttribute(p) | P::DeleteAttribute(p) => {
                require_form(version, p.attribute.is_some(), attr, true, attr, path)
            }
            _ => Ok(()),
        }
    }
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
    /// Create Split Key.
    CreateSplitKey: CreateSplitKeyRequest => CreateSplitKeyResponse,
    /// Join Split Key.
    JoinSplitKey: JoinSplitKeyRequest => IdentifierWithTemplateResponse,
    /// Login (2.x).
    Login: LoginRequest => TicketPayload,
    /// Delegated Login (2.x).
    DelegatedLogin: DelegatedLoginRequest => TicketPayload,
    /// Logout (2.x).
    Logout: TicketPayload => EmptyPayload,
    /// Export.
    Export: GetRequest => ExportResponse,
    /// Import.
    Import: ImportRequest => IdentifierResponse,
    /// Cancel.
    Cancel: AsynchronousOperationRequest => CancelResponse,
    /// Process (2.x): run a pending asynchronous operation now.
    Process: AsynchronousOperationRequest => EmptyPayload,
    /// Adjust Attribute (2.1).
    AdjustAttribute: AdjustAttributeRequest => IdentifierResponse,
    /// Set Endpoint Role (2.x).
    SetEndpointRole: EndpointRolePayload => EndpointRolePayload,
    /// Set Defaults (2.x).
    SetDefaults: SetDefaultsRequest => EmptyPayload,
    /// Query Asynchronous Requests (2.x).
    QueryAsynchronousRequests: QueryAsynchronousRequestsRequest => QueryAsynchronousRequestsResponse,
    /// Re-Provision (2.1).
    ReProvision: ReProvisionRequest => ReProvisionResponse,
    /// Obtain Lease.
    ObtainLease: IdentifierRequest => ObtainLeaseResponse,
    /// Get Usage Allocation.
    GetUsageAllocation: GetUsageAllocationRequest => IdentifierResponse,
    /// Certify.
    Certify: CertifyRequest => IdentifierWithTemplateResponse,
    /// Re-certify.
    ReCertify: CertifyRequest => IdentifierWithTemplateResponse,
    /// Validate.
    Validate: ValidateRequest => ValidateResponse,
    /// Notify (server to client).
    Notify: NotifyRequest => EmptyPayload,
    /// Put (server to client).
    Put: PutRequest => EmptyPayload,
    /// Get Constraints (2.x).
    GetConstraints: EmptyPayload => ConstraintsPayload,
    /// Set Constraints (2.x).
    SetConstraints: SetConstraintsRequest => EmptyPayload,
    /// Ping (2.x).
    Ping: EmptyPayload => EmptyPayload,
    /// PKCS#11 (2.x). Named like the generated `Operation::PKCS_11`.
    #[allow(non_camel_case_types)]
    PKCS_11: Pkcs11Request => Pkcs11Response,
}
