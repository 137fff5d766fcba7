//! A text-to-video model: the video UNet (diffusers keys at the root of the var store) and the
//! text encoder (under `text_encoder.`), built for one stage: image, supernet or subnet.

use crate::error::TrainError;
use std::path::Path;
use tch::{nn, Device, Tensor};
use vidnas_data::Vocab;
use vidnas_nn::{
    is_temporal, load_into, save_filtered, Build, PromptTable, TextEncoder, TextEncoderConfig,
    VideoUNet, PROMPT_TABLE_VAR,
};
use vidnas_space::{Architecture, Space};

pub const TEXT_PREFIX: &str = "text_encoder.";

pub struct VideoModel {
    pub vs: nn::VarStore,
    pub unet: VideoUNet,
    pub text: TextEncoder,
    pub space: Space,
    pub build: Build,
}

impl VideoModel {
    pub fn new(
        space: &Space,
        build: Build,
        text: TextEncoderConfig,
        device: Device,
    ) -> Result<Self, TrainError> {
        let dim = space.file.backbone.cross_attention_dim as i64;
        if text.dim != dim {
            return Err(TrainError::Config(format!(
                "text encoder width {} differs from the backbone's cross_attention_dim {dim} in {}",
                text.dim,
                space.path.display()
            )));
        }
        let vs = nn::VarStore::new(device);
        let unet = VideoUNet::new(&vs.root(), space, &build);
        let text = TextEncoder::new(vs.root() / "text_encoder", text);
        Ok(Self {
            vs,
            unet,
            text,
            space: space.clone(),
            build,
        })
    }

    /// Runs the denoiser on clips `[B, C, T, H, W]`.
    pub fn denoise(
        &self,
        xt: &Tensor,
        timesteps: &Tensor,
        context: &Tensor,
        arch: &Architecture,
    ) -> Tensor {
        self.unet.forward(xt, timesteps, context, arch)
    }

    /// Text-encoder input for `captions`: token ids `[B, max_tokens]`, or rows `[B, 1]` of the
    /// precomputed prompt table. Unknown words or prompts are an error naming them.
    pub fn prompt_ids(&self, captions: &[&str], vocab: &Vocab) -> Result<Tensor, TrainError> {
        let config = &self.text.config;
        let (ids, width) = match &config.precomputed {
            Some(p) => {
                let missing: Vec<&str> = captions
                    .iter()
                    .copied()
                    .filter(|c| self.text.prompt_row(c).is_none())
                    .collect();
                if !missing.is_empty() {
                    return Err(TrainError::file(
                        &p.file,
                        format!(
                            "no precomputed embedding for {} prompt(s), e.g. {:?}; embed them with the same text encoder and add them to the file, then rerun stage 1",
                            missing.len(),
                            missing[0]
                        ),
                    ));
                }
                let rows = captions.iter().filter_map(|c| self.text.prompt_row(c));
                (rows.collect::<Vec<i64>>(), 1)
            }
            None => {
                let max_tokens = config.max_tokens as usize;
                let mut ids = Vec::with_capacity(captions.len() * max_tokens);
                for c in captions {
                    ids.extend(vocab.tokenize(c, max_tokens)?);
                }
                (ids, max_tokens as i64)
            }
        };
        Ok(Tensor::from_slice(&ids)
            .view([captions.len() as i64, width])
            .to_device(self.vs.device()))
    }

    /// Text context `[B, tokens, dim]` for `captions` (no caption dropout).
    pub fn prompt_context(&self, captions: &[&str], vocab: &Vocab) -> Result<Tensor, TrainError> {
        Ok(self.text.encode(&self.prompt_ids(captions, vocab)?))
    }

    /// Reads precomputed prompt embeddings into the text encoder (stage 1 only: later stages
    /// load them with the rest of the weights).
    pub fn load_prompt_table(&mut self, table: &PromptTable) -> Result<(), TrainError> {
        let file = self
            .text
            .config
            .precomputed
            .as_ref()
            .map(|p| p.file.clone())
            .unwrap_or_default();
        self.text
            .load_table(table)
            .map_err(|e| TrainError::file(file, e))
    }

    /// Loads every spatial weight and the text encoder (stage-1 output); temporal layers keep
    /// their zero-output initialisation.
    pub fn load_image_weights(&mut self, path: &Path) -> Result<usize, TrainError> {
        Ok(load_into(&self.vs, path, |n| !is_temporal(n))?)
    }

    /// Loads the weights whose names pass `wanted` from `path` (each must be there).
    pub fn load_matching(
        &mut self,
        path: &Path,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<usize, TrainError> {
        Ok(load_into(&self.vs, path, wanted)?)
    }

    /// Loads every weight of this model from `path`.
    pub fn load_all(&mut self, path: &Path) -> Result<usize, TrainError> {
        Ok(load_into(&self.vs, path, |_| true)?)
    }

    pub fn save_all(&self, path: &Path) -> Result<usize, TrainError> {
        Ok(save_filtered(&self.vs, path, |_| true)?)
    }

    /// Freezes everything except the temporal layers; returns the trainable variables.
    pub fn temporal_only(&mut self) -> Vec<(String, Tensor)> {
        self.trainable(is_temporal)
    }

    /// Marks variables passing `keep` trainable and all others frozen; returns the trainable ones.
    /// Precomputed prompt embeddings never train.
    pub fn trainable(&mut self, keep: impl Fn(&str) -> bool) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        let table = format!("{TEXT_PREFIX}{PROMPT_TABLE_VAR}");
        for (name, var) in self.vs.variables() {
            let train = keep(&name) && name != table;
            let _ = var.set_requires_grad(train);
            if train {
                out.push((name, var));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    pub fn num_params(&self, filter: impl Fn(&str) -> bool) -> i64 {
        self.vs
            .variables()
            .iter()
            .filter(|(n, _)| filter(n))
            .map(|(_, t)| t.numel() as i64)
            .sum()
    }
}
