//! Neural-network blocks for vidnas on libtorch: a diffusers-compatible UNet (weight names equal
//! diffusers' `UNet2DConditionModel` state-dict keys) with temporal slots, the temporal op
//! family, and the weight-sharing supernet built from a search space.

mod attention;
mod embeddings;
pub mod pinned;
mod prompt_table;
mod resnet;
pub mod temporal;
mod text;
mod unet;
mod weights;

pub use attention::{Attention, Transformer2DConfig, Transformer2DModel};
pub use embeddings::{timestep_features, TimestepEmbedding};
pub use prompt_table::{PromptTable, PromptTableError, EMBEDDINGS_TENSOR, PROMPTS_KEY};
pub use resnet::{Downsample2D, ResnetBlock2D, Upsample2D};
pub use temporal::{OpShape, TemporalOp};
pub use text::{PrecomputedText, TextEncoder, TextEncoderConfig, PROMPT_TABLE_VAR};
pub use unet::{Build, VideoUNet};
pub use weights::{holds_any, holds_prefix, is_temporal, load_into, save_filtered, WeightsError};
