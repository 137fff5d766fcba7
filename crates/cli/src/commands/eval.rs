//! `vidnas eval classifier` (train the prompt-faithfulness classifier), `vidnas eval run`
//! (student vs few-step teacher vs full-step teacher on held-out prompts) and `vidnas eval
//! quality` (one model's samples against real clips: Fréchet distance, faithfulness,
//! temporal consistency).

use crate::compute_args::ComputeArgs;
use crate::paths::out_dir;
use crate::values::*;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::time::Instant;
use vidnas_data::ProceduralConfig;
use vidnas_eval::{
    evaluate, train_classifier, video_quality, ClassifierSettings, EvalRequest, EvalSettings,
    QualityRequest, QualitySettings,
};
use vidnas_export::ArchConfig;
use vidnas_space::Space;

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Train the small 3-D conv classifier (shape, colour, motion heads) on procedural clips of
    /// a space's clip shape; writes classifier.safetensors and classifier.json (held-out
    /// accuracy) into --out.
    Classifier(ClassifierArgs),
    /// Compare the distilled student, the teacher at the student's steps and the teacher at its
    /// full steps on held-out prompts: distance to the full-step clip, temporal consistency,
    /// prompt faithfulness; writes eval.json, eval.csv, eval.md, timing.json and media/.
    Run(RunArgs),
    /// Measure one model's samples against real procedural clips: the Fréchet distance on the
    /// classifier's features (PCA-reduced, with a bootstrap interval and the spread between two
    /// draws of real clips for scale), per-prompt shape/colour/motion accuracy and temporal
    /// consistency; writes quality.json and quality.md. Not comparable with I3D-based FVD.
    Quality(QualityArgs),
}

/// Largest --pca-dims: far above any feature width here (the classifier has 128).
const MAX_PCA_DIMS: usize = 4096;
/// Largest --bootstrap: a million resamples of a few hundred clips already takes hours.
const MAX_BOOTSTRAP: usize = 100_000;

