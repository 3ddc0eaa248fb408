//! `kmipd bench server`: a KMIP load generator over mutual TLS, with an in-process HSM baseline.
//!
//! By default it starts its own `kmipd dev` child process on a fresh state directory (SoftHSM2 token, dev PKI,
//! store), so that the server's CPU time and RSS can be read from `/proc/<pid>` apart from the load generator's.
//! `--addr` with `--ca/--cert/--key` targets a running server instead. `--baseline` runs the same operation
//! directly through [`Pkcs11Hsm`] in this process, on the same token, in the same run, and prints the ratio
//! server/raw. Nothing here asserts timing: it prints figures.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use thiserror::Error;

use crate::hsm::{
    Cipher, Curve, HashAlg, Hsm, HsmError, KeyPairSpec, KeyUsage, NewObject, Pkcs11Hsm, SecretKeyAlgorithm,
    SecretKeySpec, SignatureAlgorithm,
};
use crate::kmip::enums::{
    BlockCipherMode, CryptographicAlgorithm, DigitalSignatureAlgorithm, NameType, ObjectType, Operation,
    RecommendedCurve, ResultStatus,
};
use crate::kmip::KmipEnum;
use crate::ttlv::binary::{self, DecodeLimits};
use crate::ttlv::{Tag, Ttlv, Value};

/// The operation a benchmark repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchOp {
    /// DiscoverVersions: the server's own overhead (TLS, framing, codec), no HSM call.
    Discover,
    /// Create an AES-256 key (a token key generation and two flushed store writes).
    Create,
    /// Create an AES-256 key, then Destroy it.
    CreateDestroy,
    /// GetAttributes of one key (served from the store).
    GetAttributes,
    /// Locate by Name (served from the store's index).
    Locate,
    /// AES-256-GCM Encrypt of `--bytes` bytes.
    Encrypt,
    /// Sign `--bytes` bytes (`--sign-alg`).
    Sign,
    /// RNGRetrieve of `--bytes` bytes.
    Rng,
}

impl BenchOp {
    fn name(self) -> &'static str {
        match self {
            BenchOp::Discover => "discover",
            BenchOp::Create => "create",
            BenchOp::CreateDestroy => "create-destroy",
            BenchOp::GetAttributes => "get-attributes",
            BenchOp::Locate => "locate",
            BenchOp::Encrypt => "encrypt",
            BenchOp::Sign => "sign",
            BenchOp::Rng => "rng",
        }
    }
}

/// Signature scheme of `--op sign`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignAlg {
    /// ECDSA on P-256 with SHA-256.
    EcdsaP256,
    /// RSA-2048 PKCS#1 v1.5 with SHA-256.
    Rsa2048,
}

/// Arguments of `kmipd bench server`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServerBenchArgs {
    /// The operation to repeat.
    #[arg(long, value_enum)]
    pub op: BenchOp,
    /// Concurrent mutual-TLS connections, one client thread each.
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
    /// Seconds of load per round.
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Payload size of encrypt, sign and rng.
    #[arg(long, default_value_t = 1024)]
    pub bytes: usize,
    /// Signature scheme of `--op sign`.
    #[arg(long, value_enum, default_value = "ecdsa-p256")]
    pub sign_alg: SignAlg,
    /// Also run the operation directly through the HSM session pool in this process and print server/raw.
    #[arg(long)]
    pub baseline: bool,
    /// Threads of the in-process baseline.
    #[arg(long, default_value_t = 2)]
    pub baseline_threads: usize,
    /// Rounds; with --baseline each round runs the server, then the raw HSM (alternating which goes first), and
    /// the summary keeps each side's best: background load then hits both alike.
    #[arg(long, default_value_t = 1)]
    pub rounds: u32,
    /// Objects (AES-256 keys named `bench-<run>-obj-<i>`) to create before measuring, e.g. for Locate in a larger store.
    #[arg(long, default_value_t = 0)]
    pub prefill: usize,
    /// After the prefill, restart the built-in server and report how long it takes to serve again.
    #[arg(long)]
    pub measure_startup: bool,
    /// Open this many idle TLS connections (one DiscoverVersions each) and report the server's RSS with them.
    #[arg(long, default_value_t = 0)]
    pub idle: usize,
    /// Where the built-in server's fresh state directory is made (default: the system temporary directory;
    /// `/dev/shm` puts the SoftHSM2 token on tmpfs).
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// Keep the built-in server's state directory.
    #[arg(long)]
    pub keep_state: bool,
    /// Target a running server at this address instead of starting one (needs --ca, --cert, --key).
    #[arg(long, requires_all = ["ca", "cert", "key"], conflicts_with_all = ["baseline", "measure_startup"])]
    pub addr: Option<SocketAddr>,
    /// CA certificate (PEM) that signed the server's certificate.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Client certificate (PEM).
    #[arg(long)]
    pub cert: Option<PathBuf>,
    /// Client private key (PEM).
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// With --addr: the server's process id on this machine, to read its CPU time and RSS from /proc.
    #[arg(long, requires = "addr")]
    pub server_pid: Option<u32>,
    /// Name the server's certificate must carry.
    #[arg(long, default_value = "localhost")]
    pub server_name: String,
}

