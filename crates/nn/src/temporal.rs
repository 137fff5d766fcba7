//! Temporal layers that turn an image UNet into a video UNet. Every op is residual and its last
//! projection starts at zero, so an inflated network equals the image network frame by frame.
//!
//! All ops take the spatial layout, frames folded into the batch: `[B·T, C, H, W]`.

use crate::attention::Attention;
use tch::{nn, Kind, Tensor};
use vidnas_space::{ConvLayer, Keys, Mixing, OpHyper, OpKind, Space, Structure};

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

/// What one temporal op is built with, besides its channels: the backbone's GroupNorm groups
/// and the op's hyper-parameters (`kernel_size` of a [`Structure::Conv`], `num_heads` and the
/// stride of [`Keys::Strided`] of a [`Structure::Attention`]; see [`vidnas_space::OpParams`]).
#[derive(Debug, Clone, Copy)]
pub struct OpShape {
    pub groups: i64,
    pub hyper: OpHyper,
}

impl OpShape {
    /// The shape [`crate::VideoUNet`] builds `op` with in `space` (every op a slot allows is
    /// declared in a validated space, so it has its entry).
    pub fn of(space: &Space, op: OpKind) -> Self {
        let entry = space.file.temporal.ops.get(op);
        OpShape {
            groups: space.file.backbone.norm_num_groups as i64,
            hyper: entry.and_then(|p| p.hyper()).unwrap_or(OpHyper::of_size(1)),
        }
    }
}

/// One temporal op at one slot.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // built once per slot: its size does not matter
pub enum TemporalOp {
    Conv(TemporalConv),
    Attn(TemporalAttention),
}

