//! Latency measurement on this machine's libtorch or ExecuTorch (through the Python twin): per-op tables (`vidnas latency profile`) and
//! whole-network validation of the predictor (`vidnas latency validate`).

pub mod e2e;
mod error;
pub mod executorch;
pub mod ops;
pub mod profile;
pub mod scale;
pub mod timer;
pub mod validate;

pub use error::ProfileError;
