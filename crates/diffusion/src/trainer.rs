//! One trainer for every stage: image pretraining (spatial UNet + text encoder on single
//! frames), weight-sharing supernet training and stand-alone training of one architecture
//! (temporal layers only, spatial weights frozen).

use crate::adamw::{AdamW, AdamWConfig};
use crate::batch::{clips_at, draw_step, stack_clips, step_noise};
use crate::checkpoint;
use crate::compute::Compute;
use crate::error::TrainError;
use crate::lr::{lr_at, LrDecay};
use crate::model::VideoModel;
use crate::objective::{Objective, PathSampling};
use crate::schedule::NoiseSchedule;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::Tensor;
use vidnas_data::{Dataset, Vocab};
use vidnas_nn::is_temporal;
use vidnas_parallel::{AllReduce, Single};
use vidnas_space::{Architecture, OpKind};

/// Largest `noise_bias`: at 8 almost every step lands in the noisiest tenth of the schedule.
pub const MAX_NOISE_BIAS: f64 = 8.0;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub steps: usize,
    pub batch_size: usize,
    pub lr: f64,
    pub warmup_steps: usize,
    /// After warm-up: constant, or cosine decay to a tenth over `steps` (absent in run.json
    /// files written before it existed: constant).
    #[serde(default)]
    pub lr_decay: LrDecay,
    pub weight_decay: f64,
    pub grad_clip: f64,
    /// Fraction of samples trained with the null caption (for classifier-free guidance).
    pub caption_dropout: f64,
    pub seed: u64,
    pub checkpoint_every: usize,
    pub schedule: NoiseSchedule,
    /// Timestep sampling: 1 draws timesteps uniformly; above 1 favours the noisiest ones, where
    /// a clip's layout and motion are decided (density ∝ (t/T)^(bias−1); 2 rises linearly,
    /// mean t = 2T/3). Absent in run.json files written before it existed: uniform.
    #[serde(default = "uniform_noise")]
    pub noise_bias: f64,
    /// With a temporal-only objective (supernet, stand-alone), also train the text encoder and
    /// the spatial cross-attention: the path from prompt words to the temporal layers, which
    /// image pretraining leaves blind to motion words (a single frame cannot show motion).
    #[serde(default)]
    pub text_path: bool,
}

fn uniform_noise() -> f64 {
    1.0
}

/// Whether variable `name` lies on the path from the prompt to the temporal layers: the text
/// encoder and the spatial cross-attention (diffusers' `attn2`).
pub fn is_text_path(name: &str) -> bool {
    name.starts_with(crate::model::TEXT_PREFIX) || name.contains(".attn2.")
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            steps: 500,
            batch_size: 4,
            lr: 1e-3,
            warmup_steps: 20,
            lr_decay: LrDecay::Constant,
            weight_decay: 0.0,
            grad_clip: 1.0,
            caption_dropout: 0.1,
            seed: 0,
            checkpoint_every: 100,
            schedule: NoiseSchedule::default(),
            noise_bias: 1.0,
            text_path: false,
        }
    }
}

impl TrainConfig {
    /// Checks every setting before anything is built or written; messages name the run.json
    /// field and the command-line flag that sets it.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |field: &str, flag: &str, v: &dyn std::fmt::Display, fix: &str| {
            Err(TrainError::Config(format!(
                "train.{field} (--{flag}) is {v}; {fix}"
            )))
        };
        if self.batch_size < 1 {
            return bad(
                "batch_size",
                "batch-size",
                &self.batch_size,
                "use at least 1",
            );
        }
        if self.checkpoint_every < 1 {
            return bad(
                "checkpoint_every",
                "checkpoint-every",
                &self.checkpoint_every,
                "use at least 1",
            );
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", "lr", &self.lr, "use a positive number such as 1e-3");
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(
                "weight_decay",
                "weight-decay",
                &self.weight_decay,
                "use 0 or a positive number",
            );
        }
        if !(self.grad_clip.is_finite() && self.grad_clip > 0.0) {
            return bad(
                "grad_clip",
                "grad-clip",
                &self.grad_clip,
                "use a positive number such as 1.0",
            );
        }
        if !(0.0..=1.0).contains(&self.caption_dropout) {
            return bad(
                "caption_dropout",
                "caption-dropout",
                &self.caption_dropout,
                "use a fraction between 0 and 1",
            );
        }
        if !(self.noise_bias.is_finite() && (1.0..=MAX_NOISE_BIAS).contains(&self.noise_bias)) {
            return bad(
                "noise_bias",
                "noise-bias",
                &self.noise_bias,
                "use 1 (uniform timesteps) up to 8; 2 favours the noisiest timesteps linearly",
            );
        }
        self.schedule
            .validate()
            .map_err(|m| TrainError::Config(format!("train.{m}")))
    }
}

