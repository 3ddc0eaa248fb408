//! `kmipd conformance`: replays the OASIS test cases against kmipd on a fresh SoftHSM2 token
//! and writes `CONFORMANCE.md` ([`crate::conformance::runner`]).
//!
//! The cases of one profile in one folder share an empty store and run in number order (some
//! locate what an earlier one made); each TC- note gets its own. The HSM objects a session made
//! are destroyed after it (the next session's UIDs start over). The requests go
//! through the same [`Processor`] as `kmipd serve`, without TLS: the network path is covered
//! by `tests/server_replay.rs`, and 883 TLS servers would only add minutes.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::conformance::runner::{self, CaseResult, Class};
use crate::conformance::Exchange;
use crate::hsm::{Hsm, Pkcs11Hsm, ENVELOPE_KEY_ID};
use crate::ops::{self, Processor, Reply, RequestContext};
use crate::store::{SledStore, SledStoreConfig};
use crate::ttlv::binary::{self, DecodeLimits};
use crate::ttlv::Ttlv;

use super::serve::{dev_token, open_hsm, Services};

/// Arguments of `kmipd conformance`.
#[derive(Debug, clap::Args)]
pub struct ConformanceArgs {
    /// The OASIS test cases (the `kmip-testcases` folder).
    #[arg(long, default_value = "../shared/kmip-testcases")]
    pub corpus: PathBuf,
    /// Write the report here (e.g. CONFORMANCE.md).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Compare the report's tables with this file and Query's profile claims with the results;
    /// exit 1 on any difference.
    #[arg(long)]
    pub check: Option<PathBuf>,
    /// Replay only the cases whose path contains one of these comma-separated strings.
    #[arg(long)]
    pub only: Option<String>,
    /// Print each failing case's first mismatch and kmipd's last answer (XML).
    #[arg(long)]
    pub verbose: bool,
}

/// An in-process connection to the processor.
struct InProcess<'a> {
    processor: &'a Processor,
    context: RequestContext,
}

impl Exchange for InProcess<'_> {
    fn exchange(&mut self, request: &Ttlv) -> Result<Ttlv, String> {
        let bytes = binary::encode(request).map_err(|e| e.to_string())?;
        match self.processor.process(&self.context, &bytes) {
            Reply::Send(out) => binary::decode(&out, &DecodeLimits::default()).map_err(|e| e.to_string()),
            Reply::Close(reason) => Err(format!("connection closed: {reason:?}")),
        }
    }
}

/// `kmipd conformance`.
pub fn run(args: &ConformanceArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let mut cases = runner::cases(&args.corpus).with_context(|| format!("reading {}", args.corpus.display()))?;
    if let Some(only) = &args.only {
        let wanted: Vec<&str> = only.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        cases.retain(|p| wanted.iter().any(|w| p.to_string_lossy().contains(w)));
    }
    let state = tempfile_dir()?;
    let outcome = replay_all(&args.corpus, &cases, &state);
    let _ = std::fs::remove_dir_all(&state);
    let results = outcome?;
    let claimed = ops::claimed_profiles();
    let command = "kmipd conformance --out CONFORMANCE.md";
    let report = runner::report(&results, &claimed, command);
    let passed = results.iter().filter(|r| r.class == Class::Pass).count();
    // The report is written before anything is printed, and printing ignores a closed stderr
    // (`kmipd conformance … 2>&1 | head` must not lose the report).
    if let Some(out) = &args.out {
        std::fs::write(out, &report).with_context(|| format!("writing {}", out.display()))?;
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{passed} of {} test cases pass ({:.0?})", results.len(), started.elapsed());
    for class in [Class::KmipdBug, Class::NotImplemented, Class::HsmLacksMechanism, Class::BrokenTestCase] {
        let n = results.iter().filter(|r| r.class == class).count();
        let _ = writeln!(err, "  {}: {n}", class.label());
    }
    if args.verbose {
        for r in results.iter().filter(|r| r.class != Class::Pass) {
            let response = r.last_response.as_deref().unwrap_or("");
            let _ = writeln!(err, "\n{} ({}): {}\n{response}", r.path, r.class.label(), r.detail);
        }
    }
    let Some(check) = &args.check else { return Ok(ExitCode::SUCCESS) };
    let mut problems = Vec::new();
    if args.only.is_none() {
        problems = runner::claim_errors(&results, &claimed);
    }
    let committed = std::fs::read_to_string(check).with_context(|| format!("reading {}", check.display()))?;
    let (want, got) = (runner::stable_lines(&committed), runner::stable_lines(&report));
    if want != got {
        problems.push(format!("{} is stale; regenerate it with `{command}`:", check.display()));
        for line in want.iter().filter(|l| !got.contains(l)) {
            problems.push(format!("  - {line}"));
        }
        for line in got.iter().filter(|l| !want.contains(l)) {
            problems.push(format!("  + {line}"));
        }
    }
    for problem in &problems {
        let _ = writeln!(err, "{problem}");
    }
    Ok(if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn replay_all(corpus: &Path, cases: &[PathBuf], state: &Path) -> Result<Vec<CaseResult>> {
    let hsm = Arc::new(open_hsm(&dev_token(state)?)?);
    let mut results = Vec::with_capacity(cases.len());
    let mut sessions: Vec<(String, Vec<&PathBuf>)> = Vec::new();
    for path in cases {
        let session = runner::session_of(path);
        match sessions.iter_mut().find(|(name, _)| *name == session) {
            Some((_, paths)) => paths.push(path),
            None => sessions.push((session, vec![path])),
        }
    }
    for (_, paths) in &mut sessions {
        paths.sort_by_key(|p| runner::session_rank(p));
    }
    for (n, (_, paths)) in sessions.iter().enumerate() {
        let mut config = SledStoreConfig::new(state.join(format!("store-{n}")));
        config.temporary = true;
        let store = Arc::new(SledStore::open(&config).context("opening a scratch store")?);
        let policy = ops::Policy { extractable_by_default: true };
        let processor = Processor::new(ops::Limits::default(), Arc::new(Services { hsm: hsm.clone(), store, policy }));
        let context = RequestContext { client_identity: "CN=kmipd conformance".into(), ..RequestContext::default() };
        let mut transport = InProcess { processor: &processor, context };
        for path in paths {
            results.push(runner::run_case(corpus, path, &mut transport));
        }
        clear_token(&hsm).context("clearing the token between sessions")?;
    }
    Ok(results)
}

/// Destroys every object of the session's KMIP objects on the token (the envelope key stays).
fn clear_token(hsm: &Pkcs11Hsm) -> Result<()> {
    for object in hsm.list_objects()? {
        if let Some(id) = object.caller_id.filter(|id| id.as_slice() != ENVELOPE_KEY_ID) {
            hsm.destroy(&id)?;
        }
    }
    Ok(())
}

fn tempfile_dir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("kmipd-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}
