//! Without an audit file, audit events go to the operational log on standard error, and the
//! log level does not filter them out; the chosen format (text or JSON) is used. Each case runs
//! in a child process (this same test binary), because the global subscriber can be installed
//! only once per process.

use std::process::Command;

use kmipd::audit::AuditEvent;
use kmipd::config::{AuditConfig, LogConfig, LogFormat};
use kmipd::ops::RequestContext;
use kmipd::server::logging;

const CHILD_ENV: &str = "KMIPD_LOG_TEST_CHILD";

/// The child's work: log at several levels with the format named in the environment.
#[test]
fn child_logs() {
    let Ok(format) = std::env::var(CHILD_ENV) else { return };
    let format = if format == "json" { LogFormat::Json } else { LogFormat::Text };
    let _guard = logging::init(&LogConfig { format, level: "warn".into() }, &AuditConfig::default()).unwrap();
    let request = RequestContext {
        client_identity: "CN=child".into(),
        client_fingerprint: "01".repeat(32),
        peer: Some("127.0.0.1:1".parse().unwrap()),
        connection_id: 1,
        is_admin: false,
    };
    let mut event = AuditEvent::new(&request, "Locate");
    event.result_status = "Success".into();
    event.emit();
    tracing::info!(target: "kmipd::server", "info-line-filtered-out");
    tracing::warn!(target: "kmipd::server", "warn-line-kept");
}

fn run_child(format: &str) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_logs", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn audit_reaches_stderr_in_text_and_json() {
    let text = run_child("text");
    assert!(text.contains("kmipd::audit") && text.contains("operation=Locate"), "{text}");
    assert!(text.contains("warn-line-kept"), "{text}");
    assert!(!text.contains("info-line-filtered-out"), "{text}");

    let json = run_child("json");
    let audit_line = json.lines().find(|l| l.contains("kmipd::audit")).unwrap_or_else(|| panic!("{json}"));
    let value: serde_json::Value = serde_json::from_str(audit_line).unwrap();
    assert_eq!(value["fields"]["operation"], "Locate");
    assert_eq!(value["fields"]["client"], "CN=child");
    assert!(json.contains("warn-line-kept") && !json.contains("info-line-filtered-out"), "{json}");
}
