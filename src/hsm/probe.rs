//! Probing an HSM against a profile.
