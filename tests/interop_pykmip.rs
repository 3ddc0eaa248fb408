//! PyKMIP 0.11, the reference third-party client, against a real `kmipd dev`.
//!
//! The scripts under `tests/pykmip/` run in a venv holding the pinned PyKMIP set: the one
//! `KMIPD_PYKMIP_PYTHON` names (`.ci/test` exports it), else the one `.ci/pykmip-venv.sh`
//! creates or reuses in `target/pykmip-venv` (this needs `python3 -m venv` and PyPI).
//!
//! - `client_flow.py --mode smoke`: TLS 1.3 and 1.2 with OpenSSL, KMIP 1.2/1.4/2.0,
//!   DiscoverVersions and Query.
//! - `client_api.py`: every method of PyKMIP's `ProxyKmipClient` that kmipd supports (and the
//!   `KMIPProxy` calls it does not wrap: discover_versions, query, rekey_key_pair), each result
//!   checked by value, at KMIP 1.0, 1.1, 1.2, 1.3, 1.4 and 2.0, one fresh server per version.
//!   What a version lacks the script skips with the reason; the test checks that exactly
//!   those steps were skipped.
//! - `client_flow.py --mode flow` against PyKMIP's own server, so that the flow's expectations
//!   are known to be a KMIP server's and not only kmipd's.

mod server_support;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use server_support::{ClientIdentity, TestServer};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's python: `KMIPD_PYKMIP_PYTHON`, or what `.ci/pykmip-venv.sh` prints last.
fn pykmip_python() -> PathBuf {
    if let Some(python) = std::env::var_os("KMIPD_PYKMIP_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(python);
    }
    let out = Command::new("bash")
        .arg(repo().join(".ci/pykmip-venv.sh"))
        .stderr(Stdio::inherit())
        .output()
        .expect("running .ci/pykmip-venv.sh");
    assert!(out.status.success(), ".ci/pykmip-venv.sh failed ({}); see its stderr above", out.status);
    let stdout = String::from_utf8(out.stdout).unwrap();
    PathBuf::from(stdout.lines().last().expect(".ci/pykmip-venv.sh printed no path").trim())
}

/// One run of a client script.
struct Run<'a> {
    addr: SocketAddr,
    ca: &'a Path,
    identity: &'a ClientIdentity,
    version: &'a str,
    ssl_version: &'a str,
}

impl Run<'_> {
    /// Runs `tests/pykmip/<script>` with `args`; returns its stdout (the OK/SKIP/FAIL lines),
    /// panicking with both streams when it fails.
    fn expect_success(&self, python: &Path, script: &str, args: &[&str]) -> String {
        let out = Command::new(python)
            .arg(repo().join("tests/pykmip").join(script))
            .args(["--host", &self.addr.ip().to_string(), "--port", &self.addr.port().to_string()])
            .arg("--cert")
            .arg(&self.identity.cert)
            .arg("--key")
            .arg(&self.identity.key)
            .arg("--ca")
            .arg(self.ca)
            .args(["--version", self.version, "--ssl-version", self.ssl_version])
            .args(args)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .output()
            .expect("running the PyKMIP client");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        eprintln!("--- PyKMIP {script} {args:?} at KMIP {} ({}) ---\n{stdout}", self.version, self.ssl_version);
        assert!(
            out.status.success(),
            "PyKMIP {script} {args:?} at KMIP {} failed ({}):\n{stdout}\n--- stderr ---\n{}",
            self.version,
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }
}

#[test]
fn pykmip_handshakes_and_discovers_versions() {
    let python = pykmip_python();
    let mut server = TestServer::start();
    let (ca, identity) = (server.ca_cert(), server.identity());
    for (version, ssl_version, tls) in [
        ("1.2", "PROTOCOL_TLS", "TLSv1.3"),
        ("1.4", "PROTOCOL_TLS", "TLSv1.3"),
        ("2.0", "PROTOCOL_TLS", "TLSv1.3"),
        // OpenSSL's TLS 1.2 with kmipd: ECDHE with AES-GCM, the only 1.2 suites rustls has.
        ("1.2", "PROTOCOL_TLSv1_2", "TLSv1.2 ECDHE-ECDSA-AES256-GCM"),
    ] {
        let run = Run { addr: server.addr(), ca: &ca, identity: &identity, version, ssl_version };
        let stdout = run.expect_success(&python, "client_flow.py", &["--mode", "smoke"]);
        assert!(stdout.contains(&format!(" over {tls}")), "{stdout}");
        assert!(stdout.contains("OK discover_versions") && stdout.contains("OK query"), "{stdout}");
    }
    server.assert_serves();
}

/// The steps of `client_api.py`, in order.
const API_STEPS: &[&str] = &[
    "discover_versions",
    "query",
    "create",
    "get_attributes_selected",
    "get_attributes_all",
    "get_attribute_list",
    "get",
    "activate",
    "create_key_pair",
    "register_symmetric",
    "register_public_key",
    "register_private_key",
    "register_certificate",
    "register_secret_data",
    "register_opaque",
    "register_split_key",
    "locate",
    "locate_fresh",
    "locate_offset",
    "check",
    "encrypt_decrypt_aes",
    "encrypt_decrypt_rsa",
    "sign_verify",
    "mac",
    "get_wrapped",
    "derive_key",
    "rekey",
    "rekey_key_pair",
    "set_attribute",
    "modify_attribute",
    "delete_attribute",
    "revoke",
    "destroy",
    "get_after_destroy",
];