impl TemporalOp {
    /// Builds `op` at `vs` for `channels` from its registry entry; the identity has no layer
    /// and is never built.
    pub fn new(vs: nn::Path, op: OpKind, channels: i64, shape: OpShape) -> Option<Self> {
        match op.spec().structure {
            Structure::Identity => None,
            Structure::Conv { layers } => Some(TemporalOp::Conv(TemporalConv::new(
                vs, channels, layers, shape,
            ))),
            Structure::Attention { mixes, keys } => Some(TemporalOp::Attn(TemporalAttention::new(
                vs, channels, mixes, keys, shape,
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

/// `norm1 → SiLU → conv1 → norm2 → SiLU → conv2 …`, residual, one stage per [`ConvLayer`]
/// of the op's structure: conv1d convolves over time with space folded into the batch, conv3d
/// over time and space, a per-frame (`Pixels`) layer over each frame's height and width.
#[derive(Debug)]
pub struct TemporalConv {
    stages: Vec<(nn::GroupNorm, ConvOver)>,
}

#[derive(Debug)]
enum ConvOver {
    Frames(nn::Conv1D),
    Pixels(nn::Conv2D),
    Volume(nn::Conv3D),
}

impl TemporalConv {
    pub fn new(vs: nn::Path, channels: i64, layers: &[ConvLayer], shape: OpShape) -> Self {
        let last = layers.len().saturating_sub(1);
        let stages = layers
            .iter()
            .enumerate()
            .map(|(i, layer)| {
                let kernel = layer.kernel.size(shape.hyper.size) as i64;
                let mut cfg = nn::ConvConfig {
                    padding: kernel / 2,
                    ..Default::default()
                };
                if i == last {
                    cfg.ws_init = nn::Init::Const(0.0);
                    cfg.bs_init = nn::Init::Const(0.0);
                }
                let (norm, conv) = (format!("norm{}", i + 1), format!("conv{}", i + 1));
                let (c, p) = (channels, &vs / conv.as_str());
                let conv = match layer.mixes {
                    Mixing::Frames => ConvOver::Frames(nn::conv1d(p, c, c, kernel, cfg)),
                    Mixing::Pixels => ConvOver::Pixels(nn::conv2d(p, c, c, kernel, cfg)),
                    Mixing::Volume => ConvOver::Volume(nn::conv3d(p, c, c, kernel, cfg)),
                };
                let norm = nn::group_norm(&vs / norm.as_str(), shape.groups, c, Default::default());
                (norm, conv)
            })
            .collect();
        Self { stages }
    }

    /// `conv` on clips `[B, C, T, H, W]`, folding into the batch the axes it does not span.
    fn apply_conv(conv: &ConvOver, video: &Tensor) -> Tensor {
        let (b, ch, t, h, w) = video.size5().expect("[B, C, T, H, W]");
        match conv {
            ConvOver::Volume(c) => video.apply(c),
            ConvOver::Frames(c) => {
                let seq = video.permute([0, 3, 4, 1, 2]).reshape([b * h * w, ch, t]);
                seq.apply(c).view([b, h, w, ch, t]).permute([0, 3, 4, 1, 2])
            }
            ConvOver::Pixels(c) => fold_frames(video)
                .apply(c)
                .view([b, t, ch, h, w])
                .permute([0, 2, 1, 3, 4]),
        }
    }

    pub fn forward(&self, xs: &Tensor, frames: i64) -> Tensor {
        // Group norm over the whole clip (C, T, H, W) keeps statistics stable with few frames.
        let mut h = unfold_frames(xs, frames);
        for (norm, conv) in &self.stages {
            h = Self::apply_conv(conv, &h.apply(norm).silu());
        }
        xs + fold_frames(&h)
    }
}

/// `norm → proj_in → +frame position → attention → proj_out`, residual. Over `Frames`
/// (attn1d) it attends over time with space folded into the batch; over the `Volume` (attn3d)
/// over all T·H·W tokens; over `Pixels`, within each frame. With [`Keys::Strided`] every
/// query attends to every `stride`-th token of its sequence only.
#[derive(Debug)]
pub struct TemporalAttention {
    norm: nn::GroupNorm,
    proj_in: nn::Linear,
    attn: Attention,
    proj_out: nn::Linear,
    mixes: Mixing,
    /// Keys and values are every `stride`-th token (1: all of them).
    stride: i64,
}

impl TemporalAttention {
    pub fn new(vs: nn::Path, channels: i64, mixes: Mixing, keys: Keys, shape: OpShape) -> Self {
        let zero = nn::LinearConfig {
            ws_init: nn::Init::Const(0.0),
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        };
        let (heads, groups) = (shape.hyper.size as i64, shape.groups);
        let stride = match keys {
            Keys::All => 1,
            Keys::Strided => shape.hyper.stride.max(1) as i64,
        };
        Self {
            norm: nn::group_norm(&vs / "norm", groups, channels, Default::default()),
            proj_in: nn::linear(&vs / "proj_in", channels, channels, Default::default()),
            attn: Attention::new(&vs / "attn", channels, channels, heads),
            proj_out: nn::linear(&vs / "proj_out", channels, channels, zero),
            mixes,
            stride,
        }
    }

    pub fn forward(&self, xs: &Tensor, frames: i64) -> Tensor {
        let video = unfold_frames(xs, frames).apply(&self.norm);
        let (b, c, t, h, w) = video.size5().expect("[B, C, T, H, W]");
        // Tokens [N, L, C]: over frames N = B·H·W, L = T; over the volume N = B, L = T·H·W
        // (frame-major); within frames N = B·T, L = H·W.
        let tokens = match self.mixes {
            Mixing::Frames => video.permute([0, 3, 4, 2, 1]).reshape([b * h * w, t, c]),
            Mixing::Volume => video.permute([0, 2, 3, 4, 1]).reshape([b, t * h * w, c]),
            Mixing::Pixels => video.permute([0, 2, 3, 4, 1]).reshape([b * t, h * w, c]),
        };
        let tokens = tokens.apply(&self.proj_in);
        // Computed in f32 and cast to the tokens' dtype, so f16/bf16 models keep one dtype
        // (f32 and f64 results are unchanged: f32 values widen exactly).
        let pos = frame_positions(t, c, xs.device()).to_kind(tokens.kind());
        let tokens = match self.mixes {
            Mixing::Frames => tokens + pos.unsqueeze(0),
            Mixing::Volume => {
                let per_token = pos
                    .unsqueeze(1)
                    .expand([t, h * w, c], false)
                    .reshape([t * h * w, c]);
                tokens + per_token.unsqueeze(0)
            }
            // Each sequence is one frame: its position is the same for every token.
            Mixing::Pixels => {
                let per_frame = pos
                    .unsqueeze(0)
                    .expand([b, t, c], false)
                    .reshape([b * t, 1, c]);
                tokens + per_frame
            }
        };
        let keys = (self.stride > 1).then(|| {
            let length = tokens.size()[1];
            tokens.slice(1, 0, length, self.stride)
        });
        let out = self
            .attn
            .forward(&tokens, keys.as_ref())
            .apply(&self.proj_out);
        let out = match self.mixes {
            Mixing::Frames => out.view([b, h, w, t, c]).permute([0, 4, 3, 1, 2]),
            Mixing::Volume | Mixing::Pixels => out.view([b, t, h, w, c]).permute([0, 4, 1, 2, 3]),
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
