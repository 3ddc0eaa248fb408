//! The conformance runner: every OASIS test case of the KMIP 1.0–2.1 folders replayed against
//! kmipd, each failure classified, the whole summarized as `CONFORMANCE.md`.
//!
//! A failure is classified by the first rule that applies:
//!
//! 1. the case is in [`super::known::KNOWN`] (curated, each with its reason): *HSM lacks
//!    mechanism* or *broken test case*;
//! 2. kmipd's last answer carries Operation Not Supported or Feature Not Supported:
//!    *not implemented*;
//! 3. anything else: *kmipd bug*.
//!
//! The report's tables (counts per profile and version, and the class of every case that did
//! not pass) are deterministic, so CI regenerates them and compares with the committed file
//! ([`stable_lines`]); the details under them quote the first mismatch and may differ run to
//! run.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::kmip::enums::ResultReason;
use crate::kmip::KmipEnum;
use crate::ttlv::{Tag, Ttlv, Value};

use super::{run_file, Exchange, ReplayError};

/// The corpus folders the runner replays (KMIP 3.0 is a draft and is left out).
pub const FOLDERS: &[&str] = &["kmip-1.0-1.2", "kmip-1.3", "kmip-1.4", "kmip-2.0", "kmip-2.1"];

/// Protocol versions, in report column order.
pub const VERSIONS: &[&str] = &["1.0", "1.1", "1.2", "1.3", "1.4", "2.0", "2.1"];

/// How a test case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// Every response matched.
    Pass,
    /// kmipd answered something else than the specification asks: to fix.
    KmipdBug,
    /// kmipd does not implement an operation or feature the case needs.
    NotImplemented,
    /// The HSM lacks a mechanism the case needs (named in the reason).
    HsmLacksMechanism,
    /// The test case itself is wrong (named in the reason).
    BrokenTestCase,
}

impl Class {
    /// The label the report uses.
    pub fn label(self) -> &'static str {
        match self {
            Class::Pass => "pass",
            Class::KmipdBug => "kmipd bug",
            Class::NotImplemented => "not implemented",
            Class::HsmLacksMechanism => "HSM lacks mechanism",
            Class::BrokenTestCase => "broken test case",
        }
    }
}

/// The outcome of one test-case file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// Path relative to the corpus root.
    pub path: String,
    /// Profile (`BL`, `CS-AC`, …) or `TC` for the informative test-case notes.
    pub profile: String,
    /// Protocol version the case speaks (`1.4`).
    pub version: String,
    /// How it ended.
    pub class: Class,
    /// Why, for anything but a pass.
    pub detail: String,
    /// kmipd's last answer in the case, as XML, for anything but a pass.
    pub last_response: Option<String>,
}

/// Every test-case file of [`FOLDERS`] under `corpus`, by folder and then in number order
/// (`SKFF-M-2` before `SKFF-M-10`), the order a profile's cases are meant to run in.
pub fn cases(corpus: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for folder in FOLDERS {
        collect(&corpus.join(folder), &mut out)?;
    }
    out.sort_by_cached_key(|p| natural_key(&p.to_string_lossy()));
    Ok(out)
}

/// A sort key comparing digit runs as numbers.
fn natural_key(text: &str) -> Vec<(String, u64)> {
    let mut key = Vec::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let mut word = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_ascii_digit()) {
            word.push(c);
        }
        let mut number = 0u64;
        while let Some(d) = chars.next_if(char::is_ascii_digit) {
            number = number.saturating_mul(10).saturating_add(u64::from(d.to_digit(10).unwrap_or(0)));
        }
        key.push((word, number));
    }
    key
}

/// Cases that share one server: a profile's cases of one version in one folder run in order against the same
/// store, as some locate what an earlier one made (SASED-M-3, TL-M-3); each TC- note runs alone, unless its
/// family has a `-SETUP-` note beside it (TC-OTP-SETUP-1-13 registers what TC-OTP-1-13 locates): the family then
/// shares a store, in [`session_rank`] order.
pub fn session_of(path: &Path) -> String {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    match profile_of(&stem).as_str() {
        "TC" => match tc_family_with_setup(path, &stem) {
            Some(family) => format!(
                "{}/{family}@{}",
                path.parent().map(|p| p.display().to_string()).unwrap_or_default(),
                version_of(&stem).unwrap_or_default()
            ),
            None => path.display().to_string(),
        },
        // One folder may hold several versions of a profile (kmip-1.0-1.2): each is its own run.
        profile => format!(
            "{}/{profile}@{}",
            path.parent().map(|p| p.display().to_string()).unwrap_or_default(),
            version_of(&stem).unwrap_or_default()
        ),
    }
}

