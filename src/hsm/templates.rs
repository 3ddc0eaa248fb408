//! Object templates. Every template sets every security attribute explicitly: SoftHSM (and others) pick
//! surprising defaults otherwise (a template with only `CKA_VALUE_LEN` yields `CKA_SENSITIVE=false`).
//! Profiles may name attributes to leave out (CloudHSM rejects an explicit `CKA_SENSITIVE`).

use cryptoki::object::{Attribute, AttributeType, KeyType as CkKeyType, ObjectClass};

use super::{KeyUsage, NewObject, Persistence};

/// The attributes a profile may omit, by `CKA_*` name.
pub(crate) fn attribute_by_name(name: &str) -> Option<AttributeType> {
    Some(match name {
        "CKA_TOKEN" => AttributeType::Token,
        "CKA_PRIVATE" => AttributeType::Private,
        "CKA_SENSITIVE" => AttributeType::Sensitive,
        "CKA_EXTRACTABLE" => AttributeType::Extractable,
        "CKA_MODIFIABLE" => AttributeType::Modifiable,
        "CKA_COPYABLE" => AttributeType::Copyable,
        "CKA_DESTROYABLE" => AttributeType::Destroyable,
        "CKA_DERIVE" => AttributeType::Derive,
        "CKA_WRAP" => AttributeType::Wrap,
        "CKA_UNWRAP" => AttributeType::Unwrap,
        "CKA_LABEL" => AttributeType::Label,
        _ => return None,
    })
}

/// Builds templates for one profile.
#[derive(Debug, Clone)]
pub(crate) struct Templates {
    omit: Vec<AttributeType>,
}

/// Identity attributes already translated for the token.
pub(crate) struct Identity<'a> {
    pub cka_id: &'a [u8],
    pub label: &'a str,
}

impl Templates {
    pub(crate) fn new(omit_names: &[String]) -> Self {
        Templates { omit: omit_names.iter().filter_map(|n| attribute_by_name(n)).collect() }
    }

    fn finish(&self, mut template: Vec<Attribute>) -> Vec<Attribute> {
        template.retain(|a| !self.omit.contains(&a.attribute_type()));
        template
    }

    fn common(class: ObjectClass, key_type: CkKeyType, object: &NewObject, id: &Identity<'_>) -> Vec<Attribute> {
        vec![
            Attribute::Class(class),
            Attribute::KeyType(key_type),
            Attribute::Token(object.persistence == Persistence::Token),
            Attribute::Id(id.cka_id.to_vec()),
            Attribute::Label(id.label.as_bytes().to_vec()),
            Attribute::Modifiable(true),
            Attribute::Destroyable(true),
        ]
    }

    /// A secret key; `value_len` is set for generation, `value` for import (never both).
    pub(crate) fn secret_key(
        &self,
        key_type: CkKeyType,
        object: &NewObject,
        id: &Identity<'_>,
        value_len: Option<u64>,
        value: Option<&[u8]>,
    ) -> Vec<Attribute> {
        let usage = object.usage;
        let mut t = Self::common(ObjectClass::SECRET_KEY, key_type, object, id);
        t.extend([
            Attribute::Private(true),
            Attribute::Sensitive(object.sensitive),
            Attribute::Extractable(object.extractable),
            Attribute::Encrypt(usage.encrypt),
            Attribute::Decrypt(usage.decrypt),
            Attribute::Sign(usage.sign),
            Attribute::Verify(usage.verify),
            Attribute::Wrap(usage.wrap),
            Attribute::Unwrap(usage.unwrap),
            Attribute::Derive(usage.derive),
        ]);
        if let Some(len) = value_len {
            t.push(Attribute::ValueLen(len.into()));
        }
        if let Some(value) = value {
            t.push(Attribute::Value(value.to_vec()));
        }
        self.finish(t)
    }

    /// The private half of a key pair (material attributes are added by the caller for imports).
    pub(crate) fn private_key(&self, key_type: CkKeyType, object: &NewObject, id: &Identity<'_>) -> Vec<Attribute> {
        let usage = object.usage;
        let mut t = Self::common(ObjectClass::PRIVATE_KEY, key_type, object, id);
        t.extend([
            Attribute::Private(true),
            Attribute::Sensitive(object.sensitive),
            Attribute::Extractable(object.extractable),
            Attribute::Decrypt(usage.decrypt),
            Attribute::Sign(usage.sign),
            Attribute::Unwrap(usage.unwrap),
            Attribute::Derive(usage.derive),
        ]);
        self.finish(t)
    }

    /// The public half of a key pair. Public keys are not private objects: anyone logged in may read them.
    pub(crate) fn public_key(&self, key_type: CkKeyType, object: &NewObject, id: &Identity<'_>) -> Vec<Attribute> {
        let usage = object.usage;
        let mut t = Self::common(ObjectClass::PUBLIC_KEY, key_type, object, id);
        t.extend([
            Attribute::Private(false),
            Attribute::Encrypt(usage.encrypt),
            Attribute::Verify(usage.verify),
            Attribute::Wrap(usage.wrap),
            Attribute::Derive(false),
        ]);
        self.finish(t)
    }

    /// Usage attributes to write for an object of `kind` (only those that apply to it).
    pub(crate) fn usage_update(&self, kind: super::ObjectKind, usage: KeyUsage) -> Vec<Attribute> {
        use super::ObjectKind as K;
        let t = match kind {
            K::SecretKey => vec![
                Attribute::Encrypt(usage.encrypt),
                Attribute::Decrypt(usage.decrypt),
                Attribute::Sign(usage.sign),
                Attribute::Verify(usage.verify),
                Attribute::Wrap(usage.wrap),
                Attribute::Unwrap(usage.unwrap),
                Attribute::Derive(usage.derive),
            ],
            K::PrivateKey => vec![
                Attribute::Decrypt(usage.decrypt),
                Attribute::Sign(usage.sign),
                Attribute::Unwrap(usage.unwrap),
                Attribute::Derive(usage.derive),
            ],
            K::PublicKey => {
                vec![Attribute::Encrypt(usage.encrypt), Attribute::Verify(usage.verify), Attribute::Wrap(usage.wrap)]
            }
            K::Other => Vec::new(),
        };
        self.finish(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_security_attribute_is_explicit_unless_omitted() {
        let object = NewObject::token(b"x".to_vec(), "l", KeyUsage::ALL);
        let id = Identity { cka_id: b"kmipd:x", label: "l" };
        let full = Templates::new(&[]).secret_key(CkKeyType::AES, &object, &id, Some(32), None);
        let types: Vec<_> = full.iter().map(|a| a.attribute_type()).collect();
        for needed in [
            AttributeType::Token,
            AttributeType::Private,
            AttributeType::Sensitive,
            AttributeType::Extractable,
            AttributeType::Id,
            AttributeType::Label,
            AttributeType::Encrypt,
            AttributeType::Unwrap,
        ] {
            assert!(types.contains(&needed), "{needed:?} missing");
        }
        let cut = Templates::new(&["CKA_SENSITIVE".into()]).secret_key(CkKeyType::AES, &object, &id, Some(32), None);
        assert!(!cut.iter().any(|a| a.attribute_type() == AttributeType::Sensitive));
    }
}
