//! A bounded pool of read-write sessions plus one anchor session that stays open and logged in.
//!
//! PKCS#11 login state belongs to the application, not the session, and closing the last session logs out
//! (SoftHSM does exactly that), hence the anchor. Sessions are `Send` but not `Sync`: each is checked out by one
//! thread at a time. On the codes of DESIGN.md invariant 5 the pool is reset (every session of the old
//! generation is dropped, the anchor reopened and logged in again) and the call retried.

use std::ops::Deref;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use cryptoki::context::Pkcs11;
use cryptoki::error::{Error as CryptokiError, RvError};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::{Limit, Slot};
use cryptoki::types::AuthPin;

use super::profile::SessionSection;
use super::{HsmError, HsmResult};

/// Codes meaning the session or the login is gone: the call did not run, so it is always safe to retry.
const SESSION_LOST: [&str; 3] = ["CKR_SESSION_HANDLE_INVALID", "CKR_SESSION_CLOSED", "CKR_USER_NOT_LOGGED_IN"];
/// Codes meaning the device went away: the call may have run, so only idempotent calls are retried.
const DEVICE_LOST: [&str; 3] = ["CKR_DEVICE_ERROR", "CKR_DEVICE_REMOVED", "CKR_TOKEN_NOT_PRESENT"];

/// Whether a call may be repeated without changing the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotence {
    /// Repeating is harmless (crypto operations, reads, destroy of a known handle).
    Idempotent,
    /// Repeating could create a second object (generation, import, unwrap).
    NotIdempotent,
}

struct Idle {
    session: Session,
    last_used: Instant,
}

struct State {
    idle: Vec<Idle>,
    /// Pooled sessions in existence (idle or checked out), the anchor not included.
    open: usize,
    /// Bumped by every reset; sessions of an older generation are closed when given back.
    generation: u64,
    /// Sessions of a generation below this one are known dead: they are forgotten, never closed, because the
    /// module may already have handed their handle numbers to new sessions.
    dead_below: u64,
    anchor: Option<Session>,
    /// Threads blocked in `checkout`; a Condvar notify is a syscall, so it is skipped when nobody waits.
    waiters: usize,
}

struct Inner {
    ctx: Pkcs11,
    slot: Slot,
    pin: AuthPin,
    max: usize,
    checkout_timeout: Duration,
    idle_check: Option<Duration>,
    retry_attempts: u32,
    retry_backoff: Duration,
    extra_retry_codes: Vec<String>,
    state: Mutex<State>,
    freed: Condvar,
}

/// The session pool. Cheap to clone (shared).
#[derive(Clone)]
pub struct SessionPool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SessionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionPool").field("slot", &self.inner.slot).field("max", &self.inner.max).finish()
    }
}

/// A checked-out session, given back to the pool on drop.
pub struct PooledSession {
    pool: Arc<Inner>,
    session: Option<Session>,
    generation: u64,
    discard: bool,
}

impl PooledSession {
    /// Closes the session instead of giving it back (e.g. a multi-part operation was abandoned midway).
    pub fn discard(&mut self) {
        self.discard = true;
    }
}

impl Deref for PooledSession {
    type Target = Session;

    fn deref(&self) -> &Session {
        // Always Some until drop.
        match &self.session {
            Some(s) => s,
            None => unreachable!("session taken before drop"),
        }
    }
}

impl Drop for PooledSession {
    fn drop(&mut self) {
        if let Some(session) = self.session.take() {
            self.pool.give_back(session, self.generation, self.discard);
        }
    }
}

impl SessionPool {
    /// Opens the anchor session and logs in. The pool size is `sessions.max`, capped by the token's
    /// `ulMaxSessionCount` minus the anchor.
    pub fn open(ctx: Pkcs11, slot: Slot, pin: AuthPin, config: &SessionSection) -> HsmResult<SessionPool> {
        let token_max = match ctx.get_token_info(slot)?.max_session_count() {
            Limit::Max(n) => usize::try_from(n).unwrap_or(usize::MAX).saturating_sub(1).max(1),
            Limit::Unavailable | Limit::Infinite => usize::MAX,
        };
        let inner = Inner {
            ctx,
            slot,
            pin,
            max: config.max.min(token_max),
            checkout_timeout: Duration::from_millis(config.checkout_timeout_ms),
            idle_check: (config.idle_check_secs > 0).then(|| Duration::from_secs(config.idle_check_secs)),
            retry_attempts: config.retry_attempts,
            retry_backoff: Duration::from_millis(config.retry_backoff_ms),
            extra_retry_codes: config.retry_codes.clone(),
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
                generation: 0,
                dead_below: 0,
                anchor: None,
                waiters: 0,
            }),
            freed: Condvar::new(),
        };
        {
            let mut state = inner.lock()?;
            inner.open_anchor(&mut state)?;
        }
        Ok(SessionPool { inner: Arc::new(inner) })
    }

    /// Maximum number of pooled sessions.
    pub fn max_sessions(&self) -> usize {
        self.inner.max
    }

    /// How many times the pool has been reset after losing its sessions or login (a health metric).
    pub fn resets(&self) -> u64 {
        self.inner.state.lock().map(|s| s.generation).unwrap_or(0)
    }

    /// The slot the pool works on.
    pub fn slot(&self) -> Slot {
        self.inner.slot
    }

    /// Checks a session out, waiting up to the checkout timeout for one to be free.
    pub fn checkout(&self) -> HsmResult<PooledSession> {
        self.inner.checkout(&self.inner)
    }

    /// Runs `call` on a pooled session, resetting the pool and retrying per invariant 5.
    pub fn run<T>(&self, idempotence: Idempotence, mut call: impl FnMut(&Session) -> HsmResult<T>) -> HsmResult<T> {
        let mut attempt = 0;
        loop {
            let session = self.checkout()?;
            let error = match call(&session) {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let code = error.code().unwrap_or_default();
            let session_lost = SESSION_LOST.contains(&code);
            let device_lost = DEVICE_LOST.contains(&code);
            let throttled = self.inner.extra_retry_codes.iter().any(|c| c == code);
            if !(session_lost || device_lost || throttled) {
                return Err(error);
            }
            let generation = session.generation;
            drop(session);
            if session_lost || device_lost {
                tracing::warn!(target: "kmipd::hsm", code, attempt, "HSM session lost; resetting the session pool");
                // A failed reset leaves no anchor; the next checkout tries again.
                if let Err(reset_error) = self.inner.reset(generation, session_lost) {
                    tracing::warn!(target: "kmipd::hsm", error = %reset_error, "session pool reset failed");
                }
            }
            let retry_allowed = session_lost || idempotence == Idempotence::Idempotent;
            if !retry_allowed || attempt >= self.inner.retry_attempts {
                return Err(error);
            }
            std::thread::sleep(self.inner.retry_backoff.saturating_mul(1 << attempt.min(10)));
            attempt += 1;
        }
    }
}

