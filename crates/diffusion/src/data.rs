//! Where a run's clips come from, and its training and validation datasets.

use crate::error::TrainError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use vidnas_data::{load_folder_dataset, load_latent_clips, Dataset, ProceduralConfig, Vocab};
use vidnas_nn::TextEncoderConfig;
use vidnas_space::Space;

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

pub(crate) fn check_pixel_space(space: &Space, what: &str) -> Result<(), TrainError> {
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
