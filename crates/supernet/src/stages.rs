//! The pipeline stages as functions over run folders: stage-1 image pretraining, supernet
//! training on top of it, stand-alone training of one architecture, and scoring. Each run
//! folder holds `run.json` (what was trained, on what) beside its checkpoint.

use crate::error::TrainError;
use crate::model::VideoModel;
use crate::paths::PathSampling;
use crate::score::{ValidationConfig, ValidationSet};
use crate::trainer::{Objective, TrainConfig, Trainer};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::Device;
use vidnas_data::{Dataset, ProceduralConfig, Vocab};
use vidnas_nn::{Build, TextEncoderConfig};
use vidnas_space::{Architecture, Space};

pub const RUN_FORMAT: &str = "vidnas-run/1";

/// Where training clips come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Seed of the procedural generator (training clips; validation uses a separate stream).
    pub seed: u64,
    /// Distinct training clips.
    pub train_clips: usize,
    /// Fixed validation clips used for scoring.
    pub validation_clips: usize,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            train_clips: 4096,
            validation_clips: 8,
        }
    }
}

/// `run.json`: everything needed to rebuild the model of a run folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInfo {
    pub format: String,
    /// `image`, `supernet:<sampling>` or `standalone:<arch>`.
    pub objective: String,
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
}

impl RunInfo {
    pub fn load(run: &Path) -> Result<Self, TrainError> {
        let path = run.join("run.json");
        let text = std::fs::read_to_string(&path).map_err(|e| {
            TrainError::file(
                &path,
                format!(
                    "{e}; is this a vidnas run folder (made by pretrain-image or supernet train)?"
                ),
            )
        })?;
        let info: RunInfo = serde_json::from_str(&text).map_err(|e| TrainError::file(&path, e))?;
        if info.format != RUN_FORMAT {
            return Err(TrainError::file(
                &path,
                format!("format `{}` is not `{RUN_FORMAT}`", info.format),
            ));
        }
        Ok(info)
    }

