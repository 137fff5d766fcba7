//! Distillation checkpoints on the core's checkpoint folder: the student, the discriminator
//! heads, both optimisers' moments and the state (with every step's losses).

use crate::discriminator::Discriminator;
use crate::error::FewStepError;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use vidnas_diffusion::checkpoint::{self as core, load_optimizer, save_optimizer};
use vidnas_diffusion::{AdamW, VideoModel};
use vidnas_nn::{load_into, save_filtered};

const STUDENT: &str = "student.safetensors";
const DISCRIMINATOR: &str = "discriminator.safetensors";
const OPT_G: &str = "optimizer_g.safetensors";
const OPT_D: &str = "optimizer_d.safetensors";

/// Losses of one step.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepLosses {
    /// Pseudo-Huber distance of the student's x̂₀ to the teacher result.
    pub rec: f64,
    /// Generator hinge loss.
    pub adv_g: f64,
    /// Discriminator hinge loss.
    pub disc: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistillState {
    /// Steps completed.
    pub step: usize,
    /// The architecture distilled (canonical encoding).
    pub arch: String,
    /// Losses of every completed step.
    pub losses: Vec<StepLosses>,
}

pub fn checkpoint_dir(run: &Path) -> PathBuf {
    core::checkpoint_dir(run)
}

pub fn save(
    run: &Path,
    student: &VideoModel,
    disc: &Discriminator,
    opt_g: &AdamW,
    opt_d: &AdamW,
    state: &DistillState,
) -> Result<(), FewStepError> {
    Ok(core::save(run, state, |dir| {
        student.save_all(&dir.join(STUDENT))?;
        save_filtered(&disc.vs, &dir.join(DISCRIMINATOR), |_| true)?;
        save_optimizer(&dir.join(OPT_G), opt_g)?;
        save_optimizer(&dir.join(OPT_D), opt_d)
    })?)
}

/// The state of a run's checkpoint, if there is one.
pub fn read_state(run: &Path) -> Result<Option<(PathBuf, DistillState)>, FewStepError> {
    Ok(core::read_state(run)?)
}

/// Restores the student, the discriminator heads and both optimisers from `dir`.
pub fn load(
    dir: &Path,
    student: &VideoModel,
    disc: &Discriminator,
    opt_g: &mut AdamW,
    opt_d: &mut AdamW,
    step: usize,
) -> Result<(), FewStepError> {
    load_into(&student.vs, &dir.join(STUDENT), |_| true)?;
    load_into(&disc.vs, &dir.join(DISCRIMINATOR), |_| true)?;
    for (file, opt) in [(OPT_G, opt_g), (OPT_D, opt_d)] {
        load_optimizer(&dir.join(file), dir, opt, step)?;
    }
    Ok(())
}