impl Inner {
    fn lock(&self) -> HsmResult<MutexGuard<'_, State>> {
        self.state.lock().map_err(|_| HsmError::Module("session pool state poisoned".into()))
    }

    fn open_anchor(&self, state: &mut State) -> HsmResult<()> {
        let anchor = self.ctx.open_rw_session(self.slot)?;
        match anchor.login(UserType::User, Some(&self.pin)) {
            Ok(()) | Err(CryptokiError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(e) => return Err(e.into()),
        }
        state.anchor = Some(anchor);
        Ok(())
    }

    fn checkout(&self, this: &Arc<Inner>) -> HsmResult<PooledSession> {
        let deadline = Instant::now() + self.checkout_timeout;
        let mut state = self.lock()?;
        loop {
            if state.anchor.is_none() {
                self.open_anchor(&mut state)?;
            }
            if let Some(idle) = state.idle.pop() {
                let generation = state.generation;
                let stale = self.idle_check.is_some_and(|limit| idle.last_used.elapsed() > limit);
                if stale && idle.session.get_session_info().is_err() {
                    // Expired by the HSM while idle: forget it (its handle number may be reused) and look again.
                    state.open -= 1;
                    close_or_forget(idle.session, true);
                    continue;
                }
                return Ok(PooledSession {
                    pool: this.clone(),
                    session: Some(idle.session),
                    generation,
                    discard: false,
                });
            }
            if state.open < self.max {
                state.open += 1;
                let generation = state.generation;
                drop(state);
                return match self.ctx.open_rw_session(self.slot) {
                    Ok(session) => {
                        Ok(PooledSession { pool: this.clone(), session: Some(session), generation, discard: false })
                    }
                    Err(e) => {
                        let mut state = self.lock()?;
                        state.open -= 1;
                        if state.waiters > 0 {
                            self.freed.notify_one();
                        }
                        Err(e.into())
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(HsmError::PoolTimeout(self.checkout_timeout.as_millis().try_into().unwrap_or(u64::MAX)));
            }
            state.waiters += 1;
            state = match self.freed.wait_timeout(state, deadline - now) {
                Ok((guard, _)) => guard,
                Err(_) => return Err(HsmError::Module("session pool state poisoned".into())),
            };
            state.waiters -= 1;
        }
    }

    fn give_back(&self, session: Session, generation: u64, discard: bool) {
        let Ok(mut state) = self.state.lock() else { return };
        let wake = state.waiters > 0;
        if discard || generation != state.generation {
            state.open -= 1;
            let dead = generation < state.dead_below;
            drop(state);
            close_or_forget(session, dead);
        } else {
            state.idle.push(Idle { session, last_used: Instant::now() });
            drop(state);
        }
        if wake {
            self.freed.notify_one();
        }
    }

    /// Drops every session of `seen_generation` and reopens the anchor. A no-op if another thread already
    /// reset past that generation. `handles_dead`: the module no longer knows the old sessions.
    fn reset(&self, seen_generation: u64, handles_dead: bool) -> HsmResult<()> {
        let mut state = self.lock()?;
        if state.generation != seen_generation {
            return Ok(());
        }
        state.generation += 1;
        if handles_dead {
            state.dead_below = state.generation;
        }
        let stale: Vec<Idle> = state.idle.drain(..).collect();
        state.open -= stale.len();
        let old_anchor = state.anchor.take();
        // Open the new anchor before the old sessions close, so a still-valid login is never lost in between.
        let result = self.open_anchor(&mut state);
        drop(state);
        for idle in stale {
            close_or_forget(idle.session, handles_dead);
        }
        if let Some(anchor) = old_anchor {
            close_or_forget(anchor, handles_dead);
        }
        self.freed.notify_all();
        result
    }
}

fn close_or_forget(session: Session, dead: bool) {
    if dead {
        // Closing a dead handle could close whichever new session now has the same number.
        std::mem::forget(session);
    } else {
        drop(session);
    }
}
