//! `kmipd serve` and `kmipd dev`: wire the configuration, the HSM, the metadata store and the
//! operations layer to the mutual-TLS listener.
//!
//! `dev` is the one-command quick start: it prepares a private SoftHSM2 token, a dev PKI and
//! a store under one state directory and then serves exactly as `serve` would. Running it
//! again reuses the same state.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use tokio_util::sync::CancellationToken;
use zeroize::Zeroizing;

use crate::config::{AuditConfig, Config, HsmConfig, Limits, LogConfig, PolicyConfig};
use crate::hsm::{self, Pkcs11Hsm, Profile};
use crate::ops::{self, Processor, Reply, RequestContext};
use crate::pki::DevPki;
use crate::server::{self, HandlerOutcome, PeerInfo, RequestHandler, Server};
use crate::store::{self, SledStore, SledStoreConfig};
use crate::ttlv::DecodeLimits;

/// What object operations act through: the HSM and the metadata store.
pub struct Services {
    /// The PKCS#11 token holding the key material.
    pub hsm: Arc<Pkcs11Hsm>,
    /// The KMIP metadata of every object.
    pub store: Arc<SledStore>,
    /// Rules for new objects.
    pub policy: ops::Policy,
}

impl ops::Backend for Services {
    fn hsm(&self) -> Option<&dyn hsm::Hsm> {
        Some(&*self.hsm)
    }

    fn store(&self) -> Option<&dyn crate::store::Store> {
        Some(&*self.store)
    }

    fn policy(&self) -> ops::Policy {
        self.policy
    }
}

/// Runs the operations layer for the listener: on blocking threads (PKCS#11 calls and flushed store writes block),
/// except short store-only reads ([`ops::DecodedRequest::reads_store_only`]), which run where they were read.
struct Handler {
    processor: Arc<Processor>,
    /// Identities with rights over every object (`admin_identities`).
    admins: Vec<String>,
}

impl RequestHandler for Handler {
    async fn handle(&self, peer: &PeerInfo, request: Zeroizing<Vec<u8>>) -> HandlerOutcome {
        let processor = Arc::clone(&self.processor);
        let ctx = RequestContext {
            client_identity: peer.identity.subject.clone(),
            client_fingerprint: peer.identity.fingerprint_hex(),
            peer: Some(peer.addr),
            connection_id: peer.connection_id,
            is_admin: self.admins.iter().any(|entry| peer.identity.matches(entry)),
        };
        let request = match processor.decode(&request) {
            Ok(request) => request,
            Err(reply) => return outcome(reply),
        };
        if request.reads_store_only() {
            return outcome(processor.run(&ctx, &request));
        }
        match tokio::task::spawn_blocking(move || processor.run(&ctx, &request)).await {
            Ok(reply) => outcome(reply),
            Err(_) => HandlerOutcome::Close,
        }
    }
}

fn outcome(reply: Reply) -> HandlerOutcome {
    match reply {
        Reply::Send(bytes) => HandlerOutcome::Respond(bytes),
        Reply::Close(_) => HandlerOutcome::Close,
    }
}

/// `kmipd serve --config FILE`.
pub fn serve(config_path: &Path) -> Result<()> {
    let config = Config::load(config_path).with_context(|| format!("loading {}", config_path.display()))?;
    run(config, None)
}

/// Opens everything and serves until SIGINT/SIGTERM. `banner` is printed once listening.
fn run(config: Config, banner: Option<&dyn Fn(SocketAddr)>) -> Result<()> {
    let _log_guard = server::logging::init(&config.log, &config.audit).context("setting up logging")?;
    let hsm = Arc::new(open_hsm(&config.hsm)?);
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating the data directory {}", config.data_dir.display()))?;
    let store = Arc::new(
        SledStore::open(&SledStoreConfig::new(config.data_dir.join("store"))).context("opening the metadata store")?,
    );
    reconcile_at_startup(&store, &hsm)?;
    if ops::ensure_envelope_key(&*hsm).context("checking the envelope key on the HSM token")? {
        tracing::info!("made the envelope key for opaque objects on the HSM token");
    }
    let limits = ops::Limits {
        decode: DecodeLimits { max_bytes: config.limits.max_message_bytes, ..DecodeLimits::default() },
        max_batch_items: config.limits.max_batch_items,
        max_response_bytes: config.limits.max_response_bytes,
    };
    let policy = ops::Policy { extractable_by_default: config.policy.extractable_by_default };
    let processor = Arc::new(Processor::new(limits, Arc::new(Services { hsm, store, policy })));
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    runtime.block_on(async {
        let server = Server::from_config(&config, Arc::new(Handler { processor, admins: config.admin_identities.clone() })).await?;
        let addr = server.local_addr();
        tracing::info!(%addr, "kmipd listening");
        if let Some(banner) = banner {
            banner(addr);
        }
        let shutdown = CancellationToken::new();
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            server::shutdown_signal().await;
            trigger.cancel();
        });
        server.run(shutdown).await;
        anyhow::Ok(())
    })
}

