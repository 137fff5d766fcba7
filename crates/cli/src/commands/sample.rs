//! `vidnas sample`: text → clip with an exported architecture (DDIM + classifier-free guidance).

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use vidnas_data::{write_gif, write_strip_png};
use vidnas_export::load_exported;
use vidnas_supernet::{sample, SampleConfig};

#[derive(Args)]
pub struct SampleArgs {
    /// Exported config (its weights file sits beside it).
    #[arg(long)]
    pub config: PathBuf,
    /// Prompt in the model's vocabulary, e.g. "a red square moving left fast".
    #[arg(long)]
    pub prompt: String,
    #[arg(long, default_value_t = 25)]
    pub steps: usize,
    /// Classifier-free guidance scale (1 = no guidance).
    #[arg(long, default_value_t = 3.0)]
    pub guidance: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Animated GIF to write; a PNG strip of the frames is written beside it.
    #[arg(long)]
    pub out: PathBuf,
    /// Pixel upscaling of the outputs.
    #[arg(long, default_value_t = 4)]
    pub scale: u32,
}

pub fn run(a: SampleArgs) -> Result<()> {
    let (config, _space, arch, model) = load_exported(&a.config)?;
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
        std::fs::create_dir_all(dir)?;
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
