//! Every `Hsm` method against SoftHSM2, with known-answer vectors where they exist.

mod hsm_support;

use std::sync::OnceLock;

use hsm_support::{h, hsm, id, open, softhsm_profile, token};
use kmipd::hsm::{
    AttributeUpdate, Cipher, Curve, Direction, ErrorClass, HashAlg, Hsm, KeyPairSpec, KeyType, KeyUsage, MacAlgorithm,
    NewObject, ObjectKind, PrivateKeyMaterial, PublicKeyMaterial, SecretKeyAlgorithm, SecretKeySpec,
    SignatureAlgorithm, UnwrapTarget, WrapMechanism,
};
use zeroize::Zeroizing;

fn aes(bits: u32) -> SecretKeySpec {
    SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits }
}

fn import_aes(key: &[u8]) -> Vec<u8> {
    let object = NewObject::token(id("aes-import"), "imported", KeyUsage::ALL);
    hsm().import_secret_key(SecretKeyAlgorithm::Aes, key, &object).unwrap();
    object.id
}

/// One RSA-2048 pair for the whole binary (RSA keygen is slow on SoftHSM).
fn rsa() -> &'static (Vec<u8>, Vec<u8>) {
    static PAIR: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    PAIR.get_or_init(|| {
        let private = NewObject::token(id("rsa"), "rsa private", KeyUsage::ALL);
        let public = NewObject::token(id("rsa-pub"), "rsa public", KeyUsage::ALL);
        hsm().generate_key_pair(KeyPairSpec::Rsa { bits: 2048 }, &private, &public).unwrap();
        (private.id, public.id)
    })
}

fn ec_pair(curve: Curve) -> (Vec<u8>, Vec<u8>, PublicKeyMaterial) {
    let private = NewObject::token(id("ec"), "ec private", KeyUsage::ALL);
    let public = NewObject::token(id("ec-pub"), "ec public", KeyUsage::ALL);
    let material = hsm().generate_key_pair(KeyPairSpec::Ec(curve), &private, &public).unwrap();
    (private.id, public.id, material)
}

#[test]
fn the_trait_is_object_safe_and_debug_output_hides_the_pin() {
    let dynamic: &dyn Hsm = hsm();
    assert_eq!(dynamic.random(4).unwrap().len(), 4);
    let shown = format!("{:?}", hsm());
    assert!(!shown.contains(hsm_support::USER_PIN), "{shown}");
    let source = kmipd::hsm::PinSource::Value(secrecy::SecretString::from(hsm_support::USER_PIN));
    assert!(!format!("{source:?}").contains(hsm_support::USER_PIN));
}

#[test]
fn generated_secret_keys_are_sensitive_and_not_extractable() {
    for bits in [128, 192, 256] {
        let object = NewObject::token(id("aes"), "aes", KeyUsage::ALL);
        hsm().generate_secret_key(aes(bits), &object).unwrap();
        let info = hsm().object_info(&object.id).unwrap();
        assert_eq!(info.kind, ObjectKind::SecretKey);
        assert_eq!(info.key_type, KeyType::Aes);
        assert_eq!(info.bits, Some(bits));
        assert!(info.token);
        assert_eq!(info.sensitive, Some(true));
        assert_eq!(info.extractable, Some(false));
        assert_eq!(info.always_sensitive, Some(true));
        assert_eq!(info.never_extractable, Some(true));
        assert_eq!(info.local, Some(true));
        assert_eq!(info.usage, KeyUsage::ALL);
        let err = hsm().export_secret_key(&object.id).unwrap_err();
        assert_eq!(err.class(), ErrorClass::Sensitive, "{err}");
    }
    let err = hsm().generate_secret_key(aes(100), &NewObject::token(id("aes"), "bad", KeyUsage::ALL)).unwrap_err();
    assert_eq!(err.class(), ErrorClass::InvalidInput);
}

#[test]
fn asked_for_it_a_key_is_exportable() {
    let object =
        NewObject { sensitive: false, extractable: true, ..NewObject::token(id("open"), "open", KeyUsage::ALL) };
    hsm().import_secret_key(SecretKeyAlgorithm::Aes, &[7; 16], &object).unwrap();
    let info = hsm().object_info(&object.id).unwrap();
    assert_eq!((info.sensitive, info.extractable), (Some(false), Some(true)));
    assert_eq!(hsm().export_secret_key(&object.id).unwrap().as_slice(), &[7; 16]);
}

