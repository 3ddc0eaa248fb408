//! `kmipd serve` configuration: a TOML file, overridable by `KMIPD__…` environment variables.
//!
//! Environment keys use `__` both after the prefix and between path segments
//! (`KMIPD__LIMITS__MAX_MESSAGE_BYTES`), because a single `_` would split field names such as
//! `max_message_bytes`. Every section rejects keys it does not know, so a typo is an error
//! rather than a silently ignored setting. `deploy/CONFIG.md` is the reference for users.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::zeroize::Zeroizing;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Prefix of the environment variables that override file settings.
pub const ENV_PREFIX: &str = "KMIPD";

/// Separator after the prefix and between key segments in environment variable names.
pub const ENV_SEPARATOR: &str = "__";

/// The well-known KMIP port (IANA `kmip` over TLS).
pub const DEFAULT_PORT: u16 = 5696;

/// Why a configuration could not be loaded or is unusable.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read or parsed, or a value has the wrong type or an unknown key
    /// (the message names the key).
    #[error("{origin}: {source}")]
    Load {
        /// The file, or "environment" when no file was involved.
        origin: String,
        /// The underlying error from the `config` crate, which names the offending key.
        #[source]
        source: config::ConfigError,
    },
    /// A value parsed but is outside what kmipd accepts.
    #[error("invalid setting `{key}`: {reason}")]
    Invalid {
        /// The dotted key path, e.g. `limits.max_connections`.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The PIN file named by `hsm.pin_file` could not be read.
    #[error("cannot read the HSM PIN from {path}: {source}")]
    PinFile {
        /// The file that was named.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The environment variable named by `hsm.pin_env` is unset or not valid Unicode.
    #[error("the HSM PIN environment variable {var} is unset or not valid Unicode")]
    PinEnv {
        /// The variable's name.
        var: String,
    },
    /// The PIN source holds no PIN.
    #[error("the HSM PIN from {source_name} is empty")]
    PinEmpty {
        /// Where the PIN was read from (a path or a variable name).
        source_name: String,
    },
}

/// The whole `kmipd serve` configuration.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address and port the KMIP listener binds to.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Server certificate, key and the CA that client certificates must chain to.
    pub tls: TlsConfig,
    /// Which PKCS#11 module and token hold the keys, and how to log in.
    pub hsm: HsmConfig,
    /// Directory of the metadata store (and anything else kmipd persists).
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Resource bounds that protect the server from clients.
    #[serde(default)]
    pub limits: Limits,
    /// Client identities with administrator rights over every object. Each entry is matched
    /// against the client certificate's subject DN (as `ClientIdentity::subject` prints it)
    /// or, written `sha256:<hex>`, against its SHA-256 fingerprint.
    #[serde(default)]
    pub admin_identities: Vec<String>,
    /// Rules for new objects.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// Operational log settings.
    #[serde(default)]
    pub log: LogConfig,
    /// Audit log settings.
    #[serde(default)]
    pub audit: AuditConfig,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT))
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("/var/lib/kmipd")
}

/// Rules applied to new objects.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Whether keys and secrets created or registered without Sensitive/Extractable
    /// attributes can be read back with Get (the KMIP defaults). Off by default: such
    /// material stays sensitive and unextractable inside the HSM unless the client asks.
    pub extractable_by_default: bool,
}

/// TLS settings. Client certificates are always required.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file with the server certificate, followed by any intermediates.
    pub cert: PathBuf,
    /// PEM file with the server's private key (PKCS#8, SEC1 or PKCS#1).
    pub key: PathBuf,
    /// PEM file with the CA certificate(s) client certificates must chain to.
    pub client_ca: PathBuf,
    /// Oldest TLS version accepted.
    #[serde(default)]
    pub min_version: TlsVersion,
}

/// A TLS protocol version, written `"1.2"` or `"1.3"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum TlsVersion {
    /// TLS 1.2 (ECDHE with AES-GCM only) and TLS 1.3.
    #[default]
    #[serde(rename = "1.2")]
    Tls12,
    /// TLS 1.3 only.
    #[serde(rename = "1.3")]
    Tls13,
}