/// Where a case runs within its session: a family's `-SETUP-` notes first, its `-CLEANUP-` notes last.
pub fn session_rank(path: &Path) -> u8 {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if stem.contains("-SETUP-") {
        0
    } else if stem.contains("-CLEANUP-") {
        2
    } else {
        1
    }
}

/// `TC-OTP` for `TC-OTP-3-13`, `TC-OTP-SETUP-1-13` or `TC-OTP-CLEANUP-1-13`, when a `TC-OTP-SETUP-…` file of the
/// same version sits in the same folder.
fn tc_family_with_setup(path: &Path, stem: &str) -> Option<String> {
    let mut parts: Vec<&str> = stem.split('-').collect();
    let version = parts.pop()?;
    parts.pop().filter(|n| n.chars().all(|c| c.is_ascii_digit()))?;
    if matches!(parts.last(), Some(&"SETUP") | Some(&"CLEANUP")) {
        parts.pop();
    }
    let family = parts.join("-");
    let setup_prefix = format!("{family}-SETUP-");
    let version_suffix = format!("-{version}.xml");
    let has_setup = std::fs::read_dir(path.parent()?).ok()?.filter_map(Result::ok).any(|e| {
        let name = e.file_name().to_string_lossy().into_owned();
        name.starts_with(&setup_prefix) && name.ends_with(&version_suffix)
    });
    has_setup.then_some(family)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<Vec<_>, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "xml") {
            out.push(path);
        }
    }
    Ok(())
}

/// The profile a file belongs to: the part of `CS-AC-M-OAEP-3-21` before `-M-`/`-O-`, `TC`
/// for the test-case notes (`TC-…`, `TC_…`).
pub fn profile_of(stem: &str) -> String {
    if stem.starts_with("TC-") || stem.starts_with("TC_") {
        return "TC".into();
    }
    let cut = [stem.find("-M-"), stem.find("-O-")].into_iter().flatten().min();
    cut.map_or(stem, |i| &stem[..i]).to_owned()
}

/// The protocol version a file speaks, from its name: `…-14` (profiles, TC- notes) or
/// `TC_101_10_…` (the 1.0–1.2 transcriptions).
pub fn version_of(stem: &str) -> Option<String> {
    let digits = if let Some(rest) = stem.strip_prefix("TC_") {
        rest.split('_').nth(1)?
    } else {
        stem.rsplit('-').next()?
    };
    match digits.as_bytes() {
        [major @ b'1'..=b'3', minor @ b'0'..=b'9'] => Some(format!("{}.{}", *major as char, *minor as char)),
        _ => None,
    }
}

/// A transport that keeps the last response, to read its Result Reasons after a failure.
struct Recording<'a> {
    inner: &'a mut dyn Exchange,
    last: Option<Ttlv>,
}

impl Exchange for Recording<'_> {
    fn exchange(&mut self, request: &Ttlv) -> Result<Ttlv, String> {
        let response = self.inner.exchange(request)?;
        self.last = Some(response.clone());
        Ok(response)
    }
}

/// Replays the file at `path` (under `corpus`) through `transport` and classifies the outcome.
pub fn run_case(corpus: &Path, path: &Path, transport: &mut dyn Exchange) -> CaseResult {
    let relative = path.strip_prefix(corpus).unwrap_or(path).display().to_string();
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let folder_version = relative.split('/').next().and_then(|f| f.strip_prefix("kmip-")).unwrap_or("?");
    let version = version_of(&stem).unwrap_or_else(|| folder_version.to_owned());
    let mut recording = Recording { inner: transport, last: None };
    let outcome = run_file(path, &mut recording);
    let (class, detail) = classify(&stem, outcome.err(), recording.last.as_ref());
    let last_response = (class != Class::Pass).then(|| recording.last.as_ref().map(crate::ttlv::xml::to_xml)).flatten();
    CaseResult { path: relative, profile: profile_of(&stem), version, class, detail, last_response }
}

fn classify(stem: &str, error: Option<ReplayError>, last: Option<&Ttlv>) -> (Class, String) {
    let Some(error) = error else { return (Class::Pass, String::new()) };
    let mismatch = error.to_string();
    let reasons = last.map(result_reasons).unwrap_or_default();
    if let Some(known) = super::known::lookup(stem, &mismatch, &reasons) {
        return (known.class, format!("{} ({mismatch})", known.why));
    }
    let unsupported = [ResultReason::OperationNotSupported, ResultReason::FeatureNotSupported];
    let class = if reasons.iter().any(|r| unsupported.contains(r)) { Class::NotImplemented } else { Class::KmipdBug };
    (class, mismatch)
}

