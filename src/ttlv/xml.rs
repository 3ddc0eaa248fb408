//! XML rendering of TTLV (KMIP Additional Message Encodings v1.0 §6), as used by the OASIS
//! test cases. (Being written.)
