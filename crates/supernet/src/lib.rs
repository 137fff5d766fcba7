//! Stage 1 (image pretraining), inflation to video, weight-sharing supernet training and
//! deterministic scoring, on libtorch.

mod adamw;
mod batch;
pub mod checkpoint;
mod error;
mod memory;
mod model;
pub mod paths;
pub mod rng;
pub mod run_folder;
mod sampler;
mod schedule;
mod score;
pub mod stages;
mod trainer;

pub use adamw::{AdamW, AdamWConfig};
pub use batch::{clips_tensor, stack_clips, Batch};
pub use error::TrainError;
pub use memory::{available_bytes, check_fits, estimate_bytes};
pub use model::{VideoModel, TEXT_PREFIX};
pub use paths::PathSampling;
pub use rng::seed_libtorch;
pub use sampler::{ddim_step, ddim_timesteps, initial_noise, sample, sample_batch, SampleConfig};
pub use schedule::{NoiseSchedule, Prediction};
pub use score::{ValidationConfig, ValidationSet};
pub use trainer::{Objective, TrainConfig, Trainer};