#[test]
fn generated_private_keys_are_sensitive_and_not_extractable() {
    let (private, public, material) = ec_pair(Curve::P256);
    let info = hsm().object_info(&private).unwrap();
    assert_eq!((info.kind, info.key_type, info.bits), (ObjectKind::PrivateKey, KeyType::Ec, Some(256)));
    assert_eq!((info.sensitive, info.extractable), (Some(true), Some(false)));
    let public_info = hsm().object_info(&public).unwrap();
    assert_eq!(public_info.kind, ObjectKind::PublicKey);
    match material {
        PublicKeyMaterial::Ec { curve: Curve::P256, ref point } => assert_eq!((point.len(), point[0]), (65, 4)),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(hsm().public_key(&public).unwrap(), material);
}

#[test]
fn aes_gcm_nist_known_answer() {
    // GCM specification (McGrew & Viega), test case 4 (AES-128, 60-byte plaintext, 20-byte AAD).
    let key = import_aes(&h("feffe9928665731c6d6a8f9467308308"));
    let iv = h("cafebabefacedbaddecaf888");
    let aad = h("feedfacedeadbeeffeedfacedeadbeefabaddad2");
    let plaintext = h("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
                       1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39");
    let expected = h("42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
                      21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091
                      5bc94fbc3221a5db94fae95ae7121a47");
    let cipher = Cipher::AesGcm { iv: Some(iv), aad, tag_len: 16 };
    let encrypted = hsm().encrypt(&key, &cipher, &plaintext).unwrap();
    assert_eq!(encrypted.ciphertext, expected);
    assert_eq!(encrypted.generated_iv, None);
    assert_eq!(hsm().decrypt(&key, &cipher, &expected).unwrap().as_slice(), plaintext.as_slice());
    let mut tampered = expected.clone();
    tampered[0] ^= 1;
    let err = hsm().decrypt(&key, &cipher, &tampered).unwrap_err();
    assert_eq!(err.class(), ErrorClass::InvalidInput, "{err}");
}

#[test]
fn aes_gcm_without_iv_gets_a_fresh_one() {
    let key = import_aes(&[1; 32]);
    let cipher = Cipher::AesGcm { iv: None, aad: Vec::new(), tag_len: 12 };
    let a = hsm().encrypt(&key, &cipher, b"hello").unwrap();
    let b = hsm().encrypt(&key, &cipher, b"hello").unwrap();
    let iv = a.generated_iv.clone().unwrap();
    assert_eq!(iv.len(), 12);
    assert_ne!(a.generated_iv, b.generated_iv);
    assert_eq!(a.ciphertext.len(), 5 + 12);
    let decrypt = Cipher::AesGcm { iv: Some(iv), aad: Vec::new(), tag_len: 12 };
    assert_eq!(hsm().decrypt(&key, &decrypt, &a.ciphertext).unwrap().as_slice(), b"hello");
}

#[test]
fn aes_cbc_ecb_ctr_sp800_38a_known_answers() {
    let plaintext = h("6bc1bee22e409f96e93d7e117393172a");
    // F.2.5 CBC-AES256.Encrypt, first block.
    let key256 = import_aes(&h("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"));
    let iv: [u8; 16] = h("000102030405060708090a0b0c0d0e0f").try_into().unwrap();
    let cbc = Cipher::AesCbc { iv: Some(iv), padding: false };
    let ct = hsm().encrypt(&key256, &cbc, &plaintext).unwrap().ciphertext;
    assert_eq!(ct, h("f58c4c04d6e5f1ba779eabfb5f7bfbd6"));
    assert_eq!(hsm().decrypt(&key256, &cbc, &ct).unwrap().as_slice(), plaintext.as_slice());
    // F.1.1 ECB-AES128.Encrypt and F.5.1 CTR-AES128.Encrypt, first block.
    let key128 = import_aes(&h("2b7e151628aed2a6abf7158809cf4f3c"));
    let ct = hsm().encrypt(&key128, &Cipher::AesEcb, &plaintext).unwrap().ciphertext;
    assert_eq!(ct, h("3ad77bb40d7a3660a89ecaf32466ef97"));
    let ctr = Cipher::AesCtr {
        counter_block: Some(h("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff").try_into().unwrap()),
        counter_bits: 128,
    };
    let ct = hsm().encrypt(&key128, &ctr, &plaintext).unwrap().ciphertext;
    assert_eq!(ct, h("874d6191b620e3261bef6864990db6ce"));
    assert_eq!(hsm().decrypt(&key128, &ctr, &ct).unwrap().as_slice(), plaintext.as_slice());
    // Padding: any length; without padding, whole blocks only.
    let padded = Cipher::AesCbc { iv: None, padding: true };
    let out = hsm().encrypt(&key128, &padded, b"seventeen bytes!!").unwrap();
    assert_eq!(out.ciphertext.len(), 32);
    let padded = Cipher::AesCbc { iv: out.generated_iv.unwrap().try_into().ok(), padding: true };
    assert_eq!(hsm().decrypt(&key128, &padded, &out.ciphertext).unwrap().as_slice(), b"seventeen bytes!!");
    let err = hsm().encrypt(&key128, &cbc, b"not a block").unwrap_err();
    assert_eq!(err.class(), ErrorClass::InvalidInput, "{err}");
}

#[test]
fn multi_part_streams_match_single_part() {
    let key = import_aes(&[9; 32]);
    let data: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    let iv = [3u8; 16];
    let cipher = Cipher::AesCbc { iv: Some(iv), padding: true };
    let one_shot = hsm().encrypt(&key, &cipher, &data).unwrap().ciphertext;
    let mut stream = hsm().begin_cipher(&key, &cipher, Direction::Encrypt).unwrap();
    let mut streamed = Vec::new();
    for part in data.chunks(333) {
        streamed.extend_from_slice(&stream.update(part).unwrap());
    }
    streamed.extend_from_slice(&stream.finish().unwrap());
    assert_eq!(streamed, one_shot);
    let mut stream = hsm().begin_cipher(&key, &cipher, Direction::Decrypt).unwrap();
    let mut plain = Zeroizing::new(Vec::new());
    for part in one_shot.chunks(100) {
        plain.extend_from_slice(&stream.update(part).unwrap());
    }
    plain.extend_from_slice(&stream.finish().unwrap());
    assert_eq!(plain.as_slice(), data.as_slice());
    // An abandoned stream must not poison the pool: its session is closed, not reused.
    let mut abandoned = hsm().begin_cipher(&key, &cipher, Direction::Encrypt).unwrap();
    abandoned.update(&data[..10]).unwrap();
    drop(abandoned);
    for _ in 0..20 {
        assert_eq!(hsm().encrypt(&key, &cipher, &data).unwrap().ciphertext, one_shot);
    }
    let err = hsm().begin_cipher(&key, &Cipher::AesCbc { iv: None, padding: true }, Direction::Encrypt).err().unwrap();
    assert_eq!(err.class(), ErrorClass::InvalidInput);
}

#[test]
fn rsa_encryption_and_signatures() {
    let (private, public) = rsa();
    let info = hsm().object_info(private).unwrap();
    assert_eq!((info.key_type, info.bits, info.sensitive), (KeyType::Rsa, Some(2048), Some(true)));
    match hsm().public_key(public).unwrap() {
        PublicKeyMaterial::Rsa { modulus, public_exponent } => {
            assert_eq!((modulus.len(), public_exponent), (256, vec![1, 0, 1]))
        }
        other => panic!("{other:?}"),
    }
    for cipher in [Cipher::RsaOaep(HashAlg::Sha1), Cipher::RsaPkcs1v15] {
        let ct = hsm().encrypt(public, &cipher, b"key material").unwrap().ciphertext;
        assert_eq!(ct.len(), 256);
        assert_eq!(hsm().decrypt(private, &cipher, &ct).unwrap().as_slice(), b"key material");
    }
    // The profile says SoftHSM's OAEP is SHA-1 only: refused before reaching the HSM.
    let err = hsm().encrypt(public, &Cipher::RsaOaep(HashAlg::Sha256), b"x").unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotSupported);
    assert!(err.to_string().contains("rsa-oaep-sha256"), "{err}");
    for hash in HashAlg::ALL {
        for algorithm in [SignatureAlgorithm::RsaPkcs1v15(hash), SignatureAlgorithm::RsaPss(hash, None)] {
            let sig = hsm().sign(private, algorithm, b"message").unwrap();
            assert_eq!(sig.len(), 256);
            assert!(hsm().verify(public, algorithm, b"message", &sig).unwrap(), "{algorithm:?}");
            assert!(!hsm().verify(public, algorithm, b"messagE", &sig).unwrap(), "{algorithm:?}");
        }
    }
}

#[test]
fn rsa_pkcs1_fallback_equals_in_hsm_hashing() {
    // PKCS#1 v1.5 is deterministic: DigestInfo + CKM_RSA_PKCS must equal CKM_SHA256_RSA_PKCS.
    let (private, _) = rsa();
    let mut profile = softhsm_profile();
    profile.mechanisms.capabilities.retain(|c| c != "rsa-pkcs1-sha256");
    let fallback = open(profile);
    let algorithm = SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha256);
    assert_eq!(fallback.sign(private, algorithm, b"abc").unwrap(), hsm().sign(private, algorithm, b"abc").unwrap());
}

#[test]
fn ecdsa_on_every_curve_and_ed25519() {
    for (curve, bits) in [(Curve::P256, 256), (Curve::P384, 384), (Curve::P521, 521)] {
        let (private, public, _) = ec_pair(curve);
        assert_eq!(hsm().object_info(&private).unwrap().bits, Some(bits));
        for hash in [HashAlg::Sha256, HashAlg::Sha384, HashAlg::Sha512] {
            let algorithm = SignatureAlgorithm::Ecdsa(hash);
            let sig = hsm().sign(&private, algorithm, b"message").unwrap();
            assert!(hsm().verify(&public, algorithm, b"message", &sig).unwrap());
            assert!(!hsm().verify(&public, algorithm, b"other", &sig).unwrap());
        }
    }
    let (private, public, material) = ec_pair(Curve::Ed25519);
    assert!(matches!(material, PublicKeyMaterial::Ec { curve: Curve::Ed25519, ref point } if point.len() == 32));
    assert_eq!(hsm().object_info(&private).unwrap().key_type, KeyType::EcEdwards);
    let sig = hsm().sign(&private, SignatureAlgorithm::Ed25519, b"message").unwrap();
    assert_eq!(sig.len(), 64);
    assert!(hsm().verify(&public, SignatureAlgorithm::Ed25519, b"message", &sig).unwrap());
}

#[test]
fn ed25519_rfc8032_known_answers() {
    // RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte).
    let cases = [
        (
            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
            "",
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        ),
        (
            "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
            "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
            "72",
            "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
        ),
    ];
    for (secret, public, message, signature) in cases {
        let public_object = NewObject::token(id("ed-pub"), "rfc8032", KeyUsage::ALL);
        let material = PublicKeyMaterial::Ec { curve: Curve::Ed25519, point: h(public) };
        hsm().import_public_key(&material, &public_object).unwrap();
        assert_eq!(hsm().public_key(&public_object.id).unwrap(), material);
        let (message, signature) = (h(message), h(signature));
        assert!(hsm().verify(&public_object.id, SignatureAlgorithm::Ed25519, &message, &signature).unwrap());
        let mut bad = signature.clone();
        bad[10] ^= 0x40;
        assert!(!hsm().verify(&public_object.id, SignatureAlgorithm::Ed25519, &message, &bad).unwrap());
        // Ed25519 is deterministic: the imported private key signs to the RFC's bytes.
        let private_object = NewObject::token(id("ed"), "rfc8032", KeyUsage::ALL);
        let private = PrivateKeyMaterial::Ec { curve: Curve::Ed25519, value: Zeroizing::new(h(secret)) };
        hsm().import_private_key(&private, &private_object).unwrap();
        assert_eq!(hsm().sign(&private_object.id, SignatureAlgorithm::Ed25519, &message).unwrap(), signature);
    }
}

#[test]
fn hmac_rfc4231_and_cmac_rfc4493_known_answers() {
    // RFC 4231 test case 6 (a 131-byte key: SoftHSM refuses HMAC keys shorter than the hash output).
    let key = NewObject::token(id("hmac"), "rfc4231", KeyUsage::ALL);
    hsm().import_secret_key(SecretKeyAlgorithm::GenericSecret, &[0xaa; 131], &key).unwrap();
    let data = b"Test Using Larger Than Block-Size Key - Hash Key First";
    let cases = [
        (HashAlg::Sha256, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (
            HashAlg::Sha512,
            "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352\
             6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
        ),
    ];
    for (hash, expected) in cases {
        let algorithm = MacAlgorithm::Hmac(hash);
        assert_eq!(hsm().mac(&key.id, algorithm, data).unwrap(), h(expected));
        assert!(hsm().mac_verify(&key.id, algorithm, data, &h(expected)).unwrap());
        assert!(!hsm().mac_verify(&key.id, algorithm, b"other", &h(expected)).unwrap());
    }
    // RFC 4493 examples 1 and 2.
    let cmac_key = import_aes(&h("2b7e151628aed2a6abf7158809cf4f3c"));
    assert_eq!(hsm().mac(&cmac_key, MacAlgorithm::AesCmac, b"").unwrap(), h("bb1d6929e95937287fa37d129b756746"));
    let m = h("6bc1bee22e409f96e93d7e117393172a");
    assert_eq!(hsm().mac(&cmac_key, MacAlgorithm::AesCmac, &m).unwrap(), h("070a16b46b4d4144f79bdd9dd04a287c"));
    // Generated HMAC keys.
    let generated = NewObject::token(id("hmac-gen"), "hmac", KeyUsage::ALL);
    hsm()
        .generate_secret_key(SecretKeySpec { algorithm: SecretKeyAlgorithm::GenericSecret, bits: 512 }, &generated)
        .unwrap();
    let info = hsm().object_info(&generated.id).unwrap();
    assert_eq!((info.key_type, info.bits, info.sensitive), (KeyType::GenericSecret, Some(512), Some(true)));
    let mac = hsm().mac(&generated.id, MacAlgorithm::Hmac(HashAlg::Sha384), b"x").unwrap();
    assert_eq!(mac.len(), 48);
}

#[test]
fn digest_random_and_seed() {
    assert_eq!(
        hsm().digest(HashAlg::Sha256, b"abc").unwrap(),
        h("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    );
    assert_eq!(hsm().digest(HashAlg::Sha1, b"abc").unwrap(), h("a9993e364706816aba3e25717850c26c9cd0d89d"));
    for hash in HashAlg::ALL {
        assert_eq!(hsm().digest(hash, b"").unwrap().len(), hash.output_len());
    }
    let a = hsm().random(32).unwrap();
    let b = hsm().random(32).unwrap();
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
    hsm().seed_random(b"extra entropy").unwrap();
}

#[test]
fn wrap_and_unwrap() {
    let kek = NewObject::token(id("kek"), "kek", KeyUsage::ALL);
    hsm().generate_secret_key(aes(256), &kek).unwrap();
    let target = NewObject { extractable: true, ..NewObject::token(id("target"), "target", KeyUsage::ALL) };
    hsm().import_secret_key(SecretKeyAlgorithm::Aes, &[0x11; 32], &target).unwrap();
    let probe = hsm().encrypt(&target.id, &Cipher::AesEcb, &[0; 16]).unwrap().ciphertext;
    for mechanism in [WrapMechanism::AesKeyWrap, WrapMechanism::AesKeyWrapPad] {
        let wrapped = hsm().wrap_key(&kek.id, Some(mechanism), &target.id).unwrap();
        assert_eq!(wrapped.mechanism, mechanism);
        let unwrapped = NewObject::token(id("unwrapped"), "unwrapped", KeyUsage::ALL);
        let secret = UnwrapTarget::Secret(SecretKeyAlgorithm::Aes);
        hsm().unwrap_key(&kek.id, mechanism, &wrapped.bytes, secret, &unwrapped).unwrap();
        assert_eq!(hsm().encrypt(&unwrapped.id, &Cipher::AesEcb, &[0; 16]).unwrap().ciphertext, probe);
        let info = hsm().object_info(&unwrapped.id).unwrap();
        assert_eq!((info.sensitive, info.extractable), (Some(true), Some(false)));
    }
    // Preferred mechanism of the profile: KWP first.
    assert_eq!(hsm().wrap_key(&kek.id, None, &target.id).unwrap().mechanism, WrapMechanism::AesKeyWrapPad);
    // RSA-OAEP wrapping.
    let (private, public) = rsa();
    let wrapped = hsm().wrap_key(public, Some(WrapMechanism::RsaOaep(HashAlg::Sha1)), &target.id).unwrap();
    let unwrapped = NewObject::token(id("unwrapped-rsa"), "unwrapped", KeyUsage::ALL);
    let oaep = WrapMechanism::RsaOaep(HashAlg::Sha1);
    let secret = UnwrapTarget::Secret(SecretKeyAlgorithm::Aes);
    hsm().unwrap_key(private, oaep, &wrapped.bytes, secret, &unwrapped).unwrap();
    assert_eq!(hsm().encrypt(&unwrapped.id, &Cipher::AesEcb, &[0; 16]).unwrap().ciphertext, probe);
}

/// The DSA key of the OASIS case BL-M-13-21 (p of 512 bits, q of 160), as big-endian magnitudes.
fn dsa_key() -> PrivateKeyMaterial {
    PrivateKeyMaterial::Dsa {
        prime: h("fca682ce8e12caba26efccf7110e526db078b05edecbcd1eb4a208f3ae1617ae01f35b91a47e6df6
                  3413c5e12ed0899bcd132acd50d99151bdc43ee737592e17"),
        subprime: h("962eddcc369cba8ebb260ee6b6a126d9346e38c5"),
        base: h("678471b27a9cf44ee91a49c5147db1a9aaf244f05a434d6486931d2d14271b9e35030b71fd73da179069b32e2935630e
                 1c2062354d0da20a6c416e50be794ca4"),
        value: Zeroizing::new(h("095411d740d2443fa3f97d1ed9a0411bb45e7131")),
    }
}

fn dsa_parts(material: &PrivateKeyMaterial) -> [Vec<u8>; 4] {
    match material {
        PrivateKeyMaterial::Dsa { prime, subprime, base, value } => {
            [prime.clone(), subprime.clone(), base.clone(), value.to_vec()]
        }
        other => panic!("not DSA: {other:?}"),
    }
}

#[test]
fn dsa_private_keys_import_export_and_wrap() {
    let open = NewObject { sensitive: false, extractable: true, ..NewObject::token(id("dsa"), "dsa", KeyUsage::ALL) };
    hsm().import_private_key(&dsa_key(), &open).unwrap();
    let info = hsm().object_info(&open.id).unwrap();
    assert_eq!((info.kind, info.key_type, info.bits), (ObjectKind::PrivateKey, KeyType::Dsa, Some(512)));
    // Every part comes back whole: CKA_SUBPRIME through the module's own C_GetAttributeValue, CKA_BASE although
    // cryptoki's Attribute::Base would have written one byte of it.
    assert_eq!(dsa_parts(&hsm().export_private_key(&open.id).unwrap()), dsa_parts(&dsa_key()));

    let kept = NewObject::token(id("dsa-kept"), "dsa", KeyUsage::ALL);
    hsm().import_private_key(&dsa_key(), &kept).unwrap();
    let err = hsm().export_private_key(&kept.id).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Sensitive, "{err}");

    // Wrapped out as PKCS#8 and unwrapped into a new DSA key.
    let kek = NewObject::token(id("kek"), "kek", KeyUsage::ALL);
    hsm().generate_secret_key(aes(256), &kek).unwrap();
    let wrapped = hsm().wrap_key(&kek.id, None, &open.id).unwrap();
    let copy = NewObject { sensitive: false, extractable: true, ..NewObject::token(id("dsa-copy"), "copy", KeyUsage::ALL) };
    hsm().unwrap_key(&kek.id, wrapped.mechanism, &wrapped.bytes, UnwrapTarget::DsaPrivate, &copy).unwrap();
    assert_eq!(hsm().object_info(&copy.id).unwrap().key_type, KeyType::Dsa);
    assert_eq!(dsa_parts(&hsm().export_private_key(&copy.id).unwrap()), dsa_parts(&dsa_key()));
}

#[test]
fn a_non_extractable_key_cannot_be_wrapped_out() {
    let kek = NewObject::token(id("kek"), "kek", KeyUsage::ALL);
    hsm().generate_secret_key(aes(256), &kek).unwrap();
    let locked = NewObject::token(id("locked"), "locked", KeyUsage::ALL);
    hsm().generate_secret_key(aes(256), &locked).unwrap();
    for mechanism in [WrapMechanism::AesKeyWrap, WrapMechanism::AesKeyWrapPad] {
        let err = hsm().wrap_key(&kek.id, Some(mechanism), &locked.id).unwrap_err();
        assert_eq!(err.class(), ErrorClass::Sensitive, "{err}");
        assert_eq!(err.code(), Some("CKR_KEY_UNEXTRACTABLE"));
    }
    let (private, _, _) = ec_pair(Curve::P256);
    let err = hsm().wrap_key(&kek.id, None, &private).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Sensitive, "{err}");
}

#[test]
fn an_extractable_private_key_wraps_and_unwraps() {
    let kek = NewObject::token(id("kek"), "kek", KeyUsage::ALL);
    hsm().generate_secret_key(aes(256), &kek).unwrap();
    let private = NewObject { extractable: true, ..NewObject::token(id("p256"), "p256", KeyUsage::ALL) };
    let public = NewObject::token(id("p256-pub"), "p256", KeyUsage::ALL);
    hsm().generate_key_pair(KeyPairSpec::Ec(Curve::P256), &private, &public).unwrap();
    let wrapped = hsm().wrap_key(&kek.id, None, &private.id).unwrap();
    let copy = NewObject::token(id("p256-copy"), "copy", KeyUsage::ALL);
    let target = UnwrapTarget::EcPrivate(Curve::P256);
    hsm().unwrap_key(&kek.id, wrapped.mechanism, &wrapped.bytes, target, &copy).unwrap();
    let algorithm = SignatureAlgorithm::Ecdsa(HashAlg::Sha256);
    let sig = hsm().sign(&copy.id, algorithm, b"m").unwrap();
    assert!(hsm().verify(&public.id, algorithm, b"m", &sig).unwrap());
}

#[test]
fn import_without_plaintext_goes_through_a_transport_key() {
    token(&[]);
    let mut profile = softhsm_profile();
    profile.objects.plaintext_import = false;
    let strict = open(profile);
    let object = NewObject::token(id("transported"), "transported", KeyUsage::ALL);
    strict.import_secret_key(SecretKeyAlgorithm::Aes, &h("2b7e151628aed2a6abf7158809cf4f3c"), &object).unwrap();
    let ct = strict.encrypt(&object.id, &Cipher::AesEcb, &h("6bc1bee22e409f96e93d7e117393172a")).unwrap();
    assert_eq!(ct.ciphertext, h("3ad77bb40d7a3660a89ecaf32466ef97"));
    let info = strict.object_info(&object.id).unwrap();
    assert_eq!((info.sensitive, info.extractable, info.token), (Some(true), Some(false), true));
    let private = PrivateKeyMaterial::Ec { curve: Curve::Ed25519, value: Zeroizing::new(vec![1; 32]) };
    let err = strict.import_private_key(&private, &NewObject::token(id("refused"), "x", KeyUsage::ALL)).unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotSupported);
}

#[test]
fn set_attributes_changes_label_and_usage() {
    let key = import_aes(&[5; 16]);
    let update = AttributeUpdate {
        label: Some("renamed".into()),
        usage: Some(KeyUsage { decrypt: true, ..KeyUsage::default() }),
    };
    hsm().set_attributes(&key, &update).unwrap();
    let info = hsm().object_info(&key).unwrap();
    assert_eq!(info.label, "renamed");
    assert!(!info.usage.encrypt && info.usage.decrypt);
    let err = hsm().encrypt(&key, &Cipher::AesEcb, &[0; 16]).unwrap_err();
    assert_eq!(err.code(), Some("CKR_KEY_FUNCTION_NOT_PERMITTED"), "{err}");
}

#[test]
fn destroy_list_and_not_found() {
    let object = NewObject::token(id("doomed"), "doomed", KeyUsage::ALL);
    hsm().generate_secret_key(aes(128), &object).unwrap();
    let listed = hsm().list_objects().unwrap();
    let entry = listed.iter().find(|o| o.caller_id.as_deref() == Some(object.id.as_slice())).unwrap();
    assert_eq!((entry.kind, entry.label.as_str()), (ObjectKind::SecretKey, "doomed"));
    assert!(entry.cka_id.starts_with(b"kmipd:"));
    hsm().destroy(&object.id).unwrap();
    assert_eq!(hsm().object_info(&object.id).unwrap_err().class(), ErrorClass::NotFound);
    assert_eq!(hsm().destroy(&object.id).unwrap_err().class(), ErrorClass::NotFound);
    assert!(!hsm().list_objects().unwrap().iter().any(|o| o.caller_id.as_deref() == Some(object.id.as_slice())));
    let session = NewObject::session(id("ephemeral"), "session object", KeyUsage::ALL);
    hsm().generate_secret_key(aes(128), &session).unwrap();
    assert!(!hsm().object_info(&session.id).unwrap().token);
}

#[test]
fn id_and_label_limits_follow_the_profile() {
    let mut profile = softhsm_profile();
    profile.objects.max_id_bytes = 16;
    profile.objects.max_label_bytes = 5;
    token(&[]);
    let tight = open(profile);
    let err = tight.generate_secret_key(aes(128), &NewObject::token(b"0123456789abcdef".to_vec(), "x", KeyUsage::ALL));
    assert_eq!(err.unwrap_err().class(), ErrorClass::InvalidInput);
    let object = NewObject::token(b"short".to_vec(), "héllo wörld", KeyUsage::ALL);
    tight.generate_secret_key(aes(128), &object).unwrap();
    assert_eq!(tight.object_info(&object.id).unwrap().label, "héll");
    tight.destroy(&object.id).unwrap();
}

#[test]
fn stale_cached_handles_are_found_again() {
    let object = NewObject::token(id("moving"), "moving", KeyUsage::ALL);
    hsm().import_secret_key(SecretKeyAlgorithm::Aes, &[1; 16], &object).unwrap();
    let before = hsm().encrypt(&object.id, &Cipher::AesEcb, &[0; 16]).unwrap();
    // Another instance (its own cache) replaces the object behind this one's back: same id, new handle.
    let other = open(softhsm_profile());
    other.destroy(&object.id).unwrap();
    other.import_secret_key(SecretKeyAlgorithm::Aes, &[2; 16], &object).unwrap();
    let after = hsm().encrypt(&object.id, &Cipher::AesEcb, &[0; 16]).unwrap();
    assert_ne!(before, after);
    assert_eq!(after, other.encrypt(&object.id, &Cipher::AesEcb, &[0; 16]).unwrap());
}

#[test]
fn chunked_cbc_equals_one_call() {
    let mut profile = softhsm_profile();
    profile.mechanisms.cbc_chunk_bytes = 32;
    token(&[]);
    let chunked = open(profile);
    let key = import_aes(&[4; 32]);
    let data: Vec<u8> = (0..200u8).collect();
    for cipher in [
        Cipher::AesCbc { iv: Some([1; 16]), padding: true },
        Cipher::AesCtr { counter_block: Some([2; 16]), counter_bits: 64 },
        Cipher::AesEcb,
    ] {
        let data = if cipher == Cipher::AesEcb { &data[..192] } else { &data[..] };
        let whole = hsm().encrypt(&key, &cipher, data).unwrap().ciphertext;
        assert_eq!(chunked.encrypt(&key, &cipher, data).unwrap().ciphertext, whole, "{cipher:?}");
        assert_eq!(chunked.decrypt(&key, &cipher, &whole).unwrap().as_slice(), data, "{cipher:?}");
    }
}

#[test]
fn gcm_data_limit_is_enforced_and_makes_gcm_single_part() {
    let mut profile = softhsm_profile();
    profile.aes_gcm.max_data_bytes = 16;
    token(&[]);
    let limited = open(profile);
    let key = import_aes(&[6; 16]);
    let gcm = Cipher::AesGcm { iv: Some(vec![0; 12]), aad: Vec::new(), tag_len: 16 };
    assert!(limited.encrypt(&key, &gcm, &[0; 16]).is_ok());
    assert_eq!(limited.encrypt(&key, &gcm, &[0; 17]).unwrap_err().class(), ErrorClass::InvalidInput);
    let err = limited.begin_cipher(&key, &gcm, Direction::Encrypt).err().unwrap();
    assert_eq!(err.class(), ErrorClass::NotSupported);
}

#[test]
fn omitted_attributes_are_left_to_the_module() {
    // SoftHSM's own default for CKA_SENSITIVE is false: omitting it shows the template obeyed the profile.
    let mut profile = softhsm_profile();
    profile.objects.omit_attributes = vec!["CKA_SENSITIVE".into()];
    token(&[]);
    let omitting = open(profile);
    let object = NewObject::token(id("omit"), "omit", KeyUsage::ALL);
    omitting.generate_secret_key(aes(128), &object).unwrap();
    assert_eq!(omitting.object_info(&object.id).unwrap().sensitive, Some(false));
}

#[test]
fn secret_keys_are_digested_inside_the_hsm() {
    use sha2::Digest as _;
    // A non-sensitive session key: the HSM's digest is SHA-256 over the key bytes it exports.
    let plain = NewObject {
        sensitive: false,
        extractable: true,
        ..NewObject::session(id("digest-plain"), "digest plain", KeyUsage::ALL)
    };
    hsm().generate_secret_key(aes(256), &plain).unwrap();
    let value = hsm().export_secret_key(&plain.id).unwrap();
    let expected = sha2::Sha256::digest(value.as_slice()).to_vec();
    assert_eq!(hsm().digest_key(&plain.id, HashAlg::Sha256).unwrap(), expected);

    // Sensitive, non-extractable token keys are digested too (SoftHSM 2.6.1), over the same bytes.
    let known = [0x5a; 32];
    let sealed = NewObject::token(id("digest-sealed"), "digest sealed", KeyUsage::ALL);
    hsm().import_secret_key(SecretKeyAlgorithm::Aes, &known, &sealed).unwrap();
    assert_eq!(hsm().object_info(&sealed.id).unwrap().sensitive, Some(true));
    assert_eq!(hsm().digest_key(&sealed.id, HashAlg::Sha256).unwrap(), sha2::Sha256::digest(known).to_vec());
    let generic = NewObject::token(id("digest-hmac"), "digest hmac", KeyUsage::ALL);
    hsm()
        .generate_secret_key(SecretKeySpec { algorithm: SecretKeyAlgorithm::GenericSecret, bits: 256 }, &generic)
        .unwrap();
    assert_eq!(hsm().object_info(&generic.id).unwrap().extractable, Some(false));
    for hash in HashAlg::ALL {
        assert_eq!(hsm().digest_key(&generic.id, hash).unwrap().len(), hash.output_len(), "{hash:?}");
    }

    // Key-pair halves are not digested (SoftHSM would hash an EC private key's raw scalar), and the refusal
    // leaves no digest operation active on the session.
    let (private, public, _) = ec_pair(Curve::P256);
    for key in [&private, &public] {
        let err = hsm().digest_key(key, HashAlg::Sha256).unwrap_err();
        assert_eq!(err.class(), ErrorClass::Indigestible, "{err}");
        assert_eq!(hsm().digest(HashAlg::Sha256, b"abc").unwrap().len(), 32);
    }
    let err = hsm().digest_key(b"no-such-key", HashAlg::Sha256).unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotFound, "{err}");

    // A profile without digest-key refuses without calling the HSM.
    let mut profile = softhsm_profile();
    profile.mechanisms.capabilities.retain(|c| c != "digest-key");
    token(&[]);
    let without = open(profile);
    let err = without.digest_key(&sealed.id, HashAlg::Sha256).unwrap_err();
    assert_eq!(err.class(), ErrorClass::NotSupported, "{err}");
}

#[test]
fn hashed_ids_fit_tiny_id_spaces() {
    let mut profile = softhsm_profile();
    profile.objects.id_strategy = kmipd::hsm::profile::IdStrategy::Hashed;
    profile.objects.max_id_bytes = 2;
    token(&[]);
    let tiny = open(profile);
    let object = NewObject::token(id("a-long-kmip-uid-that-would-never-fit-16-bits"), "hashed", KeyUsage::ALL);
    tiny.generate_secret_key(aes(128), &object).unwrap();
    assert_eq!(tiny.cka_id(&object.id).unwrap().len(), 2);
    // The label is the caller id (not the one asked for), so that reconciliation can recover it.
    let caller_id = String::from_utf8(object.id.clone()).unwrap();
    assert_eq!(tiny.object_info(&object.id).unwrap().label, caller_id);
    let rename = AttributeUpdate { label: Some("renamed".into()), usage: None };
    tiny.set_attributes(&object.id, &rename).unwrap();
    assert_eq!(tiny.object_info(&object.id).unwrap().label, caller_id);
    let listed = tiny.list_objects().unwrap();
    let entry = listed.iter().find(|o| o.cka_id == tiny.cka_id(&object.id).unwrap()).unwrap();
    assert_eq!(entry.caller_id.as_ref(), Some(&object.id));
    tiny.destroy(&object.id).unwrap();
    // The caller id must fit the label.
    let long = NewObject::token(vec![b'x'; 129], "long", KeyUsage::ALL);
    let err = tiny.generate_secret_key(aes(128), &long).unwrap_err();
    assert_eq!(err.class(), ErrorClass::InvalidInput, "{err}");
}
