//! `kmipd hsm probe` and `kmipd bench hsm`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cryptoki::mechanism::{aead::GcmParams, Mechanism};
use cryptoki::object::{Attribute, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;

use crate::hsm::module::{self, mechanism_name};
use crate::hsm::probe::{self, Outcome};
use crate::hsm::{
    Cipher, Curve, HashAlg, Hsm, HsmConfig, HsmError, KeyPairSpec, KeyUsage, NewObject, PinSource, Pkcs11Hsm, Profile,
    SecretKeyAlgorithm, SecretKeySpec, SignatureAlgorithm,
};

/// How to reach the token: a profile plus command-line overrides.
#[derive(Debug, Clone, clap::Args)]
pub struct TokenArgs {
    /// The HSM profile (hsm-profiles/*.toml).
    #[arg(long)]
    pub profile: PathBuf,
    /// PKCS#11 module path (overrides the profile).
    #[arg(long)]
    pub module: Option<PathBuf>,
    /// Token label (overrides the profile).
    #[arg(long)]
    pub token: Option<String>,
    /// File holding the user PIN.
    #[arg(long, conflicts_with = "pin_env")]
    pub pin_file: Option<PathBuf>,
    /// Environment variable holding the user PIN.
    #[arg(long)]
    pub pin_env: Option<String>,
}

impl TokenArgs {
    fn config(&self) -> Result<HsmConfig, HsmError> {
        let profile = Profile::load(&self.profile)?;
        let pin = match (&self.pin_file, &self.pin_env) {
            (Some(file), _) => Some(PinSource::File(file.clone())),
            (None, Some(var)) => Some(PinSource::Env(var.clone())),
            (None, None) => None,
        };
        Ok(HsmConfig {
            module_path: self.module.clone(),
            token_label: self.token.clone(),
            pin,
            ..HsmConfig::new(profile)
        })
    }
}

/// Arguments of `kmipd hsm probe`.
#[derive(Debug, Clone, clap::Args)]
pub struct ProbeArgs {
    /// Token selection and login.
    #[command(flatten)]
    pub token: TokenArgs,
}

/// Runs the probe and prints the table. Returns whether every capability the profile promises works.
pub fn probe(args: &ProbeArgs, out: &mut dyn Write) -> Result<bool, HsmError> {
    let report = probe::probe(args.token.config()?)?;
    let io = |e: std::io::Error| HsmError::Config(format!("cannot write output: {e}"));
    writeln!(out, "profile: {}", report.profile_name).map_err(io)?;
    let names: Vec<String> = report.raw_mechanisms.iter().map(|m| mechanism_name(*m)).collect();
    writeln!(out, "module lists {} mechanisms: {}", names.len(), names.join(" ")).map_err(io)?;
    writeln!(out).map_err(io)?;
    writeln!(out, "{:<24} {:<12} {:<13} works", "capability", "profile says", "module lists").map_err(io)?;
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    for row in &report.rows {
        let works = match &row.outcome {
            Outcome::Works => "yes".to_string(),
            Outcome::Fails(reason) => format!("NO ({reason})"),
            Outcome::Skipped => "skipped (slow, not promised)".to_string(),
        };
        let listed = row.module_lists.map_or("-", yes_no);
        let mark = if row.is_failure() { "  <-- promised but broken" } else { "" };
        writeln!(out, "{:<24} {:<12} {:<13} {works}{mark}", row.capability.name(), yes_no(row.profile_says), listed)
            .map_err(io)?;
    }
    let failures = report.failures();
    writeln!(out).map_err(io)?;
    if failures.is_empty() {
        writeln!(out, "OK: every capability the profile promises works").map_err(io)?;
    } else {
        let names: Vec<String> = failures.iter().map(|r| r.capability.name()).collect();
        writeln!(out, "FAILED: the profile promises what this HSM cannot do: {}", names.join(", ")).map_err(io)?;
    }
    Ok(failures.is_empty())
}

/// Arguments of `kmipd bench hsm`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Token selection and login.
    #[command(flatten)]
    pub token: TokenArgs,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 2.0)]
    pub seconds: f64,
    /// Thread counts to measure.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    pub threads: Vec<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    AesGcm1KiB,
    AesKeyGen,
    EcdsaP256Sign,
}

impl Case {
    fn name(self) -> &'static str {
        match self {
            Case::AesGcm1KiB => "AES-256-GCM encrypt 1 KiB",
            Case::AesKeyGen => "AES-256 token key generation",
            Case::EcdsaP256Sign => "ECDSA P-256 sign (SHA-256)",
        }
    }
}

