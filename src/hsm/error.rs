//! The error type of the HSM layer.
//!
//! Every PKCS#11 failure keeps its `CKR_*` code name and a coarse [`ErrorClass`], so that the KMIP layer can map
//! it to a Result Reason without knowing PKCS#11.

use cryptoki::error::{Error as CryptokiError, RvError};

/// What kind of failure an [`HsmError`] is, in terms a caller can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The HSM or its profile cannot do this (mechanism, key size or operation missing).
    NotSupported,
    /// The addressed object does not exist.
    NotFound,
    /// The object's material cannot leave the HSM (sensitive or not extractable).
    Sensitive,
    /// The request itself is wrong: bad lengths, bad parameters, wrong key type, failed integrity check.
    InvalidInput,
    /// Login or permission problem (PIN, not logged in, read-only token).
    Auth,
    /// The HSM will not digest this key inside itself (`CKR_KEY_INDIGESTIBLE`, or not a secret key): a
    /// caller computing a KMIP Digest omits it.
    Indigestible,
    /// The device or the module failed; retrying later may work.
    Device,
    /// Anything else.
    Other,
}

/// An error of the HSM layer. Never carries key material, plaintext or PINs.
#[derive(Debug, thiserror::Error)]
pub enum HsmError {
    /// A PKCS#11 function returned an error code.
    #[error("{function} failed: {code}")]
    Pkcs11 {
        /// The `CKR_*` name of the returned code, e.g. `CKR_MECHANISM_INVALID`.
        code: String,
        /// The coarse class of `code`.
        class: ErrorClass,
        /// The PKCS#11 function that failed, e.g. `C_Encrypt`.
        function: String,
    },
    /// The profile (or the module, as the profile declares) does not offer this capability.
    #[error("not supported by this HSM: {0}")]
    NotSupported(String),
    /// No object with the given id exists in kmipd's namespace on the token.
    #[error("no HSM object with this id")]
    NotFound,
    /// The caller's request is malformed (sizes, parameters, id or label limits).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The key's material is sensitive or not extractable.
    #[error("key material cannot leave the HSM: {0}")]
    Sensitive(String),
    /// [`Hsm::digest_key`](super::Hsm::digest_key) was given a key that the HSM cannot digest inside itself.
    #[error("the HSM cannot digest this key: {0}")]
    Indigestible(String),
    /// The HSM configuration or profile is unusable.
    #[error("HSM configuration: {0}")]
    Config(String),
    /// The PKCS#11 module could not be loaded or used (library, token selection, login setup).
    #[error("PKCS#11 module: {0}")]
    Module(String),
    /// No pooled session became free in time.
    #[error("no HSM session became available within {0} ms")]
    PoolTimeout(u64),
}

/// Shorthand for results of the HSM layer.
pub type HsmResult<T> = Result<T, HsmError>;

impl HsmError {
    /// The class of this error.
    pub fn class(&self) -> ErrorClass {
        match self {
            HsmError::Pkcs11 { class, .. } => *class,
            HsmError::NotSupported(_) => ErrorClass::NotSupported,
            HsmError::NotFound => ErrorClass::NotFound,
            HsmError::InvalidInput(_) => ErrorClass::InvalidInput,
            HsmError::Sensitive(_) => ErrorClass::Sensitive,
            HsmError::Indigestible(_) => ErrorClass::Indigestible,
            HsmError::PoolTimeout(_) => ErrorClass::Device,
            HsmError::Config(_) | HsmError::Module(_) => ErrorClass::Other,
        }
    }