/// Why a benchmark could not run.
#[derive(Debug, Error)]
pub enum BenchError {
    /// A file, socket or process failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// TLS setup failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// The server answered something unexpected.
    #[error("{operation}: {detail}")]
    Kmip {
        /// The KMIP operation.
        operation: &'static str,
        /// What went wrong.
        detail: String,
    },
    /// The HSM failed in the baseline.
    #[error("HSM: {0}")]
    Hsm(#[from] HsmError),
    /// The built-in server could not be prepared or started.
    #[error("built-in server: {0}")]
    Server(String),
    /// The arguments ask for something this command cannot do.
    #[error("{0}")]
    Usage(String),
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BenchError {
    let context = context.into();
    move |source| BenchError::Io { context, source }
}

/// How long the built-in server may take to print its banner.
const START_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a SIGINT'd server may take to exit before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// A server that stops answering fails the run instead of hanging it.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
/// Creates per request message during the prefill: fewer round trips, the same per-object work.
const PREFILL_BATCH: usize = 20;
const KMIP_VERSION: (i32, i32) = (2, 0);
const USAGE_ENCRYPT_DECRYPT: i32 = 0x4 | 0x8;
const USAGE_SIGN: i32 = 0x1;
const USAGE_VERIFY: i32 = 0x2;

// ---------------------------------------------------------------------------------------------------------------
// The built-in server

/// A `kmipd dev` child process on its own state directory.
struct ChildServer {
    state: PathBuf,
    keep: bool,
    child: Option<Child>,
    addr: SocketAddr,
}

impl ChildServer {
    fn start(work_dir: Option<&Path>, keep: bool) -> Result<ChildServer, BenchError> {
        let parent = work_dir.map(Path::to_path_buf).unwrap_or_else(std::env::temp_dir);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let state = parent.join(format!("kmipd-bench-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&state).map_err(io(format!("creating {}", state.display())))?;
        let mut server = ChildServer { state, keep, child: None, addr: SocketAddr::from(([127, 0, 0, 1], 0)) };
        server.launch()?;
        Ok(server)
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Starts `kmipd dev` and waits for its banner; returns how long that took.
    fn launch(&mut self) -> Result<Duration, BenchError> {
        let exe = std::env::current_exe().map_err(io("finding the kmipd executable"))?;
        let log_path = self.state.join("kmipd.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(io(format!("opening {}", log_path.display())))?;
        let started = Instant::now();
        let mut child = Command::new(exe)
            .args(["dev", "--listen", "127.0.0.1:0", "--state-dir"])
            .arg(&self.state)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .map_err(io("spawning kmipd dev"))?;
        let stdout = child.stdout.take();
        self.child = Some(child);
        let stdout = stdout.ok_or_else(|| BenchError::Server("no stdout pipe".into()))?;
        let banner = super::serve::forward_banner(stdout).recv_timeout(START_TIMEOUT).map_err(|e| {
            BenchError::Server(format!("kmipd dev printed no banner ({e}); see {}", log_path.display()))
        })?;
        let elapsed = started.elapsed();
        self.addr = super::serve::parse_banner(&banner)
            .ok_or_else(|| BenchError::Server(format!("unexpected banner {banner:?}")))?;
        Ok(elapsed)
    }

    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").arg("-INT").arg(child.id().to_string()).status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            match child.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return;
                }
            }
        }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        self.stop();
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.state);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Process figures from /proc

/// CPU time (user + system) of a process, from `/proc/<pid>/stat`.
fn cpu_time(pid: Option<u32>) -> Option<Duration> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/stat"),
        None => "/proc/self/stat".to_string(),
    };
    let stat = std::fs::read_to_string(path).ok()?;
    // The command name may hold spaces; the fields after it are plain.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line; the rest after ')' starts at field 3.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_secs_f64(ticks as f64 / clock_ticks() as f64))
}

/// `sysconf(_SC_CLK_TCK)` without unsafe code: `getconf`, else Linux's usual 100.
fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// Resident set size of a process in KiB, from `/proc/<pid>/status`.
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

// ---------------------------------------------------------------------------------------------------------------
// The KMIP client

/// Client TLS settings and where to connect.
#[derive(Clone)]
struct Endpoint {
    addr: SocketAddr,
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
}

impl Endpoint {
    fn new(addr: SocketAddr, ca: &Path, cert: &Path, key: &Path, server_name: &str) -> Result<Endpoint, BenchError> {
        let tls = |what: &str, path: &Path, e: &dyn std::fmt::Display| {
            BenchError::Tls(format!("{what} {}: {e}", path.display()))
        };
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca).map_err(|e| tls("reading", ca, &e))? {
            let cert = cert.map_err(|e| tls("reading", ca, &e))?;
            roots.add(cert).map_err(|e| tls("using", ca, &e))?;
        }
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|e| tls("reading", cert, &e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| tls("reading", cert, &e))?;
        let private = PrivateKeyDer::from_pem_file(key).map_err(|e| tls("reading", key, &e))?;
        let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| BenchError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, private)
            .map_err(|e| BenchError::Tls(e.to_string()))?;
        let server_name =
            ServerName::try_from(server_name.to_owned()).map_err(|e| BenchError::Tls(format!("server name: {e}")))?;
        Ok(Endpoint { addr, config: Arc::new(config), server_name })
    }

    fn connect(&self) -> Result<Connection, BenchError> {
        let tcp = TcpStream::connect(self.addr).map_err(io(format!("connecting to {}", self.addr)))?;
        let setup = io("setting socket options");
        tcp.set_nodelay(true)
            .and_then(|()| tcp.set_read_timeout(Some(CLIENT_TIMEOUT)))
            .and_then(|()| tcp.set_write_timeout(Some(CLIENT_TIMEOUT)))
            .map_err(setup)?;
        let conn = ClientConnection::new(Arc::clone(&self.config), self.server_name.clone())
            .map_err(|e| BenchError::Tls(e.to_string()))?;
        let mut tls = StreamOwned::new(conn, tcp);
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock).map_err(io("TLS handshake"))?;
        }
        Ok(Connection { tls })
    }
}

