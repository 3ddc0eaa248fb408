//! The one internal attribute model, [`Attribute`], and the wire forms that carry it:
//!
//! - KMIP 1.x: the `Attribute` structure {Attribute Name, Attribute Index, Attribute Value}
//!   ([`IndexedAttribute`]) and `Template-Attribute` {Name*, Attribute*} ([`TemplateAttribute`]);
//!   custom attributes are named `x-…` (client) or `y-…` (server).
//! - KMIP 2.x: the `Attributes` structure with one element per attribute under the
//!   attribute's own tag ([`Attributes`]), Vendor Attributes {Vendor Identification, Attribute
//!   Name, Attribute Value}, [`AttributeReference`], Current/New Attribute ([`AttributeHolder`]).
//!
//! Both forms decode to the same [`Attribute`] values and encode back exactly; the helpers at
//! the end convert one form into the other and tell which attributes a protocol version knows.

use super::codec::{
    kmip_field_put, kmip_field_take, kmip_field_type, kmip_struct, wrong_type, Choice, DateTime, FromTtlv,
    ModelError, Path, Reader, ToTtlv, Writer,
};
use super::enums::{
    CertificateType, CryptographicAlgorithm, DigitalSignatureAlgorithm, KeyFormatType, NISTKeyType,
    ObjectType, OpaqueDataType, ProtectionLevel, State,
};
use super::objects::{
    AlternativeName, ApplicationSpecificInformation, CertificateIdentifier, CertificateIssuer,
    CertificateSubject, CryptographicDomainParameters, CryptographicParameters, Digest, KeyValueLocation,
    Link, Name, RevocationReason, RngParameters, RotateName, UniqueIdentifier, UsageLimits,
    X509CertificateIdentifier, X509CertificateIssuer, X509CertificateSubject,
};
use crate::ttlv::registry::{self, Version};
use crate::ttlv::{Tag, Ttlv, Value};

/// A custom (1.x `x-`/`y-` named) or vendor (2.x) attribute, kept with its value as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomAttribute {
    /// 2.x Vendor Identification; `None` for the 1.x form, whose name carries the prefix.
    pub vendor_identification: Option<String>,
    /// Attribute Name (`x-Product` in 1.x, `Product` with vendor `x` in 2.x).
    pub attribute_name: String,
    /// Attribute Value, any item type.
    pub attribute_value: Value,
}

impl CustomAttribute {
    /// The 2.x Vendor Attribute form: `x-Name` becomes vendor `x`, name `Name`.
    pub fn to_vendor_form(&self) -> CustomAttribute {
        match (&self.vendor_identification, self.attribute_name.split_once('-')) {
            (None, Some((vendor, name))) => CustomAttribute {
                vendor_identification: Some(vendor.to_owned()),
                attribute_name: name.to_owned(),
                attribute_value: self.attribute_value.clone(),
            },
            _ => self.clone(),
        }
    }

    /// The 1.x custom form: vendor `x` (or `y`), name `Name` becomes `x-Name`. 1.x custom
    /// names must start with `x-` or `y-`, so another vendor's attribute becomes
    /// `x-Vendor-Name` (which converts back as vendor `x`, name `Vendor-Name`).
    pub fn to_custom_form(&self) -> CustomAttribute {
        let attribute_name = match self.vendor_identification.as_deref() {
            None => return self.clone(),
            Some(vendor @ ("x" | "y")) => format!("{vendor}-{}", self.attribute_name),
            Some(vendor) => format!("x-{vendor}-{}", self.attribute_name),
        };
        CustomAttribute {
            vendor_identification: None,
            attribute_name,
            attribute_value: self.attribute_value.clone(),
        }
    }
}

/// Whether a 1.x attribute name is a custom one (`x-` client-defined, `y-` server-defined).
pub fn is_custom_name(name: &str) -> bool {
    name.starts_with("x-") || name.starts_with("y-")
}

