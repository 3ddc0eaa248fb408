//! The start-up reconciler of DESIGN.md invariant 3.
//!
//! After a crash the store may hold records that stopped half-way:
//! - **Pending**: the creation was never acknowledged (commit is flushed before the reply), so
//!   it is rolled back: the HSM object, if it was made, is destroyed, then the record deleted.
//!   Destroying first means a crash during roll-back leaves a Pending record to retry, never an
//!   HSM object without a record.
//! - **Destroying**: the client asked for the destruction, so it is finished: the HSM object is
//!   destroyed (if still there), then the record marked Destroyed.
//!
//! HSM objects in kmipd's namespace that no live record claims are reported as strangers, not
//! destroyed: they may be another tool's, and key material is not deleted on a guess. Live
//! records whose HSM object is absent are reported as missing.

use super::{HsmRef, Lifecycle, Store, StoreError};
use std::collections::BTreeSet;

/// What the reconciler needs from the HSM layer, which implements it.
pub trait HsmInventory {
    /// Error of the HSM layer.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Every object in kmipd's namespace on the token (one search, at start-up only).
    fn list_objects(&self) -> Result<Vec<HsmRef>, Self::Error>;

    /// Destroy one object; succeeds if it does not exist.
    fn destroy_object(&self, object: &HsmRef) -> Result<(), Self::Error>;
}

/// One record the reconciler could not settle; it stays as it was and is retried next start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReconcileFailure {
    /// The record's UID.
    pub uid: String,
    /// What went wrong, for the log.
    pub error: String,
}

/// What the reconciler did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Pending records rolled back (deleted, their HSM objects destroyed).
    pub rolled_back: Vec<String>,
    /// Destroying records whose destruction was finished.
    pub destroyed: Vec<String>,
    /// HSM objects in kmipd's namespace that no live record claims.
    pub strangers: Vec<HsmRef>,
    /// UIDs of live records whose HSM object is not on the token (deleted behind kmipd's
    /// back, or a different token): their key material is unusable.
    pub missing: Vec<String>,
    /// Records left unsettled.
    pub failures: Vec<ReconcileFailure>,
}

/// Errors that stop the reconciler as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The HSM's objects could not be listed.
    #[error("listing the HSM's objects: {0}")]
    HsmList(Box<dyn std::error::Error + Send + Sync>),
}

/// Settle every Pending and Destroying record and report strangers and missing objects.
/// Reads the incomplete records and the HSM-reference index, never every record.
pub fn reconcile<S, H>(store: &S, hsm: &H) -> Result<ReconcileReport, ReconcileError>
where
    S: Store + ?Sized,
    H: HsmInventory + ?Sized,
{
    let mut present: BTreeSet<HsmRef> = hsm
        .list_objects()
        .map_err(|e| ReconcileError::HsmList(Box::new(e)))?
        .into_iter()
        .collect();
    let mut report = ReconcileReport::default();
    for record in store.list_incomplete()? {
        let uid = record.uid.clone();
        if let Some(object) = record
            .hsm
            .as_ref()
            .filter(|object| present.contains(*object))
        {
            if let Err(error) = hsm.destroy_object(object) {
                report.failures.push(ReconcileFailure {
                    uid,
                    error: error.to_string(),
                });
                continue;
            }
            present.remove(object);
        }
        match record.lifecycle {
            Lifecycle::Pending => {
                store.delete(&uid)?;
                report.rolled_back.push(uid);
            }
            Lifecycle::Destroying => {
                store.mark_destroyed(&uid)?;
                report.destroyed.push(uid);
            }
            // list_incomplete returns only the two lifecycles above.
            Lifecycle::Committed | Lifecycle::Destroyed => {}
        }
    }
    let claims = store.hsm_claims()?;
    let unsettled: BTreeSet<&str> = report.failures.iter().map(|f| f.uid.as_str()).collect();
    report.strangers = present
        .iter()
        .filter(|object| !claims.contains_key(*object))
        .cloned()
        .collect();
    report.missing = claims
        .into_iter()
        .filter(|(object, uid)| !present.contains(object) && !unsettled.contains(uid.as_str()))
        .map(|(_, uid)| uid)
        .collect();
    Ok(report)
}
