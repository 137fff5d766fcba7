//! `vidnas finetune`: trains an exported architecture stand-alone from its extracted weights
//! into the multi-step teacher, with the supernet crate's trainer
//! (`Objective::Standalone`: its temporal layers train, the spatial ones stay frozen as in the
//! supernet stage), so checkpoints, resume, the NaN guard and the progress bar are shared.
//! Writes `run.json`-like `finetune.json`, `checkpoint/` and `model.safetensors` (the same keys
//! as the exported weights).

use crate::error::FewStepError;
use crate::run::prepare_run;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use vidnas_export::load_exported_with;
use vidnas_supernet::stages::sha256_16;
use vidnas_supernet::stages::{datasets, DataConfig};
use vidnas_supernet::{Objective, TrainConfig, Trainer};

pub const FINETUNE_FORMAT: &str = "vidnas-finetune/1";

/// `finetune.json`: what a fine-tuning run trains, from what.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinetuneInfo {
    pub format: String,
    /// The exported config (architecture, space, schedule, text encoder).
    pub config: PathBuf,
    pub config_sha256: String,
    /// The weights training started from, and their SHA-256 (first 16 hex digits).
    pub init_weights: PathBuf,
    pub init_sha256: String,
    pub arch: String,
    pub data: DataConfig,
    pub train: TrainConfig,
}

pub struct FinetuneRequest<'a> {
    pub config: &'a Path,
    /// Start from these weights instead of the config's.
    pub weights: Option<&'a Path>,
    pub out: &'a Path,
    pub data: DataConfig,
    /// Optimiser settings; the noise schedule is the config's.
    pub train: TrainConfig,
    pub resume: bool,
    pub progress: bool,
}

/// Fine-tunes the exported architecture; returns the run's info (weights in
/// `out/model.safetensors`).
pub fn finetune(req: FinetuneRequest) -> Result<FinetuneInfo, FewStepError> {
    let (config, space, arch, mut model) = load_exported_with(req.config, req.weights)?;
    let init = match req.weights {
        Some(w) => w.to_path_buf(),
        None => req
            .config
            .parent()
            .unwrap_or(Path::new("."))
            .join(&config.weights),
    };
    let train = TrainConfig {
        schedule: config.schedule.clone(),
        ..req.train
    };
    let info = FinetuneInfo {
        format: FINETUNE_FORMAT.into(),
        config: req.config.to_path_buf(),
        config_sha256: sha256_16(req.config)?,
        init_sha256: sha256_16(&init)?,
        init_weights: init,
        arch: arch.encode(),
        data: req.data.clone(),
        train: train.clone(),
    };
    prepare_run(
        req.out,
        "finetune.json",
        &info,
        req.resume,
        &["train.steps", "train.checkpoint_every"],
    )?;
    let (train_data, _) = datasets(&space, &req.data)?;
    let mut trainer = Trainer::new(
        &mut model,
        Objective::Standalone(arch),
        train,
        &train_data,
        &config.vocab,
        req.out,
    );
    if req.resume {
        trainer.resume()?;
    }
    trainer.run(req.progress)?;
    model.save_all(&req.out.join("model.safetensors"))?;
    Ok(info)
}