/// One blocking mutual-TLS KMIP connection.
struct Connection {
    tls: StreamOwned<ClientConnection, TcpStream>,
}

impl Connection {
    /// Sends one request message and returns the response message.
    fn exchange(&mut self, request: &[u8]) -> Result<Ttlv, BenchError> {
        self.tls.write_all(request).and_then(|()| self.tls.flush()).map_err(io("sending a request"))?;
        let mut message = vec![0u8; 8];
        self.tls.read_exact(&mut message).map_err(io("reading a response"))?;
        let len = u32::from_be_bytes([message[4], message[5], message[6], message[7]]) as usize;
        let limits = DecodeLimits::default();
        if len + 8 > limits.max_bytes {
            return Err(BenchError::Kmip { operation: "response", detail: format!("announces {len} bytes") });
        }
        message.resize(8 + len, 0);
        self.tls.read_exact(&mut message[8..]).map_err(io("reading a response"))?;
        binary::decode(&message, &limits)
            .map_err(|e| BenchError::Kmip { operation: "response", detail: format!("cannot decode: {e}") })
    }

    /// Sends `items` as one message and returns each item's Response Payload, failing unless all succeeded.
    fn call(&mut self, items: &[(Operation, Vec<Ttlv>)]) -> Result<Vec<Ttlv>, BenchError> {
        let request = encode(&request_message(items))?;
        let response = self.exchange(&request)?;
        let operation = items.first().map_or("request", |(op, _)| op_name(*op));
        let mut payloads = Vec::with_capacity(items.len());
        for item in response.children_with(Tag::BATCH_ITEM) {
            let status = match item.child(Tag::RESULT_STATUS).map(|s| &s.value) {
                Some(Value::Enumeration(v)) => ResultStatus::from_u32(*v),
                _ => None,
            };
            if status != Some(ResultStatus::Success) {
                let message = match item.child(Tag::RESULT_MESSAGE).map(|m| &m.value) {
                    Some(Value::TextString(t)) => t.clone(),
                    _ => String::new(),
                };
                return Err(BenchError::Kmip { operation, detail: format!("status {status:?}: {message}") });
            }
            payloads.push(item.child(Tag::RESPONSE_PAYLOAD).cloned().unwrap_or(Ttlv::structure(Tag::RESPONSE_PAYLOAD, vec![])));
        }
        if payloads.len() != items.len() {
            return Err(BenchError::Kmip { operation, detail: format!("{} answers to {} items", payloads.len(), items.len()) });
        }
        Ok(payloads)
    }

    fn call_one(&mut self, operation: Operation, payload: Vec<Ttlv>) -> Result<Ttlv, BenchError> {
        let mut payloads = self.call(&[(operation, payload)])?;
        payloads.pop().ok_or(BenchError::Kmip { operation: op_name(operation), detail: "no answer".into() })
    }
}

fn op_name(operation: Operation) -> &'static str {
    match operation {
        Operation::DiscoverVersions => "DiscoverVersions",
        Operation::Create => "Create",
        Operation::CreateKeyPair => "CreateKeyPair",
        Operation::Destroy => "Destroy",
        Operation::GetAttributes => "GetAttributes",
        Operation::Locate => "Locate",
        Operation::Encrypt => "Encrypt",
        Operation::Sign => "Sign",
        Operation::RNGRetrieve => "RNGRetrieve",
        Operation::Activate => "Activate",
        _ => "operation",
    }
}

fn encode(message: &Ttlv) -> Result<Vec<u8>, BenchError> {
    binary::encode(message).map_err(|e| BenchError::Kmip { operation: "request", detail: format!("cannot encode: {e}") })
}

fn request_message(items: &[(Operation, Vec<Ttlv>)]) -> Ttlv {
    let (major, minor) = KMIP_VERSION;
    let header = Ttlv::structure(
        Tag::REQUEST_HEADER,
        vec![
            Ttlv::structure(
                Tag::PROTOCOL_VERSION,
                vec![Ttlv::integer(Tag::PROTOCOL_VERSION_MAJOR, major), Ttlv::integer(Tag::PROTOCOL_VERSION_MINOR, minor)],
            ),
            Ttlv::integer(Tag::BATCH_COUNT, i32::try_from(items.len()).unwrap_or(i32::MAX)),
        ],
    );
    let mut children = vec![header];
    children.extend(items.iter().map(|(operation, payload)| {
        Ttlv::structure(
            Tag::BATCH_ITEM,
            vec![
                Ttlv::enumeration(Tag::OPERATION, operation.to_u32()),
                Ttlv::structure(Tag::REQUEST_PAYLOAD, payload.clone()),
            ],
        )
    }));
    Ttlv::structure(Tag::REQUEST_MESSAGE, children)
}

