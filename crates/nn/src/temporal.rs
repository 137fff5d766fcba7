//! Temporal layers that turn an image UNet into a video UNet. Every op is residual and its last
//! projection starts at zero, so an inflated network equals the image network frame by frame.
//!
//! All ops take the spatial layout, frames folded into the batch: `[B·T, C, H, W]`.

use crate::attention::Attention;
use tch::{nn, Kind, Tensor};
use vidnas_space::OpKind;

/// `[B·T, C, H, W]` → `[B, C, T, H, W]`.
fn unfold_frames(xs: &Tensor, frames: i64) -> Tensor {
    let (n, c, h, w) = xs.size4().expect("[B*T, C, H, W]");
    // Contiguous: libtorch 2.13's channels-last GroupNorm backward crashes on this permuted view.
    xs.view([n / frames, frames, c, h, w])
        .permute([0, 2, 1, 3, 4])
        .contiguous()
}

/// `[B, C, T, H, W]` → `[B·T, C, H, W]`.
fn fold_frames(xs: &Tensor) -> Tensor {
    let (b, c, t, h, w) = xs.size5().expect("[B, C, T, H, W]");
    xs.permute([0, 2, 1, 3, 4]).reshape([b * t, c, h, w])
}

/// Shape options shared by the temporal ops of one space.
#[derive(Debug, Clone, Copy)]
pub struct TemporalConfig {
    pub groups: i64,
    pub conv1d_kernel: i64,
    pub conv3d_kernel: i64,
    pub attn1d_heads: i64,
    pub attn3d_heads: i64,
}

/// One temporal op at one slot.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // built once per slot: its size does not matter
pub enum TemporalOp {
    Conv(TemporalConv),
    Attn(TemporalAttention),
}

impl TemporalOp {
    /// Builds `op` at `vs` for `channels`; `None` has no layer and is never built.
    pub fn new(vs: nn::Path, op: OpKind, channels: i64, cfg: &TemporalConfig) -> Option<Self> {
        match op {
            OpKind::None => None,
            OpKind::Conv1d => Some(TemporalOp::Conv(TemporalConv::new(
                vs,
                channels,
                cfg.conv1d_kernel,
                false,
                cfg.groups,
            ))),
            OpKind::Conv3d => Some(TemporalOp::Conv(TemporalConv::new(
                vs,
                channels,
                cfg.conv3d_kernel,
                true,
                cfg.groups,
            ))),
            OpKind::Attn1d => Some(TemporalOp::Attn(TemporalAttention::new(
                vs,
                channels,
                cfg.attn1d_heads,
                false,
                cfg.groups,
            ))),
            OpKind::Attn3d => Some(TemporalOp::Attn(TemporalAttention::new(
                vs,
                channels,
                cfg.attn3d_heads,
                true,
                cfg.groups,
            ))),
        }
    }

    pub fn forward(&self, xs: &Tensor, frames: i64) -> Tensor {
        match self {
            TemporalOp::Conv(op) => op.forward(xs, frames),
            TemporalOp::Attn(op) => op.forward(xs, frames),
        }
    }
}

/// `norm1 → SiLU → conv1 → norm2 → SiLU → conv2`, residual; conv1d folds space into the
/// batch and convolves over time, conv3d convolves over time and space.
#[derive(Debug)]
pub struct TemporalConv {
    norm1: nn::GroupNorm,
    norm2: nn::GroupNorm,
    conv1: ConvKind,
    conv2: ConvKind,
}

#[derive(Debug)]
enum ConvKind {
    OverTime(nn::Conv1D),
    OverSpaceTime(nn::Conv3D),
}

impl TemporalConv {
    pub fn new(vs: nn::Path, channels: i64, kernel: i64, spatial: bool, groups: i64) -> Self {
        let cfg1 = nn::ConvConfig {
            padding: kernel / 2,
            ..Default::default()
        };
        let zero = nn::ConvConfig {
            ws_init: nn::Init::Const(0.0),
            bs_init: nn::Init::Const(0.0),
            ..cfg1
        };
        let conv = |name: &str, cfg| {
            if spatial {
                ConvKind::OverSpaceTime(nn::conv3d(&vs / name, channels, channels, kernel, cfg))
            } else {
                ConvKind::OverTime(nn::conv1d(&vs / name, channels, channels, kernel, cfg))
            }
        };
        Self {
            norm1: nn::group_norm(&vs / "norm1", groups, channels, Default::default()),
            norm2: nn::group_norm(&vs / "norm2", groups, channels, Default::default()),
            conv1: conv("conv1", cfg1),
            conv2: conv("conv2", zero),
        }
    }