fn result_reasons(response: &Ttlv) -> Vec<ResultReason> {
    response
        .children_with(Tag::BATCH_ITEM)
        .filter_map(|item| match item.child(Tag::RESULT_REASON).map(|r| &r.value) {
            Some(Value::Enumeration(v)) => ResultReason::from_u32(*v),
            _ => None,
        })
        .collect()
}

/// The profiles kmipd claims, as (profile, version) pairs.
pub type Claims = BTreeSet<(String, String)>;

/// Profiles the replay can't assess: they are about the transport or encoding (HTTPS, JSON and
/// XML message encodings, Suite B TLS), which their test messages don't exercise; kmipd claims
/// none of them.
pub const NOT_ASSESSED: &[&str] = &["MSGENC-", "SUITEB"];

/// (profile, version) pairs that pass: every case passed or is a broken test case. A case the
/// HSM can't do keeps the profile unclaimed on that HSM.
pub fn fully_passing(results: &[CaseResult]) -> Claims {
    let mut groups: BTreeMap<(String, String), bool> = BTreeMap::new();
    for r in results.iter().filter(|r| r.profile != "TC" && !NOT_ASSESSED.iter().any(|p| r.profile.starts_with(p))) {
        let all = groups.entry((r.profile.clone(), r.version.clone())).or_insert(true);
        *all &= matches!(r.class, Class::Pass | Class::BrokenTestCase);
    }
    groups.into_iter().filter(|(_, all)| *all).map(|(k, _)| k).collect()
}

/// Disagreements between what kmipd claims in Query and what passed: a claimed profile with a
/// failure, or a fully passing profile left unclaimed.
pub fn claim_errors(results: &[CaseResult], claimed: &Claims) -> Vec<String> {
    let passing = fully_passing(results);
    let mut errors = Vec::new();
    for (profile, version) in claimed.difference(&passing) {
        let failing: Vec<&str> = results
            .iter()
            .filter(|r| &r.profile == profile && &r.version == version)
            .filter(|r| !matches!(r.class, Class::Pass | Class::BrokenTestCase))
            .map(|r| r.path.as_str())
            .collect();
        errors.push(format!("Query claims {profile} at KMIP {version}, but these cases fail: {}", failing.join(", ")));
    }
    for (profile, version) in passing.difference(claimed) {
        errors.push(format!("{profile} at KMIP {version} passes every case but Query does not claim it"));
    }
    errors
}