fn uid_of(payload: &Ttlv, tag: Tag) -> Result<String, BenchError> {
    match payload.child(tag).map(|u| &u.value) {
        Some(Value::TextString(uid)) => Ok(uid.clone()),
        _ => Err(BenchError::Kmip { operation: "response", detail: format!("no {tag} in {payload:?}") }),
    }
}

fn name_attribute(name: &str) -> Ttlv {
    Ttlv::structure(
        Tag::NAME,
        vec![
            Ttlv::text(Tag::NAME_VALUE, name),
            Ttlv::enumeration(Tag::NAME_TYPE, NameType::UninterpretedTextString.to_u32()),
        ],
    )
}

/// Create payload of a Pre-Active AES-256 key (destroyable without a Revoke), named when `name` is given.
fn create_aes_payload(name: Option<&str>) -> Vec<Ttlv> {
    let mut attributes = vec![
        Ttlv::enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm::AES.to_u32()),
        Ttlv::integer(Tag::CRYPTOGRAPHIC_LENGTH, 256),
        Ttlv::integer(Tag::CRYPTOGRAPHIC_USAGE_MASK, USAGE_ENCRYPT_DECRYPT),
    ];
    attributes.extend(name.map(name_attribute));
    vec![
        Ttlv::enumeration(Tag::OBJECT_TYPE, ObjectType::SymmetricKey.to_u32()),
        Ttlv::structure(Tag::ATTRIBUTES, attributes),
    ]
}

fn create_key_pair_payload(alg: SignAlg) -> Vec<Ttlv> {
    let mut common = Vec::new();
    match alg {
        SignAlg::EcdsaP256 => {
            common.push(Ttlv::enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm::EC.to_u32()));
            common.push(Ttlv::structure(
                Tag::CRYPTOGRAPHIC_DOMAIN_PARAMETERS,
                vec![Ttlv::enumeration(Tag::RECOMMENDED_CURVE, RecommendedCurve::P_256.to_u32())],
            ));
        }
        SignAlg::Rsa2048 => {
            common.push(Ttlv::enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm::RSA.to_u32()));
            common.push(Ttlv::integer(Tag::CRYPTOGRAPHIC_LENGTH, 2048));
        }
    }
    vec![
        Ttlv::structure(Tag::COMMON_ATTRIBUTES, common),
        Ttlv::structure(Tag::PRIVATE_KEY_ATTRIBUTES, vec![Ttlv::integer(Tag::CRYPTOGRAPHIC_USAGE_MASK, USAGE_SIGN)]),
        Ttlv::structure(Tag::PUBLIC_KEY_ATTRIBUTES, vec![Ttlv::integer(Tag::CRYPTOGRAPHIC_USAGE_MASK, USAGE_VERIFY)]),
    ]
}

fn signature_algorithm(alg: SignAlg) -> DigitalSignatureAlgorithm {
    match alg {
        SignAlg::EcdsaP256 => DigitalSignatureAlgorithm::ECDSAWithSHA256,
        SignAlg::Rsa2048 => DigitalSignatureAlgorithm::SHA_256WithRSAEncryption,
    }
}

fn uid_item(uid: &str) -> Ttlv {
    Ttlv::text(Tag::UNIQUE_IDENTIFIER, uid)
}

// ---------------------------------------------------------------------------------------------------------------
// Workloads

/// What the measured loop needs, prepared once through the server.
struct Workload {
    op: BenchOp,
    /// The key of encrypt/sign/get-attributes (more than one: picked round-robin).
    uids: Vec<String>,
    /// Names for locate, picked round-robin.
    names: Vec<String>,
    data: Vec<u8>,
    sign_alg: SignAlg,
}

impl Workload {
    fn prepare(args: &ServerBenchArgs, conn: &mut Connection, prefilled: &[String]) -> Result<Workload, BenchError> {
        let mut uids = Vec::new();
        let mut names = Vec::new();
        match args.op {
            BenchOp::Encrypt => {
                let created = conn.call_one(Operation::Create, create_aes_payload(Some(&bench_name("encrypt-key"))))?;
                uids.push(activate(conn, uid_of(&created, Tag::UNIQUE_IDENTIFIER)?)?);
            }
            BenchOp::Sign => {
                let pair = conn.call_one(Operation::CreateKeyPair, create_key_pair_payload(args.sign_alg))?;
                uids.push(activate(conn, uid_of(&pair, Tag::PRIVATE_KEY_UNIQUE_IDENTIFIER)?)?);
            }
            BenchOp::GetAttributes | BenchOp::Locate if !prefilled.is_empty() => {
                names = (0..prefilled.len()).map(prefill_name).collect();
                uids = prefilled.to_vec();
            }
            BenchOp::GetAttributes | BenchOp::Locate => {
                let name = bench_name("obj-single");
                let created = conn.call_one(Operation::Create, create_aes_payload(Some(&name)))?;
                uids.push(uid_of(&created, Tag::UNIQUE_IDENTIFIER)?);
                names.push(name);
            }
            BenchOp::Discover | BenchOp::Create | BenchOp::CreateDestroy | BenchOp::Rng => {}
        }
        Ok(Workload { op: args.op, uids, names, data: vec![0x5a; args.bytes], sign_alg: args.sign_alg })
    }