/// Runs `client_api.py` at `version` against a fresh `kmipd dev` and checks that every step
/// passed but `skipped`, which the script must skip (the version lacks them).
fn api_against_kmipd(version: &str, skipped: &[&str]) {
    let python = pykmip_python();
    let mut server = TestServer::start();
    let (ca, identity) = (server.ca_cert(), server.identity());
    let run = Run { addr: server.addr(), ca: &ca, identity: &identity, version, ssl_version: "PROTOCOL_TLS" };
    let stdout = run.expect_success(&python, "client_api.py", &[]);
    let outcome = |step: &str| {
        stdout.lines().find_map(|line| {
            let (status, rest) = line.split_once(' ')?;
            let name = rest.split(':').next()?;
            (name == step).then_some(status)
        })
    };
    for step in API_STEPS {
        let expected = if skipped.contains(step) { "SKIP" } else { "OK" };
        assert_eq!(outcome(step), Some(expected), "step {step} at KMIP {version}:\n{stdout}");
    }
    let reported = stdout.lines().filter(|l| l.starts_with("OK ") || l.starts_with("SKIP ")).count();
    assert_eq!(reported, API_STEPS.len() + 1, "steps besides `open` and API_STEPS:\n{stdout}");
    server.assert_serves();
}

/// What KMIP 1.0 lacks: Encrypt, Decrypt, Sign, Signature Verify, MAC (1.2); Re-key Key Pair
/// and Object Group Member (1.1); Offset Items (1.3); Set Attribute (2.0).
#[test]
fn pykmip_api_at_kmip_1_0() {
    let skipped = ["locate_fresh", "locate_offset", "encrypt_decrypt_aes", "encrypt_decrypt_rsa", "sign_verify", "mac"];
    api_against_kmipd("1.0", &[&skipped[..], &["rekey_key_pair", "set_attribute"]].concat());
}

#[test]
fn pykmip_api_at_kmip_1_1() {
    let skipped =
        ["locate_offset", "encrypt_decrypt_aes", "encrypt_decrypt_rsa", "sign_verify", "mac", "set_attribute"];
    api_against_kmipd("1.1", &skipped);
}

#[test]
fn pykmip_api_at_kmip_1_2() {
    api_against_kmipd("1.2", &["locate_offset", "set_attribute"]);
}

#[test]
fn pykmip_api_at_kmip_1_3() {
    api_against_kmipd("1.3", &["set_attribute"]);
}

#[test]
fn pykmip_api_at_kmip_1_4() {
    api_against_kmipd("1.4", &["set_attribute"]);
}

#[test]
fn pykmip_api_at_kmip_2_0() {
    api_against_kmipd("2.0", &[]);
}

/// `pykmip-server`, stopped with SIGINT (it ignores SIGTERM) when dropped.
struct PyKmipServer {
    child: Child,
    log: PathBuf,
}

impl Drop for PyKmipServer {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-INT").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The flow script is right: PyKMIP's own server passes it at 1.2, 1.4 and 2.0. (Its TLS
/// 1.2 suites are what it offers with EC certificates, as the dev PKI's.)
#[test]
fn flow_script_passes_against_the_pykmip_server() {
    let python = pykmip_python();
    let dir = tempfile::tempdir().unwrap();
    let pki = kmipd::pki::DevPki::ensure(&dir.path().join("pki")).unwrap();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let conf = dir.path().join("server.conf");
    std::fs::write(
        &conf,
        format!(
            "[server]\nhostname=127.0.0.1\nport={port}\ncertificate_path={}\nkey_path={}\nca_path={}\n\
             auth_suite=TLS1.2\nenable_tls_client_auth=True\npolicy_path={}\ndatabase_path={}\nlogging_level=INFO\n",
            pki.server_cert.display(),
            pki.server_key.display(),
            pki.ca_cert.display(),
            dir.path().join("policies").display(),
            dir.path().join("pykmip.db").display(),
        ),
    )
    .unwrap();
    let log = dir.path().join("server.log");
    let output = std::fs::File::create(dir.path().join("server.out")).unwrap();
    let child = Command::new(python.with_file_name("pykmip-server"))
        .arg("-f")
        .arg(&conf)
        .arg("-l")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(output.try_clone().unwrap())
        .stderr(output)
        .spawn()
        .expect("starting pykmip-server");
    let server = PyKmipServer { child, log };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(addr).is_err() {
        let log = std::fs::read_to_string(&server.log).unwrap_or_default();
        assert!(Instant::now() < deadline, "pykmip-server did not listen:\n{log}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let identity = ClientIdentity { cert: pki.client_cert.clone(), key: pki.client_key.clone() };
    for version in ["1.2", "1.4", "2.0"] {
        let ca = &pki.ca_cert;
        let run = Run { addr, ca, identity: &identity, version, ssl_version: "PROTOCOL_TLS" };
        let stdout = run.expect_success(&python, "client_flow.py", &["--mode", "flow"]);
        assert!(stdout.contains("OK get: 32 bytes"), "{stdout}");
        assert!(stdout.contains("OK get_after_destroy"), "{stdout}");
    }
    drop(server);
}