/// `state.json` of a training checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainState {
    /// Steps completed.
    pub step: usize,
    /// Space hash the weights belong to (a checkpoint from another space is refused).
    pub space_hash: String,
    /// What was trained.
    pub objective: Objective,
    /// Loss of every completed step.
    pub losses: Vec<f64>,
}

const MODEL: &str = "model.safetensors";
const OPTIMIZER: &str = "optimizer.safetensors";

/// The architecture(s) each step trains: one fixed path, or a per-step choice (the supernet's
/// path sampling, which lives with the supernet trainer).
pub enum PathPlan {
    Fixed(Architecture),
    /// `'static` so that a trainer holds no borrow beyond its model and data.
    PerStep(Box<dyn Fn(u64) -> Vec<Architecture>>),
}

impl PathPlan {
    /// The fixed path of an objective that has one: the image model (no temporal op) or a
    /// single architecture; `None` for the supernet, which needs [`PathPlan::PerStep`].
    pub fn fixed(objective: &Objective, slots: usize) -> Option<Self> {
        match objective {
            Objective::Image => Some(Self::Fixed(Architecture {
                ops: vec![OpKind::None; slots],
            })),
            Objective::Standalone(a) | Objective::Full(a) => Some(Self::Fixed(a.clone())),
            Objective::Supernet(_) | Objective::SubSupernet(..) => None,
        }
    }

    fn at(&self, step: u64) -> Vec<Architecture> {
        match self {
            Self::Fixed(a) => vec![a.clone()],
            Self::PerStep(f) => f(step),
        }
    }
}

/// Mean over the paths of each one's squared error (f32 also under bf16 autocast; f64 for an
/// f64 model), so gradients of every path accumulate into one update. With `distill`, every
/// path after the first is compared with the first one's prediction, detached (in-place
/// distillation: the teacher learns from the data alone).
fn paths_loss(
    predictions: impl Iterator<Item = Tensor>,
    target: &Tensor,
    distill: bool,
    kind: tch::Kind,
) -> Tensor {
    let mut soft_target: Option<Tensor> = None;
    let mut paths = 0;
    let total = predictions
        .map(|prediction| {
            paths += 1;
            let loss = (&prediction - soft_target.as_ref().unwrap_or(target))
                .square()
                .mean(kind);
            if distill && soft_target.is_none() {
                soft_target = Some(prediction.detach());
            }
            loss
        })
        .reduce(|a, b| a + b)
        .expect("at least one path");
    total / paths as f64
}

/// The ranks of `compute`, or this one process.
fn ranks_of(compute: Option<&Compute>) -> &dyn AllReduce {
    compute.map_or(&Single, |c| c.comm.as_ref())
}

pub struct Trainer<'a> {
    pub model: &'a mut VideoModel,
    pub opt: AdamW,
    pub cfg: TrainConfig,
    pub objective: Objective,
    paths: PathPlan,
    data: &'a Dataset,
    vocab: &'a Vocab,
    dir: PathBuf,
    state: TrainState,
    /// Device, precision and ranks; `None`: one process, f32, wherever the model lives.
    compute: Option<&'a Compute>,
}

