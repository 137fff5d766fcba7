//! The supernet stages on the diffusion core: stage-1 image pretraining, inflation to video,
//! weight-sharing supernet training (path sampling), stand-alone training of one architecture,
//! and deterministic scoring.

pub mod fewshot;
pub mod paths;
pub mod rerank;
mod score;
pub mod stages;

pub use fewshot::{run_holding, split_supernet, SplitManifest, SplitRequest, SupernetScorer};
pub use paths::{path_plan, paths_for_step, trainer};
pub use rerank::{fine_tune_and_score, RerankConfig};
pub use score::{frame_differences, ValidationSet};
pub use stages::{pretrain_image, train_temporal, ImageStage, Scorer, TemporalStage};
