//! End-to-end harness: a real `kmipd dev` process and a blocking mutual-TLS KMIP client.
//!
//! - [`TestServer::start`] runs `kmipd dev` in a fresh temporary state directory on a free
//!   port (`--listen 127.0.0.1:0`; the address is read from the banner), and stops it with
//!   SIGINT when dropped. [`TestServer::restart`] and [`TestServer::kill9`] keep the state
//!   directory, for restart and crash tests. Its stderr goes to `kmipd.log` in the state
//!   directory ([`TestServer::log`]).
//! - [`KmipClient`] is a blocking rustls client (ring, TLS 1.3 and 1.2) that verifies the
//!   server against the dev CA and sends KMIP messages with kmipd's own TTLV codec; it is
//!   also a conformance [`Exchange`], so OASIS test cases replay over it.
//! - Identities: [`TestServer::identity`] (the dev client), [`TestServer::issue_identity`]
//!   (another client certificate from the same dev CA, for Permission Denied cases) and
//!   [`TestServer::foreign_identity`] (a certificate from another CA, which must be refused).
#![allow(dead_code)]

use std::fs::OpenOptions;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kmipd::conformance::Exchange;
use kmipd::kmip::enums::{Operation, ResultStatus};
use kmipd::kmip::{KmipEnum, ResponseMessage};
use kmipd::pki::DevPki;
use kmipd::ttlv::binary::{self, DecodeLimits};
use kmipd::ttlv::{Tag, Ttlv};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned, SupportedProtocolVersion};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// How long `kmipd dev` may take to print its banner (a cold first run, which may install
/// SoftHSM2, is slow; a warm one takes well under a second).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// How long a SIGINT'd server may take to exit before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// Read timeout of a [`KmipClient`]: a server that stops answering fails the test instead of
/// hanging it.
pub const CLIENT_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Largest response a [`KmipClient`] accepts (the server's default limit is 16 MiB).
const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// A client certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct ClientIdentity {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A `kmipd dev` process serving from its own temporary state directory.
pub struct TestServer {
    state: tempfile::TempDir,
    env: Vec<(String, String)>,
    child: Option<Child>,
    addr: SocketAddr,
    starts: usize,
}

impl TestServer {
    /// Starts `kmipd dev` with default settings.
    pub fn start() -> TestServer {
        Self::start_with_env(&[])
    }

    /// Starts `kmipd dev` with extra environment variables, e.g. `KMIPD__LIMITS__…`
    /// overrides. They apply to every later [`TestServer::restart`] too.
    pub fn start_with_env(env: &[(&str, &str)]) -> TestServer {
        let state = tempfile::Builder::new().prefix("kmipd-test-").tempdir().expect("creating a state directory");
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut server = TestServer { state, env, child: None, addr: SocketAddr::from(([127, 0, 0, 1], 0)), starts: 0 };
        server.launch();
        server
    }

    /// Where the server is listening (it may change across restarts).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The state directory (`pki/`, `softhsm/`, `data/`, `kmipd.log`).
    pub fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// The dev PKI `kmipd dev` created.
    pub fn pki(&self) -> DevPki {
        DevPki::ensure(&self.state_dir().join("pki")).expect("the dev PKI")
    }

    /// The CA that signed the server's (and the dev client's) certificate.
    pub fn ca_cert(&self) -> PathBuf {
        self.pki().ca_cert
    }

    /// The dev client identity (`CN=kmipd-dev-client`).
    pub fn identity(&self) -> ClientIdentity {
        let pki = self.pki();
        ClientIdentity { cert: pki.client_cert, key: pki.client_key }
    }

    /// Another client identity signed by the same dev CA (`CN=<common_name>`), written
    /// under `clients/` in the state directory. Calling it again with the same name returns
    /// the same identity.
    pub fn issue_identity(&self, common_name: &str) -> ClientIdentity {
        let dir = self.state_dir().join("clients");
        std::fs::create_dir_all(&dir).unwrap();
        let stem: String =
            common_name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        let identity = ClientIdentity { cert: dir.join(format!("{stem}.crt")), key: dir.join(format!("{stem}.key")) };
        if !identity.cert.exists() {
            let issued = self.pki().issue_client(common_name).expect("issuing a client certificate");
            write_private(&identity.key, &issued.key_pem);
            std::fs::write(&identity.cert, &issued.cert_pem).unwrap();
        }
        identity
    }

    /// A client certificate (clientAuth, same names as the dev client's) from a different
    /// CA, which the server must refuse.
    pub fn foreign_identity(&self) -> ClientIdentity {
        let other = DevPki::ensure(&self.state_dir().join("foreign-pki")).expect("a second dev PKI");
        ClientIdentity { cert: other.client_cert, key: other.client_key }
    }

    /// A connected client with the dev identity.
    pub fn client(&self) -> KmipClient {
        self.client_as(&self.identity())
    }

    /// A connected client with `identity`.
    pub fn client_as(&self, identity: &ClientIdentity) -> KmipClient {
        KmipClient::connect(self.addr, &self.ca_cert(), Some(identity), rustls::ALL_VERSIONS)
            .unwrap_or_else(|e| panic!("connecting to kmipd at {}: {e}\n{}", self.addr, self.log_tail()))
    }

    /// Sends a DiscoverVersions on a new connection and asserts it succeeds: the server is
    /// up and serving clients.
    pub fn assert_serves(&mut self) {
        self.assert_running();
        let mut client = self.client();
        let response = client.send(&discover_versions_request((1, 4), 1));
        let items = result_statuses(&response);
        assert_eq!(items, vec![(ResultStatus::Success, None)], "DiscoverVersions failed: {response:?}");
    }

    /// Panics (with the end of the server log) if the process has exited.
    pub fn assert_running(&mut self) {
        if let Some(status) = self.exit_status() {
            panic!("kmipd exited with {status}\n{}", self.log_tail());
        }
    }

    /// The exit status, if the process has exited (or was stopped).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().map(|c| c.try_wait().expect("polling kmipd")).unwrap_or(None)
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops the server (SIGINT, then waits; SIGKILL after a grace period) and returns how
    /// it exited. The state directory stays.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        let _ = Command::new("kill").arg("-INT").arg(child.id().to_string()).status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    eprintln!("kmipd did not stop within {STOP_TIMEOUT:?} of SIGINT; killing it");
                    let _ = child.kill();
                    return child.wait().ok();
                }
            }
        }
    }

    /// Stops the server gracefully and starts it again on the same state directory.
    pub fn restart(&mut self) {
        if let Some(status) = self.stop() {
            assert!(status.success(), "kmipd exited with {status} on SIGINT\n{}", self.log_tail());
        }
        self.launch();
    }

    /// Kills the server with SIGKILL (a crash) and waits for it. [`TestServer::restart`]
    /// brings it back on the same state.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Everything the server wrote to stderr, over all its runs.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The last lines of [`TestServer::log`], for failure messages.
    pub fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        let tail = lines[lines.len().saturating_sub(30)..].join("\n");
        format!("--- end of {} ---\n{tail}", self.log_path().display())
    }

    fn log_path(&self) -> PathBuf {
        self.state_dir().join("kmipd.log")
    }

    fn launch(&mut self) {
        assert!(self.child.is_none(), "kmipd is already running");
        self.starts += 1;
        let mut log = OpenOptions::new().create(true).append(true).open(self.log_path()).unwrap();
        writeln!(log, "=== harness: start #{} ===", self.starts).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_kmipd"))
            .args(["dev", "--listen", "127.0.0.1:0", "--state-dir"])
            .arg(self.state.path())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("spawning kmipd dev");
        let stdout = child.stdout.take().unwrap();
        self.child = Some(child);
        let rx = kmipd::cli::serve::forward_banner(stdout);
        let banner = match rx.recv_timeout(START_TIMEOUT) {
            Ok(line) => line,
            Err(e) => {
                let status = self.stop();
                panic!("kmipd dev printed no banner ({e}; exit status {status:?})\n{}", self.log_tail());
            }
        };
        self.addr = kmipd::cli::serve::parse_banner(&banner).unwrap_or_else(|| panic!("unexpected banner {banner:?}"));
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn write_private(path: &Path, content: &str) {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path).unwrap();
    f.write_all(content.as_bytes()).unwrap();
}

