//! The cryptographic services (issue 5) end to end through the operations layer, on a real
//! SoftHSM2 token: each request is written as KMIP XML, encoded, processed and the encoded
//! answer decoded, as the network layer does. Known answers come from NIST SP 800-38A/38D,
//! RFC 2202, RFC 4493 and FIPS 180; randomized schemes (OAEP, PKCS#1 v1.5 encryption, PSS,
//! ECDSA, generated keys) round-trip instead.

mod hsm_support;
mod ops_support;

use std::sync::{Arc, OnceLock};

use kmipd::hsm::Hsm;
use kmipd::kmip::enums::{ResultReason, ResultStatus};
use kmipd::ops::{Backend, Limits, Policy, Processor, Reply, RequestContext};
use kmipd::store::{SledStore, SledStoreConfig, Store};
use kmipd::ttlv::binary::{self, DecodeLimits};
use kmipd::ttlv::xml::{parse_test_case, Placeholders};
use kmipd::ttlv::{Tag, Ttlv, Value};

struct Services {
    store: SledStore,
}

impl Backend for Services {
    fn hsm(&self) -> Option<&dyn Hsm> {
        Some(hsm_support::hsm())
    }
    fn store(&self) -> Option<&dyn Store> {
        Some(&self.store)
    }
    fn policy(&self) -> Policy {
        Policy { extractable_by_default: false }
    }
}

fn processor() -> &'static Processor {
    static P: OnceLock<(tempfile::TempDir, Processor)> = OnceLock::new();
    &P.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(&SledStoreConfig::new(dir.path().join("store"))).unwrap();
        (dir, Processor::new(Limits::default(), Arc::new(Services { store })))
    })
    .1
}

/// One batch item's answer.
struct Answer(Ttlv);

impl Answer {
    fn status(&self) -> ResultStatus {
        match self.0.child(Tag::RESULT_STATUS).map(|s| &s.value) {
            Some(Value::Enumeration(v)) => kmipd::kmip::KmipEnum::from_u32(*v).unwrap(),
            other => panic!("no status: {other:?}"),
        }
    }
    fn reason(&self) -> Option<ResultReason> {
        match self.0.child(Tag::RESULT_REASON).map(|s| &s.value) {
            Some(Value::Enumeration(v)) => kmipd::kmip::KmipEnum::from_u32(*v),
            _ => None,
        }
    }
    fn ok(self) -> Answer {
        assert_eq!(self.status(), ResultStatus::Success, "{:#?}", self.0);
        self
    }
    fn bytes(&self, tag: Tag) -> Vec<u8> {
        match self.0.child(Tag::RESPONSE_PAYLOAD).and_then(|p| p.child(tag)).map(|i| &i.value) {
            Some(Value::ByteString(b)) => b.clone(),
            other => panic!("no {tag}: {other:?} in {:#?}", self.0),
        }
    }
    fn has(&self, tag: Tag) -> bool {
        self.0.child(Tag::RESPONSE_PAYLOAD).and_then(|p| p.child(tag)).is_some()
    }
    fn text(&self, tag: Tag) -> String {
        match self.0.child(Tag::RESPONSE_PAYLOAD).and_then(|p| p.child(tag)).map(|i| &i.value) {
            Some(Value::TextString(t)) => t.clone(),
            other => panic!("no {tag}: {other:?}"),
        }
    }
    fn valid(&self) -> bool {
        match self.0.child(Tag::RESPONSE_PAYLOAD).and_then(|p| p.child(Tag::VALIDITY_INDICATOR)).map(|i| &i.value) {
            Some(Value::Enumeration(v)) => *v == 1,
            other => panic!("no Validity Indicator: {other:?}"),
        }
    }
    fn fails(&self, reason: ResultReason) {
        assert_eq!(self.status(), ResultStatus::OperationFailed, "{:#?}", self.0);
        assert_eq!(self.reason(), Some(reason), "{:#?}", self.0);
    }
}

/// Sends one batch item (`payload` is the XML inside RequestPayload) as `identity`.
fn send_as(identity: &str, version: (u8, u8), operation: &str, payload: &str) -> Answer {
    let xml = format!(
        r#"<RequestMessage><RequestHeader><ProtocolVersion><ProtocolVersionMajor type="Integer" value="{}"/>
        <ProtocolVersionMinor type="Integer" value="{}"/></ProtocolVersion><BatchCount type="Integer" value="1"/>
        </RequestHeader><BatchItem><Operation type="Enumeration" value="{operation}"/><RequestPayload>{payload}
        </RequestPayload></BatchItem></RequestMessage>"#,
        version.0, version.1
    );
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let placeholders = Placeholders { now, ..Default::default() };
    let request = parse_test_case(&xml, &placeholders).unwrap().pop().unwrap();
    let bytes = binary::encode(&request).unwrap();
    let ctx = RequestContext { client_identity: identity.into(), connection_id: 1, ..RequestContext::default() };
    let tree = match processor().process(&ctx, &bytes) {
        Reply::Send(out) => binary::decode(&out, &DecodeLimits::default()).unwrap(),
        Reply::Close(reason) => panic!("closed: {reason:?}"),
    };
    Answer(tree.child(Tag::BATCH_ITEM).unwrap().clone())
}

fn send(version: (u8, u8), operation: &str, payload: &str) -> Answer {
    send_as("CN=owner", version, operation, payload)
}