macro_rules! standard_attributes {
    ($( $(#[$m:meta])* $variant:ident($ty:ty) = $tag:ident ),* $(,)?) => {
        /// One attribute value, independent of the protocol version's wire form.
        #[derive(Debug, Clone, PartialEq)]
        pub enum Attribute {
            $( $(#[$m])* $variant($ty), )*
            /// A 1.x custom attribute or a 2.x Vendor Attribute.
            Custom(CustomAttribute),
        }

        impl Attribute {
            /// The attribute's tag; `None` for custom/vendor attributes.
            pub fn tag(&self) -> Option<Tag> {
                match self {
                    $( Attribute::$variant(_) => Some(Tag::$tag), )*
                    Attribute::Custom(_) => None,
                }
            }

            /// Whether `tag` is the tag of a standard attribute this model knows.
            pub fn is_standard_tag(tag: Tag) -> bool {
                $( tag == Tag::$tag || )* false
            }

            /// Decodes the value of the standard attribute `tag` from `item`, whatever the
            /// item's own tag (it is `Attribute Value` in the 1.x form). `None` when `tag`
            /// is not a standard attribute.
            fn decode_standard(
                tag: Tag,
                item: &Ttlv,
                path: &Path<'_>,
            ) -> Option<Result<Attribute, ModelError>> {
                $(
                    if tag == Tag::$tag {
                        return Some(<$ty as FromTtlv>::from_ttlv_item(item, path).map(Attribute::$variant));
                    }
                )*
                None
            }

            /// Encodes the attribute's value under `tag`.
            fn encode_value(&self, tag: Tag) -> Ttlv {
                match self {
                    $( Attribute::$variant(v) => v.to_ttlv_item(tag), )*
                    Attribute::Custom(c) => Ttlv::new(tag, c.attribute_value.clone()),
                }
            }
        }
    };
}

standard_attributes! {
    /// Unique Identifier.
    UniqueIdentifier(UniqueIdentifier) = UNIQUE_IDENTIFIER,
    /// Name.
    Name(Name) = NAME,
    /// Object Type.
    ObjectType(ObjectType) = OBJECT_TYPE,
    /// Cryptographic Algorithm.
    CryptographicAlgorithm(CryptographicAlgorithm) = CRYPTOGRAPHIC_ALGORITHM,
    /// Cryptographic Length (bits).
    CryptographicLength(i32) = CRYPTOGRAPHIC_LENGTH,
    /// Cryptographic Parameters.
    CryptographicParameters(CryptographicParameters) = CRYPTOGRAPHIC_PARAMETERS,
    /// Cryptographic Domain Parameters.
    CryptographicDomainParameters(CryptographicDomainParameters) = CRYPTOGRAPHIC_DOMAIN_PARAMETERS,
    /// Certificate Type.
    CertificateType(CertificateType) = CERTIFICATE_TYPE,
    /// Certificate Length.
    CertificateLength(i32) = CERTIFICATE_LENGTH,
    /// X.509 Certificate Identifier (1.1–1.4).
    X509CertificateIdentifier(X509CertificateIdentifier) = X_509_CERTIFICATE_IDENTIFIER,
    /// X.509 Certificate Subject (1.1–1.4).
    X509CertificateSubject(X509CertificateSubject) = X_509_CERTIFICATE_SUBJECT,
    /// X.509 Certificate Issuer (1.1–1.4).
    X509CertificateIssuer(X509CertificateIssuer) = X_509_CERTIFICATE_ISSUER,
    /// Certificate Identifier (1.0).
    CertificateIdentifier(CertificateIdentifier) = CERTIFICATE_IDENTIFIER,
    /// Certificate Subject (1.0).
    CertificateSubject(CertificateSubject) = CERTIFICATE_SUBJECT,
    /// Certificate Issuer (1.0).
    CertificateIssuer(CertificateIssuer) = CERTIFICATE_ISSUER,
    /// Digital Signature Algorithm.
    DigitalSignatureAlgorithm(DigitalSignatureAlgorithm) = DIGITAL_SIGNATURE_ALGORITHM,
    /// Digest.
    Digest(Digest) = DIGEST,
    /// Operation Policy Name (1.x).
    OperationPolicyName(String) = OPERATION_POLICY_NAME,
    /// Cryptographic Usage Mask (bit mask).
    CryptographicUsageMask(i32) = CRYPTOGRAPHIC_USAGE_MASK,
    /// Lease Time (seconds).
    LeaseTime(u32) = LEASE_TIME,
    /// Usage Limits.
    UsageLimits(UsageLimits) = USAGE_LIMITS,
    /// State.
    State(State) = STATE,
    /// Initial Date.
    InitialDate(DateTime) = INITIAL_DATE,
    /// Activation Date.
    ActivationDate(DateTime) = ACTIVATION_DATE,
    /// Process Start Date.
    ProcessStartDate(DateTime) = PROCESS_START_DATE,
    /// Protect Stop Date.
    ProtectStopDate(DateTime) = PROTECT_STOP_DATE,
    /// Deactivation Date.
    DeactivationDate(DateTime) = DEACTIVATION_DATE,
    /// Destroy Date.
    DestroyDate(DateTime) = DESTROY_DATE,
    /// Compromise Occurrence Date.
    CompromiseOccurrenceDate(DateTime) = COMPROMISE_OCCURRENCE_DATE,
    /// Compromise Date.
    CompromiseDate(DateTime) = COMPROMISE_DATE,
    /// Revocation Reason.
    RevocationReason(RevocationReason) = REVOCATION_REASON,
    /// Archive Date.
    ArchiveDate(DateTime) = ARCHIVE_DATE,
    /// Object Group.
    ObjectGroup(String) = OBJECT_GROUP,
    /// Fresh.
    Fresh(bool) = FRESH,
    /// Link.
    Link(Link) = LINK,
    /// Application Specific Information.
    ApplicationSpecificInformation(ApplicationSpecificInformation) = APPLICATION_SPECIFIC_INFORMATION,
    /// Contact Information.
    ContactInformation(String) = CONTACT_INFORMATION,
    /// Last Change Date.
    LastChangeDate(DateTime) = LAST_CHANGE_DATE,
    /// Alternative Name.
    AlternativeName(AlternativeName) = ALTERNATIVE_NAME,
    /// Key Value Present.
    KeyValuePresent(bool) = KEY_VALUE_PRESENT,
    /// Key Value Location.
    KeyValueLocation(KeyValueLocation) = KEY_VALUE_LOCATION,
    /// Original Creation Date.
    OriginalCreationDate(DateTime) = ORIGINAL_CREATION_DATE,
    /// Random Number Generator.
    RandomNumberGenerator(RngParameters) = RANDOM_NUMBER_GENERATOR,
    /// PKCS#12 Friendly Name.
    Pkcs12FriendlyName(String) = PKCS_12_FRIENDLY_NAME,
    /// Description.
    Description(String) = DESCRIPTION,
    /// Comment.
    Comment(String) = COMMENT,
    /// Sensitive.
    Sensitive(bool) = SENSITIVE,
    /// Always Sensitive.
    AlwaysSensitive(bool) = ALWAYS_SENSITIVE,
    /// Extractable.
    Extractable(bool) = EXTRACTABLE,
    /// Never Extractable.
    NeverExtractable(bool) = NEVER_EXTRACTABLE,
    /// Certificate Subject CN.
    CertificateSubjectCn(String) = CERTIFICATE_SUBJECT_CN,
    /// Certificate Subject O.
    CertificateSubjectO(String) = CERTIFICATE_SUBJECT_O,
    /// Certificate Subject OU.
    CertificateSubjectOu(String) = CERTIFICATE_SUBJECT_OU,
    /// Certificate Subject Email.
    CertificateSubjectEmail(String) = CERTIFICATE_SUBJECT_EMAIL,
    /// Certificate Subject C.
    CertificateSubjectC(String) = CERTIFICATE_SUBJECT_C,
    /// Certificate Subject ST.
    CertificateSubjectSt(String) = CERTIFICATE_SUBJECT_ST,
    /// Certificate Subject L.
    CertificateSubjectL(String) = CERTIFICATE_SUBJECT_L,
    /// Certificate Subject UID.
    CertificateSubjectUid(String) = CERTIFICATE_SUBJECT_UID,
    /// Certificate Subject Serial Number.
    CertificateSubjectSerialNumber(String) = CERTIFICATE_SUBJECT_SERIAL_NUMBER,
    /// Certificate Subject Title.
    CertificateSubjectTitle(String) = CERTIFICATE_SUBJECT_TITLE,
    /// Certificate Subject DC.
    CertificateSubjectDc(String) = CERTIFICATE_SUBJECT_DC,
    /// Certificate Subject DN Qualifier.
    CertificateSubjectDnQualifier(String) = CERTIFICATE_SUBJECT_DN_QUALIFIER,
    /// Certificate Issuer CN.
    CertificateIssuerCn(String) = CERTIFICATE_ISSUER_CN,
    /// Certificate Issuer O.
    CertificateIssuerO(String) = CERTIFICATE_ISSUER_O,
    /// Certificate Issuer OU.
    CertificateIssuerOu(String) = CERTIFICATE_ISSUER_OU,
    /// Certificate Issuer Email.
    CertificateIssuerEmail(String) = CERTIFICATE_ISSUER_EMAIL,
    /// Certificate Issuer C.
    CertificateIssuerC(String) = CERTIFICATE_ISSUER_C,
    /// Certificate Issuer ST.
    CertificateIssuerSt(String) = CERTIFICATE_ISSUER_ST,
    /// Certificate Issuer L.
    CertificateIssuerL(String) = CERTIFICATE_ISSUER_L,
    /// Certificate Issuer UID.
    CertificateIssuerUid(String) = CERTIFICATE_ISSUER_UID,
    /// Certificate Issuer Serial Number.
    CertificateIssuerSerialNumber(String) = CERTIFICATE_ISSUER_SERIAL_NUMBER,
    /// Certificate Issuer Title.
    CertificateIssuerTitle(String) = CERTIFICATE_ISSUER_TITLE,
    /// Certificate Issuer DC.
    CertificateIssuerDc(String) = CERTIFICATE_ISSUER_DC,
    /// Certificate Issuer DN Qualifier.
    CertificateIssuerDnQualifier(String) = CERTIFICATE_ISSUER_DN_QUALIFIER,
    /// Short Unique Identifier (2.x).
    ShortUniqueIdentifier(Vec<u8>) = SHORT_UNIQUE_IDENTIFIER,
    /// Key Format Type (2.x attribute).
    KeyFormatType(KeyFormatType) = KEY_FORMAT_TYPE,
    /// NIST Key Type (2.x).
    NistKeyType(NISTKeyType) = NIST_KEY_TYPE,
    /// Opaque Data Type (2.x attribute).
    OpaqueDataType(OpaqueDataType) = OPAQUE_DATA_TYPE,
    /// Protection Level (2.x).
    ProtectionLevel(ProtectionLevel) = PROTECTION_LEVEL,
    /// Protection Period (2.x, seconds).
    ProtectionPeriod(u32) = PROTECTION_PERIOD,
    /// Protection Storage Mask (2.x).
    ProtectionStorageMask(i32) = PROTECTION_STORAGE_MASK,
    /// Quantum Safe (2.x).
    QuantumSafe(bool) = QUANTUM_SAFE,
    /// Rotate Automatic (2.1).
    RotateAutomatic(bool) = ROTATE_AUTOMATIC,
    /// Rotate Date (2.1).
    RotateDate(DateTime) = ROTATE_DATE,
    /// Rotate Generation (2.1).
    RotateGeneration(i32) = ROTATE_GENERATION,
    /// Rotate Interval (2.1, seconds).
    RotateInterval(u32) = ROTATE_INTERVAL,
    /// Rotate Latest (2.1).
    RotateLatest(bool) = ROTATE_LATEST,
    /// Rotate Name (2.1).
    RotateName(RotateName) = ROTATE_NAME,
    /// Rotate Offset (2.1, seconds).
    RotateOffset(u32) = ROTATE_OFFSET,
}

impl Attribute {
    /// The KMIP 1.x Attribute Name (`Cryptographic Algorithm`, or the custom name).
    pub fn name(&self) -> String {
        match self {
            Attribute::Custom(c) => c.to_custom_form().attribute_name,
            other => other.tag().and_then(registry::tag_info).map(|t| t.name.to_owned()).unwrap_or_default(),
        }
    }

    /// Whether a peer speaking `version` knows this attribute: standard attributes by the
    /// registry's first/removed versions, custom ones by form (`x-` names in 1.x, Vendor
    /// Attributes in 2.x; [`CustomAttribute::to_vendor_form`] converts).
    pub fn exists_in(&self, version: Version) -> bool {
        match self {
            Attribute::Custom(c) => c.vendor_identification.is_some() == (version.major >= 2),
            other => other.tag().is_some_and(|t| attribute_exists_in(t, version)),
        }
    }

    /// Decodes the 2.x form: an element under the attribute's own tag, or a Vendor Attribute.
    pub fn from_ttlv_v2(item: &Ttlv, path: &Path<'_>) -> Result<Attribute, ModelError> {
        if item.tag == Tag::ATTRIBUTE {
            let indexed = IndexedAttribute::from_ttlv_item(item, path)?;
            return match indexed {
                IndexedAttribute { attribute: a @ Attribute::Custom(_), attribute_index: None } => Ok(a),
                _ => Err(ModelError::InvalidValue {
                    path: path.to_string(),
                    reason: "a 1.x Attribute structure where a 2.x attribute is required",
                }),
            };
        }
        Attribute::decode_standard(item.tag, item, path)
            .unwrap_or_else(|| Err(ModelError::UnexpectedField { path: path.to_string() }))
    }

    /// Encodes the 2.x form.
    pub fn to_ttlv_v2(&self) -> Ttlv {
        match self {
            Attribute::Custom(c) => IndexedAttribute::encode_custom(c, None, Tag::ATTRIBUTE),
            standard => standard.encode_value(Choice::tag(standard)),
        }
    }
}

/// Whether the standard attribute with this tag exists in protocol `version`.
pub fn attribute_exists_in(tag: Tag, version: Version) -> bool {
    Attribute::is_standard_tag(tag)
        && registry::tag_info(tag).is_some_and(|t| t.in_version(version))
        && attribute_since(tag).is_none_or(|since| since <= version)
}

/// The version that made a tag an attribute, for the tags that are older than their
/// attribute: Key Format Type (a Key Block field) and Opaque Data Type (an Opaque Object
/// field) are fields since 1.0 and attributes only since 2.0 (KMIP 1.4 §3 lists neither).
/// A 1.x client does not expect them among the attributes: PyKMIP 0.11 cannot decode a
/// Get Attributes answer that names Key Format Type.
fn attribute_since(tag: Tag) -> Option<Version> {
    [Tag::KEY_FORMAT_TYPE, Tag::OPAQUE_DATA_TYPE].contains(&tag).then(|| Version::new(2, 0))
}

impl FromTtlv for Attribute {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        Attribute::from_ttlv_v2(item, path)
    }
}

impl Choice for Attribute {
    fn accepts(tag: Tag) -> bool {
        tag == Tag::ATTRIBUTE || Attribute::is_standard_tag(tag)
    }

    fn tag(&self) -> Tag {
        Attribute::tag(self).unwrap_or(Tag::ATTRIBUTE)
    }

    fn to_ttlv(&self) -> Ttlv {
        self.to_ttlv_v2()
    }
}

/// The `Attribute` structure: 1.x {Attribute Name, Attribute Index?, Attribute Value}, also
/// the 2.x Vendor Attribute {Vendor Identification, Attribute Name, Attribute Value}.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedAttribute {
    /// The attribute.
    pub attribute: Attribute,
    /// Attribute Index (1.x), for multi-instance attributes; absent means 0.
    pub attribute_index: Option<i32>,
}

impl IndexedAttribute {
    /// An attribute without an index.
    pub fn new(attribute: Attribute) -> IndexedAttribute {
        IndexedAttribute { attribute, attribute_index: None }
    }

    fn encode_custom(c: &CustomAttribute, index: Option<i32>, tag: Tag) -> Ttlv {
        let mut w = Writer::new();
        w.optional(Tag::VENDOR_IDENTIFICATION, &c.vendor_identification);
        w.required(Tag::ATTRIBUTE_NAME, &c.attribute_name);
        w.optional(Tag::ATTRIBUTE_INDEX, &index);
        w.push(Ttlv::new(Tag::ATTRIBUTE_VALUE, c.attribute_value.clone()));
        w.finish(tag)
    }
}

impl FromTtlv for IndexedAttribute {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        let mut r = Reader::structure(item, path)?;
        let vendor_identification: Option<String> = r.optional(Tag::VENDOR_IDENTIFICATION)?;
        let attribute_name: String = r.required(Tag::ATTRIBUTE_NAME)?;
        let attribute_index: Option<i32> = r.optional(Tag::ATTRIBUTE_INDEX)?;
        let value: Ttlv = r.required(Tag::ATTRIBUTE_VALUE)?;
        r.finish()?;
        let value_path = path.child(Tag::ATTRIBUTE_VALUE, None);
        let attribute = if vendor_identification.is_some() || is_custom_name(&attribute_name) {
            Attribute::Custom(CustomAttribute {
                vendor_identification,
                attribute_name,
                attribute_value: value.value,
            })
        } else {
            let tag = registry::tag_by_name(&attribute_name)
                .map(|t| Tag(t.tag))
                .filter(|t| Attribute::is_standard_tag(*t))
                .ok_or_else(|| ModelError::UnknownAttribute {
                    path: path.child(Tag::ATTRIBUTE_NAME, None).to_string(),
                    name: attribute_name.clone(),
                })?;
            Attribute::decode_standard(tag, &value, &value_path).unwrap_or_else(|| {
                Err(ModelError::UnknownAttribute { path: path.to_string(), name: attribute_name })
            })?
        };
        Ok(IndexedAttribute { attribute, attribute_index })
    }
}

impl ToTtlv for IndexedAttribute {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        match &self.attribute {
            Attribute::Custom(c) => IndexedAttribute::encode_custom(c, self.attribute_index, tag),
            standard => {
                let mut w = Writer::new();
                w.required(Tag::ATTRIBUTE_NAME, &standard.name());
                w.optional(Tag::ATTRIBUTE_INDEX, &self.attribute_index);
                w.push(standard.encode_value(Tag::ATTRIBUTE_VALUE));
                w.finish(tag)
            }
        }
    }
}

