//! Group commit: many writers, one `fsync` each round.
//!
//! A writer that has finished its in-memory write calls [`GroupCommit::sync`]. Its ticket is
//! covered by any flush that *starts* after the ticket was taken, so while one flush runs, the
//! writers arriving meanwhile wait and are then served together by the next one.
//!
//! sled 0.34 holds a global lock in shared mode for the whole of `flush` and in exclusive mode
//! in `apply_batch`, so no batch can be applied while a flush runs. Writers therefore announce
//! themselves ([`GroupCommit::begin_write`]) and a flush waits, briefly, for the announced
//! writers to apply their batches: otherwise the first writer out of the lock would start the
//! next flush at once and lock the others out again, one flush per writer.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Longest a flush waits for announced writers, so that a steady stream of writers cannot
/// postpone it indefinitely.
const GATHER_LIMIT: Duration = Duration::from_millis(2);

#[derive(Debug, Default)]
struct State {
    /// Highest ticket handed out.
    issued: u64,
    /// Every ticket up to this one is durable.
    durable: u64,
    /// A flush is running (or gathering writers before it runs).
    flushing: bool,
    /// Writers between `begin_write` and the end of their in-memory write.
    writing: usize,
}

/// A writer's announcement; dropping it says the in-memory write is done.
pub(super) struct Writing<'a>(&'a GroupCommit);

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.writing = state.writing.saturating_sub(1);
        if state.writing == 0 {
            self.0.done.notify_all();
        }
    }
}

/// Coordinates flushes among concurrent writers.
#[derive(Debug, Default)]
pub(super) struct GroupCommit {
    state: Mutex<State>,
    done: Condvar,
}

impl GroupCommit {
    /// The lock only guards counters; a panicking holder leaves them consistent.
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Announce an in-memory write that a flush about to start should wait for.
    pub(super) fn begin_write(&self) -> Writing<'_> {
        self.lock().writing += 1;
        Writing(self)
    }

    /// Return once everything written before this call is durable, running `flush` (at most
    /// once, on this thread) if no running flush covers it.
    pub(super) fn sync<E>(&self, flush: impl Fn() -> Result<(), E>) -> Result<(), E> {
        let mut state = self.lock();
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
            let deadline = Instant::now() + GATHER_LIMIT;
            while state.writing > 0 {
                let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                    break;
                };
                state = self
                    .done
                    .wait_timeout(state, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            let covers = state.issued;
            drop(state);
            let outcome = flush();
            state = self.lock();
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
    fn a_flush_waits_for_announced_writers() {
        // The flush may start only once the writer is done or the gathering time is up.
        let group = Arc::new(GroupCommit::default());
        let writing = group.begin_write();
        let syncer = {
            let group = Arc::clone(&group);
            thread::spawn(move || {
                let asked = Instant::now();
                let flush_started = Mutex::new(None);
                group
                    .sync(|| {
                        *flush_started.lock().unwrap() = Some(Instant::now());
                        Ok::<(), ()>(())
                    })
                    .unwrap();
                let flushed = flush_started.into_inner().unwrap().unwrap();
                (asked, flushed)
            })
        };
        thread::sleep(Duration::from_millis(1));
        let writer_done = Instant::now();
        drop(writing);
        let (asked, flushed) = syncer.join().unwrap();
        assert!(flushed >= writer_done.min(asked + GATHER_LIMIT));
    }

    #[test]
    fn a_stalled_writer_delays_a_flush_only_briefly() {
        let group = GroupCommit::default();
        let _stalled = group.begin_write();
        let started = Instant::now();
        group.sync(|| Ok::<(), ()>(())).unwrap();
        assert!(started.elapsed() >= GATHER_LIMIT);
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_failed_flush_is_reported_and_retried() {
        let group = GroupCommit::default();
        assert_eq!(group.sync(|| Err("disk full")), Err("disk full"));
        assert_eq!(group.sync(|| Ok::<(), &str>(())), Ok(()));
    }
}
