//! Who is on the other end: the identity carried by the verified client certificate.

use std::fmt::Write as _;
use std::net::IpAddr;

use sha2::{Digest, Sha256};
use thiserror::Error;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Why a client certificate yields no identity.
#[derive(Debug, Error)]
pub enum IdentityError {
    /// The TLS session carries no client certificate (client auth was not enforced).
    #[error("no client certificate presented")]
    NoCertificate,
    /// The certificate is not parseable X.509 (rustls verified it, so this is unexpected).
    #[error("client certificate cannot be parsed: {0}")]
    Parse(String),
}

/// The identity of an authenticated client, from its (already verified) certificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientIdentity {
    /// Subject distinguished name, RFC 4514 style as x509-parser prints it, e.g.
    /// `O=kmipd development, CN=kmipd-dev-client`. This is the owner name of objects.
    pub subject: String,
    /// The subject's first Common Name, if any.
    pub common_name: Option<String>,
    /// Subject alternative names, each prefixed with its kind: `DNS:`, `IP:`, `email:`, `URI:`.
    pub subject_alt_names: Vec<String>,
    /// SHA-256 of the certificate's DER encoding.
    pub fingerprint_sha256: [u8; 32],
}

impl ClientIdentity {
    /// Extracts the identity from a DER-encoded X.509 certificate.
    pub fn from_certificate_der(der: &[u8]) -> Result<ClientIdentity, IdentityError> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| IdentityError::Parse(e.to_string()))?;
        let subject = cert.subject();
        let common_name = subject.iter_common_name().next().and_then(|cn| cn.as_str().ok()).map(str::to_string);
        let subject_alt_names = match cert.subject_alternative_name() {
            Ok(Some(san)) => san.value.general_names.iter().filter_map(format_general_name).collect(),
            Ok(None) => Vec::new(),
            Err(e) => return Err(IdentityError::Parse(e.to_string())),
        };
        Ok(ClientIdentity {
            subject: subject.to_string(),
            common_name,
            subject_alt_names,
            fingerprint_sha256: Sha256::digest(der).into(),
        })
    }

    /// The fingerprint as lowercase hex (64 characters).
    pub fn fingerprint_hex(&self) -> String {
        hex::encode(self.fingerprint_sha256)
    }

    /// Whether a configured identity entry (such as one of `admin_identities`) names this
    /// client: either its exact subject DN, or `sha256:<hex>` of its certificate.
    pub fn matches(&self, entry: &str) -> bool {
        match entry.strip_prefix("sha256:") {
            Some(hex_fingerprint) => hex_fingerprint.eq_ignore_ascii_case(&self.fingerprint_hex()),
            None => entry == self.subject,
        }
    }
}

fn format_general_name(name: &GeneralName<'_>) -> Option<String> {
    let mut out = String::new();
    match name {
        GeneralName::DNSName(dns) => write!(out, "DNS:{dns}"),
        GeneralName::RFC822Name(email) => write!(out, "email:{email}"),
        GeneralName::URI(uri) => write!(out, "URI:{uri}"),
        GeneralName::IPAddress(bytes) => {
            let ip = match bytes.len() {
                4 => <[u8; 4]>::try_from(*bytes).ok().map(IpAddr::from),
                16 => <[u8; 16]>::try_from(*bytes).ok().map(IpAddr::from),
                _ => None,
            }?;
            write!(out, "IP:{ip}")
        }
        // Other name forms (directory names, registered IDs...) don't identify KMIP clients.
        _ => return None,
    }
    .ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::{DevPki, DEV_CLIENT_CN};
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;

    #[test]
    fn identity_of_dev_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let pki = DevPki::ensure(dir.path()).unwrap();
        let der = CertificateDer::from_pem_file(&pki.client_cert).unwrap();
        let id = ClientIdentity::from_certificate_der(&der).unwrap();
        assert_eq!(id.common_name.as_deref(), Some(DEV_CLIENT_CN));
        assert_eq!(id.subject, format!("O=kmipd development, CN={DEV_CLIENT_CN}"));
        assert!(id.subject_alt_names.is_empty());
        assert!(id.matches(&id.subject.clone()));
        assert!(id.matches(&format!("sha256:{}", id.fingerprint_hex().to_uppercase())));
        assert!(!id.matches("CN=someone else"));

        let der = CertificateDer::from_pem_file(&pki.server_cert).unwrap();
        let server = ClientIdentity::from_certificate_der(&der).unwrap();
        assert_eq!(server.subject_alt_names, vec!["DNS:localhost".to_string(), "IP:127.0.0.1".to_string()]);
    }

    #[test]
    fn garbage_is_not_an_identity() {
        assert!(ClientIdentity::from_certificate_der(b"\x30\x03\x02\x01").is_err());
    }
}
