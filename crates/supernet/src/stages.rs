//! The pipeline stages as functions over run folders: stage-1 image pretraining, supernet
//! training on top of it, stand-alone training of one architecture, and scoring. Each run
//! folder holds `run.json` (what was trained, on what) beside its checkpoint.

use crate::paths::trainer;
use crate::score::ValidationSet;
use std::path::{Path, PathBuf};
use tch::Device;
use vidnas_data::{ClipLabel, Dataset, Vocab};
use vidnas_diffusion::run_folder::clean_failed_start_if;
use vidnas_diffusion::Compute;
use vidnas_diffusion::{
    check_fits, check_run_folder, datasets, default_text_config, is_text_path, seed_libtorch,
    DataConfig, DataSource, Objective, RunInfo, ScoreMetric, TrainConfig, TrainError, Trainer,
    ValidationConfig, VideoModel, RUN_FORMAT, TEXT_PREFIX,
};
use vidnas_io::FileRef;
use vidnas_nn::{holds_prefix, is_temporal, load_into, Build, PromptTable, TextEncoderConfig};
use vidnas_space::{Architecture, Space};

/// Stage-1 inputs beyond the optimiser settings.
#[derive(Debug, Clone, Default)]
pub struct ImageStage {
    pub data: DataConfig,
    /// Precomputed prompt embeddings (safetensors) replacing the learned text encoder.
    pub text_embeddings: Option<PathBuf>,
    /// Weights to start from: a diffusers `diffusion_pytorch_model.safetensors` (the spatial
    /// UNet), or a vidnas image model (`model.safetensors` of a stage-1 run, a shipped
    /// `configs/<space>-image.safetensors`), whose learned text encoder is loaded too.
    pub init_unet: Option<PathBuf>,
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
    let config =
        TextEncoderConfig::precomputed(&table, path.to_path_buf(), vidnas_io::sha256_16(path)?);
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
    compute: &Compute,
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
        Some(p) => Some(FileRef::of(p)?),
        None => None,
    };
    let info = RunInfo {
        format: RUN_FORMAT.into(),
        objective: Objective::Image,
        space_name: space.name().into(),
        space_hash: space.hash().into(),
        space_path: space.path.clone(),
        text: text.clone(),
        vocab: vocab.clone(),
        data: stage.data.clone(),
        train: train.clone(),
        validation: ValidationConfig::default(),
        image_run: None,
        init_run: None,
        init_unet,
        init_weights: None,
        compute: Some(compute.record()),
        working_dir: None,
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
    let mut model = VideoModel::new(space, Build::Image, text, compute.device)?;
    compute.prepare(&mut model.vs);
    if let Some(table) = &table {
        model.load_prompt_table(table)?;
    }
    if let Some(path) = &stage.init_unet {
        // A vidnas image model (a stage-1 `model.safetensors`, or a shipped pretrained
        // backbone) also holds the text encoder it learned: start from that too.
        let with_text = table.is_none() && holds_prefix(path, TEXT_PREFIX)?;
        load_into(&model.vs, path, |n| {
            !is_temporal(n) && (with_text || !n.starts_with(TEXT_PREFIX))
        })?;
    }
    // Every caption needs an embedding before training starts, not at some later step.
    check_captions(
        &model,
        &vocab,
        &stage.data.source,
        &[&train_data, &val_data],
    )?;
    let trainer = trainer(
        &mut model,
        Objective::Image,
        train,
        &train_data,
        &vocab,
        run,
    );
    run_trainer(trainer.on(compute)?, run, &info, resume, progress)?;
    Ok(info)
}

