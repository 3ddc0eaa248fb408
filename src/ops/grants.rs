//! Grants: other identities' rights on an object (DESIGN.md invariant 7).
//!
//! KMIP has no access-control operation, so kmipd reads grants from a server-defined custom
//! attribute (the `y-` prefix is the server's, KMIP 1.4 §3.39): **`y-kmipd-grant`** in KMIP
//! 1.x, vendor `y` and name `kmipd-grant` in 2.x. Its value is a Text String
//! `OPERATIONS IDENTITY`: operation names as the KMIP encodings spell them, separated by
//! commas, one space, then the grantee's identity exactly as the audit log's `client` field
//! shows it, e.g. `Get,GetAttributes,Locate CN=backup-agent,O=Example`. Each instance is one
//! grant; Create, Register, Add, Modify, Delete and Set Attribute change them like any
//! attribute, and every write of the attributes writes the grants with them. Only the owner
//! or an admin may change them: a grantee holding Add Attribute can't widen its own rights.
//! A grantee sees the object in Locate and may perform exactly the operations listed.

use crate::kmip::attributes::Attribute;
use crate::store::{Grant, ObjectRecord};
use crate::ttlv::registry::enumeration_for_tag;
use crate::ttlv::{Tag, Value};

use super::object::AttributeSet;
use super::{OpContext, OpError};

/// The vendor (2.x) of the grant attribute; its 1.x name is `y-kmipd-grant`.
const VENDOR: &str = "y";
/// The 2.x name of the grant attribute.
const NAME: &str = "kmipd-grant";

/// The grants `attributes` carry, or Invalid Field naming the first unreadable one.
pub(super) fn grants_of(attributes: &AttributeSet) -> Result<Vec<Grant>, OpError> {
    attributes
        .iter()
        .filter_map(|a| match a {
            Attribute::Custom(c) if c.vendor_identification.as_deref() == Some(VENDOR) && c.attribute_name == NAME => {
                Some(&c.attribute_value)
            }
            _ => None,
        })
        .map(|value| match value {
            Value::TextString(text) => parse(text),
            _ => Err(OpError::InvalidField("y-kmipd-grant must be a Text String".into())),
        })
        .collect()
}

/// Refuses a change of grants by anyone but the owner or an admin.
pub(super) fn authorize_change(
    cx: &OpContext<'_>,
    record: &ObjectRecord,
    before: &AttributeSet,
    after: &AttributeSet,
) -> Result<(), OpError> {
    let owner_or_admin = cx.request.is_admin || record.owner == cx.request.client_identity;
    if owner_or_admin || grants_of(before)? == grants_of(after)? {
        return Ok(());
    }
    Err(OpError::PermissionDenied(format!("only the owner or an admin may change the grants of object {:?}", record.uid)))
}

fn parse(text: &str) -> Result<Grant, OpError> {
    let invalid = |why: String| OpError::InvalidField(format!("y-kmipd-grant {text:?}: {why}"));
    let (operations, identity) =
        text.split_once(' ').ok_or_else(|| invalid("expected \"OPERATIONS IDENTITY\"".into()))?;
    let identity = identity.trim();
    if identity.is_empty() {
        return Err(invalid("no identity".into()));
    }
    let names = enumeration_for_tag(Tag::OPERATION).ok_or_else(|| OpError::Internal("no Operation enumeration".into()))?;
    let mut codes = operations
        .split(',')
        .map(|name| names.value_of(name.trim()).ok_or_else(|| invalid(format!("unknown operation {name:?}"))))
        .collect::<Result<Vec<u32>, OpError>>()?;
    codes.sort_unstable();
    codes.dedup();
    Ok(Grant { identity: identity.to_owned(), operations: codes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmip::enums::Operation;
    use crate::kmip::KmipEnum;

    fn allows(grant: &Grant, operation: Operation) -> bool {
        grant.operations.binary_search(&operation.to_u32()).is_ok()
    }

    #[test]
    fn parses_operations_and_an_identity_with_spaces_and_commas() {
        let grant = parse("Get,GetAttributes,Locate O=Example Corp, CN=backup").unwrap();
        assert_eq!(grant.identity, "O=Example Corp, CN=backup");
        assert!(allows(&grant, Operation::Get) && allows(&grant, Operation::Locate));
        assert!(!allows(&grant, Operation::Destroy));
    }

    #[test]
    fn refuses_unknown_operations_and_missing_identities() {
        for bad in ["Get", "Get ", "Fetch CN=x", "Get,,Locate CN=x"] {
            assert!(matches!(parse(bad), Err(OpError::InvalidField(_))), "{bad:?}");
        }
    }
}
