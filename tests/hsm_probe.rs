//! `kmipd hsm probe` and `kmipd bench hsm` as an operator runs them, against a fresh SoftHSM2 token.

mod hsm_support;

use std::process::{Command, Output};

use hsm_support::{make_token, repo, USER_PIN};

/// Runs kmipd against a token of its own: SoftHSM processes sharing a token directory can see it half-written
/// (a failed login rewrites the token file), and then report no token at all.
fn kmipd(token: &str, args: &[&str]) -> Output {
    let conf = make_token(&format!("probe-{token}"), &[]);
    // KMIPD_TEST_BIN: run a copy instead (a target directory shared between worktrees can swap the binary).
    let bin = std::env::var_os("KMIPD_TEST_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_kmipd").into());
    Command::new(bin)
        .args(args)
        .env("SOFTHSM2_CONF", conf)
        .env("KMIPD_TEST_PIN", USER_PIN)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

fn profile_path() -> String {
    repo().join("hsm-profiles/softhsm2.toml").to_string_lossy().into_owned()
}

#[test]
fn the_softhsm2_profile_passes_on_a_fresh_token() {
    let out = kmipd("pass", &["hsm", "probe", "--profile", &profile_path(), "--pin-env", "KMIPD_TEST_PIN"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("OK: every capability the profile promises works"), "{stdout}");
    // The raw list, not cryptoki's filtered one: SoftHSM 2.6.1 reports 70 mechanisms.
    assert!(stdout.contains("module lists 70 mechanisms"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("rsa-oaep-sha256") && l.contains("no") && l.contains("NO (")));
    assert!(stdout.lines().any(|l| l.starts_with("aes-gcm ") && l.ends_with("yes")), "{stdout}");
}

#[test]
fn a_profile_promising_rsa_oaep_sha256_fails_naming_it() {
    let text = std::fs::read_to_string(profile_path()).unwrap();
    let text = text.replace("\"rsa-oaep-sha1\",", "\"rsa-oaep-sha1\", \"rsa-oaep-sha256\",");
    assert!(text.contains("rsa-oaep-sha256"));
    let path = std::env::temp_dir().join(format!("kmipd-oaep256-{}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let out = kmipd("oaep", &["hsm", "probe", "--profile", path.to_str().unwrap(), "--pin-env", "KMIPD_TEST_PIN"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let verdict = stdout.lines().find(|l| l.starts_with("FAILED")).unwrap();
    assert!(verdict.ends_with(": rsa-oaep-sha256"), "{verdict}");
    let row = stdout.lines().find(|l| l.starts_with("rsa-oaep-sha256")).unwrap();
    assert!(row.contains("CKR_ARGUMENTS_BAD") && row.contains("promised but broken"), "{row}");
}

#[test]
fn a_wrong_pin_fails_without_showing_it() {
    let pin_file = std::env::temp_dir().join(format!("kmipd-wrong-pin-{}", std::process::id()));
    std::fs::write(&pin_file, "not-the-pin-4711\n").unwrap();
    let out = kmipd("pin", &["hsm", "probe", "--profile", &profile_path(), "--pin-file", pin_file.to_str().unwrap()]);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success());
    assert!(all.contains("CKR_PIN_INCORRECT"), "{all}");
    assert!(!all.contains("4711"), "{all}");
}

#[test]
fn the_benchmark_prints_pool_and_direct_rates_with_their_ratio() {
    let args = ["bench", "hsm", "--profile", &profile_path(), "--pin-env", "KMIPD_TEST_PIN"];
    let out = kmipd("bench", &[&args[..], &["--seconds", "0.1", "--threads", "1,2"]].concat());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for case in ["AES-256-GCM encrypt 1 KiB", "AES-256 token key generation", "ECDSA P-256 sign (SHA-256)"] {
        let rows: Vec<&str> = stdout.lines().filter(|l| l.starts_with(case)).collect();
        assert_eq!(rows.len(), 2, "{stdout}");
        // Columns: threads, pool op/s, direct op/s, ratio. Figures only, no timing assertion.
        for row in rows {
            let ratio: f64 = row.split_whitespace().last().unwrap().parse().unwrap();
            assert!(ratio > 0.0, "{row}");
        }
    }
}
