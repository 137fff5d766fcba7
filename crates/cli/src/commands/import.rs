//! `vidnas import-backbone`: a diffusers `UNet2DConditionModel` folder → a search space.

use crate::paths::out_file;
use crate::values::*;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use vidnas_import::{
    check_weights, find_config, import_diffusers_config, write_space, ImportOptions, WeightsFile,
};

#[derive(Args)]
pub struct ImportBackboneArgs {
    /// Model folder (`config.json` + `diffusion_pytorch_model.safetensors`), a pipeline folder
    /// with `unet/`, or the config file itself.
    pub dir: PathBuf,
    /// Search-space file to write.
    #[arg(long, value_parser = out_file)]
    pub out: PathBuf,
    /// Space name (default: the model folder's name).
    #[arg(long)]
    pub name: Option<String>,
    /// Frames per clip.
    #[arg(long, default_value_t = 8, value_parser = whole(1, 4096))]
    pub frames: usize,
    /// VAE down-scaling (default: 8 for 4-channel latents, else 1).
    #[arg(long, value_parser = whole(1, 64))]
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
    // A damaged weights file or one of another model is refused before anything is written.
    let weights = check_weights(&find_config(&a.dir)?, &file.backbone)?;
    let space = write_space(&file, &a.out)?;
    println!(
        "{}: space `{}` (hash {}), {} slots, {} architectures",
        a.out.display(),
        space.name(),
        space.hash(),
        space.num_slots(),
        space.count()
    );
    match weights {
        WeightsFile::Checked { path, tensors } => println!(
            "{} ({tensors} tensors) loads as it is with --init-unet: the UNet's keys are diffusers' state-dict keys",
            path.display()
        ),
        WeightsFile::Missing { expected, note } => {
            eprintln!("note: {}: {note}", expected.display())
        }
    }
    Ok(())
}