/// A blocking mutual-TLS KMIP client.
pub struct KmipClient {
    tls: StreamOwned<ClientConnection, TcpStream>,
}

impl KmipClient {
    /// Connects and completes the TLS handshake, offering `versions`. Without `identity` no
    /// client certificate is sent. In TLS 1.3 the client's side of the handshake ends before
    /// the server has judged its certificate, so a refusal may only show on the first read.
    pub fn connect(
        addr: SocketAddr,
        ca: &Path,
        identity: Option<&ClientIdentity>,
        versions: &[&'static SupportedProtocolVersion],
    ) -> io::Result<KmipClient> {
        Ok(KmipClient { tls: tls_stream(addr, ca, identity, versions)? })
    }

    /// The negotiated TLS version.
    pub fn tls_version(&self) -> Option<rustls::ProtocolVersion> {
        self.tls.conn.protocol_version()
    }

    /// Changes the read timeout (default [`CLIENT_READ_TIMEOUT`]).
    pub fn set_read_timeout(&mut self, timeout: Duration) {
        self.tls.sock.set_read_timeout(Some(timeout)).unwrap();
    }

    /// Writes raw bytes (no framing).
    pub fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.tls.write_all(bytes)?;
        self.tls.flush()
    }

    /// Reads one whole message (8-byte TTLV header plus the length it announces).
    pub fn read_message(&mut self) -> io::Result<Vec<u8>> {
        let mut message = vec![0u8; 8];
        self.tls.read_exact(&mut message)?;
        let len = u32::from_be_bytes(message[4..8].try_into().unwrap()) as usize;
        if len > MAX_RESPONSE_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, format!("response announces {len} bytes")));
        }
        message.resize(8 + len, 0);
        self.tls.read_exact(&mut message[8..])?;
        Ok(message)
    }

    /// Sends one encoded request and reads one response.
    pub fn try_send_bytes(&mut self, request: &[u8]) -> io::Result<Vec<u8>> {
        self.write_raw(request)?;
        self.read_message()
    }

    /// [`KmipClient::try_send_bytes`], panicking on a transport failure.
    pub fn send_bytes(&mut self, request: &[u8]) -> Vec<u8> {
        self.try_send_bytes(request).unwrap_or_else(|e| panic!("KMIP exchange failed: {e}"))
    }

    /// Encodes `request`, sends it and decodes the response.
    pub fn try_send(&mut self, request: &Ttlv) -> Result<Ttlv, String> {
        let bytes = binary::encode(request).map_err(|e| format!("encoding the request: {e}"))?;
        let response = self.try_send_bytes(&bytes).map_err(|e| e.to_string())?;
        binary::decode(&response, &DecodeLimits { max_bytes: MAX_RESPONSE_BYTES, ..DecodeLimits::default() })
            .map_err(|e| format!("decoding the response: {e}"))
    }

    /// [`KmipClient::try_send`], panicking on failure.
    pub fn send(&mut self, request: &Ttlv) -> Ttlv {
        self.try_send(request).unwrap_or_else(|e| panic!("KMIP exchange failed: {e}"))
    }

    /// Reads until the server closes the connection and returns how long that took; panics
    /// if it is still open after `limit`. Anything the server sends meanwhile is ignored.
    pub fn expect_closed(&mut self, limit: Duration) -> Duration {
        let start = Instant::now();
        let mut buf = [0u8; 4096];
        loop {
            let left = limit.checked_sub(start.elapsed()).unwrap_or_default().max(Duration::from_millis(1));
            self.tls.sock.set_read_timeout(Some(left)).unwrap();
            match self.tls.read(&mut buf) {
                Ok(0) => return start.elapsed(),
                Ok(_) => {}
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    assert!(start.elapsed() < limit, "the server did not close the connection within {limit:?}");
                }
                Err(_) => return start.elapsed(),
            }
            assert!(start.elapsed() < limit, "the server did not close the connection within {limit:?}");
        }
    }
}

