//! The attributes a server derives from an X.509 certificate when it is registered (KMIP 1.4
//! §3.6–3.16, 2.1 §4.6–4.13): the 1.0 Certificate Identifier / Subject / Issuer (text), the
//! 1.1+ X.509 Certificate Identifier / Subject / Issuer (DER), the 1.4/2.x Certificate Subject
//! and Issuer CN, O, OU, … (one instance per value), Digital Signature Algorithm, and the
//! Cryptographic Algorithm and Length of the certified public key.
//!
//! Every version's form is recorded; [`super::object::AttributeSet::for_version`] sends each
//! client the ones its protocol version knows.

use crate::kmip::attributes::Attribute;
use crate::kmip::objects::{
    CertificateIdentifier, CertificateIssuer, CertificateSubject, X509CertificateIdentifier, X509CertificateIssuer,
    X509CertificateSubject,
};

use super::material::{self, DnPart};
use super::OpError;

/// The attributes a certificate implies, or Invalid Field when `der` is not a certificate.
pub(super) fn derived_attributes(der: &[u8]) -> Result<Vec<Attribute>, OpError> {
    let summary = material::certificate_summary(der)?;
    let texts = |names: &[material::AltName]| names.iter().map(|n| n.text.clone()).collect::<Vec<_>>();
    let ders = |names: &[material::AltName]| names.iter().map(|n| n.der.clone()).collect::<Vec<_>>();
    let mut out = vec![
        Attribute::CertificateIdentifier(CertificateIdentifier {
            issuer: summary.issuer.clone(),
            serial_number: hex::encode(&summary.serial_number),
        }),
        Attribute::CertificateSubject(CertificateSubject {
            distinguished_name: summary.subject.clone(),
            alternative_name: texts(&summary.subject_alternative_names),
        }),
        Attribute::CertificateIssuer(CertificateIssuer {
            distinguished_name: summary.issuer.clone(),
            alternative_name: texts(&summary.issuer_alternative_names),
        }),
        Attribute::X509CertificateIdentifier(X509CertificateIdentifier {
            issuer_distinguished_name: summary.issuer_der.clone(),
            certificate_serial_number: material::serial_number_der(&summary.serial_number)?,
        }),
        Attribute::X509CertificateSubject(X509CertificateSubject {
            subject_distinguished_name: summary.subject_der.clone(),
            subject_alternative_name: ders(&summary.subject_alternative_names),
        }),
        Attribute::X509CertificateIssuer(X509CertificateIssuer {
            issuer_distinguished_name: summary.issuer_der.clone(),
            issuer_alternative_name: ders(&summary.issuer_alternative_names),
        }),
    ];
    out.extend(summary.subject_parts.iter().map(|(part, value)| subject_part(*part, value.clone())));
    out.extend(summary.issuer_parts.iter().map(|(part, value)| issuer_part(*part, value.clone())));
    out.extend(summary.signature_algorithm.map(Attribute::DigitalSignatureAlgorithm));
    // A key kmipd can't read (DSA, say) leaves the two out; the certificate itself is fine.
    if let Ok(key) = material::public_from_certificate(der) {
        out.push(Attribute::CryptographicAlgorithm(key.algorithm));
        out.push(Attribute::CryptographicLength(key.length));
    }
    Ok(out)
}

fn subject_part(part: DnPart, value: String) -> Attribute {
    match part {
        DnPart::Cn => Attribute::CertificateSubjectCn(value),
        DnPart::O => Attribute::CertificateSubjectO(value),
        DnPart::Ou => Attribute::CertificateSubjectOu(value),
        DnPart::Email => Attribute::CertificateSubjectEmail(value),
        DnPart::C => Attribute::CertificateSubjectC(value),
        DnPart::St => Attribute::CertificateSubjectSt(value),
        DnPart::L => Attribute::CertificateSubjectL(value),
        DnPart::Uid => Attribute::CertificateSubjectUid(value),
        DnPart::SerialNumber => Attribute::CertificateSubjectSerialNumber(value),
        DnPart::Title => Attribute::CertificateSubjectTitle(value),
        DnPart::Dc => Attribute::CertificateSubjectDc(value),
        DnPart::DnQualifier => Attribute::CertificateSubjectDnQualifier(value),
    }
}

fn issuer_part(part: DnPart, value: String) -> Attribute {
    match part {
        DnPart::Cn => Attribute::CertificateIssuerCn(value),
        DnPart::O => Attribute::CertificateIssuerO(value),
        DnPart::Ou => Attribute::CertificateIssuerOu(value),
        DnPart::Email => Attribute::CertificateIssuerEmail(value),
        DnPart::C => Attribute::CertificateIssuerC(value),
        DnPart::St => Attribute::CertificateIssuerSt(value),
        DnPart::L => Attribute::CertificateIssuerL(value),
        DnPart::Uid => Attribute::CertificateIssuerUid(value),
        DnPart::SerialNumber => Attribute::CertificateIssuerSerialNumber(value),
        DnPart::Title => Attribute::CertificateIssuerTitle(value),
        DnPart::Dc => Attribute::CertificateIssuerDc(value),
        DnPart::DnQualifier => Attribute::CertificateIssuerDnQualifier(value),
    }
}
