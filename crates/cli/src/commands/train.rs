//! `vidnas pretrain-image`, `vidnas train` and `vidnas supernet train` (`supernet score` is in
//! score.rs).

use crate::compute_args::{ComputeArgs, PrecisionArgs};
use crate::paths::out_dir;
use crate::values::*;
use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use vidnas_diffusion::{DataConfig, DataSource, ScoreMetric};
use vidnas_diffusion::{LrDecay, Objective, PathSampling, TrainConfig, ValidationConfig};
use vidnas_space::Space;
use vidnas_supernet::stages::{self, ImageStage, TemporalStage};

/// Optimisation settings shared by every training command.
#[derive(Args, Clone)]
pub struct TrainArgs {
    /// Optimisation steps (0: only write the starting weights, e.g. an imported UNet's, or
    /// score inherited weights as they are).
    #[arg(long, default_value_t = 400, value_parser = whole(0, MAX_STEPS))]
    pub steps: usize,
    /// Clips per step.
    #[arg(long, default_value_t = 4, value_parser = whole(1, MAX_BATCH))]
    pub batch_size: usize,
    /// Peak learning rate (AdamW), reached after --warmup-steps.
    #[arg(long, default_value_t = 1e-3, value_parser = positive(MAX_LR))]
    pub lr: f64,
    #[arg(long, default_value_t = 20, value_parser = whole(0, MAX_STEPS))]
    pub warmup_steps: usize,
    /// After warm-up: `constant`, or `cosine` decay to a tenth of --lr at the last step (a
    /// cosine run resumed with another --steps follows the new schedule from there).
    #[arg(long, default_value_t = LrDecay::Constant)]
    pub lr_decay: LrDecay,
    /// Clip the global gradient norm to this.
    #[arg(long, default_value_t = 1.0, value_parser = positive(1e6))]
    pub grad_clip: f64,
    /// Save a checkpoint every this many steps (and at the end).
    #[arg(long, default_value_t = 50, value_parser = whole(1, MAX_STEPS))]
    pub checkpoint_every: usize,
    /// Timestep sampling: 1 draws timesteps uniformly; above 1 favours the noisiest ones,
    /// where a clip's layout and motion are decided (2: density rising linearly to t = T).
    #[arg(long, default_value_t = 1.0, value_parser = number(1.0, vidnas_diffusion::MAX_NOISE_BIAS))]
    pub noise_bias: f64,
    /// When only the temporal layers train (supernet, `train`, `finetune --freeze-spatial`),
    /// also train the text encoder and the spatial cross-attention: the path from the prompt's
    /// motion words to the temporal layers, which image pretraining cannot teach. Every weight
    /// trains anyway in `pretrain-image` and a full `finetune`.
    #[arg(long)]
    pub text_path: bool,
    /// Share of the noise's variance common to all frames of a clip (0: independent frames;
    /// PYoCo's mixed noise prior, 0.5–0.9): frames start alike and the temporal layers learn
    /// what differs. Recorded in the schedule, so sampling draws its noise the same way.
    #[arg(long, value_parser = number(0.0, 0.99))]
    pub frame_noise_share: Option<f64>,
    /// Rescale the noise schedule so its noisiest timestep is pure noise (Lin et al. 2024), as
    /// sampling starts: Stable Diffusion's leaves a trace of every frame's layout there, so the
    /// model never learns to decide the layout (and its motion) jointly across frames.
    /// Recorded in the schedule; needs v-prediction.
    #[arg(long)]
    pub zero_terminal_snr: bool,
    /// Seed of every random draw (clips, timesteps, noise, paths): same seed, same run.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Continue the run in --out from its last checkpoint (on any device; with as many ranks
    /// or fewer or more: the global batch is the same).
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub compute: ComputeArgs,
    #[command(flatten)]
    pub precision: PrecisionArgs,
}

impl TrainArgs {
    /// The device, threads, precision and ranks, checked before any output is written.
    pub fn open_compute(&self) -> Result<vidnas_diffusion::Compute> {
        self.compute.open_with(self.precision.precision)
    }

    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            steps: self.steps,
            batch_size: self.batch_size,
            lr: self.lr,
            warmup_steps: self.warmup_steps,
            lr_decay: self.lr_decay,
            grad_clip: self.grad_clip,
            checkpoint_every: self.checkpoint_every,
            seed: self.seed,
            noise_bias: self.noise_bias,
            text_path: self.text_path,
            schedule: vidnas_diffusion::NoiseSchedule {
                frame_noise_share: self.frame_noise_share.unwrap_or(0.0),
                zero_terminal_snr: self.zero_terminal_snr,
                ..Default::default()
            },
            ..TrainConfig::default()
        }
    }
}

/// Where training clips come from: procedural clips unless one of these is given.
#[derive(Args, Clone, Default)]
pub struct SourceArgs {
    /// Train on real footage: one sub-folder per clip holding its frames (PNG/JPEG, sorted by
    /// name) and a caption.txt; the text encoder's vocabulary is built from the captions.
    #[arg(long, conflicts_with = "latents")]
    pub data_folder: Option<PathBuf>,
    /// Train on pre-encoded latents for a latent-space backbone: a safetensors file with
    /// `latents` [N, C, T, H, W] (float32, VAE-scaled) and a `captions` metadata JSON list.
    #[arg(long)]
    pub latents: Option<PathBuf>,
}