    /// One measured operation (create-destroy: two round trips).
    fn run_once(&self, conn: &mut Connection, n: usize) -> Result<(), BenchError> {
        let pick = |list: &[String]| list.get(n % list.len().max(1)).cloned().unwrap_or_default();
        match self.op {
            BenchOp::Discover => conn.call_one(Operation::DiscoverVersions, Vec::new()).map(drop),
            BenchOp::Create => conn.call_one(Operation::Create, create_aes_payload(None)).map(drop),
            BenchOp::CreateDestroy => {
                let created = conn.call_one(Operation::Create, create_aes_payload(None))?;
                let uid = uid_of(&created, Tag::UNIQUE_IDENTIFIER)?;
                conn.call_one(Operation::Destroy, vec![uid_item(&uid)]).map(drop)
            }
            BenchOp::GetAttributes => conn.call_one(Operation::GetAttributes, vec![uid_item(&pick(&self.uids))]).map(drop),
            BenchOp::Locate => {
                let name = pick(&self.names);
                let found = conn.call_one(Operation::Locate, vec![Ttlv::structure(Tag::ATTRIBUTES, vec![name_attribute(&name)])])?;
                if found.child(Tag::UNIQUE_IDENTIFIER).is_none() {
                    return Err(BenchError::Kmip { operation: "Locate", detail: format!("found nothing named {name}") });
                }
                Ok(())
            }
            BenchOp::Encrypt => {
                let params = Ttlv::structure(
                    Tag::CRYPTOGRAPHIC_PARAMETERS,
                    // The algorithm is redundant for kmipd (the key says it) but PyKMIP's server requires it.
                    vec![
                        Ttlv::enumeration(Tag::BLOCK_CIPHER_MODE, BlockCipherMode::GCM.to_u32()),
                        Ttlv::enumeration(Tag::CRYPTOGRAPHIC_ALGORITHM, CryptographicAlgorithm::AES.to_u32()),
                        Ttlv::integer(Tag::TAG_LENGTH, 16),
                    ],
                );
                let payload = vec![uid_item(&pick(&self.uids)), params, Ttlv::bytes(Tag::DATA, self.data.clone())];
                conn.call_one(Operation::Encrypt, payload).map(drop)
            }
            BenchOp::Sign => {
                let params = Ttlv::structure(
                    Tag::CRYPTOGRAPHIC_PARAMETERS,
                    vec![Ttlv::enumeration(Tag::DIGITAL_SIGNATURE_ALGORITHM, signature_algorithm(self.sign_alg).to_u32())],
                );
                let payload = vec![uid_item(&pick(&self.uids)), params, Ttlv::bytes(Tag::DATA, self.data.clone())];
                conn.call_one(Operation::Sign, payload).map(drop)
            }
            BenchOp::Rng => {
                let len = i32::try_from(self.data.len()).unwrap_or(i32::MAX);
                conn.call_one(Operation::RNGRetrieve, vec![Ttlv::integer(Tag::DATA_LENGTH, len)]).map(drop)
            }
        }
    }
}

/// Activates a key so that Encrypt and Sign accept it. An Activate operation rather than an Activation Date
/// attribute at creation: the PyKMIP server refuses the attribute at KMIP 2.0.
fn activate(conn: &mut Connection, uid: String) -> Result<String, BenchError> {
    conn.call_one(Operation::Activate, vec![uid_item(&uid)])?;
    Ok(uid)
}

fn prefill_name(i: usize) -> String {
    bench_name(&format!("obj-{i}"))
}

/// `bench-<run>-<what>`: names unique to this run, so benches can run again against a server that keeps its state.
fn bench_name(what: &str) -> String {
    static RUN: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let run = RUN.get_or_init(|| {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        format!("{}.{secs}", std::process::id())
    });
    format!("bench-{run}-{what}")
}

/// Creates `count` named AES-256 keys over `connections` connections; returns their UIDs in name order.
fn prefill(endpoint: &Endpoint, connections: usize, count: usize) -> Result<Vec<String>, BenchError> {
    let next = AtomicU64::new(0);
    let results: Vec<Result<Vec<(usize, String)>, BenchError>> = std::thread::scope(|scope| {
        let joins: Vec<_> = (0..connections.max(1))
            .map(|_| {
                let next = &next;
                scope.spawn(move || {
                    let mut conn = endpoint.connect()?;
                    let mut made = Vec::new();
                    loop {
                        let start = next.fetch_add(PREFILL_BATCH as u64, Ordering::Relaxed) as usize;
                        if start >= count {
                            return Ok(made);
                        }
                        let end = (start + PREFILL_BATCH).min(count);
                        let items: Vec<_> = (start..end)
                            .map(|i| (Operation::Create, create_aes_payload(Some(&prefill_name(i)))))
                            .collect();
                        for (i, payload) in (start..end).zip(conn.call(&items)?) {
                            made.push((i, uid_of(&payload, Tag::UNIQUE_IDENTIFIER)?));
                        }
                    }
                })
            })
            .collect();
        joins.into_iter().map(|j| j.join().unwrap_or_else(|_| Err(BenchError::Server("prefill thread panicked".into())))).collect()
    });
    let mut all = Vec::with_capacity(count);
    for r in results {
        all.extend(r?);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, uid)| uid).collect())
}

// ---------------------------------------------------------------------------------------------------------------
// Measurement

