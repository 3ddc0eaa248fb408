//! A development PKI for `kmipd dev` and the tests: one CA, a server certificate for
//! `localhost`/`127.0.0.1` and a client certificate, all EC P-256 (which rustls, OpenSSL and
//! PyKMIP all accept), written as PEM files that are reused on the next run.
//!
//! This is for local use only: the CA key sits next to the certificates it signed.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};
use thiserror::Error;
use time::{Duration, OffsetDateTime};

use crate::config::{TlsConfig, TlsVersion};

/// Common name of the generated client certificate.
pub const DEV_CLIENT_CN: &str = "kmipd-dev-client";

/// Common name of the generated server certificate.
pub const DEV_SERVER_CN: &str = "kmipd-dev-server";

/// Common name of the generated CA.
pub const DEV_CA_CN: &str = "kmipd dev CA";

const CA_CERT: &str = "ca.crt";
const SERVER_CERT: &str = "server.crt";
const SERVER_KEY: &str = "server.key";
const CLIENT_CERT: &str = "client.crt";
const CLIENT_KEY: &str = "client.key";
const ALL_FILES: [&str; 5] = [CA_CERT, SERVER_CERT, SERVER_KEY, CLIENT_CERT, CLIENT_KEY];

/// How long generated certificates stay valid.
const VALIDITY_DAYS: i64 = 5 * 365;

/// Why the development PKI could not be created or reused.
#[derive(Debug, Error)]
pub enum PkiError {
    /// Generating a key or signing a certificate failed.
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// A file or the directory could not be created or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Some of the five files exist and some don't: kmipd won't guess which to trust.
    #[error("{dir} holds an incomplete dev PKI (missing {missing}); remove the directory to regenerate it")]
    Incomplete {
        /// The PKI directory.
        dir: PathBuf,
        /// The missing file names, comma-separated.
        missing: String,
    },
}

/// The five PEM files of a development PKI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevPki {
    /// The CA certificate: the server's client CA and the client's trust anchor.
    pub ca_cert: PathBuf,
    /// The server certificate (SANs `localhost` and `127.0.0.1`, serverAuth).
    pub server_cert: PathBuf,
    /// The server's private key (mode 0600).
    pub server_key: PathBuf,
    /// The client certificate (CN [`DEV_CLIENT_CN`], clientAuth).
    pub client_cert: PathBuf,
    /// The client's private key (mode 0600).
    pub client_key: PathBuf,
    /// Whether this call generated the files (false: they were already there).
    pub generated: bool,
}

impl DevPki {
    /// Reuses the PKI in `dir` if all five files are there, otherwise generates it (creating
    /// `dir` with mode 0700). A partial set is an error rather than silently replaced.
    pub fn ensure(dir: &Path) -> Result<DevPki, PkiError> {
        let present: Vec<bool> = ALL_FILES.iter().map(|f| dir.join(f).exists()).collect();
        let generated = if present.iter().all(|p| *p) {
            false
        } else if present.iter().any(|p| *p) {
            let missing: Vec<&str> =
                ALL_FILES.iter().zip(&present).filter(|(_, p)| !**p).map(|(f, _)| *f).collect();
            return Err(PkiError::Incomplete { dir: dir.to_path_buf(), missing: missing.join(", ") });
        } else {
            generate(dir)?;
            true
        };
        Ok(DevPki {
            ca_cert: dir.join(CA_CERT),
            server_cert: dir.join(SERVER_CERT),
            server_key: dir.join(SERVER_KEY),
            client_cert: dir.join(CLIENT_CERT),
            client_key: dir.join(CLIENT_KEY),
            generated,
        })
    }

    /// Server TLS settings that use this PKI (client CA = the dev CA).
    pub fn server_tls_config(&self) -> TlsConfig {
        TlsConfig {
            cert: self.server_cert.clone(),
            key: self.server_key.clone(),
            client_ca: self.ca_cert.clone(),
            min_version: TlsVersion::default(),
        }
    }
}

/// A freshly generated key and certificate, PEM-encoded.
struct Issued {
    cert_pem: String,
    key_pem: String,
}

