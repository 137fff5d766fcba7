//! The pipeline stages as functions over run folders: stage-1 image pretraining, supernet
//! training on top of it, stand-alone training of one architecture, and scoring. Each run
//! folder holds `run.json` (what was trained, on what) beside its checkpoint.

use crate::error::TrainError;
use crate::memory::check_fits;
use crate::model::{VideoModel, TEXT_PREFIX};
use crate::paths::PathSampling;
use crate::rng::seed_libtorch;
use crate::run_folder::{clean_failed_start, has_started};
use crate::score::{ValidationConfig, ValidationSet};
use crate::trainer::{Objective, TrainConfig, Trainer};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::Device;
use vidnas_data::{
    load_folder_dataset, load_latent_clips, ClipLabel, Dataset, ProceduralConfig, Vocab,
};
use vidnas_nn::{is_temporal, load_into, Build, PromptTable, TextEncoderConfig};
use vidnas_space::{Architecture, Space};

pub const RUN_FORMAT: &str = "vidnas-run/1";

/// Where training and validation clips come from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", deny_unknown_fields)]
pub enum DataSource {
    /// Procedural text-video clips generated from the seed (nothing stored).
    #[default]
    Procedural,
    /// Real footage: one sub-folder per clip with its frames and a `caption.txt`.
    Folder { path: PathBuf },
    /// Pre-encoded latents (safetensors `latents [N, C, T, H, W]` + captions) for a latent-space
    /// backbone.
    Latents { path: PathBuf },
}

/// Where training clips come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// Seed of the procedural generator (training clips; validation uses a separate stream).
    pub seed: u64,
    /// Distinct training clips (procedural data; loaded data uses every clip).
    pub train_clips: usize,
    /// Fixed validation clips used for scoring (loaded data: taken out of the set).
    pub validation_clips: usize,
    #[serde(default)]
    pub source: DataSource,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            seed: 0,
            train_clips: 4096,
            validation_clips: 8,
            source: DataSource::Procedural,
        }
    }
}

/// Stage-1 inputs beyond the optimiser settings.
#[derive(Debug, Clone, Default)]
pub struct ImageStage {
    pub data: DataConfig,
    /// Precomputed prompt embeddings (safetensors) replacing the learned text encoder.
    pub text_embeddings: Option<PathBuf>,
    /// A diffusers `diffusion_pytorch_model.safetensors` to start the spatial UNet from.
    pub init_unet: Option<PathBuf>,
}

