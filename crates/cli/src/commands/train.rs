//! `vidnas pretrain-image` and `vidnas supernet train|score`.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use vidnas_space::Space;
use vidnas_supernet::stages::{self, DataConfig, Scorer};
use vidnas_supernet::{Objective, PathSampling, TrainConfig, ValidationConfig};

/// Optimisation settings shared by every training command.
#[derive(Args, Clone)]
pub struct TrainArgs {
    /// Optimisation steps.
    #[arg(long, default_value_t = 400)]
    pub steps: usize,
    /// Clips per step.
    #[arg(long, default_value_t = 4)]
    pub batch_size: usize,
    /// Peak learning rate (AdamW), reached after --warmup-steps.
    #[arg(long, default_value_t = 1e-3)]
    pub lr: f64,
    #[arg(long, default_value_t = 20)]
    pub warmup_steps: usize,
    /// Clip the global gradient norm to this.
    #[arg(long, default_value_t = 1.0)]
    pub grad_clip: f64,
    /// Save a checkpoint every this many steps (and at the end).
    #[arg(long, default_value_t = 50)]
    pub checkpoint_every: usize,
    /// Seed of every random draw (clips, timesteps, noise, paths): same seed, same run.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Continue the run in --out from its last checkpoint.
    #[arg(long)]
    pub resume: bool,
}

impl TrainArgs {
    pub fn config(&self) -> TrainConfig {
        TrainConfig {
            steps: self.steps,
            batch_size: self.batch_size,
            lr: self.lr,
            warmup_steps: self.warmup_steps,
            grad_clip: self.grad_clip,
            checkpoint_every: self.checkpoint_every,
            seed: self.seed,
            ..TrainConfig::default()
        }
    }
}

/// Stage 1: train the spatial backbone as a text-to-image model on single frames.
#[derive(Args)]
pub struct PretrainImage {
    /// Search-space file (its backbone is the image model).
    pub space: PathBuf,
    /// Run folder to create (checkpoints, run.json, model.safetensors).
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub train: TrainArgs,
    /// Seed of the procedural training clips.
    #[arg(long, default_value_t = 0)]
    pub data_seed: u64,
    /// Number of distinct procedural training clips.
    #[arg(long, default_value_t = 4096)]
    pub train_clips: usize,
    /// Fixed validation clips used for scoring.
    #[arg(long, default_value_t = 16)]
    pub validation_clips: usize,
}

pub fn pretrain_image(args: PretrainImage) -> Result<()> {
    let space = Space::load(&args.space)?;
    let data = DataConfig {
        seed: args.data_seed,
        train_clips: args.train_clips,
        validation_clips: args.validation_clips,
    };
    stages::pretrain_image(
        &space,
        &args.out,
        args.train.config(),
        data,
        args.train.resume,
        true,
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
    Score(SupernetScore),
}

#[derive(Args)]
pub struct SupernetTrain {
    pub space: PathBuf,
    /// The stage-1 run folder (from `vidnas pretrain-image`).
    #[arg(long)]
    pub image: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    /// Path sampling: uniform (SPOS), fair (every op of a slot equally often) or sandwich.
    #[arg(long, default_value = "fair")]
    pub sampling: PathSampling,
    /// Train one architecture stand-alone instead of the supernet (a reference for ranking).
    #[arg(long)]
    pub arch: Option<String>,
    #[command(flatten)]
    pub train: TrainArgs,
    /// Validation clips used for scoring (default: the stage-1 run's).
    #[arg(long)]
    pub validation_clips: Option<usize>,
    /// Timesteps per validation clip used for scoring.
    #[arg(long, default_value_t = 2)]
    pub validation_timesteps: usize,
}

#[derive(Args)]
pub struct SupernetScore {
    /// A supernet (or stand-alone) run folder.
    pub run: PathBuf,
    /// Architectures to score (canonical encoding); repeat the flag for several.
    #[arg(long, required = true)]
    pub arch: Vec<String>,
    /// The space file; defaults to the one recorded in the run.
    #[arg(long)]
    pub space: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

pub fn supernet(cmd: SupernetCommand) -> Result<()> {
    match cmd {
        SupernetCommand::Train(a) => {
            let space = Space::load(&a.space)?;
            let objective = match &a.arch {
                Some(text) => Objective::Standalone(space.parse_arch(text)?),
                None => Objective::Supernet(a.sampling),
            };
            let scoring = a.validation_clips.map(|clips| {
                let validation = ValidationConfig {
                    timesteps_per_clip: a.validation_timesteps,
                    ..Default::default()
                };
                (clips, validation)
            });
            stages::train_temporal(
                &space,
                &a.image,
                &a.out,
                objective,
                a.train.config(),
                scoring,
                a.train.resume,
                true,
            )?;
            eprintln!(
                "trained weights written to {}",
                a.out.join("model.safetensors").display()
            );
            Ok(())
        }
        SupernetCommand::Score(a) => {
            let info = stages::RunInfo::load(&a.run)?;
            let space_path = a.space.clone().unwrap_or(info.space_path.clone());
            let space = Space::load(&space_path)
                .with_context(|| format!("loading the run's space {}", space_path.display()))?;
            let scorer = Scorer::open(&space, &a.run)?;
            let mut rows = Vec::new();
            for text in &a.arch {
                let arch = space.parse_arch(text)?;
                let score = scorer.score(&arch)?;
                rows.push(
                    serde_json::json!({"id": arch.id(), "arch": arch.encode(), "score": score}),
                );
                if !a.json {
                    println!("{}  {:.6}  {}", arch.id(), score, arch.encode());
                }
            }
            if a.json {
                println!("{}", serde_json::to_string_pretty(&rows)?);
            }
            Ok(())
        }
    }
}