/// What one side of a round measured.
struct Figures {
    ops: u64,
    elapsed: Duration,
    /// Per-operation latencies, sorted (empty for the raw side, which is not timed per call).
    latencies: Vec<Duration>,
    /// CPU of the process doing the work (the server's, or this process's for raw).
    cpu: Option<Duration>,
    /// CPU of this process (the load generator), for the server side.
    client_cpu: Option<Duration>,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn percentile(&self, p: f64) -> Option<Duration> {
        let n = self.latencies.len();
        if n == 0 {
            return None;
        }
        let idx = ((n as f64 * p).ceil() as usize).clamp(1, n) - 1;
        self.latencies.get(idx).copied()
    }
}

fn per_op(cpu: Option<Duration>, ops: u64) -> String {
    match cpu {
        Some(cpu) if ops > 0 => format!("{:.1}", cpu.as_secs_f64() * 1e6 / ops as f64),
        _ => "-".into(),
    }
}

fn ms(d: Option<Duration>) -> String {
    d.map_or("-".into(), |d| format!("{:.3}", d.as_secs_f64() * 1e3))
}

fn run_server_side(
    endpoint: &Endpoint,
    workload: &Workload,
    connections: usize,
    duration: Duration,
    server_pid: Option<u32>,
) -> Result<Figures, BenchError> {
    // Connect first: the handshakes are not part of the measured window.
    let conns: Vec<Connection> = (0..connections.max(1)).map(|_| endpoint.connect()).collect::<Result<_, _>>()?;
    // No pid, no server figure: cpu_time(None) would read this process.
    let server_cpu = || server_pid.and_then(|pid| cpu_time(Some(pid)));
    let cpu_before = server_cpu();
    let client_before = cpu_time(None);
    let start = Instant::now();
    let results: Vec<Result<Vec<Duration>, BenchError>> = std::thread::scope(|scope| {
        let joins: Vec<_> = conns
            .into_iter()
            .enumerate()
            .map(|(t, mut conn)| {
                scope.spawn(move || {
                    let mut latencies = Vec::new();
                    let mut n = t;
                    while start.elapsed() < duration {
                        let began = Instant::now();
                        workload.run_once(&mut conn, n)?;
                        latencies.push(began.elapsed());
                        n += connections;
                    }
                    Ok(latencies)
                })
            })
            .collect();
        joins.into_iter().map(|j| j.join().unwrap_or_else(|_| Err(BenchError::Server("client thread panicked".into())))).collect()
    });
    let elapsed = start.elapsed();
    let cpu = server_cpu().zip(cpu_before).map(|(after, before)| after.saturating_sub(before));
    let client_cpu = cpu_time(None).zip(client_before).map(|(after, before)| after.saturating_sub(before));
    let mut latencies = Vec::new();
    for r in results {
        latencies.extend(r?);
    }
    latencies.sort_unstable();
    Ok(Figures { ops: latencies.len() as u64, elapsed, latencies, cpu, client_cpu })
}

/// The in-process HSM side: the same operation through [`Pkcs11Hsm`] at `threads` threads.
struct Raw {
    hsm: Pkcs11Hsm,
    run_id: String,
    key: Vec<u8>,
    sign_key: Option<(Vec<u8>, Vec<u8>)>,
    created: std::sync::Mutex<Vec<Vec<u8>>>,
    counter: AtomicU64,
}

