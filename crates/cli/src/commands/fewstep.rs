//! `vidnas finetune` (the exported architecture trained stand-alone into the multi-step
//! teacher) and `vidnas distill` (adversarial few-step distillation of that teacher).

use crate::commands::train::{SourceArgs, TrainArgs};
use crate::compute_args::{ComputeArgs, PrecisionArgs};
use crate::paths::out_dir;
use crate::values::*;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use vidnas_diffusion::DataConfig;
use vidnas_diffusion::Prediction;
use vidnas_fewstep::{
    distill, finetune, DistillConfig, DistillRequest, FinetuneRequest, PoolConfig, RealSource,
    RecWeighting,
};

/// Where the training clips come from (procedural unless --data-folder or --latents).
#[derive(Args, Clone)]
pub struct DataArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Seed of the procedural training clips.
    #[arg(long, default_value_t = 0)]
    pub data_seed: u64,
    /// Number of distinct procedural training clips.
    #[arg(long, default_value_t = 4096, value_parser = whole(1, MAX_COUNT))]
    pub train_clips: usize,
    /// Clips held out of loaded data (as stage 1 did; procedural validation clips are separate).
    #[arg(long, default_value_t = 16, value_parser = whole(1, MAX_COUNT))]
    pub validation_clips: usize,
}

impl DataArgs {
    fn config(&self) -> DataConfig {
        DataConfig {
            seed: self.data_seed,
            train_clips: self.train_clips,
            validation_clips: self.validation_clips,
            source: self.source.source().unwrap_or_default(),
        }
    }
}

/// Train an exported architecture stand-alone from its extracted weights (every weight, or
/// with --freeze-spatial only the temporal layers) to get the multi-step teacher. The run
/// folder's config.json and model.safetensors are a complete model for sample, distill and eval.
#[derive(Args)]
pub struct FinetuneArgs {
    /// Exported config (`vidnas export`): architecture, space, schedule and text encoder.
    #[arg(long)]
    pub config: PathBuf,
    /// Start from these weights instead of the file the config names.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Run folder: finetune.json, checkpoint/ and model.safetensors (same keys as the export).
    #[arg(long, value_parser = out_dir)]
    pub out: PathBuf,
    #[command(flatten)]
    pub train: TrainArgs,
    /// Train the temporal layers only and keep the spatial ones as exported (for a strong
    /// pretrained image backbone). By default every weight trains.
    #[arg(long)]
    pub freeze_spatial: bool,
    /// Train another architecture of the config's space (canonical encoding, e.g.
    /// conv1d-none-attn1d-…): spatial layers and text encoder from the starting weights, and
    /// the temporal layers too when that file holds them (a supernet's), else fresh
    /// zero-output layers (an image model's file, e.g. configs/tiny-image.safetensors).
    #[arg(long)]
    pub arch: Option<String>,
    /// Retrain for this prediction target (`epsilon` or `v`) instead of the config's. `v` makes
    /// the teacher usable at few steps: an ε-model's x̂₀ at t = 999 carries its error times
    /// 1/√ᾱ ≈ 15. The run folder's config.json records the schedule used.
    #[arg(long)]
    pub prediction: Option<Prediction>,
    #[command(flatten)]
    pub data: DataArgs,
}

pub fn finetune_cmd(a: FinetuneArgs) -> Result<()> {
    let compute = a.train.open_compute()?;
    let info = finetune(FinetuneRequest {
        config: &a.config,
        weights: a.weights.as_deref(),
        out: &a.out,
        data: a.data.config(),
        train: a.train.config(),
        freeze_spatial: a.freeze_spatial,
        arch: a.arch.as_deref(),
        prediction: a.prediction,
        frame_noise_share: a.train.frame_noise_share,
        zero_terminal_snr: a.train.zero_terminal_snr,
        resume: a.train.resume,
        progress: compute.is_lead(),
        compute: Some(&compute),
    })?;
    if !compute.is_lead() {
        return Ok(());
    }
    let config = a.out.join("config.json");
    eprintln!(
        "teacher ({} steps, {}, {}-prediction) written to {}\nsample it: vidnas sample --config {} --steps 25 --prompt \"…\" --out clip.gif",
        info.train.steps,
        info.arch,
        info.train.schedule.prediction,
        a.out.join("model.safetensors").display(),
        config.display(),
    );
    Ok(())
}