#[derive(Args)]
pub struct ClassifierArgs {
    /// Search space whose clip shape (frames, height, width, channels) the classifier reads.
    #[arg(long, required_unless_present = "config", conflicts_with = "config")]
    pub space: Option<PathBuf>,
    /// Or an exported config (`vidnas export`): the space inside it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output folder (classifier.safetensors + classifier.json).
    #[arg(long, value_parser = out_dir)]
    pub out: PathBuf,
    /// Training steps (each on fresh procedural clips).
    #[arg(long, default_value_t = ClassifierSettings::default().steps, value_parser = steps(MAX_STEPS))]
    pub steps: usize,
    /// Clips per step.
    #[arg(long, default_value_t = ClassifierSettings::default().batch_size, value_parser = whole(1, MAX_BATCH))]
    pub batch_size: usize,
    /// Peak learning rate (AdamW; warm-up, then cosine decay to a tenth).
    #[arg(long, default_value_t = ClassifierSettings::default().lr, value_parser = positive(MAX_LR))]
    pub lr: f64,
    /// Seed of the training clips, initial weights and augmentation: same seed, same
    /// classifier.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Largest standard deviation of the noise added to training clips (robustness to grainy
    /// samples).
    #[arg(long, default_value_t = ClassifierSettings::default().max_noise, value_parser = number(0.0, 10.0))]
    pub max_noise: f64,
    /// Largest blend (0–1) of a training clip with its 3×3 blur (robustness to soft samples).
    #[arg(long, default_value_t = ClassifierSettings::default().max_blur, value_parser = share())]
    pub max_blur: f64,
    /// Held-out procedural validation clips the reported accuracy is measured on.
    #[arg(long, default_value_t = ClassifierSettings::default().validation_clips, value_parser = whole(1, MAX_COUNT))]
    pub validation_clips: usize,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

#[derive(Args)]
pub struct RunArgs {
    /// Config the teacher was trained for: runs/NAME-teacher/config.json from `vidnas finetune`
    /// (its schedule may differ from the export's), or an exported config (`vidnas export`).
    /// The student is sampled with the same schedule.
    #[arg(long)]
    pub config: PathBuf,
    /// Teacher weights (`vidnas finetune --out DIR` → DIR/model.safetensors).
    #[arg(long)]
    pub teacher: PathBuf,
    /// Student weights (`vidnas distill --out DIR` → DIR/model.safetensors).
    #[arg(long)]
    pub student: PathBuf,
    /// Classifier folder (`vidnas eval classifier --out DIR`) for the config's clip shape.
    #[arg(long)]
    pub classifier: PathBuf,
    /// Held-out prompts: the captions of this many procedural validation clips.
    #[arg(long, default_value_t = EvalSettings::default().prompts, value_parser = whole(1, MAX_COUNT))]
    pub prompts: usize,
    /// Output folder.
    #[arg(long, value_parser = out_dir)]
    pub out: PathBuf,
    /// Seed of the per-prompt noise (each prompt's noise is shared by all three systems):
    /// same seed, same results files.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Stream of the procedural validation clips whose captions are the prompts.
    #[arg(long, default_value_t = 0)]
    pub data_seed: u64,
    /// Classifier-free guidance of the teacher at both step counts (1 = none).
    #[arg(long, default_value_t = EvalSettings::default().guidance, value_parser = number(0.0, MAX_GUIDANCE))]
    pub guidance: f64,
    /// Guidance of the student (1: the teacher's guidance is distilled into it).
    #[arg(long, default_value_t = EvalSettings::default().student_guidance, value_parser = number(0.0, MAX_GUIDANCE))]
    pub student_guidance: f64,
    /// Steps of the reference teacher.
    #[arg(long, default_value_t = EvalSettings::default().teacher_steps, value_parser = steps(MAX_SAMPLE_STEPS))]
    pub teacher_steps: usize,
    /// Steps of the student and of the few-step teacher.
    #[arg(long, default_value_t = EvalSettings::default().student_steps, value_parser = steps(MAX_SAMPLE_STEPS))]
    pub student_steps: usize,
    /// Prompts written as GIFs and into media/grid.png.
    #[arg(long, default_value_t = EvalSettings::default().media_prompts, value_parser = whole(0, 1000))]
    pub media_prompts: usize,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

#[derive(Args)]
pub struct QualityArgs {
    /// Exported config (`vidnas export`), or the config.json of a `vidnas finetune` or `vidnas
    /// distill` run folder (its schedule is the one the model was trained with).
    #[arg(long)]
    pub config: PathBuf,
    /// Weights to sample with instead of the file the config names (e.g. `vidnas finetune
    /// --out DIR` → DIR/model.safetensors); the config's file need not exist then.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Classifier folder (`vidnas eval classifier --out DIR`) for the config's clip shape: it
    /// judges the prompts and its hidden layer gives the Fréchet distance's features.
    #[arg(long)]
    pub classifier: PathBuf,
    /// Output folder (quality.json and quality.md, written once every figure is computed).
    #[arg(long, value_parser = out_dir)]
    pub out: PathBuf,
    /// Clips to sample, one per held-out prompt (the captions of procedural validation clips
    /// 0..N); at least --pca-dims + 1.
    #[arg(long, default_value_t = QualitySettings::default().generated, value_parser = whole(2, MAX_COUNT))]
    pub generated: usize,
    /// Real procedural clips the generated ones are compared with (validation clips no
    /// training run or prompt uses); at least --pca-dims + 1.
    #[arg(long, default_value_t = QualitySettings::default().real, value_parser = whole(2, MAX_COUNT))]
    pub real: usize,
    /// DDIM steps per generated clip.
    #[arg(long, default_value_t = QualitySettings::default().steps, value_parser = steps(MAX_SAMPLE_STEPS))]
    pub steps: usize,
    /// Classifier-free guidance (1 = none; 1 for a distilled student, whose teacher's guidance
    /// is built in).
    #[arg(long, default_value_t = QualitySettings::default().guidance, value_parser = number(0.0, MAX_GUIDANCE))]
    pub guidance: f64,
    /// Principal directions of the real clips' features the Fréchet distance is computed in
    /// (the PCA is fitted on the real clips only); fewer need fewer clips.
    #[arg(long, default_value_t = QualitySettings::default().pca_dims, value_parser = whole(1, MAX_PCA_DIMS))]
    pub pca_dims: usize,
    /// Bootstrap resamples (of both sets, with replacement) behind every 95 % interval.
    #[arg(long, default_value_t = QualitySettings::default().bootstrap, value_parser = whole(1, MAX_BOOTSTRAP))]
    pub bootstrap: usize,
    /// Seed of the prompts, the real clips, the sampling noise and the bootstrap: same seed,
    /// same quality.json.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

pub fn run(cmd: EvalCommand) -> Result<()> {
    match cmd {
        EvalCommand::Classifier(a) => classifier_cmd(a),
        EvalCommand::Run(a) => run_cmd(a),
        EvalCommand::Quality(a) => quality_cmd(a),
    }
}

/// `vidnas ARGS…` as typed, for the reports.
fn command_line() -> String {
    std::iter::once("vidnas".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The clip shape and name of the space in `--space` or `--config`.
fn clip_shape(a: &ClassifierArgs) -> Result<(ProceduralConfig, String)> {
    let (space, path) = match (&a.space, &a.config) {
        (Some(p), _) => (Space::load(p)?, p),
        (None, Some(p)) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            let config: ArchConfig = serde_json::from_str(&text).with_context(|| {
                format!("{}: not an exported config (`vidnas export`)", p.display())
            })?;
            (Space::from_file(p, config.space)?, p)
        }
        (None, None) => bail!("give --space SPACE.json or --config configs/NAME.json"),
    };
    let v = &space.file.video;
    if v.vae_scale_factor != 1 {
        bail!(
            "{}: video.vae_scale_factor is {}: the space generates latents, and the classifier reads pixels; use a pixel-space space such as search-spaces/tiny.json",
            path.display(),
            v.vae_scale_factor
        );
    }
    Ok((
        ProceduralConfig {
            frames: v.frames,
            height: v.height,
            width: v.width,
            channels: v.channels,
        },
        space.name().to_string(),
    ))
}

fn classifier_cmd(a: ClassifierArgs) -> Result<()> {
    let compute = a.compute.open()?;
    let (clip, space) = clip_shape(&a)?;
    let settings = ClassifierSettings {
        steps: a.steps,
        batch_size: a.batch_size,
        lr: a.lr,
        seed: a.seed,
        max_noise: a.max_noise,
        max_blur: a.max_blur,
        validation_clips: a.validation_clips,
    };
    let t0 = Instant::now();
    let (_, info) = train_classifier(clip, &space, &settings, &a.out, true, compute.device)?;
    let (h, c) = (&info.held_out, &info.chance);
    println!(
        "classifier for {} clips of space `{space}` ({} steps, {:.0} s) written to {}",
        format_args!("{}×{}×{}", clip.frames, clip.height, clip.width),
        a.steps,
        t0.elapsed().as_secs_f64(),
        a.out.display()
    );
    println!(
        "held-out accuracy on {} procedural validation clips: shape {:.1} % (chance {:.0} %), colour {:.1} % ({:.0} %), motion {:.1} % ({:.1} %), all three {:.1} %",
        h.clips,
        100.0 * h.shape,
        100.0 * c.shape,
        100.0 * h.colour,
        100.0 * c.colour,
        100.0 * h.motion,
        100.0 * c.motion,
        100.0 * h.all
    );
    let d = &info.held_out_degraded;
    println!(
        "the same clips blurred ({}) and noised (std {}): shape {:.1} %, colour {:.1} %, motion {:.1} %, all three {:.1} %",
        a.max_blur,
        a.max_noise,
        100.0 * d.shape,
        100.0 * d.colour,
        100.0 * d.motion,
        100.0 * d.all
    );
    Ok(())
}

fn run_cmd(a: RunArgs) -> Result<()> {
    let compute = a.compute.open()?;
    let command = command_line();
    let settings = EvalSettings {
        prompts: a.prompts,
        seed: a.seed,
        data_seed: a.data_seed,
        teacher_steps: a.teacher_steps,
        student_steps: a.student_steps,
        guidance: a.guidance,
        student_guidance: a.student_guidance,
        media_prompts: a.media_prompts,
    };
    let report = evaluate(&EvalRequest {
        config: &a.config,
        teacher: &a.teacher,
        student: &a.student,
        classifier: &a.classifier,
        out: &a.out,
        settings,
        command,
        progress: true,
        device: compute.device,
    })?;
    println!("{}", vidnas_eval::markdown_table(&report));
    let c = &report.comparison;
    println!(
        "student closer to the reference than the few-step teacher on {} of {} prompts (paired MSE difference {:+.4} ± {:.4})",
        c.student_closer, c.prompts, c.mse_difference.mean, c.mse_difference.se
    );
    println!(
        "written: {}",
        vidnas_eval::output_files(&a.out)
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

fn quality_cmd(a: QualityArgs) -> Result<()> {
    let compute = a.compute.open()?;
    // The schedule is read first, so a step count it cannot take is refused before the weights.
    let config: ArchConfig = vidnas_io::read_json(&a.config)?;
    check_sampling_steps("--steps", a.steps, config.schedule.train_timesteps)?;
    let settings = QualitySettings {
        generated: a.generated,
        real: a.real,
        steps: a.steps,
        guidance: a.guidance,
        pca_dims: a.pca_dims,
        bootstrap: a.bootstrap,
        seed: a.seed,
    };
    let t0 = Instant::now();
    let report = video_quality(&QualityRequest {
        config: &a.config,
        weights: a.weights.as_deref(),
        classifier: &a.classifier,
        out: &a.out,
        settings,
        command: command_line(),
        progress: true,
        device: compute.device,
    })?;
    println!("{}", vidnas_eval::quality_table(&report));
    println!(
        "{} generated and {} real clips in {:.0} s; written: {}",
        a.generated,
        a.real,
        t0.elapsed().as_secs_f64(),
        vidnas_eval::quality_files(&a.out)
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