/// Resumes (when asked), writes `run.json`, trains and writes `model.safetensors`. Rank 0
/// writes, and removes what a failed start left; the other ranks only train.
fn run_trainer(
    mut trainer: Trainer,
    run: &Path,
    info: &RunInfo,
    resume: bool,
    progress: bool,
) -> Result<(), TrainError> {
    let lead = trainer.is_lead();
    let body = || {
        // A checkpoint that cannot be resumed is refused before run.json is rewritten.
        if resume {
            trainer.resume()?;
        }
        if lead {
            info.save(run)?;
        }
        trainer.run(progress)?;
        if lead {
            trainer.model.save_all(&run.join("model.safetensors"))?;
        }
        Ok(())
    };
    clean_failed_start_if(lead, run, &["run.json"], body)
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

/// Stage-2 settings that may differ from stage 1's (which a stage-2 run otherwise inherits).
#[derive(Debug, Clone, Default)]
pub struct TemporalStage {
    /// Validation clips and settings for scoring: more clips and timesteps give steadier ranks.
    pub scoring: Option<(usize, ValidationConfig)>,
    /// Train on other clips than stage 1 did; their captions must fit stage 1's text encoder.
    pub source: Option<DataSource>,
    /// Start the temporal layers and the text path from this supernet run's weights (same
    /// space and stage-1 run) instead of zero-output layers: few-shot sub-supernets and
    /// re-ranking fine-tunes. Or from a weights file: a shipped video supernet.
    pub init_from: Option<PathBuf>,
    /// What this run's scores average, instead of stage 1's (the loss).
    pub metric: Option<ScoreMetric>,
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
    compute: &Compute,
) -> Result<RunInfo, TrainError> {
    train.validate()?;
    let mut image = RunInfo::load(image_run)?;
    if let Some((clips, validation)) = stage.scoring {
        image.data.validation_clips = clips;
        image.validation = validation;
    }
    if let Some(metric) = stage.metric {
        image.validation.metric = metric;
    }
    // The stage-1 run's clips, found from this command's folder (its path is recorded anew).
    image.data.source = match stage.source {
        Some(source) => source,
        None => image.data_source(image_run)?,
    };
    image.check_space(space, image_run)?;
    if objective == Objective::Image {
        return Err(TrainError::Config("use pretrain_image for stage 1".into()));
    }
    objective.check(space).map_err(TrainError::Config)?;
    let build = objective.build();
    let (init_run, init_weights) = match &stage.init_from {
        Some(file) if file.is_file() => (None, Some(FileRef::of(file)?)),
        Some(file) if file.extension().is_some_and(|e| e == "safetensors") => {
            return Err(TrainError::file(
                file,
                "not found (--init); a space's video supernet is made by scripts/pretrain-video.sh, or pass a supernet run folder",
            ));
        }
        Some(run) => {
            check_init_run(space, run, image_run)?;
            (Some(run.clone()), None)
        }
        None => (None, None),
    };
    let info = RunInfo {
        objective: objective.clone(),
        // As given to this command (the same space, by the check above), so it is relative to
        // the folder this run records.
        space_path: space.path.clone(),
        train: train.clone(),
        image_run: Some(image_run.to_path_buf()),
        init_run,
        init_weights,
        compute: Some(compute.record()),
        ..image.clone()
    };
    if image.objective != Objective::Image {
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
    let mut model = VideoModel::new(space, build, info.text.clone(), compute.device)?;
    compute.prepare(&mut model.vs);
    model.load_image_weights(&image_run.join("model.safetensors"))?;
    if let Some(init) = &stage.init_from {
        let file = if init.is_file() {
            init.clone()
        } else {
            init.join("model.safetensors")
        };
        // Every temporal weight this model holds (a sub-supernet: all; a candidate: its own),
        // and the text path, which a supernet trained with --text-path changed (else it equals
        // the stage-1 weights just loaded).
        model.load_matching(&file, |n| is_temporal(n) || is_text_path(n))?;
    }
    check_captions(
        &model,
        &info.vocab,
        &info.data.source,
        &[&train_data, &val_data],
    )?;
    let trainer = trainer(&mut model, objective, train, &train_data, &info.vocab, run);
    run_trainer(trainer.on(compute)?, run, &info, resume, progress)?;
    Ok(info)
}

/// Checks that `init` is a finished supernet run on `space` trained on top of `image_run`.
fn check_init_run(space: &Space, init: &Path, image_run: &Path) -> Result<(), TrainError> {
    let info = RunInfo::load(init)?;
    info.check_space(space, init)?;
    if info.objective.sampling().is_none() {
        return Err(TrainError::file(
            init.join("run.json"),
            format!(
                "objective is `{}`, not a supernet; start from a run made by `vidnas supernet train`",
                info.objective
            ),
        ));
    }
    let same_image = match info.image_run.as_deref() {
        None => false,
        Some(i) if i == image_run => true,
        Some(_) => info
            .image_run_folder(init)?
            .is_some_and(|i| same_folder(&i, image_run)),
    };
    if !same_image {
        return Err(TrainError::file(
            init.join("run.json"),
            format!(
                "was trained on stage-1 run {} but --image is {}; pass the supernet's own stage-1 run",
                info.image_run
                    .as_deref()
                    .map_or("(none)".into(), |p| p.display().to_string()),
                image_run.display()
            ),
        ));
    }
    let weights = init.join("model.safetensors");
    if !weights.exists() {
        return Err(TrainError::file(
            &weights,
            "missing: the supernet has not finished training; resume it first",
        ));
    }
    Ok(())
}

/// Whether two paths name the same folder (as written, or once resolved).
fn same_folder(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
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
    /// Loads a supernet (or image / stand-alone) run folder onto `device`.
    pub fn open(space: &Space, run: &Path, device: Device) -> Result<Self, TrainError> {
        let info = RunInfo::load(run)?;
        info.check_space(space, run)?;
        let build = info.build(space, run)?;
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
        let mut model = VideoModel::new(space, build, info.text.clone(), device)?;
        model.load_all(&weights)?;
        let (_, val) = datasets(space, &info.data_resolved(run)?)?;
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
        if let Objective::SubSupernet(..) = self.info.objective {
            return Err(self.wrong_run(format!(
                "objective is `{}`: one part of a few-shot supernet; pass the folder holding its split.json",
                self.info.objective
            )));
        }
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
        if !Space::in_region(arch, self.info.objective.region()) {
            return Err(self.wrong_run(format!(
                "this sub-supernet (objective `{}`) was trained only on architectures with those ops at those slots, not {arch}; score through its few-shot folder (the one holding split.json)",
                self.info.objective
            )));
        }
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