/// Settles the creations and destructions a crash interrupted and reports what does not match (DESIGN.md
/// invariant 3), before any request is served. Start-up fails only if reconciliation itself cannot run (the HSM
/// cannot be listed, the store fails); records it could not settle are logged and retried at the next start.
fn reconcile_at_startup(store: &SledStore, hsm: &Pkcs11Hsm) -> Result<()> {
    let inventory = hsm::Inventory::with_listing(hsm, hsm.take_opening_listing());
    let report = store::reconcile(store, &inventory)
        .context("reconciling the metadata store with the HSM token")?;
    tracing::info!(
        rolled_back = report.rolled_back.len(),
        destroyed = report.destroyed.len(),
        strangers = report.strangers.len(),
        missing = report.missing.len(),
        unsettled = report.failures.len(),
        "start-up reconciliation done"
    );
    for uid in &report.rolled_back {
        tracing::info!(uid = %uid, "rolled back a creation that was never acknowledged");
    }
    for uid in &report.destroyed {
        tracing::info!(uid = %uid, "finished an interrupted destruction");
    }
    for object in &report.strangers {
        tracing::warn!(
            object = %hsm::inventory::display_ref(object),
            "HSM object in kmipd's namespace that no record claims; left on the token"
        );
    }
    for uid in &report.missing {
        tracing::warn!(uid = %uid, "the HSM object of this object is not on the token: its key material is unusable");
    }
    for failure in &report.failures {
        tracing::warn!(uid = %failure.uid, error = %failure.error, "could not settle this object; retried at next start");
    }
    Ok(())
}

pub(crate) fn open_hsm(config: &HsmConfig) -> Result<Pkcs11Hsm> {
    let profile = Profile::load(&config.profile).with_context(|| format!("loading {}", config.profile.display()))?;
    let pin = config.pin_source()?.map(|source| match source {
        crate::config::PinSource::File(path) => hsm::PinSource::File(path),
        crate::config::PinSource::Env(var) => hsm::PinSource::Env(var),
    });
    let hsm_config = hsm::HsmConfig {
        module_path: config.module.clone(),
        token_label: config.token_label.clone(),
        pin,
        ..hsm::HsmConfig::new(profile)
    };
    Pkcs11Hsm::open(hsm_config).context("opening the HSM token")
}

/// Arguments of `kmipd dev`.
#[derive(Debug, clap::Args)]
pub struct DevArgs {
    /// Where the token, certificates and store live.
    #[arg(long, default_value = "kmipd-dev")]
    pub state_dir: PathBuf,
    /// Address to serve on.
    #[arg(long, default_value = "127.0.0.1:5696")]
    pub listen: SocketAddr,
}

const SETUP_SCRIPT: &str = include_str!("../../softhsm/setup.sh");
const CONF_TEMPLATE: &str = include_str!("../../softhsm/softhsm2.conf.in");
const SOFTHSM_PROFILE: &str = include_str!("../../hsm-profiles/softhsm2.toml");
/// Dev-only PINs: the dev token guards nothing of value and lives in the state directory.
const DEV_SO_PIN: &str = "kmipd-dev-so";
const DEV_USER_PIN: &str = "kmipd-dev-user";

