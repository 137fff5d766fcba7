//! Does the few-step student generate what the multi-step teacher does? On held-out prompts
//! the distilled student, the teacher at the same few steps and the teacher at its full step
//! count generate from the same noise, and each clip is measured three ways: distance to the
//! full-step clip, temporal consistency, and prompt faithfulness judged by a small video
//! classifier trained on the procedural data's labels (shape, colour, motion).
//!
//! `vidnas eval quality` measures one model against real clips: a Fréchet distance on the
//! classifier's features (or any [`VideoFeatures`] extractor), with bootstrap intervals and the
//! spread between two draws of real clips as its noise floor.
//!
//! `metrics` and `prediction` are pure Rust; `classifier`, `eval`, `features`, `frechet` and
//! `video_quality` run on libtorch.

pub mod classifier;
mod error;
pub mod eval;
pub mod eval_files;
mod eval_report;
pub mod features;
pub mod frechet;
pub mod metrics;
pub mod prediction;
pub mod video_quality;

pub use classifier::{
    held_out_accuracy, train_classifier, Accuracy, ClassifierInfo, ClassifierSettings,
    ClipClassifier, Predicted, CLASSIFIER_FORMAT,
};
pub use error::{EvalError, Result};
pub use eval::{evaluate, noise_seed, EvalRequest};
pub use eval_files::{markdown_table, output_files};
pub use eval_report::{EvalReport, EvalSettings, SystemSummary, EVAL_FORMAT};
pub use features::VideoFeatures;
pub use frechet::{frechet_between, frechet_distance, Gaussian, Interval, Pca};
pub use metrics::{motion_mse, mse, temporal_consistency, Stat};
pub use video_quality::{
    quality_files, quality_table, video_quality, video_quality_with, AccuracyIntervals,
    FrechetFigures, QualityReport, QualityRequest, QualitySettings, QUALITY_FORMAT,
};
