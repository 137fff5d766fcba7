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
    /// The weights file (a shipped video supernet) whose temporal layers and text path this
    /// run started from, instead of a supernet run folder (`init_run`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_weights: Option<FileRef>,
    /// Where the last invocation ran (device, threads, precision, ranks); never compared on
    /// resume, so a run continues on another device or world size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<ComputeRecord>,
    /// The folder the command that wrote this file ran in, relative to the run folder (`../..`
    /// for `--out runs/x` given in the project folder; absolute when the two share no folder but
    /// the root). Relative paths above are relative to it; read them through [`RunInfo::space_file`],
    /// [`RunInfo::image_run_folder`] and [`RunInfo::data_source`], which find them from any
    /// working folder. Written by [`RunInfo::save`]; absent in files written before it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<PathBuf>,
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

    /// Writes `run/run.json`, recording the current folder as `working_dir`: every relative
    /// path in `self` must be relative to it (as the command's arguments are).
    pub fn save(&self, run: &Path) -> Result<(), TrainError> {
        std::fs::create_dir_all(run).map_err(|e| TrainError::file(run, e))?;
        let record = RunInfo {
            working_dir: vidnas_io::working_dir_record(run),
            ..self.clone()
        };
        Ok(vidnas_io::write_json(&run.join("run.json"), &record)?)
    }

    /// `path`, recorded in `field` of `run/run.json`, found from the current folder (see
    /// [`vidnas_io::resolve_recorded`]); `flag` gives it on the command line instead.
    pub fn resolve(
        &self,
        run: &Path,
        field: &str,
        path: &Path,
        flag: Option<&str>,
    ) -> Result<PathBuf, TrainError> {
        let working_dir = self.working_dir.as_deref();
        Ok(vidnas_io::resolve_in_run(
            run,
            working_dir,
            field,
            path,
            flag,
        )?)
    }

    /// The space file the run was trained on (`space_path`), from any working folder.
    pub fn space_file(&self, run: &Path) -> Result<PathBuf, TrainError> {
        self.resolve(run, "space_path", &self.space_path, Some("--space"))
    }

    /// The stage-1 run the spatial weights came from (`image_run`; `None` for a stage-1 run),
    /// from any working folder.
    pub fn image_run_folder(&self, run: &Path) -> Result<Option<PathBuf>, TrainError> {
        self.image_run
            .as_deref()
            .map(|p| self.resolve(run, "image_run", p, None))
            .transpose()
    }

    /// Where the run's clips come from (`data.source`), its folder or latents file found from
    /// any working folder.
    pub fn data_source(&self, run: &Path) -> Result<DataSource, TrainError> {
        Ok(match &self.data.source {
            DataSource::Procedural => DataSource::Procedural,
            DataSource::Folder { path } => DataSource::Folder {
                path: self.resolve(run, "data.source.path", path, None)?,
            },
            DataSource::Latents { path } => DataSource::Latents {
                path: self.resolve(run, "data.source.path", path, None)?,
            },
        })
    }

    /// [`RunInfo::data`] with [`RunInfo::data_source`]: what to build the run's datasets from.
    pub fn data_resolved(&self, run: &Path) -> Result<DataConfig, TrainError> {
        Ok(DataConfig {
            source: self.data_source(run)?,
            ..self.data.clone()
        })
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

/// What a score averages over the validation set (lower is better for both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScoreMetric {
    /// The denoising loss: the squared error of the prediction.
    #[default]
    Loss,
    /// The squared error of the prediction's change from frame to frame, where what every
    /// frame gets equally wrong cancels: the part of the loss motion decides.
    Motion,
}

impl ScoreMetric {
    pub fn is_loss(&self) -> bool {
        *self == ScoreMetric::Loss
    }
}

impl std::fmt::Display for ScoreMetric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Loss => "loss",
            Self::Motion => "motion",
        })
    }
}

impl std::str::FromStr for ScoreMetric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "loss" => Ok(Self::Loss),
            "motion" => Ok(Self::Motion),
            _ => Err(format!("`{s}` is not a score metric; use loss or motion")),
        }
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
    /// What a score averages (absent in run.json files written before it existed: the loss).
    #[serde(default, skip_serializing_if = "ScoreMetric::is_loss")]
    pub metric: ScoreMetric,
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
            metric: ScoreMetric::Loss,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn info(space_path: &str, data: &str) -> RunInfo {
        RunInfo {
            format: RUN_FORMAT.into(),
            objective: Objective::Image,
            space_name: "s".into(),
            space_hash: "h".into(),
            space_path: space_path.into(),
            text: TextEncoderConfig {
                vocab_size: 8,
                max_tokens: 8,
                dim: 8,
                layers: 1,
                heads: 1,
                precomputed: None,
            },
            vocab: Vocab::procedural(),
            data: DataConfig {
                source: DataSource::Folder { path: data.into() },
                ..DataConfig::default()
            },
            train: TrainConfig::default(),
            validation: ValidationConfig::default(),
            image_run: Some("runs/gone".into()),
            init_run: None,
            init_unet: None,
            init_weights: None,
            compute: None,
            working_dir: None,
        }
    }

    #[test]
    fn run_json_records_its_working_folder_and_paths_resolve_from_elsewhere() {
        // A stage-1 run made in `project` (`--out runs/image`), read from this crate's folder.
        let tmp = tempfile::tempdir().unwrap();
        let project = tmp.path().canonicalize().unwrap().join("project");
        let run = project.join("runs/image");
        for dir in ["search-spaces", "clips", "runs/image"] {
            std::fs::create_dir_all(project.join(dir)).unwrap();
        }
        std::fs::write(project.join("search-spaces/s.json"), "{}").unwrap();
        info("search-spaces/s.json", "clips").save(&run).unwrap();
        let saved = RunInfo::load(&run).unwrap();
        // This test ran the save from the crate's folder, which is not under the temp folder.
        let here = vidnas_io::working_dir_record(&run).unwrap();
        assert_eq!(saved.working_dir.as_deref(), Some(here.as_path()));

        // As if `save` had run in the project folder.
        let made_there = RunInfo {
            working_dir: vidnas_io::folder_record(&run, &project),
            ..saved
        };
        assert_eq!(made_there.working_dir.as_deref(), Some(Path::new("../..")));
        assert!(!Path::new("search-spaces/s.json").exists());
        assert_eq!(
            made_there.space_file(&run).unwrap(),
            project.join("search-spaces/s.json")
        );
        assert_eq!(
            made_there.data_source(&run).unwrap(),
            DataSource::Folder {
                path: project.join("clips")
            }
        );
        let msg = made_there.image_run_folder(&run).unwrap_err().to_string();
        for part in [
            "run.json: field `image_run`",
            "`runs/gone` is a relative path",
            "run the command from the folder the run was made in",
        ] {
            assert!(msg.contains(part), "`{part}` missing from: {msg}");
        }
    }
}