/// `CONFORMANCE.md`.
pub fn report(results: &[CaseResult], claimed: &Claims, command: &str) -> String {
    let mut out = String::new();
    let passed = results.iter().filter(|r| r.class == Class::Pass).count();
    let _ = writeln!(out, "# kmipd conformance to the OASIS KMIP test cases\n");
    let _ = writeln!(
        out,
        "Generated by `{command}` against a fresh SoftHSM2 token, one empty store per profile and folder (its cases run in number order), one per TC- note.\n\
         Do not edit: CI regenerates this file and fails when the tables differ.\n"
    );
    let _ = writeln!(out, "{passed} of {} test cases pass.\n", results.len());
    let _ = writeln!(out, "## Passed / total, by profile and protocol version\n");
    let _ = writeln!(
        out,
        "A ✔ marks what Query (Profile Information) claims: exactly the profile versions whose cases all pass \
         or are broken test cases. The message-encoding (MSGENC) and Suite B profiles are about transports \
         and TLS suites their messages don't exercise; they are never claimed. TC is the informative test-case \
         notes.\n"
    );
    let mut header = String::from("| profile |");
    let mut rule = String::from("|---|");
    for v in VERSIONS {
        let _ = write!(header, " {v} |");
        rule.push_str("---:|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    let profiles: BTreeSet<&str> = results.iter().map(|r| r.profile.as_str()).collect();
    for profile in profiles {
        let mut row = format!("| {profile} |");
        for v in VERSIONS {
            let group: Vec<&CaseResult> = results.iter().filter(|r| r.profile == profile && r.version == *v).collect();
            if group.is_empty() {
                row.push_str(" – |");
                continue;
            }
            let ok = group.iter().filter(|r| r.class == Class::Pass).count();
            let mark = if claimed.contains(&(profile.to_owned(), (*v).to_owned())) { " ✔" } else { "" };
            let _ = write!(row, " {ok}/{}{mark} |", group.len());
        }
        let _ = writeln!(out, "{row}");
    }
    let _ = writeln!(out, "\n## By class\n\n| class | cases |\n|---|---:|");
    for class in [Class::Pass, Class::KmipdBug, Class::NotImplemented, Class::HsmLacksMechanism, Class::BrokenTestCase] {
        let n = results.iter().filter(|r| r.class == class).count();
        let _ = writeln!(out, "| {} | {n} |", class.label());
    }
    let _ = writeln!(out, "\n## Cases that do not pass\n\n| case | class |\n|---|---|");
    for r in results.iter().filter(|r| r.class != Class::Pass) {
        let _ = writeln!(out, "| {} | {} |", r.path, r.class.label());
    }
    let _ = writeln!(out, "\n## Details (first mismatch, or the curated reason)\n");
    for r in results.iter().filter(|r| r.class != Class::Pass) {
        let detail: String = r.detail.chars().take(300).collect();
        let _ = writeln!(out, "- `{}`: {}", r.path, detail.replace('\n', " "));
    }
    out
}

/// The lines of a report that must not change between two runs of the same code: every table
/// row and the total.
pub fn stable_lines(report: &str) -> Vec<&str> {
    report.lines().filter(|l| l.starts_with('|') || l.ends_with("test cases pass.")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_profile_and_version() {
        assert_eq!(profile_of("CS-AC-M-OAEP-3-21"), "CS-AC");
        assert_eq!(profile_of("BL-M-10-14"), "BL");
        assert_eq!(profile_of("SKLC-O-1-20"), "SKLC");
        assert_eq!(profile_of("TC-Q-PROF-1-14"), "TC");
        assert_eq!(version_of("CS-AC-M-OAEP-3-21").as_deref(), Some("2.1"));
        assert_eq!(version_of("TC_121_10_Query_Maximum_Response_Size").as_deref(), Some("1.0"));
        assert_eq!(version_of("MSGENC-JSON-M-1-11").as_deref(), Some("1.1"));
        assert_eq!(version_of("odd"), None);
    }

    #[test]
    fn numbers_sort_as_numbers() {
        let mut names = vec!["SKFF-M-10-14", "SKFF-M-2-14", "SKFF-M-1-14"];
        names.sort_by_key(|n| natural_key(n));
        assert_eq!(names, ["SKFF-M-1-14", "SKFF-M-2-14", "SKFF-M-10-14"]);
    }

    #[test]
    fn claims_must_match_what_passes() {
        let case = |profile: &str, class| CaseResult {
            path: format!("{profile}.xml"),
            profile: profile.into(),
            version: "1.4".into(),
            class,
            detail: String::new(),
            last_response: None,
        };
        let results = vec![case("TL", Class::Pass), case("BL", Class::Pass), case("BL", Class::KmipdBug)];
        let claimed: Claims = [("TL".to_owned(), "1.4".to_owned())].into();
        assert!(claim_errors(&results, &claimed).is_empty());
        let over: Claims = [("BL".to_owned(), "1.4".to_owned()), ("TL".to_owned(), "1.4".to_owned())].into();
        assert_eq!(claim_errors(&results, &over).len(), 1);
        assert_eq!(claim_errors(&results, &Claims::new()).len(), 1);
    }

    #[test]
    fn a_tc_family_with_a_setup_note_shares_a_session_setup_first() {
        let dir = std::env::temp_dir().join(format!("kmipd-runner-family-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let names = ["TC-OTP-1-13", "TC-OTP-CLEANUP-1-13", "TC-OTP-SETUP-1-13", "TC-OFFSET-1-13", "TC-OTP-1-14"];
        let paths: Vec<PathBuf> = names.iter().map(|n| dir.join(format!("{n}.xml"))).collect();
        for path in &paths {
            std::fs::write(path, "<KMIP/>").unwrap();
        }
        let session = |i: usize| session_of(&paths[i]);
        assert_eq!(session(0), session(1));
        assert_eq!(session(0), session(2));
        assert_ne!(session(0), session(3), "a family without a setup note runs each case alone");
        assert_ne!(session(0), session(4), "the setup note is of another version");
        let mut family = vec![paths[1].clone(), paths[0].clone(), paths[2].clone()];
        family.sort_by_key(|p| session_rank(p));
        assert_eq!(family, [paths[2].clone(), paths[0].clone(), paths[1].clone()]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
