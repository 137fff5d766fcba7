//! The few-step discriminator of SnapGen-V (after SF-V): the frozen encoder of the teacher
//! video UNet — `conv_in`, time embedding and down blocks with the architecture's temporal
//! layers — and, after every down block, a trainable spatio-temporal head: a spatial ResNet
//! block (frames folded into the batch), temporal self-attention (space folded into the batch)
//! and a 1×1 output, conditioned on the pooled text embedding by a linear projection
//! (projection discriminator, Miyato & Koyama 2018). Each head gives one logit per location.

use tch::{nn, Device, Kind, Tensor};
use vidnas_diffusion::VideoModel;
use vidnas_nn::temporal::{OpShape, TemporalAttention};
use vidnas_nn::ResnetBlock2D;
use vidnas_space::{Architecture, Keys, Mixing, OpHyper};

#[derive(Debug)]
struct Head {
    resnet: ResnetBlock2D,
    temporal: TemporalAttention,
    norm_out: nn::GroupNorm,
    out: nn::Conv2D,
    text_proj: nn::Linear,
    channels: i64,
}

impl Head {
    /// `features` `[B·T, C, H, W]`, `temb` `[B·T, temb]`, `pooled` text `[B·T, D]` →
    /// logits `[B·T, H, W]`.
    fn forward(&self, features: &Tensor, temb: &Tensor, pooled: &Tensor, frames: i64) -> Tensor {
        // Contiguous: libtorch 2.13's GroupNorm backward segfaults on a channels-last input
        // that needs no gradient while the norm's weights do (the encoder's temporal ops and
        // the attention below return such permuted tensors).
        let h = self.resnet.forward(&features.contiguous(), temb);
        let h = self.temporal.forward(&h, frames).contiguous();
        let h = h.apply(&self.norm_out).silu();
        let base = h.apply(&self.out).squeeze_dim(1);
        let proj = pooled
            .apply(&self.text_proj)
            .view([-1, self.channels, 1, 1]);
        let cond =
            (h * proj).sum_dim_intlist(1, false, Kind::Float) / (self.channels as f64).sqrt();
        base + cond
    }
}

/// Trainable heads (in their own var store, keys `heads.<i>.…`) over a frozen encoder that the
/// caller passes to every forward (the teacher model, never updated).
pub struct Discriminator {
    pub vs: nn::VarStore,
    heads: Vec<Head>,
}

impl Discriminator {
    /// Heads for the down blocks of `encoder`'s UNet, sized from its backbone.
    pub fn new(encoder: &VideoModel, device: Device) -> Self {
        let b = &encoder.space.file.backbone;
        let groups = b.norm_num_groups as i64;
        let temb = b.time_embed_dim() as i64;
        let text_dim = b.cross_attention_dim as i64;
        let wanted_heads = encoder
            .space
            .file
            .temporal
            .ops
            .attn1d
            .as_ref()
            .map_or(1, |a| a.num_heads as i64);
        let vs = nn::VarStore::new(device);
        let root = vs.root() / "heads";
        let heads = encoder
            .unet
            .down_channels()
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let p = &root / i;
                let attn_heads = if c % wanted_heads == 0 {
                    wanted_heads
                } else {
                    1
                };
                Head {
                    resnet: ResnetBlock2D::new(&p / "resnet", c, c, temb, groups, b.norm_eps),
                    temporal: TemporalAttention::new(
                        &p / "temporal",
                        c,
                        Mixing::Frames,
                        Keys::All,
                        OpShape {
                            groups,
                            hyper: OpHyper::of_size(attn_heads as u64),
                        },
                    ),
                    norm_out: nn::group_norm(&p / "norm_out", groups, c, Default::default()),
                    out: nn::conv2d(&p / "out", c, 1, 1, Default::default()),
                    text_proj: nn::linear(&p / "text_proj", text_dim, c, Default::default()),
                    channels: c,
                }
            })
            .collect();
        Self { vs, heads }
    }

    pub fn num_heads(&self) -> usize {
        self.heads.len()
    }

    /// Every head's logits `[B·T, H_i, W_i]` (frame-major within each clip) for clips `x`
    /// `[B, C, T, H, W]` at `timesteps` `[B]` with text `context` `[B, S, D]`. Gradients flow
    /// through the frozen encoder to `x`, never into the encoder's weights.
    pub fn logits(
        &self,
        encoder: &VideoModel,
        arch: &Architecture,
        x: &Tensor,
        timesteps: &Tensor,
        context: &Tensor,
    ) -> Vec<Tensor> {
        let frames = x.size()[2];
        let (features, temb) = encoder.unet.down_features(x, timesteps, context, arch);
        let pooled = context
            .mean_dim(1, false, Kind::Float)
            .repeat_interleave_self_int(frames, 0, None);
        self.heads
            .iter()
            .zip(&features)
            .map(|(head, f)| head.forward(f, &temb, &pooled, frames))
            .collect()
    }

    /// Trainable variables by name.
    pub fn variables(&self) -> Vec<(String, Tensor)> {
        let mut v: Vec<(String, Tensor)> = self.vs.variables().into_iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

/// Splits every head's logits of a batch that stacked `first` clips before the rest into
/// (first, rest); `frames` rows per clip.
pub fn split_logits(logits: &[Tensor], first: i64, frames: i64) -> (Vec<Tensor>, Vec<Tensor>) {
    logits
        .iter()
        .map(|l| {
            let n = l.size()[0];
            (
                l.narrow(0, 0, first * frames),
                l.narrow(0, first * frames, n - first * frames),
            )
        })
        .unzip()
}
