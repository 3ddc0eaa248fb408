//! Protocol versions: which ones kmipd speaks, how a request's version is negotiated, and
//! the check that a response holds only what its version defines.
//!
//! Negotiation (KMIP 1.4 §6.1 and §11.1; 2.1 §9.16): a supported version is answered in
//! that version. A version of a supported major with a newer minor (1.5, 2.2, ...) is
//! answered in the newest minor kmipd has for that major, as the specification asks for
//! backward compatibility within a major version. Any other major version (0.x, 3.x) is a
//! "protocol major version mismatch": the request fails as a whole with a single batch item
//! without Operation, answered in the supported version nearest to the request (1.0 below,
//! 2.1 above) with the reason that version defines for it: Invalid Message in 1.x,
//! Unsupported Protocol Version in 2.x.

use crate::kmip::objects::ProtocolVersion;
use crate::kmip::ModelError;
use crate::ttlv::registry::{self, Version};
use crate::ttlv::{Tag, Ttlv, Value};

/// The protocol versions kmipd speaks, preferred (newest) first.
pub const SUPPORTED_VERSIONS: [Version; 7] = [
    Version::new(2, 1),
    Version::new(2, 0),
    Version::new(1, 4),
    Version::new(1, 3),
    Version::new(1, 2),
    Version::new(1, 1),
    Version::new(1, 0),
];

/// The oldest version kmipd speaks.
pub const OLDEST: Version = Version::new(1, 0);
/// The newest version kmipd speaks.
pub const NEWEST: Version = Version::new(2, 1);

/// The outcome of negotiating a request's protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Negotiated {
    /// Process the request and answer in this version.
    Speak(Version),
    /// Refuse the request, answering in this version.
    Refuse(Version),
}

/// Negotiates the version of a request whose header says `major.minor`.
pub fn negotiate(major: i32, minor: i32) -> Negotiated {
    let newest_of_major = SUPPORTED_VERSIONS.iter().filter(|v| i32::from(v.major) == major).max().copied();
    match newest_of_major {
        Some(newest) if minor >= i32::from(newest.minor) => Negotiated::Speak(newest),
        Some(_) => match SUPPORTED_VERSIONS
            .iter()
            .find(|v| i32::from(v.major) == major && i32::from(v.minor) == minor)
        {
            Some(v) => Negotiated::Speak(*v),
            // A negative minor of a supported major: nothing to be compatible with.
            None => Negotiated::Refuse(oldest_of(major)),
        },
        None if major > i32::from(NEWEST.major) => Negotiated::Refuse(NEWEST),
        None => Negotiated::Refuse(OLDEST),
    }
}

fn oldest_of(major: i32) -> Version {
    SUPPORTED_VERSIONS.iter().filter(|v| i32::from(v.major) == major).min().copied().unwrap_or(OLDEST)
}

/// The wire form of a version.
pub fn to_protocol_version(v: Version) -> ProtocolVersion {
    ProtocolVersion { major: i32::from(v.major), minor: i32::from(v.minor) }
}

/// `major.minor` for messages, including versions that do not fit the registry type.
pub fn describe(v: &ProtocolVersion) -> String {
    format!("{}.{}", v.major, v.minor)
}

/// The supported versions as text, preferred first.
pub fn describe_supported() -> String {
    SUPPORTED_VERSIONS.iter().map(Version::to_string).collect::<Vec<_>>().join(", ")
}

/// Whether a tag exists in `version`. Extension tags (0x54XXXX) and tags the registry does
/// not list count as present (the typed model decides about those).
pub fn tag_in_version(tag: Tag, version: Version) -> bool {
    registry::tag_info(tag).is_none_or(|info| info.in_version(version))
}

/// Whether `value` of the enumeration carried by `tag` exists in `version`. Extension
/// values (0x8XXXXXXX) are always allowed; a value the registry does not list is not.
pub fn enum_value_in_version(tag: Tag, value: u32, version: Version) -> bool {
    if value & 0xF000_0000 == 0x8000_0000 {
        return true;
    }
    let Some(info) = registry::enumeration_for_tag(tag) else {
        return true;
    };
    info.values.iter().any(|v| {
        v.value == value && v.first.is_none_or(|f| f <= version) && v.removed.is_none_or(|r| version < r)
    })
}