kmip_struct! {
    /// 2.x `Attributes` (also Common/Private Key/Public Key Attributes): one element per
    /// attribute, in the order sent.
    pub struct Attributes {
        /// The attributes.
        attributes: vecchoice Attribute = ATTRIBUTE,
    }
}

kmip_struct! {
    /// 1.x Template-Attribute (also Common/Private Key/Public Key Template-Attribute).
    pub struct TemplateAttribute {
        /// Names of Template objects to apply.
        names: vec Name = NAME,
        /// The attributes.
        attributes: vec IndexedAttribute = ATTRIBUTE,
    }
}

kmip_struct! {
    /// 2.x Current Attribute / New Attribute: a structure holding exactly one attribute.
    pub struct AttributeHolder {
        /// The attribute.
        attribute: choice Attribute = ATTRIBUTE,
    }
}

impl TemplateAttribute {
    /// The attributes in the internal model. The Template-Attribute's `Name` fields are not
    /// among them: they name Template objects whose attributes the operation applies (KMIP
    /// 1.0–1.4 §2.1.8; deprecated in 1.3, gone in 2.0), which only the operations layer can
    /// look up. An object's own Name is an `Attribute` named "Name".
    pub fn to_attribute_list(&self) -> Vec<Attribute> {
        self.attributes.iter().map(|a| a.attribute.clone()).collect()
    }

