//! What `vidnas eval run` writes (`eval.json`, `timing.json`) and the settings it records: the
//! types the evaluation fills in and the output files read.

use crate::classifier::Accuracy;
use crate::metrics::Stat;
use serde::{Deserialize, Serialize};
use vidnas_data::ClipLabel;

pub const EVAL_FORMAT: &str = "vidnas-eval/1";

/// System names, as they appear in every output.
pub const STUDENT: &str = "student";
pub const TEACHER_FEW: &str = "teacher-few-step";
pub const TEACHER: &str = "teacher";
pub const DATA: &str = "procedural";

/// What to evaluate on and how the systems sample.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalSettings {
    /// Held-out prompts: the captions of procedural validation clips `0..prompts`.
    pub prompts: usize,
    /// Seed of the per-prompt noise seeds (shared by the three systems).
    pub seed: u64,
    /// Stream of the procedural validation clips the prompts come from.
    pub data_seed: u64,
    /// Steps of the reference teacher (e.g. 25).
    pub teacher_steps: usize,
    /// Steps of the student and of the few-step teacher (e.g. 4).
    pub student_steps: usize,
    /// Classifier-free guidance of the teacher, at both step counts.
    pub guidance: f64,
    /// Guidance of the student (1: the teacher's guidance is distilled into it).
    pub student_guidance: f64,
    /// Prompts written as GIFs and into the PNG grid.
    pub media_prompts: usize,
}

impl Default for EvalSettings {
    fn default() -> Self {
        Self {
            prompts: 32,
            seed: 0,
            data_seed: 0,
            teacher_steps: 25,
            student_steps: 4,
            guidance: 3.0,
            student_guidance: 1.0,
            media_prompts: 4,
        }
    }
}

/// One clip's measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClipResult {
    pub system: String,
    /// Mean squared pixel difference to the reference clip (`None` for the procedural clip,
    /// which comes from other noise).
    pub mse_to_reference: Option<f64>,
    /// Mean squared difference of the frame-to-frame changes to the reference clip's.
    pub motion_mse_to_reference: Option<f64>,
    pub temporal_consistency: f64,
    /// What the classifier saw, as a caption.
    pub recognised: String,
    pub shape_ok: bool,
    pub colour_ok: bool,
    pub motion_ok: bool,
}

impl ClipResult {
    pub fn all_ok(&self) -> bool {
        self.shape_ok && self.colour_ok && self.motion_ok
    }
}

/// One prompt with every system's clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptResult {
    pub index: usize,
    pub caption: String,
    pub label: ClipLabel,
    /// Seed of the initial noise, the same for every system.
    pub noise_seed: u64,
    /// In the order of [`EvalReport::systems`].
    pub clips: Vec<ClipResult>,
}

/// Means (± standard error over prompts) for one system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SystemSummary {
    pub system: String,
    pub description: String,
    /// Sampling steps and guidance (`None` for the procedural clips).
    pub steps: Option<usize>,
    pub guidance: Option<f64>,
    /// Denoiser passes per clip: steps, twice with guidance.
    pub denoiser_passes: Option<usize>,
    pub mse_to_reference: Option<Stat>,
    pub motion_mse_to_reference: Option<Stat>,
    pub temporal_consistency: Stat,
    /// Fraction of prompts whose clip the classifier reads as the prompt's shape, colour,
    /// motion, and all three.
    pub shape: Stat,
    pub colour: Stat,
    pub motion: Stat,
    pub all: Stat,
}

/// Student against the few-step teacher, prompt by prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// Student's MSE to the reference minus the few-step teacher's, per prompt (negative: the
    /// student is closer).
    pub mse_difference: Stat,
    /// Prompts on which the student's clip is closer to the reference than the few-step
    /// teacher's.
    pub student_closer: usize,
    pub prompts: usize,
}

/// `eval.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalReport {
    pub format: String,
    pub command: String,
    pub config: String,
    pub config_sha256: String,
    pub arch: String,
    pub teacher: String,
    pub teacher_sha256: String,
    pub student: String,
    pub student_sha256: String,
    pub classifier: String,
    pub classifier_sha256: String,
    /// The classifier's accuracy on held-out procedural clips, from its classifier.json.
    pub classifier_held_out: Accuracy,
    /// The same at its strongest training blur and noise.
    pub classifier_held_out_degraded: Accuracy,
    pub settings: EvalSettings,
    /// Student, few-step teacher, reference teacher, procedural clips.
    pub systems: Vec<SystemSummary>,
    pub comparison: Comparison,
    pub prompts: Vec<PromptResult>,
}

/// `timing.json`: seconds to sample one clip on this machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub threads: i32,
    /// `cpu` or `cuda:N`: where the clips were sampled.
    #[serde(default)]
    pub device: String,
    /// (system, median seconds per clip, fastest).
    pub systems: Vec<(String, f64, f64)>,
}
