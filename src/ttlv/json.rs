//! JSON rendering of TTLV (KMIP Additional Message Encodings v1.0 §5). (Being written.)