/// The HSM to use. Module, token and PIN source default to the profile's; the settings here
/// override them. The PIN itself is never part of the configuration, only where to read it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HsmConfig {
    /// HSM profile file (`hsm-profiles/<vendor>.toml`).
    pub profile: PathBuf,
    /// PKCS#11 module to load instead of the profile's.
    #[serde(default)]
    pub module: Option<PathBuf>,
    /// Label of the token to use instead of the profile's (labels are stable; slot numbers
    /// are not).
    #[serde(default)]
    pub token_label: Option<String>,
    /// File holding the user PIN (one trailing newline ignored). At most one of `pin_file`
    /// and `pin_env` may be set.
    #[serde(default)]
    pub pin_file: Option<PathBuf>,
    /// Name of the environment variable holding the user PIN.
    #[serde(default)]
    pub pin_env: Option<String>,
}

/// Where the HSM user PIN comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinSource {
    /// A file; its content minus one trailing newline is the PIN.
    File(PathBuf),
    /// An environment variable, by name.
    Env(String),
}

impl HsmConfig {
    /// Where the PIN is to be read from, if the configuration says (`None`: the profile's
    /// source applies). Setting both `pin_file` and `pin_env` is an error.
    pub fn pin_source(&self) -> Result<Option<PinSource>, ConfigError> {
        match (&self.pin_file, &self.pin_env) {
            (Some(path), None) => Ok(Some(PinSource::File(path.clone()))),
            (None, Some(var)) => Ok(Some(PinSource::Env(var.clone()))),
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err(ConfigError::Invalid {
                key: "hsm.pin_env",
                reason: "hsm.pin_file and hsm.pin_env are both set; keep one".into(),
            }),
        }
    }
}

impl PinSource {
    /// Reads the PIN. The result is a [`SecretString`]: it is zeroized on drop and its Debug
    /// output is redacted.
    pub fn read(&self) -> Result<SecretString, ConfigError> {
        // Zeroizing wipes the temporary copy (with its newline) when it goes out of scope.
        let (text, source_name) = match self {
            PinSource::File(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::PinFile { path: path.clone(), source })?;
                warn_if_others_can_read(path);
                (Zeroizing::new(text), path.display().to_string())
            }
            PinSource::Env(var) => {
                let text = std::env::var(var).map_err(|_| ConfigError::PinEnv { var: var.clone() })?;
                (Zeroizing::new(text), var.clone())
            }
        };
        let pin = strip_one_newline(&text);
        if pin.is_empty() {
            return Err(ConfigError::PinEmpty { source_name });
        }
        Ok(SecretString::from(pin.to_string()))
    }
}

