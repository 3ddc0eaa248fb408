//! The real `kmipd dev` binary under abuse: refused certificates, a frame announcing 4 GiB,
//! random bytes, a slowloris, a 10,000-item batch, a Locate without filters over 10,000 objects,
//! and a kill -9. After each, the server must still serve another client. (`tests/server_network.rs` covers the same network
//! rules on an in-process server with a stand-in handler; this is the assembled product.)
//!
//! The servers run with `KMIPD__LIMITS__READ_TIMEOUT=1s`, which also shows that `kmipd dev`
//! honours `KMIPD__…` overrides.

mod common;
mod server_support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kmipd::kmip::enums::{Operation, ResultReason, ResultStatus};
use kmipd::kmip::payloads::LocateResponse;
use kmipd::kmip::ResponsePayload;
use kmipd::ttlv::{binary, Tag, Ttlv};
use server_support::{
    discover_versions_request, request, request_with_header, typed, ClientIdentity, KmipClient, TestServer,
};

const READ_TIMEOUT: Duration = Duration::from_secs(1);

fn start() -> TestServer {
    TestServer::start_with_env(&[("KMIPD__LIMITS__READ_TIMEOUT", "1s")])
}

/// A DiscoverVersions at 1.4, encoded.
fn discover() -> Vec<u8> {
    binary::encode(&discover_versions_request((1, 4), 1)).unwrap()
}

/// Whether the server refuses `identity` (None: no certificate) over `version`: the handshake
/// fails, or (TLS 1.3, where the client finishes first) the first exchange does.
fn refused(
    server: &TestServer,
    identity: Option<&ClientIdentity>,
    version: &'static rustls::SupportedProtocolVersion,
) -> bool {
    match KmipClient::connect(server.addr(), &server.ca_cert(), identity, &[version]) {
        Err(_) => true,
        Ok(mut client) => {
            client.set_read_timeout(Duration::from_secs(10));
            client.try_send_bytes(&discover()).is_err()
        }
    }
}

#[test]
fn client_without_certificate_is_refused() {
    let mut server = start();
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        assert!(refused(&server, None, version), "{version:?}");
    }
    server.assert_serves();
}

#[test]
fn certificate_from_another_ca_is_refused_and_one_from_the_dev_ca_is_served() {
    let mut server = start();
    let foreign = server.foreign_identity();
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        assert!(refused(&server, Some(&foreign), version), "{version:?}");
    }
    server.assert_serves();

    // A second identity issued by the dev CA (what Permission Denied tests use) is served.
    let second = server.issue_identity("kmipd-test-second-client");
    let mut client = server.client_as(&second);
    let response = client.send(&discover_versions_request((2, 1), 1));
    assert_eq!(typed(&response).batch_items[0].result_status, ResultStatus::Success);
}

/// Peak virtual memory of a process, from /proc.
fn vm_peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmPeak:")).expect("VmPeak in /proc/PID/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn frame_announcing_4_gib_is_closed_without_reserving_it() {
    let mut server = start();
    server.assert_serves();
    let pid = server.pid().unwrap();
    let before = vm_peak_kib(pid);
    let mut client = server.client();
    client.write_raw(&[0x42, 0x00, 0x78, 0x01, 0xFF, 0xFF, 0xFF, 0xF8]).unwrap();
    client.expect_closed(Duration::from_secs(5));
    server.assert_serves();
    // A buffer for the announced size would show as +4 GiB of address space, touched or not.
    let grown = vm_peak_kib(pid).saturating_sub(before);
    assert!(grown < 1024 * 1024, "peak virtual memory grew by {grown} KiB");
}

#[test]
fn random_bytes_are_closed() {
    let mut server = start();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..4 {
        let garbage = common::noise(&mut state, 4096);
        let mut client = server.client();
        // The server may close before it has read everything: a failed write is fine.
        let _ = client.write_raw(&garbage);
        client.expect_closed(Duration::from_secs(5));
    }
    // Garbage below TLS.
    let mut tcp = TcpStream::connect(server.addr()).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = tcp.write_all(b"\x16\x03\x01\xff\xffGET / HTTP/1.1\r\n\r\n");
    let mut buf = [0u8; 1024];
    while matches!(tcp.read(&mut buf), Ok(n) if n > 0) {}
    server.assert_serves();
}