/// Checks that every tag and every enumeration value of `item` exists in `version`: the last
/// line of defence that keeps a response from sending a peer something its version does not
/// define (a 1.0 client fails on a 1.1 field it cannot parse).
pub fn check_in_version(item: &Ttlv, version: Version) -> Result<(), ModelError> {
    match first_unknown(item, version) {
        None => Ok(()),
        // The path is built only on failure: the check runs on every answer.
        Some(mut trail) => {
            trail.reverse();
            let path = trail.join("/");
            Err(ModelError::NotInVersion { path, version })
        }
    }
}

/// The path (innermost first) to the first item `version` does not define.
fn first_unknown(item: &Ttlv, version: Version) -> Option<Vec<String>> {
    if !tag_in_version(item.tag, version) {
        return Some(vec![item.tag.to_string()]);
    }
    if let Value::Enumeration(v) = item.value {
        if !enum_value_in_version(item.tag, v, version) {
            return Some(vec![format!("{}=0x{v:08X}", item.tag)]);
        }
    }
    item.children().iter().find_map(|child| {
        let mut trail = first_unknown(child, version)?;
        trail.push(item.tag.to_string());
        Some(trail)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmip::enums::Operation;
    use crate::kmip::KmipEnum;

    #[test]
    fn supported_versions_are_answered_in_kind() {
        for v in SUPPORTED_VERSIONS {
            assert_eq!(negotiate(v.major.into(), v.minor.into()), Negotiated::Speak(v));
        }
    }

    #[test]
    fn newer_minor_falls_back_to_newest_of_the_major() {
        assert_eq!(negotiate(1, 5), Negotiated::Speak(Version::new(1, 4)));
        assert_eq!(negotiate(2, 7), Negotiated::Speak(Version::new(2, 1)));
    }

    #[test]
    fn other_majors_are_refused_in_the_nearest_version() {
        assert_eq!(negotiate(3, 0), Negotiated::Refuse(NEWEST));
        assert_eq!(negotiate(0, 9), Negotiated::Refuse(OLDEST));
        assert_eq!(negotiate(-1, 0), Negotiated::Refuse(OLDEST));
        assert_eq!(negotiate(1, -1), Negotiated::Refuse(OLDEST));
        assert_eq!(negotiate(2, -3), Negotiated::Refuse(Version::new(2, 0)));
    }

    #[test]
    fn enumeration_values_have_versions() {
        let v1_0 = Version::new(1, 0);
        let v2_0 = Version::new(2, 0);
        assert!(!enum_value_in_version(Tag::OPERATION, Operation::DiscoverVersions.to_u32(), v1_0));
        assert!(enum_value_in_version(
            Tag::OPERATION,
            Operation::DiscoverVersions.to_u32(),
            Version::new(1, 1)
        ));
        assert!(!enum_value_in_version(Tag::OPERATION, Operation::Interop.to_u32(), Version::new(1, 4)));
        assert!(enum_value_in_version(Tag::OPERATION, Operation::Interop.to_u32(), v2_0));
        assert!(enum_value_in_version(Tag::OPERATION, 0x8000_0001, v1_0));
    }

    #[test]
    fn check_in_version_catches_new_enum_values_and_tags() {
        let item = Ttlv::structure(
            Tag::RESPONSE_PAYLOAD,
            vec![Ttlv::enumeration(Tag::OPERATION, Operation::Interop.to_u32())],
        );
        assert!(check_in_version(&item, Version::new(1, 4)).is_err());
        assert!(check_in_version(&item, Version::new(2, 1)).is_ok());
        let caps = Ttlv::structure(Tag::CAPABILITY_INFORMATION, vec![]);
        assert!(check_in_version(&caps, Version::new(1, 2)).is_err());
        assert!(check_in_version(&caps, Version::new(1, 3)).is_ok());
    }
}
