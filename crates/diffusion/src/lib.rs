//! The diffusion core of vidnas on libtorch, shared by every training and sampling stage: the
//! video model, the noise schedule, the DDIM sampler, AdamW, the per-(seed, step) RNG streams,
//! run folders (`run.json`, failed starts, memory checks), checkpoints and the one trainer.
//! The supernet, few-step, evaluation and export crates build on it; none of them on each
//! other's internals.

mod adamw;
mod batch;
pub mod checkpoint;
mod compute;
pub mod data;
mod error;
mod lr;
mod memory;
mod model;
mod objective;
pub mod rng;
pub mod run_folder;
pub mod run_info;
mod sampler;
mod schedule;
mod trainer;

pub use adamw::{AdamW, AdamWConfig};
pub use batch::{clips_tensor, stack_clips, Batch};
pub use compute::{Compute, ComputeRecord, ComputeRequest, DeviceChoice, Precision};
pub use data::{datasets, default_text_config, procedural_config, DataConfig, DataSource};
pub use error::TrainError;
pub use lr::{lr_at, LrDecay};
pub use memory::{available_bytes, check_fits, estimate_bytes};
pub use model::{VideoModel, TEXT_PREFIX};
pub use objective::{Objective, PathSampling};
pub use rng::seed_libtorch;
pub use run_info::{check_run_folder, RunInfo, ScoreMetric, ValidationConfig, RUN_FORMAT};
pub use sampler::{ddim_step, ddim_timesteps, initial_noise, sample, sample_batch, SampleConfig};
pub use schedule::{NoiseSchedule, Prediction};
pub use trainer::{is_text_path, PathPlan, TrainConfig, TrainState, Trainer, MAX_NOISE_BIAS};