    /// The 2.x form of these attributes (as [`TemplateAttribute::to_attribute_list`], so
    /// without the template names, which 2.x can't express; custom names become Vendor
    /// Attributes).
    pub fn to_attributes(&self) -> Attributes {
        Attributes {
            attributes: self
                .to_attribute_list()
                .into_iter()
                .map(|a| match a {
                    Attribute::Custom(c) => Attribute::Custom(c.to_vendor_form()),
                    other => other,
                })
                .collect(),
        }
    }
}

impl Attributes {
    /// The 1.x form of these attributes (Vendor Attributes become `x-`/`y-` custom names).
    pub fn to_template_attribute(&self) -> TemplateAttribute {
        TemplateAttribute {
            names: Vec::new(),
            attributes: self
                .attributes
                .iter()
                .map(|a| match a {
                    Attribute::Custom(c) => IndexedAttribute::new(Attribute::Custom(c.to_custom_form())),
                    other => IndexedAttribute::new(other.clone()),
                })
                .collect(),
        }
    }

    /// Only the attributes that a peer speaking `version` knows.
    pub fn for_version(&self, version: Version) -> Attributes {
        Attributes { attributes: self.attributes.iter().filter(|a| a.exists_in(version)).cloned().collect() }
    }
}

/// 2.x Attribute Reference: a standard attribute by tag, or a vendor attribute by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeReference {
    /// A standard attribute (the Enumeration value is the attribute's tag).
    Standard(Tag),
    /// A vendor attribute.
    Vendor {
        /// Vendor Identification.
        vendor_identification: String,
        /// Attribute Name.
        attribute_name: String,
    },
}

