//! Object operations end to end through the operations layer, on a real SoftHSM2 token and a
//! sled store, at KMIP 1.0, 1.2, 1.4, 2.0 and 2.1: each request is encoded, processed and the
//! encoded answer decoded, exactly as the network layer does.

mod common;
mod hsm_support;
mod ops_support;

use std::sync::{Arc, OnceLock};

use kmipd::hsm::Hsm;
use kmipd::kmip::attributes::{Attribute, AttributeHolder, Attributes, CustomAttribute, IndexedAttribute, TemplateAttribute};
use kmipd::kmip::codec::ToTtlv;
use kmipd::kmip::enums::{
    CryptographicAlgorithm, NameType, ObjectType, Operation, ResultReason, ResultStatus, RevocationReasonCode,
    State,
};
use kmipd::kmip::objects::{ManagedObject, Name, RevocationReason, UniqueIdentifier};
use kmipd::kmip::payloads::*;
use kmipd::kmip::{ResponseBatchItem, ResponseMessage, ResponsePayload};
use kmipd::ops::{Backend, Limits, Policy, Processor, Reply, RequestContext};
use kmipd::store::{SledStore, SledStoreConfig, Store};
use kmipd::ttlv::binary::{self, DecodeLimits};
use kmipd::ttlv::{Tag, Ttlv, Value};

const VERSIONS: [(i32, i32); 5] = [(1, 0), (1, 2), (1, 4), (2, 0), (2, 1)];
const OWNER: &str = "CN=owner";
const STRANGER: &str = "CN=stranger";

struct Services {
    store: Arc<SledStore>,
    policy: Policy,
}

impl Backend for Services {
    fn hsm(&self) -> Option<&dyn Hsm> {
        Some(hsm_support::hsm())
    }
    fn store(&self) -> Option<&dyn Store> {
        Some(&*self.store)
    }
    fn policy(&self) -> Policy {
        self.policy
    }
}

/// A processor and the store behind it, for tests that look at the records themselves.
struct Fixture {
    _dir: tempfile::TempDir,
    processor: Processor,
    store: Arc<SledStore>,
}

/// One processor per policy for the whole binary (one SoftHSM token per process).
fn fixture(extractable_by_default: bool) -> &'static Fixture {
    static DEV: OnceLock<Fixture> = OnceLock::new();
    static PROD: OnceLock<Fixture> = OnceLock::new();
    let cell = if extractable_by_default { &DEV } else { &PROD };
    cell.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SledStore::open(&SledStoreConfig::new(dir.path().join("store"))).unwrap());
        let policy = Policy { extractable_by_default };
        let processor = Processor::new(Limits::default(), Arc::new(Services { store: Arc::clone(&store), policy }));
        Fixture { _dir: dir, processor, store }
    })
}

fn processor(extractable_by_default: bool) -> &'static Processor {
    &fixture(extractable_by_default).processor
}

struct Client {
    processor: &'static Processor,
    version: (i32, i32),
    identity: &'static str,
}

impl Client {
    fn new(version: (i32, i32)) -> Client {
        Client { processor: processor(true), version, identity: OWNER }
    }

    fn v2(&self) -> bool {
        self.version.0 >= 2
    }

    fn send(&self, operation: Operation, payload: Ttlv) -> ResponseBatchItem {
        let children = match payload.value {
            Value::Structure(c) => c,
            _ => Vec::new(),
        };
        let bytes = ops_support::request(self.version, &Default::default(), vec![ops_support::item(operation, None, children)]);
        let ctx = RequestContext { client_identity: self.identity.into(), connection_id: 1, ..RequestContext::default() };
        let tree = match self.processor.process(&ctx, &bytes) {
            Reply::Send(out) => binary::decode(&out, &DecodeLimits::default()).unwrap(),
            Reply::Close(reason) => panic!("closed: {reason:?}"),
        };
        let mut message = ResponseMessage::from_ttlv(&tree).unwrap();
        assert_eq!(ops_support::version_of(&message), self.version);
        message.batch_items.remove(0)
    }

    fn ok(&self, operation: Operation, payload: Ttlv) -> ResponsePayload {
        let item = self.send(operation, payload);
        assert_eq!(item.result_status, ResultStatus::Success, "{operation:?} at {:?}: {item:?}", self.version);
        item.payload.unwrap()
    }

    fn fails(&self, operation: Operation, payload: Ttlv, reason_1x: ResultReason, reason_2x: ResultReason) {
        let item = self.send(operation, payload);
        let want = if self.v2() { reason_2x } else { reason_1x };
        assert_eq!(item.result_status, ResultStatus::OperationFailed, "{operation:?}: {item:?}");
        assert_eq!(item.result_reason, Some(want), "{operation:?} at {:?}: {item:?}", self.version);
    }

    /// Attributes in the version's form.
    fn template(&self, attributes: Vec<Attribute>) -> (Option<TemplateAttribute>, Option<Attributes>) {
        let a = Attributes { attributes };
        if self.v2() {
            (None, Some(a))
        } else {
            (Some(a.to_template_attribute()), None)
        }
    }

    fn create_aes(&self, name: &str) -> String {
        let (template_attribute, attributes) = self.template(vec![
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::AES),
            Attribute::CryptographicLength(256),
            Attribute::CryptographicUsageMask(0x4 | 0x8),
            Attribute::Name(Name { name_value: name.into(), name_type: NameType::UninterpretedTextString }),
        ]);
        let request = CreateRequest {
            object_type: ObjectType::SymmetricKey,
            template_attribute,
            attributes,
            protection_storage_masks: None,
        };
        match self.ok(Operation::Create, request.to_ttlv_item(Tag::REQUEST_PAYLOAD)) {
            ResponsePayload::Create(r) => text(&r.unique_identifier),
            other => panic!("{other:?}"),
        }
    }

    fn uid_request(&self, uid: &str) -> Ttlv {
        IdentifierRequest { unique_identifier: Some(UniqueIdentifier::Text(uid.into())) }.to_ttlv_item(Tag::REQUEST_PAYLOAD)
    }

    fn attributes(&self, uid: &str) -> Vec<Attribute> {
        let request = GetAttributesRequest {
            unique_identifier: Some(UniqueIdentifier::Text(uid.into())),
            attribute_names: Vec::new(),
            attribute_references: Vec::new(),
        };
        match self.ok(Operation::GetAttributes, request.to_ttlv_item(Tag::REQUEST_PAYLOAD)) {
            ResponsePayload::GetAttributes(r) if self.v2() => r.attributes.unwrap().attributes,
            ResponsePayload::GetAttributes(r) => r.attributes_v1.into_iter().map(|a| a.attribute).collect(),
            other => panic!("{other:?}"),
        }
    }

    fn state(&self, uid: &str) -> State {
        self.attributes(uid)
            .into_iter()
            .find_map(|a| match a {
                Attribute::State(s) => Some(s),
                _ => None,
            })
            .unwrap()
    }

    fn locate_name(&self, name: &str) -> Vec<String> {
        self.locate(vec![Attribute::Name(Name { name_value: name.into(), name_type: NameType::UninterpretedTextString })])
    }

    /// Locate with these filters (ANDed).
    fn locate(&self, filters: Vec<Attribute>) -> Vec<String> {
        let request = LocateRequest {
            maximum_items: None,
            offset_items: None,
            storage_status_mask: None,
            object_group_member: None,
            attributes_v1: if self.v2() { Vec::new() } else { filters.iter().cloned().map(IndexedAttribute::new).collect() },
            attributes: self.v2().then_some(Attributes { attributes: filters }),
        };
        match self.ok(Operation::Locate, request.to_ttlv_item(Tag::REQUEST_PAYLOAD)) {
            ResponsePayload::Locate(r) => r.unique_identifiers.iter().map(text).collect(),
            other => panic!("{other:?}"),
        }
    }

    /// Creates a key pair with these common attributes; (private, public) UIDs.
    /// A Create Key Pair request with these common attributes only.
    fn key_pair_request(&self, common: Vec<Attribute>) -> Ttlv {
        let (common_template_attribute, common_attributes) = self.template(common);
        let request = CreateKeyPairRequest {
            common_template_attribute,
            private_key_template_attribute: None,
            public_key_template_attribute: None,
            common_attributes,
            private_key_attributes: None,
            public_key_attributes: None,
            common_protection_storage_masks: None,
            private_protection_storage_masks: None,
            public_protection_storage_masks: None,
        };
        request.to_ttlv_item(Tag::REQUEST_PAYLOAD)
    }

    fn create_key_pair(&self, common: Vec<Attribute>) -> (String, String) {
        match self.ok(Operation::CreateKeyPair, self.key_pair_request(common)) {
            ResponsePayload::CreateKeyPair(r) => (text(&r.private_key_unique_identifier), text(&r.public_key_unique_identifier)),
            other => panic!("{other:?}"),
        }
    }

    /// Registers `object` with these attributes; its UID.
    fn register(&self, object: ManagedObject, attributes: Vec<Attribute>) -> String {
        let (template_attribute, attributes) = self.template(attributes);
        let object_type = match &object {
            ManagedObject::Certificate(_) => ObjectType::Certificate,
            ManagedObject::SymmetricKey(_) => ObjectType::SymmetricKey,
            ManagedObject::SecretData(_) => ObjectType::SecretData,
            ManagedObject::OpaqueObject(_) => ObjectType::OpaqueObject,
            ManagedObject::PrivateKey(_) => ObjectType::PrivateKey,
            ManagedObject::PublicKey(_) => ObjectType::PublicKey,
            other => panic!("{other:?}"),
        };
        let request = RegisterRequest { object_type, template_attribute, attributes, object, protection_storage_masks: None };
        match self.ok(Operation::Register, request.to_ttlv_item(Tag::REQUEST_PAYLOAD)) {
            ResponsePayload::Register(r) => text(&r.unique_identifier),
            other => panic!("{other:?}"),
        }
    }

    fn revoke(&self, uid: &str, code: RevocationReasonCode) {
        let request = RevokeRequest {
            unique_identifier: Some(UniqueIdentifier::Text(uid.into())),
            revocation_reason: RevocationReason { revocation_reason_code: code, revocation_message: None },
            compromise_occurrence_date: None,
        };
        self.ok(Operation::Revoke, request.to_ttlv_item(Tag::REQUEST_PAYLOAD));
    }
}