    fn apply_conv(conv: &ConvKind, video: &Tensor) -> Tensor {
        match conv {
            ConvKind::OverSpaceTime(c) => video.apply(c),
            ConvKind::OverTime(c) => {
                let (b, ch, t, h, w) = video.size5().expect("[B, C, T, H, W]");
                let seq = video.permute([0, 3, 4, 1, 2]).reshape([b * h * w, ch, t]);
                seq.apply(c).view([b, h, w, ch, t]).permute([0, 3, 4, 1, 2])
            }
        }
    }

    pub fn forward(&self, xs: &Tensor, frames: i64) -> Tensor {
        // Group norm over the whole clip (C, T, H, W) keeps statistics stable with few frames.
        let video = unfold_frames(xs, frames);
        let h = Self::apply_conv(&self.conv1, &video.apply(&self.norm1).silu());
        let h = Self::apply_conv(&self.conv2, &h.apply(&self.norm2).silu());
        xs + fold_frames(&h)
    }
}

/// `norm → proj_in → +frame position → attention → proj_out`, residual. attn1d attends over
/// frames with space folded into the batch; attn3d attends over all T·H·W tokens.
#[derive(Debug)]
pub struct TemporalAttention {
    norm: nn::GroupNorm,
    proj_in: nn::Linear,
    attn: Attention,
    proj_out: nn::Linear,
    spatial: bool,
}

impl TemporalAttention {
    pub fn new(vs: nn::Path, channels: i64, heads: i64, spatial: bool, groups: i64) -> Self {
        let zero = nn::LinearConfig {
            ws_init: nn::Init::Const(0.0),
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        };
        Self {
            norm: nn::group_norm(&vs / "norm", groups, channels, Default::default()),
            proj_in: nn::linear(&vs / "proj_in", channels, channels, Default::default()),
            attn: Attention::new(&vs / "attn", channels, channels, heads),
            proj_out: nn::linear(&vs / "proj_out", channels, channels, zero),
            spatial,
        }
    }

    pub fn forward(&self, xs: &Tensor, frames: i64) -> Tensor {
        let video = unfold_frames(xs, frames).apply(&self.norm);
        let (b, c, t, h, w) = video.size5().expect("[B, C, T, H, W]");
        // Tokens [N, L, C]: attn1d N = B·H·W, L = T; attn3d N = B, L = T·H·W (frame-major).
        let tokens = if self.spatial {
            video.permute([0, 2, 3, 4, 1]).reshape([b, t * h * w, c])
        } else {
            video.permute([0, 3, 4, 2, 1]).reshape([b * h * w, t, c])
        };
        let tokens = tokens.apply(&self.proj_in);
        // Computed in f32 and cast to the tokens' dtype, so f16/bf16 models keep one dtype
        // (f32 and f64 results are unchanged: f32 values widen exactly).
        let pos = frame_positions(t, c, xs.device()).to_kind(tokens.kind());
        let tokens = if self.spatial {
            let per_token = pos
                .unsqueeze(1)
                .expand([t, h * w, c], false)
                .reshape([t * h * w, c]);
            tokens + per_token.unsqueeze(0)
        } else {
            tokens + pos.unsqueeze(0)
        };
        let out = self.attn.forward(&tokens, None).apply(&self.proj_out);
        let out = if self.spatial {
            out.view([b, t, h, w, c]).permute([0, 4, 1, 2, 3])
        } else {
            out.view([b, h, w, t, c]).permute([0, 4, 3, 1, 2])
        };
        xs + fold_frames(&out)
    }
}

/// Fixed sinusoidal encoding of the frame index: [T, C].
fn frame_positions(frames: i64, channels: i64, device: tch::Device) -> Tensor {
    let pos = Tensor::arange(frames, (Kind::Float, device)).unsqueeze(1);
    let half = channels / 2;
    let freq =
        (Tensor::arange(half, (Kind::Float, device)) * (-(10000f64).ln() / half as f64)).exp();
    let angles = pos * freq.unsqueeze(0);
    let enc = Tensor::cat(&[angles.sin(), angles.cos()], 1);
    if channels % 2 == 1 {
        enc.pad([0, 1, 0, 0], "constant", Some(0.0))
    } else {
        enc
    }
}
