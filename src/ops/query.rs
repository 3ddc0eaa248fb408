//! Query (KMIP 1.4 §4.25, 2.1 §6.1.37): what this server really supports, in the request's
//! protocol version. Lists only what is implemented: the operations that have a handler,
//! the object types the object operations manage, and the batch capabilities of
//! [`super`]. Profiles, RNGs, validations, extensions, attestation types, application
//! namespaces and client registration methods are answered with empty lists: kmipd claims
//! none of them (profiles are listed once every operation of one passes its OASIS cases).

use crate::kmip::enums::{ObjectType, Operation, QueryFunction};
use crate::kmip::objects::CapabilityInformation;
use crate::kmip::payloads::{QueryRequest, QueryResponse};
use crate::kmip::{KmipEnum, ResponsePayload};
use crate::ttlv::registry::{self, Version};
use crate::ttlv::Tag;

use super::version::{enum_value_in_version, tag_in_version};
use super::{implements, OpContext, OpError, Outcome};

/// The object types kmipd manages (Create, Create Key Pair and Register).
const OBJECT_TYPES: &[ObjectType] = &[
    ObjectType::Certificate,
    ObjectType::SymmetricKey,
    ObjectType::PublicKey,
    ObjectType::PrivateKey,
    ObjectType::SecretData,
    ObjectType::OpaqueObject,
];

/// Vendor Identification reported by Query Server Information.
const VENDOR_IDENTIFICATION: &str = concat!("kmipd ", env!("CARGO_PKG_VERSION"));

pub(super) fn run(cx: &OpContext<'_>, request: &QueryRequest) -> Result<Outcome, OpError> {
    let version = cx.version();
    let mut response = QueryResponse::default();
    for function in &request.query_functions {
        match function {
            QueryFunction::QueryOperations => response.operations = operations(version),
            QueryFunction::QueryObjects => {
                response.object_types = OBJECT_TYPES
                    .iter()
                    .copied()
                    .filter(|t| enum_value_in_version(Tag::OBJECT_TYPE, t.to_u32(), version))
                    .collect();
            }
            QueryFunction::QueryServerInformation => {
                response.vendor_identification = Some(VENDOR_IDENTIFICATION.to_owned());
            }
            QueryFunction::QueryCapabilities => {
                if tag_in_version(Tag::CAPABILITY_INFORMATION, version) {
                    response.capability_information = vec![capabilities(version)];
                }
            }
            // Nothing to report: see the module documentation.
            QueryFunction::QueryApplicationNamespaces
            | QueryFunction::QueryExtensionList
            | QueryFunction::QueryExtensionMap
            | QueryFunction::QueryAttestationTypes
            | QueryFunction::QueryRNGs
            | QueryFunction::QueryValidations
            | QueryFunction::QueryProfiles
            | QueryFunction::QueryClientRegistrationMethods
            | QueryFunction::QueryDefaultsInformation
            | QueryFunction::QueryStorageProtectionMasks
            | QueryFunction::QueryCredentialInformation
            | QueryFunction::Extension(_) => {}
        }
    }
    Ok(Outcome::reply(ResponsePayload::Query(Box::new(response))))
}

/// The implemented operations that `version` defines, in enumeration order.
fn operations(version: Version) -> Vec<Operation> {
    let Some(info) = registry::enumeration_for_tag(Tag::OPERATION) else {
        return Vec::new();
    };
    info.values
        .iter()
        .filter(|v| enum_value_in_version(Tag::OPERATION, v.value, version))
        .filter_map(|v| Operation::from_u32(v.value))
        .filter(|op| implements(*op))
        .collect()
}

/// The batch and processing capabilities of the batch processor, with only the fields
/// `version` defines.
fn capabilities(version: Version) -> CapabilityInformation {
    let known = |tag: Tag, value: bool| tag_in_version(tag, version).then_some(value);
    CapabilityInformation {
        streaming_capability: known(Tag::STREAMING_CAPABILITY, false),
        asynchronous_capability: known(Tag::ASYNCHRONOUS_CAPABILITY, false),
        attestation_capability: known(Tag::ATTESTATION_CAPABILITY, false),
        batch_undo_capability: known(Tag::BATCH_UNDO_CAPABILITY, true),
        batch_continue_capability: known(Tag::BATCH_CONTINUE_CAPABILITY, true),
        unwrap_mode: None,
        destroy_action: None,
        shredding_algorithm: None,
        rng_mode: None,
        quantum_safe_capability: known(Tag::QUANTUM_SAFE_CAPABILITY, false),
    }
}