/// A blocking mutual-TLS stream to `addr` with its handshake done (what [`KmipClient`] speaks
/// over; other client libraries take it as their transport). The server is verified against
/// `ca` under the name `localhost`; without `identity` no client certificate is sent.
pub fn tls_stream(
    addr: SocketAddr,
    ca: &Path,
    identity: Option<&ClientIdentity>,
    versions: &[&'static SupportedProtocolVersion],
) -> io::Result<StreamOwned<ClientConnection, TcpStream>> {
    let config = Arc::new(client_config(ca, identity, versions));
    let tcp = TcpStream::connect(addr)?;
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(CLIENT_READ_TIMEOUT))?;
    tcp.set_write_timeout(Some(CLIENT_READ_TIMEOUT))?;
    let conn = ClientConnection::new(config, ServerName::try_from("localhost").unwrap()).map_err(io::Error::other)?;
    let mut tls = StreamOwned::new(conn, tcp);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    Ok(tls)
}

impl Exchange for KmipClient {
    fn exchange(&mut self, request: &Ttlv) -> Result<Ttlv, String> {
        self.try_send(request)
    }
}

fn client_config(
    ca: &Path,
    identity: Option<&ClientIdentity>,
    versions: &[&'static SupportedProtocolVersion],
) -> ClientConfig {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).expect("reading the CA file") {
        roots.add(cert.expect("a CA certificate")).expect("a usable CA certificate");
    }
    let builder = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(versions)
        .expect("TLS versions")
        .with_root_certificates(roots);
    match identity {
        Some(id) => {
            let chain: Vec<_> = CertificateDer::pem_file_iter(&id.cert)
                .expect("reading the client certificate")
                .map(|c| c.expect("a client certificate"))
                .collect();
            let key = PrivateKeyDer::from_pem_file(&id.key).expect("reading the client key");
            builder.with_client_auth_cert(chain, key).expect("a usable client certificate")
        }
        None => builder.with_no_client_auth(),
    }
}

