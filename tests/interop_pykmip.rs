//! PyKMIP 0.11, the reference third-party client, against a real `kmipd dev`.
//!
//! `tests/pykmip/client_flow.py` runs in a venv holding the pinned PyKMIP set: the one
//! `KMIPD_PYKMIP_PYTHON` names (`.ci/test` exports it), else the one `.ci/pykmip-venv.sh`
//! creates or reuses in `target/pykmip-venv` (this needs `python3 -m venv` and PyPI).
//!
//! - The handshake test (TLS 1.3 and 1.2 with OpenSSL, KMIP 1.2/1.4/2.0, DiscoverVersions and
//!   Query) runs today.
//! - The object flow (create, get, get_attributes, activate, locate, register SecretData and a
//!   certificate, create an RSA key pair, revoke, destroy, get after destroy fails) runs against
//!   kmipd at KMIP 1.0, 1.1, 1.2, 1.3, 1.4 and 2.0, and against PyKMIP's own server, so that the
//!   script is known good.
//! - The crypto flow (`--mode crypto`: AES-CBC encrypt/decrypt, RSA-PSS sign/verify,
//!   HMAC-SHA256 MAC) runs against kmipd at KMIP 1.2, 1.3, 1.4 and 2.0 (1.0/1.1 have no
//!   cryptographic operations).

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

/// One run of the client script.
struct Run<'a> {
    addr: SocketAddr,
    ca: &'a Path,
    identity: &'a ClientIdentity,
    version: &'a str,
    mode: &'a str,
    ssl_version: &'a str,
}

impl Run<'_> {
    /// Runs the script; returns its stdout (the OK/FAIL lines), panicking with both streams
    /// when it fails.
    fn expect_success(&self, python: &Path) -> String {
        let out = Command::new(python)
            .arg(repo().join("tests/pykmip/client_flow.py"))
            .args(["--host", &self.addr.ip().to_string(), "--port", &self.addr.port().to_string()])
            .arg("--cert")
            .arg(&self.identity.cert)
            .arg("--key")
            .arg(&self.identity.key)
            .arg("--ca")
            .arg(self.ca)
            .args(["--version", self.version, "--mode", self.mode, "--ssl-version", self.ssl_version])
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .output()
            .expect("running the PyKMIP client");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        eprintln!("--- PyKMIP {} {} ({}) ---\n{stdout}", self.mode, self.version, self.ssl_version);
        assert!(
            out.status.success(),
            "PyKMIP {} at KMIP {} failed ({}):\n{stdout}\n--- stderr ---\n{}",
            self.mode,
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
        let run = Run { addr: server.addr(), ca: &ca, identity: &identity, version, mode: "smoke", ssl_version };
        let stdout = run.expect_success(&python);
        assert!(stdout.contains(&format!(" over {tls}")), "{stdout}");
        assert!(stdout.contains("OK discover_versions") && stdout.contains("OK query"), "{stdout}");
    }
    server.assert_serves();
}

fn flow_against_kmipd(version: &str) {
    let python = pykmip_python();
    let mut server = TestServer::start();
    let (ca, identity) = (server.ca_cert(), server.identity());
    let addr = server.addr();
    let run = Run { addr, ca: &ca, identity: &identity, version, mode: "flow", ssl_version: "PROTOCOL_TLS" };
    let stdout = run.expect_success(&python);
    assert!(stdout.contains("OK get_after_destroy"), "{stdout}");
    server.assert_serves();
}

#[test]
fn pykmip_flow_at_kmip_1_0() {
    flow_against_kmipd("1.0");
}

#[test]
fn pykmip_flow_at_kmip_1_1() {
    flow_against_kmipd("1.1");
}

#[test]
fn pykmip_flow_at_kmip_1_2() {
    flow_against_kmipd("1.2");
}

#[test]
fn pykmip_flow_at_kmip_1_3() {
    flow_against_kmipd("1.3");
}

#[test]
fn pykmip_flow_at_kmip_1_4() {
    flow_against_kmipd("1.4");
}

#[test]
fn pykmip_flow_at_kmip_2_0() {
    flow_against_kmipd("2.0");
}

/// Encrypt/decrypt, sign/verify and MAC from PyKMIP (`--mode crypto`) against `kmipd dev`.
fn crypto_against_kmipd(version: &str) {
    let python = pykmip_python();
    let mut server = TestServer::start();
    let (ca, identity) = (server.ca_cert(), server.identity());
    let run = Run { addr: server.addr(), ca: &ca, identity: &identity, version, mode: "crypto", ssl_version: "PROTOCOL_TLS" };
    let stdout = run.expect_success(&python);
    assert!(stdout.contains("OK cleanup"), "{stdout}");
    server.assert_serves();
}

#[test]
fn pykmip_crypto_at_kmip_1_2() {
    crypto_against_kmipd("1.2");
}

#[test]
fn pykmip_crypto_at_kmip_1_3() {
    crypto_against_kmipd("1.3");
}

#[test]
fn pykmip_crypto_at_kmip_1_4() {
    crypto_against_kmipd("1.4");
}

#[test]
fn pykmip_crypto_at_kmip_2_0() {
    crypto_against_kmipd("2.0");
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
        let run = Run { addr, ca, identity: &identity, version, mode: "flow", ssl_version: "PROTOCOL_TLS" };
        let stdout = run.expect_success(&python);
        assert!(stdout.contains("OK get: 32 bytes"), "{stdout}");
        assert!(stdout.contains("OK get_after_destroy"), "{stdout}");
    }
    drop(server);
}
