//! The network half of the server against real TLS clients: mutual TLS, refusals, abuse
//! (oversized headers, garbage, slowloris), the connection cap and graceful shutdown. The
//! request handler is a stand-in that echoes; the KMIP operations are tested elsewhere.
//!
//! A counting global allocator records the largest single allocation, to show that a header
//! announcing 4 GiB is refused without allocating for it.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kmipd::config::Limits;
use kmipd::pki::{DevPki, DEV_CLIENT_CN};
use kmipd::server::{tls, HandlerOutcome, PeerInfo, RequestHandler, Server};
use rustls::{ClientConfig, RootCertStore, SupportedProtocolVersion};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

struct CountingAllocator;

static LARGEST_ALLOCATION: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST_ALLOCATION.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST_ALLOCATION.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Echoes each request and reports the caller's common name.
struct Echo {
    seen: mpsc::UnboundedSender<Option<String>>,
}

impl RequestHandler for Echo {
    async fn handle(&self, peer: &PeerInfo, request: Zeroizing<Vec<u8>>) -> HandlerOutcome {
        let _ = self.seen.send(peer.identity.common_name.clone());
        HandlerOutcome::Respond(request)
    }
}

/// Echoes after a pause, announcing when it has started.
struct SlowEcho {
    started: Arc<Notify>,
    delay: Duration,
}

impl RequestHandler for SlowEcho {
    async fn handle(&self, _peer: &PeerInfo, request: Zeroizing<Vec<u8>>) -> HandlerOutcome {
        self.started.notify_one();
        tokio::time::sleep(self.delay).await;
        HandlerOutcome::Respond(request)
    }
}

/// A small, well-formed TTLV Structure (a Request Message tag holding one Integer).
fn message() -> Vec<u8> {
    let mut m = vec![0x42, 0x00, 0x78, 0x01, 0, 0, 0, 16];
    m.extend_from_slice(&[0x42, 0x00, 0x6A, 0x02, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0]);
    m
}

fn test_limits() -> Limits {
    Limits {
        max_message_bytes: 64 * 1024,
        max_connections: 16,
        idle_timeout: Duration::from_secs(10),
        read_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        shutdown_timeout: Duration::from_secs(5),
        ..Limits::default()
    }
}

struct Running {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
    pki: DevPki,
    _dir: tempfile::TempDir,
}

async fn start<H: RequestHandler>(limits: Limits, handler: H) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::ensure(&dir.path().join("pki")).unwrap();
    let config = tls::server_config(&pki.server_tls_config()).unwrap();
    let server = Server::bind("127.0.0.1:0".parse().unwrap(), config, limits, Arc::new(handler)).await.unwrap();
    let addr = server.local_addr();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(server.run(shutdown.clone()));
    Running { addr, shutdown, task, pki, _dir: dir }
}

async fn start_echo(limits: Limits) -> (Running, mpsc::UnboundedReceiver<Option<String>>) {
    let (seen, seen_rx) = mpsc::unbounded_channel();
    (start(limits, Echo { seen }).await, seen_rx)
}

fn roots(ca: &Path) -> RootCertStore {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    roots
}

fn client_config(
    pki: &DevPki,
    client: Option<&DevPki>,
    versions: &[&'static SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let builder = ClientConfig::builder_with_provider(tls::crypto_provider())
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(roots(&pki.ca_cert));
    let config = match client {
        Some(client) => {
            let chain = vec![CertificateDer::from_pem_file(&client.client_cert).unwrap()];
            let key = PrivateKeyDer::from_pem_file(&client.client_key).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
        None => builder.with_no_client_auth(),
    };
    Arc::new(config)
}

async fn connect(addr: SocketAddr, config: Arc<ClientConfig>) -> io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    TlsConnector::from(config).connect(ServerName::try_from("localhost").unwrap(), tcp).await
}

/// Sends one message and reads back a message of the same length.
async fn echo(stream: &mut TlsStream<TcpStream>) -> io::Result<Vec<u8>> {
    let request = message();
    stream.write_all(&request).await?;
    stream.flush().await?;
    let mut response = vec![0; request.len()];
    stream.read_exact(&mut response).await?;
    Ok(response)
}

async fn connect_and_echo(addr: SocketAddr, config: Arc<ClientConfig>) -> io::Result<Vec<u8>> {
    let mut stream = connect(addr, config).await?;
    echo(&mut stream).await
}

/// Waits until the server closes the stream, failing the test after `limit`.
async fn expect_closed<S: tokio::io::AsyncRead + Unpin>(stream: &mut S, limit: Duration) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("server did not close the connection within {limit:?}"),
        }
    }
}