/// Distil a multi-step teacher into a few-step student: adversarial training against a
/// discriminator built on the teacher's frozen encoder (hinge loss) plus a pseudo-Huber
/// reconstruction loss toward the teacher's multi-step results, computed once into a pool.
#[derive(Args)]
pub struct DistillArgs {
    /// Config of the teacher: runs/NAME-teacher/config.json from `vidnas finetune` (or an
    /// exported config, `vidnas export`).
    #[arg(long)]
    pub config: PathBuf,
    /// The teacher's weights (the student starts from them too); default: the config's.
    #[arg(long)]
    pub teacher: Option<PathBuf>,
    /// Run folder: distill.json, teacher-pool.safetensors, checkpoint/, model.safetensors and
    /// config.json (the student, same keys as the export), eval.json and eval.png.
    #[arg(long, value_parser = out_dir)]
    pub out: PathBuf,
    /// Sampling steps the student is trained for.
    #[arg(long, default_value_t = 4, value_parser = steps(MAX_SAMPLE_STEPS))]
    pub student_steps: usize,
    /// Distillation steps (each: one student and one discriminator update).
    #[arg(long, default_value_t = 150, value_parser = steps(MAX_STEPS))]
    pub steps: usize,
    /// Teacher-pool entries (and real clips) per step.
    #[arg(long, default_value_t = 4, value_parser = whole(1, MAX_BATCH))]
    pub batch_size: usize,
    /// Learning rate of the student (its whole UNet; the text encoder stays frozen).
    #[arg(long, default_value_t = 1e-4, value_parser = positive(MAX_LR))]
    pub lr_g: f64,
    /// Learning rate of the discriminator heads.
    #[arg(long, default_value_t = 2e-4, value_parser = positive(MAX_LR))]
    pub lr_d: f64,
    /// Linear warm-up steps of both learning rates.
    #[arg(long, default_value_t = 10, value_parser = whole(0, MAX_STEPS))]
    pub warmup_steps: usize,
    /// Weight of the adversarial generator loss against the reconstruction loss (0 turns the
    /// run into plain regression onto the teacher's results; no discriminator trains).
    #[arg(long, default_value_t = 0.01, value_parser = number(0.0, 1e6))]
    pub adv_weight: f64,
    /// c of the pseudo-Huber distance √(‖x−y‖² + c²) − c (default 0.00054·√(values per clip)).
    #[arg(long, value_parser = positive(1e6))]
    pub huber_c: Option<f64>,
    /// Weight of the reconstruction loss per student timestep: `alpha-bar` (ADD's c(t) = ᾱ_t,
    /// so the noisiest step, whose x̂₀ the later steps correct, does not dominate) or `uniform`.
    #[arg(long, default_value = "alpha-bar")]
    pub rec_weighting: RecWeighting,
    /// Share of the samples that start from the student's own sampling path instead of the
    /// teacher's ("backward distillation"): the student learns to correct its own earlier
    /// steps, as it must when sampling. 0 = always the teacher's path.
    #[arg(long, default_value_t = 1.0, value_parser = share())]
    pub backward_share: f64,
    /// Discriminator inputs are re-noised to a timestep drawn uniformly below this.
    #[arg(long, default_value_t = 500, value_parser = whole(1, 100_000))]
    pub disc_max_timestep: usize,
    /// What the discriminator sees as real: training clips (`data`, ADD) or teacher results
    /// (`teacher`, LADD).
    #[arg(long, default_value = "teacher")]
    pub real: RealSource,
    /// Clip each network's global gradient norm to this.
    #[arg(long, default_value_t = 1.0, value_parser = positive(1e6))]
    pub grad_clip: f64,
    /// Save a checkpoint every this many steps (and at the end).
    #[arg(long, default_value_t = 50, value_parser = whole(1, MAX_STEPS))]
    pub checkpoint_every: usize,
    /// Seed of every random draw (pool entries, timesteps, noise, clips) and of the
    /// discriminator's initial weights: same seed, same run.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Teacher-pool entries the student trains on (computed once, with the teacher's
    /// multi-step sampler, into the run folder).
    #[arg(long, default_value_t = 24, value_parser = whole(1, MAX_COUNT))]
    pub pool_size: usize,
    /// Further pool entries held out for the evaluation at the end.
    #[arg(long, default_value_t = 4, value_parser = whole(1, MAX_COUNT))]
    pub eval_entries: usize,
    /// Teacher DDIM steps per pool entry.
    #[arg(long, default_value_t = 25, value_parser = steps(MAX_SAMPLE_STEPS))]
    pub teacher_steps: usize,
    /// Classifier-free guidance of the teacher (distilled into the student, which samples
    /// with --guidance 1).
    #[arg(long, default_value_t = 3.0, value_parser = number(0.0, MAX_GUIDANCE))]
    pub teacher_guidance: f64,
    /// Continue the run in --out from its last checkpoint (and finish its pool).
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub compute: ComputeArgs,
    #[command(flatten)]
    pub precision: PrecisionArgs,
}

pub fn distill_cmd(a: DistillArgs) -> Result<()> {
    let compute = a.compute.open_with(a.precision.precision)?;
    vidnas_fewstep::check_single_process(&compute)?;
    let (_, eval) = distill(DistillRequest {
        config: &a.config,
        teacher: a.teacher.as_deref(),
        out: &a.out,
        data: a.data.config(),
        pool: PoolConfig {
            train_entries: a.pool_size,
            eval_entries: a.eval_entries,
            teacher_steps: a.teacher_steps,
            guidance: a.teacher_guidance,
            seed: a.seed,
        },
        distill: DistillConfig {
            steps: a.steps,
            batch_size: a.batch_size,
            student_steps: a.student_steps,
            lr_g: a.lr_g,
            lr_d: a.lr_d,
            warmup_steps: a.warmup_steps,
            adv_weight: a.adv_weight,
            huber_c: a.huber_c,
            rec_weighting: a.rec_weighting,
            backward_share: a.backward_share,
            disc_max_timestep: a.disc_max_timestep,
            real: a.real,
            grad_clip: a.grad_clip,
            checkpoint_every: a.checkpoint_every,
            seed: a.seed,
        },
        resume: a.resume,
        progress: true,
        compute: Some(&compute),
    })?;
    let weights = a.out.join("model.safetensors");
    eprintln!(
        "student written to {}\nheld-out MSE to the teacher's {}-step result: student {} steps {:.5} (teacher {} steps {:.5}); {:.3} s vs {:.3} s per clip; {}",
        weights.display(),
        eval.teacher_steps,
        eval.student_steps,
        eval.mse_student,
        eval.student_steps,
        eval.mse_teacher_fewstep,
        eval.seconds_student,
        eval.seconds_teacher_fewstep,
        a.out.join("eval.png").display()
    );
    eprintln!(
        "sample it: vidnas sample --config {} --steps {} --guidance 1 --prompt \"…\" --out clip.gif",
        a.out.join("config.json").display(),
        a.student_steps
    );
    Ok(())
}
