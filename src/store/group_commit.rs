//! Group commit: many writers, one `fsync` each round.
//!
//! A writer that has finished its in-memory write calls [`GroupCommit::sync`]. Its ticket is
//! covered by any flush that *starts* after the ticket was taken, so while one flush runs, the
//! writers arriving meanwhile wait and are then served together by the next one.

use std::sync::{Condvar, Mutex, PoisonError};

#[derive(Debug, Default)]
struct State {
    /// Highest ticket handed out.
    issued: u64,
    /// Every ticket up to this one is durable.
    durable: u64,
    /// A flush is running.
    flushing: bool,
}

/// Coordinates flushes among concurrent writers.
#[derive(Debug, Default)]
pub(super) struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
}

impl GroupCommit {
    /// Return once everything written before this call is durable, running `flush` (at most
    /// once, on this thread) if no running flush covers it.
    pub(super) fn sync<E>(&self, flush: impl Fn() -> Result<(), E>) -> Result<(), E> {
        // The lock only guards counters; a panicking holder leaves them consistent.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.issued += 1;
        let ticket = state.issued;
        loop {
            if state.durable >= ticket {
                return Ok(());
            }
            if state.flushing {
                state = self
                    .done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.flushing = true;
            let covers = state.issued;
            drop(state);
            let outcome = flush();
            state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.flushing = false;
            if outcome.is_ok() {
                state.durable = state.durable.max(covers);
            }
            // Waiters whose tickets were not covered (or after a failure) try again themselves.
            self.done.notify_all();
            return outcome;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::thread;
    use std::time::Duration;

    #[test]
    fn concurrent_writers_share_flushes() {
        let group = Arc::new(GroupCommit::default());
        let flushes = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let group = Arc::clone(&group);
                let flushes = Arc::clone(&flushes);
                thread::spawn(move || {
                    for _ in 0..20 {
                        group
                            .sync(|| {
                                flushes.fetch_add(1, Ordering::SeqCst);
                                thread::sleep(Duration::from_millis(2));
                                Ok::<(), ()>(())
                            })
                            .unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let n = flushes.load(Ordering::SeqCst);
        assert!(
            n < 160,
            "8 writers x 20 syncs took {n} flushes: no grouping"
        );
    }

    #[test]
    fn a_sync_never_returns_before_a_flush_that_started_after_it() {
        // Every sync returning Ok must be preceded by a flush that began after the sync did.
        let group = Arc::new(GroupCommit::default());
        let flush_starts = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let group = Arc::clone(&group);
                let flush_starts = Arc::clone(&flush_starts);
                thread::spawn(move || {
                    for _ in 0..30 {
                        let before = flush_starts.load(Ordering::SeqCst);
                        group
                            .sync(|| {
                                flush_starts.fetch_add(1, Ordering::SeqCst);
                                thread::sleep(Duration::from_micros(300));
                                Ok::<(), ()>(())
                            })
                            .unwrap();
                        assert!(flush_starts.load(Ordering::SeqCst) > before);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    }

    #[test]
    fn a_failed_flush_is_reported_and_retried() {
        let group = GroupCommit::default();
        assert_eq!(group.sync(|| Err("disk full")), Err("disk full"));
        assert_eq!(group.sync(|| Ok::<(), &str>(())), Ok(()));
    }
}
