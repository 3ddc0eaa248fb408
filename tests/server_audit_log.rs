//! Audit events reach their own JSON file with every field of DESIGN.md invariant 8, are not
//! filtered away by the operational log level, and nothing else lands in that file.
//! (One test: the global subscriber can be installed once per process.)

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kmipd::audit::{AuditEvent, ProtocolVersion};
use kmipd::config::{AuditConfig, LogConfig, LogFormat};
use kmipd::server::{logging, ClientIdentity, PeerInfo};

#[test]
fn audit_events_go_to_their_own_file_whatever_the_level() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let log = LogConfig { format: LogFormat::Json, level: "error".into() };
    let guard = logging::init(&log, &AuditConfig { path: Some(path.clone()) }).unwrap();

    let identity = ClientIdentity {
        subject: "O=Example, CN=app".into(),
        common_name: Some("app".into()),
        subject_alt_names: vec![],
        fingerprint_sha256: [0xAB; 32],
    };
    let addr: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let peer = PeerInfo { connection_id: 7, addr, identity: Arc::new(identity) };
    let mut event = AuditEvent::new(&peer, "Create");
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
