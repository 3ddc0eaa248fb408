//! The rustls server configuration: TLS 1.3, and TLS 1.2 with ECDHE and AES-GCM only; a
//! client certificate chaining to the configured client CA is required.
//!
//! The KMIP 1.x "Basic" suites (static RSA key exchange with AES-CBC) are not offered: rustls
//! has none of them, and they lack forward secrecy. Clients that speak TLS 1.2 with ECDHE-GCM
//! (PyKMIP, OpenSSL-based clients) or TLS 1.3 connect.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::{ring, CryptoProvider};
use rustls::server::{VerifierBuilderError, WebPkiClientVerifier};
use rustls::{RootCertStore, ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use thiserror::Error;

use crate::config::{TlsConfig, TlsVersion};

/// Why the TLS configuration could not be built.
#[derive(Debug, Error)]
pub enum TlsSetupError {
    /// A PEM file could not be read or holds no usable item of the expected kind.
    #[error("{path}: {source}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What went wrong reading it.
        #[source]
        source: rustls_pki_types::pem::Error,
    },
    /// The certificate file holds no certificate.
    #[error("{0}: no certificate found")]
    NoCertificate(PathBuf),
    /// A client CA certificate was rejected as a trust anchor.
    #[error("{path}: unusable client CA certificate: {source}")]
    ClientCa {
        /// The client CA file.
        path: PathBuf,
        /// Why rustls rejected it.
        #[source]
        source: rustls::Error,
    },
    /// The client-certificate verifier could not be built (for example, no trust anchor).
    #[error("client certificate verifier: {0}")]
    Verifier(#[from] VerifierBuilderError),
    /// rustls refused the configuration (for example, the key does not match the certificate).
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The cryptography kmipd's TLS uses: ring, restricted to TLS 1.3 suites and TLS 1.2
/// ECDHE-AES-GCM. Clients built for tests should use the same provider.
pub fn crypto_provider() -> Arc<CryptoProvider> {
    use ring::cipher_suite as cs;
    Arc::new(CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS13_CHACHA20_POLY1305_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        ..ring::default_provider()
    })
}

/// The protocol versions accepted for a configured minimum.
pub fn protocol_versions(min_version: TlsVersion) -> &'static [&'static SupportedProtocolVersion] {
    static TLS12_AND_UP: [&SupportedProtocolVersion; 2] = [&rustls::version::TLS13, &rustls::version::TLS12];
    static TLS13_ONLY: [&SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
    match min_version {
        TlsVersion::Tls12 => &TLS12_AND_UP,
        TlsVersion::Tls13 => &TLS13_ONLY,
    }
}

/// Builds the server configuration from the certificate, key and client CA files.
pub fn server_config(tls: &TlsConfig) -> Result<Arc<ServerConfig>, TlsSetupError> {
    let provider = crypto_provider();
    let chain = read_certificates(&tls.cert)?;
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|source| pem_error(&tls.key, source))?;

    let mut roots = RootCertStore::empty();
    for ca in read_certificates(&tls.client_ca)? {
        roots.add(ca).map_err(|source| TlsSetupError::ClientCa { path: tls.client_ca.clone(), source })?;
    }
    // The builder's default requires a client certificate; anonymous clients are refused.
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone()).build()?;

    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(protocol_versions(tls.min_version))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)?;
    // Our suite order (AES-256-GCM first) wins over the client's.
    config.ignore_client_order = true;
    Ok(Arc::new(config))
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsSetupError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|source| pem_error(path, source))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| pem_error(path, source))?;
    if certs.is_empty() {
        return Err(TlsSetupError::NoCertificate(path.to_path_buf()));
    }
    Ok(certs)
}

fn pem_error(path: &Path, source: rustls_pki_types::pem::Error) -> TlsSetupError {
    TlsSetupError::Pem { path: path.to_path_buf(), source }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::DevPki;

    #[test]
    fn builds_from_the_dev_pki() {
        let dir = tempfile::tempdir().unwrap();
        let pki = DevPki::ensure(dir.path()).unwrap();
        let config = server_config(&pki.server_tls_config()).unwrap();
        assert!(config.ignore_client_order);
    }

    #[test]
    fn mismatched_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let pki = DevPki::ensure(dir.path()).unwrap();
        let mut tls = pki.server_tls_config();
        tls.key = pki.client_key.clone();
        assert!(matches!(server_config(&tls), Err(TlsSetupError::Rustls(_))));
    }

    #[test]
    fn missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let pki = DevPki::ensure(dir.path()).unwrap();
        let mut tls = pki.server_tls_config();
        tls.client_ca = dir.path().join("nope.crt");
        let err = server_config(&tls).unwrap_err();
        assert!(err.to_string().contains("nope.crt"), "{err}");
    }
}