/// SHA-256 of a file, first 16 hex digits (provenance fields).
pub fn sha256_16(path: &Path) -> Result<String, TrainError> {
    Ok(vidnas_io::sha256_16(path)?)
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
    /// The diffusers weights stage 1 started from, as `path (sha256)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_unet: Option<String>,
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
        build_of(&self.objective, None).map(|_| ())
    }

    /// What this run trained, read back from `objective`.
    pub fn build(&self, space: &Space) -> Result<Build, TrainError> {
        build_of(&self.objective, Some(space)).map_err(TrainError::Config)
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

/// The default text encoder for a space: the data's vocabulary, the backbone's width, a
/// context long enough for the longest caption (at least 8 tokens).
pub fn default_text_config(
    space: &Space,
    vocab: &Vocab,
    longest_caption: usize,
) -> TextEncoderConfig {
    let dim = space.file.backbone.cross_attention_dim as i64;
    TextEncoderConfig {
        vocab_size: vocab.len() as i64,
        max_tokens: longest_caption.max(8) as i64,
        dim,
        layers: 2,
        heads: 4.min(dim).max(1),
        precomputed: None,
    }
}

/// Training and validation datasets of a run.
pub fn datasets(space: &Space, data: &DataConfig) -> Result<(Dataset, Dataset), TrainError> {
    let cfg = procedural_config(space);
    match &data.source {
        DataSource::Procedural => {
            check_pixel_space(space, "procedural training data is RGB pixels")?;
            // Validation clips come from a stream no training clip is drawn from.
            let train = Dataset::procedural(cfg, data.seed, data.train_clips)?;
            let val = Dataset::procedural_validation(cfg, data.seed, data.validation_clips)?;
            Ok((train, val))
        }
        DataSource::Folder { path } => {
            check_pixel_space(space, "a frame folder holds RGB pixels")?;
            let clips = load_folder_dataset(path, &cfg)?;
            Ok(Dataset::from_clips(clips)?.split(data.validation_clips)?)
        }
        DataSource::Latents { path } => {
            let clips = load_latent_clips(path)?;
            let want = [cfg.channels, cfg.frames, cfg.height, cfg.width];
            if let Some(c) = clips.iter().find(|c| c.shape() != want) {
                return Err(TrainError::file(
                    path,
                    format!(
                        "clip \"{}\" has [C, T, H, W] = {:?} but space {} needs {want:?} (video.channels, frames, height, width); encode the clips at that size",
                        c.caption,
                        c.shape(),
                        space.path.display()
                    ),
                ));
            }
            Ok(Dataset::from_clips(clips)?.split(data.validation_clips)?)
        }
    }
}

/// The vocabulary of a run's captions, and the longest caption in words.
fn data_vocab(train: &Dataset, val: &Dataset, source: &DataSource) -> (Vocab, usize) {
    if *source == DataSource::Procedural {
        return (Vocab::procedural(), 8);
    }
    let captions: Vec<String> = (0..train.len())
        .map(|i| train.get(i).caption)
        .chain((0..val.len()).map(|i| val.get(i).caption))
        .collect();
    let longest = captions
        .iter()
        .map(|c| vidnas_data::vocab::words(c).len())
        .max()
        .unwrap_or(0);
    (Vocab::from_captions(&captions), longest)
}

fn check_pixel_space(space: &Space, what: &str) -> Result<(), TrainError> {
    if space.file.video.channels != 3 || space.file.video.vae_scale_factor != 1 {
        return Err(TrainError::Config(format!(
            "{}: {what}, but the space's clips have {} channels (VAE x{}); pass --latents with clips encoded by the backbone's VAE, \
             or train on a pixel-space space such as search-spaces/tiny.json",
            space.path.display(),
            space.file.video.channels,
            space.file.video.vae_scale_factor
        )));
    }
    Ok(())
}

/// The text encoder of stage 1: precomputed embeddings when given, else the learned one.
fn stage1_text(
    space: &Space,
    embeddings: Option<&Path>,
    vocab: &Vocab,
    longest: usize,
) -> Result<(TextEncoderConfig, Option<PromptTable>), TrainError> {
    let Some(path) = embeddings else {
        return Ok((default_text_config(space, vocab, longest), None));
    };
    let table = PromptTable::read(path).map_err(|e| TrainError::file(path, e.problem))?;
    let dim = space.file.backbone.cross_attention_dim as i64;
    let (_, width) = table.token_shape();
    if width != dim {
        return Err(TrainError::file(
            path,
            format!(
                "embeddings are {width} wide but the backbone's cross_attention_dim is {dim} ({}); embed the prompts with the text encoder the backbone was trained with",
                space.path.display()
            ),
        ));
    }
    let config = TextEncoderConfig::precomputed(&table, path.to_path_buf(), sha256_16(path)?);
    Ok((config, Some(table)))
}

/// Stage 1: trains the image model and text encoder; writes `run.json`, checkpoints and
/// `model.safetensors` (spatial UNet with diffusers keys + `text_encoder.*`). With
/// `init_unet` the UNet starts from those diffusers weights (zero steps keep them as they are).
///
/// Every input is checked before the run folder is written; a start that fails before its
/// first checkpoint leaves nothing behind.
pub fn pretrain_image(
    space: &Space,
    run: &Path,
    train: TrainConfig,
    stage: ImageStage,
    resume: bool,
    progress: bool,
) -> Result<RunInfo, TrainError> {
    train.validate()?;
    let (train_data, val_data) = datasets(space, &stage.data)?;
    let (vocab, longest) = data_vocab(&train_data, &val_data, &stage.data.source);
    let (text, table) = stage1_text(space, stage.text_embeddings.as_deref(), &vocab, longest)?;
    let init_unet = match &stage.init_unet {
        Some(p) if !p.is_file() => {
            return Err(TrainError::file(
                p,
                "not found (--init-unet); pass a diffusers UNet folder holding diffusion_pytorch_model.safetensors, or that file",
            ))
        }
        Some(p) => Some(format!("{} ({})", p.display(), sha256_16(p)?)),
        None => None,
    };
    let info = RunInfo {
        format: RUN_FORMAT.into(),
        objective: Objective::Image.describe(),
        space_name: space.name().into(),
        space_hash: space.hash().into(),
        space_path: space.path.clone(),
        text: text.clone(),
        vocab: vocab.clone(),
        data: stage.data.clone(),
        train: train.clone(),
        validation: ValidationConfig::default(),
        image_run: None,
        init_unet,
    };
    info.text.validate("text").map_err(TrainError::Config)?;
    check_run_folder(run, &info, resume)?;
    check_fits(
        space,
        &Build::Image,
        &text,
        train.batch_size,
        &format!("image pretraining with --batch-size {}", train.batch_size),
    )?;
    seed_libtorch(train.seed);
    let mut model = VideoModel::new(space, Build::Image, text, Device::Cpu)?;
    if let Some(table) = &table {
        model.load_prompt_table(table)?;
    }
    if let Some(path) = &stage.init_unet {
        load_into(&model.vs, path, |n| {
            !n.starts_with(TEXT_PREFIX) && !is_temporal(n)
        })?;
    }
    // Every caption needs an embedding before training starts, not at some later step.
    check_captions(
        &model,
        &vocab,
        &stage.data.source,
        &[&train_data, &val_data],
    )?;
    clean_failed_start(run, &["run.json"], || {
        let mut trainer = Trainer::new(
            &mut model,
            Objective::Image,
            train,
            &train_data,
            &vocab,
            run,
        );
        // A checkpoint that cannot be resumed is refused before run.json is rewritten.
        if resume {
            trainer.resume()?;
        }
        info.save(run)?;
        trainer.run(progress)?;
        model.save_all(&run.join("model.safetensors"))
    })?;
    Ok(info)
}

/// Fails early, naming the prompt or word, when a training or validation caption cannot be
/// encoded, rather than at some later step.
fn check_captions(
    model: &VideoModel,
    vocab: &Vocab,
    source: &DataSource,
    sets: &[&Dataset],
) -> Result<(), TrainError> {
    let captions: Vec<String> = match source {
        // Procedural captions always fit the procedural vocabulary; a prompt table must hold
        // every caption the generator can draw.
        DataSource::Procedural if model.text.config.precomputed.is_none() => return Ok(()),
        DataSource::Procedural => ClipLabel::all_drawable()
            .iter()
            .map(ClipLabel::caption)
            .collect(),
        _ => sets
            .iter()
            .flat_map(|set| (0..set.len()).map(|i| set.get(i).caption))
            .collect(),
    };
    let refs: Vec<&str> = captions.iter().map(String::as_str).collect();
    model.prompt_ids(&refs, vocab).map(|_| ())
}

/// Refuses to overwrite a started run unless resuming it, and a resume with other settings.
/// A folder whose run never started (no checkpoint, no output) is reused as if it were new.
/// Writes nothing: the caller saves `run.json` once every input has been checked.
fn check_run_folder(run: &Path, info: &RunInfo, resume: bool) -> Result<(), TrainError> {
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

/// Stage-2 settings that may differ from stage 1's (which a stage-2 run otherwise inherits).
#[derive(Debug, Clone, Default)]
pub struct TemporalStage {
    /// Validation clips and settings for scoring: more clips and timesteps give steadier ranks.
    pub scoring: Option<(usize, ValidationConfig)>,
    /// Train on other clips than stage 1 did; their captions must fit stage 1's text encoder.
    pub source: Option<DataSource>,
}

/// Stage 2: inflates the stage-1 model, trains the temporal layers of the supernet (or one
/// stand-alone architecture); writes `model.safetensors` at the end.
#[allow(clippy::too_many_arguments)]
pub fn train_temporal(
    space: &Space,
    image_run: &Path,
    run: &Path,
    objective: Objective,
    train: TrainConfig,
    stage: TemporalStage,
    resume: bool,
    progress: bool,
) -> Result<RunInfo, TrainError> {
    train.validate()?;
    let mut image = RunInfo::load(image_run)?;
    if let Some((clips, validation)) = stage.scoring {
        image.data.validation_clips = clips;
        image.validation = validation;
    }
    if let Some(source) = stage.source {
        image.data.source = source;
    }
    image.check_space(space, image_run)?;
    let build = match &objective {
        Objective::Supernet(_) => Build::Supernet,
        Objective::Standalone(a) | Objective::Full(a) => Build::Subnet(a.clone()),
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
    if image.objective != "image" {
        return Err(TrainError::file(
            image_run.join("run.json"),
            format!(
                "objective is `{}`, not `image`; pass the stage-1 run made by `vidnas pretrain-image` as --image",
                image.objective
            ),
        ));
    }
    info.validation.validate().map_err(TrainError::Config)?;
    check_run_folder(run, &info, resume)?;
    let (train_data, val_data) = datasets(space, &info.data)?;
    check_fits(
        space,
        &build,
        &info.text,
        train.batch_size,
        &format!("training with --batch-size {}", train.batch_size),
    )?;
    seed_libtorch(train.seed);
    let mut model = VideoModel::new(space, build, info.text.clone(), Device::Cpu)?;
    model.load_image_weights(&image_run.join("model.safetensors"))?;
    check_captions(
        &model,
        &info.vocab,
        &info.data.source,
        &[&train_data, &val_data],
    )?;
    clean_failed_start(run, &["run.json"], || {
        let mut trainer = Trainer::new(&mut model, objective, train, &train_data, &info.vocab, run);
        // A checkpoint that cannot be resumed is refused before run.json is rewritten.
        if resume {
            trainer.resume()?;
        }
        info.save(run)?;
        trainer.run(progress)?;
        model.save_all(&run.join("model.safetensors"))
    })?;
    Ok(info)
}

/// A trained model ready to score architectures on the run's fixed validation set.
pub struct Scorer {
    pub model: VideoModel,
    pub validation: ValidationSet,
    pub info: RunInfo,
    /// The run folder the model was loaded from (named in errors).
    pub run: PathBuf,
}

impl Scorer {
    /// Loads a supernet (or image / stand-alone) run folder.
    pub fn open(space: &Space, run: &Path) -> Result<Self, TrainError> {
        let info = RunInfo::load(run)?;
        info.check_space(space, run)?;
        let build = info.build(space)?;
        let weights = run.join("model.safetensors");
        if !weights.exists() {
            return Err(TrainError::file(
                &weights,
                "missing: the run has not finished training; resume it first",
            ));
        }
        check_fits(
            space,
            &build,
            &info.text,
            info.validation.batch_size,
            "scoring",
        )?;
        let mut model = VideoModel::new(space, build, info.text.clone(), Device::Cpu)?;
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
            run: run.to_path_buf(),
        })
    }

    /// Refuses a run that cannot score every architecture of its space: a stage-1 image run
    /// holds no temporal layers and a stand-alone run only its own architecture.
    pub fn require_supernet(&self) -> Result<(), TrainError> {
        match &self.model.build {
            Build::Supernet => Ok(()),
            _ => Err(self.wrong_run(format!(
                "objective is `{}`, not a supernet; pass a run made by `vidnas supernet train`",
                self.info.objective
            ))),
        }
    }

    fn wrong_run(&self, message: String) -> TrainError {
        TrainError::file(self.run.join("run.json"), message)
    }

    pub fn score(&self, arch: &Architecture) -> Result<f64, TrainError> {
        match &self.model.build {
            Build::Subnet(a) if a != arch => {
                return Err(self.wrong_run(format!(
                    "this stand-alone run (objective `{}`) only holds {a}, not {arch}; score it with a supernet run",
                    self.info.objective
                )));
            }
            Build::Image if arch.ops.iter().any(|o| o.is_temporal()) => {
                return Err(self.wrong_run(format!(
                    "this is a stage-1 image run (objective `image`): it holds no temporal layers, so it cannot score {arch}; pass a run made by `vidnas supernet train`"
                )));
            }
            _ => {}
        }
        self.model
            .space
            .check_arch(arch)
            .map_err(|e| TrainError::Config(e.to_string()))?;
        Ok(self.validation.score(&self.model, arch))
    }
}

fn build_of(objective: &str, space: Option<&Space>) -> Result<Build, String> {
    if objective == "image" {
        Ok(Build::Image)
    } else if let Some(sampling) = objective.strip_prefix("supernet:") {
        sampling.parse::<PathSampling>()?;
        Ok(Build::Supernet)
    } else if let Some(arch) = objective
        .strip_prefix("standalone:")
        .or_else(|| objective.strip_prefix("full:"))
    {
        match space {
            Some(space) => Ok(Build::Subnet(
                space
                    .parse_arch(arch)
                    .map_err(|e| format!("objective: {e}"))?,
            )),
            None if arch.is_empty() => Err("objective names no architecture".into()),
            None => Ok(Build::Image),
        }
    } else {
        Err(format!(
            "objective `{objective}` is not one of image, supernet:<sampling>, standalone:<arch>, full:<arch>; the file was not written by vidnas"
        ))
    }
}

/// Parses `uniform|fair|sandwich` for the CLI.
pub fn parse_sampling(s: &str) -> Result<PathSampling, TrainError> {
    s.parse().map_err(TrainError::Config)
}
