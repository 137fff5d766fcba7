//! Imports a diffusers `UNet2DConditionModel` as a vidnas search space.
//!
//! [`import_diffusers_config`] reads the model's `config.json` (every key diffusers 0.42 knows;
//! missing keys take diffusers' defaults) and returns a [`SpaceFile`] whose backbone is exactly
//! that network, so the checkpoint's `diffusion_pytorch_model.safetensors` loads into
//! `vidnas_nn::VideoUNet` by name. The clip comes from `sample_size`, the temporal ops from a
//! template ([`default_temporal`]). Configs vidnas cannot express (other block types, per-block
//! head counts that differ, class or added embeddings, other activations, ...) are refused with
//! the key and value named; unknown keys are refused too, keys starting with `_` are ignored.
//! [`write_space`] validates and writes the result atomically.
//!
//! Pure Rust: no libtorch.

mod config;
mod error;
mod import;
mod write;

pub use error::ImportError;
pub use import::{default_temporal, import_diffusers_config, ImportOptions};
pub use write::write_space;

#[doc(no_inline)]
pub use vidnas_space::SpaceFile;
