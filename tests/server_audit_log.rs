//! Audit events reach their own JSON file with every field of DESIGN.md invariant 8, are not
//! filtered away by the operational log level, and nothing else lands in that file; and a real
//! `kmipd dev` fills every field from the connection and the object acted on.
//! (One in-process test: the global subscriber can be installed once per process.)

mod server_support;

use std::time::Duration;

use kmipd::kmip::enums::Operation;
use kmipd::ttlv::{Tag, Ttlv};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use server_support::{request, TestServer};
use sha2::Digest;

use kmipd::audit::{AuditEvent, ProtocolVersion};
use kmipd::config::{AuditConfig, LogConfig, LogFormat};
use kmipd::ops::RequestContext;
use kmipd::server::logging;

#[test]
fn audit_events_go_to_their_own_file_whatever_the_level() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = LogConfig { format: LogFormat::Json, level: "error".into() };
    let guard = logging::init(&log, &AuditConfig { path: Some(path.clone()) }).unwrap();

    let request = RequestContext {
        client_identity: "O=Example, CN=app".into(),
        client_fingerprint: "ab".repeat(32),
        peer: Some("127.0.0.1:40000".parse().unwrap()),
        connection_id: 7,
        is_admin: false,
    };
    let mut event = AuditEvent::new(&request, "Create");
    event.protocol_version = Some(ProtocolVersion { major: 1, minor: 4 });
    event.unique_identifiers = vec!["uid-1".into()];
    event.object_type = Some("SymmetricKey".into());
    event.algorithm = Some("AES".into());
    event.result_status = "Success".into();
    event.duration = Duration::from_micros(1234);
    let first = event.emit();
    event.result_status = "OperationFailed".into();
    event.result_reason = Some("PermissionDenied".into());
    let second = event.emit();
    assert_eq!(second, first + 1);
    tracing::info!(target: "kmipd::server", "an operational line that must not reach the audit file");
    drop(guard);

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{text}");
    let fields = &lines[0]["fields"];
    assert_eq!(lines[0]["target"], "kmipd::audit");
    for (key, expected) in [
        ("connection", serde_json::json!(7)),
        ("peer", serde_json::json!("127.0.0.1:40000")),
        ("client", serde_json::json!("O=Example, CN=app")),
        ("client_fingerprint", serde_json::json!("ab".repeat(32))),
        ("protocol_version", serde_json::json!("1.4")),
        ("operation", serde_json::json!("Create")),
        ("unique_identifiers", serde_json::json!("uid-1")),
        ("object_type", serde_json::json!("SymmetricKey")),
        ("algorithm", serde_json::json!("AES")),
        ("result_status", serde_json::json!("Success")),
        ("duration_us", serde_json::json!(1234)),
        ("seq", serde_json::json!(first)),
    ] {
        assert_eq!(fields[key], expected, "field {key} in {fields}");
    }
    assert!(fields["time"].as_str().unwrap().ends_with('Z'), "{fields}");
    assert_eq!(lines[1]["fields"]["result_reason"], "PermissionDenied");
}

#[test]
fn the_server_audits_peer_fingerprint_object_and_duration() {
    let server = TestServer::start_with_env(&[("KMIPD__LOG__FORMAT", "json")]);
    let mut client = server.client();
    let create = request(
        (2, 0),
        vec![(
            Operation::Create,
            vec![
                Ttlv::enumeration(Tag::OBJECT_TYPE, 2),
                Ttlv::structure(
                    Tag::ATTRIBUTES,
                    vec![
                        Ttlv::enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, 3),
                        Ttlv::integer(Tag::CRYPTOGRAPHIC_LENGTH, 128),
                        Ttlv::integer(Tag::CRYPTOGRAPHIC_USAGE_MASK, 12),
                    ],
                ),
            ],
        )],
    );
    client.send(&create);
    let der = CertificateDer::from_pem_file(server.identity().cert).unwrap();
    let fingerprint = hex::encode(sha2::Sha256::digest(der.as_ref()));
    let log = server.log();
    let event: serde_json::Value = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["target"] == "kmipd::audit" && l["fields"]["operation"] == "Create")
        .unwrap_or_else(|| panic!("no audit line for Create in\n{log}"));
    let fields = &event["fields"];
    assert!(fields["peer"].as_str().unwrap().starts_with("127.0.0.1:"), "{fields}");
    assert_eq!(fields["client_fingerprint"], serde_json::json!(fingerprint), "{fields}");
    assert_eq!(fields["protocol_version"], "2.0", "{fields}");
    assert_eq!(fields["object_type"], "SymmetricKey", "{fields}");
    assert_eq!(fields["algorithm"], "AES", "{fields}");
    assert_eq!(fields["result_status"], "Success", "{fields}");
    assert!(!fields["unique_identifiers"].as_str().unwrap().is_empty(), "{fields}");
    assert!(fields["duration_us"].as_u64().unwrap() > 0, "{fields}");
    assert!(fields["client"].as_str().unwrap().contains("CN="), "{fields}");
}
