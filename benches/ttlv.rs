//! Binary TTLV decode + encode throughput, in wire bytes per second, for a typical Create
//! request and a 64 KiB Encrypt request.
//!
//! `cargo bench --bench ttlv` (add `-- --measurement-time 3` for a short run).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use kmipd::kmip::enums::{BlockCipherMode, CryptographicAlgorithm, NameType, ObjectType, Operation, PaddingMethod};
use kmipd::kmip::KmipEnum;
use kmipd::ttlv::text::{integer_from_text, NameContext};
use kmipd::ttlv::{decode, encode, DecodeLimits, Tag, Ttlv};

fn request(operation: Operation, payload: Vec<Ttlv>) -> Ttlv {
    Ttlv::structure(
        Tag::REQUEST_MESSAGE,
        vec![
            Ttlv::structure(
                Tag::REQUEST_HEADER,
                vec![
                    Ttlv::structure(
                        Tag::PROTOCOL_VERSION,
                        vec![
                            Ttlv::integer(Tag::PROTOCOL_VERSION_MAJOR, 1),
                            Ttlv::integer(Tag::PROTOCOL_VERSION_MINOR, 4),
                        ],
                    ),
                    Ttlv::integer(Tag::BATCH_COUNT, 1),
                ],
            ),
            Ttlv::structure(
                Tag::BATCH_ITEM,
                vec![
                    Ttlv::enumeration(Tag::OPERATION, operation.to_u32()),
                    Ttlv::structure(Tag::REQUEST_PAYLOAD, payload),
                ],
            ),
        ],
    )
}

fn attribute(name: &str, value: Ttlv) -> Ttlv {
    Ttlv::structure(Tag::ATTRIBUTE, vec![Ttlv::text(Tag::ATTRIBUTE_NAME, name), value])
}

/// Create of an AES-256 key with a usage mask and a name, as in the 1.4 test cases.
fn create_request() -> Ttlv {
    let usage = integer_from_text(NameContext::new(Tag::CRYPTOGRAPHIC_USAGE_MASK, None), "Encrypt|Decrypt")
        .expect("registry knows the usage mask");
    request(
        Operation::Create,
        vec![
            Ttlv::enumeration(Tag::OBJECT_TYPE, ObjectType::SymmetricKey.to_u32()),
            Ttlv::structure(
                Tag::TEMPLATE_ATTRIBUTE,
                vec![
                    attribute(
                        "Cryptographic Algorithm",
                        Ttlv::enumeration(Tag::ATTRIBUTE_VALUE, CryptographicAlgorithm::AES.to_u32()),
                    ),
                    attribute("Cryptographic Length", Ttlv::integer(Tag::ATTRIBUTE_VALUE, 256)),
                    attribute("Cryptographic Usage Mask", Ttlv::integer(Tag::ATTRIBUTE_VALUE, usage)),
                    attribute(
                        "Name",
                        Ttlv::structure(
                            Tag::ATTRIBUTE_VALUE,
                            vec![
                                Ttlv::text(Tag::NAME_VALUE, "bench-key-0001"),
                                Ttlv::enumeration(Tag::NAME_TYPE, NameType::UninterpretedTextString.to_u32()),
                            ],
                        ),
                    ),
                ],
            ),
        ],
    )
}

/// Encrypt of 64 KiB with AES-CBC and a client IV.
fn encrypt_request() -> Ttlv {
    request(
        Operation::Encrypt,
        vec![
            Ttlv::text(Tag::UNIQUE_IDENTIFIER, "1f165d65-cbbd-4bd6-9867-80e0b390acf9"),
            Ttlv::structure(
                Tag::CRYPTOGRAPHIC_PARAMETERS,
                vec![
                    Ttlv::enumeration(Tag::BLOCK_CIPHER_MODE, BlockCipherMode::CBC.to_u32()),
                    Ttlv::enumeration(Tag::PADDING_METHOD, PaddingMethod::PKCS5.to_u32()),
                    Ttlv::enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm::AES.to_u32()),
                ],
            ),
            Ttlv::bytes(Tag::DATA, vec![0x5A; 64 * 1024]),
            Ttlv::bytes(Tag::IV_COUNTER_NONCE, vec![0xA5; 16]),
        ],
    )
}

fn decode_encode(c: &mut Criterion) {
    let limits = DecodeLimits::default();
    let mut group = c.benchmark_group("ttlv_decode_encode");
    for (name, tree) in [("create", create_request()), ("encrypt_64k", encrypt_request())] {
        let bytes = encode(&tree).expect("bench message encodes");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("{name}_{}B", bytes.len()), |b| {
            b.iter(|| {
                let item = decode(black_box(&bytes), &limits).expect("bench message decodes");
                black_box(encode(&item).expect("bench message re-encodes"))
            })
        });
    }
    group.finish();
}

criterion_group!(benches, decode_encode);
criterion_main!(benches);