/// A PIN file readable by group or others is a leak waiting to happen; say so (but still
/// start: refusing would only push people to worse workarounds).
fn warn_if_others_can_read(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = std::fs::metadata(path) {
            let mode = metadata.permissions().mode();
            if mode & 0o077 != 0 {
                let mode = format!("{:o}", mode & 0o777);
                let path = path.display();
                tracing::warn!(%path, mode, "HSM PIN file is readable by group or others; chmod 0400 it");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn strip_one_newline(text: &str) -> &str {
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.strip_suffix('\r').unwrap_or(text)
}

/// Bounds on what one client can make the server do. Durations are written like `"30s"` or
/// `"5m"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request message accepted, header included; checked before the body is read.
    pub max_message_bytes: usize,
    /// Most batch items accepted in one request.
    pub max_batch_items: usize,
    /// Largest response the server will send (a smaller Maximum Response Size in a request
    /// wins).
    pub max_response_bytes: usize,
    /// Most simultaneous client connections; connections beyond it are closed at once.
    pub max_connections: usize,
    /// How long a connection may sit between requests before it is closed.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// How long a client may take to send a whole request once its first byte arrived (and
    /// to complete the TLS handshake, and to accept a response).
    #[serde(with = "humantime_serde")]
    pub read_timeout: Duration,
    /// How long the server may spend on one request before it gives up and closes the
    /// connection.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// On shutdown, how long in-flight requests may take to finish before their connections
    /// are dropped.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 1024 * 1024,
            max_batch_items: 1000,
            max_response_bytes: 16 * 1024 * 1024,
            max_connections: 1024,
            idle_timeout: Duration::from_secs(300),
            read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// Operational log settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Line format on standard error.
    pub format: LogFormat,
    /// A `tracing` filter: a level (`info`) or directives (`info,kmipd::server=debug`).
    /// `RUST_LOG`, when set, wins.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { format: LogFormat::Text, level: "info".into() }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Audit log settings.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// File the audit events are appended to, one JSON object per line. Unset: audit events
    /// go to the operational log (target `kmipd::audit`).
    pub path: Option<PathBuf>,
}

impl Config {
    /// Loads `path` (TOML) and applies `KMIPD__…` overrides from the process environment.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = config::File::from(path).format(config::FileFormat::Toml).required(true);
        Self::build(file, None, &path.display().to_string())
    }

    /// Parses TOML text and applies overrides from `env` (a map of variable names to values)
    /// instead of the process environment; for tests and embedding.
    pub fn from_toml_str(toml: &str, env: HashMap<String, String>) -> Result<Config, ConfigError> {
        let file = config::File::from_str(toml, config::FileFormat::Toml);
        Self::build(file, Some(env), "configuration")
    }

    /// Applies `KMIPD__…` overrides from the process environment to a configuration built
    /// in code (`kmipd dev` uses it), by the same rules as over a file: the values of `self`
    /// play the file's part.
    pub fn with_env_overrides(&self) -> Result<Config, ConfigError> {
        self.with_overrides(None)
    }

    /// [`Config::with_env_overrides`] with the overrides taken from `env` instead of the
    /// process environment; for tests.
    pub fn with_overrides_from(&self, env: HashMap<String, String>) -> Result<Config, ConfigError> {
        self.with_overrides(Some(env))
    }

    fn with_overrides(&self, env: Option<HashMap<String, String>>) -> Result<Config, ConfigError> {
        let origin = "built-in settings";
        let base = config::Config::try_from(self)
            .map_err(|source| ConfigError::Load { origin: origin.to_string(), source })?;
        Self::build(base, env, origin)
    }

    fn build<S>(file: S, env: Option<HashMap<String, String>>, origin: &str) -> Result<Config, ConfigError>
    where
        S: config::Source + Send + Sync + 'static,
    {
        let environment = config::Environment::with_prefix(ENV_PREFIX)
            .prefix_separator(ENV_SEPARATOR)
            .separator(ENV_SEPARATOR)
            .source(env);
        let loaded = config::Config::builder()
            .add_source(file)
            .add_source(environment)
            .build()
            .and_then(|c| c.try_deserialize::<Config>())
            .map_err(|source| ConfigError::Load { origin: origin.to_string(), source })?;
        loaded.validate()?;
        Ok(loaded)
    }

    /// Checks the values that parse but make no sense.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let limits = &self.limits;
        // The smallest KMIP message is one 8-byte header; the largest a 32-bit length allows.
        if limits.max_message_bytes < crate::ttlv::binary::HEADER_LEN
            || limits.max_message_bytes > u32::MAX as usize
        {
            return Err(invalid("limits.max_message_bytes", "must be between 8 and 4294967295"));
        }
        if limits.max_response_bytes < crate::ttlv::binary::HEADER_LEN {
            return Err(invalid("limits.max_response_bytes", "must be at least 8"));
        }
        if limits.max_batch_items == 0 {
            return Err(invalid("limits.max_batch_items", "must be at least 1"));
        }
        if limits.max_connections == 0 {
            return Err(invalid("limits.max_connections", "must be at least 1"));
        }
        for (key, value) in [
            ("limits.idle_timeout", limits.idle_timeout),
            ("limits.read_timeout", limits.read_timeout),
            ("limits.request_timeout", limits.request_timeout),
        ] {
            if value.is_zero() {
                return Err(invalid(key, "must be longer than zero"));
            }
        }
        if self.hsm.token_label.as_deref() == Some("") {
            return Err(invalid("hsm.token_label", "must not be empty"));
        }
        self.hsm.pin_source()?;
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&self.log.level) {
            return Err(ConfigError::Invalid { key: "log.level", reason: e.to_string() });
        }
        Ok(())
    }
}

