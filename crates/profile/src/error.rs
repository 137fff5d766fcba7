//! What profiling and validation can fail with (every module of the crate returns it).

use vidnas_latency::LatencyError;

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(transparent)]
    Latency(#[from] LatencyError),
    #[error("{0}")]
    Unsupported(String),
}
