//! `kmipd dev` end to end: SoftHSM2 token, dev PKI and store under a state directory, a real
//! mutual-TLS client (Python's ssl, i.e. OpenSSL, as PyKMIP uses) gets a DiscoverVersions
//! answer, SIGINT stops it cleanly, and a second start reuses the same state.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

const CLIENT: &str = r#"
import ssl, socket, sys
state, port, request = sys.argv[1], int(sys.argv[2]), bytes.fromhex(sys.argv[3])
ctx = ssl.create_default_context(cafile=f"{state}/pki/ca.crt")
ctx.load_cert_chain(f"{state}/pki/client.crt", f"{state}/pki/client.key")
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
s.sendall(request)
head = b""
while len(head) < 8: head += s.recv(8 - len(head))
body = b""
n = int.from_bytes(head[4:8], "big")
while len(body) < n: body += s.recv(n - len(body))
print((head + body).hex())
"#;

/// DiscoverVersions at protocol 1.4.
const DISCOVER_1_4: &str = "42007801000000604200770100000038420069010000002042006a0200000004000000010000000042006b0200000004000000040000000042000d0200000004000000010000000042000f010000001842005c05000000040000001e000000004200790100000000";

fn start(state: &Path, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kmipd"))
        .args(["dev", "--listen", &format!("127.0.0.1:{port}"), "--state-dir"])
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut first).unwrap();
    assert!(first.contains("kmipd dev is serving KMIP"), "{first:?}");
    child
}

fn stop(mut child: Child) {
    let _ = Command::new("kill").arg("-INT").arg(child.id().to_string()).status();
    let status = child.wait().unwrap();
    assert!(status.success(), "kmipd dev exited with {status}");
}

fn discover(state: &Path, port: u16) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(CLIENT)
        .arg(state)
        .arg(port.to_string())
        .arg(DISCOVER_1_4)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let hex = String::from_utf8(out.stdout).unwrap();
    let mut decode = Command::new(env!("CARGO_BIN_EXE_kmipd"))
        .args(["ttlv", "decode", "--from", "hex", "--to", "xml"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(decode.stdin.as_mut().unwrap(), hex.as_bytes()).unwrap();
    drop(decode.stdin.take());
    String::from_utf8(decode.wait_with_output().unwrap().stdout).unwrap()
}

#[test]
fn dev_serves_discover_versions_and_reuses_its_state() {
    let state = std::env::temp_dir().join(format!("kmipd-dev-test-{}", std::process::id()));
    let port = 20_000 + (std::process::id() % 20_000) as u16;
    let server = start(&state, port);
    let answer = discover(&state, port);
    stop(server);
    assert!(answer.contains(r#"<ResultStatus type="Enumeration" value="Success"/>"#), "{answer}");
    assert!(answer.contains(r#"<ProtocolVersionMinor type="Integer" value="4"/>"#), "{answer}");
    let ca = std::fs::read(state.join("pki/ca.crt")).unwrap();

    let server = start(&state, port);
    assert!(discover(&state, port).contains("Success"));
    stop(server);
    assert_eq!(std::fs::read(state.join("pki/ca.crt")).unwrap(), ca, "the dev CA must be reused");
    let _ = std::fs::remove_dir_all(&state);
}
