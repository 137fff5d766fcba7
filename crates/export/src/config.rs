use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tch::Device;
use vidnas_data::Vocab;
use vidnas_diffusion::{NoiseSchedule, VideoModel};
use vidnas_diffusion::{Objective, RunInfo};
use vidnas_io::sha256_16;
use vidnas_nn::{holds_any, is_temporal, Build, TextEncoderConfig};
use vidnas_space::{Architecture, OpKind, Space, SpaceFile};

pub const CONFIG_FORMAT: &str = "vidnas-arch/1";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error(transparent)]
    Train(#[from] vidnas_diffusion::TrainError),
    #[error(transparent)]
    Space(#[from] vidnas_space::SpaceError),
}

impl From<vidnas_io::FileError> for ExportError {
    fn from(e: vidnas_io::FileError) -> Self {
        ExportError::File {
            path: e.path,
            message: e.message,
        }
    }
}

fn file_err(path: &Path, message: impl std::fmt::Display) -> ExportError {
    ExportError::File {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Predicted cost on the table the search used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictedCost {
    pub latency_ms: f64,
    pub peak_mem_mb: f64,
    pub params: u64,
    /// The table's device name and path.
    pub table: String,
}

/// Where every input of the export came from, to reproduce or audit it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    pub space_hash: String,
    /// SHA-256 (first 16 hex digits) of the latency table file.
    pub table_sha256: Option<String>,
    /// SHA-256 (first 16 hex digits) of the supernet weights the subnet was cut from.
    pub supernet_sha256: String,
    pub supernet_run: PathBuf,
    pub search_run: Option<PathBuf>,
    pub search_seed: Option<u64>,
    /// How the architecture was chosen, e.g. `knee`, `best-under-latency 40`.
    pub selection: String,
    pub created: String,
    pub vidnas_version: String,
}

/// `configs/<name>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchConfig {
    pub format: String,
    pub name: String,
    pub arch_id: String,
    /// Canonical encoding (slot order of `space.slots`).
    pub arch: String,
    /// `{slot name: op}` for every slot.
    pub slots: BTreeMap<String, OpKind>,
    /// The whole search space (backbone, video shape, op hyper-parameters) so the config
    /// stands alone.
    pub space: SpaceFile,
    pub schedule: NoiseSchedule,
    pub text_encoder: TextEncoderConfig,
    pub vocab: Vocab,
    /// Supernet validation loss (lower is better), when the search scored it.
    pub score: Option<f64>,
    pub predicted: Option<PredictedCost>,
    /// Weights file, relative to this config.
    pub weights: String,
    pub provenance: Provenance,
}

impl ArchConfig {
    /// Checks the fields a model is built from beyond what the space checks; the message
    /// names the field and the fix.
    fn validate(&self, space: &Space, arch: &Architecture) -> Result<(), String> {
        self.schedule.validate()?;
        self.text_encoder.validate("text_encoder")?;
        let dim = space.file.backbone.cross_attention_dim as i64;
        if self.text_encoder.dim != dim {
            return Err(format!(
                "text_encoder.dim is {} but space.backbone.cross_attention_dim is {dim}; they must be equal",
                self.text_encoder.dim
            ));
        }
        if self.text_encoder.precomputed.is_none()
            && self.text_encoder.vocab_size != self.vocab.len() as i64
        {
            return Err(format!(
                "text_encoder.vocab_size is {} but vocab holds {} words; re-export the config",
                self.text_encoder.vocab_size,
                self.vocab.len()
            ));
        }
        if self.slots != arch.slot_map(space) {
            return Err(format!(
                "slots does not match arch {}; re-export the config or make slots agree with arch",
                self.arch
            ));
        }
        if self.weights.trim().is_empty() {
            return Err("weights is empty; name the safetensors file beside the config".into());
        }
        if let Some(score) = self.score {
            if !score.is_finite() {
                return Err(format!(
                    "score is {score}; it must be a finite number or null"
                ));
            }
        }
        Ok(())
    }
}

pub struct ExportRequest<'a> {
    pub space: &'a Space,
    pub arch: &'a Architecture,
    pub supernet_run: &'a Path,
    pub out_dir: &'a Path,
    pub name: &'a str,
    pub score: Option<f64>,
    pub predicted: Option<PredictedCost>,
    pub table_path: Option<&'a Path>,
    pub search_run: Option<&'a Path>,
    pub search_seed: Option<u64>,
    pub selection: String,
}