fn generate(dir: &Path) -> Result<(), PkiError> {
    create_private_dir(dir)?;
    let now = OffsetDateTime::now_utc();

    let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.distinguished_name = name(DEV_CA_CN);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    set_validity(&mut ca_params, now);
    let ca_cert_pem = ca_params.self_signed(&ca_key)?.pem();
    let issuer = Issuer::new(ca_params, ca_key);

    let server = issue(
        &issuer,
        DEV_SERVER_CN,
        vec!["localhost".into(), "127.0.0.1".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
        now,
    )?;
    let client = issue(&issuer, DEV_CLIENT_CN, Vec::new(), ExtendedKeyUsagePurpose::ClientAuth, now)?;

    // Keys first and the CA last: an interrupted run leaves a set `ensure` calls incomplete.
    write_file(&dir.join(SERVER_KEY), &server.key_pem, 0o600)?;
    write_file(&dir.join(CLIENT_KEY), &client.key_pem, 0o600)?;
    write_file(&dir.join(SERVER_CERT), &server.cert_pem, 0o644)?;
    write_file(&dir.join(CLIENT_CERT), &client.cert_pem, 0o644)?;
    write_file(&dir.join(CA_CERT), &ca_cert_pem, 0o644)?;
    Ok(())
}

/// Issues a leaf certificate signed by `issuer` for the given names and purpose.
fn issue(
    issuer: &Issuer<'_, KeyPair>,
    common_name: &str,
    subject_alt_names: Vec<String>,
    purpose: ExtendedKeyUsagePurpose,
    now: OffsetDateTime,
) -> Result<Issued, PkiError> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(subject_alt_names)?;
    params.distinguished_name = name(common_name);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![purpose];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, now);
    let cert = params.signed_by(&key, issuer)?;
    Ok(Issued { cert_pem: cert.pem(), key_pem: key.serialize_pem() })
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "kmipd development");
    dn.push(DnType::CommonName, common_name);
    dn
}

/// Valid from an hour ago (tolerating clock skew) for [`VALIDITY_DAYS`].
fn set_validity(params: &mut CertificateParams, now: OffsetDateTime) {
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(VALIDITY_DAYS);
}

fn create_private_dir(dir: &Path) -> Result<(), PkiError> {
    let io_err = |source| PkiError::Io { path: dir.to_path_buf(), source };
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io_err)
}

/// Writes `contents` to a new file created with `mode`, so a key is never readable by others
/// even for an instant.
fn write_file(path: &Path, contents: &str, mode: u32) -> Result<(), PkiError> {
    let io_err = |source| PkiError::Io { path: path.to_path_buf(), source };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(io_err)?;
    file.write_all(contents.as_bytes()).map_err(io_err)?;
    file.sync_all().map_err(io_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_then_reuses() {
        let dir = tempfile::tempdir().unwrap();
        let pki_dir = dir.path().join("pki");
        let first = DevPki::ensure(&pki_dir).unwrap();
        assert!(first.generated);
        let ca = fs::read_to_string(&first.ca_cert).unwrap();
        assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(fs::read_to_string(&first.client_key).unwrap().contains("PRIVATE KEY"));

        let second = DevPki::ensure(&pki_dir).unwrap();
        assert!(!second.generated);
        assert_eq!(fs::read_to_string(&second.ca_cert).unwrap(), ca);
    }

    #[cfg(unix)]
    #[test]
    fn keys_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let pki = DevPki::ensure(dir.path()).unwrap();
        for key in [&pki.server_key, &pki.client_key] {
            assert_eq!(fs::metadata(key).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert_eq!(fs::metadata(&pki.ca_cert).unwrap().permissions().mode() & 0o777, 0o644);
    }

    #[test]
    fn certificates_carry_names_and_purposes() {
        use x509_parser::prelude::*;
        let dir = tempfile::tempdir().unwrap();
        let pki = DevPki::ensure(dir.path()).unwrap();
        let pem_text = fs::read(&pki.server_cert).unwrap();
        let (_, pem) = parse_x509_pem(&pem_text).unwrap();
        let cert = pem.parse_x509().unwrap();
        let san = cert.subject_alternative_name().unwrap().unwrap();
        let names = &san.value.general_names;
        assert!(names.contains(&GeneralName::DNSName("localhost")), "{names:?}");
        assert!(names.contains(&GeneralName::IPAddress(&[127, 0, 0, 1])), "{names:?}");
        assert!(cert.extended_key_usage().unwrap().unwrap().value.server_auth);

        let pem_text = fs::read(&pki.client_cert).unwrap();
        let (_, pem) = parse_x509_pem(&pem_text).unwrap();
        let cert = pem.parse_x509().unwrap();
        assert!(cert.extended_key_usage().unwrap().unwrap().value.client_auth);
        let cn = cert.subject().iter_common_name().next().unwrap().as_str().unwrap();
        assert_eq!(cn, DEV_CLIENT_CN);
    }

    #[test]
    fn partial_set_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let pki = DevPki::ensure(dir.path()).unwrap();
        fs::remove_file(&pki.client_key).unwrap();
        let err = DevPki::ensure(dir.path()).unwrap_err();
        assert!(err.to_string().contains("client.key"), "{err}");
    }
}
