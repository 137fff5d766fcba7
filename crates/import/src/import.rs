//! A diffusers model folder → a search space: the backbone from its config, the clip from its
//! sample size, the temporal ops from a template.

use crate::config::Config;
use crate::error::ImportError;
use std::path::{Path, PathBuf};
use vidnas_space::{Backbone, Space, SpaceFile, TemporalSpec, Video, FORMAT_VERSION};

/// The space the default temporal template comes from.
const TEMPLATE: &str = include_str!("../../../search-spaces/tiny.json");

/// Choices the config does not make.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOptions {
    /// Space name; default: the model folder's name.
    pub name: Option<String>,
    /// Frames per clip.
    pub frames: usize,
    /// Spatial down-scaling of the VAE; default: 8 for 4-channel latents (Stable Diffusion's
    /// VAE), else 1 (a pixel-space model).
    pub vae_scale_factor: Option<usize>,
    /// Temporal ops, placement and constraints, used as given; default: [`default_temporal`].
    pub temporal: Option<TemporalSpec>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            name: None,
            frames: 8,
            vae_scale_factor: None,
            temporal: None,
        }
    }
}

/// The temporal template of `search-spaces/tiny.json` fitted to `backbone`: both attention ops
/// get `gcd(attention_head_dim, every block's channels)` heads (the backbone's own head count
/// where it divides every stage), and attn3d is allowed only at the lowest-resolution stage.
pub fn default_temporal(backbone: &Backbone) -> TemporalSpec {
    let template: SpaceFile =
        serde_json::from_str(TEMPLATE).expect("search-spaces/tiny.json parses (tested)");
    let mut temporal = template.temporal;
    let heads = backbone
        .block_out_channels
        .iter()
        .fold(backbone.attention_head_dim, |g, &c| gcd(g, c))
        .max(1);
    let lowest = backbone.sample_size >> (backbone.block_out_channels.len().saturating_sub(1));
    if let Some(a) = temporal.ops.attn1d.as_mut() {
        a.num_heads = heads;
    }
    if let Some(a) = temporal.ops.attn3d.as_mut() {
        a.num_heads = heads;
        a.max_resolution = Some(lowest.max(1));
    }
    // tiny.json limits conv3d for CPU training speed; an imported backbone searches it everywhere.
    if let Some(c) = temporal.ops.conv3d.as_mut() {
        c.max_resolution = None;
    }
    temporal
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Finds the config: `dir/config.json`, `dir/unet/config.json` (a pipeline folder), or `dir`
/// itself when it is a file.
pub fn find_config(dir: &Path) -> Result<PathBuf, ImportError> {
    if dir.is_file() {
        return Ok(dir.to_path_buf());
    }
    [
        dir.join("config.json"),
        dir.join("unet").join("config.json"),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .ok_or_else(|| ImportError::NotFound {
        path: dir.to_path_buf(),
    })
}

/// The model's name from its folder: the folder holding config.json, or the pipeline folder
/// above a `unet/` folder.
fn folder_name(config: &Path) -> String {
    let names: Vec<String> = config
        .ancestors()
        .skip(1)
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .take(2)
        .collect();
    match names.as_slice() {
        [unet, pipeline, ..] if unet == "unet" => pipeline.clone(),
        [folder, ..] => folder.clone(),
        [] => "imported".to_string(),
    }
}

/// Reads the diffusers `UNet2DConditionModel` at `dir` (a folder with `config.json`, a pipeline
/// folder with `unet/config.json`, or the config file itself) and returns a validated space
/// whose backbone is exactly that network, so its `diffusion_pytorch_model.safetensors` loads
/// into the vidnas UNet by name. Configs vidnas cannot express are refused with the key named.
pub fn import_diffusers_config(dir: &Path, opts: &ImportOptions) -> Result<SpaceFile, ImportError> {
    let path = find_config(dir)?;
    let bytes = std::fs::read(&path).map_err(|source| ImportError::Read {
        path: path.clone(),
        source,
    })?;
    let config = Config::parse(&path, crate::text::decode(&path, &bytes)?)?;
    let backbone = config.backbone()?;
    let side = backbone.sample_size;
    let channels = backbone.in_channels;
    let (vae_scale_factor, vae_note) = match opts.vae_scale_factor {
        Some(f) => (f, "given"),
        None if channels == 4 => (8, "assumed: a Stable-Diffusion-style 8x VAE"),
        None => (1, "assumed: pixel space"),
    };
    let (temporal, temporal_note) = match &opts.temporal {
        Some(t) => (
            t.clone(),
            "Temporal ops, placement and constraints: given".to_string(),
        ),
        None => {
            let t = default_temporal(&backbone);
            let heads = t.ops.attn1d.as_ref().map_or(0, |a| a.num_heads);
            let lowest = side >> (backbone.block_out_channels.len().saturating_sub(1));
            (
                t,
                format!(
                    "Temporal ops, placement and constraints from search-spaces/tiny.json, with \
                     {heads} attention heads (gcd of attention_head_dim and the block channels) \
                     and attn3d only at the lowest-resolution stage ({lowest}x{lowest})."
                ),
            )
        }
    };
    let version = config
        .diffusers_version
        .as_deref()
        .map_or(String::new(), |v| format!(" (saved by diffusers {v})"));
    let model = folder_name(&path);
    let file = SpaceFile {
        format: FORMAT_VERSION.to_string(),
        name: opts.name.clone().unwrap_or_else(|| model.clone()),
        notes: vec![
            // The model's name, not its path: the notes are part of the space's hash.
            format!(
                "Imported by vidnas-import from the config.json of `{model}`{version}: the \
                 backbone is exactly that UNet2DConditionModel, so its safetensors load by \
                 diffusers state-dict key."
            ),
            format!(
                "Clip: {} frames of the config's sample_size {side}x{side} with {channels} \
                 channels; vae_scale_factor {vae_scale_factor} ({vae_note}).",
                opts.frames
            ),
            temporal_note,
        ],
        video: Video {
            frames: opts.frames,
            height: side,
            width: side,
            channels,
            vae_scale_factor,
        },
        backbone,
        temporal,
    };
    Space::from_file(&path, file.clone())?;
    Ok(file)
}