    pub fn save(&self, run: &Path) -> Result<(), TrainError> {
        std::fs::create_dir_all(run).map_err(|e| TrainError::file(run, e))?;
        let path = run.join("run.json");
        let tmp = run.join("run.json.tmp");
        let json = serde_json::to_string_pretty(self).expect("serialises");
        std::fs::write(&tmp, json).map_err(|e| TrainError::file(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| TrainError::file(&path, e))
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
        procedural_config(space)
    }
}

pub fn procedural_config(space: &Space) -> ProceduralConfig {
    let v = &space.file.video;
    ProceduralConfig {
        frames: v.frames,
        height: v.height,
        width: v.width,
        channels: v.channels,
    }
}

/// The default text encoder for a space: the procedural vocabulary, the backbone's width.
pub fn default_text_config(space: &Space, vocab: &Vocab) -> TextEncoderConfig {
    let dim = space.file.backbone.cross_attention_dim as i64;
    TextEncoderConfig {
        vocab_size: vocab.len() as i64,
        max_tokens: 8,
        dim,
        layers: 2,
        heads: 4.min(dim).max(1),
    }
}

/// Training and validation datasets of a run.
pub fn datasets(space: &Space, data: &DataConfig) -> Result<(Dataset, Dataset), TrainError> {
    let cfg = procedural_config(space);
    check_procedural(space)?;
    // Validation clips come from a stream no training clip is drawn from.
    let train = Dataset::procedural(cfg, data.seed, data.train_clips)?;
    let val = Dataset::procedural_validation(cfg, data.seed, data.validation_clips)?;
    Ok((train, val))
}

fn check_procedural(space: &Space) -> Result<(), TrainError> {
    if space.file.video.channels != 3 || space.file.video.vae_scale_factor != 1 {
        return Err(TrainError::Config(format!(
            "{}: procedural training data is RGB pixels, but the space's clips have {} channels (VAE x{}); \
             train on a pixel-space space such as search-spaces/tiny.json, or use a latency-only search",
            space.path.display(),
            space.file.video.channels,
            space.file.video.vae_scale_factor
        )));
    }
    Ok(())
}

/// Stage 1: trains the image model and text encoder; writes `run.json`, checkpoints and
/// `unet.safetensors` (spatial UNet with diffusers keys + `text_encoder.*`).
pub fn pretrain_image(
    space: &Space,
    run: &Path,
    train: TrainConfig,
    data: DataConfig,
    resume: bool,
    progress: bool,
) -> Result<RunInfo, TrainError> {
    let vocab = Vocab::procedural();
    let text = default_text_config(space, &vocab);
    let info = RunInfo {
        format: RUN_FORMAT.into(),
        objective: Objective::Image.describe(),
        space_name: space.name().into(),
        space_hash: space.hash().into(),
        space_path: space.path.clone(),
        text: text.clone(),
        vocab: vocab.clone(),
        data: data.clone(),
        train: train.clone(),
        validation: ValidationConfig::default(),
        image_run: None,
    };
    prepare_run(run, &info, resume)?;
    let (train_data, _) = datasets(space, &data)?;
    let mut model = VideoModel::new(space, Build::Image, text, Device::Cpu)?;
    let mut trainer = Trainer::new(
        &mut model,
        Objective::Image,
        train,
        &train_data,
        &vocab,
        run,
    );
    if resume {
        trainer.resume()?;
    }
    trainer.run(progress)?;
    model.save_all(&run.join("model.safetensors"))?;
    Ok(info)
}

/// Refuses to overwrite a finished or foreign run unless resuming it.
fn prepare_run(run: &Path, info: &RunInfo, resume: bool) -> Result<(), TrainError> {
    if run.join("run.json").exists() {
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
    }
    info.save(run)
}

/// Stage 2: inflates the stage-1 model, trains the temporal layers of the supernet (or one
/// stand-alone architecture); writes `model.safetensors` at the end. `scoring` overrides the
/// validation clips and settings inherited from stage 1.
#[allow(clippy::too_many_arguments)]
pub fn train_temporal(
    space: &Space,
    image_run: &Path,
    run: &Path,
    objective: Objective,
    train: TrainConfig,
    scoring: Option<(usize, ValidationConfig)>,
    resume: bool,
    progress: bool,
) -> Result<RunInfo, TrainError> {
    let mut image = RunInfo::load(image_run)?;
    // Scoring settings may differ from stage 1's: more clips and timesteps give steadier ranks.
    if let Some((clips, validation)) = scoring {
        image.data.validation_clips = clips;
        image.validation = validation;
    }
    image.check_space(space, image_run)?;
    let build = match &objective {
        Objective::Supernet(_) => Build::Supernet,
        Objective::Standalone(a) => Build::Subnet(a.clone()),
        Objective::Image => {
            return Err(TrainError::Config("use pretrain_image for stage 1".into()))
        }
    };
    let info = RunInfo {
        objective: objective.describe(),
        train: train.clone(),
        image_run: Some(image_run.to_path_buf()),
        ..image.clone()
    };
    prepare_run(run, &info, resume)?;
    let (train_data, _) = datasets(space, &info.data)?;
    let mut model = VideoModel::new(space, build, info.text.clone(), Device::Cpu)?;
    model.load_image_weights(&image_run.join("model.safetensors"))?;
    let mut trainer = Trainer::new(&mut model, objective, train, &train_data, &info.vocab, run);
    if resume {
        trainer.resume()?;
    }
    trainer.run(progress)?;
    model.save_all(&run.join("model.safetensors"))?;
    Ok(info)
}

/// A trained model ready to score architectures on the run's fixed validation set.
pub struct Scorer {
    pub model: VideoModel,
    pub validation: ValidationSet,
    pub info: RunInfo,
}

impl Scorer {
    /// Loads a supernet (or image / stand-alone) run folder.
    pub fn open(space: &Space, run: &Path) -> Result<Self, TrainError> {
        let info = RunInfo::load(run)?;
        info.check_space(space, run)?;
        let build = build_of(&info.objective, space)?;
        let mut model = VideoModel::new(space, build, info.text.clone(), Device::Cpu)?;
        let weights = run.join("model.safetensors");
        if !weights.exists() {
            return Err(TrainError::file(
                &weights,
                "missing: the run has not finished training; resume it first",
            ));
        }
        model.load_all(&weights)?;
        let (_, val) = datasets(space, &info.data)?;
        let clips: Vec<_> = (0..val.len()).map(|i| val.get(i)).collect();
        let validation = ValidationSet::new(
            &model,
            &clips,
            &info.vocab,
            &info.train.schedule,
            &info.validation,
        )?;
        Ok(Self {
            model,
            validation,
            info,
        })
    }

    pub fn score(&self, arch: &Architecture) -> Result<f64, TrainError> {
        if let Build::Subnet(a) = &self.model.build {
            if a != arch {
                return Err(TrainError::Config(format!(
                    "this stand-alone run only holds {a}, not {arch}"
                )));
            }
        }
        self.model
            .space
            .check_arch(arch)
            .map_err(|e| TrainError::Config(e.to_string()))?;
        Ok(self.validation.score(&self.model, arch))
    }
}

fn build_of(objective: &str, space: &Space) -> Result<Build, TrainError> {
    if objective == "image" {
        Ok(Build::Image)
    } else if objective.starts_with("supernet") {
        Ok(Build::Supernet)
    } else if let Some(arch) = objective.strip_prefix("standalone:") {
        Ok(Build::Subnet(
            space
                .parse_arch(arch)
                .map_err(|e| TrainError::Config(e.to_string()))?,
        ))
    } else {
        Err(TrainError::Config(format!(
            "unknown run objective `{objective}`"
        )))
    }
}

/// Parses `uniform|fair|sandwich` for the CLI.
pub fn parse_sampling(s: &str) -> Result<PathSampling, TrainError> {
    s.parse().map_err(TrainError::Config)
}
