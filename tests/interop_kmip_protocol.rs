//! NLnet Labs' Rust KMIP client, `kmip-protocol` 0.4.3, against a real `kmipd dev`.
//!
//! The crate's `Client` runs over kmipd's own rustls (a sync `StreamOwned` with the dev client
//! certificate, [`server_support::tls_stream`]). Its `client` module exists only with one of
//! the `tls-with-*` features; `tls-with-openssl` is enabled for that, its OpenSSL plugin is
//! never used. Every operation the crate offers is sent and its answer checked by value: the
//! `Client` helpers (query, create_rsa_key_pair, get_key, activate_key, rename_key, sign,
//! rng_retrieve, revoke_key, destroy_key) and, through `do_request`, the other request
//! payloads it models (Create, Register of a symmetric, public and private key and of a
//! Template, Locate, Get with a Key Format Type, Get Attributes, Get Attribute List, Add,
//! Modify and Delete Attribute, Discover Versions, Sign with other parameters). Signatures
//! are verified with `ring`.
//!
//! Protocol versions: the crate has no setting. Each request payload carries the version
//! that introduced its operation — KMIP 1.0 for the object operations, 1.1 for Discover
//! Versions, 1.2 for Query, Sign and RNG Retrieve — and kmipd answers each at that version
//! (checked in kmipd's audit log).
//!
//! What the crate cannot decode, whoever the server: a Date-Time attribute value (its
//! `AttributeValue::DateTime(u64)` is refused by kmip-ttlv, so Get Attributes without names
//! fails on the Initial Date every object has; checked below), and a structured attribute it
//! has no variant for, such as Link (its Link variant is keyed to the Attribute Name "Linked
//! Object Identifier"): decoding recurses until the stack overflows and the process aborts,
//! so no Link is sent or asked for here.

mod server_support;

use std::net::TcpStream;

use kmip_protocol::client::{Client, ClientBuilder, Error};
use kmip_protocol::types::common::{
    AttributeIndex, AttributeName, AttributeValue, CryptographicAlgorithm, CryptographicLength,
    CryptographicParameters, CryptographicUsageMask, Data, HashingAlgorithm, KeyFormatType, KeyMaterial, ObjectType,
    Operation, PaddingMethod, State, UniqueIdentifier,
};
use kmip_protocol::types::request::{
    self, Attribute, KeyBlock, KeyValue, ManagedObject, ProtocolVersion, ProtocolVersionMajor, ProtocolVersionMinor,
    QueryFunction, RequestPayload, Template, TemplateAttribute,
};
use kmip_protocol::types::response::{self as res, GetAttributesResponsePayload, GetResponsePayload, ResponsePayload};
use kmip_protocol::Config;
use rustls::{ClientConnection, StreamOwned};
use server_support::TestServer;

type Tls = StreamOwned<ClientConnection, TcpStream>;

fn client(server: &TestServer) -> Client<Tls> {
    let stream =
        server_support::tls_stream(server.addr(), &server.ca_cert(), Some(&server.identity()), rustls::ALL_VERSIONS)
            .expect("TLS to kmipd");
    ClientBuilder::new(stream).with_reader_config(Config::default().with_max_bytes(1024 * 1024)).build()
}

fn uid(s: &str) -> Option<UniqueIdentifier> {
    Some(UniqueIdentifier(s.to_owned()))
}

/// The request payload's answer, which must be of the `variant` given.
macro_rules! answer {
    ($client:expr, $request:expr, $variant:path) => {
        match $client.do_request($request).unwrap_or_else(|e| panic!("{}: {e}", stringify!($request))) {
            $variant(payload) => payload,
            other => panic!("{}: unexpected answer {other:?}", stringify!($variant)),
        }
    };
}

fn get_attributes(client: &Client<Tls>, id: &str, names: &[&str]) -> Vec<res::Attribute> {
    let names = (!names.is_empty()).then(|| names.iter().map(|n| AttributeName((*n).into())).collect());
    let payload: GetAttributesResponsePayload =
        answer!(client, RequestPayload::GetAttributes(uid(id), names), ResponsePayload::GetAttributes);
    assert_eq!(payload.unique_identifier.0, id);
    payload.attributes.unwrap_or_default()
}

fn value<'a>(attributes: &'a [res::Attribute], name: &str) -> &'a AttributeValue {
    let found: Vec<_> = attributes.iter().filter(|a| a.name.0 == name).collect();
    assert_eq!(found.len(), 1, "{name} in {attributes:?}");
    &found[0].value
}