fn invalid(key: &'static str, reason: &str) -> ConfigError {
    ConfigError::Invalid { key, reason: reason.to_string() }
}

impl fmt::Display for TlsVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsVersion::Tls12 => "1.2",
            TlsVersion::Tls13 => "1.3",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
        [tls]
        cert = "/etc/kmipd/server.crt"
        key = "/etc/kmipd/server.key"
        client_ca = "/etc/kmipd/ca.crt"

        [hsm]
        profile = "/etc/kmipd/softhsm2.toml"
        token_label = "kmipd"
        pin_file = "/etc/kmipd/pin"
    "#;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults_fill_everything_optional() {
        let config = Config::from_toml_str(MINIMAL, HashMap::new()).unwrap();
        assert_eq!(config.listen, "127.0.0.1:5696".parse().unwrap());
        assert_eq!(config.data_dir, PathBuf::from("/var/lib/kmipd"));
        assert_eq!(config.tls.min_version, TlsVersion::Tls12);
        assert_eq!(config.limits.max_message_bytes, 1024 * 1024);
        assert_eq!(config.limits.max_batch_items, 1000);
        assert_eq!(config.limits.max_connections, 1024);
        assert_eq!(config.limits.idle_timeout, Duration::from_secs(300));
        assert_eq!(config.limits.read_timeout, Duration::from_secs(30));
        assert_eq!(config.log.format, LogFormat::Text);
        assert_eq!(config.log.level, "info");
        assert!(config.audit.path.is_none());
        assert!(config.admin_identities.is_empty());
        assert_eq!(config.hsm.pin_source().unwrap(), Some(PinSource::File("/etc/kmipd/pin".into())));
        assert_eq!(config.hsm.token_label.as_deref(), Some("kmipd"));
        assert!(config.hsm.module.is_none());
    }

    #[test]
    fn environment_overrides_nested_keys_with_underscores() {
        let config = Config::from_toml_str(
            MINIMAL,
            env(&[
                ("KMIPD__LIMITS__MAX_MESSAGE_BYTES", "65536"),
                ("KMIPD__LIMITS__READ_TIMEOUT", "2s"),
                ("KMIPD__LISTEN", "0.0.0.0:15696"),
                ("KMIPD__LOG__FORMAT", "json"),
            ]),
        )
        .unwrap();
        assert_eq!(config.limits.max_message_bytes, 65536);
        assert_eq!(config.limits.read_timeout, Duration::from_secs(2));
        assert_eq!(config.listen, "0.0.0.0:15696".parse().unwrap());
        assert_eq!(config.log.format, LogFormat::Json);
    }

    #[test]
    fn environment_overrides_a_config_built_in_code() {
        let built = Config::from_toml_str(MINIMAL, HashMap::new()).unwrap();
        let same = built.with_overrides_from(HashMap::new()).unwrap();
        assert_eq!(format!("{same:?}"), format!("{built:?}"));

        let config = built
            .with_overrides_from(env(&[
                ("KMIPD__LIMITS__READ_TIMEOUT", "750ms"),
                ("KMIPD__LIMITS__MAX_BATCH_ITEMS", "10"),
                ("KMIPD__LOG__LEVEL", "debug"),
            ]))
            .unwrap();
        assert_eq!(config.limits.read_timeout, Duration::from_millis(750));
        assert_eq!(config.limits.max_batch_items, 10);
        assert_eq!(config.limits.idle_timeout, built.limits.idle_timeout);
        assert_eq!(config.log.level, "debug");
        assert_eq!(config.tls.cert, built.tls.cert);
        assert_eq!(config.hsm.pin_source().unwrap(), built.hsm.pin_source().unwrap());

        let err = built.with_overrides_from(env(&[("KMIPD__LIMITS__MAX_BATCH_ITEMS", "0")])).unwrap_err();
        assert!(err.to_string().contains("limits.max_batch_items"), "{err}");
        let err = built.with_overrides_from(env(&[("KMIPD__LIMITS__READ_TIMOUT", "1s")])).unwrap_err();
        assert!(err.to_string().contains("read_timout"), "{err}");
    }

    #[test]
    fn file_values_parse() {
        let toml = format!(
            "{MINIMAL}\n[limits]\nmax_connections = 7\nidle_timeout = \"1m 30s\"\n\
             [log]\nformat = \"json\"\nlevel = \"debug\"\n"
        );
        let config = Config::from_toml_str(&toml, HashMap::new()).unwrap();
        assert_eq!(config.limits.max_connections, 7);
        assert_eq!(config.limits.idle_timeout, Duration::from_secs(90));
        assert_eq!(config.log.level, "debug");
    }

    #[test]
    fn unknown_key_is_rejected_by_name() {
        let toml = format!("{MINIMAL}\n[limits]\nmax_mesage_bytes = 10\n");
        let err = Config::from_toml_str(&toml, HashMap::new()).unwrap_err();
        assert!(err.to_string().contains("max_mesage_bytes"), "{err}");

        let toml = format!("listne = \"127.0.0.1:1\"\n{MINIMAL}");
        let err = Config::from_toml_str(&toml, HashMap::new()).unwrap_err();
        assert!(err.to_string().contains("listne"), "{err}");
    }

    #[test]
    fn unknown_environment_key_is_rejected_by_name() {
        let err = Config::from_toml_str(MINIMAL, env(&[("KMIPD__LIMITS__MAX_CONNEXIONS", "3")])).unwrap_err();
        assert!(err.to_string().contains("max_connexions"), "{err}");
    }

    #[test]
    fn missing_required_section_is_named() {
        let err = Config::from_toml_str("[tls]\ncert=\"a\"\nkey=\"b\"\nclient_ca=\"c\"\n", HashMap::new())
            .unwrap_err();
        assert!(err.to_string().contains("hsm"), "{err}");
    }

    #[test]
    fn pin_source_is_at_most_one() {
        let both = MINIMAL.replace("pin_file = \"/etc/kmipd/pin\"", "pin_file = \"/p\"\npin_env = \"PIN\"");
        let err = Config::from_toml_str(&both, HashMap::new()).unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { key: "hsm.pin_env", .. }), "{err}");
        let none = MINIMAL.replace("pin_file = \"/etc/kmipd/pin\"", "");
        let config = Config::from_toml_str(&none, HashMap::new()).unwrap();
        assert_eq!(config.hsm.pin_source().unwrap(), None);
        let config = Config::from_toml_str(&none, env(&[("KMIPD__HSM__PIN_ENV", "MY_PIN")])).unwrap();
        assert_eq!(config.hsm.pin_source().unwrap(), Some(PinSource::Env("MY_PIN".into())));
    }

    #[test]
    fn out_of_range_limits_are_rejected() {
        let err = Config::from_toml_str(MINIMAL, env(&[("KMIPD__LIMITS__MAX_CONNECTIONS", "0")])).unwrap_err();
        assert!(err.to_string().contains("limits.max_connections"), "{err}");
        let err = Config::from_toml_str(MINIMAL, env(&[("KMIPD__TLS__MIN_VERSION", "1.1")])).unwrap_err();
        assert!(err.to_string().contains("1.1"), "{err}");
    }

    #[test]
    fn pin_is_read_from_file_and_never_printed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pin");
        std::fs::write(&path, "1234-secret\n").unwrap();
        let pin = PinSource::File(path).read().unwrap();
        assert_eq!(secrecy::ExposeSecret::expose_secret(&pin), "1234-secret");
        assert!(!format!("{pin:?}").contains("1234"));

        let config = Config::from_toml_str(MINIMAL, HashMap::new()).unwrap();
        assert!(!format!("{config:?}").to_lowercase().contains("secret"));
    }
}
