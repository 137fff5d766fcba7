//! `vidnas import-backbone`: a diffusers `UNet2DConditionModel` folder → a search space.

use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use vidnas_import::{import_diffusers_config, write_space, ImportOptions};

#[derive(Args)]
pub struct ImportBackboneArgs {
    /// Model folder (`config.json` + `diffusion_pytorch_model.safetensors`), a pipeline folder
    /// with `unet/`, or the config file itself.
    pub dir: PathBuf,
    /// Search-space file to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Space name (default: the model folder's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Frames per clip.
    #[arg(long, default_value_t = 8)]
    pub frames: usize,
    /// VAE down-scaling (default: 8 for 4-channel latents, else 1).
    #[arg(long)]
    pub vae_scale_factor: Option<usize>,
}

pub fn run(a: ImportBackboneArgs) -> Result<()> {
    let opts = ImportOptions {
        name: a.name,
        frames: a.frames,
        vae_scale_factor: a.vae_scale_factor,
        temporal: None,
    };
    let file = import_diffusers_config(&a.dir, &opts)?;
    let space = write_space(&file, &a.out)?;
    println!(
        "{}: space `{}` (hash {}), {} slots, {} architectures",
        a.out.display(),
        space.name(),
        space.hash(),
        space.num_slots(),
        space.count()
    );
    println!("its weights load as they are: the UNet's keys are diffusers' state-dict keys");
    Ok(())
}