fn state(client: &Client<Tls>, id: &str) -> State {
    match value(&get_attributes(client, id, &["State"]), "State") {
        AttributeValue::State(s) => *s,
        other => panic!("State is {other:?}"),
    }
}

fn names(client: &Client<Tls>, id: &str) -> Vec<String> {
    get_attributes(client, id, &["Name"])
        .iter()
        .map(|a| match &a.value {
            AttributeValue::Name(n, _) => n.0.clone(),
            other => panic!("Name is {other:?}"),
        })
        .collect()
}

fn locate(client: &Client<Tls>, attributes: Vec<Attribute>) -> Vec<String> {
    let found = answer!(client, RequestPayload::Locate(attributes), ResponsePayload::Locate);
    found.unique_identifiers.into_iter().map(|u| u.0).collect()
}

/// The key material of a Get answer (a Byte String format), with the Key Block's format.
fn key_bytes(got: &GetResponsePayload) -> (KeyFormatType, Vec<u8>) {
    let block = match &got.cryptographic_object {
        res::ManagedObject::SymmetricKey(k) => &k.key_block,
        res::ManagedObject::PublicKey(k) => &k.key_block,
        res::ManagedObject::PrivateKey(k) => &k.key_block,
        other => panic!("not a key: {other:?}"),
    };
    match &block.key_value.key_material {
        KeyMaterial::Bytes(b) => (block.key_format_type, b.clone()),
        other => panic!("key material {other:?}"),
    }
}

fn get(client: &Client<Tls>, id: &str, format: Option<KeyFormatType>) -> GetResponsePayload {
    answer!(client, RequestPayload::Get(uid(id), format, None, None), ResponsePayload::Get)
}

fn mask(bits: &[CryptographicUsageMask]) -> Attribute {
    let mask = bits.iter().fold(0, |m, b| m | *b as i32);
    Attribute(AttributeName("Cryptographic Usage Mask".into()), None, AttributeValue::Integer(mask))
}

fn verify_rsa_pkcs1_sha256(public_pkcs1: &[u8], message: &[u8], signature: &[u8]) -> bool {
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public_pkcs1)
        .verify(message, signature)
        .is_ok()
}

