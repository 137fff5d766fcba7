//! The search-space file format (`format: "vidnas-space/1"`). Unknown fields are rejected so a
//! typo never silently falls back to a default.

use crate::ops::{OpHyper, OpKind, Structure};
use serde::{Deserialize, Serialize};

pub const FORMAT_VERSION: &str = "vidnas-space/1";

/// A search-space file as written on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpaceFile {
    /// Must equal [`FORMAT_VERSION`].
    pub format: String,
    /// Short name, used in run folders and exported configs.
    pub name: String,
    /// Free text: where the numbers come from and what was assumed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub video: Video,
    pub backbone: Backbone,
    pub temporal: TemporalSpec,
}

/// The clip the denoiser sees (pixels for a pixel-space model, latents for a latent one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Video {
    pub frames: usize,
    pub height: usize,
    pub width: usize,
    /// Must equal `backbone.in_channels`.
    pub channels: usize,
    /// Spatial down-scaling of the VAE the latents come from; 1 for a pixel-space model.
    #[serde(default = "one")]
    pub vae_scale_factor: usize,
}

fn one() -> usize {
    1
}
fn default_eps() -> f64 {
    1e-5
}
fn yes() -> bool {
    true
}

/// The spatial backbone: the supported subset of diffusers' `UNet2DConditionModel` config, with
/// the same keys, so a real checkpoint's `config.json` maps onto it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backbone {
    pub sample_size: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    /// Output channels of each down block (reversed for the up blocks).
    pub block_out_channels: Vec<usize>,
    /// ResNet layers per down block; up blocks have one more.
    pub layers_per_block: usize,
    /// `DownBlock2D` or `CrossAttnDownBlock2D`, one per entry of `block_out_channels`.
    pub down_block_types: Vec<String>,
    /// `UpBlock2D` or `CrossAttnUpBlock2D`, lowest resolution first (diffusers' order).
    pub up_block_types: Vec<String>,
    /// `UNetMidBlock2DCrossAttn` or `UNetMidBlock2D`.
    pub mid_block_type: String,
    /// Width of the text embeddings the cross-attention reads.
    pub cross_attention_dim: usize,
    /// diffusers' legacy meaning: the number of attention heads.
    pub attention_head_dim: usize,
    pub norm_num_groups: usize,
    #[serde(default = "default_eps")]
    pub norm_eps: f64,
    #[serde(default = "yes")]
    pub flip_sin_to_cos: bool,
    #[serde(default)]
    pub freq_shift: usize,
    #[serde(default = "one")]
    pub transformer_layers_per_block: usize,
    #[serde(default)]
    pub use_linear_projection: bool,
}

impl Backbone {
    pub fn has_cross_attention_down(&self, block: usize) -> bool {
        self.down_block_types[block] == "CrossAttnDownBlock2D"
    }
    pub fn has_cross_attention_up(&self, block: usize) -> bool {
        self.up_block_types[block] == "CrossAttnUpBlock2D"
    }
    pub fn has_mid_attention(&self) -> bool {
        self.mid_block_type == "UNetMidBlock2DCrossAttn"
    }
    /// Channels of the time embedding (diffusers: 4 × the first block's channels).
    pub fn time_embed_dim(&self) -> usize {
        self.block_out_channels[0] * 4
    }
}

/// Which temporal ops exist, where they go, and which architectures are allowed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporalSpec {
    pub ops: OpsSpec,
    #[serde(default)]
    pub placement: Placement,
    #[serde(default)]
    pub constraints: Constraints,
}

/// Candidate ops with their hyper-parameters; an op left out is not searched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpsSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub none: Option<NoneOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv1d: Option<ConvOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv3d: Option<ConvOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attn1d: Option<AttnOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attn3d: Option<AttnOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conv2plus1d: Option<ConvOp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attn3d_stride: Option<AttnOp>,
}

