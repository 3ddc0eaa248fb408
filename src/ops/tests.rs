//! Batch-processor tests.