#[test]
fn kmip_protocol_client_against_kmipd() {
    let mut server = TestServer::start();
    let client = client(&server);

    // Query (1.2): kmipd lists what it implements at 1.2, nothing newer.
    let query = client.query().expect("query");
    let operations = query.operations.expect("operations");
    for op in [Operation::Create, Operation::Get, Operation::Locate, Operation::Sign, Operation::RNGRetrieve] {
        assert!(operations.contains(&op), "{op} missing from {operations:?}");
    }
    let object_types = query.object_types.expect("object types");
    for t in [
        ObjectType::SymmetricKey,
        ObjectType::PublicKey,
        ObjectType::PrivateKey,
        ObjectType::Certificate,
        ObjectType::Template,
    ] {
        assert!(object_types.contains(&t), "{t:?} missing from {object_types:?}");
    }
    assert!(query.vendor_identification.is_some_and(|v| v.starts_with("kmipd")));
    let only_objects =
        answer!(client, RequestPayload::Query(vec![QueryFunction::QueryObjects]), ResponsePayload::Query);
    assert!(only_objects.operations.is_none() && only_objects.object_types.is_some());

    // Discover Versions (1.1): all, then the client's choice.
    let all = answer!(client, RequestPayload::DiscoverVersions(vec![]), ResponsePayload::DiscoverVersions);
    let versions: Vec<(i32, i32)> = all.supported_versions.unwrap().iter().map(|v| (v.major, v.minor)).collect();
    assert_eq!(versions, [(2, 1), (2, 0), (1, 4), (1, 3), (1, 2), (1, 1), (1, 0)]);
    let v = |major, minor| ProtocolVersion(ProtocolVersionMajor(major), ProtocolVersionMinor(minor));
    let some = answer!(
        client,
        RequestPayload::DiscoverVersions(vec![v(1, 2), v(9, 9), v(1, 0)]),
        ResponsePayload::DiscoverVersions
    );
    let some: Vec<(i32, i32)> = some.supported_versions.unwrap().iter().map(|v| (v.major, v.minor)).collect();
    assert_eq!(some, [(1, 2), (1, 0)]);

    // Create an AES key (1.0), read it back.
    let created = answer!(
        client,
        RequestPayload::Create(
            ObjectType::SymmetricKey,
            TemplateAttribute::unnamed(vec![
                Attribute::CryptographicAlgorithm(CryptographicAlgorithm::AES),
                Attribute::CryptographicLength(256),
                mask(&[CryptographicUsageMask::Encrypt, CryptographicUsageMask::Decrypt]),
                Attribute::Name("kmip-protocol-aes".into()),
            ]),
        ),
        ResponsePayload::Create
    );
    assert_eq!(created.object_type, ObjectType::SymmetricKey);
    let aes = created.unique_identifier.0;
    let got = client.get_key(&aes).expect("get_key");
    assert_eq!((got.object_type, got.unique_identifier.0.as_str()), (ObjectType::SymmetricKey, aes.as_str()));
    let (format, material) = key_bytes(&got);
    assert_eq!((format, material.len()), (KeyFormatType::Raw, 32));
    let attributes = get_attributes(&client, &aes, &["Cryptographic Algorithm", "Cryptographic Length", "State"]);
    assert_eq!(attributes.len(), 3, "{attributes:?}");
    assert_eq!(
        value(&attributes, "Cryptographic Algorithm"),
        &AttributeValue::CryptographicAlgorithm(CryptographicAlgorithm::AES)
    );
    assert_eq!(value(&attributes, "Cryptographic Length"), &AttributeValue::Integer(256));
    assert_eq!(value(&attributes, "State"), &AttributeValue::State(State::PreActive));
    assert_eq!(names(&client, &aes), ["kmip-protocol-aes"]);

    // All attributes: the crate can't decode a Date-Time attribute value (kmip-ttlv has no u64
    // support), and every object has an Initial Date. Get Attribute List names them all.
    let all = client.do_request(RequestPayload::GetAttributes(uid(&aes), None)).expect_err("all attributes decoded");
    assert!(matches!(&all, Error::InternalError(m) if m.contains("UnsupportedRustType(\"u64\")")), "{all:?}");
    let list = answer!(client, RequestPayload::GetAttributeList(uid(&aes)), ResponsePayload::GetAttributeList);
    assert_eq!(list.unique_identifier.0, aes);
    let mut listed: Vec<String> = list.attributes.into_iter().map(|n| n.0).collect();
    listed.sort();
    let mut expected_names = [
        "Cryptographic Algorithm",
        "Cryptographic Length",
        "Cryptographic Usage Mask",
        "Digest",
        "Initial Date",
        "Last Change Date",
        "Name",
        "Object Type",
        "State",
        "Unique Identifier",
    ];
    expected_names.sort();
    // Exactly the 1.0 ones: no Fresh (1.1), Sensitive/Extractable (1.4), Key Format Type (2.0).
    assert_eq!(listed, expected_names);

    // Add, Modify (rename_key) and Delete Attribute; Locate follows.
    let added = answer!(
        client,
        RequestPayload::AddAttribute(uid(&aes), Attribute::ContactInformation("keys@example.org".into())),
        ResponsePayload::AddAttribute
    );
    assert_eq!(added.attribute.value, AttributeValue::ContactInformation("keys@example.org".into()));
    let renamed = client.rename_key(&aes, "kmip-protocol-aes-renamed".into()).expect("rename_key");
    assert_eq!(renamed.unique_identifier.0, aes);
    assert!(matches!(&renamed.attribute.value, AttributeValue::Name(n, _) if n.0 == "kmip-protocol-aes-renamed"));
    assert_eq!(names(&client, &aes), ["kmip-protocol-aes-renamed"]);
    assert_eq!(locate(&client, vec![Attribute::Name("kmip-protocol-aes-renamed".into())]), [aes.as_str()]);
    assert!(locate(&client, vec![Attribute::Name("kmip-protocol-aes".into())]).is_empty());
    let deleted = answer!(
        client,
        RequestPayload::DeleteAttribute(
            uid(&aes),
            AttributeName("Contact Information".into()),
            Some(AttributeIndex(0))
        ),
        ResponsePayload::DeleteAttribute
    );
    assert_eq!(deleted.attribute.value, AttributeValue::ContactInformation("keys@example.org".into()));
    assert!(get_attributes(&client, &aes, &["Contact Information"]).is_empty());

    // Activate, then Revoke: the lifecycle as Get Attributes reports it.
    client.activate_key(&aes).expect("activate_key");
    assert_eq!(state(&client, &aes), State::Active);
    assert_eq!(
        locate(&client, vec![Attribute::ObjectType(ObjectType::SymmetricKey)]),
        [aes.as_str()],
        "the only symmetric key"
    );

    // An RSA key pair (create_rsa_key_pair answers private first), signed with by the crate's
    // `sign` (PKCS#1 v1.5, SHA-256) and verified with ring against the public key Get returns.
    let (private, public) =
        client.create_rsa_key_pair(2048, "kmip-protocol-private".into(), "kmip-protocol-public".into()).expect("pair");
    assert_ne!(private, public);
    assert_eq!(locate(&client, vec![Attribute::Name("kmip-protocol-private".into())]), [private.as_str()]);
    let public_key = get(&client, &public, Some(KeyFormatType::PKCS1));
    assert_eq!(public_key.object_type, ObjectType::PublicKey);
    let (format, public_pkcs1) = key_bytes(&public_key);
    assert_eq!(format, KeyFormatType::PKCS1);
    client.activate_key(&private).expect("activate the private key");
    let message = b"signed by kmipd for kmip-protocol";
    let signed = client.sign(&private, message).expect("sign");
    assert_eq!(signed.unique_identifier.0, private);
    assert_eq!(signed.signature_data.len(), 256);
    assert!(verify_rsa_pkcs1_sha256(&public_pkcs1, message, &signed.signature_data));
    assert!(!verify_rsa_pkcs1_sha256(&public_pkcs1, b"something else", &signed.signature_data));
    let pss = answer!(
        client,
        RequestPayload::Sign(
            uid(&private),
            Some(
                CryptographicParameters::default()
                    .with_padding_method(PaddingMethod::PSS)
                    .with_hashing_algorithm(HashingAlgorithm::SHA256)
                    .with_cryptographic_algorithm(CryptographicAlgorithm::RSA),
            ),
            Data(message.to_vec()),
        ),
        ResponsePayload::Sign
    );
    let pss_key = ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PSS_2048_8192_SHA256, &public_pkcs1);
    assert!(pss_key.verify(message, &pss.signature_data).is_ok(), "RSA-PSS signature");

    // Register: an AES key, then the pair's public and private keys as new objects.
    let aes_value: Vec<u8> = (0u8..16).map(|i| i.wrapping_mul(37)).collect();
    let key_block = |format, material: &[u8], algorithm, bits| {
        KeyBlock(
            format,
            None,
            Some(KeyValue(KeyMaterial::Bytes(material.to_vec()), None)),
            Some(algorithm),
            Some(CryptographicLength(bits)),
            None,
        )
    };
    let register = |object_type, object, name: &str| {
        let template = TemplateAttribute::unnamed(vec![Attribute::Name(name.into())]);
        answer!(client, RequestPayload::Register(object_type, template, Some(object)), ResponsePayload::Register)
            .unique_identifier
            .0
    };
    let symmetric = register(
        ObjectType::SymmetricKey,
        ManagedObject::SymmetricKey(request::SymmetricKey(key_block(
            KeyFormatType::Raw,
            &aes_value,
            CryptographicAlgorithm::AES,
            128,
        ))),
        "kmip-protocol-registered-aes",
    );
    assert_eq!(key_bytes(&client.get_key(&symmetric).unwrap()), (KeyFormatType::Raw, aes_value));
    let registered_public = register(
        ObjectType::PublicKey,
        ManagedObject::PublicKey(request::PublicKey(key_block(
            KeyFormatType::PKCS1,
            &public_pkcs1,
            CryptographicAlgorithm::RSA,
            2048,
        ))),
        "kmip-protocol-registered-public",
    );
    assert_eq!(
        key_bytes(&get(&client, &registered_public, Some(KeyFormatType::PKCS1))),
        (KeyFormatType::PKCS1, public_pkcs1.clone())
    );
    let (format, private_pkcs8) = key_bytes(&get(&client, &private, Some(KeyFormatType::PKCS8)));
    assert_eq!(format, KeyFormatType::PKCS8);
    let registered_private = register(
        ObjectType::PrivateKey,
        ManagedObject::PrivateKey(request::PrivateKey(key_block(
            KeyFormatType::PKCS8,
            &private_pkcs8,
            CryptographicAlgorithm::RSA,
            2048,
        ))),
        "kmip-protocol-registered-private",
    );
    client.activate_key(&registered_private).expect("activate the registered private key");
    let again = client.sign(&registered_private, message).expect("sign with the registered key");
    assert!(verify_rsa_pkcs1_sha256(&public_pkcs1, message, &again.signature_data), "the same private key");
    // Locate by type and algorithm, and with no attribute at all.
    let mut rsa_private = locate(
        &client,
        vec![
            Attribute::ObjectType(ObjectType::PrivateKey),
            Attribute::CryptographicAlgorithm(CryptographicAlgorithm::RSA),
        ],
    );
    rsa_private.sort();
    let mut expected = vec![private.clone(), registered_private.clone()];
    expected.sort();
    assert_eq!(rsa_private, expected);
    assert_eq!(locate(&client, vec![]).len(), 6);

    // A Template (1.x): registered with its name, then named by a Create's Template-Attribute, whose key takes
    // the template's attributes.
    let template = ManagedObject::Template(Template(vec![
        Attribute::CryptographicAlgorithm(CryptographicAlgorithm::AES),
        Attribute::CryptographicLength(128),
        mask(&[CryptographicUsageMask::Encrypt, CryptographicUsageMask::Decrypt]),
    ]));
    let registered = answer!(
        client,
        RequestPayload::Register(
            ObjectType::Template,
            TemplateAttribute::unnamed(vec![Attribute::Name("kmip-protocol-template".into())]),
            Some(template),
        ),
        ResponsePayload::Register
    );
    assert!(!registered.unique_identifier.0.is_empty());
    let from_template = answer!(
        client,
        RequestPayload::Create(
            ObjectType::SymmetricKey,
            TemplateAttribute::named("kmip-protocol-template".into(), vec![]),
        ),
        ResponsePayload::Create
    );
    let attributes =
        get_attributes(&client, &from_template.unique_identifier.0, &["Cryptographic Algorithm", "Cryptographic Length"]);
    assert_eq!(value(&attributes, "Cryptographic Length"), &AttributeValue::Integer(128));
    let unknown = client
        .do_request(RequestPayload::Create(
            ObjectType::SymmetricKey,
            TemplateAttribute::named("no-such-template".into(), vec![]),
        ))
        .expect_err("an unknown template applied");
    assert!(matches!(&unknown, Error::ItemNotFound(m) if m.contains("no-such-template")), "{unknown:?}");

    // RNG Retrieve (1.2).
    let random = client.rng_retrieve(32).expect("rng_retrieve").data;
    let other = client.rng_retrieve(32).expect("rng_retrieve").data;
    assert_eq!((random.len(), other.len()), (32, 32));
    assert_ne!(random, other);

    // Revoke and Destroy; afterwards Get fails, and an unknown object is Item Not Found.
    client.revoke_key(&aes).expect("revoke_key");
    assert_eq!(state(&client, &aes), State::Deactivated);
    client.destroy_key(&aes).expect("destroy_key");
    assert_eq!(state(&client, &aes), State::Destroyed);
    let gone = client.get_key(&aes).expect_err("Get of a destroyed key");
    assert!(matches!(&gone, Error::ServerError(m) if m.contains("Get")), "{gone:?}");
    let missing = client.destroy_key("no-such-object").expect_err("Destroy of nothing");
    assert!(matches!(missing, Error::ItemNotFound(_)), "{missing:?}");
    let active = client.destroy_key(&private).expect_err("Destroy of an Active key");
    assert!(matches!(&active, Error::ServerError(_)), "{active:?}");

    // The crate picks each request's protocol version itself; kmipd audits which it got.
    let log = server.log();
    for (operation, version) in [
        ("Query", "1.2"),
        ("DiscoverVersions", "1.1"),
        ("Create", "1.0"),
        ("CreateKeyPair", "1.0"),
        ("Register", "1.0"),
        ("Get", "1.0"),
        ("GetAttributes", "1.0"),
        ("GetAttributeList", "1.0"),
        ("AddAttribute", "1.0"),
        ("ModifyAttribute", "1.0"),
        ("DeleteAttribute", "1.0"),
        ("Locate", "1.0"),
        ("Activate", "1.0"),
        ("Revoke", "1.0"),
        ("Destroy", "1.0"),
        ("Sign", "1.2"),
        ("RNGRetrieve", "1.2"),
    ] {
        let audited: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("kmipd::audit") && l.contains(&format!(" operation={operation} ")))
            .collect();
        assert!(!audited.is_empty(), "no {operation} audited");
        for line in audited {
            assert!(line.contains(&format!("protocol_version=\"{version}\"")), "{operation} not at {version}: {line}");
        }
    }
    server.assert_serves();
}