#[test]
fn slowloris_is_closed_after_the_read_timeout() {
    let mut server = start();
    // A valid header, then silence.
    let mut silent = server.client();
    silent.write_raw(&discover()[..8]).unwrap();
    // A TCP connection that never starts its TLS handshake.
    let mut mute = TcpStream::connect(server.addr()).unwrap();
    mute.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let start = Instant::now();

    let elapsed = silent.expect_closed(Duration::from_secs(10));
    assert!(elapsed >= READ_TIMEOUT - Duration::from_millis(100), "closed too early: {elapsed:?}");
    assert!(elapsed < READ_TIMEOUT * 5, "KMIPD__LIMITS__READ_TIMEOUT=1s not applied: {elapsed:?}");
    let mut buf = [0u8; 16];
    let mute_result = mute.read(&mut buf);
    assert!(matches!(mute_result, Ok(0) | Err(_)), "{mute_result:?}");
    assert!(start.elapsed() < Duration::from_secs(8), "mute connection open for {:?}", start.elapsed());
    server.assert_serves();
}

#[test]
fn batch_of_10000_items_gets_a_clear_error() {
    let mut server = start();
    let mut client = server.client();
    for (version, reason) in [((2, 1), ResultReason::ServerLimitExceeded), ((1, 4), ResultReason::GeneralFailure)] {
        let started = Instant::now();
        let response = typed(&client.send(&discover_versions_request(version, 10_000)));
        assert!(started.elapsed() < Duration::from_secs(10), "took {:?}", started.elapsed());
        assert_eq!(response.batch_items.len(), 1, "{version:?}");
        let item = &response.batch_items[0];
        assert_eq!(item.result_status, ResultStatus::OperationFailed, "{item:?}");
        assert_eq!(item.result_reason, Some(reason), "{item:?}");
        let message = item.result_message.as_deref().unwrap_or_default();
        assert!(message.contains("10000 batch items") && message.contains("1000"), "{message:?}");
    }
    // The limit itself (max_batch_items = 1000 by default) is accepted, on the same connection.
    let response = typed(&client.send(&discover_versions_request((2, 1), 1000)));
    assert_eq!(response.batch_items.len(), 1000);
    assert!(response.batch_items.iter().all(|i| i.result_status == ResultStatus::Success));
    server.assert_serves();
}

/// Registers `count` small opaque objects at KMIP 2.0, 500 to a batch (the batch limit is 1,000).
fn register_opaque_objects(client: &mut KmipClient, count: usize) {
    const OPAQUE_OBJECT: u32 = 0x0000_0008;
    const VENDOR_OPAQUE_TYPE: u32 = 0x8000_0001;
    for first in (0..count).step_by(500) {
        let items = (first..count.min(first + 500))
            .map(|n| {
                let payload = vec![
                    Ttlv::enumeration(Tag::OBJECT_TYPE, OPAQUE_OBJECT),
                    Ttlv::structure(Tag::ATTRIBUTES, Vec::new()),
                    Ttlv::structure(
                        Tag::OPAQUE_OBJECT,
                        vec![
                            Ttlv::enumeration(Tag::OPAQUE_DATA_TYPE, VENDOR_OPAQUE_TYPE),
                            Ttlv::bytes(Tag::OPAQUE_DATA_VALUE, format!("opaque {n}").into_bytes()),
                        ],
                    ),
                ];
                (Operation::Register, payload)
            })
            .collect();
        let response = typed(&client.send(&request((2, 0), items)));
        let failed: Vec<_> = response.batch_items.iter().filter(|i| i.result_status != ResultStatus::Success).collect();
        assert!(failed.is_empty(), "{:?}", failed.first());
    }
}

