//! `vidnas sample`: text → clip with an exported architecture (DDIM + classifier-free guidance).

use crate::compute_args::ComputeArgs;
use crate::paths::out_file;
use crate::values::*;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use vidnas_data::{write_gif, write_strip_png};
use vidnas_diffusion::{sample, SampleConfig};
use vidnas_export::{load_exported_on, ArchConfig};

#[derive(Args)]
pub struct SampleArgs {
    /// Exported config (its weights file sits beside it), or the config.json of a `vidnas
    /// finetune` or `vidnas distill` run folder: use that one for those models, since a teacher
    /// retrained with --prediction v needs its own schedule.
    #[arg(long)]
    pub config: PathBuf,
    /// Weights to sample with instead of the config's (a `vidnas finetune` teacher or a
    /// `vidnas distill` student: OUT/model.safetensors); the config's file need not exist.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// Prompt in the model's vocabulary, e.g. "a red square moving left fast".
    #[arg(long)]
    pub prompt: String,
    /// DDIM steps (25 for a multi-step model; the student's --student-steps, e.g. 4).
    #[arg(long, default_value_t = 25, value_parser = steps(MAX_SAMPLE_STEPS))]
    pub steps: usize,
    /// Classifier-free guidance scale (1 = no guidance; use 1 for a distilled student, whose
    /// teacher's guidance is built in).
    #[arg(long, default_value_t = 3.0, value_parser = number(0.0, MAX_GUIDANCE))]
    pub guidance: f64,
    /// Seed of the initial noise: same seed, same clip.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Animated GIF to write; a PNG strip of the frames is written beside it.
    #[arg(long, value_parser = out_file)]
    pub out: PathBuf,
    /// Pixel upscaling of the outputs.
    #[arg(long, default_value_t = 4, value_parser = whole_u32(1, MAX_SCALE))]
    pub scale: u32,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

pub fn run(a: SampleArgs) -> Result<()> {
    let compute = a.compute.open()?;
    // The schedule is read first, so a step count it cannot take is refused before the weights.
    let config: ArchConfig = vidnas_io::read_json(&a.config)?;
    check_sampling_steps("--steps", a.steps, config.schedule.train_timesteps)?;
    check_output_fits(&config.space.video, a.scale)?;
    let (config, _space, arch, model) =
        load_exported_on(&a.config, a.weights.as_deref(), compute.device)?;
    let cfg = SampleConfig {
        steps: a.steps,
        guidance: a.guidance,
        seed: a.seed,
    };
    let clip = sample(
        &model,
        &arch,
        &config.vocab,
        &config.schedule,
        &a.prompt,
        &cfg,
    )?;
    if let Some(dir) = a.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::paths::create_out_dir(dir)?;
    }
    write_gif(&a.out, &clip, a.scale, 125)?;
    let strip = a.out.with_extension("png");
    write_strip_png(&strip, &clip, a.scale)?;
    println!(
        "{} and {} ({} frames, {} steps, guidance {})",
        a.out.display(),
        strip.display(),
        clip.frames,
        a.steps,
        a.guidance
    );
    Ok(())
}

/// Refuses a `--scale` whose upscaled frames (RGB, held for the GIF and the PNG strip at once,
/// with the encoders' copies) would not fit in memory, before the model is loaded.
fn check_output_fits(video: &vidnas_space::Video, scale: u32) -> Result<()> {
    let pixels = (video.frames * video.height * video.width) as u64 * u64::from(scale).pow(2);
    let need = pixels.saturating_mul(3 * 3);
    if let Some(available) = vidnas_diffusion::available_bytes()? {
        if need > available {
            anyhow::bail!(
                "--scale {scale}: {} frames of {}x{} upscaled {scale}x need about {} MB for the GIF \
                 and the PNG strip, but {} MB is available; lower --scale",
                video.frames,
                video.height,
                video.width,
                need >> 20,
                available >> 20
            );
        }
    }
    Ok(())
}
