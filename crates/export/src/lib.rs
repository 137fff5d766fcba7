//! Export: the chosen architecture as `configs/<name>.json` (format-versioned, with provenance)
//! plus its weights extracted from the supernet as `configs/<name>.safetensors`. Weight names
//! are the supernet's (diffusers keys for the spatial part), so the file loads into the same
//! module tree in PyTorch.

mod config;
pub mod fixtures;

pub use config::{
    export, load_exported, load_exported_as, load_exported_on, load_exported_with, weights_path,
    ArchConfig, ExportError, ExportRequest, PredictedCost, Provenance, CONFIG_FORMAT,
};
