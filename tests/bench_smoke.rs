//! `kmipd bench server` runs end to end against its built-in server and prints its report in the documented
//! `key=value` form. Only the format is checked: the figures depend on the machine and its load.

use std::collections::HashMap;
use std::process::Command;

/// The `key=value` fields of the first line starting with `prefix`.
fn fields<'a>(output: &'a str, prefix: &str) -> HashMap<&'a str, &'a str> {
    let line = output.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix:?} line in:\n{output}"));
    line.split_whitespace().filter_map(|f| f.split_once('=')).collect()
}

fn is_number(value: &str) -> bool {
    value.parse::<f64>().is_ok()
}

#[test]
fn bench_server_discover_prints_rate_latency_and_cpu() {
    let work = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kmipd"))
        .args(["bench", "server", "--op", "discover", "--seconds", "1", "--connections", "2", "--work-dir"])
        .arg(work.path())
        .output()
        .expect("running kmipd bench server");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "exit {}\nstdout:\n{stdout}\nstderr:\n{}", out.status, String::from_utf8_lossy(&out.stderr));

    let header = fields(&stdout, "kmipd bench server:");
    assert_eq!(header.get("op"), Some(&"discover"));
    assert_eq!(header.get("connections"), Some(&"2"));
    assert_eq!(header.get("server"), Some(&"built-in"));

    let round = fields(&stdout, "round=1 side=server");
    for key in ["ops", "ops_per_s", "p50_ms", "p90_ms", "p99_ms", "server_cpu_us_per_op", "client_cpu_us_per_op"] {
        let value = round.get(key).unwrap_or_else(|| panic!("no {key} in:\n{stdout}"));
        assert!(is_number(value), "{key}={value} is not a number in:\n{stdout}");
    }
    assert!(round["ops"].parse::<u64>().unwrap() > 0, "no operation completed:\n{stdout}");
    let p50: f64 = round["p50_ms"].parse().unwrap();
    let p99: f64 = round["p99_ms"].parse().unwrap();
    assert!(p50 <= p99, "percentiles out of order:\n{stdout}");

    let summary = fields(&stdout, "summary");
    assert!(summary.get("server_ops_per_s").is_some_and(|v| is_number(v)), "{stdout}");
    // The built-in server's state directory goes away with the run.
    assert_eq!(std::fs::read_dir(work.path()).unwrap().count(), 0, "state left behind in {}", work.path().display());
}