/// Cuts `arch` out of the supernet: writes `<out>/<name>.safetensors` and `<out>/<name>.json`.
pub fn export(req: &ExportRequest) -> Result<PathBuf, ExportError> {
    let info = RunInfo::load(req.supernet_run)?;
    info.check_space(req.space, req.supernet_run)?;
    req.space.check_arch(req.arch)?;
    let holds_arch = match &info.objective {
        Objective::Supernet(_) => true,
        Objective::SubSupernet(_, fixed) => Space::in_region(req.arch, fixed),
        Objective::Standalone(a) | Objective::Full(a) => a == req.arch,
        Objective::Image => false,
    };
    if !holds_arch {
        return Err(file_err(
            &req.supernet_run.join("run.json"),
            format!(
                "run `{}` holds no weights for {}; export from a supernet run",
                info.objective, req.arch
            ),
        ));
    }
    let weights_in = req.supernet_run.join("model.safetensors");
    let mut model = VideoModel::new(
        req.space,
        Build::Subnet(req.arch.clone()),
        info.text.clone(),
        Device::Cpu,
    )?;
    model.load_all(&weights_in)?;
    std::fs::create_dir_all(req.out_dir).map_err(|e| file_err(req.out_dir, e))?;
    let weights_name = format!("{}.safetensors", req.name);
    model.save_all(&req.out_dir.join(&weights_name))?;
    let config = ArchConfig {
        format: CONFIG_FORMAT.into(),
        name: req.name.into(),
        arch_id: req.arch.id(),
        arch: req.arch.encode(),
        slots: req.arch.slot_map(req.space),
        space: req.space.file.clone(),
        schedule: info.train.schedule.clone(),
        text_encoder: info.text.clone(),
        vocab: info.vocab.clone(),
        score: req.score,
        predicted: req.predicted.clone(),
        weights: weights_name,
        provenance: Provenance {
            space_hash: req.space.hash().into(),
            table_sha256: req.table_path.map(sha256_16).transpose()?,
            supernet_sha256: sha256_16(&weights_in)?,
            supernet_run: req.supernet_run.to_path_buf(),
            search_run: req.search_run.map(Path::to_path_buf),
            search_seed: req.search_seed,
            selection: req.selection.clone(),
            created: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            vidnas_version: env!("CARGO_PKG_VERSION").into(),
        },
    };
    let path = req.out_dir.join(format!("{}.json", req.name));
    vidnas_io::write_json(&path, &config)?;
    Ok(path)
}

/// Reads an exported config and builds its model with the exported weights.
pub fn load_exported(
    config_path: &Path,
) -> Result<(ArchConfig, Space, Architecture, VideoModel), ExportError> {
    load_exported_with(config_path, None)
}

/// As [`load_exported`], but with the weights of `weights` (e.g. a fine-tuned or distilled
/// model of the same architecture) instead of the file the config names, which need not exist.
pub fn load_exported_with(
    config_path: &Path,
    weights: Option<&Path>,
) -> Result<(ArchConfig, Space, Architecture, VideoModel), ExportError> {
    load_exported_on(config_path, weights, Device::Cpu)
}

/// As [`load_exported_with`], with the model built on `device` (the weights files do not
/// depend on the device they were written from).
pub fn load_exported_on(
    config_path: &Path,
    weights: Option<&Path>,
    device: Device,
) -> Result<(ArchConfig, Space, Architecture, VideoModel), ExportError> {
    let (config, space, arch) = read_config(config_path)?;
    let mut model = build_model(&config, &space, &arch, device)?;
    model.load_all(&weights_path(config_path, &config, weights))?;
    Ok((config, space, arch, model))
}

/// Another architecture `arch` of an exported config's space, built on `device`: the spatial
/// layers and text encoder come from the weights (`weights`, else the config's file); the
/// temporal layers too when that file holds temporal weights (a supernet's holds every op of
/// every slot), else they start as fresh zero-output layers (an image model's file). Returns
/// the config rewritten for `arch` and whether the temporal layers were loaded.
pub fn load_exported_as(
    config_path: &Path,
    weights: Option<&Path>,
    arch: &str,
    device: Device,
) -> Result<(ArchConfig, Space, Architecture, VideoModel, bool), ExportError> {
    let (config, space, _) = read_config(config_path)?;
    let arch = space.parse_arch(arch).map_err(|e| {
        file_err(
            config_path,
            format!("--arch {arch} is not an architecture of its space: {e}"),
        )
    })?;
    let config = ArchConfig {
        arch_id: arch.id(),
        arch: arch.encode(),
        slots: arch.slot_map(&space),
        ..config
    };
    let mut model = build_model(&config, &space, &arch, device)?;
    let file = weights_path(config_path, &config, weights);
    model.load_matching(&file, |n| !is_temporal(n))?;
    let temporal = holds_any(&file, is_temporal).map_err(vidnas_diffusion::TrainError::from)?;
    if temporal {
        model.load_matching(&file, is_temporal)?;
    }
    Ok((config, space, arch, model, temporal))
}

/// Reads and checks an exported config: its format, space, architecture and fields.
fn read_config(config_path: &Path) -> Result<(ArchConfig, Space, Architecture), ExportError> {
    let config: ArchConfig = vidnas_io::read_json(config_path)?;
    if config.format != CONFIG_FORMAT {
        return Err(file_err(
            config_path,
            format!("format `{}` is not `{CONFIG_FORMAT}`", config.format),
        ));
    }
    let space = Space::from_file(config_path, config.space.clone())?;
    let arch = space.parse_arch(&config.arch)?;
    if arch.id() != config.arch_id {
        return Err(file_err(
            config_path,
            format!(
                "arch_id {} does not match arch {}",
                config.arch_id, config.arch
            ),
        ));
    }
    config
        .validate(&space, &arch)
        .map_err(|m| file_err(config_path, m))?;
    Ok((config, space, arch))
}

/// The (randomly initialised) model of `arch`, once it is known to fit in memory.
fn build_model(
    config: &ArchConfig,
    space: &Space,
    arch: &Architecture,
    device: Device,
) -> Result<VideoModel, ExportError> {
    let build = Build::Subnet(arch.clone());
    vidnas_diffusion::check_fits(space, &build, &config.text_encoder, 1, "the model")?;
    Ok(VideoModel::new(
        space,
        build,
        config.text_encoder.clone(),
        device,
    )?)
}

/// The weights a model is loaded with: `weights` when given, else the file the config names,
/// relative to the config's folder.
pub fn weights_path(config_path: &Path, config: &ArchConfig, weights: Option<&Path>) -> PathBuf {
    match weights {
        Some(w) => w.to_path_buf(),
        None => config_path
            .parent()
            .unwrap_or(Path::new("."))
            .join(&config.weights),
    }
}