impl FromTtlv for AttributeReference {
    fn from_ttlv_item(item: &Ttlv, path: &Path<'_>) -> Result<Self, ModelError> {
        match &item.value {
            Value::Enumeration(v) => {
                let tag = Tag(*v);
                if Attribute::is_standard_tag(tag) {
                    Ok(AttributeReference::Standard(tag))
                } else {
                    Err(ModelError::UnknownEnumValue {
                        path: path.to_string(),
                        enumeration: "Tag (attribute)",
                        value: *v,
                    })
                }
            }
            Value::Structure(_) => {
                let mut r = Reader::structure(item, path)?;
                let vendor_identification: String = r.required(Tag::VENDOR_IDENTIFICATION)?;
                let attribute_name: String = r.required(Tag::ATTRIBUTE_NAME)?;
                r.finish()?;
                // 2.0 §5.5 references "by name or by tag": no vendor and a standard attribute's
                // name is that attribute by name (PyKMIP 0.11 has only this form, and its
                // server reads it so).
                let standard = registry::tag_by_name(&attribute_name)
                    .map(|t| Tag(t.tag))
                    .filter(|t| vendor_identification.is_empty() && Attribute::is_standard_tag(*t));
                Ok(match standard {
                    Some(tag) => AttributeReference::Standard(tag),
                    None => AttributeReference::Vendor { vendor_identification, attribute_name },
                })
            }
            _ => Err(wrong_type(item, path, "Enumeration or Structure")),
        }
    }
}