/// A Request Message at `version` with one Batch Item per `(operation, payload)`; `extra_header` items
/// (e.g. Maximum Response Size) go into the Request Header after the Protocol Version.
pub fn request_with_header(version: (i32, i32), extra_header: Vec<Ttlv>, items: Vec<(Operation, Vec<Ttlv>)>) -> Ttlv {
    let mut header = vec![Ttlv::structure(
        Tag::PROTOCOL_VERSION,
        vec![
            Ttlv::integer(Tag::PROTOCOL_VERSION_MAJOR, version.0),
            Ttlv::integer(Tag::PROTOCOL_VERSION_MINOR, version.1),
        ],
    )];
    header.extend(extra_header);
    header.push(Ttlv::integer(Tag::BATCH_COUNT, i32::try_from(items.len()).unwrap()));
    let mut children = vec![Ttlv::structure(Tag::REQUEST_HEADER, header)];
    children.extend(items.into_iter().map(|(operation, payload)| {
        Ttlv::structure(
            Tag::BATCH_ITEM,
            vec![Ttlv::enumeration(Tag::OPERATION, operation.to_u32()), Ttlv::structure(Tag::REQUEST_PAYLOAD, payload)],
        )
    }));
    Ttlv::structure(Tag::REQUEST_MESSAGE, children)
}

/// A Request Message at `version` with one Batch Item per `(operation, payload)`.
pub fn request(version: (i32, i32), items: Vec<(Operation, Vec<Ttlv>)>) -> Ttlv {
    request_with_header(version, Vec::new(), items)
}

/// A Request Message of `count` DiscoverVersions items (no versions listed) at `version`.
pub fn discover_versions_request(version: (i32, i32), count: usize) -> Ttlv {
    request(version, vec![(Operation::DiscoverVersions, Vec::new()); count])
}

/// The typed form of a response tree.
pub fn typed(response: &Ttlv) -> ResponseMessage {
    ResponseMessage::from_ttlv(response).unwrap_or_else(|e| panic!("not a Response Message ({e}): {response:?}"))
}

/// Result Status and Result Reason of every batch item of a response.
pub fn result_statuses(response: &Ttlv) -> Vec<(ResultStatus, Option<kmipd::kmip::enums::ResultReason>)> {
    typed(response).batch_items.iter().map(|i| (i.result_status, i.result_reason)).collect()
}
