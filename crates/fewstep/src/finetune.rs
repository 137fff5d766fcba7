//! `vidnas finetune`: trains an exported architecture stand-alone from its extracted weights
//! into the multi-step teacher, with the supernet crate's trainer, so checkpoints, resume, the
//! NaN guard and the progress bar are shared. Every weight trains (`Objective::Full`): the
//! searched architecture's spatial layers were only pretrained on single frames, and the
//! teacher decides what the student can learn. `freeze_spatial` keeps them as they are
//! (`Objective::Standalone`, as in the supernet stage), for a strong pretrained backbone.
//!
//! The run folder is a complete model: `config.json` is the exported config with the schedule
//! the teacher was trained for (the prediction target may change, see
//! [`FinetuneRequest::prediction`]) and `weights` pointing at `model.safetensors`.
//! Writes `run.json`-like `finetune.json`, `checkpoint/` and `model.safetensors` (the same keys
//! as the exported weights).

use crate::error::FewStepError;
use crate::run::{check_run, write_run_info};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use vidnas_diffusion::run_folder::clean_failed_start_if;
use vidnas_diffusion::{datasets, DataConfig};
use vidnas_diffusion::{seed_libtorch, Objective, PathPlan, Prediction, TrainConfig, Trainer};
use vidnas_diffusion::{Compute, ComputeRecord};
use vidnas_export::{load_exported_as, load_exported_on, weights_path, ArchConfig};
use vidnas_io::{sha256_16, write_json};

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
    /// Only the temporal layers trained.
    pub freeze_spatial: bool,
    /// Trained another architecture of the config's space than the config's (`--arch`); the
    /// temporal layers started fresh when the starting weights held none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch_override: Option<ArchOverride>,
    /// Where the last invocation ran (device, threads, precision, ranks); never compared on
    /// resume, so a run continues on another device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<ComputeRecord>,
}

/// What `--arch` changed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ArchOverride {
    /// The config's own architecture.
    pub config_arch: String,
    /// Whether the temporal layers were loaded (false: fresh zero-output layers).
    pub temporal_loaded: bool,
}

pub struct FinetuneRequest<'a> {
    pub config: &'a Path,
    /// Start from these weights instead of the config's.
    pub weights: Option<&'a Path>,
    pub out: &'a Path,
    pub data: DataConfig,
    /// Optimiser settings; the noise schedule is the config's.
    pub train: TrainConfig,
    /// Train the temporal layers only.
    pub freeze_spatial: bool,
    /// Train this architecture of the config's space instead of the config's own.
    pub arch: Option<&'a str>,
    /// Retrain for this prediction target instead of the config's. v-prediction gives a
    /// usable x̂₀ at the noisiest timesteps, where ε-prediction amplifies its error by 1/√ᾱ_t
    /// (about 15× at t = 999): few-step sampling and distillation start there.
    pub prediction: Option<Prediction>,
    /// Retrain with this share of frame-shared noise instead of the config's.
    pub frame_noise_share: Option<f64>,
    /// Retrain with a zero-terminal-SNR schedule (the config's schedule when false).
    pub zero_terminal_snr: bool,
    pub resume: bool,
    pub progress: bool,
    /// Device, precision (bf16 autocast) and ranks (data-parallel; rank 0 writes); `None`:
    /// one process on the CPU in f32.
    pub compute: Option<&'a Compute>,
}

/// Fine-tunes the exported architecture; returns the run's info (weights in
/// `out/model.safetensors`).
pub fn finetune(req: FinetuneRequest) -> Result<FinetuneInfo, FewStepError> {
    // Layers the weights file does not cover start from libtorch's generator.
    seed_libtorch(req.train.seed);
    let device = req.compute.map_or(tch::Device::Cpu, |c| c.device);
    let (config, space, arch, mut model, arch_override) = match req.arch {
        None => {
            let (config, space, arch, model) = load_exported_on(req.config, req.weights, device)?;
            (config, space, arch, model, None)
        }
        Some(a) => {
            let config_arch = vidnas_io::read_json::<ArchConfig>(req.config)?.arch;
            let (config, space, arch, model, temporal_loaded) =
                load_exported_as(req.config, req.weights, a, device)?;
            let over = ArchOverride {
                config_arch,
                temporal_loaded,
            };
            (config, space, arch, model, Some(over))
        }
    };
    if let Some(compute) = req.compute {
        compute.prepare(&mut model.vs);
    }
    let init = weights_path(req.config, &config, req.weights);
    let mut schedule = config.schedule.clone();
    if let Some(p) = req.prediction {
        schedule.prediction = p;
    }
    if let Some(share) = req.frame_noise_share {
        schedule.frame_noise_share = share;
    }
    schedule.zero_terminal_snr |= req.zero_terminal_snr;
    schedule.validate().map_err(|e| FewStepError::File {
        path: req.config.to_path_buf(),
        message: e,
    })?;
    let train = TrainConfig {
        schedule: schedule.clone(),
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
        freeze_spatial: req.freeze_spatial,
        arch_override,
        compute: req.compute.map(Compute::record),
    };
    train.validate()?;
    check_run(
        req.out,
        "finetune.json",
        &info,
        req.resume,
        &["train.steps", "train.checkpoint_every", "compute"],
    )?;
    let (train_data, _) = datasets(&space, &req.data)?;
    // Rank 0 (or the only process) writes; the other ranks of a data-parallel launch train.
    let lead = req.compute.is_none_or(Compute::is_lead);
    let body = || {
        if lead {
            write_run_info(req.out, "finetune.json", &info)?;
        }
        let objective = if req.freeze_spatial {
            Objective::Standalone(arch.clone())
        } else {
            Objective::Full(arch.clone())
        };
        let mut trainer = Trainer::new(
            &mut model,
            objective,
            PathPlan::Fixed(arch),
            train,
            &train_data,
            &config.vocab,
            req.out,
        );
        if let Some(compute) = req.compute {
            trainer = trainer.on(compute)?;
        }
        if req.resume {
            trainer.resume()?;
        }
        trainer.run(req.progress)?;
        if lead {
            trainer.model.save_all(&req.out.join("model.safetensors"))?;
        }
        Ok::<_, FewStepError>(())
    };
    clean_failed_start_if(lead, req.out, &["finetune.json"], body)?;
    if !lead {
        return Ok(info);
    }
    let teacher_config = ArchConfig {
        schedule,
        weights: "model.safetensors".into(),
        ..config
    };
    write_json(&req.out.join("config.json"), &teacher_config)?;
    Ok(info)
}