impl ToTtlv for AttributeReference {
    fn to_ttlv_item(&self, tag: Tag) -> Ttlv {
        match self {
            AttributeReference::Standard(t) => Ttlv::enumeration(tag, t.0),
            AttributeReference::Vendor { vendor_identification, attribute_name } => {
                let mut w = Writer::new();
                w.required(Tag::VENDOR_IDENTIFICATION, vendor_identification);
                w.required(Tag::ATTRIBUTE_NAME, attribute_name);
                w.finish(tag)
            }
        }
    }
}

/// Checks that every tag in `item`, and every standard attribute named by a 1.x Attribute
/// Name, exists in protocol `version` (by the registry's first and removed versions), so that
/// a server never sends a peer a field or attribute its version does not know, and can reject
/// one it should not have received. Extension tags (`0x54XXXX`) and custom attribute names are
/// always allowed; tags the registry does not know are left to the typed decoding.
pub fn check_in_version(item: &Ttlv, version: Version) -> Result<(), ModelError> {
    fn walk(item: &Ttlv, path: &Path<'_>, version: Version) -> Result<(), ModelError> {
        if let Some(info) = registry::tag_info(item.tag) {
            if !info.in_version(version) {
                return Err(ModelError::NotInVersion { path: path.to_string(), version });
            }
        }
        for child in item.children() {
            let child_path = path.child(child.tag, None);
            if item.tag == Tag::ATTRIBUTE && child.tag == Tag::ATTRIBUTE_NAME {
                if let Value::TextString(name) = &child.value {
                    let standard = registry::tag_by_name(name)
                        .map(|t| Tag(t.tag))
                        .filter(|t| Attribute::is_standard_tag(*t));
                    if standard.is_some_and(|t| !attribute_exists_in(t, version)) {
                        return Err(ModelError::NotInVersion { path: child_path.to_string(), version });
                    }
                }
            }
            walk(child, &child_path, version)?;
        }
        Ok(())
    }
    walk(item, &Path::root(item.tag), version)
}
