//! deploy/kmipd.toml stays a faithful example: it loads, its values are the defaults it claims,
//! and it and deploy/CONFIG.md mention every key.

use std::collections::HashMap;
use std::path::PathBuf;

use kmipd::config::{Config, Limits, LogConfig, TlsVersion};

fn deploy_file(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every configuration key, as written in the file.
const KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "admin_identities",
    "[tls]",
    "cert",
    "key",
    "client_ca",
    "min_version",
    "[hsm]",
    "profile",
    "module",
    "token_label",
    "pin_file",
    "pin_env",
    "[limits]",
    "max_message_bytes",
    "max_batch_items",
    "max_response_bytes",
    "max_connections",
    "idle_timeout",
    "read_timeout",
    "request_timeout",
    "shutdown_timeout",
    "[log]",
    "format",
    "level",
    "[audit]",
    "path",
];

#[test]
fn example_loads_with_the_documented_defaults() {
    let config = Config::from_toml_str(&deploy_file("kmipd.toml"), HashMap::new()).unwrap();
    assert_eq!(config.limits, Limits::default());
    assert_eq!(config.log, LogConfig::default());
    assert_eq!(config.tls.min_version, TlsVersion::Tls12);
    assert_eq!(config.listen, "127.0.0.1:5696".parse().unwrap());
    assert_eq!(config.data_dir, PathBuf::from("/var/lib/kmipd"));
}

#[test]
fn example_and_reference_mention_every_key() {
    let example = deploy_file("kmipd.toml");
    let reference = deploy_file("CONFIG.md");
    for key in KEYS {
        assert!(
            example.lines().any(|l| l.trim_start_matches(['#', ' ']).starts_with(key)),
            "kmipd.toml lacks {key}"
        );
        assert!(reference.contains(&format!("`{key}`")), "CONFIG.md lacks {key}");
    }
}
