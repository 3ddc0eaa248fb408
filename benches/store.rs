//! Store benchmarks at scale: open time and Locate latency with 100,000 objects.
//!
//! `cargo bench --bench store` (objects: `KMIPD_STORE_BENCH_OBJECTS`, default 100,000). The
//! populated database is kept under the target directory and reused by later runs.

use criterion::{criterion_group, criterion_main, Criterion};
use kmipd::store::{IndexKeys, LocateQuery, NewObject, SledStore, SledStoreConfig, Store};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WRITERS: usize = 16;

fn object_count() -> usize {
    std::env::var("KMIPD_STORE_BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn bench_dir(objects: usize) -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    PathBuf::from(target).join(format!("store-bench-{objects}"))
}

fn open(objects: usize) -> SledStore {
    SledStore::open(&SledStoreConfig::new(bench_dir(objects))).unwrap()
}

fn keys(i: usize) -> IndexKeys {
    IndexKeys {
        object_type: [2, 3, 4][i % 3],
        state: Some([1, 2][i % 2]),
        names: vec![format!("bench-{i}")],
        cryptographic_algorithm: Some([3, 4][i % 2]),
        cryptographic_length: Some(256),
        object_groups: vec![format!("group-{}", i % 100)],
        ..IndexKeys::default()
    }
}

fn owner(i: usize) -> String {
    format!("client-{}", i % 10)
}

/// Create the objects once (concurrently, so group commit shares the flushes).
fn populate(objects: usize) {
    let store = Arc::new(open(objects));
    let last = LocateQuery {
        names: vec![format!("bench-{}", objects - 1)],
        ..LocateQuery::default()
    };
    if store.locate(&last).unwrap().uids.len() == 1 {
        return;
    }
    let started = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                for i in (w..objects).step_by(WRITERS) {
                    let object = NewObject {
                        uid: store.allocate_uid().unwrap(),
                        owner: owner(i),
                        attributes: vec![0x42; 300],
                        keys: keys(i),
                        ..NewObject::default()
                    };
                    let record = store.create_pending(object).unwrap();
                    store.commit(&record.uid).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let took = started.elapsed();
    eprintln!(
        "populated {objects} objects in {took:.1?} ({:.0} create+commit/s with {WRITERS} writers)",
        objects as f64 / took.as_secs_f64()
    );
}

fn percentiles(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize];
    eprintln!(
        "{label}: p50 {:?} p99 {:?} max {:?} (n={})",
        at(0.5),
        at(0.99),
        at(1.0),
        samples.len()
    );
}

fn store_benches(c: &mut Criterion) {
    let objects = object_count();
    populate(objects);

    // Open time: sled recovers its log; the store reads no record.
    let opens: Vec<Duration> = (0..5)
        .map(|_| {
            let started = Instant::now();
            let store = open(objects);
            let took = started.elapsed();
            drop(store);
            took
        })
        .collect();
    percentiles(&format!("open with {objects} objects"), opens);

    // Durable create (pending + commit, two flushes) from one writer and from 16.
    let scratch = bench_dir(objects).with_extension("writes");
    let _ = std::fs::remove_dir_all(&scratch);
    let writes = Arc::new(SledStore::open(&SledStoreConfig::new(&scratch)).unwrap());
    let create = |store: &SledStore, i: usize| {
        let started = Instant::now();
        let object = NewObject {
            uid: store.allocate_uid().unwrap(),
            owner: owner(i),
            attributes: vec![0x42; 300],
            keys: keys(i),
            ..NewObject::default()
        };
        let record = store.create_pending(object).unwrap();
        store.commit(&record.uid).unwrap();
        started.elapsed()
    };
    percentiles(
        "create+commit, 1 writer",
        (0..300).map(|i| create(&writes, i)).collect(),
    );
    let started = Instant::now();
    let threads: Vec<_> = (0..WRITERS)
        .map(|w| {
            let writes = Arc::clone(&writes);
            std::thread::spawn(move || {
                (0..100)
                    .map(|i| create(&writes, w * 100 + i))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let samples: Vec<Duration> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    eprintln!(
        "create+commit, {WRITERS} writers: {:.0}/s",
        samples.len() as f64 / started.elapsed().as_secs_f64()
    );
    percentiles(&format!("create+commit, {WRITERS} writers"), samples);
    drop(writes);
    let _ = std::fs::remove_dir_all(&scratch);

    let store = open(objects);
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut pick = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % objects as u64) as usize
    };
    let by_name = |i: usize| LocateQuery {
        names: vec![format!("bench-{i}")],
        ..LocateQuery::default()
    };
    let samples = (0..20_000)
        .map(|_| {
            let query = by_name(pick());
            let started = Instant::now();
            let found = store.locate(&query).unwrap();
            let took = started.elapsed();
            assert_eq!(found.uids.len(), 1);
            took
        })
        .collect();
    percentiles(&format!("locate by name, {objects} objects"), samples);

    let mut group = c.benchmark_group(format!("store_{objects}"));
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    group.bench_function("locate_by_name", |b| {
        b.iter(|| store.locate(&by_name(pick())).unwrap())
    });
    group.bench_function("locate_name_type_owner", |b| {
        b.iter(|| {
            let i = pick();
            let query = LocateQuery {
                names: vec![format!("bench-{i}")],
                object_type: Some([2, 3, 4][i % 3]),
                visible_to: Some(owner(i)),
                ..LocateQuery::default()
            };
            store.locate(&query).unwrap()
        })
    });
    group.bench_function("locate_group_and_state_max_10", |b| {
        b.iter(|| {
            let query = LocateQuery {
                object_groups: vec![format!("group-{}", pick() % 100)],
                state: Some(2),
                maximum: Some(10),
                ..LocateQuery::default()
            };
            store.locate(&query).unwrap()
        })
    });
    group.sample_size(10);
    group.bench_function("locate_no_filter_max_100", |b| {
        b.iter(|| {
            store
                .locate(&LocateQuery {
                    maximum: Some(100),
                    ..LocateQuery::default()
                })
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, store_benches);
criterion_main!(benches);