const V21: (u8, u8) = (2, 1);
const V14: (u8, u8) = (1, 4);
const V12: (u8, u8) = (1, 2);

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// Registers an active symmetric key (2.1 form) with this usage and extra attributes.
fn register_key(algorithm: &str, key: &str, usage: &str, extra: &str) -> String {
    let bits = key.len() * 4;
    let payload = format!(
        r#"<ObjectType type="Enumeration" value="SymmetricKey"/><Attributes>
        <CryptographicUsageMask type="Integer" value="{usage}"/><ActivationDate type="DateTime" value="$NOW-3600"/>{extra}
        </Attributes><SymmetricKey><KeyBlock><KeyFormatType type="Enumeration" value="Raw"/><KeyValue>
        <KeyMaterial type="ByteString" value="{key}"/></KeyValue><CryptographicAlgorithm type="Enumeration" value="{algorithm}"/>
        <CryptographicLength type="Integer" value="{bits}"/></KeyBlock></SymmetricKey>"#
    );
    send(V21, "Register", &payload).ok().text(Tag::UNIQUE_IDENTIFIER)
}

/// Creates an active key pair (2.1 form); returns (private, public).
fn key_pair(common: &str) -> (String, String) {
    let payload = format!(
        r#"<CommonAttributes>{common}<ActivationDate type="DateTime" value="$NOW-3600"/></CommonAttributes>
        <PrivateKeyAttributes><CryptographicUsageMask type="Integer" value="Sign Decrypt"/></PrivateKeyAttributes>
        <PublicKeyAttributes><CryptographicUsageMask type="Integer" value="Verify Encrypt"/></PublicKeyAttributes>"#
    );
    let a = send(V21, "CreateKeyPair", &payload).ok();
    (a.text(Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER), a.text(Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER))
}