impl Raw {
    fn open(state: &Path, args: &ServerBenchArgs) -> Result<Raw, BenchError> {
        let setup = |e: anyhow::Error| BenchError::Server(format!("{e:#}"));
        // The server already made the token; this finds it and points SOFTHSM2_CONF at it for this process.
        let config = super::serve::dev_token(state).map_err(setup)?;
        let hsm = super::serve::open_hsm(&config).map_err(setup)?;
        let run_id = format!("bench-raw-{}", std::process::id());
        let key = format!("{run_id}-aes").into_bytes();
        // Token objects, as the server's keys are.
        hsm.generate_secret_key(
            SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits: 256 },
            &NewObject::token(key.clone(), "kmipd bench", KeyUsage::ALL),
        )?;
        let sign_key = if args.op == BenchOp::Sign {
            let private = format!("{run_id}-sign").into_bytes();
            let public = format!("{run_id}-sign.pub").into_bytes();
            let spec = match args.sign_alg {
                SignAlg::EcdsaP256 => KeyPairSpec::Ec(Curve::P256),
                SignAlg::Rsa2048 => KeyPairSpec::Rsa { bits: 2048 },
            };
            hsm.generate_key_pair(
                spec,
                &NewObject::token(private.clone(), "kmipd bench", KeyUsage::ALL),
                &NewObject::token(public.clone(), "kmipd bench", KeyUsage::ALL),
            )?;
            Some((private, public))
        } else {
            None
        };
        Ok(Raw { hsm, run_id, key, sign_key, created: std::sync::Mutex::new(Vec::new()), counter: AtomicU64::new(0) })
    }

    /// Whether the operation has an HSM counterpart (discover and locate never reach the HSM).
    fn applies(op: BenchOp) -> bool {
        !matches!(op, BenchOp::Discover | BenchOp::Locate)
    }

    fn run_once(&self, op: BenchOp, data: &[u8], sign_alg: SignAlg) -> Result<(), HsmError> {
        let aes = SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits: 256 };
        match op {
            BenchOp::Create | BenchOp::CreateDestroy => {
                let n = self.counter.fetch_add(1, Ordering::Relaxed);
                let id = format!("{}-{n}", self.run_id).into_bytes();
                self.hsm.generate_secret_key(aes, &NewObject::token(id.clone(), "kmipd bench", KeyUsage::ALL))?;
                if op == BenchOp::CreateDestroy {
                    self.hsm.destroy(&id)
                } else {
                    if let Ok(mut created) = self.created.lock() {
                        created.push(id);
                    }
                    Ok(())
                }
            }
            // The server answers GetAttributes from its store; the nearest HSM call reads the object's attributes.
            BenchOp::GetAttributes => self.hsm.object_info(&self.key).map(drop),
            BenchOp::Encrypt => {
                let cipher = Cipher::AesGcm { iv: None, aad: Vec::new(), tag_len: 16 };
                self.hsm.encrypt(&self.key, &cipher, data).map(drop)
            }
            BenchOp::Sign => {
                let key = self.sign_key.as_ref().map(|(private, _)| private.as_slice()).unwrap_or_default();
                let algorithm = match sign_alg {
                    SignAlg::EcdsaP256 => SignatureAlgorithm::Ecdsa(HashAlg::Sha256),
                    SignAlg::Rsa2048 => SignatureAlgorithm::RsaPkcs1v15(HashAlg::Sha256),
                };
                self.hsm.sign(key, algorithm, data).map(drop)
            }
            BenchOp::Rng => self.hsm.random(data.len()).map(drop),
            BenchOp::Discover | BenchOp::Locate => Ok(()),
        }
    }

    fn measure(&self, op: BenchOp, data: &[u8], sign_alg: SignAlg, threads: usize, duration: Duration) -> Result<Figures, BenchError> {
        let cpu_before = cpu_time(None);
        let start = Instant::now();
        let counts: Vec<Result<u64, HsmError>> = std::thread::scope(|scope| {
            let joins: Vec<_> = (0..threads.max(1))
                .map(|_| {
                    scope.spawn(move || {
                        let mut done = 0u64;
                        while start.elapsed() < duration {
                            self.run_once(op, data, sign_alg)?;
                            done += 1;
                        }
                        Ok(done)
                    })
                })
                .collect();
            joins.into_iter().map(|j| j.join().unwrap_or_else(|_| Err(HsmError::Module("bench thread panicked".into())))).collect()
        });
        let elapsed = start.elapsed();
        let cpu = cpu_time(None).zip(cpu_before).map(|(after, before)| after.saturating_sub(before));
        let mut ops = 0;
        for c in counts {
            ops += c?;
        }
        self.cleanup();
        Ok(Figures { ops, elapsed, latencies: Vec::new(), cpu, client_cpu: None })
    }

    /// Destroys the keys a create round made, outside the timed window.
    fn cleanup(&self) {
        let ids = self.created.lock().map(|mut c| std::mem::take(&mut *c)).unwrap_or_default();
        for id in ids {
            let _ = self.hsm.destroy(&id);
        }
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        self.cleanup();
        let _ = self.hsm.destroy(&self.key);
        if let Some((private, public)) = &self.sign_key {
            let _ = self.hsm.destroy(private);
            let _ = self.hsm.destroy(public);
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The command

/// `kmipd bench server`: prints the figures to `out`. Never asserts timing.
pub fn server(args: &ServerBenchArgs, out: &mut dyn Write) -> Result<(), BenchError> {
    let w = |e: std::io::Error| BenchError::Io { context: "writing the report".into(), source: e };
    if args.connections == 0 || args.rounds == 0 || args.seconds.is_nan() || args.seconds <= 0.0 {
        return Err(BenchError::Usage("--connections, --rounds and --seconds must be positive".into()));
    }
    let duration = Duration::from_secs_f64(args.seconds);
    let mut child = None;
    let endpoint = match (&args.addr, &args.ca, &args.cert, &args.key) {
        (Some(addr), Some(ca), Some(cert), Some(key)) => Endpoint::new(*addr, ca, cert, key, &args.server_name)?,
        (Some(_), ..) => return Err(BenchError::Usage("--addr needs --ca, --cert and --key".into())),
        (None, ..) => {
            let server = ChildServer::start(args.work_dir.as_deref(), args.keep_state)?;
            let pki = crate::pki::DevPki::ensure(&server.state.join("pki"))
                .map_err(|e| BenchError::Server(format!("dev PKI: {e}")))?;
            let endpoint = Endpoint::new(server.addr, &pki.ca_cert, &pki.client_cert, &pki.client_key, "localhost")?;
            child = Some(server);
            endpoint
        }
    };
    let pid = child.as_ref().and_then(ChildServer::pid).or(args.server_pid);
    match &child {
        Some(server) => writeln!(
            out,
            "kmipd bench server: op={} connections={} seconds={} rounds={} bytes={} kmip=2.0 server=built-in pid={} state={}",
            args.op.name(),
            args.connections,
            args.seconds,
            args.rounds,
            args.bytes,
            pid.unwrap_or(0),
            server.state.display()
        ),
        None => writeln!(
            out,
            "kmipd bench server: op={} connections={} seconds={} rounds={} bytes={} kmip=2.0 server={}",
            args.op.name(),
            args.connections,
            args.seconds,
            args.rounds,
            args.bytes,
            endpoint.addr
        ),
    }
    .map_err(w)?;

    let mut prefilled = Vec::new();
    if args.prefill > 0 {
        let start = Instant::now();
        prefilled = prefill(&endpoint, args.connections, args.prefill)?;
        let elapsed = start.elapsed();
        writeln!(
            out,
            "prefill objects={} seconds={:.1} creates_per_s={:.0} (batches of {PREFILL_BATCH})",
            prefilled.len(),
            elapsed.as_secs_f64(),
            prefilled.len() as f64 / elapsed.as_secs_f64().max(1e-9)
        )
        .map_err(w)?;
    }
    let mut endpoint = endpoint;
    if args.measure_startup {
        if let Some(server) = child.as_mut() {
            server.stop();
            let banner = server.launch()?;
            endpoint.addr = server.addr;
            let answering = Instant::now();
            let mut conn = endpoint.connect()?;
            conn.call_one(Operation::DiscoverVersions, Vec::new())?;
            let first_answer = banner + answering.elapsed();
            writeln!(
                out,
                "startup objects={} seconds_to_listen={:.3} seconds_to_first_answer={:.3}",
                prefilled.len(),
                banner.as_secs_f64(),
                first_answer.as_secs_f64()
            )
            .map_err(w)?;
        }
    }
    let pid = child.as_ref().and_then(ChildServer::pid).or(args.server_pid);

    if args.idle > 0 {
        let server_pid = pid.ok_or_else(|| BenchError::Usage("--idle needs the built-in server or --server-pid (for the RSS)".into()))?;
        let before = rss_kib(server_pid);
        let mut idle = Vec::with_capacity(args.idle);
        for _ in 0..args.idle {
            let mut conn = endpoint.connect()?;
            // One exchange: in TLS 1.3 the server's side of the handshake ends after the client's.
            conn.call_one(Operation::DiscoverVersions, Vec::new())?;
            idle.push(conn);
        }
        std::thread::sleep(Duration::from_millis(500));
        let after = rss_kib(server_pid);
        let fmt = |k: Option<u64>| k.map_or("-".to_string(), |k| format!("{:.1}", k as f64 / 1024.0));
        let per_conn = before.zip(after).map(|(b, a)| a.saturating_sub(b) as f64 / args.idle as f64);
        writeln!(
            out,
            "idle connections={} server_rss_mib_before={} server_rss_mib_with_idle={} kib_per_connection={}",
            idle.len(),
            fmt(before),
            fmt(after),
            per_conn.map_or("-".into(), |k| format!("{k:.1}"))
        )
        .map_err(w)?;
        drop(idle);
    }

    let mut setup_conn = endpoint.connect()?;
    let workload = Workload::prepare(args, &mut setup_conn, &prefilled)?;
    drop(setup_conn);
    let raw = match (&child, args.baseline && Raw::applies(args.op)) {
        (Some(server), true) => Some(Raw::open(&server.state, args)?),
        _ => None,
    };
    if args.baseline && !Raw::applies(args.op) {
        writeln!(out, "baseline: {} never reaches the HSM; no raw figure", args.op.name()).map_err(w)?;
    }

    let (mut best_server, mut best_raw) = (0.0_f64, 0.0_f64);
    for round in 0..args.rounds {
        // Alternate which side goes first, so neither always inherits the other's warm or cold state.
        let raw_first = round % 2 == 1;
        let mut run_raw = |out: &mut dyn Write| -> Result<(), BenchError> {
            if let Some(raw) = &raw {
                let f = raw.measure(args.op, &workload.data, args.sign_alg, args.baseline_threads, duration)?;
                best_raw = best_raw.max(f.rate());
                writeln!(
                    out,
                    "round={} side=raw threads={} ops={} ops_per_s={:.1} cpu_us_per_op={}",
                    round + 1,
                    args.baseline_threads,
                    f.ops,
                    f.rate(),
                    per_op(f.cpu, f.ops)
                )
                .map_err(w)?;
            }
            Ok(())
        };
        if raw_first {
            run_raw(out)?;
        }
        let f = run_server_side(&endpoint, &workload, args.connections, duration, pid)?;
        best_server = best_server.max(f.rate());
        writeln!(
            out,
            "round={} side=server connections={} ops={} ops_per_s={:.1} p50_ms={} p90_ms={} p99_ms={} server_cpu_us_per_op={} client_cpu_us_per_op={}",
            round + 1,
            args.connections,
            f.ops,
            f.rate(),
            ms(f.percentile(0.50)),
            ms(f.percentile(0.90)),
            ms(f.percentile(0.99)),
            per_op(f.cpu, f.ops),
            per_op(f.client_cpu, f.ops)
        )
        .map_err(w)?;
        if !raw_first {
            run_raw(out)?;
        }
    }
    if raw.is_some() {
        let ratio = if best_raw > 0.0 { best_server / best_raw } else { 0.0 };
        writeln!(
            out,
            "summary op={} server_ops_per_s={best_server:.1} raw_ops_per_s={best_raw:.1} ratio_server_over_raw={ratio:.3} (best of {} rounds each)",
            args.op.name(),
            args.rounds
        )
        .map_err(w)?;
    } else {
        writeln!(out, "summary op={} server_ops_per_s={best_server:.1} (best of {} rounds)", args.op.name(), args.rounds)
            .map_err(w)?;
    }
    drop(raw);
    Ok(())
}