const GCM_IV: [u8; 12] = [7; 12];
/// Measurement rounds per figure (pool and direct alternate).
const ROUNDS: u32 = 8;

/// Measures the pool (through [`Hsm`]) against direct single-session cryptoki calls and prints the ratio.
/// Never asserts timing.
pub fn bench(args: &BenchArgs, out: &mut dyn Write) -> Result<(), HsmError> {
    let io = |e: std::io::Error| HsmError::Config(format!("cannot write output: {e}"));
    let config = args.token.config()?;
    let module_path = config.module_path.clone().unwrap_or_else(|| config.profile.module.path.clone());
    let hsm = Pkcs11Hsm::open(config)?;
    let ctx = module::context(&module_path, &[])?;
    let slot = hsm.pool().slot();
    let run_id = std::process::id();
    let aes = format!("bench-{run_id}-aes").into_bytes();
    let ec_private = format!("bench-{run_id}-p256").into_bytes();
    let ec_public = format!("bench-{run_id}-p256.pub").into_bytes();
    hsm.generate_secret_key(
        SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits: 256 },
        &NewObject::session(aes.clone(), "kmipd bench", KeyUsage::ALL),
    )?;
    hsm.generate_key_pair(
        KeyPairSpec::Ec(Curve::P256),
        &NewObject::session(ec_private.clone(), "kmipd bench", KeyUsage::ALL),
        &NewObject::session(ec_public.clone(), "kmipd bench", KeyUsage::ALL),
    )?;
    let aes_cka = hsm.cka_id(&aes)?;
    let ec_cka = hsm.cka_id(&ec_private)?;
    let data = vec![0x5a_u8; 1024];
    let duration = Duration::from_secs_f64(args.seconds.max(0.1));
    let counter = AtomicU64::new(0);
    let generated = std::sync::Mutex::new(Vec::<Vec<u8>>::new());

    writeln!(
        out,
        "kmipd bench hsm: {} s per figure (best of {ROUNDS} alternating rounds), pool of {} sessions",
        args.seconds,
        hsm.pool().max_sessions()
    )
    .map_err(io)?;
    writeln!(out, "{:<32} {:>7} {:>12} {:>12} {:>7}", "operation", "threads", "pool op/s", "direct op/s", "ratio")
        .map_err(io)?;
    for case in [Case::AesGcm1KiB, Case::AesKeyGen, Case::EcdsaP256Sign] {
        for &threads in &args.threads {
            let threads = threads.max(1);
            let pool_op = |_: usize| {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                match case {
                    Case::AesGcm1KiB => {
                        let cipher = Cipher::AesGcm { iv: Some(GCM_IV.to_vec()), aad: Vec::new(), tag_len: 16 };
                        hsm.encrypt(&aes, &cipher, &data).map(drop)
                    }
                    Case::AesKeyGen => {
                        let id = format!("bench-{run_id}-pool-{n}").into_bytes();
                        let object = NewObject::token(id.clone(), "kmipd bench", KeyUsage::ALL);
                        let result = hsm.generate_secret_key(
                            SecretKeySpec { algorithm: SecretKeyAlgorithm::Aes, bits: 256 },
                            &object,
                        );
                        if let Ok(mut g) = generated.lock() {
                            g.push(id);
                        }
                        result
                    }
                    Case::EcdsaP256Sign => {
                        hsm.sign(&ec_private, SignatureAlgorithm::Ecdsa(HashAlg::Sha256), &data).map(drop)
                    }
                }
            };
            let direct_op = |session: &Session, handles: &Handles| {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                match case {
                    Case::AesGcm1KiB => {
                        let mut iv = GCM_IV;
                        let params = GcmParams::new(&mut iv, &[], 128.into())?;
                        session.encrypt(&Mechanism::AesGcm(params), handles.aes, &data).map(drop)
                    }
                    Case::AesKeyGen => {
                        let id = format!("bench-{run_id}-direct-{n}").into_bytes();
                        let cka_id = hsm.cka_id(&id).map_err(|_| cryptoki::error::Error::InvalidValue)?;
                        session.generate_key(&Mechanism::AesKeyGen, &direct_aes_template(cka_id))?;
                        if let Ok(mut g) = generated.lock() {
                            g.push(id);
                        }
                        Ok(())
                    }
                    Case::EcdsaP256Sign => {
                        // Same two calls the pool makes on a module without CKM_ECDSA_SHA256.
                        let digest = session.digest(&Mechanism::Sha256, &data)?;
                        session.sign(&Mechanism::Ecdsa, handles.ec, &digest).map(drop)
                    }
                }
            };
            // Alternate short rounds and keep each side's best: background load then hits both alike.
            let slice = duration / ROUNDS;
            let (mut pool_rate, mut direct_rate) = (0.0_f64, 0.0_f64);
            for round in 0..ROUNDS {
                // Alternate which side goes first, so neither always inherits the other's warm or cold state.
                for side in [round % 2, 1 - round % 2] {
                    if side == 0 {
                        pool_rate = pool_rate.max(measure(threads, slice, pool_op)?);
                    } else {
                        let rate = measure_direct(threads, slice, &ctx, slot, direct_op, &aes_cka, &ec_cka)?;
                        direct_rate = direct_rate.max(rate);
                    }
                }
            }
            let ratio = if direct_rate > 0.0 { pool_rate / direct_rate } else { 0.0 };
            writeln!(
                out,
                "{:<32} {:>7} {:>12.0} {:>12.0} {:>7.3}",
                case.name(),
                threads,
                pool_rate,
                direct_rate,
                ratio
            )
            .map_err(io)?;
            if case == Case::AesKeyGen {
                // Token objects: clean up outside the timed window.
                let ids = generated.lock().map(|mut g| std::mem::take(&mut *g)).unwrap_or_default();
                for id in ids {
                    let _ = hsm.destroy(&id);
                }
            }
        }
    }
    for id in [&aes, &ec_private, &ec_public] {
        let _ = hsm.destroy(id);
    }
    Ok(())
}