/// A Get of `uid` in its default format.
fn get_request(uid: impl Into<String>) -> GetRequest {
    GetRequest {
        unique_identifier: Some(UniqueIdentifier::Text(uid.into())),
        key_format_type: None,
        key_wrap_type: None,
        key_compression_type: None,
        key_wrapping_specification: None,
    }
}

fn text(uid: &UniqueIdentifier) -> String {
    match uid {
        UniqueIdentifier::Text(s) => s.clone(),
        other => panic!("{other:?}"),
    }
}

fn name_for(test: &str, version: (i32, i32)) -> String {
    format!("{test}-{}.{}", version.0, version.1)
}

#[test]
fn symmetric_key_lifecycle_at_every_version() {
    for version in VERSIONS {
        let c = Client::new(version);
        let name = name_for("lifecycle", version);
        let uid = c.create_aes(&name);
        let attributes = c.attributes(&uid);
        assert!(attributes.contains(&Attribute::State(State::PreActive)), "{attributes:?}");
        assert!(attributes.contains(&Attribute::CryptographicLength(256)));
        // Only what the version knows: Sensitive/Extractable are 1.4+.
        let knows_sensitive = version >= (1, 4);
        assert_eq!(attributes.iter().any(|a| matches!(a, Attribute::Sensitive(_))), knows_sensitive, "{version:?}");
        assert_eq!(c.locate_name(&name), vec![uid.clone()]);

        c.ok(Operation::Activate, c.uid_request(&uid));
        assert_eq!(c.state(&uid), State::Active);
        c.fails(Operation::Activate, c.uid_request(&uid), ResultReason::PermissionDenied, ResultReason::WrongKeyLifecycleState);
        // Check: Encrypt is in the mask, Sign is not (1.4 §11.11: Permission Denied in 1.x).
        let check = |mask| CheckPayload {
            unique_identifier: Some(UniqueIdentifier::Text(uid.clone())),
            usage_limits_count: None,
            cryptographic_usage_mask: Some(mask),
            lease_time: None,
        };
        c.ok(Operation::Check, check(0x4).to_ttlv_item(Tag::REQUEST_PAYLOAD));
        let refused = check(0x1).to_ttlv_item(Tag::REQUEST_PAYLOAD);
        let (reason_1x, reason_2x) = (ResultReason::PermissionDenied, ResultReason::IncompatibleCryptographicUsageMask);
        c.fails(Operation::Check, refused, reason_1x, reason_2x);
        let get = get_request(uid.clone());
        match c.ok(Operation::Get, get.to_ttlv_item(Tag::REQUEST_PAYLOAD)) {
            ResponsePayload::Get(r) => match r.object {
                ManagedObject::SymmetricKey(k) => assert_eq!(k.key_block.cryptographic_length, Some(256)),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
        // An Active key can't be destroyed.
        c.fails(Operation::Destroy, c.uid_request(&uid), ResultReason::PermissionDenied, ResultReason::WrongKeyLifecycleState);
        c.revoke(&uid, RevocationReasonCode::CessationOfOperation);
        assert_eq!(c.state(&uid), State::Deactivated);
        c.ok(Operation::Destroy, c.uid_request(&uid));
        assert_eq!(c.state(&uid), State::Destroyed);
        let after = c.send(Operation::Get, get.to_ttlv_item(Tag::REQUEST_PAYLOAD));
        assert_eq!(after.result_status, ResultStatus::OperationFailed, "{after:?}");
        assert!(c.locate_name(&name).is_empty(), "destroyed objects are not on line");
    }
}

#[test]
fn attributes_are_added_modified_and_deleted_at_every_version() {
    for version in VERSIONS {
        let c = Client::new(version);
        let uid = c.create_aes(&name_for("attrs", version));
        let custom = Attribute::Custom(CustomAttribute {
            vendor_identification: c.v2().then(|| "x".to_owned()),
            attribute_name: if c.v2() { "Product".into() } else { "x-Product".into() },
            attribute_value: Value::TextString("kmipd".into()),
        });
        let holder = |a: Attribute| AttributeHolder { attribute: a };
        let add = AddAttributeRequest {
            unique_identifier: Some(UniqueIdentifier::Text(uid.clone())),
            attribute: (!c.v2()).then(|| IndexedAttribute::new(custom.clone())),
            new_attribute: c.v2().then(|| holder(custom.clone())),
        };
        c.ok(Operation::AddAttribute, add.to_ttlv_item(Tag::REQUEST_PAYLOAD));
        assert!(c.attributes(&uid).contains(&custom), "{version:?}");
        // Contact Information is single-valued.
        let contact = Attribute::ContactInformation("ops@example.com".into());
        let add_contact = |a: &Attribute| AddAttributeRequest {
            unique_identifier: Some(UniqueIdentifier::Text(uid.clone())),
            attribute: (!c.v2()).then(|| IndexedAttribute::new(a.clone())),
            new_attribute: c.v2().then(|| holder(a.clone())),
        };
        c.ok(Operation::AddAttribute, add_contact(&contact).to_ttlv_item(Tag::REQUEST_PAYLOAD));
        c.fails(
            Operation::AddAttribute,
            add_contact(&contact).to_ttlv_item(Tag::REQUEST_PAYLOAD),
            ResultReason::InvalidField,
            ResultReason::AttributeSingleValued,
        );
        let renamed = Attribute::ContactInformation("security@example.com".into());
        let modify = ModifyAttributeRequest {
            unique_identifier: Some(UniqueIdentifier::Text(uid.clone())),
            attribute: (!c.v2()).then(|| IndexedAttribute::new(renamed.clone())),
            current_attribute: None,
            new_attribute: c.v2().then(|| holder(renamed.clone())),
        };
        c.ok(Operation::ModifyAttribute, modify.to_ttlv_item(Tag::REQUEST_PAYLOAD));
        assert!(c.attributes(&uid).contains(&renamed));
        // The server's attributes are read-only.
        let state = Attribute::State(State::Compromised);
        let modify_state = ModifyAttributeRequest {
            unique_identifier: Some(UniqueIdentifier::Text(uid.clone())),
            attribute: (!c.v2()).then(|| IndexedAttribute::new(state.clone())),
            current_attribute: None,
            new_attribute: c.v2().then(|| holder(state.clone())),
        };
        c.fails(
            Operation::ModifyAttribute,
            modify_state.to_ttlv_item(Tag::REQUEST_PAYLOAD),
            ResultReason::PermissionDenied,
            ResultReason::AttributeReadOnly,
        );
        let delete = DeleteAttributeRequest {
            unique_identifier: Some(UniqueIdentifier::Text(uid.clone())),
            attribute_name: (!c.v2()).then(|| "Contact Information".to_owned()),
            attribute_index: None,
            current_attribute: None,
            attribute_reference: c.v2().then_some(kmipd::kmip::AttributeReference::Standard(Tag::CONTACT_INFORMATION)),
        };
        c.ok(Operation::DeleteAttribute, delete.to_ttlv_item(Tag::REQUEST_PAYLOAD));
        assert!(!c.attributes(&uid).iter().any(|a| matches!(a, Attribute::ContactInformation(_))));
        let list = match c.ok(Operation::GetAttributeList, c.uid_request(&uid)) {
            ResponsePayload::GetAttributeList(r) => r,
            other => panic!("{other:?}"),
        };
        if c.v2() {
            assert!(list.attribute_references.contains(&kmipd::kmip::AttributeReference::Standard(Tag::STATE)));
        } else {
            assert!(list.attribute_names.iter().any(|n| n == "x-Product"), "{list:?}");
        }
    }
}

#[test]
fn another_identity_gets_permission_denied_and_locate_hides_the_object() {
    let owner = Client::new((2, 1));
    let name = "owned-by-someone-else";
    let uid = owner.create_aes(name);
    let stranger = Client { identity: STRANGER, ..Client::new((2, 1)) };
    stranger.fails(Operation::GetAttributes, stranger.uid_request(&uid), ResultReason::PermissionDenied, ResultReason::PermissionDenied);
    stranger.fails(Operation::Activate, stranger.uid_request(&uid), ResultReason::PermissionDenied, ResultReason::PermissionDenied);
    stranger.fails(Operation::Destroy, stranger.uid_request(&uid), ResultReason::PermissionDenied, ResultReason::PermissionDenied);
    assert!(stranger.locate_name(name).is_empty());
    assert_eq!(owner.locate_name(name), vec![uid]);
}

impl Client {
    /// The grant attribute in the version's form.
    fn grant(&self, value: &str) -> Attribute {
        Attribute::Custom(CustomAttribute {
            vendor_identification: self.v2().then(|| "y".to_owned()),
            attribute_name: if self.v2() { "kmipd-grant".into() } else { "y-kmipd-grant".into() },
            attribute_value: Value::TextString(value.into()),
        })
    }

    fn add_attribute(&self, uid: &str, attribute: Attribute) -> Ttlv {
        AddAttributeRequest {
            unique_identifier: Some(UniqueIdentifier::Text(uid.into())),
            attribute: (!self.v2()).then(|| IndexedAttribute::new(attribute.clone())),
            new_attribute: self.v2().then_some(AttributeHolder { attribute }),
        }
        .to_ttlv_item(Tag::REQUEST_PAYLOAD)
    }
}

#[test]
fn grants_let_another_identity_do_exactly_the_listed_operations() {
    for version in [(1, 2), (1, 4), (2, 0), (2, 1)] {
        let owner = Client::new(version);
        let name = name_for("granted", version);
        let uid = owner.create_aes(&name);
        let grantee = Client { identity: STRANGER, ..Client::new(version) };
        let deny = ResultReason::PermissionDenied;
        let grant = owner.grant(&format!("Get,GetAttributes,Locate,AddAttribute {STRANGER}"));
        owner.ok(Operation::AddAttribute, owner.add_attribute(&uid, grant.clone()));

        assert_eq!(grantee.locate_name(&name), vec![uid.clone()], "{version:?}");
        grantee.ok(Operation::Get, get_request(uid.clone()).to_ttlv_item(Tag::REQUEST_PAYLOAD));
        assert!(grantee.attributes(&uid).contains(&grant), "{version:?}");
        grantee.fails(Operation::Activate, grantee.uid_request(&uid), deny, deny);
        grantee.fails(Operation::Destroy, grantee.uid_request(&uid), deny, deny);
        // Add Attribute is granted, but not the right to widen its own grant.
        let widen = grantee.grant(&format!("Destroy {STRANGER}"));
        grantee.fails(Operation::AddAttribute, grantee.add_attribute(&uid, widen), deny, deny);
        let note = Attribute::ContactInformation("grantee@example.com".into());
        grantee.ok(Operation::AddAttribute, grantee.add_attribute(&uid, note));
        // A malformed grant is refused with the reason.
        let bad = owner.send(Operation::AddAttribute, owner.add_attribute(&uid, owner.grant("Fetch CN=x")));
        assert_eq!(bad.result_reason, Some(ResultReason::InvalidField), "{bad:?}");
        assert!(bad.result_message.unwrap_or_default().contains("unknown operation"));

        // Deleting the grant takes every right away again.
        let delete = DeleteAttributeRequest {
            unique_identifier: Some(UniqueIdentifier::Text(uid.clone())),
            attribute_name: (!owner.v2()).then(|| "y-kmipd-grant".to_owned()),
            attribute_index: None,
            current_attribute: owner.v2().then(|| AttributeHolder { attribute: grant.clone() }),
            attribute_reference: None,
        };
        owner.ok(Operation::DeleteAttribute, delete.to_ttlv_item(Tag::REQUEST_PAYLOAD));
        grantee.fails(Operation::Get, get_request(uid.clone()).to_ttlv_item(Tag::REQUEST_PAYLOAD), deny, deny);
        assert!(grantee.locate_name(&name).is_empty(), "{version:?}");
    }
}

#[test]
fn production_policy_keeps_keys_in_the_hsm() {
    let c = Client { processor: processor(false), ..Client::new((2, 1)) };
    let uid = c.create_aes("kept-inside");
    let get = get_request(uid.clone());
    c.fails(Operation::Get, get.to_ttlv_item(Tag::REQUEST_PAYLOAD), ResultReason::Sensitive, ResultReason::Sensitive);
    let attributes = c.attributes(&uid);
    assert!(attributes.contains(&Attribute::Sensitive(true)));
    assert!(attributes.contains(&Attribute::NeverExtractable(true)));
}

#[test]
fn archive_and_recover() {
    let c = Client::new((1, 4));
    let uid = c.create_aes("archived");
    c.ok(Operation::Archive, c.uid_request(&uid));
    c.fails(Operation::Activate, c.uid_request(&uid), ResultReason::ObjectArchived, ResultReason::ObjectArchived);
    assert!(c.locate_name("archived").is_empty());
    c.ok(Operation::Recover, c.uid_request(&uid));
    c.ok(Operation::Activate, c.uid_request(&uid));
}

#[test]
fn register_and_key_pairs() {
    for version in [(1, 2), (2, 1)] {
        let c = Client::new(version);
        let (template_attribute, attributes) = c.template(vec![Attribute::Name(Name {
            name_value: name_for("secret", version),
            name_type: NameType::UninterpretedTextString,
        })]);
        let secret = kmipd::kmip::objects::SecretData {
            secret_data_type: kmipd::kmip::enums::SecretDataType::Password,
            key_block: kmipd::kmip::objects::KeyBlock {
                key_format_type: kmipd::kmip::enums::KeyFormatType::Opaque,
                key_compression_type: None,
                key_value: Some(kmipd::kmip::objects::KeyValue::Plain {
                    key_material: kmipd::kmip::objects::KeyMaterial::Bytes(kmipd::kmip::codec::SecretBytes::new(b"hunter2".to_vec())),
                    attributes_v1: Vec::new(),
                    attributes: None,
                }),
                cryptographic_algorithm: None,
                cryptographic_length: None,
                key_wrapping_data: None,
            },
        };
        let register = RegisterRequest {
            object_type: ObjectType::SecretData,
            template_attribute,
            attributes,
            object: ManagedObject::SecretData(secret),
            protection_storage_masks: None,
        };
        let uid = match c.ok(Operation::Register, register.to_ttlv_item(Tag::REQUEST_PAYLOAD)) {
            ResponsePayload::Register(r) => text(&r.unique_identifier),
            other => panic!("{other:?}"),
        };
        let get = get_request(uid);
        match c.ok(Operation::Get, get.to_ttlv_item(Tag::REQUEST_PAYLOAD)) {
            ResponsePayload::Get(r) => match r.object {
                ManagedObject::SecretData(s) => match s.key_block.key_value {
                    Some(kmipd::kmip::objects::KeyValue::Plain {
                        key_material: kmipd::kmip::objects::KeyMaterial::Bytes(b),
                        ..
                    }) => assert_eq!(b.expose(), b"hunter2"),
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }

        let (private, public) = c.create_key_pair(vec![
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::EC),
            Attribute::CryptographicLength(256),
        ]);
        let links: Vec<_> = c.attributes(&private).into_iter().filter(|a| matches!(a, Attribute::Link(_))).collect();
        assert_eq!(links.len(), 1, "{links:?}");
        let get = get_request(public);
        assert!(matches!(c.ok(Operation::Get, get.to_ttlv_item(Tag::REQUEST_PAYLOAD)), ResponsePayload::Get(_)));
    }
}

/// The certificate of the OASIS case TC-CERTATTR-1-20 (RSA-1024, serial "12345678", issuer
/// C=AU, O=Kmip Test, CN=Inter, subject CN=EE).
fn oasis_certificate() -> Vec<u8> {
    let path = common::corpus_dir().join("kmip-2.0/testcases/TC-CERTATTR-1-20.xml");
    let xml = std::fs::read_to_string(path).unwrap();
    let start = xml.find(r#"<CertificateValue type="ByteString" value=""#).unwrap() + 43;
    let end = start + xml[start..].find('"').unwrap();
    hex::decode(&xml[start..end]).unwrap()
}

#[test]
fn certificate_attributes_are_derived_in_each_version_form() {
    use kmipd::kmip::enums::{CertificateType, DigitalSignatureAlgorithm};
    use kmipd::kmip::objects::{Certificate, CertificateIdentifier, X509CertificateIdentifier};
    let der = oasis_certificate();
    let issuer_der = hex::decode("3031310b300906035504061302415531123010060355040a13094b6d69702054657374310e300c06035504031305496e746572").unwrap();
    for version in VERSIONS {
        let c = Client::new(version);
        let certificate = Certificate { certificate_type: CertificateType::X_509, certificate_value: der.clone() };
        let uid = c.register(ManagedObject::Certificate(certificate), Vec::new());
        let attributes = c.attributes(&uid);
        let has = |a: &Attribute| attributes.contains(a);
        // The 1.0 text forms, in 1.x only (removed in 2.0).
        let identifier_1_0 = Attribute::CertificateIdentifier(CertificateIdentifier {
            issuer: "CN=Inter,O=Kmip Test,C=AU".into(),
            serial_number: "3132333435363738".into(),
        });
        assert_eq!(has(&identifier_1_0), version < (2, 0), "{version:?}: {attributes:?}");
        // The DER forms from 1.1 on, with the serial number as the OASIS reference gives it.
        let identifier = Attribute::X509CertificateIdentifier(X509CertificateIdentifier {
            issuer_distinguished_name: issuer_der.clone(),
            certificate_serial_number: hex::decode("02083132333435363738").unwrap(),
        });
        assert_eq!(has(&identifier), version >= (1, 1), "{version:?}");
        // The per-RDN attributes from 1.4 on.
        for a in [
            Attribute::CertificateSubjectCn("EE".into()),
            Attribute::CertificateSubjectO("Kmip Test".into()),
            Attribute::CertificateSubjectC("AU".into()),
            Attribute::CertificateIssuerCn("Inter".into()),
        ] {
            assert_eq!(has(&a), version >= (1, 4), "{version:?}: {a:?}");
        }
        assert_eq!(has(&Attribute::DigitalSignatureAlgorithm(DigitalSignatureAlgorithm::SHA_256WithRSAEncryption)), version >= (1, 1));
        assert!(has(&Attribute::CryptographicAlgorithm(CryptographicAlgorithm::RSA)), "{version:?}");
        assert!(has(&Attribute::CryptographicLength(1024)));
        assert_eq!(has(&Attribute::CertificateLength(557)), version >= (1, 1));
        // Locate searches them like any attribute.
        if version >= (1, 4) {
            let found = c.locate(vec![Attribute::ObjectType(ObjectType::Certificate), Attribute::CertificateSubjectCn("EE".into())]);
            assert!(found.contains(&uid), "{version:?}: {found:?}");
            assert!(c.locate(vec![Attribute::CertificateSubjectCn("nobody".into())]).is_empty());
        }
    }
    // Not a certificate: Invalid Field, nothing registered.
    let c = Client::new((2, 1));
    let (template_attribute, attributes) = c.template(Vec::new());
    let broken = Certificate { certificate_type: CertificateType::X_509, certificate_value: der[..100].to_vec() };
    let request = RegisterRequest {
        object_type: ObjectType::Certificate,
        template_attribute,
        attributes,
        object: ManagedObject::Certificate(broken),
        protection_storage_masks: None,
    };
    c.fails(Operation::Register, request.to_ttlv_item(Tag::REQUEST_PAYLOAD), ResultReason::InvalidField, ResultReason::InvalidField);
}

// ---- Key wrapping inside the HSM ----

use kmipd::kmip::codec::{DateTime, SecretBytes};
use kmipd::kmip::enums::{
    BlockCipherMode, EncodingOption, HashingAlgorithm, KeyFormatType, KeyWrapType, PaddingMethod, SecretDataType,
    WrappingMethod,
};
use kmipd::kmip::objects::{
    CryptographicParameters, KeyBlock, KeyInformation, KeyMaterial, KeyValue, KeyWrappingData,
    KeyWrappingSpecification, SecretData, SymmetricKey,
};

const ENCRYPT: i32 = 0x4;
const DECRYPT: i32 = 0x8;
const WRAP_KEY: i32 = 0x10;
const UNWRAP_KEY: i32 = 0x20;

fn hex(s: &str) -> Vec<u8> {
    ::hex::decode(s).unwrap()
}

fn params(mode: Option<BlockCipherMode>, padding: Option<PaddingMethod>) -> CryptographicParameters {
    CryptographicParameters {
        block_cipher_mode: mode,
        padding_method: padding,
        hashing_algorithm: padding.filter(|p| *p == PaddingMethod::OAEP).map(|_| HashingAlgorithm::SHA_1),
        ..Default::default()
    }
}

fn raw_block(bytes: Vec<u8>, algorithm: Option<CryptographicAlgorithm>) -> KeyBlock {
    KeyBlock {
        key_format_type: KeyFormatType::Raw,
        key_compression_type: None,
        key_value: Some(KeyValue::Plain {
            key_material: KeyMaterial::Bytes(SecretBytes::new(bytes)),
            attributes_v1: Vec::new(),
            attributes: None,
        }),
        cryptographic_algorithm: algorithm,
        cryptographic_length: None,
        key_wrapping_data: None,
    }
}

fn aes(bytes: &str) -> ManagedObject {
    ManagedObject::SymmetricKey(SymmetricKey { key_block: raw_block(hex(bytes), Some(CryptographicAlgorithm::AES)) })
}

/// An hour ago: the key is Active from registration on.
fn an_hour_ago() -> Attribute {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    Attribute::ActivationDate(DateTime(now - 3600))
}

/// An Active AES key-encryption key with these usages and Cryptographic Parameters.
fn kek(c: &Client, key: &str, mask: i32, mode: BlockCipherMode) -> String {
    let attributes = vec![
        Attribute::CryptographicUsageMask(mask),
        Attribute::CryptographicParameters(params(Some(mode), None)),
        an_hour_ago(),
    ];
    c.register(aes(key), attributes)
}

fn wrap_spec(kek: &str, p: Option<CryptographicParameters>, encoding: Option<EncodingOption>) -> KeyWrappingSpecification {
    KeyWrappingSpecification {
        wrapping_method: WrappingMethod::Encrypt,
        encryption_key_information: Some(KeyInformation {
            unique_identifier: UniqueIdentifier::Text(kek.into()),
            cryptographic_parameters: p,
        }),
        mac_signature_key_information: None,
        attribute_name: Vec::new(),
        encoding_option: encoding,
    }
}

fn wrapped_get(uid: &str, spec: KeyWrappingSpecification) -> Ttlv {
    GetRequest { key_wrapping_specification: Some(spec), ..get_request(uid) }.to_ttlv_item(Tag::REQUEST_PAYLOAD)
}

fn key_block(payload: ResponsePayload) -> KeyBlock {
    match payload {
        ResponsePayload::Get(r) => match r.object {
            ManagedObject::SymmetricKey(k) => k.key_block,
            ManagedObject::SecretData(k) => k.key_block,
            ManagedObject::PrivateKey(k) => k.key_block,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

fn wrapped_bytes(block: &KeyBlock) -> Vec<u8> {
    match &block.key_value {
        Some(KeyValue::Wrapped(b)) => b.expose().to_vec(),
        other => panic!("{other:?}"),
    }
}

fn plain_bytes(block: &KeyBlock) -> Vec<u8> {
    match &block.key_value {
        Some(KeyValue::Plain { key_material: KeyMaterial::Bytes(b), .. }) => b.expose().to_vec(),
        other => panic!("{other:?}"),
    }
}

/// A block holding `wrapped` as registered under `kek` (No Encoding), as a Key Value Byte
/// String or as its Key Material.
fn wrapped_block(format: KeyFormatType, wrapped: Vec<u8>, kek: &str, p: CryptographicParameters, as_material: bool) -> KeyBlock {
    let key_value = if as_material {
        KeyValue::Plain { key_material: KeyMaterial::Bytes(SecretBytes::new(wrapped)), attributes_v1: Vec::new(), attributes: None }
    } else {
        KeyValue::Wrapped(SecretBytes::new(wrapped))
    };
    KeyBlock {
        key_format_type: format,
        key_compression_type: None,
        key_value: Some(key_value),
        cryptographic_algorithm: None,
        cryptographic_length: None,
        key_wrapping_data: Some(KeyWrappingData {
            wrapping_method: WrappingMethod::Encrypt,
            encryption_key_information: Some(KeyInformation {
                unique_identifier: UniqueIdentifier::Text(kek.into()),
                cryptographic_parameters: Some(p),
            }),
            mac_signature_key_information: None,
            mac_signature: None,
            iv_counter_nonce: None,
            encoding_option: Some(EncodingOption::NoEncoding),
        }),
    }
}

#[test]
fn get_wraps_inside_the_hsm_as_rfc_3394_and_5649_say() {
    for version in [(1, 4), (2, 1)] {
        let c = Client::new(version);
        // RFC 3394 §4.1: 128-bit key data under a 128-bit KEK.
        let kek_kw = kek(&c, "000102030405060708090A0B0C0D0E0F", WRAP_KEY | UNWRAP_KEY, BlockCipherMode::NISTKeyWrap);
        let sensitive = vec![Attribute::Sensitive(true), Attribute::Extractable(true), Attribute::CryptographicUsageMask(ENCRYPT | DECRYPT)];
        let target = c.register(aes("00112233445566778899AABBCCDDEEFF"), sensitive);
        // Sensitive: not in the clear, but it may be wrapped.
        c.fails(Operation::Get, get_request(target.clone()).to_ttlv_item(Tag::REQUEST_PAYLOAD), ResultReason::Sensitive, ResultReason::Sensitive);
        let kw = params(Some(BlockCipherMode::NISTKeyWrap), None);
        let block = key_block(c.ok(Operation::Get, wrapped_get(&target, wrap_spec(&kek_kw, Some(kw.clone()), Some(EncodingOption::NoEncoding)))));
        assert_eq!(wrapped_bytes(&block), hex("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"), "{version:?}");
        assert_eq!((block.key_format_type, block.cryptographic_algorithm, block.cryptographic_length), (KeyFormatType::Raw, Some(CryptographicAlgorithm::AES), Some(128)));
        let data = block.key_wrapping_data.unwrap();
        assert_eq!(data.wrapping_method, WrappingMethod::Encrypt);
        assert_eq!(data.encoding_option, Some(EncodingOption::NoEncoding));
        let info = data.encryption_key_information.unwrap();
        assert_eq!((text(&info.unique_identifier), info.cryptographic_parameters), (kek_kw.clone(), Some(kw.clone())));
        // Without parameters the key's own are used.
        let block = key_block(c.ok(Operation::Get, wrapped_get(&target, wrap_spec(&kek_kw, None, Some(EncodingOption::NoEncoding)))));
        assert_eq!(wrapped_bytes(&block).len(), 24);

        // AES Key Wrap with Padding under the RFC 5649 §6 KEK. The value is whole semiblocks:
        // SoftHSM 2.6.1's CKM_AES_KEY_WRAP_PAD zero-pads shorter values to 8 bytes before
        // RFC 5649, so its output for the RFC's own 20-byte vector differs (the expected
        // bytes come from an independent RFC 5649 implementation).
        let kek_kwp = kek(&c, "5840df6e29b02af1ab493b705bf16ea1ae8338f4dcc176a8", WRAP_KEY, BlockCipherMode::AESKeyWrapPadding);
        let value = "000102030405060708090a0b0c0d0e0f1011121314151617";
        let secret = ManagedObject::SecretData(SecretData {
            secret_data_type: SecretDataType::Seed,
            key_block: KeyBlock { key_format_type: KeyFormatType::Opaque, ..raw_block(hex(value), None) },
        });
        let secret = c.register(secret, Vec::new());
        let not_wrapped = GetRequest { key_wrap_type: Some(KeyWrapType::NotWrapped), ..get_request(secret.clone()) };
        assert_eq!(plain_bytes(&key_block(c.ok(Operation::Get, not_wrapped.to_ttlv_item(Tag::REQUEST_PAYLOAD)))), hex(value));
        let block = key_block(c.ok(Operation::Get, wrapped_get(&secret, wrap_spec(&kek_kwp, None, Some(EncodingOption::NoEncoding)))));
        assert_eq!(wrapped_bytes(&block), hex("5dc21dd131ca3b56c3712966eb9d1ccb01091f30279ef4b44f3c4147340012d8"));
        assert_eq!(block.key_format_type, KeyFormatType::Opaque);

        let get = |spec| wrapped_get(&target, spec);
        let no_encoding = Some(EncodingOption::NoEncoding);
        // Without Encoding Option KMIP means TTLV encoding, which the HSM can't wrap.
        c.fails(Operation::Get, get(wrap_spec(&kek_kw, None, None)), ResultReason::EncodingOptionError, ResultReason::EncodingOptionError);
        c.fails(Operation::Get, get(wrap_spec(&kek_kw, None, Some(EncodingOption::TTLVEncoding))), ResultReason::EncodingOptionError, ResultReason::EncodingOptionError);
        let with_attributes = KeyWrappingSpecification { attribute_name: vec!["Name".into()], ..wrap_spec(&kek_kw, None, no_encoding) };
        c.fails(Operation::Get, get(with_attributes), ResultReason::EncodingOptionError, ResultReason::EncodingOptionError);
        let mac = KeyWrappingSpecification { wrapping_method: WrappingMethod::MACSign, ..wrap_spec(&kek_kw, None, no_encoding) };
        c.fails(Operation::Get, get(mac), ResultReason::FeatureNotSupported, ResultReason::FeatureNotSupported);
        c.fails(Operation::Get, get(wrap_spec("no-such-key", None, no_encoding)), ResultReason::ItemNotFound, ResultReason::WrappingObjectNotFound);
        // The KEK's parameters are NIST Key Wrap: asking for another is refused.
        let kwp = params(Some(BlockCipherMode::AESKeyWrapPadding), None);
        c.fails(Operation::Get, get(wrap_spec(&kek_kw, Some(kwp), no_encoding)), ResultReason::ItemNotFound, ResultReason::BadCryptographicParameters);
        // A key without Wrap Key in its mask, a Pre-Active one, a key that is not a key.
        let no_wrap = kek(&c, "000102030405060708090A0B0C0D0E0F", ENCRYPT, BlockCipherMode::NISTKeyWrap);
        c.fails(Operation::Get, get(wrap_spec(&no_wrap, None, no_encoding)), ResultReason::PermissionDenied, ResultReason::IncompatibleCryptographicUsageMask);
        let pre_active = c.register(aes("000102030405060708090A0B0C0D0E0F"), vec![Attribute::CryptographicUsageMask(WRAP_KEY)]);
        c.fails(Operation::Get, get(wrap_spec(&pre_active, None, no_encoding)), ResultReason::PermissionDenied, ResultReason::WrongKeyLifecycleState);
        c.fails(Operation::Get, get(wrap_spec(&secret, None, no_encoding)), ResultReason::IllegalOperation, ResultReason::InvalidObjectType);
        // A key that may not leave the HSM can't be wrapped either.
        let kept = c.register(aes("00112233445566778899AABBCCDDEEFF"), vec![Attribute::Extractable(false)]);
        let spec = wrap_spec(&kek_kw, None, no_encoding);
        c.fails(Operation::Get, wrapped_get(&kept, spec), ResultReason::NotExtractable, ResultReason::NotExtractable);
        // Only Raw comes out of C_WrapKey for a symmetric key.
        let transparent = GetRequest { key_format_type: Some(KeyFormatType::TransparentSymmetricKey), ..get_request(target.clone()) };
        let transparent = GetRequest { key_wrapping_specification: Some(wrap_spec(&kek_kw, None, no_encoding)), ..transparent };
        c.fails(Operation::Get, transparent.to_ttlv_item(Tag::REQUEST_PAYLOAD), ResultReason::KeyFormatTypeNotSupported, ResultReason::KeyFormatTypeNotSupported);
        let as_registered = GetRequest { key_wrap_type: Some(KeyWrapType::AsRegistered), ..get_request(secret.clone()) };
        c.fails(Operation::Get, as_registered.to_ttlv_item(Tag::REQUEST_PAYLOAD), ResultReason::FeatureNotSupported, ResultReason::KeyWrapTypeNotSupported);
    }
}

#[test]
fn register_of_a_wrapped_key_unwraps_inside_the_hsm() {
    for version in [(1, 4), (2, 1)] {
        let c = Client::new(version);
        let kek_kw = kek(&c, "000102030405060708090A0B0C0D0E0F", WRAP_KEY | UNWRAP_KEY, BlockCipherMode::NISTKeyWrap);
        let kw = params(Some(BlockCipherMode::NISTKeyWrap), None);
        let wrapped = hex("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5");
        for as_material in [false, true] {
            let block = KeyBlock {
                cryptographic_algorithm: Some(CryptographicAlgorithm::AES),
                ..wrapped_block(KeyFormatType::Raw, wrapped.clone(), &kek_kw, kw.clone(), as_material)
            };
            let uid = c.register(ManagedObject::SymmetricKey(SymmetricKey { key_block: block }), Vec::new());
            let block = key_block(c.ok(Operation::Get, get_request(uid.clone()).to_ttlv_item(Tag::REQUEST_PAYLOAD)));
            assert_eq!(plain_bytes(&block), hex("00112233445566778899AABBCCDDEEFF"), "{version:?}");
            // The length nobody gave and the Digest come from the HSM.
            let attributes = c.attributes(&uid);
            assert!(attributes.contains(&Attribute::CryptographicLength(128)), "{attributes:?}");
            assert!(attributes.iter().any(|a| matches!(a, Attribute::Digest(_))), "{attributes:?}");
        }
        // A KEK that may only wrap can't unwrap.
        let wrap_only = kek(&c, "000102030405060708090A0B0C0D0E0F", WRAP_KEY, BlockCipherMode::NISTKeyWrap);
        let block = KeyBlock {
            cryptographic_algorithm: Some(CryptographicAlgorithm::AES),
            ..wrapped_block(KeyFormatType::Raw, wrapped.clone(), &wrap_only, kw.clone(), false)
        };
        let (template_attribute, attributes) = c.template(Vec::new());
        let register = |block: KeyBlock| RegisterRequest {
            object_type: ObjectType::SymmetricKey,
            template_attribute: template_attribute.clone(),
            attributes: attributes.clone(),
            object: ManagedObject::SymmetricKey(SymmetricKey { key_block: block }),
            protection_storage_masks: None,
        }
        .to_ttlv_item(Tag::REQUEST_PAYLOAD);
        c.fails(Operation::Register, register(block), ResultReason::PermissionDenied, ResultReason::IncompatibleCryptographicUsageMask);
        // Corrupted ciphertext: the HSM's integrity check fails.
        let mut bad = wrapped.clone();
        bad[3] ^= 1;
        let block = KeyBlock {
            cryptographic_algorithm: Some(CryptographicAlgorithm::AES),
            ..wrapped_block(KeyFormatType::Raw, bad, &kek_kw, kw.clone(), false)
        };
        let item = c.send(Operation::Register, register(block));
        assert_eq!(item.result_status, ResultStatus::OperationFailed, "{item:?}");
        // TTLV-encoded wrapping can't be unwrapped by the HSM.
        let mut block = wrapped_block(KeyFormatType::Raw, wrapped.clone(), &kek_kw, kw.clone(), false);
        if let Some(d) = block.key_wrapping_data.as_mut() {
            d.encoding_option = None;
        }
        c.fails(Operation::Register, register(block), ResultReason::EncodingOptionError, ResultReason::EncodingOptionError);
    }
}

#[test]
fn rsa_and_ec_keys_wrap_and_unwrap_through_the_hsm() {
    let c = Client::new((2, 1));
    // An RSA key pair that wraps (public) and unwraps (private).
    let (private, public) = c.create_key_pair(vec![
        Attribute::CryptographicAlgorithm(CryptographicAlgorithm::RSA),
        Attribute::CryptographicLength(2048),
        Attribute::CryptographicUsageMask(WRAP_KEY | UNWRAP_KEY),
        an_hour_ago(),
    ]);
    let key = "8899AABBCCDDEEFF0011223344556677";
    let target = c.register(aes(key), vec![Attribute::Sensitive(true), Attribute::Extractable(true)]);
    for padding in [PaddingMethod::OAEP, PaddingMethod::PKCS1V1_5] {
        let p = params(None, Some(padding));
        let spec = wrap_spec(&public, Some(p.clone()), Some(EncodingOption::NoEncoding));
        let wrapped = wrapped_bytes(&key_block(c.ok(Operation::Get, wrapped_get(&target, spec))));
        assert_eq!(wrapped.len(), 256, "{padding:?}");
        let block = KeyBlock {
            cryptographic_algorithm: Some(CryptographicAlgorithm::AES),
            ..wrapped_block(KeyFormatType::Raw, wrapped, &private, p, false)
        };
        let copy = c.register(ManagedObject::SymmetricKey(SymmetricKey { key_block: block }), Vec::new());
        let block = key_block(c.ok(Operation::Get, get_request(copy).to_ttlv_item(Tag::REQUEST_PAYLOAD)));
        assert_eq!(plain_bytes(&block), hex(key), "{padding:?}");
    }
    // The private key unwraps, it does not wrap.
    let spec = wrap_spec(&private, None, Some(EncodingOption::NoEncoding));
    c.fails(Operation::Get, wrapped_get(&target, spec), ResultReason::IllegalOperation, ResultReason::InvalidObjectType);

    // An extractable EC private key leaves the HSM as wrapped PKCS#8 (KWP: PKCS#8 is not whole
    // blocks) and comes back in by Register (SoftHSM refuses CKA_EC_PARAMS in the template).
    let kek_kwp = kek(&c, "000102030405060708090A0B0C0D0E0F", WRAP_KEY | UNWRAP_KEY, BlockCipherMode::AESKeyWrapPadding);
    let (ec_private, _) = c.create_key_pair(vec![
        Attribute::CryptographicAlgorithm(CryptographicAlgorithm::EC),
        Attribute::CryptographicLength(256),
        Attribute::Extractable(true),
    ]);
    let spec = wrap_spec(&kek_kwp, None, Some(EncodingOption::NoEncoding));
    let block = key_block(c.ok(Operation::Get, wrapped_get(&ec_private, spec)));
    assert_eq!(block.key_format_type, KeyFormatType::PKCS_8);
    let kwp = params(Some(BlockCipherMode::AESKeyWrapPadding), None);
    let block = KeyBlock {
        cryptographic_algorithm: Some(CryptographicAlgorithm::EC),
        cryptographic_length: Some(256),
        ..wrapped_block(KeyFormatType::PKCS_8, wrapped_bytes(&block), &kek_kwp, kwp, false)
    };
    let copy = c.register(ManagedObject::PrivateKey(kmipd::kmip::objects::PrivateKey { key_block: block }), Vec::new());
    assert!(c.attributes(&copy).contains(&Attribute::CryptographicLength(256)));
}

#[test]
fn opaque_objects_are_stored_envelope_encrypted() {
    use kmipd::store::HsmInventory as _;
    use kmipd::kmip::enums::OpaqueDataType;
    use kmipd::kmip::objects::OpaqueObject;
    let secret = b"the opaque plaintext that must never reach the store".to_vec();
    for version in [(1, 4), (2, 1)] {
        let c = Client::new(version);
        let object = OpaqueObject { opaque_data_type: OpaqueDataType::Extension(0x8000_0001), opaque_data_value: SecretBytes::new(secret.clone()) };
        let uid = c.register(ManagedObject::OpaqueObject(object), Vec::new());
        // The record holds no trace of the plaintext...
        let record = fixture(true).store.get(&uid).unwrap().unwrap();
        let stored = record.material.unwrap();
        assert!(!stored.windows(16).any(|w| secret.windows(16).any(|s| s == w)), "plaintext in the record");
        assert!(stored.len() >= secret.len() + 16, "ciphertext and tag");
        // ...and Get gives it back.
        match c.ok(Operation::Get, get_request(uid).to_ttlv_item(Tag::REQUEST_PAYLOAD)) {
            ResponsePayload::Get(r) => match r.object {
                ManagedObject::OpaqueObject(o) => assert_eq!(o.opaque_data_value.expose(), secret.as_slice()),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }
    // The envelope key is on the token, and the reconciler's inventory does not list it as a stranger.
    let hsm = hsm_support::hsm();
    let info = hsm.object_info(kmipd::hsm::ENVELOPE_KEY_ID).unwrap();
    assert_eq!((info.sensitive, info.extractable), (Some(true), Some(false)));
    let listed = kmipd::hsm::Inventory::new(hsm).list_objects().unwrap();
    assert!(!listed.iter().any(|r| r.id == kmipd::hsm::ENVELOPE_KEY_ID), "{listed:?}");
    assert!(!kmipd::ops::ensure_envelope_key(hsm).unwrap(), "made once");
}

// ---- Templates (KMIP 1.x) ----

fn name(value: &str) -> Name {
    Name { name_value: value.into(), name_type: NameType::UninterpretedTextString }
}

fn custom_1x(name: &str, value: &str) -> Attribute {
    Attribute::Custom(CustomAttribute {
        vendor_identification: None,
        attribute_name: name.into(),
        attribute_value: Value::TextString(value.into()),
    })
}

fn has_custom(attributes: &[Attribute], name: &str, value: &str) -> bool {
    attributes.contains(&custom_1x(name, value))
}

/// A 1.x Template-Attribute naming `templates`, with `attributes`.
fn referencing(templates: &[&str], attributes: Vec<Attribute>) -> TemplateAttribute {
    TemplateAttribute {
        names: templates.iter().map(|t| name(t)).collect(),
        attributes: attributes.into_iter().map(IndexedAttribute::new).collect(),
    }
}

impl Client {
    /// A Register of a Template with its own attributes (`own`, in the Template-Attribute)
    /// and those it applies (`applied`, inside the Template).
    fn register_template_request(&self, own: Vec<Attribute>, applied: Vec<Attribute>) -> Ttlv {
        let object = kmipd::kmip::objects::Template { attributes: applied.into_iter().map(IndexedAttribute::new).collect() };
        RegisterRequest {
            object_type: ObjectType::Template,
            template_attribute: Some(referencing(&[], own)),
            attributes: None,
            object: ManagedObject::Template(object),
            protection_storage_masks: None,
        }
        .to_ttlv_item(Tag::REQUEST_PAYLOAD)
    }

    fn register_template(&self, own: Vec<Attribute>, applied: Vec<Attribute>) -> String {
        match self.ok(Operation::Register, self.register_template_request(own, applied)) {
            ResponsePayload::Register(r) => text(&r.unique_identifier),
            other => panic!("{other:?}"),
        }
    }

    fn create_request(&self, template_attribute: TemplateAttribute) -> Ttlv {
        CreateRequest {
            object_type: ObjectType::SymmetricKey,
            template_attribute: Some(template_attribute),
            attributes: None,
            protection_storage_masks: None,
        }
        .to_ttlv_item(Tag::REQUEST_PAYLOAD)
    }

    fn create_with(&self, template_attribute: TemplateAttribute) -> String {
        match self.ok(Operation::Create, self.create_request(template_attribute)) {
            ResponsePayload::Create(r) => text(&r.unique_identifier),
            other => panic!("{other:?}"),
        }
    }
}

fn password(value: &[u8]) -> ManagedObject {
    ManagedObject::SecretData(SecretData {
        secret_data_type: SecretDataType::Password,
        key_block: KeyBlock { key_format_type: KeyFormatType::Opaque, ..raw_block(value.to_vec(), None) },
    })
}

#[test]
fn templates_apply_their_attributes_at_1_x() {
    for version in [(1, 0), (1, 2), (1, 4)] {
        let c = Client::new(version);
        let template = name_for("template", version);
        let group = name_for("template-group", version);
        // KMIP 1.0 names the template inside it; 1.1 on in the Template-Attribute.
        let mut applied = vec![
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::AES),
            Attribute::CryptographicLength(128),
            Attribute::ObjectGroup(group.clone()),
            Attribute::ContactInformation("from the template".into()),
            custom_1x("x-Purpose", "demonstration"),
        ];
        let mut own = vec![custom_1x("x-ID", "the template's own")];
        if version == (1, 0) {
            applied.push(Attribute::Name(name(&template)));
        } else {
            own.push(Attribute::Name(name(&template)));
        }
        let uid = c.register_template(own, applied);

        // Found by name and type; its attributes are its own, not those it applies.
        assert_eq!(c.locate(vec![Attribute::Name(name(&template)), Attribute::ObjectType(ObjectType::Template)]), vec![uid.clone()]);
        let attributes = c.attributes(&uid);
        assert!(attributes.contains(&Attribute::ObjectType(ObjectType::Template)), "{attributes:?}");
        assert!(attributes.contains(&Attribute::Name(name(&template))));
        assert!(has_custom(&attributes, "x-ID", "the template's own"), "{attributes:?}");
        assert!(!attributes.iter().any(|a| matches!(a, Attribute::State(_) | Attribute::ObjectGroup(_))), "{attributes:?}");
        // Get gives what it applies.
        match c.ok(Operation::Get, get_request(uid.clone()).to_ttlv_item(Tag::REQUEST_PAYLOAD)) {
            ResponsePayload::Get(r) => {
                assert_eq!(r.object_type, ObjectType::Template);
                let ManagedObject::Template(t) = r.object else { panic!("{:?}", r.object) };
                let inside: Vec<Attribute> = t.attributes.into_iter().map(|a| a.attribute).collect();
                assert!(inside.contains(&Attribute::CryptographicLength(128)), "{inside:?}");
                assert!(has_custom(&inside, "x-Purpose", "demonstration"), "{inside:?}");
                assert!(!inside.iter().any(|a| matches!(a, Attribute::Name(_))), "{inside:?}");
            }
            other => panic!("{other:?}"),
        }

        // Create: the template's attributes, the request's over them.
        let key_name = name_for("templated-key", version);
        let key = c.create_with(referencing(
            &[&template],
            vec![
                Attribute::Name(name(&key_name)),
                Attribute::ContactInformation("from the request".into()),
                Attribute::CryptographicUsageMask(ENCRYPT | DECRYPT),
                Attribute::ObjectGroup(group.clone()),
            ],
        ));
        let attributes = c.attributes(&key);
        for expected in [
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::AES),
            Attribute::CryptographicLength(128),
            Attribute::ContactInformation("from the request".into()),
            Attribute::Name(name(&key_name)),
        ] {
            assert!(attributes.contains(&expected), "{version:?}: {expected:?} in {attributes:?}");
        }
        assert!(has_custom(&attributes, "x-Purpose", "demonstration"));
        assert!(!has_custom(&attributes, "x-ID", "the template's own"), "the template's own attributes stay with it");
        let count = |f: fn(&Attribute) -> bool| attributes.iter().filter(|a| f(a)).count();
        assert_eq!(count(|a| matches!(a, Attribute::Name(_))), 1, "{attributes:?}");
        assert_eq!(count(|a| matches!(a, Attribute::ObjectGroup(_))), 1, "one value, given twice: {attributes:?}");
        assert_eq!(count(|a| matches!(a, Attribute::ContactInformation(_))), 1, "{attributes:?}");

        // Register: the same.
        let register = RegisterRequest {
            object_type: ObjectType::SecretData,
            template_attribute: Some(referencing(&[&template], Vec::new())),
            attributes: None,
            object: password(b"templated secret"),
            protection_storage_masks: None,
        };
        let secret = match c.ok(Operation::Register, register.to_ttlv_item(Tag::REQUEST_PAYLOAD)) {
            ResponsePayload::Register(r) => text(&r.unique_identifier),
            other => panic!("{other:?}"),
        };
        // A Locate on what the template applies finds the objects made with it, not the template.
        let mut made = c.locate(vec![Attribute::ObjectGroup(group.clone())]);
        made.sort();
        let mut expected = vec![key.clone(), secret];
        expected.sort();
        assert_eq!(made, expected, "{version:?}");

        // Create Key Pair: a Common template, the private half's own attributes over it.
        let pair_template = name_for("pair-template", version);
        c.register_template(
            vec![Attribute::Name(name(&pair_template))],
            vec![
                Attribute::CryptographicAlgorithm(CryptographicAlgorithm::EC),
                Attribute::CryptographicLength(256),
                Attribute::ContactInformation("pair".into()),
            ],
        );
        let request = CreateKeyPairRequest {
            common_template_attribute: Some(referencing(&[&pair_template], Vec::new())),
            private_key_template_attribute: Some(referencing(&[], vec![Attribute::ContactInformation("private".into())])),
            public_key_template_attribute: None,
            common_attributes: None,
            private_key_attributes: None,
            public_key_attributes: None,
            common_protection_storage_masks: None,
            private_protection_storage_masks: None,
            public_protection_storage_masks: None,
        };
        let (private, public) = match c.ok(Operation::CreateKeyPair, request.to_ttlv_item(Tag::REQUEST_PAYLOAD)) {
            ResponsePayload::CreateKeyPair(r) => (text(&r.private_key_unique_identifier), text(&r.public_key_unique_identifier)),
            other => panic!("{other:?}"),
        };
        assert!(c.attributes(&private).contains(&Attribute::ContactInformation("private".into())));
        assert!(c.attributes(&public).contains(&Attribute::ContactInformation("pair".into())));
        assert!(c.attributes(&public).contains(&Attribute::CryptographicLength(256)));

        // A template has no lifecycle: Activate, Revoke and Check don't apply (Illegal Operation).
        for operation in [Operation::Activate, Operation::Check] {
            c.fails(operation, c.uid_request(&uid), ResultReason::IllegalOperation, ResultReason::IllegalOperation);
        }
        // It gains attributes of its own like any object.
        c.ok(Operation::AddAttribute, c.add_attribute(&uid, Attribute::ContactInformation("template owner".into())));
        assert!(c.attributes(&uid).contains(&Attribute::ContactInformation("template owner".into())));

        // Destroy removes it with all its metadata; naming it is then Item Not Found.
        c.ok(Operation::Destroy, c.uid_request(&uid));
        c.fails(Operation::Get, get_request(uid.clone()).to_ttlv_item(Tag::REQUEST_PAYLOAD), ResultReason::ItemNotFound, ResultReason::ItemNotFound);
        assert!(c.locate_name(&template).is_empty());
        let again = c.create_request(referencing(&[&template], Vec::new()));
        c.fails(Operation::Create, again, ResultReason::ItemNotFound, ResultReason::ItemNotFound);
        // What it applied stays with the objects made with it.
        assert!(c.attributes(&key).contains(&Attribute::CryptographicLength(128)));
    }
}

#[test]
fn later_templates_and_the_request_win() {
    let c = Client::new((1, 2));
    let (first, second) = ("precedence-first", "precedence-second");
    c.register_template(
        vec![Attribute::Name(name(first))],
        vec![
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::AES),
            Attribute::CryptographicLength(128),
            Attribute::ObjectGroup("precedence-a".into()),
        ],
    );
    c.register_template(
        vec![Attribute::Name(name(second))],
        vec![Attribute::CryptographicLength(256), Attribute::ObjectGroup("precedence-b".into())],
    );
    let key = c.create_with(referencing(&[first, second], Vec::new()));
    let attributes = c.attributes(&key);
    assert!(attributes.contains(&Attribute::CryptographicLength(256)), "the later template wins: {attributes:?}");
    assert!(!attributes.contains(&Attribute::CryptographicLength(128)));
    for group in ["precedence-a", "precedence-b"] {
        assert!(attributes.contains(&Attribute::ObjectGroup(group.into())), "multi-valued ones add up: {attributes:?}");
    }
    let key = c.create_with(referencing(&[second, first], vec![Attribute::CryptographicLength(192)]));
    assert!(c.attributes(&key).contains(&Attribute::CryptographicLength(192)), "the request wins");
}

#[test]
fn template_refusals() {
    let c = Client::new((1, 2));
    let (invalid, not_found) = (ResultReason::InvalidField, ResultReason::ItemNotFound);
    // A name that is no Template: Item Not Found, even when an object of another type has it.
    c.fails(Operation::Create, c.create_request(referencing(&["no-such-template"], Vec::new())), not_found, not_found);
    let key_name = "named-like-a-template";
    c.create_aes(key_name);
    c.fails(Operation::Create, c.create_request(referencing(&[key_name], Vec::new())), not_found, not_found);

    // What a template applies must be attributes a client may set, each single-valued one once.
    let own = || vec![Attribute::Name(name("refused-template"))];
    let read_only = c.register_template_request(own(), vec![Attribute::State(State::Active)]);
    c.fails(Operation::Register, read_only, ResultReason::PermissionDenied, ResultReason::PermissionDenied);
    let uid = c.register_template_request(own(), vec![Attribute::UniqueIdentifier(UniqueIdentifier::Text("mine".into()))]);
    c.fails(Operation::Register, uid, ResultReason::PermissionDenied, ResultReason::PermissionDenied);
    let twice = c.register_template_request(own(), vec![Attribute::CryptographicLength(128), Attribute::CryptographicLength(256)]);
    c.fails(Operation::Register, twice, invalid, invalid);
    assert!(c.locate_name("refused-template").is_empty(), "nothing registered");
    // An Object Type that is not the object's.
    let object = kmipd::kmip::objects::Template { attributes: Vec::new() };
    let mismatch = RegisterRequest {
        object_type: ObjectType::SymmetricKey,
        template_attribute: Some(referencing(&[], own())),
        attributes: None,
        object: ManagedObject::Template(object),
        protection_storage_masks: None,
    };
    c.fails(Operation::Register, mismatch.to_ttlv_item(Tag::REQUEST_PAYLOAD), invalid, invalid);
    // Names are unique, across templates too.
    let uid = c.register_template(own(), vec![Attribute::CryptographicLength(128)]);
    c.fails(Operation::Register, c.register_template_request(own(), Vec::new()), invalid, invalid);
    // A template carries no key material: no format, no wrapping.
    let formatted = GetRequest { key_format_type: Some(KeyFormatType::Raw), ..get_request(uid.clone()) };
    let reason = ResultReason::KeyFormatTypeNotSupported;
    c.fails(Operation::Get, formatted.to_ttlv_item(Tag::REQUEST_PAYLOAD), reason, reason);
    let kek = kek(&c, "000102030405060708090A0B0C0D0E0F", WRAP_KEY, BlockCipherMode::NISTKeyWrap);
    c.fails(Operation::Get, wrapped_get(&uid, wrap_spec(&kek, None, None)), invalid, invalid);

    // Another identity may not use it (Permission Denied), nor see it.
    let stranger = Client { identity: STRANGER, ..Client::new((1, 2)) };
    let deny = ResultReason::PermissionDenied;
    stranger.fails(Operation::Create, stranger.create_request(referencing(&["refused-template"], Vec::new())), deny, deny);
    assert!(stranger.locate_name("refused-template").is_empty());
    // An archived template is not applied.
    c.ok(Operation::Archive, c.uid_request(&uid));
    let archived = ResultReason::ObjectArchived;
    c.fails(Operation::Create, c.create_request(referencing(&["refused-template"], Vec::new())), archived, archived);
    c.ok(Operation::Recover, c.uid_request(&uid));
    let request = referencing(&["refused-template"], vec![Attribute::CryptographicAlgorithm(CryptographicAlgorithm::AES)]);
    assert!(c.attributes(&c.create_with(request)).contains(&Attribute::CryptographicLength(128)));
}

#[test]
fn templates_are_not_offered_at_2_x() {
    let old = Client::new((1, 2));
    let template = "hidden-from-2x";
    let uid = old.register_template(vec![Attribute::Name(name(template))], vec![Attribute::CryptographicLength(128)]);
    for version in [(2, 0), (2, 1)] {
        let c = Client::new(version);
        assert!(c.locate_name(template).is_empty(), "{version:?}");
        let not_found = ResultReason::ObjectNotFound;
        c.fails(Operation::GetAttributes, c.uid_request(&uid), not_found, not_found);
        c.fails(Operation::Get, get_request(uid.clone()).to_ttlv_item(Tag::REQUEST_PAYLOAD), not_found, not_found);
        c.fails(Operation::Destroy, c.uid_request(&uid), not_found, not_found);
        // 2.0 removed the Template object: registering one is a field the version lacks.
        let refused = RegisterRequest {
            object_type: ObjectType::Template,
            template_attribute: None,
            attributes: Some(Attributes { attributes: vec![Attribute::Name(name("2x-template"))] }),
            object: ManagedObject::Template(kmipd::kmip::objects::Template { attributes: Vec::new() }),
            protection_storage_masks: None,
        };
        let invalid = ResultReason::InvalidField;
        c.fails(Operation::Register, refused.to_ttlv_item(Tag::REQUEST_PAYLOAD), invalid, invalid);
    }
    assert_eq!(old.locate_name(template), vec![uid]);
}

// ---- DSA private keys ----

use kmipd::kmip::codec::SecretBigInt;
use kmipd::kmip::objects::{PrivateKey, TransparentDsaPrivateKey};

const SIGN: i32 = 0x1;

/// The Transparent DSA Private Key of the OASIS case BL-M-13-21 (wire Big Integers P, Q, G, X).
fn dsa_block() -> KeyBlock {
    let big = |h: &str| kmipd::ttlv::BigInt::from_signed_bytes(&hex(h));
    let key = TransparentDsaPrivateKey {
        p: big("0000000000000000fca682ce8e12caba26efccf7110e526db078b05edecbcd1eb4a208f3ae1617ae01f35b91a47e6df63413c5e12ed0899bcd132acd50d99151bdc43ee737592e17"),
        q: big("00000000962eddcc369cba8ebb260ee6b6a126d9346e38c5"),
        g: big("678471b27a9cf44ee91a49c5147db1a9aaf244f05a434d6486931d2d14271b9e35030b71fd73da179069b32e2935630e1c2062354d0da20a6c416e50be794ca4"),
        x: SecretBigInt::new(&big("00000000095411d740d2443fa3f97d1ed9a0411bb45e7131")),
    };
    KeyBlock {
        key_format_type: KeyFormatType::TransparentDSAPrivateKey,
        key_compression_type: None,
        key_value: Some(KeyValue::Plain {
            key_material: KeyMaterial::TransparentDsaPrivate(Box::new(key)),
            attributes_v1: Vec::new(),
            attributes: None,
        }),
        cryptographic_algorithm: Some(CryptographicAlgorithm::DSA),
        cryptographic_length: Some(512),
        key_wrapping_data: None,
    }
}

/// The same key as PKCS#8, written by openssl 3.0 (`asn1parse -genconf`; `openssl pkey` reads it back).
const DSA_PKCS8: &str = "3081c60201003081a806072a8648ce38040130819c024100fca682ce8e12caba26efccf7110e526db078b05edecbcd1eb4a208f3ae1617ae01f35b91a47e6df63413c5e12ed0899bcd132acd50d99151bdc43ee737592e17021500962eddcc369cba8ebb260ee6b6a126d9346e38c50240678471b27a9cf44ee91a49c5147db1a9aaf244f05a434d6486931d2d14271b9e35030b71fd73da179069b32e2935630e1c2062354d0da20a6c416e50be794ca404160214095411d740d2443fa3f97d1ed9a0411bb45e7131";

fn dsa_key() -> ManagedObject {
    ManagedObject::PrivateKey(PrivateKey { key_block: dsa_block() })
}

fn get_as(uid: &str, format: KeyFormatType) -> Ttlv {
    GetRequest { key_format_type: Some(format), ..get_request(uid) }.to_ttlv_item(Tag::REQUEST_PAYLOAD)
}

#[test]
fn dsa_private_keys_come_back_as_registered_as_pkcs8_and_wrapped() {
    for version in [(1, 4), (2, 1)] {
        let c = Client::new(version);
        let uid = c.register(dsa_key(), vec![Attribute::CryptographicUsageMask(SIGN)]);
        let attributes = c.attributes(&uid);
        assert!(attributes.contains(&Attribute::CryptographicAlgorithm(CryptographicAlgorithm::DSA)), "{attributes:?}");
        assert!(attributes.contains(&Attribute::CryptographicLength(512)), "{attributes:?}");
        // BL-M-13-21: Get without a format gives the Transparent key back unchanged.
        let block = key_block(c.ok(Operation::Get, get_request(uid.clone()).to_ttlv_item(Tag::REQUEST_PAYLOAD)));
        assert_eq!(block, dsa_block(), "{version:?}");
        assert_eq!(plain_bytes(&key_block(c.ok(Operation::Get, get_as(&uid, KeyFormatType::PKCS_8)))), hex(DSA_PKCS8));
        let not_rsa = KeyFormatType::PKCS_1;
        c.fails(Operation::Get, get_as(&uid, not_rsa), ResultReason::KeyFormatTypeNotSupported, ResultReason::KeyFormatTypeNotSupported);

        // Wrapped out as PKCS#8 (AES Key Wrap with Padding) and registered back through the HSM.
        let kek_kwp = kek(&c, "000102030405060708090A0B0C0D0E0F", WRAP_KEY | UNWRAP_KEY, BlockCipherMode::AESKeyWrapPadding);
        let spec = wrap_spec(&kek_kwp, None, Some(EncodingOption::NoEncoding));
        let wrapped = key_block(c.ok(Operation::Get, wrapped_get(&uid, spec)));
        assert_eq!((wrapped.key_format_type, wrapped.cryptographic_algorithm), (KeyFormatType::PKCS_8, Some(CryptographicAlgorithm::DSA)));
        let kwp = params(Some(BlockCipherMode::AESKeyWrapPadding), None);
        let block = KeyBlock {
            cryptographic_algorithm: Some(CryptographicAlgorithm::DSA),
            cryptographic_length: Some(512),
            ..wrapped_block(KeyFormatType::PKCS_8, wrapped_bytes(&wrapped), &kek_kwp, kwp, false)
        };
        let copy = c.register(ManagedObject::PrivateKey(PrivateKey { key_block: block }), Vec::new());
        let back = key_block(c.ok(Operation::Get, get_as(&copy, KeyFormatType::TransparentDSAPrivateKey)));
        assert_eq!(back, dsa_block(), "{version:?}");
    }
    // The production policy keeps it in the HSM.
    let c = Client { processor: processor(false), ..Client::new((2, 1)) };
    let uid = c.register(dsa_key(), Vec::new());
    c.fails(Operation::Get, get_request(uid).to_ttlv_item(Tag::REQUEST_PAYLOAD), ResultReason::Sensitive, ResultReason::Sensitive);
}

/// Removes every item tagged `tag` anywhere under `item`.
fn without(item: &mut Ttlv, tag: Tag) {
    if let Value::Structure(children) = &mut item.value {
        children.retain(|c| c.tag != tag);
        children.iter_mut().for_each(|c| without(c, tag));
    }
}

#[test]
fn dsa_private_keys_with_missing_or_misplaced_parts_are_refused_by_name() {
    for version in [(1, 4), (2, 1)] {
        let c = Client::new(version);
        let (template_attribute, attributes) = c.template(Vec::new());
        let request = |block: KeyBlock| {
            let object = ManagedObject::PrivateKey(PrivateKey { key_block: block });
            RegisterRequest { object_type: ObjectType::PrivateKey, template_attribute: template_attribute.clone(), attributes: attributes.clone(), object, protection_storage_masks: None }
                .to_ttlv_item(Tag::REQUEST_PAYLOAD)
        };
        // No Q: the Key Material is not a Transparent DSA Private Key.
        let mut payload = request(dsa_block());
        without(&mut payload, Tag::Q);
        let item = c.send(Operation::Register, payload);
        ops_support::assert_failed(&item, ResultReason::InvalidMessage);
        let message = item.result_message.unwrap();
        assert!(message.contains("KeyMaterial: required field Q is missing"), "{message}");
        // X not below Q, and a length the key does not have.
        let mut big_x = dsa_block();
        if let Some(KeyValue::Plain { key_material: KeyMaterial::TransparentDsaPrivate(key), .. }) = &mut big_x.key_value {
            key.x = SecretBigInt::new(&key.q);
        }
        let item = c.send(Operation::Register, request(big_x));
        ops_support::assert_failed(&item, ResultReason::InvalidField);
        assert!(item.result_message.unwrap().contains("X must be smaller than Q"));
        let item = c.send(Operation::Register, request(KeyBlock { cryptographic_length: Some(1024), ..dsa_block() }));
        ops_support::assert_failed(&item, ResultReason::InvalidField);
        assert!(item.result_message.unwrap().contains("does not fit a DSA key of 512 bits"));
    }
}

// ---- Quantum Safe (2.x) ----

#[test]
fn quantum_safe_is_refused_for_keys_that_are_not() {
    for version in [(2, 0), (2, 1)] {
        let c = Client::new(version);
        let create = |bits: i32| {
            let (template_attribute, attributes) = c.template(vec![
                Attribute::CryptographicAlgorithm(CryptographicAlgorithm::AES),
                Attribute::CryptographicLength(bits),
                Attribute::CryptographicUsageMask(0x4 | 0x8),
                Attribute::QuantumSafe(true),
            ]);
            let request =
                CreateRequest { object_type: ObjectType::SymmetricKey, template_attribute, attributes, protection_storage_masks: None };
            request.to_ttlv_item(Tag::REQUEST_PAYLOAD)
        };
        // Grover's algorithm halves a symmetric key: 128 bits is not enough, 256 is.
        c.fails(Operation::Create, create(128), ResultReason::GeneralFailure, ResultReason::GeneralFailure);
        assert!(matches!(c.ok(Operation::Create, create(256)), ResponsePayload::Create(_)));
        // Public-key algorithms fall to Shor's algorithm whatever their size.
        let pair = c.key_pair_request(vec![
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::RSA),
            Attribute::CryptographicLength(2048),
            Attribute::QuantumSafe(true),
        ]);
        let item = c.send(Operation::CreateKeyPair, pair);
        assert_eq!(item.result_reason, Some(ResultReason::GeneralFailure), "{item:?}");
        assert!(item.result_message.unwrap_or_default().contains("NOT_SAFE"));
    }
}

/// The secp256k1 key pair of the OASIS case TC-ECC-1-14: its ECPrivateKey (RFC 5915, with the
/// curve and the public point) and its SubjectPublicKeyInfo.
const SECP256K1_SEC1: &str = "30740201010420db4d128c30ca309e62c4019758c00ba244dd64d9bf52a31078866b8a00c19c68a00706052b8104000aa14403420004dab5d3c253113db414abfc1c0ebf5a02559e656aa1c8b0aa8d870aa0324cda4899925ea1e6dbc259a6c7825cf46592ac7594cc40bd604b728d88b636f317d366";
const SECP256K1_SPKI: &str = "3056301006072a8648ce3d020106052b8104000a03420004dab5d3c253113db414abfc1c0ebf5a02559e656aa1c8b0aa8d870aa0324cda4899925ea1e6dbc259a6c7825cf46592ac7594cc40bd604b728d88b636f317d366";
/// DER of the secp256k1 OID (1.3.132.0.10), as SPKI and SEC1 name the curve.
const SECP256K1_OID_DER: &str = "06052b8104000a";

fn ec_block(format: KeyFormatType, der: &str, algorithm: CryptographicAlgorithm) -> KeyBlock {
    KeyBlock {
        key_format_type: format,
        key_compression_type: None,
        key_value: Some(KeyValue::Plain {
            key_material: KeyMaterial::Bytes(SecretBytes::new(hex(der))),
            attributes_v1: Vec::new(),
            attributes: None,
        }),
        cryptographic_algorithm: Some(algorithm),
        cryptographic_length: Some(256),
        key_wrapping_data: None,
    }
}

fn public_key_block(payload: ResponsePayload) -> KeyBlock {
    match payload {
        ResponsePayload::Get(r) => match r.object {
            ManagedObject::PublicKey(k) => k.key_block,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

fn link(link_type: kmipd::kmip::enums::LinkType, uid: &str) -> Attribute {
    Attribute::Link(kmipd::kmip::objects::Link {
        link_type,
        linked_object_identifier: UniqueIdentifier::Text(uid.into()),
    })
}

#[test]
fn secp256k1_key_pairs_register_and_come_back_as_registered() {
    use kmipd::kmip::enums::{LinkType, RecommendedCurve};
    use kmipd::kmip::objects::PublicKey;
    // KMIP 1.0 has no generic EC algorithm: TC_ECC_1_10 registers the pair as ECDSA.
    for (version, algorithm) in [((1, 0), CryptographicAlgorithm::ECDSA), ((2, 1), CryptographicAlgorithm::EC)] {
        let c = Client::new(version);
        let private_block = ec_block(KeyFormatType::ECPrivateKey, SECP256K1_SEC1, algorithm);
        let private = c.register(ManagedObject::PrivateKey(PrivateKey { key_block: private_block }), vec![
            Attribute::CryptographicUsageMask(SIGN),
        ]);
        let public_block = ec_block(KeyFormatType::X_509, SECP256K1_SPKI, algorithm);
        let public = c.register(ManagedObject::PublicKey(PublicKey { key_block: public_block }), vec![
            link(LinkType::PrivateKeyLink, &private),
        ]);
        let attributes = c.attributes(&private);
        assert!(attributes.contains(&Attribute::CryptographicAlgorithm(algorithm)), "{attributes:?}");
        assert!(attributes.contains(&Attribute::CryptographicLength(256)), "{attributes:?}");

        // Without the link the HSM's private key has no public point to give back.
        let alone = key_block(c.ok(Operation::Get, get_request(private.clone()).to_ttlv_item(Tag::REQUEST_PAYLOAD)));
        assert_eq!((alone.key_format_type, alone.cryptographic_algorithm), (KeyFormatType::ECPrivateKey, Some(algorithm)));
        assert!(plain_bytes(&alone).len() < hex(SECP256K1_SEC1).len(), "{version:?}");
        // With it, the key comes back byte for byte as registered (TC-ECC-1-14).
        c.ok(Operation::AddAttribute, c.add_attribute(&private, link(LinkType::PublicKeyLink, &public)));
        let block = key_block(c.ok(Operation::Get, get_request(private.clone()).to_ttlv_item(Tag::REQUEST_PAYLOAD)));
        assert_eq!(plain_bytes(&block), hex(SECP256K1_SEC1), "{version:?}");
        let block = public_key_block(c.ok(Operation::Get, get_request(public).to_ttlv_item(Tag::REQUEST_PAYLOAD)));
        assert_eq!(plain_bytes(&block), hex(SECP256K1_SPKI), "{version:?}");
    }

    // At 2.1 the Transparent form names the curve, and the HSM generates pairs on it.
    let c = Client::new((2, 1));
    let private_block = ec_block(KeyFormatType::ECPrivateKey, SECP256K1_SEC1, CryptographicAlgorithm::EC);
    let private = c.register(ManagedObject::PrivateKey(PrivateKey { key_block: private_block }), Vec::new());
    let block = key_block(c.ok(Operation::Get, get_as(&private, KeyFormatType::TransparentECPrivateKey)));
    match block.key_value {
        Some(KeyValue::Plain { key_material: KeyMaterial::TransparentEcPrivate(key), .. }) => {
            assert_eq!(key.recommended_curve, RecommendedCurve::SECP256K1);
        }
        other => panic!("{other:?}"),
    }
    let (private, public) = c.create_key_pair(vec![
        Attribute::CryptographicAlgorithm(CryptographicAlgorithm::EC),
        Attribute::CryptographicDomainParameters(kmipd::kmip::objects::CryptographicDomainParameters {
            qlength: None,
            recommended_curve: Some(RecommendedCurve::SECP256K1),
        }),
        Attribute::CryptographicUsageMask(SIGN),
    ]);
    assert!(c.attributes(&private).contains(&Attribute::CryptographicLength(256)));
    let spki = plain_bytes(&public_key_block(c.ok(Operation::Get, get_request(public).to_ttlv_item(Tag::REQUEST_PAYLOAD))));
    assert!(spki.windows(7).any(|w| w == hex(SECP256K1_OID_DER)), "{spki:02x?}");
    // The generated private key links its public key, so its SEC1 carries the same point.
    let sec1 = plain_bytes(&key_block(c.ok(Operation::Get, get_as(&private, KeyFormatType::ECPrivateKey))));
    assert!(sec1.ends_with(&spki[spki.len() - 65..]), "{sec1:02x?}");
}