/// A Locate at 2.0 with no filter, only `bounds` (Maximum Items, Offset Items).
fn locate_all(client: &mut KmipClient, bounds: Vec<Ttlv>, extra_header: Vec<Ttlv>) -> kmipd::kmip::ResponseBatchItem {
    let mut response = typed(&client.send(&request_with_header((2, 0), extra_header, vec![(Operation::Locate, bounds)])));
    assert_eq!(response.batch_items.len(), 1);
    response.batch_items.remove(0)
}

fn located(item: &kmipd::kmip::ResponseBatchItem) -> &LocateResponse {
    match &item.payload {
        Some(ResponsePayload::Locate(payload)) if item.result_status == ResultStatus::Success => payload,
        _ => panic!("Locate failed: {item:?}"),
    }
}

#[test]
fn locate_without_filters_over_10000_objects_is_bounded() {
    const OBJECTS: usize = 10_000;
    // A server-side cap well below the 16 MiB default, so that the unbounded Locate meets it.
    let mut server = TestServer::start_with_env(&[("KMIPD__LIMITS__MAX_RESPONSE_BYTES", "65536")]);
    let mut client = server.client();
    let started = Instant::now();
    register_opaque_objects(&mut client, OBJECTS);
    eprintln!("registered {OBJECTS} opaque objects in {:?}", started.elapsed());

    // Maximum Items bounds the answer; with Offset Items, Located Items counts every match.
    let item = locate_all(&mut client, vec![Ttlv::integer(Tag::MAXIMUM_ITEMS, 100)], Vec::new());
    assert_eq!(located(&item).unique_identifiers.len(), 100);
    let first_page = vec![Ttlv::integer(Tag::MAXIMUM_ITEMS, 100), Ttlv::integer(Tag::OFFSET_ITEMS, 0)];
    let item = locate_all(&mut client, first_page, Vec::new());
    let page = located(&item);
    assert_eq!(page.unique_identifiers.len(), 100);
    assert_eq!(page.located_items, Some(OBJECTS as i32));
    // Paging reaches the end and stops there.
    let bounds = vec![Ttlv::integer(Tag::MAXIMUM_ITEMS, 100), Ttlv::integer(Tag::OFFSET_ITEMS, OBJECTS as i32 - 30)];
    assert_eq!(located(&locate_all(&mut client, bounds, Vec::new())).unique_identifiers.len(), 30);

    // Unbounded, the 10,000 identifiers exceed the server's response cap: a clear failure, not a truncated list.
    let item = locate_all(&mut client, Vec::new(), Vec::new());
    assert_eq!(item.result_status, ResultStatus::OperationFailed, "{item:?}");
    assert_eq!(item.result_reason, Some(ResultReason::ResponseTooLarge), "{item:?}");
    // The client's own Maximum Response Size is honoured the same way.
    let small = vec![Ttlv::integer(Tag::MAXIMUM_RESPONSE_SIZE, 4096)];
    let item = locate_all(&mut client, vec![Ttlv::integer(Tag::MAXIMUM_ITEMS, 1000)], small);
    assert_eq!(item.result_reason, Some(ResultReason::ResponseTooLarge), "{item:?}");
    server.assert_serves();
}

#[test]
fn kill9_and_restart_keep_the_state() {
    let mut server = start();
    server.assert_serves();
    let ca = std::fs::read(server.ca_cert()).unwrap();
    let second = server.issue_identity("kept-across-restarts");

    server.kill9();
    assert!(server.pid().is_none());
    server.restart();
    server.assert_serves();
    assert_eq!(std::fs::read(server.ca_cert()).unwrap(), ca, "the dev PKI must be reused");
    let mut client = server.client_as(&second);
    let response = client.send(&discover_versions_request((1, 4), 1));
    assert_eq!(typed(&response).batch_items[0].result_status, ResultStatus::Success);

    server.restart();
    server.assert_serves();
    let status = server.stop().unwrap();
    assert!(status.success(), "kmipd dev exited with {status} on SIGINT");
}
