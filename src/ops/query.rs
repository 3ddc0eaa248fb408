//! Query (KMIP 1.4 §4.25, 2.1 §6.1.37): what this server really supports, in the request's
//! protocol version. Lists only what is implemented: the operations that have a handler,
//! the object types the object operations manage, and the batch capabilities of
//! [`super`], and the profiles of [`CLAIMED_PROFILES`]. RNGs, validations, extensions,
//! attestation types, application namespaces and client registration methods are answered
//! with empty lists: kmipd claims none of them.

use std::collections::BTreeSet;

use crate::kmip::enums::{ObjectType, Operation, ProfileName, QueryFunction};
use crate::kmip::objects::{CapabilityInformation, ProfileInformation, ProfileVersion};
use crate::kmip::payloads::{QueryRequest, QueryResponse};
use crate::kmip::{KmipEnum, ResponsePayload};
use crate::ttlv::registry::{self, Version};
use crate::ttlv::Tag;

use super::version::{enum_value_in_version, tag_in_version};
use super::{implements, OpContext, OpError, Outcome};

/// The object types kmipd manages (Create, Create Key Pair and Register); Query lists those
/// the response's version defines (Template: 1.x only).
pub(super) const OBJECT_TYPES: &[ObjectType] = &[
    ObjectType::Certificate,
    ObjectType::SymmetricKey,
    ObjectType::PublicKey,
    ObjectType::PrivateKey,
    ObjectType::Template,
    ObjectType::SecretData,
    ObjectType::OpaqueObject,
];

/// The server profiles kmipd claims, with the protocol versions it claims them for: exactly
/// those whose every OASIS test case passes (`kmipd conformance --check` fails otherwise;
/// see CONFORMANCE.md).
const CLAIMED_PROFILES: &[(&str, &[&str])] = &[
    ("BL", &["2.1"]),
    ("CS-BC", &["1.4"]),
    ("CS-RNG", &["1.2", "1.3", "1.4", "2.0", "2.1"]),
    ("OMOS", &["1.0", "1.1", "1.2", "1.3", "1.4", "2.0", "2.1"]),
    ("QS", &["2.0", "2.1"]),
    ("SASED", &["1.0", "1.1", "1.2", "1.3", "1.4", "2.0", "2.1"]),
    ("SKFF", &["1.3", "1.4", "2.0", "2.1"]),
    ("SKLC", &["1.0", "1.1", "1.2", "1.3", "1.4", "2.1"]),
    ("TL", &["1.0", "1.1", "1.2", "1.3", "1.4", "2.0", "2.1"]),
];

/// Profile Name values of each profile: the 1.x name without its version suffix (`…KMIPV` +
/// `1_4`), and the 2.x name (the version goes into Profile Version).
const PROFILE_NAMES: &[(&str, &str, &str)] = &[
    ("BL", "BaselineServerBasicKMIPV", "BaselineServer"),
    ("SKLC", "SymmetricKeyLifecycleServerKMIPV", "SymmetricKeyLifecycleServer"),
    ("AKLC", "AsymmetricKeyLifecycleServerKMIPV", "AsymmetricKeyLifecycleServer"),
    ("TL", "TapeLibraryServerKMIPV", "TapeLibraryServer"),
    ("OMOS", "OpaqueManagedObjectStoreServerKMIPV", "OpaqueManagedObjectStoreServer"),
    ("SASED", "StorageArrayWithSelfEncryptingDriveServerKMIPV", "StorageArrayWithSelfEncryptingDriveServer"),
    ("SKFF", "SymmetricKeyFoundryServerKMIPV", "SymmetricKeyFoundryServer"),
    ("CS-BC", "BasicCryptographicServerKMIPV", "BasicCryptographicServer"),
    ("CS-AC", "AdvancedCryptographicServerKMIPV", "AdvancedCryptographicServer"),
    ("CS-RNG", "RNGCryptographicServerKMIPV", "RNGCryptographicServer"),
    ("AX", "", "AESXTSServer"),
    ("QS", "", "QuantumSafeServer"),
];

/// [`CLAIMED_PROFILES`] as (profile, version) pairs, for the conformance runner.
pub fn claimed_profiles() -> BTreeSet<(String, String)> {
    CLAIMED_PROFILES
        .iter()
        .flat_map(|(profile, versions)| versions.iter().map(move |v| ((*profile).to_owned(), (*v).to_owned())))
        .collect()
}

/// Profile Information for the claimed profiles that `version` can name: 1.x names for claims
/// at 1.x versions, 2.x names with their Profile Version for claims at 2.x versions.
fn profiles(version: Version) -> Vec<ProfileInformation> {
    let Some(names) = registry::enumeration_for_tag(Tag::PROFILE_NAME) else { return Vec::new() };
    let with_version = tag_in_version(Tag::PROFILE_VERSION, version);
    let mut out = Vec::new();
    for (profile, versions) in CLAIMED_PROFILES {
        let Some((_, stem_1x, name_2x)) = PROFILE_NAMES.iter().find(|(p, _, _)| p == profile) else { continue };
        for claimed in *versions {
            let Some((major, minor)) = claimed.split_once('.') else { continue };
            let (name, profile_version) = match (major, version.major) {
                ("1", 1) if !stem_1x.is_empty() => (format!("{stem_1x}1_{minor}"), None),
                ("2", 2..) => {
                    let minor = minor.parse().unwrap_or(0);
                    (name_2x.to_string(), with_version.then_some(ProfileVersion { major: 2, minor }))
                }
                _ => continue,
            };
            let value = names.value_of(&name).filter(|v| enum_value_in_version(Tag::PROFILE_NAME, *v, version));
            if let Some(profile_name) = value.and_then(ProfileName::from_u32) {
                out.push(ProfileInformation { profile_name, profile_version, server_uri: None, server_port: None });
            }
        }
    }
    out
}

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
            QueryFunction::QueryProfiles => response.profile_information = profiles(version),
            // Nothing to report: see the module documentation.
            QueryFunction::QueryApplicationNamespaces
            | QueryFunction::QueryExtensionList
            | QueryFunction::QueryExtensionMap
            | QueryFunction::QueryAttestationTypes
            | QueryFunction::QueryRNGs
            | QueryFunction::QueryValidations
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
        quantum_safe_capability: known(Tag::QUANTUM_SAFE_CAPABILITY, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(version: Version) -> Vec<(ProfileName, Option<(i32, i32)>)> {
        profiles(version).into_iter().map(|p| (p.profile_name, p.profile_version.map(|v| (v.major, v.minor)))).collect()
    }

    #[test]
    fn profiles_are_named_as_the_response_version_can() {
        // Profile Name exists from 1.3 on.
        assert!(names(Version::new(1, 2)).is_empty());
        let v14 = names(Version::new(1, 4));
        assert!(v14.contains(&(ProfileName::StorageArrayWithSelfEncryptingDriveServerKMIPV1_4, None)), "{v14:?}");
        assert!(v14.contains(&(ProfileName::OpaqueManagedObjectStoreServerKMIPV1_0, None)), "{v14:?}");
        let v21 = names(Version::new(2, 1));
        assert!(v21.contains(&(ProfileName::OpaqueManagedObjectStoreServer, Some((2, 1)))), "{v21:?}");
        assert!(v21.contains(&(ProfileName::OpaqueManagedObjectStoreServer, Some((2, 0)))), "{v21:?}");
        assert!(v21.iter().all(|(_, v)| v.is_some()));
        assert_eq!(claimed_profiles().len(), CLAIMED_PROFILES.iter().map(|(_, v)| v.len()).sum::<usize>());
    }
}