fn good_client(running: &Running) -> Arc<ClientConfig> {
    client_config(&running.pki, Some(&running.pki), rustls::ALL_VERSIONS)
}

async fn assert_still_serving(running: &Running) {
    assert_eq!(connect_and_echo(running.addr, good_client(running)).await.unwrap(), message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_works_with_tls13_and_tls12() {
    let (running, mut seen) = start_echo(test_limits()).await;
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let config = client_config(&running.pki, Some(&running.pki), &[version]);
        let mut stream = connect(running.addr, config.clone()).await.unwrap();
        assert_eq!(stream.get_ref().1.protocol_version(), Some(version.version));
        let suite = stream.get_ref().1.negotiated_cipher_suite().unwrap();
        assert!(format!("{:?}", suite.suite()).contains("GCM"), "{:?}", suite.suite());
        // Two requests on one connection: framing keeps them apart.
        assert_eq!(echo(&mut stream).await.unwrap(), message());
        assert_eq!(echo(&mut stream).await.unwrap(), message());
        assert_eq!(seen.recv().await.unwrap().as_deref(), Some(DEV_CLIENT_CN));
        assert_eq!(seen.recv().await.unwrap().as_deref(), Some(DEV_CLIENT_CN));

        // A resumed session still carries the client's identity.
        let mut resumed = connect(running.addr, config).await.unwrap();
        assert_eq!(resumed.get_ref().1.handshake_kind(), Some(rustls::HandshakeKind::Resumed));
        assert_eq!(echo(&mut resumed).await.unwrap(), message());
        assert_eq!(seen.recv().await.unwrap().as_deref(), Some(DEV_CLIENT_CN));
    }
    running.shutdown.cancel();
    running.task.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_without_certificate_is_refused() {
    let (running, _seen) = start_echo(test_limits()).await;
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let config = client_config(&running.pki, None, &[version]);
        // In TLS 1.3 the client finishes its side first and learns of the refusal on read.
        assert!(connect_and_echo(running.addr, config).await.is_err(), "{version:?}");
    }
    assert_still_serving(&running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_from_another_ca_is_refused() {
    let (running, _seen) = start_echo(test_limits()).await;
    let other_dir = tempfile::tempdir().unwrap();
    let other = DevPki::ensure(other_dir.path()).unwrap();
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let config = client_config(&running.pki, Some(&other), &[version]);
        assert!(connect_and_echo(running.addr, config).await.is_err(), "{version:?}");
    }
    assert_still_serving(&running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_announcing_4_gib_is_closed_without_allocating() {
    let (running, _seen) = start_echo(test_limits()).await;
    let mut stream = connect(running.addr, good_client(&running)).await.unwrap();
    stream.write_all(&[0x42, 0x00, 0x78, 0x01, 0xFF, 0xFF, 0xFF, 0xF8]).await.unwrap();
    stream.flush().await.unwrap();
    expect_closed(&mut stream, Duration::from_secs(2)).await;
    assert_still_serving(&running).await;
    let largest = LARGEST_ALLOCATION.load(Ordering::Relaxed);
    assert!(largest < 16 * 1024 * 1024, "largest single allocation was {largest} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_bytes_are_closed() {
    let (running, _seen) = start_echo(test_limits()).await;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..8 {
        let garbage = common::noise(&mut state, 4096);
        let mut stream = connect(running.addr, good_client(&running)).await.unwrap();
        // The server may close before it has read everything; a failed write is fine.
        let _ = stream.write_all(&garbage).await;
        let _ = stream.flush().await;
        expect_closed(&mut stream, Duration::from_secs(3)).await;
    }
    // Garbage at the TCP level, below TLS, too.
    let mut tcp = TcpStream::connect(running.addr).await.unwrap();
    let _ = tcp.write_all(b"\x16\x03\x01\xff\xffGET / HTTP/1.1\r\n\r\n").await;
    expect_closed(&mut tcp, Duration::from_secs(3)).await;
    assert_still_serving(&running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_is_closed_after_the_read_timeout() {
    let read_timeout = Duration::from_millis(400);
    let (running, _seen) = start_echo(Limits { read_timeout, ..test_limits() }).await;

    // A valid header, then silence.
    let mut silent = connect(running.addr, good_client(&running)).await.unwrap();
    silent.write_all(&message()[..8]).await.unwrap();
    silent.flush().await.unwrap();

    // A valid header, then one byte at a time: activity does not extend the deadline.
    let mut trickle = connect(running.addr, good_client(&running)).await.unwrap();
    trickle.write_all(&message()[..8]).await.unwrap();
    trickle.flush().await.unwrap();
    let trickler = tokio::spawn(async move {
        let start = Instant::now();
        for byte in &message()[8..] {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if trickle.write_all(&[*byte]).await.is_err() || trickle.flush().await.is_err() {
                break;
            }
        }
        start.elapsed() + expect_closed(&mut trickle, Duration::from_secs(3)).await
    });

    // A TCP connection that never starts its TLS handshake.
    let mut mute = TcpStream::connect(running.addr).await.unwrap();

    let elapsed = expect_closed(&mut silent, Duration::from_secs(3)).await;
    assert!(elapsed >= read_timeout - Duration::from_millis(50), "closed too early: {elapsed:?}");
    expect_closed(&mut mute, Duration::from_secs(3)).await;
    let trickle_elapsed = trickler.await.unwrap();
    assert!(trickle_elapsed < Duration::from_millis(1500), "trickle lasted {trickle_elapsed:?}");
    assert_still_serving(&running).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connection_is_closed() {
    let idle_timeout = Duration::from_millis(300);
    let (running, _seen) = start_echo(Limits { idle_timeout, ..test_limits() }).await;
    let mut stream = connect(running.addr, good_client(&running)).await.unwrap();
    assert_eq!(echo(&mut stream).await.unwrap(), message());
    let elapsed = expect_closed(&mut stream, Duration::from_secs(3)).await;
    assert!(elapsed >= idle_timeout - Duration::from_millis(50), "{elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_cap_is_respected() {
    let (running, _seen) = start_echo(Limits { max_connections: 2, ..test_limits() }).await;
    let mut first = connect(running.addr, good_client(&running)).await.unwrap();
    let mut second = connect(running.addr, good_client(&running)).await.unwrap();
    assert_eq!(echo(&mut first).await.unwrap(), message());
    assert_eq!(echo(&mut second).await.unwrap(), message());

    // The third is closed at once: the handshake (or the first exchange) fails quickly.
    let start = Instant::now();
    assert!(connect_and_echo(running.addr, good_client(&running)).await.is_err());
    assert!(start.elapsed() < Duration::from_secs(1), "refusal took {:?}", start.elapsed());

    // Closing one frees its slot.
    first.shutdown().await.unwrap();
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        match connect_and_echo(running.addr, good_client(&running)).await {
            Ok(response) => {
                assert_eq!(response, message());
                break;
            }
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("slot was not freed: {e}"),
        }
    }
    assert_eq!(echo(&mut second).await.unwrap(), message());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_finishes_in_flight_request() {
    let started = Arc::new(Notify::new());
    let handler = SlowEcho { started: started.clone(), delay: Duration::from_secs(1) };
    let running = start(test_limits(), handler).await;

    let mut idle = connect(running.addr, good_client(&running)).await.unwrap();
    let mut busy = connect(running.addr, good_client(&running)).await.unwrap();
    busy.write_all(&message()).await.unwrap();
    busy.flush().await.unwrap();
    started.notified().await;

    let shutdown_at = Instant::now();
    running.shutdown.cancel();
    // The idle connection goes at once; the busy one gets its answer, then is closed.
    let idle_closed = expect_closed(&mut idle, Duration::from_secs(2)).await;
    assert!(idle_closed < Duration::from_millis(800), "idle connection lingered {idle_closed:?}");
    let mut response = vec![0; message().len()];
    busy.read_exact(&mut response).await.unwrap();
    assert_eq!(response, message());
    expect_closed(&mut busy, Duration::from_secs(2)).await;

    tokio::time::timeout(Duration::from_secs(4), running.task).await.unwrap().unwrap();
    assert!(shutdown_at.elapsed() < Duration::from_secs(3), "shutdown took {:?}", shutdown_at.elapsed());
    assert!(TcpStream::connect(running.addr).await.is_err(), "still accepting after shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drain_is_bounded() {
    let started = Arc::new(Notify::new());
    let handler = SlowEcho { started: started.clone(), delay: Duration::from_secs(30) };
    let limits = Limits {
        shutdown_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_secs(60),
        ..test_limits()
    };
    let running = start(limits, handler).await;
    let mut busy = connect(running.addr, good_client(&running)).await.unwrap();
    busy.write_all(&message()).await.unwrap();
    busy.flush().await.unwrap();
    started.notified().await;

    let shutdown_at = Instant::now();
    running.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(3), running.task).await.unwrap().unwrap();
    assert!(shutdown_at.elapsed() < Duration::from_secs(1), "{:?}", shutdown_at.elapsed());
    expect_closed(&mut busy, Duration::from_secs(2)).await;
}

/// Python's `ssl` module over OpenSSL 3, as PyKMIP uses it: TLS 1.2 and 1.3 both negotiate an
/// AEAD suite with the server and the client certificate is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_client_as_pykmip_uses_it_connects() {
    const SCRIPT: &str = r#"
import socket, ssl, sys
port, ca, cert, key, version = sys.argv[1:6]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.load_verify_locations(ca)
ctx.load_cert_chain(cert, key)
if version == "1.2":
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
msg = bytes.fromhex(sys.argv[6])
with socket.create_connection(("127.0.0.1", int(port))) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
        tls.sendall(msg)
        got = b""
        while len(got) < len(msg):
            chunk = tls.recv(len(msg) - len(got))
            if not chunk:
                break
            got += chunk
        assert got == msg, got
        print(tls.version(), tls.cipher()[0])
"#;
    if std::process::Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 not found; skipping the OpenSSL interoperability check");
        return;
    }
    let (running, _seen) = start_echo(test_limits()).await;
    let expectations = [("1.2", "TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384"), ("1.3", "TLSv1.3 TLS_AES_256_GCM_SHA384")];
    for (version, expected) in expectations {
        let args: Vec<String> = vec![
            "-c".into(),
            SCRIPT.into(),
            running.addr.port().to_string(),
            running.pki.ca_cert.display().to_string(),
            running.pki.client_cert.display().to_string(),
            running.pki.client_key.display().to_string(),
            version.into(),
            hex::encode(message()),
        ];
        let output = tokio::task::spawn_blocking(move || std::process::Command::new("python3").args(args).output())
            .await
            .unwrap()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
        assert_eq!(stdout.trim(), expected);
    }
}

/// Server overhead figures (not a pass/fail test): echo round trips per second on one
/// connection, and full mutual-TLS handshakes per second. Run with
/// `cargo test --test server_network -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, prints figures"]
async fn measure_round_trips_and_handshakes() {
    let (running, _seen) = start_echo(test_limits()).await;
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let config = client_config(&running.pki, Some(&running.pki), &[version]);
        let mut stream = connect(running.addr, config.clone()).await.unwrap();
        let start = Instant::now();
        let mut round_trips = 0u32;
        while start.elapsed() < Duration::from_secs(2) {
            echo(&mut stream).await.unwrap();
            round_trips += 1;
        }
        let rate = f64::from(round_trips) / start.elapsed().as_secs_f64();
        println!("{:?}: {rate:.0} echo round trips/s on one connection", version.version);

        let start = Instant::now();
        let mut handshakes = 0u32;
        while start.elapsed() < Duration::from_secs(2) {
            connect_and_echo(running.addr, config.clone()).await.unwrap();
            handshakes += 1;
        }
        let rate = f64::from(handshakes) / start.elapsed().as_secs_f64();
        println!("{:?}: {rate:.0} handshakes (+1 echo) /s, sequential", version.version);
    }
}

/// Refuses every request the way the operations layer refuses unsalvageable garbage.
struct Refuse;

impl RequestHandler for Refuse {
    async fn handle(&self, _peer: &PeerInfo, _request: Zeroizing<Vec<u8>>) -> HandlerOutcome {
        HandlerOutcome::Close
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_can_close_the_connection() {
    let running = start(test_limits(), Refuse).await;
    let mut stream = connect(running.addr, good_client(&running)).await.unwrap();
    stream.write_all(&message()).await.unwrap();
    stream.flush().await.unwrap();
    expect_closed(&mut stream, Duration::from_secs(2)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_clients_are_served() {
    let (running, _seen) = start_echo(Limits { max_connections: 200, ..test_limits() }).await;
    let config = good_client(&running);
    let clients: Vec<_> = (0..100)
        .map(|_| {
            let config = config.clone();
            let addr = running.addr;
            tokio::spawn(async move {
                let mut stream = connect(addr, config).await.unwrap();
                for _ in 0..10 {
                    assert_eq!(echo(&mut stream).await.unwrap(), message());
                }
            })
        })
        .collect();
    let all = async {
        for client in clients {
            client.await.unwrap();
        }
    };
    tokio::time::timeout(Duration::from_secs(20), all).await.unwrap();
    running.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), running.task).await.unwrap().unwrap();
}