impl SourceArgs {
    /// The chosen source, or `None` for "keep the default".
    pub fn source(&self) -> Option<DataSource> {
        match (&self.data_folder, &self.latents) {
            (Some(path), _) => Some(DataSource::Folder { path: path.clone() }),
            (_, Some(path)) => Some(DataSource::Latents { path: path.clone() }),
            _ => None,
        }
    }
}

/// Stage-1 conditioning and initialisation from a real pretrained model.
#[derive(Args, Clone, Default)]
pub struct BackboneArgs {
    /// Condition on prompt embeddings computed elsewhere (CLIP/T5) instead of training a text
    /// encoder: safetensors with `embeddings` [prompts, tokens, dim] and a `prompts` metadata
    /// JSON list; every training caption must be one of the prompts.
    #[arg(long)]
    pub text_embeddings: Option<PathBuf>,
    /// Start the spatial UNet from diffusers weights (`diffusion_pytorch_model.safetensors`,
    /// or the folder holding it), e.g. the backbone `vidnas import-backbone` read. With
    /// `--steps 0` the weights are used as they are.
    #[arg(long)]
    pub init_unet: Option<PathBuf>,
}

impl BackboneArgs {
    /// `--init-unet` as a weights file (a folder means its diffusers safetensors).
    pub fn init_file(&self) -> Option<PathBuf> {
        self.init_unet.as_ref().map(|p| {
            if p.is_dir() {
                p.join("diffusion_pytorch_model.safetensors")
            } else {
                p.clone()
            }
        })
    }
}

/// Stage 1: train the spatial backbone as a text-to-image model on single frames.
#[derive(Args)]
pub struct PretrainImage {
    /// Search-space file (its backbone is the image model).
    pub space: PathBuf,
    /// Run folder to create (checkpoints, run.json, model.safetensors).
    #[arg(long, value_parser = out_dir)]
    pub out: PathBuf,
    #[command(flatten)]
    pub train: TrainArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub backbone: BackboneArgs,
    /// Seed of the procedural training clips.
    #[arg(long, default_value_t = 0)]
    pub data_seed: u64,
    /// Number of distinct procedural training clips.
    #[arg(long, default_value_t = 4096, value_parser = whole(1, MAX_COUNT))]
    pub train_clips: usize,
    /// Fixed validation clips used for scoring (taken out of loaded data).
    #[arg(long, default_value_t = 16, value_parser = whole(1, MAX_COUNT))]
    pub validation_clips: usize,
}

pub fn pretrain_image(args: PretrainImage) -> Result<()> {
    let space = Space::load(&args.space)?;
    let compute = args.train.open_compute()?;
    let stage = ImageStage {
        data: DataConfig {
            seed: args.data_seed,
            train_clips: args.train_clips,
            validation_clips: args.validation_clips,
            source: args.source.source().unwrap_or_default(),
        },
        text_embeddings: args.backbone.text_embeddings.clone(),
        init_unet: args.backbone.init_file(),
    };
    stages::pretrain_image(
        &space,
        &args.out,
        args.train.config(),
        stage,
        args.train.resume,
        true,
        &compute,
    )?;
    eprintln!(
        "image model written to {}",
        args.out.join("model.safetensors").display()
    );
    Ok(())
}

#[derive(Subcommand)]
pub enum SupernetCommand {
    /// Inflate the stage-1 image model and train the weight-sharing temporal supernet.
    Train(SupernetTrain),
    /// Score architectures: validation denoising loss on fixed clips, timesteps and noise.
    Score(super::score::SupernetScore),
    /// Split a trained supernet into few-shot sub-supernets (Few-shot NAS): one per op
    /// combination at the --split-slots slots where the supernet's score varies most between
    /// ops; each starts from its weights and trains on its own region. The folder it writes
    /// (holding split.json) scores like a supernet in search, score, export and bench ranking.
    Split(SupernetSplit),
}

#[derive(Args)]
pub struct SupernetSplit {
    pub space: PathBuf,
    /// The trained one-shot supernet run to split.
    #[arg(long)]
    pub supernet: PathBuf,
    /// Folder to write split.json and one run folder per part into.
    #[arg(long, value_parser = out_dir)]
    pub out: PathBuf,
    /// How many slots to split at (parts: the product of their op counts).
    #[arg(long, default_value_t = 1, value_parser = whole(1, 64))]
    pub split_slots: usize,
    /// Training steps of each part (the rest of the supernet's settings are kept).
    #[arg(long, default_value_t = 100, value_parser = steps(MAX_STEPS))]
    pub steps_per_part: usize,
    /// Random architectures on which the score's spread across each slot's ops is measured.
    #[arg(long, default_value_t = 8, value_parser = whole(1, MAX_COUNT))]
    pub probes: usize,
    /// Seed of the probe architectures.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Continue an interrupted split in --out (finished parts are kept).
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub compute: crate::compute_args::ComputeArgs,
}