/// `kmipd dev`: SoftHSM2 token, dev certificates and store under `state_dir`, then serve.
///
/// `KMIPD__…` environment variables override these settings as they override a `serve`
/// configuration file (e.g. `KMIPD__LIMITS__READ_TIMEOUT=2s`).
pub fn dev(args: &DevArgs) -> Result<()> {
    let state = &args.state_dir;
    let hsm = dev_token(state)?;
    let pki = DevPki::ensure(&state.join("pki")).context("creating the dev PKI")?;
    let config = Config {
        listen: args.listen,
        tls: pki.server_tls_config(),
        hsm,
        data_dir: state.join("data"),
        limits: Limits::default(),
        admin_identities: Vec::new(),
        // A dev server follows the KMIP defaults so that any client can read back what it stores.
        policy: PolicyConfig { extractable_by_default: true },
        log: LogConfig::default(),
        audit: AuditConfig::default(),
    }
    .with_env_overrides()
    .context("applying KMIPD__ environment overrides")?;
    let banner = |addr: SocketAddr| print_banner(addr, &pki);
    run(config, Some(&banner))
}

/// Prepares (or reuses) the dev SoftHSM2 token under `state/softhsm` and points `SOFTHSM2_CONF`
/// at it; the HSM settings that open it. Call before anything initializes PKCS#11.
pub(crate) fn dev_token(state: &Path) -> Result<HsmConfig> {
    let softhsm_dir = state.join("softhsm");
    std::fs::create_dir_all(&softhsm_dir).with_context(|| format!("creating {}", softhsm_dir.display()))?;
    let script = softhsm_dir.join("setup.sh");
    std::fs::write(&script, SETUP_SCRIPT)?;
    std::fs::write(softhsm_dir.join("softhsm2.conf.in"), CONF_TEMPLATE)?;
    let profile = state.join("softhsm2.toml");
    std::fs::write(&profile, SOFTHSM_PROFILE)?;
    let out = Command::new("bash")
        .arg(&script)
        .arg(&softhsm_dir)
        .arg("kmipd")
        .arg(DEV_SO_PIN)
        .arg(DEV_USER_PIN)
        .output()
        .context("running softhsm/setup.sh")?;
    if !out.status.success() {
        bail!("SoftHSM2 setup failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    let conf = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    // SoftHSM reads this once, at C_Initialize; nothing else runs yet, so setting it is safe.
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let pin_file = state.join("user.pin");
    write_private(&pin_file, DEV_USER_PIN)?;
    Ok(HsmConfig { profile, module: None, token_label: None, pin_file: Some(pin_file), pin_env: None })
}

fn write_private(path: &Path, content: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(content.as_bytes())?;
    Ok(())
}

/// First words of the line `kmipd dev` prints once it listens; [`parse_banner`] reads the address back.
const BANNER_PREFIX: &str = "kmipd dev is serving KMIP on ";

/// `kmipd dev is serving KMIP on 127.0.0.1:PORT (…)` → the address (for harnesses that start `kmipd dev`).
pub fn parse_banner(line: &str) -> Option<SocketAddr> {
    line.strip_prefix(BANNER_PREFIX)?.split_whitespace().next()?.parse().ok()
}

/// Sends the first line of a child's stdout, then keeps draining it so the child never blocks on a full pipe.
pub fn forward_banner(stdout: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut tx = Some(tx);
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(tx) = tx.take() {
                let _ = tx.send(line);
            }
        }
    });
    rx
}

fn print_banner(addr: SocketAddr, pki: &DevPki) {
    println!(
        "{BANNER_PREFIX}{addr} (SoftHSM2 token \"kmipd\", Ctrl-C to stop)\n\
         client certificate: {cert}\nclient key:         {key}\nCA:                 {ca}\n\n\
         PyKMIP:\n  from kmip.pie.client import ProxyKmipClient\n  from kmip.core import enums\n  \
         c = ProxyKmipClient(hostname=\"{host}\", port={port}, cert=\"{cert}\", key=\"{key}\", ca=\"{ca}\",\n      \
         ssl_version=\"PROTOCOL_TLS\", kmip_version=enums.KMIPVersion.KMIP_1_2, config=\"kmipd-dev\")\n  \
         c.open()",
        host = addr.ip(),
        port = addr.port(),
        cert = pki.client_cert.display(),
        key = pki.client_key.display(),
        ca = pki.ca_cert.display(),
    );
}
