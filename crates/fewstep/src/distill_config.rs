//! The distillation settings (`distill.json`'s `distill` field) and their checks.

use crate::error::FewStepError;
use serde::{Deserialize, Serialize};
use vidnas_diffusion::NoiseSchedule;

/// How the reconstruction loss weighs the student's timesteps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum RecWeighting {
    /// c(t) = ᾱ_t (ADD): an x̂₀ error at the first, noisiest step reaches the sample only
    /// through the later steps, which mostly correct it, and with ε-prediction the first step's
    /// x̂₀ is the network output amplified by 1/√ᾱ_t (about 15× at t = 999), so unweighted it
    /// drowns the steps that decide the result.
    #[default]
    AlphaBar,
    /// Every timestep counts the same.
    Uniform,
}

impl RecWeighting {
    pub(crate) fn weight(self, alpha_bar: f64) -> f64 {
        match self {
            Self::AlphaBar => alpha_bar,
            Self::Uniform => 1.0,
        }
    }
}

impl std::str::FromStr for RecWeighting {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "alpha-bar" => Ok(Self::AlphaBar),
            "uniform" => Ok(Self::Uniform),
            _ => Err(format!(
                "`{s}` is not a weighting; use alpha-bar or uniform"
            )),
        }
    }
}

/// What the discriminator is shown as real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RealSource {
    /// Training clips with their captions (ADD): the student may end up better than the teacher,
    /// but also further from it.
    Data,
    /// Teacher results from the pool (LADD): the student matches the teacher.
    #[default]
    Teacher,
}

impl std::str::FromStr for RealSource {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "data" => Ok(Self::Data),
            "teacher" => Ok(Self::Teacher),
            _ => Err(format!("`{s}` is not a real source; use data or teacher")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistillConfig {
    pub steps: usize,
    /// Pool entries (and real clips) per step.
    pub batch_size: usize,
    /// Sampling steps of the student.
    pub student_steps: usize,
    /// Learning rate of the student (all UNet weights; the text encoder stays frozen).
    pub lr_g: f64,
    /// Learning rate of the discriminator heads.
    pub lr_d: f64,
    /// Linear warm-up of both learning rates.
    pub warmup_steps: usize,
    /// Weight λ of the adversarial generator loss against the reconstruction loss.
    pub adv_weight: f64,
    /// `c` of the pseudo-Huber distance; `None`: 0.00054·√d.
    pub huber_c: Option<f64>,
    /// Per-timestep weight of the reconstruction loss.
    pub rec_weighting: RecWeighting,
    /// Share of the samples whose input at t_k is where the student's own sampler is after
    /// its first k steps from the entry's noise ("backward distillation", Imagine Flash), not
    /// the teacher's path: the student learns to correct its earlier steps' errors, which is
    /// what it must do when sampling.
    pub backward_share: f64,
    /// Discriminator inputs are re-noised to a timestep drawn uniformly below this.
    pub disc_max_timestep: usize,
    pub real: RealSource,
    /// Clip each network's global gradient norm to this.
    pub grad_clip: f64,
    pub checkpoint_every: usize,
    pub seed: u64,
}

impl Default for DistillConfig {
    fn default() -> Self {
        Self {
            steps: 150,
            batch_size: 4,
            student_steps: 4,
            lr_g: 1e-4,
            lr_d: 2e-4,
            warmup_steps: 10,
            adv_weight: 0.01,
            huber_c: None,
            rec_weighting: RecWeighting::AlphaBar,
            backward_share: 1.0,
            disc_max_timestep: 500,
            real: RealSource::Teacher,
            grad_clip: 1.0,
            checkpoint_every: 50,
            seed: 0,
        }
    }
}

impl DistillConfig {
    /// Checks every setting before the run folder is written; messages name the flag.
    pub fn validate(&self, schedule: &NoiseSchedule) -> Result<(), FewStepError> {
        if self.batch_size == 0 || self.student_steps == 0 {
            return Err(FewStepError::Config(
                "--batch-size and --student-steps must be at least 1".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.backward_share) {
            return Err(FewStepError::Config(format!(
                "--backward-share {} must be in 0..=1",
                self.backward_share
            )));
        }
        if self.disc_max_timestep == 0 || self.disc_max_timestep > schedule.train_timesteps {
            return Err(FewStepError::Config(format!(
                "--disc-max-timestep {} must be in 1..={} (the schedule's train_timesteps)",
                self.disc_max_timestep, schedule.train_timesteps
            )));
        }
        for (flag, v) in [
            ("--lr-g", self.lr_g),
            ("--lr-d", self.lr_d),
            ("--grad-clip", self.grad_clip),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(FewStepError::Config(format!(
                    "{flag} is {v}; use a positive number"
                )));
            }
        }
        if !(self.adv_weight.is_finite() && self.adv_weight >= 0.0) {
            return Err(FewStepError::Config(format!(
                "--adv-weight is {}; use 0 (no adversarial term) or a positive number",
                self.adv_weight
            )));
        }
        if self.huber_c.is_some_and(|c| !(c.is_finite() && c > 0.0)) {
            return Err(FewStepError::Config(
                "--huber-c must be a positive number".into(),
            ));
        }
        if self.checkpoint_every == 0 {
            return Err(FewStepError::Config(
                "--checkpoint-every is 0; use at least 1".into(),
            ));
        }
        Ok(())
    }
}