fn uid(u: &str) -> String {
    format!(r#"<UniqueIdentifier type="TextString" value="{u}"/>"#)
}

fn data(tag: &str, bytes: &[u8]) -> String {
    format!(r#"<{tag} type="ByteString" value="{}"/>"#, hex::encode(bytes))
}

fn params(inner: &str) -> String {
    format!("<CryptographicParameters>{inner}</CryptographicParameters>")
}

fn mode(m: &str) -> String {
    format!(r#"<BlockCipherMode type="Enumeration" value="{m}"/>"#)
}

const AES128: &str = "2b7e151628aed2a6abf7158809cf4f3c";
const SP800_38A_PLAIN: &str = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51";

#[test]
fn aes_ecb_cbc_ctr_known_answers() {
    let key = register_key("AES", AES128, "Encrypt Decrypt", "");
    let plain = hex(SP800_38A_PLAIN);
    let cases = [
        (mode("ECB"), None, "3ad77bb40d7a3660a89ecaf32466ef97f5d3d58503b9699de785895a96fdbaaf"),
        (mode("CBC"), Some("000102030405060708090a0b0c0d0e0f"), "7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2"),
        (mode("CTR"), Some("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff"), "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"),
    ];
    for version in [V12, V21] {
        for (m, iv, expected) in &cases {
            let iv = iv.map(|iv| data("IVCounterNonce", &hex(iv))).unwrap_or_default();
            let p = format!("{}{}{}{iv}", uid(&key), params(m), data("Data", &plain));
            assert_eq!(send(version, "Encrypt", &p).ok().bytes(Tag::DATA), hex(expected), "{m}");
            let p = format!("{}{}{}{iv}", uid(&key), params(m), data("Data", &hex(expected)));
            assert_eq!(send(version, "Decrypt", &p).ok().bytes(Tag::DATA), plain, "{m}");
        }
    }
}

#[test]
fn aes_cbc_pkcs5_with_a_generated_iv_round_trips_and_ecb_pads_in_software() {
    let key = register_key("AES", AES128, "Encrypt Decrypt", "");
    for m in ["CBC", "ECB"] {
        let p = params(&format!(r#"{}<PaddingMethod type="Enumeration" value="PKCS5"/>"#, mode(m)));
        let e = send(V21, "Encrypt", &format!("{}{p}{}", uid(&key), data("Data", b"seventeen bytes!!"))).ok();
        let ciphertext = e.bytes(Tag::DATA);
        assert_eq!(ciphertext.len(), 32);
        let iv = if m == "CBC" { data("IVCounterNonce", &e.bytes(Tag::IV_COUNTER_NONCE)) } else { String::new() };
        let d = send(V21, "Decrypt", &format!("{}{p}{}{iv}", uid(&key), data("Data", &ciphertext))).ok();
        assert_eq!(d.bytes(Tag::DATA), b"seventeen bytes!!");
    }
}

/// NIST GCM test case 4 (AES-128, 96-bit IV, AAD).
#[test]
fn aes_gcm_known_answer_tag_placement_and_tampered_tag() {
    let key = register_key("AES", "feffe9928665731c6d6a8f9467308308", "Encrypt Decrypt", "");
    let plain = hex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    let iv = data("IVCounterNonce", &hex("cafebabefacedbaddecaf888"));
    let aad = data("AuthenticatedEncryptionAdditionalData", &hex("feedfacedeadbeeffeedfacedeadbeefabaddad2"));
    let cipher = hex("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091");
    let tag = hex("5bc94fbc3221a5db94fae95ae7121a47");
    let p = params(&format!(r#"{}<TagLength type="Integer" value="16"/>"#, mode("GCM")));
    // 1.4 and 2.1: the tag in its own field.
    for version in [V14, V21] {
        let e = send(version, "Encrypt", &format!("{}{p}{}{iv}{aad}", uid(&key), data("Data", &plain))).ok();
        assert_eq!((e.bytes(Tag::DATA), e.bytes(Tag::AUTHENTICATED_ENCRYPTION_TAG)), (cipher.clone(), tag.clone()));
        let d = format!("{}{p}{}{iv}{aad}{}", uid(&key), data("Data", &cipher), data("AuthenticatedEncryptionTag", &tag));
        assert_eq!(send(version, "Decrypt", &d).ok().bytes(Tag::DATA), plain);
        let mut bad = tag.clone();
        bad[0] ^= 1;
        let d = format!("{}{p}{}{iv}{aad}{}", uid(&key), data("Data", &cipher), data("AuthenticatedEncryptionTag", &bad));
        send(version, "Decrypt", &d).fails(ResultReason::CryptographicFailure);
    }
    // 1.2 has no tag field: the tag follows the ciphertext, and no AAD field either.
    let key12 = register_key("AES", "00000000000000000000000000000000", "Encrypt Decrypt", "");
    let iv0 = data("IVCounterNonce", &[0; 12]);
    let e = send(V12, "Encrypt", &format!("{}{p}{}{iv0}", uid(&key12), data("Data", &[0; 16]))).ok();
    assert!(!e.has(Tag::AUTHENTICATED_ENCRYPTION_TAG));
    assert_eq!(e.bytes(Tag::DATA), hex("0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf"));
    let d = send(V12, "Decrypt", &format!("{}{p}{}{iv0}", uid(&key12), data("Data", &e.bytes(Tag::DATA)))).ok();
    assert_eq!(d.bytes(Tag::DATA), vec![0; 16]);
    // No IV: the server picks one and returns it.
    let e = send(V21, "Encrypt", &format!("{}{p}{}", uid(&key), data("Data", b"x"))).ok();
    assert_eq!(e.bytes(Tag::IV_COUNTER_NONCE).len(), 12);
}

#[test]
fn streamed_aes_cbc_matches_single_part_and_foreign_correlation_values_are_refused() {
    let key = register_key("AES", AES128, "Encrypt Decrypt", "");
    let iv = data("IVCounterNonce", &hex("000102030405060708090a0b0c0d0e0f"));
    let p = params(&format!(r#"{}<PaddingMethod type="Enumeration" value="PKCS5"/>"#, mode("CBC")));
    let plain: Vec<u8> = (0..100u8).collect();
    let whole = send(V21, "Encrypt", &format!("{}{p}{}{iv}", uid(&key), data("Data", &plain))).ok().bytes(Tag::DATA);
    let first = send(V21, "Encrypt", &format!(
        r#"{}{p}{}{iv}<InitIndicator type="Boolean" value="true"/>"#, uid(&key), data("Data", &plain[..30])
    ))
    .ok();
    let cv = first.bytes(Tag::CORRELATION_VALUE);
    let mut out = first.bytes(Tag::DATA);
    // Another client can't continue it.
    send_as("CN=stranger", V21, "Encrypt", &format!("{}{}", data("Data", &plain[30..]), data("CorrelationValue", &cv)))
        .fails(ResultReason::InvalidCorrelationValue);
    send_as("CN=stranger", V14, "Encrypt", &format!("{}{}", data("Data", &plain[30..]), data("CorrelationValue", &cv)))
        .fails(ResultReason::ItemNotFound);
    let mid = send(V21, "Encrypt", &format!("{}{}", data("Data", &plain[30..70]), data("CorrelationValue", &cv))).ok();
    out.extend(mid.bytes(Tag::DATA));
    let last = send(V21, "Encrypt", &format!(
        r#"{}{}<FinalIndicator type="Boolean" value="true"/>"#, data("Data", &plain[70..]), data("CorrelationValue", &cv)
    ))
    .ok();
    out.extend(last.bytes(Tag::DATA));
    assert_eq!(out, whole);
    // Finished: the value names nothing any more.
    send(V21, "Encrypt", &format!("{}{}", data("Data", b"x"), data("CorrelationValue", &cv)))
        .fails(ResultReason::InvalidCorrelationValue);
    // Streamed decryption gives the plaintext back, padding removed at the end.
    let first = send(V21, "Decrypt", &format!(
        r#"{}{p}{}{iv}<InitIndicator type="Boolean" value="true"/>"#, uid(&key), data("Data", &whole[..50])
    ))
    .ok();
    let cv = first.bytes(Tag::CORRELATION_VALUE);
    let mut back = first.bytes(Tag::DATA);
    let last = send(V21, "Decrypt", &format!(
        r#"{}{}<FinalIndicator type="Boolean" value="true"/>"#, data("Data", &whole[50..]), data("CorrelationValue", &cv)
    ))
    .ok();
    back.extend(last.bytes(Tag::DATA));
    assert_eq!(back, plain);
}

#[test]
fn rsa_encryption_round_trips_and_oaep_sha256_is_refused() {
    let (private, public) = key_pair(
        r#"<CryptographicAlgorithm type="Enumeration" value="RSA"/><CryptographicLength type="Integer" value="2048"/>"#,
    );
    for padding in [
        r#"<PaddingMethod type="Enumeration" value="OAEP"/><HashingAlgorithm type="Enumeration" value="SHA_1"/>"#,
        r#"<PaddingMethod type="Enumeration" value="PKCS1V1_5"/>"#,
    ] {
        let e = send(V21, "Encrypt", &format!("{}{}{}", uid(&public), params(padding), data("Data", b"secret"))).ok();
        let c = e.bytes(Tag::DATA);
        assert_eq!(c.len(), 256);
        let d = send(V21, "Decrypt", &format!("{}{}{}", uid(&private), params(padding), data("Data", &c))).ok();
        assert_eq!(d.bytes(Tag::DATA), b"secret");
    }
    let sha256 = params(r#"<PaddingMethod type="Enumeration" value="OAEP"/><HashingAlgorithm type="Enumeration" value="SHA_256"/>"#);
    send(V21, "Encrypt", &format!("{}{sha256}{}", uid(&public), data("Data", b"x"))).fails(ResultReason::FeatureNotSupported);
    // A public key can't decrypt, a private key can't encrypt.
    let pkcs1 = params(r#"<PaddingMethod type="Enumeration" value="PKCS1V1_5"/>"#);
    send(V21, "Decrypt", &format!("{}{pkcs1}{}", uid(&public), data("Data", &[0; 256]))).fails(ResultReason::InvalidObjectType);
    send(V14, "Encrypt", &format!("{}{pkcs1}{}", uid(&private), data("Data", b"x"))).fails(ResultReason::PermissionDenied);
}

#[test]
fn signatures_round_trip_for_rsa_ecdsa_and_ed25519_over_data_and_digests() {
    use sha2::Digest as _;
    let rsa = key_pair(r#"<CryptographicAlgorithm type="Enumeration" value="RSA"/><CryptographicLength type="Integer" value="2048"/>"#);
    // (key pair, Cryptographic Parameters, the digest to sign instead of the message)
    type Scheme = ((String, String), String, Option<Vec<u8>>);
    let mut schemes: Vec<Scheme> = Vec::new();
    for h in ["SHA_1", "SHA_224", "SHA_256", "SHA_384", "SHA_512"] {
        for pad in ["PKCS1V1_5", "PSS"] {
            let p = format!(r#"<PaddingMethod type="Enumeration" value="{pad}"/><HashingAlgorithm type="Enumeration" value="{h}"/>"#);
            schemes.push((rsa.clone(), params(&p), None));
        }
    }
    let digest = sha2::Sha256::digest(b"message").to_vec();
    let sha256_pss = params(r#"<PaddingMethod type="Enumeration" value="PSS"/><HashingAlgorithm type="Enumeration" value="SHA_256"/>"#);
    schemes.push((rsa.clone(), sha256_pss, Some(digest.clone())));
    for (curve, dsa) in [("P_256", "ECDSAWithSHA256"), ("P_384", "ECDSAWithSHA384"), ("P_521", "ECDSAWithSHA512")] {
        let pair = key_pair(&format!(
            r#"<CryptographicAlgorithm type="Enumeration" value="EC"/><CryptographicDomainParameters>
            <RecommendedCurve type="Enumeration" value="{curve}"/></CryptographicDomainParameters>"#
        ));
        schemes.push((pair, params(&format!(r#"<DigitalSignatureAlgorithm type="Enumeration" value="{dsa}"/>"#)), None));
    }
    let ed = key_pair(r#"<CryptographicAlgorithm type="Enumeration" value="Ed25519"/>"#);
    schemes.push((ed, String::new(), None));
    for ((private, public), p, digested) in schemes {
        let message = match &digested {
            Some(d) => data("DigestedData", d),
            None => data("Data", b"message"),
        };
        let signature = send(V21, "Sign", &format!("{}{p}{message}", uid(&private))).ok().bytes(Tag::SIGNATURE_DATA);
        let verify = |msg: &str, sig: &[u8]| {
            send(V21, "SignatureVerify", &format!("{}{p}{msg}{}", uid(&public), data("SignatureData", sig))).ok().valid()
        };
        assert!(verify(&message, &signature), "{p}");
        assert!(!verify(&data("Data", b"massage"), &signature), "{p}");
    }
    // A public key does not sign.
    send(V21, "Sign", &format!("{}{}", uid(&rsa.1), data("Data", b"m"))).fails(ResultReason::InvalidObjectType);
}

#[test]
fn mac_known_answers_and_streamed_hash() {
    // RFC 2202 test case 1 (HMAC-SHA1, 20-byte key).
    let hmac = register_key("HMAC_SHA1", &"0b".repeat(20), "MACGenerate MACVerify", "");
    let m = send(V21, "MAC", &format!("{}{}", uid(&hmac), data("Data", b"Hi There"))).ok().bytes(Tag::MAC_DATA);
    assert_eq!(m, hex("b617318655057264e28bc0b6fb378c8ef146be00"));
    let v = |mac: &[u8]| {
        send(V12, "MACVerify", &format!("{}{}{}", uid(&hmac), data("Data", b"Hi There"), data("MACData", mac))).ok().valid()
    };
    assert!(v(&m));
    assert!(!v(&[0; 20]));
    // RFC 4493 example 2 (AES-CMAC, 16-byte message).
    let cmac = register_key("AES", AES128, "MACGenerate MACVerify", "");
    let p = params(&mode("CMAC"));
    let m = send(V21, "MAC", &format!("{}{p}{}", uid(&cmac), data("Data", &hex("6bc1bee22e409f96e93d7e117393172a")))).ok();
    assert_eq!(m.bytes(Tag::MAC_DATA), hex("070a16b46b4d4144f79bdd9dd04a287c"));
    // FIPS 180 "abc", in two parts.
    let h = params(r#"<HashingAlgorithm type="Enumeration" value="SHA_256"/>"#);
    let first = send(V21, "Hash", &format!(r#"{h}{}<InitIndicator type="Boolean" value="true"/>"#, data("Data", b"a"))).ok();
    let cv = first.bytes(Tag::CORRELATION_VALUE);
    let last = send(V21, "Hash", &format!(
        r#"{h}{}{}<FinalIndicator type="Boolean" value="true"/>"#, data("Data", b"bc"), data("CorrelationValue", &cv)
    ))
    .ok();
    assert_eq!(last.bytes(Tag::DATA), hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

#[test]
fn rng_retrieve_and_seed() {
    let r = send(V21, "RNGRetrieve", r#"<DataLength type="Integer" value="32"/>"#).ok();
    assert_eq!(r.bytes(Tag::DATA).len(), 32);
    send(V21, "RNGRetrieve", r#"<DataLength type="Integer" value="0"/>"#).fails(ResultReason::InvalidField);
    let s = send(V14, "RNGSeed", &data("Data", &[7; 16])).ok();
    assert!(matches!(s.0.child(Tag::RESPONSE_PAYLOAD).and_then(|p| p.child(Tag::DATA_LENGTH)).map(|i| &i.value), Some(Value::Integer(16))));
}

#[test]
fn usage_policy_answers_per_version() {
    let ecb = params(&mode("ECB"));
    let block = data("Data", &[1; 16]);
    // No Encrypt bit.
    let k = register_key("AES", AES128, "Decrypt", "");
    send(V21, "Encrypt", &format!("{}{ecb}{block}", uid(&k))).fails(ResultReason::IncompatibleCryptographicUsageMask);
    send(V14, "Encrypt", &format!("{}{ecb}{block}", uid(&k))).fails(ResultReason::PermissionDenied);
    // Pre-Active: neither protect nor process.
    let payload = r#"<ObjectType type="Enumeration" value="SymmetricKey"/><Attributes><CryptographicAlgorithm type="Enumeration" value="AES"/>
        <CryptographicLength type="Integer" value="128"/><CryptographicUsageMask type="Integer" value="Encrypt Decrypt"/></Attributes>"#;
    let pre = send(V21, "Create", payload).ok().text(Tag::UNIQUE_IDENTIFIER);
    send(V21, "Encrypt", &format!("{}{ecb}{block}", uid(&pre))).fails(ResultReason::WrongKeyLifecycleState);
    send(V21, "Decrypt", &format!("{}{ecb}{block}", uid(&pre))).fails(ResultReason::WrongKeyLifecycleState);
    // Deactivated (revoked): may still decrypt, not encrypt.
    let k = register_key("AES", AES128, "Encrypt Decrypt", "");
    let revoke = format!(r#"{}<RevocationReason><RevocationReasonCode type="Enumeration" value="CessationOfOperation"/></RevocationReason>"#, uid(&k));
    send(V21, "Revoke", &revoke).ok();
    send(V21, "Encrypt", &format!("{}{ecb}{block}", uid(&k))).fails(ResultReason::WrongKeyLifecycleState);
    send(V21, "Decrypt", &format!("{}{ecb}{block}", uid(&k))).ok();
    // Destroyed.
    send(V21, "Destroy", &uid(&k)).ok();
    send(V21, "Decrypt", &format!("{}{ecb}{block}", uid(&k))).fails(ResultReason::ObjectDestroyed);
    // Another client's key.
    let k = register_key("AES", AES128, "Encrypt Decrypt", "");
    send_as("CN=stranger", V21, "Encrypt", &format!("{}{ecb}{block}", uid(&k))).fails(ResultReason::PermissionDenied);
    // Bad IVs, a missing IV, a bad tag length.
    let cbc = params(&mode("CBC"));
    send(V21, "Encrypt", &format!("{}{cbc}{block}{}", uid(&k), data("IVCounterNonce", &[0; 8]))).fails(ResultReason::InvalidField);
    send(V21, "Decrypt", &format!("{}{cbc}{block}", uid(&k))).fails(ResultReason::InvalidMessage);
    let gcm = params(&format!(r#"{}<TagLength type="Integer" value="20"/>"#, mode("GCM")));
    send(V21, "Encrypt", &format!("{}{gcm}{block}{}", uid(&k), data("IVCounterNonce", &[0; 12]))).fails(ResultReason::GeneralFailure);
    // A mode the HSM lacks.
    send(V21, "Encrypt", &format!("{}{}{block}", uid(&k), params(&mode("XTS")))).fails(ResultReason::FeatureNotSupported);
    // An HMAC key does not encrypt.
    let hmac = register_key("HMAC_SHA256", &"0b".repeat(32), "Encrypt MACGenerate", "");
    send(V21, "Encrypt", &format!("{}{ecb}{block}", uid(&hmac))).fails(ResultReason::FeatureNotSupported);
    // Usage Limits: 16 bytes, then no more.
    let limits = r#"<UsageLimits><UsageLimitsTotal type="LongInteger" value="16"/><UsageLimitsUnit type="Enumeration" value="Byte"/></UsageLimits>"#;
    let k = register_key("AES", AES128, "Encrypt Decrypt", limits);
    send(V21, "Encrypt", &format!("{}{ecb}{block}", uid(&k))).ok();
    send(V21, "Encrypt", &format!("{}{ecb}{block}", uid(&k))).fails(ResultReason::PermissionDenied);
}

/// The first item tagged `tag` anywhere below `item`, depth first.
fn find(item: &Ttlv, tag: Tag) -> Option<&Ttlv> {
    if item.tag == tag {
        return Some(item);
    }
    item.children().iter().find_map(|c| find(c, tag))
}

fn integer(item: &Ttlv, tag: Tag) -> i32 {
    match find(item, tag).map(|i| &i.value) {
        Some(Value::Integer(v)) => *v,
        other => panic!("no {tag}: {other:?} in {item:#?}"),
    }
}

/// Triple DES keys: generated (three- and two-key, KMIP lengths 168 and 112) and registered,
/// with the effective length recorded and the material coming back as registered.
#[test]
fn triple_des_keys_are_generated_and_registered() {
    for (bits, version) in [(168, V21), (112, V21), (168, V14)] {
        let payload = if version == V21 {
            format!(
                r#"<ObjectType type="Enumeration" value="SymmetricKey"/><Attributes><CryptographicAlgorithm type="Enumeration" value="DES3"/>
                <CryptographicLength type="Integer" value="{bits}"/><CryptographicUsageMask type="Integer" value="Encrypt Decrypt"/></Attributes>"#
            )
        } else {
            format!(
                r#"<ObjectType type="Enumeration" value="SymmetricKey"/><TemplateAttribute>
                <Attribute><AttributeName type="TextString" value="Cryptographic Algorithm"/><AttributeValue type="Enumeration" value="DES3"/></Attribute>
                <Attribute><AttributeName type="TextString" value="Cryptographic Length"/><AttributeValue type="Integer" value="{bits}"/></Attribute>
                </TemplateAttribute>"#
            )
        };
        let key = send(version, "Create", &payload).ok().text(Tag::UNIQUE_IDENTIFIER);
        let attrs = send(V21, "GetAttributes", &uid(&key)).ok();
        assert_eq!(integer(&attrs.0, Tag::CRYPTOGRAPHIC_LENGTH), bits);
    }
    let bad = r#"<ObjectType type="Enumeration" value="SymmetricKey"/><Attributes><CryptographicAlgorithm type="Enumeration" value="DES3"/>
        <CryptographicLength type="Integer" value="128"/></Attributes>"#;
    send(V21, "Create", bad).fails(ResultReason::InvalidField);
    let material = "0123456789abcdeffedcba987654321089abcdef01234567";
    let extractable = r#"<Sensitive type="Boolean" value="false"/><Extractable type="Boolean" value="true"/>"#;
    let key = register_key("DES3", material, "Encrypt Decrypt", extractable);
    let got = send(V21, "Get", &uid(&key)).ok();
    assert_eq!(integer(&got.0, Tag::CRYPTOGRAPHIC_LENGTH), 168);
    match find(&got.0, Tag::KEY_MATERIAL).map(|i| &i.value) {
        Some(Value::ByteString(b)) => assert_eq!(b, &hex(material)),
        other => panic!("no key material: {other:?}"),
    }
}

/// PSS with the client's Salt Length (CS-AC-M-1 signs with 222, the most a 2048-bit modulus and
/// SHA-256 allow); a verification without one accepts the hash length and the longest salt.
#[test]
fn pss_salt_length_is_honoured() {
    use sha2::Digest as _;
    let (private, public) =
        key_pair(r#"<CryptographicAlgorithm type="Enumeration" value="RSA"/><CryptographicLength type="Integer" value="2048"/>"#);
    let pss = |salt: Option<i32>| {
        let salt = salt.map(|s| format!(r#"<SaltLength type="Integer" value="{s}"/>"#)).unwrap_or_default();
        params(&format!(
            r#"<PaddingMethod type="Enumeration" value="PSS"/><HashingAlgorithm type="Enumeration" value="SHA_256"/>{salt}"#
        ))
    };
    let digest = sha2::Sha256::digest(b"message").to_vec();
    for message in [data("Data", b"message"), data("DigestedData", &digest)] {
        let verify = |p: &str, sig: &[u8]| {
            send(V21, "SignatureVerify", &format!("{}{p}{message}{}", uid(&public), data("SignatureData", sig))).ok().valid()
        };
        for salt in [222, 10] {
            let signature =
                send(V21, "Sign", &format!("{}{}{message}", uid(&private), pss(Some(salt)))).ok().bytes(Tag::SIGNATURE_DATA);
            assert!(verify(&pss(Some(salt)), &signature), "salt {salt}");
            assert!(!verify(&pss(Some(32)), &signature), "salt {salt} checked as 32");
            // Without a Salt Length: the longest salt is accepted, others are not guessed.
            assert_eq!(verify(&pss(None), &signature), salt == 222, "salt {salt} not given");
        }
    }
    send(V21, "Sign", &format!("{}{}{}", uid(&private), pss(Some(-1)), data("Data", b"m"))).fails(ResultReason::InvalidField);
    let too_long = send(V21, "Sign", &format!("{}{}{}", uid(&private), pss(Some(223)), data("Data", b"m")));
    assert_eq!(too_long.status(), ResultStatus::OperationFailed);
}

/// Every item tagged `tag` below `item`, depth first.
fn find_all(item: &Ttlv, tag: Tag) -> Vec<&Ttlv> {
    let mut out = Vec::new();
    if item.tag == tag {
        out.push(item);
    }
    for c in item.children() {
        out.extend(find_all(c, tag));
    }
    out
}

/// The 2.1 attributes of an object.
fn attributes_of(key: &str) -> Ttlv {
    send(V21, "GetAttributes", &uid(key)).ok().0
}

/// (Link Type, linked UID) of every Link.
fn links(attributes: &Ttlv) -> Vec<(u32, String)> {
    find_all(attributes, Tag::LINK)
        .into_iter()
        .map(|l| match (l.child(Tag::LINK_TYPE).map(|t| &t.value), l.child(Tag::LINKED_OBJECT_IDENTIFIER).map(|u| &u.value)) {
            (Some(Value::Enumeration(t)), Some(Value::TextString(u))) => (*t, u.clone()),
            other => panic!("odd link {other:?}"),
        })
        .collect()
}

fn names(attributes: &Ttlv) -> Vec<String> {
    find_all(attributes, Tag::NAME_VALUE)
        .into_iter()
        .map(|n| match &n.value {
            Value::TextString(t) => t.clone(),
            other => panic!("odd name {other:?}"),
        })
        .collect()
}

fn date(attributes: &Ttlv, tag: Tag) -> i64 {
    match find(attributes, tag).map(|d| &d.value) {
        Some(Value::DateTime(t)) => *t,
        other => panic!("no {tag}: {other:?}"),
    }
}

fn state(attributes: &Ttlv) -> u32 {
    match find(attributes, Tag::STATE).map(|d| &d.value) {
        Some(Value::Enumeration(s)) => *s,
        other => panic!("no state: {other:?}"),
    }
}

const REPLACEMENT_LINK: u32 = 0x106;
const REPLACED_LINK: u32 = 0x107;
const ACTIVE: u32 = 2;
const PRE_ACTIVE: u32 = 1;

/// Re-key: the replacement is a new HSM key with the existing key's attributes, names moved
/// over (plus the requested one), links both ways, dates copied or moved by the Offset.
#[test]
fn rekey_replaces_a_symmetric_key_with_links_names_and_offset_dates() {
    let name = format!("rekey-original-{}", std::process::id());
    let payload = format!(
        r#"<ObjectType type="Enumeration" value="SymmetricKey"/><Attributes><CryptographicAlgorithm type="Enumeration" value="AES"/>
        <CryptographicLength type="Integer" value="256"/><CryptographicUsageMask type="Integer" value="Encrypt Decrypt"/>
        <ActivationDate type="DateTime" value="$NOW-3600"/><DeactivationDate type="DateTime" value="$NOW+86400"/>
        <Name><NameValue type="TextString" value="{name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name>
        <UsageLimits><UsageLimitsTotal type="LongInteger" value="64"/><UsageLimitsUnit type="Enumeration" value="Byte"/></UsageLimits>
        </Attributes>"#
    );
    let original = send(V21, "Create", &payload).ok().text(Tag::UNIQUE_IDENTIFIER);
    let ecb = params(&mode("ECB"));
    let block = data("Data", &[7; 16]);
    let before = send(V21, "Encrypt", &format!("{}{ecb}{block}", uid(&original))).ok().bytes(Tag::DATA);
    // 1.4 form, with a name added to the copied one.
    let extra = format!("{name}-next");
    let template = format!(
        r#"<TemplateAttribute><Attribute><AttributeName type="TextString" value="Name"/><AttributeValue>
        <NameValue type="TextString" value="{extra}"/><NameType type="Enumeration" value="UninterpretedTextString"/>
        </AttributeValue></Attribute></TemplateAttribute>"#
    );
    let first = send(V14, "ReKey", &format!("{}{template}", uid(&original))).ok().text(Tag::UNIQUE_IDENTIFIER);
    assert_ne!(first, original);
    let (old, new) = (attributes_of(&original), attributes_of(&first));
    assert_eq!(names(&old), Vec::<String>::new());
    assert_eq!(names(&new), vec![name.clone(), extra]);
    assert_eq!(links(&old), vec![(REPLACEMENT_LINK, first.clone())]);
    assert_eq!(links(&new), vec![(REPLACED_LINK, original.clone())]);
    assert_eq!(state(&new), ACTIVE);
    for tag in [Tag::ACTIVATION_DATE, Tag::DEACTIVATION_DATE] {
        assert_eq!(date(&new, tag), date(&old, tag), "{tag}");
    }
    assert!(date(&new, Tag::INITIAL_DATE) >= date(&old, Tag::INITIAL_DATE));
    // New material.
    let after = send(V21, "Encrypt", &format!("{}{ecb}{block}", uid(&first))).ok().bytes(Tag::DATA);
    assert_ne!(after, before);
    // With an Offset of a day (2.1, the ID Placeholder of the batch): Pre-Active, dates moved.
    let second = send(V21, "ReKey", &format!(r#"{}<Offset type="Interval" value="86400"/>"#, uid(&first)))
        .ok()
        .text(Tag::UNIQUE_IDENTIFIER);
    let (old, new) = (attributes_of(&first), attributes_of(&second));
    assert_eq!(state(&new), PRE_ACTIVE);
    let moved = date(&new, Tag::ACTIVATION_DATE) - date(&old, Tag::ACTIVATION_DATE);
    assert!((86400 + 3600 - 5..=86400 + 3600 + 5).contains(&moved), "moved by {moved}");
    assert_eq!(date(&new, Tag::DEACTIVATION_DATE) - date(&old, Tag::DEACTIVATION_DATE), moved);
    // Not a symmetric key; someone else's key; a destroyed key.
    let (_, public) =
        key_pair(r#"<CryptographicAlgorithm type="Enumeration" value="EC"/><CryptographicLength type="Integer" value="256"/>"#);
    send(V21, "ReKey", &uid(&public)).fails(ResultReason::InvalidObjectType);
    send_as("CN=stranger", V21, "ReKey", &uid(&second)).fails(ResultReason::PermissionDenied);
    let revoke = format!(r#"{}<RevocationReason><RevocationReasonCode type="Enumeration" value="CessationOfOperation"/></RevocationReason>"#, uid(&original));
    send(V21, "Revoke", &revoke).ok();
    send(V21, "Destroy", &uid(&original)).ok();
    send(V21, "ReKey", &uid(&original)).fails(ResultReason::ObjectDestroyed);
}

/// Re-key Key Pair: both halves replaced, linked to each other and to what they replace.
#[test]
fn rekey_key_pair_replaces_both_halves() {
    let (private, public) =
        key_pair(r#"<CryptographicAlgorithm type="Enumeration" value="RSA"/><CryptographicLength type="Integer" value="2048"/>"#);
    let a = send(V21, "ReKeyKeyPair", &format!(r#"<PrivateKeyUniqueIdentifier type="TextString" value="{private}"/>"#)).ok();
    let (new_private, new_public) = (a.text(Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER), a.text(Tag::PUBLIC_KEY_UNIQUE_IDENTIFIER));
    let mut l = links(&attributes_of(&new_private));
    l.sort();
    assert_eq!(l, vec![(0x102, new_public.clone()), (REPLACED_LINK, private.clone())]);
    let mut l = links(&attributes_of(&new_public));
    l.sort();
    assert_eq!(l, vec![(0x103, new_private.clone()), (REPLACED_LINK, public.clone())]);
    assert!(links(&attributes_of(&private)).contains(&(REPLACEMENT_LINK, new_private.clone())));
    assert!(links(&attributes_of(&public)).contains(&(REPLACEMENT_LINK, new_public.clone())));
    let p = params(r#"<PaddingMethod type="Enumeration" value="PSS"/><HashingAlgorithm type="Enumeration" value="SHA_256"/>"#);
    let message = data("Data", b"rekeyed");
    let signature = send(V21, "Sign", &format!("{}{p}{message}", uid(&new_private))).ok().bytes(Tag::SIGNATURE_DATA);
    let check = |key: &str| {
        send(V21, "SignatureVerify", &format!("{}{p}{message}{}", uid(key), data("SignatureData", &signature))).ok().valid()
    };
    assert!(check(&new_public));
    assert!(!check(&public));
    // A symmetric key is no key pair.
    let aes = register_key("AES", AES128, "Encrypt", "");
    send(V21, "ReKeyKeyPair", &format!(r#"<PrivateKeyUniqueIdentifier type="TextString" value="{aes}"/>"#))
        .fails(ResultReason::InvalidObjectType);
}

/// Derive Key by AES-CBC encryption inside the HSM: the derived value is the encryption of the
/// Derivation Data under the base key; the methods SoftHSM lacks are refused.
#[test]
fn derive_key_by_aes_cbc_encryption_and_refusals() {
    let base = register_key("AES", AES128, "Encrypt DeriveKey", "");
    let iv = hex("000102030405060708090a0b0c0d0e0f");
    let input = hex(SP800_38A_PLAIN);
    let derive = |object_type: &str, method: &str, mode_name: &str, attributes: &str, base: &str| {
        let parameters = format!(
            r#"<DerivationParameters>{}{}{}</DerivationParameters>"#,
            params(&mode(mode_name)),
            data("InitializationVector", &iv),
            data("DerivationData", &input)
        );
        send(V21, "DeriveKey", &format!(
            r#"<ObjectType type="Enumeration" value="{object_type}"/>{}<DerivationMethod type="Enumeration" value="{method}"/>
            {parameters}<Attributes>{attributes}</Attributes>"#,
            uid(base)
        ))
    };
    let aes256 = r#"<CryptographicAlgorithm type="Enumeration" value="AES"/><CryptographicLength type="Integer" value="256"/>
        <Sensitive type="Boolean" value="false"/><Extractable type="Boolean" value="true"/>"#;
    let derived = derive("SymmetricKey", "ENCRYPT", "CBC", aes256, &base).ok().text(Tag::UNIQUE_IDENTIFIER);
    // SP 800-38A F.2.1: the CBC encryption of the first two plaintext blocks.
    let got = send(V21, "Get", &uid(&derived)).ok();
    match find(&got.0, Tag::KEY_MATERIAL).map(|i| &i.value) {
        Some(Value::ByteString(b)) => assert_eq!(b, &hex("7649abac8119b246cee98e9b12e9197d5086cb9b507219ee95db113a917678b2")),
        other => panic!("no key material: {other:?}"),
    }
    assert_eq!(links(&attributes_of(&derived)), vec![(0x104, base.clone())]);
    assert_eq!(links(&attributes_of(&base)), vec![(0x105, derived.clone())]);
    // Secret Data, shorter than the data.
    let secret = r#"<CryptographicLength type="Integer" value="128"/>"#;
    derive("SecretData", "ENCRYPT", "CBC", secret, &base).ok();
    // Longer than the derivation output.
    let long = r#"<CryptographicLength type="Integer" value="512"/>"#;
    assert_eq!(derive("SecretData", "ENCRYPT", "CBC", long, &base).status(), ResultStatus::OperationFailed);
    // Methods and modes the HSM lacks.
    for (method, m) in [("PBKDF2", "CBC"), ("HMAC", "CBC"), ("HASH", "CBC"), ("ENCRYPT", "ECB"), ("ENCRYPT", "GCM")] {
        derive("SymmetricKey", method, m, aes256, &base).fails(ResultReason::FeatureNotSupported);
    }
    // A key without the Derive Key bit.
    let plain = register_key("AES", AES128, "Encrypt", "");
    derive("SymmetricKey", "ENCRYPT", "CBC", aes256, &plain).fails(ResultReason::IncompatibleCryptographicUsageMask);
}
