//! `run.json`: what a training run trained, on what, with which settings; and the checks a
//! run folder gets before a stage writes to it.

use crate::compute::ComputeRecord;
use crate::data::{DataConfig, DataSource};
use crate::error::TrainError;
use crate::objective::Objective;
use crate::run_folder::has_started;
use crate::trainer::TrainConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use vidnas_data::{ProceduralConfig, Vocab};
use vidnas_io::FileRef;
use vidnas_nn::{Build, TextEncoderConfig};
use vidnas_space::Space;

pub const RUN_FORMAT: &str = "vidnas-run/1";

/// `run.json`: everything needed to rebuild the model of a run folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInfo {
    pub format: String,
    pub objective: Objective,
    pub space_name: String,
    pub space_hash: String,
    pub space_path: PathBuf,
    pub text: TextEncoderConfig,
    pub vocab: Vocab,
    pub data: DataConfig,
    pub train: TrainConfig,
    pub validation: ValidationConfig,
    /// The stage-1 run the spatial weights come from (for supernet and stand-alone runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_run: Option<PathBuf>,
    /// The supernet run whose temporal weights this run started from (a few-shot sub-supernet,
    /// or a candidate re-ranked by a short fine-tune) instead of zero-output layers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_run: Option<PathBuf>,
    /// The diffusers weights stage 1 started from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_unet: Option<FileRef>,
    /// Where the last invocation ran (device, threads, precision, ranks); never compared on
    /// resume, so a run continues on another device or world size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<ComputeRecord>,
}

impl RunInfo {
    pub fn load(run: &Path) -> Result<Self, TrainError> {
        let path = run.join("run.json");
        if !path.exists() {
            return Err(TrainError::file(
                &path,
                "missing; is this a vidnas run folder (made by pretrain-image, supernet train or train)?",
            ));
        }
        let info: RunInfo = vidnas_io::read_json(&path)?;
        if info.format != RUN_FORMAT {
            return Err(TrainError::file(
                &path,
                format!("format `{}` is not `{RUN_FORMAT}`", info.format),
            ));
        }
        info.validate().map_err(|e| TrainError::file(&path, e))?;
        Ok(info)
    }

    /// Checks every field a model or a data set is built from (the message names the field).
    pub fn validate(&self) -> Result<(), String> {
        self.text.validate("text")?;
        self.train.validate().map_err(|e| e.to_string())?;
        self.validation.validate()?;
        if self.data.validation_clips < 1 {
            return Err("data.validation_clips is 0; scoring needs at least 1 clip".into());
        }
        if self.data.train_clips < 1 && self.data.source == DataSource::Procedural {
            return Err("data.train_clips is 0; use at least 1".into());
        }
        Ok(())
    }

    /// The model this run trained, its architecture checked against `space`.
    pub fn build(&self, space: &Space, run: &Path) -> Result<Build, TrainError> {
        self.objective
            .check(space)
            .map_err(|m| TrainError::file(run.join("run.json"), m))?;
        Ok(self.objective.build())
    }

    pub fn save(&self, run: &Path) -> Result<(), TrainError> {
        std::fs::create_dir_all(run).map_err(|e| TrainError::file(run, e))?;
        Ok(vidnas_io::write_json(&run.join("run.json"), self)?)
    }

    /// Checks that `space` is the space this run was trained on.
    pub fn check_space(&self, space: &Space, run: &Path) -> Result<(), TrainError> {
        if self.space_hash != space.hash() {
            return Err(TrainError::file(
                run.join("run.json"),
                format!(
                    "run was trained on space `{}` (hash {}) but {} is `{}` (hash {}); use the run's own space file {}",
                    self.space_name,
                    self.space_hash,
                    space.path.display(),
                    space.name(),
                    space.hash(),
                    self.space_path.display()
                ),
            ));
        }
        Ok(())
    }

    pub fn procedural(&self, space: &Space) -> ProceduralConfig {
        crate::data::procedural_config(space)
    }
}

/// How scoring reads the validation set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationConfig {
    /// Timesteps per clip, spread evenly over the schedule.
    pub timesteps_per_clip: usize,
    /// Clips per forward pass.
    pub batch_size: usize,
    pub noise_seed: u64,
}

impl ValidationConfig {
    /// The message names the field (callers prefix the file).
    pub fn validate(&self) -> Result<(), String> {
        if self.timesteps_per_clip < 1 {
            return Err(
                "validation.timesteps_per_clip is 0; use at least 1 (--validation-timesteps)"
                    .into(),
            );
        }
        if self.batch_size < 1 {
            return Err("validation.batch_size is 0; use at least 1".into());
        }
        Ok(())
    }
}

impl Default for ValidationConfig {
    fn default() -> Self {
        Self {
            timesteps_per_clip: 2,
            batch_size: 4,
            noise_seed: 1234,
        }
    }
}

/// Refuses to overwrite a started run unless resuming it, and a resume with other settings.
/// A folder whose run never started (no checkpoint, no output) is reused as if it were new.
/// Writes nothing: the caller saves `run.json` once every input has been checked.
pub fn check_run_folder(run: &Path, info: &RunInfo, resume: bool) -> Result<(), TrainError> {
    if !run.join("run.json").exists() || !has_started(run) {
        return Ok(());
    }
    let old = RunInfo::load(run)?;
    if !resume {
        return Err(TrainError::file(
            run,
            "already holds a run; pass --resume to continue it or choose another --out",
        ));
    }
    if old.objective != info.objective
        || old.space_hash != info.space_hash
        || old.train.seed != info.train.seed
    {
        return Err(TrainError::file(
            run.join("run.json"),
            format!("run was `{}` on space hash {} with seed {}; cannot resume it as `{}` on {} with seed {}",
                old.objective, old.space_hash, old.train.seed, info.objective, info.space_hash, info.train.seed),
        ));
    }
    Ok(())
}