    /// The `CKR_*` code name when this error came from the module.
    pub fn code(&self) -> Option<&str> {
        match self {
            HsmError::Pkcs11 { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Converts a cryptoki error, keeping the `CKR_*` name and the failed function.
    pub(crate) fn from_cryptoki(err: CryptokiError) -> Self {
        match err {
            CryptokiError::Pkcs11(rv, function) => {
                HsmError::Pkcs11 { code: ckr_name(rv), class: classify(rv), function: format!("C_{function:?}") }
            }
            CryptokiError::LibraryLoading(e) => HsmError::Module(e.to_string()),
            CryptokiError::NotSupported => HsmError::NotSupported("not supported by the cryptoki binding".into()),
            other => HsmError::Module(other.to_string()),
        }
    }
}

impl From<CryptokiError> for HsmError {
    fn from(err: CryptokiError) -> Self {
        HsmError::from_cryptoki(err)
    }
}

/// The `CKR_*` name of a return value. cryptoki names its variants after the codes in CamelCase, so the name is
/// rebuilt from the variant name; vendor codes are shown in hex.
pub fn ckr_name(rv: RvError) -> String {
    match rv {
        RvError::VendorDefined(code) => format!("CKR_VENDOR_DEFINED({code:#x})"),
        RvError::UnknownErrorCode(code) => format!("CKR_UNKNOWN({code:#x})"),
        other => {
            let camel = format!("{other:?}");
            let mut name = String::from("CKR");
            for ch in camel.chars() {
                if ch.is_ascii_uppercase() {
                    name.push('_');
                }
                name.push(ch.to_ascii_uppercase());
            }
            name
        }
    }
}

/// The class of a PKCS#11 return value.
pub fn classify(rv: RvError) -> ErrorClass {
    use RvError as R;
    match rv {
        R::MechanismInvalid
        | R::FunctionNotSupported
        | R::KeySizeRange
        | R::DomainParamsInvalid
        | R::CurveNotSupported
        | R::KeyFunctionNotPermitted
        | R::TemplateIncomplete
        | R::RandomSeedNotSupported
        | R::RandomNoRng => ErrorClass::NotSupported,
        R::ObjectHandleInvalid | R::KeyHandleInvalid => ErrorClass::NotFound,
        R::AttributeSensitive | R::KeyUnextractable | R::KeyNotWrappable => ErrorClass::Sensitive,
        R::PinIncorrect
        | R::PinInvalid
        | R::PinLenRange
        | R::PinExpired
        | R::PinLocked
        | R::UserNotLoggedIn
        | R::UserPinNotInitialized
        | R::UserTypeInvalid
        | R::UserAlreadyLoggedIn
        | R::TokenWriteProtected
        | R::SessionReadOnly
        | R::ActionProhibited => ErrorClass::Auth,
        R::DeviceError
        | R::DeviceMemory
        | R::DeviceRemoved
        | R::TokenNotPresent
        | R::TokenNotRecognized
        | R::SessionHandleInvalid
        | R::SessionClosed
        | R::SessionCount
        | R::FunctionFailed
        | R::GeneralError
        | R::HostMemory
        | R::CryptokiNotInitialized => ErrorClass::Device,
        R::ArgumentsBad
        | R::DataInvalid
        | R::DataLenRange
        | R::EncryptedDataInvalid
        | R::EncryptedDataLenRange
        | R::SignatureInvalid
        | R::SignatureLenRange
        | R::MechanismParamInvalid
        | R::KeyTypeInconsistent
        | R::TemplateInconsistent
        | R::AttributeValueInvalid
        | R::AttributeTypeInvalid
        | R::AttributeReadOnly
        | R::WrappedKeyInvalid
        | R::WrappedKeyLenRange
        | R::UnwrappingKeyHandleInvalid
        | R::UnwrappingKeySizeRange
        | R::UnwrappingKeyTypeInconsistent
        | R::WrappingKeyHandleInvalid
        | R::WrappingKeySizeRange
        | R::WrappingKeyTypeInconsistent
        | R::BufferTooSmall => ErrorClass::InvalidInput,
        R::KeyIndigestible => ErrorClass::Indigestible,
        _ => ErrorClass::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_names_follow_the_standard_spelling() {
        assert_eq!(ckr_name(RvError::MechanismInvalid), "CKR_MECHANISM_INVALID");
        assert_eq!(ckr_name(RvError::ObjectHandleInvalid), "CKR_OBJECT_HANDLE_INVALID");
        assert_eq!(ckr_name(RvError::VendorDefined(0x8000_0001)), "CKR_VENDOR_DEFINED(0x80000001)");
    }

    #[test]
    fn classes_cover_the_recovery_codes() {
        assert_eq!(classify(RvError::SessionHandleInvalid), ErrorClass::Device);
        assert_eq!(classify(RvError::KeyUnextractable), ErrorClass::Sensitive);
        assert_eq!(classify(RvError::MechanismInvalid), ErrorClass::NotSupported);
        assert_eq!(classify(RvError::KeyIndigestible), ErrorClass::Indigestible);
    }
}
