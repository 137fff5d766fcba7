//! Training data for vidnas: deterministic procedural text-video clips whose captions come from
//! the parameters that drew them ("a red square moving left fast"), a word vocabulary for those
//! captions, a loader for real footage (folders of frames plus `caption.txt`), data sets with a
//! fixed validation split and resumable batch order, and GIF/PNG writers for looking at clips.
//!
//! Clips are `[C, T, H, W]` tensors in [-1, 1], one item of PyTorch's `[B, C, T, H, W]`.
//! Pure Rust: nothing here needs libtorch.

pub mod clip;
pub mod dataset;
pub mod error;
pub mod folder;
pub mod gif;
pub mod label;
pub mod latents;
pub mod procedural;
pub mod tensor_file;
pub mod vocab;

pub use clip::Clip;
pub use dataset::{Batch, Dataset, VALIDATION_INDEX_OFFSET};
pub use error::{DataError, Result};
pub use folder::{load_clip_folder, load_folder_dataset, CAPTION_FILE};
pub use gif::{read_gif_frames, write_gif, write_gif_rgb8, write_grid_png, write_strip_png};
pub use label::{ClipLabel, Colour, Direction, Motion, Shape};
pub use latents::{load_latent_clips, write_latent_clips, CAPTIONS_KEY, LATENTS_TENSOR};
pub use procedural::{
    clip_rng, generate, generate_labeled, object_colour, sample_label, ProceduralConfig,
};
pub use vocab::{Vocab, PAD, PAD_ID, UNK, UNK_ID};
