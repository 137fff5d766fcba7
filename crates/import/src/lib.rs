//! Imports a diffusers `UNet2DConditionModel` as a vidnas search space.
//!
//! [`import_diffusers_config`] reads the model's `config.json` (every key diffusers 0.42 knows;
//! missing keys take diffusers' defaults) and returns a [`SpaceFile`] whose backbone is exactly
//! that network, so the checkpoint's `diffusion_pytorch_model.safetensors` loads into
//! `vidnas_nn::VideoUNet` by name. The clip comes from `sample_size`, the temporal ops from a
//! template ([`default_temporal`]). Configs vidnas cannot express (other block types, per-block
//! head counts that differ, class or added embeddings, other activations, ...) are refused with
//! the key and value named; unknown keys are refused too, keys starting with `_` are ignored.
//! Sizes no network can have (zero channels, heads or groups that do not divide the channels)
//! are refused by config key too; a damaged, non-UTF-8 or BOM-prefixed file is named as such. [`check_weights`] reads the header of the weights file beside
//! the config: complete, floating point, and `conv_in`/`conv_out` shaped for the config.
//! [`write_space`] validates and writes the result atomically.
//!
//! Pure Rust: no libtorch.

mod config;
mod error;
mod import;
mod text;
mod weights;
mod write;

pub use error::ImportError;
pub use import::{default_temporal, find_config, import_diffusers_config, ImportOptions};
pub use weights::{check_weights, WeightsFile, WEIGHTS_FILE};
pub use write::write_space;

#[doc(no_inline)]
pub use vidnas_space::SpaceFile;