fn direct_aes_template(id: Vec<u8>) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(KeyType::AES),
        Attribute::Token(true),
        Attribute::Id(id),
        Attribute::Label(b"kmipd bench".to_vec()),
        Attribute::Modifiable(true),
        Attribute::Destroyable(true),
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Extractable(false),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
        Attribute::Sign(true),
        Attribute::Verify(true),
        Attribute::Wrap(true),
        Attribute::Unwrap(true),
        Attribute::Derive(true),
        Attribute::ValueLen(32.into()),
    ]
}

struct Handles {
    aes: ObjectHandle,
    ec: ObjectHandle,
}

fn measure(
    threads: usize,
    duration: Duration,
    op: impl Fn(usize) -> Result<(), HsmError> + Sync,
) -> Result<f64, HsmError> {
    let start = Instant::now();
    let counts: Vec<Result<u64, HsmError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let op = &op;
                scope.spawn(move || {
                    let mut done = 0u64;
                    while start.elapsed() < duration {
                        op(t)?;
                        done += 1;
                    }
                    Ok(done)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(Err(HsmError::Module("bench thread panicked".into())))).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let mut total = 0;
    for count in counts {
        total += count?;
    }
    Ok(total as f64 / elapsed)
}

/// Each thread opens its own session and finds its handles once, then calls cryptoki directly.
fn measure_direct(
    threads: usize,
    duration: Duration,
    ctx: &cryptoki::context::Pkcs11,
    slot: cryptoki::slot::Slot,
    op: impl Fn(&Session, &Handles) -> cryptoki::error::Result<()> + Sync,
    aes_cka: &[u8],
    ec_cka: &[u8],
) -> Result<f64, HsmError> {
    let find = |session: &Session, id: &[u8]| -> Result<ObjectHandle, HsmError> {
        session.find_objects(&[Attribute::Id(id.to_vec())])?.first().copied().ok_or(HsmError::NotFound)
    };
    let sessions: Vec<(Session, Handles)> = (0..threads)
        .map(|_| {
            let session = ctx.open_rw_session(slot)?;
            let handles = Handles { aes: find(&session, aes_cka)?, ec: find(&session, ec_cka)? };
            Ok((session, handles))
        })
        .collect::<Result<_, HsmError>>()?;
    let start = Instant::now();
    let counts: Vec<Result<u64, HsmError>> = std::thread::scope(|scope| {
        let joins: Vec<_> = sessions
            .into_iter()
            .map(|(session, handles)| {
                let op = &op;
                scope.spawn(move || {
                    let mut done = 0u64;
                    while start.elapsed() < duration {
                        op(&session, &handles)?;
                        done += 1;
                    }
                    Ok(done)
                })
            })
            .collect();
        joins.into_iter().map(|h| h.join().unwrap_or(Err(HsmError::Module("bench thread panicked".into())))).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let mut total = 0;
    for count in counts {
        total += count?;
    }
    Ok(total as f64 / elapsed)
}