impl<'a> Trainer<'a> {
    /// Sets which weights train (everything for `Image` and `Full`, temporal layers otherwise).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: &'a mut VideoModel,
        objective: Objective,
        paths: PathPlan,
        cfg: TrainConfig,
        data: &'a Dataset,
        vocab: &'a Vocab,
        dir: &Path,
    ) -> Self {
        let params = match objective {
            Objective::Image | Objective::Full(_) => model.trainable(|_| true),
            Objective::Supernet(_) | Objective::SubSupernet(..) | Objective::Standalone(_)
                if cfg.text_path =>
            {
                model.trainable(|n| is_temporal(n) || is_text_path(n))
            }
            Objective::Supernet(_) | Objective::SubSupernet(..) | Objective::Standalone(_) => {
                model.temporal_only()
            }
        };
        let opt = AdamW::new(
            params,
            AdamWConfig {
                lr: cfg.lr,
                weight_decay: cfg.weight_decay,
                ..Default::default()
            },
        );
        let state = TrainState {
            step: 0,
            space_hash: model.space.hash().to_string(),
            objective: objective.clone(),
            losses: Vec::new(),
        };
        Self {
            model,
            opt,
            cfg,
            objective,
            paths,
            data,
            vocab,
            dir: dir.to_path_buf(),
            state,
            compute: None,
        }
    }

    /// Trains with `compute`'s precision and, on several ranks, data-parallel: each rank takes
    /// its slice of every step's global batch, gradients are averaged before clipping, and
    /// rank 0 writes the checkpoints. Refuses a batch the ranks cannot split evenly.
    pub fn on(mut self, compute: &'a Compute) -> Result<Self, TrainError> {
        let ranks = compute.comm.world_size();
        if !self.cfg.batch_size.is_multiple_of(ranks) {
            return Err(TrainError::Config(format!(
                "--batch-size {} (the global batch) does not split over {ranks} ranks; use a multiple of {ranks}",
                self.cfg.batch_size
            )));
        }
        self.compute = Some(compute);
        Ok(self)
    }

    fn comm(&self) -> &'a dyn AllReduce {
        ranks_of(self.compute)
    }

    /// Whether this process writes the run's files (rank 0, or the only process).
    pub fn is_lead(&self) -> bool {
        self.comm().is_lead()
    }

    pub fn step(&self) -> usize {
        self.state.step
    }

    pub fn losses(&self) -> &[f64] {
        &self.state.losses
    }

    /// Continues from the run folder's checkpoint if there is one; returns the step reached.
    pub fn resume(&mut self) -> Result<usize, TrainError> {
        let Some((dir, state)) = checkpoint::read_state::<TrainState>(&self.dir)? else {
            return Ok(0);
        };
        if state.objective != self.state.objective {
            return Err(TrainError::file(
                &dir,
                format!(
                    "checkpoint trained `{}`, not `{}`; use another --out folder",
                    state.objective, self.state.objective
                ),
            ));
        }
        checkpoint::check_within_steps(&dir, state.step, self.cfg.steps)?;
        if state.losses.len() != state.step || state.losses.iter().any(|l| !l.is_finite()) {
            return Err(TrainError::file(
                dir.join("state.json"),
                format!(
                    "field `losses` must hold one finite loss per completed step ({} steps, {} losses); the checkpoint is damaged: delete {} and rerun to start over",
                    state.step,
                    state.losses.len(),
                    dir.display()
                ),
            ));
        }
        if state.space_hash != self.model.space.hash() {
            return Err(TrainError::file(
                &dir,
                format!(
                    "checkpoint belongs to space hash {} but {} has hash {}; use a new --out folder or the original space file",
                    state.space_hash,
                    self.model.space.path.display(),
                    self.model.space.hash()
                ),
            ));
        }
        self.model.load_all(&dir.join(MODEL))?;
        checkpoint::load_optimizer(&dir.join(OPTIMIZER), &dir, &mut self.opt, state.step)?;
        self.state = state;
        Ok(self.state.step)
    }

    /// Writes the checkpoint (rank 0 only; every rank holds the same weights).
    pub fn save(&self) -> Result<(), TrainError> {
        if !self.comm().is_lead() {
            return Ok(());
        }
        checkpoint::save(&self.dir, &self.state, |dir| {
            self.model.save_all(&dir.join(MODEL))?;
            checkpoint::save_optimizer(&dir.join(OPTIMIZER), &self.opt)
        })
    }

    fn lr_at(&self, step: usize) -> f64 {
        let c = &self.cfg;
        lr_at(c.lr, step, c.steps, c.warmup_steps, c.lr_decay)
    }

    /// Runs one optimisation step (step index = steps done so far); returns its loss, the
    /// mean over the global batch.
    pub fn train_step(&mut self) -> Result<f64, TrainError> {
        let step = self.state.step as u64;
        let cfg = &self.cfg;
        let comm = ranks_of(self.compute);
        let frames = self.model.space.file.video.frames;
        // Every rank draws the whole global batch from (seed, step) and keeps its slice, so
        // the result does not depend on the number of ranks.
        let draws = draw_step(cfg, step, self.data.len(), frames);
        let per_rank = cfg.batch_size / comm.world_size();
        let mine = comm.rank() * per_rank..(comm.rank() + 1) * per_rank;
        let clips = clips_at(self.data, &draws.clip_indices[mine.clone()]);
        let batch = stack_clips(&clips, self.model, self.vocab)?;
        let kind = self.opt.param_kind();
        let x0 = match self.objective {
            // Image pretraining sees one random frame of each clip: [B, C, 1, H, W].
            Objective::Image => {
                let picked: Vec<Tensor> = draws.frames[mine.clone()]
                    .iter()
                    .enumerate()
                    .map(|(b, &f)| batch.x0.get(b as i64).narrow(1, f as i64, 1))
                    .collect();
                Tensor::stack(&picked, 0)
            }
            _ => batch.x0,
        }
        .to_kind(kind);
        let noise = step_noise(
            &cfg.schedule,
            cfg.seed,
            step,
            cfg.batch_size,
            &x0,
            mine.start,
        )
        .to_kind(kind);
        let step_timesteps = &draws.timesteps[mine.clone()];
        let (xt, target) = cfg.schedule.noisy_and_target(&x0, &noise, step_timesteps);
        let timesteps = Tensor::from_slice(step_timesteps).to_device(x0.device());
        let paths = self.paths.at(step);
        self.opt.zero_grad();
        // In-place distillation: the first path (the largest) is the teacher of the others.
        let distill = self.objective.sampling() == Some(PathSampling::Inplace);
        let forward = || {
            let context = self
                .model
                .text
                .encode_with_dropout(&batch.tokens, &draws.drop_caption[mine.clone()]);
            let predictions = paths
                .iter()
                .map(|arch| self.model.denoise(&xt, &timesteps, &context, arch));
            paths_loss(predictions, &target, distill, kind)
        };
        let loss = match self.compute {
            Some(c) => c.autocast(forward),
            None => forward(),
        };
        let mut total = [loss.double_value(&[])];
        let ranks = comm.world_size();
        comm.sum_f64(&mut total, &format!("the loss of step {}", step + 1))
            .map_err(|e| TrainError::Config(e.to_string()))?;
        let total = total[0] / ranks as f64;
        if !total.is_finite() {
            return Err(TrainError::NonFinite {
                step: self.state.step,
                loss: total,
                last_good: checkpoint::read_state::<TrainState>(&self.dir)?
                    .map_or(0, |(_, s)| s.step),
                dir: checkpoint::checkpoint_dir(&self.dir),
            });
        }
        loss.backward();
        if ranks > 1 {
            // Averaged before clipping, so every rank clips and steps alike.
            comm.average_tensors(
                &self.opt.grads(),
                &format!("the gradients of step {}", step + 1),
            )
            .map_err(|e| TrainError::Config(e.to_string()))?;
        }
        self.opt.clip_grad_norm(self.cfg.grad_clip);
        let lr = self.lr_at(self.state.step);
        self.opt.step(lr);
        self.state.step += 1;
        self.state.losses.push(total);
        Ok(total)
    }

    /// Trains until `cfg.steps`, checkpointing every `checkpoint_every` steps and at the end.
    pub fn run(&mut self, show_progress: bool) -> Result<(), TrainError> {
        let total = self.cfg.steps as u64;
        let bar = vidnas_io::progress_bar(
            show_progress && self.comm().is_lead(),
            total,
            "{prefix} [{bar:30}] {pos}/{len} steps {per_sec} eta {eta} {msg}",
        );
        bar.set_prefix(self.state.objective.describe());
        bar.set_position(self.state.step as u64);
        while self.state.step < self.cfg.steps {
            let loss = self.train_step()?;
            let n = self.state.losses.len();
            let recent = &self.state.losses[n.saturating_sub(20)..];
            bar.set_message(format!(
                "loss {:.4} (avg20 {:.4})",
                loss,
                recent.iter().sum::<f64>() / recent.len() as f64
            ));
            bar.inc(1);
            if checkpoint::is_due(self.state.step, self.cfg.checkpoint_every, self.cfg.steps) {
                self.save()?;
            }
        }
        bar.finish();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_place_distillation_compares_later_paths_with_the_first_detached() {
        let target = Tensor::from_slice(&[0.0f32, 0.0]);
        let teacher = Tensor::from_slice(&[1.0f32, 3.0]).set_requires_grad(true);
        let student = Tensor::from_slice(&[2.0f32, 2.0]).set_requires_grad(true);
        let predictions = || [teacher.shallow_clone(), student.shallow_clone()].into_iter();
        // Plain: ((1 + 9) / 2 + (4 + 4) / 2) / 2 = 4.5.
        let plain = paths_loss(predictions(), &target, false, tch::Kind::Float);
        assert_eq!(plain.double_value(&[]), 4.5);
        // Distilled: ((1 + 9) / 2 + ((2-1)^2 + (2-3)^2) / 2) / 2 = 3.
        let distilled = paths_loss(predictions(), &target, true, tch::Kind::Float);
        assert_eq!(distilled.double_value(&[]), 3.0);
        distilled.backward();
        // The teacher's gradient comes from the data term alone: d/dp (p^2 / 2) / 2 = p / 2.
        assert_eq!(Vec::<f32>::try_from(teacher.grad()).unwrap(), [0.5, 1.5]);
        // The student's: d/ds ((s - p)^2 / 2) / 2 = (s - p) / 2.
        assert_eq!(Vec::<f32>::try_from(student.grad()).unwrap(), [0.5, -0.5]);
    }
}
