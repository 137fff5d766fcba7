//! Latency measurement on this machine's libtorch: per-op tables (`vidnas latency profile`) and
//! whole-network validation of the predictor (`vidnas latency validate`).

pub mod e2e;
pub mod ops;
pub mod profile;
pub mod scale;
pub mod timer;
pub mod validate;
