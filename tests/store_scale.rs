//! Locate at the scale of the abuse test: 10,000 objects, no filter, bounded by
//! Maximum Items; and by name, served by the index.

mod store_support;

use kmipd::store::{IndexKeys, LocateQuery, Store};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store_support::{create, open, ScratchDir};

const OBJECTS: usize = 10_000;
const WRITERS: usize = 8;

fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let out = f();
    (out, started.elapsed())
}

#[test]
fn locate_stays_bounded_at_10000_objects() {
    let dir = ScratchDir::new("store-scale");
    let store = Arc::new(open(dir.path()));
    let (_, populate) = timed(|| {
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = Arc::clone(&store);
                std::thread::spawn(move || {
                    for i in (w..OBJECTS).step_by(WRITERS) {
                        let keys = IndexKeys {
                            object_type: 2,
                            names: vec![format!("scale-{i}")],
                            ..IndexKeys::default()
                        };
                        create(store.as_ref(), "alice", keys);
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
    });

    let page = LocateQuery {
        maximum: Some(100),
        ..LocateQuery::default()
    };
    let (first_page, no_filter) = timed(|| store.locate(&page).unwrap());
    assert_eq!(first_page.uids.len(), 100);
    // Newest first: creation sequence strictly decreasing along the page.
    let seqs: Vec<u64> = first_page
        .uids
        .iter()
        .map(|uid| store.get(uid).unwrap().unwrap().created_seq)
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] > w[1]));

    let counting = LocateQuery {
        count_total: true,
        ..page.clone()
    };
    let (counted, no_filter_counted) = timed(|| store.locate(&counting).unwrap());
    assert_eq!(counted.matched, Some(OBJECTS));
    assert_eq!(counted.uids, first_page.uids);

    let (by_name, name_lookup) = timed(|| {
        (0..1000)
            .map(|i| {
                let query = LocateQuery {
                    names: vec![format!("scale-{}", i * 7)],
                    ..LocateQuery::default()
                };
                store.locate(&query).unwrap().uids.len()
            })
            .sum::<usize>()
    });
    assert_eq!(by_name, 1000);
    eprintln!(
        "{OBJECTS} objects: populate {populate:.1?}; no-filter max 100 {no_filter:.2?}, \
         with Located Items {no_filter_counted:.2?}; 1000 locates by name {name_lookup:.2?}"
    );
    // Generous bounds (a loaded 2-core machine, unoptimized build): the point is that a
    // page does not cost a full scan and a name does not cost a page.
    assert!(no_filter < Duration::from_millis(500), "{no_filter:?}");
    assert!(name_lookup < Duration::from_secs(2), "{name_lookup:?}");
}