fn split(a: SupernetSplit) -> Result<()> {
    let space = Space::load(&a.space)?;
    let compute = a.compute.open_with(vidnas_diffusion::Precision::F32)?;
    let manifest = vidnas_supernet::split_supernet(&vidnas_supernet::SplitRequest {
        space: &space,
        base: &a.supernet,
        out: &a.out,
        split_slots: a.split_slots,
        steps_per_part: a.steps_per_part,
        probes: a.probes,
        seed: a.seed,
        resume: a.resume,
        progress: true,
        compute: &compute,
    })?;
    let slots: Vec<String> = manifest
        .slots
        .iter()
        .map(|s| format!("{} (`{}`, spread {:.5})", s.index, s.name, s.spread))
        .collect();
    eprintln!(
        "split at slot(s) {} into {} parts of {} steps; score with --supernet {}",
        slots.join(", "),
        manifest.parts.len(),
        manifest.steps_per_part,
        a.out.display()
    );
    Ok(())
}

/// What every stage-2 run (supernet or stand-alone) takes.
#[derive(Args)]
pub struct TemporalArgs {
    pub space: PathBuf,
    /// The stage-1 run folder (from `vidnas pretrain-image`).
    #[arg(long)]
    pub image: PathBuf,
    #[arg(long, value_parser = out_dir)]
    pub out: PathBuf,
    #[command(flatten)]
    pub train: TrainArgs,
    /// Train on other clips than stage 1 did (default: stage 1's data).
    #[command(flatten)]
    pub source: SourceArgs,
    /// Validation clips used for scoring (default: the stage-1 run's).
    #[arg(long, value_parser = whole(1, MAX_COUNT))]
    pub validation_clips: Option<usize>,
    /// Timesteps per validation clip used for scoring.
    #[arg(long, default_value_t = 2, value_parser = whole(1, 1000))]
    pub validation_timesteps: usize,
    /// Start the temporal layers (and the text path) from this supernet run's weights instead
    /// of zero-output layers (it must be trained on the same --image); with `vidnas train
    /// --steps 20` this re-ranks a candidate. Or from a weights file: a shipped video supernet
    /// such as configs/tiny-video.safetensors (made from the shipped image model by
    /// scripts/pretrain-video.sh), which every op of every slot starts from.
    #[arg(long)]
    pub init: Option<PathBuf>,
    /// What scores average: `loss` (the denoising loss) or `motion` (the error of the
    /// prediction's frame-to-frame change, the part motion decides). Recorded in run.json, so
    /// search, score and re-ranking use it. Default: the loss.
    #[arg(long)]
    pub score_metric: Option<ScoreMetric>,
}

impl TemporalArgs {
    fn run(&self, objective: Objective) -> Result<()> {
        let space = Space::load(&self.space)?;
        let compute = self.train.open_compute()?;
        let scoring = self.validation_clips.map(|clips| {
            let validation = ValidationConfig {
                timesteps_per_clip: self.validation_timesteps,
                ..Default::default()
            };
            (clips, validation)
        });
        let stage = TemporalStage {
            scoring,
            source: self.source.source(),
            init_from: self.init.clone(),
            metric: self.score_metric,
        };
        stages::train_temporal(
            &space,
            &self.image,
            &self.out,
            objective,
            self.train.config(),
            stage,
            self.train.resume,
            true,
            &compute,
        )?;
        eprintln!(
            "trained weights written to {}",
            self.out.join("model.safetensors").display()
        );
        Ok(())
    }
}

#[derive(Args)]
pub struct SupernetTrain {
    #[command(flatten)]
    pub common: TemporalArgs,
    /// Path sampling: uniform (SPOS), fair (every op of a slot equally often), sandwich (a
    /// uniform path plus the largest and the smallest) or inplace (sandwich whose uniform and
    /// smallest paths learn the largest path's prediction: in-place distillation).
    #[arg(long, default_value = "fair")]
    pub sampling: PathSampling,
}

/// Stand-alone training of one architecture from the stage-1 weights (the reference the
/// supernet's ranking is judged against).
#[derive(Args)]
pub struct StandaloneTrain {
    #[command(flatten)]
    pub common: TemporalArgs,
    /// The architecture (canonical encoding, e.g. conv1d-none-attn1d-…).
    #[arg(long)]
    pub arch: String,
}

pub fn standalone(a: StandaloneTrain) -> Result<()> {
    let space = Space::load(&a.common.space)?;
    let arch = space.parse_arch(&a.arch)?;
    a.common.run(Objective::Standalone(arch))
}

pub fn supernet(cmd: SupernetCommand) -> Result<()> {
    match cmd {
        SupernetCommand::Train(a) => a.common.run(Objective::Supernet(a.sampling)),
        SupernetCommand::Score(a) => super::score::supernet_score(a),
        SupernetCommand::Split(a) => split(a),
    }
}