/// One declared op's entry of [`OpsSpec`], whichever hyper-parameters it has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OpParams<'a> {
    None(&'a NoneOp),
    Conv(&'a ConvOp),
    Attn(&'a AttnOp),
}

impl OpsSpec {
    /// The entry of `op`, if the file declares it. The one place that maps an op to its field.
    pub fn get(&self, op: OpKind) -> Option<OpParams<'_>> {
        match op {
            OpKind::None => self.none.as_ref().map(OpParams::None),
            OpKind::Conv1d => self.conv1d.as_ref().map(OpParams::Conv),
            OpKind::Conv3d => self.conv3d.as_ref().map(OpParams::Conv),
            OpKind::Attn1d => self.attn1d.as_ref().map(OpParams::Attn),
            OpKind::Attn3d => self.attn3d.as_ref().map(OpParams::Attn),
            OpKind::Conv2plus1d => self.conv2plus1d.as_ref().map(OpParams::Conv),
            OpKind::Attn3dStride => self.attn3d_stride.as_ref().map(OpParams::Attn),
        }
    }

    /// The declared ops with their entries, in canonical order.
    pub fn declared(&self) -> impl Iterator<Item = (OpKind, OpParams<'_>)> + '_ {
        OpKind::ALL
            .into_iter()
            .filter_map(|op| self.get(op).map(|p| (op, p)))
    }
}

impl OpParams<'_> {
    /// The op is only allowed at slots whose height and width are at most this.
    pub fn max_resolution(self) -> Option<usize> {
        match self {
            OpParams::None(_) => None,
            OpParams::Conv(c) => c.max_resolution,
            OpParams::Attn(a) => a.max_resolution,
        }
    }

    /// `kernel_size`, for an entry that has one (the `k` of a [`Structure::Conv`]).
    pub fn kernel_size(self) -> Option<usize> {
        match self {
            OpParams::Conv(c) => Some(c.kernel_size),
            OpParams::None(_) | OpParams::Attn(_) => None,
        }
    }

    /// `num_heads`, for an entry that has one (the heads of a [`Structure::Attention`]).
    pub fn num_heads(self) -> Option<usize> {
        match self {
            OpParams::Attn(a) => Some(a.num_heads),
            OpParams::None(_) | OpParams::Conv(_) => None,
        }
    }

    /// `stride`, for an attention entry that has one (the stride of [`crate::Keys::Strided`]).
    pub fn stride(self) -> Option<usize> {
        match self {
            OpParams::Attn(a) => a.stride,
            OpParams::None(_) | OpParams::Conv(_) => None,
        }
    }

    /// The hyper-parameters the op's structure reads: `kernel_size` of a convolution,
    /// `num_heads` (and `stride`) of an attention; `None` for the identity.
    pub fn hyper(self) -> Option<OpHyper> {
        let size = self.kernel_size().or(self.num_heads())?;
        Some(OpHyper {
            size: size as u64,
            stride: self.stride().unwrap_or(1) as u64,
        })
    }

    /// Whether these are the hyper-parameters `structure` reads (a stride exactly where the
    /// keys are strided).
    pub fn fits(self, structure: Structure) -> bool {
        match structure {
            Structure::Identity => matches!(self, OpParams::None(_)),
            Structure::Conv { .. } => matches!(self, OpParams::Conv(_)),
            Structure::Attention { .. } => {
                matches!(self, OpParams::Attn(_)) && self.stride().is_some() == structure.strided()
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoneOp {}

/// A temporal (1-D) or spatio-temporal (3-D) convolution block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvOp {
    /// Kernel size along time (and along height and width for conv3d); odd.
    pub kernel_size: usize,
    /// The op is only allowed at slots whose height and width are at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_resolution: Option<usize>,
}

/// A temporal (1-D) or spatio-temporal (3-D) self-attention block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttnOp {
    /// Attention heads; must divide every slot's channels.
    pub num_heads: usize,
    /// Strided attention only: each query attends to every `stride`-th token of its sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stride: Option<usize>,
    /// The op is only allowed at slots whose height and width are at most this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_resolution: Option<usize>,
}

/// Where temporal slots go in the backbone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// After every ResNet (+ spatial attention) layer of every block, and after the mid block.
    #[default]
    EveryLayer,
    /// After the last layer of every block, and after the mid block.
    LastLayerOfBlock,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Constraints {
    /// At least this many slots hold a temporal op (not `none`).
    #[serde(default)]
    pub min_temporal_layers: usize,
    /// At most this many slots hold a temporal op.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_temporal_layers: Option<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every op of the registry has a field in `temporal.ops`, named as the op, whose entry
    /// carries the hyper-parameters its structure reads.
    #[test]
    fn every_op_has_an_entry_its_structure_reads() {
        let mut ops = serde_json::Map::new();
        for op in OpKind::ALL {
            let entry = match op.spec().structure {
                Structure::Identity => serde_json::json!({}),
                Structure::Conv { .. } => serde_json::json!({ "kernel_size": 3 }),
                Structure::Attention { keys, .. } if keys.strided() => {
                    serde_json::json!({ "num_heads": 2, "stride": 2 })
                }
                Structure::Attention { .. } => serde_json::json!({ "num_heads": 2 }),
            };
            ops.insert(op.as_str().into(), entry);
        }
        let spec: OpsSpec = serde_json::from_value(ops.into())
            .unwrap_or_else(|e| panic!("`temporal.ops` refuses an op of the registry: {e}"));
        for op in OpKind::ALL {
            let structure = op.spec().structure;
            match spec.get(op) {
                Some(params) if params.fits(structure) => {}
                other => panic!("`{op}`: OpsSpec::get gives {other:?} for {structure:?}"),
            }
        }
        let declared: Vec<OpKind> = spec.declared().map(|(op, _)| op).collect();
        assert_eq!(
            declared,
            OpKind::ALL,
            "declared() keeps the canonical order"
        );
    }
}
