//! The video UNet: diffusers' `UNet2DConditionModel` layout (same weight names) with a temporal
//! slot after every spatial layer the space names. A slot holds every op it was built with:
//! all allowed ops for the weight-sharing supernet, one op for an exported subnet.

use crate::attention::{Transformer2DConfig, Transformer2DModel};
use crate::embeddings::{timestep_features, TimestepEmbedding};
use crate::resnet::{Downsample2D, ResnetBlock2D, Upsample2D};
use crate::temporal::{OpShape, TemporalOp};
use std::collections::BTreeMap;
use tch::{nn, nn::Module, Tensor};
use vidnas_space::{Architecture, OpKind, Space, Stage};

/// The temporal ops held at one slot, keyed by kind.
#[derive(Debug, Default)]
struct SlotOps {
    /// Global slot index in the space (execution order), or `None` where the space has no slot.
    slot: Option<usize>,
    ops: BTreeMap<OpKind, TemporalOp>,
}

impl SlotOps {
    fn forward(&self, xs: Tensor, arch: &Architecture, frames: i64) -> Tensor {
        let Some(slot) = self.slot else { return xs };
        match self.ops.get(&arch.ops[slot]) {
            Some(op) => op.forward(&xs, frames),
            None if arch.ops[slot] == OpKind::None => xs,
            None => panic!("slot {slot} was not built with op {}", arch.ops[slot]),
        }
    }
}

#[derive(Debug)]
struct Layer {
    resnet: ResnetBlock2D,
    attention: Option<Transformer2DModel>,
    temporal: SlotOps,
}

impl Layer {
    fn forward(
        &self,
        xs: &Tensor,
        temb: &Tensor,
        ctx: &Tensor,
        arch: &Architecture,
        frames: i64,
    ) -> Tensor {
        let mut h = self.resnet.forward(xs, temb);
        if let Some(attn) = &self.attention {
            h = attn.forward(&h, ctx);
        }
        self.temporal.forward(h, arch, frames)
    }
}

#[derive(Debug)]
struct DownBlock {
    layers: Vec<Layer>,
    downsampler: Option<Downsample2D>,
}

#[derive(Debug)]
struct UpBlock {
    layers: Vec<Layer>,
    upsampler: Option<Upsample2D>,
}

/// `UNetMidBlock2DCrossAttn`: ResNet, transformer, ResNet. `UNetMidBlock2D`, as diffusers'
/// `UNet2DConditionModel` builds it (`num_layers=0, add_attention=False`): one ResNet only.
#[derive(Debug)]
struct MidBlock {
    resnet_0: ResnetBlock2D,
    attention: Option<Transformer2DModel>,
    resnet_1: Option<ResnetBlock2D>,
    temporal: SlotOps,
}

/// Which temporal ops to build at every slot.
#[derive(Debug, Clone)]
pub enum Build {
    /// Every allowed op at every slot (the weight-sharing supernet).
    Supernet,
    /// Exactly one architecture's ops (an exported subnet).
    Subnet(Architecture),
    /// No temporal ops: the image model.
    Image,
}

/// Video denoiser over `[B, C, T, H, W]` clips.
#[derive(Debug)]
pub struct VideoUNet {
    flip_sin_to_cos: bool,
    freq_shift: f64,
    time_channels: i64,
    time_embedding: TimestepEmbedding,
    conv_in: nn::Conv2D,
    down_blocks: Vec<DownBlock>,
    mid_block: MidBlock,
    up_blocks: Vec<UpBlock>,
    conv_norm_out: nn::GroupNorm,
    conv_out: nn::Conv2D,
    num_slots: usize,
    down_channels: Vec<i64>,
}

impl VideoUNet {
    pub fn new(vs: &nn::Path, space: &Space, build: &Build) -> Self {
        let b = &space.file.backbone;
        let ch: Vec<i64> = b.block_out_channels.iter().map(|&c| c as i64).collect();
        let n = ch.len();
        let groups = b.norm_num_groups as i64;
        let eps = b.norm_eps;
        let temb = b.time_embed_dim() as i64;
        let xcfg = Transformer2DConfig {
            heads: b.attention_head_dim as i64,
            context_dim: b.cross_attention_dim as i64,
            layers: b.transformer_layers_per_block as i64,
            groups,
            linear_projection: b.use_linear_projection,
        };
        // Temporal layers of the slot at (stage, layer), built under `path / "temporal" / layer`.
        let slot_ops = |path: &nn::Path, stage: Stage, layer: usize, channels: i64| -> SlotOps {
            let Some(index) = space
                .slots
                .iter()
                .position(|s| s.stage == stage && s.layer == layer)
            else {
                return SlotOps::default();
            };
            let kinds: Vec<OpKind> = match build {
                Build::Supernet => space.slots[index].allowed.clone(),
                Build::Subnet(arch) => vec![arch.ops[index]],
                Build::Image => vec![],
            };
            let tpath = path / "temporal" / layer;
            let ops = kinds
                .into_iter()
                .filter_map(|k| {
                    TemporalOp::new(&tpath / k.as_str(), k, channels, OpShape::of(space, k))
                        .map(|op| (k, op))
                })
                .collect();
            SlotOps {
                slot: Some(index),
                ops,
            }
        };

        let down_path = vs / "down_blocks";
        let down_blocks = (0..n)
            .map(|i| {
                let p = &down_path / i;
                let attn = b.has_cross_attention_down(i);
                let layers = (0..b.layers_per_block)
                    .map(|j| {
                        let cin = if j == 0 {
                            ch[i.saturating_sub(1)]
                        } else {
                            ch[i]
                        };
                        Layer {
                            resnet: ResnetBlock2D::new(
                                &p / "resnets" / j,
                                cin,
                                ch[i],
                                temb,
                                groups,
                                eps,
                            ),
                            attention: attn.then(|| {
                                Transformer2DModel::new(&p / "attentions" / j, ch[i], xcfg)
                            }),
                            temporal: slot_ops(&p, Stage::Down(i), j, ch[i]),
                        }
                    })
                    .collect();
                let downsampler =
                    (i + 1 < n).then(|| Downsample2D::new(&p / "downsamplers" / 0, ch[i]));
                DownBlock {
                    layers,
                    downsampler,
                }
            })
            .collect();

        let mp = vs / "mid_block";
        let c = ch[n - 1];
        let mid_attention = b.has_mid_attention();
        let mid_block = MidBlock {
            resnet_0: ResnetBlock2D::new(&mp / "resnets" / 0, c, c, temb, groups, eps),
            attention: mid_attention
                .then(|| Transformer2DModel::new(&mp / "attentions" / 0, c, xcfg)),
            resnet_1: mid_attention
                .then(|| ResnetBlock2D::new(&mp / "resnets" / 1, c, c, temb, groups, eps)),
            temporal: slot_ops(&mp, Stage::Mid, 0, c),
        };

        let up_path = vs / "up_blocks";
        let rev: Vec<i64> = ch.iter().rev().copied().collect();
        let up_blocks = (0..n)
            .map(|i| {
                let p = &up_path / i;
                let out = rev[i];
                let prev = rev[i.saturating_sub(1)];
                let input = rev[(i + 1).min(n - 1)];
                let attn = b.has_cross_attention_up(i);
                let layers = (0..=b.layers_per_block)
                    .map(|j| {
                        let skip = if j == b.layers_per_block { input } else { out };
                        let cin = if j == 0 { prev } else { out } + skip;
                        Layer {
                            resnet: ResnetBlock2D::new(
                                &p / "resnets" / j,
                                cin,
                                out,
                                temb,
                                groups,
                                eps,
                            ),
                            attention: attn
                                .then(|| Transformer2DModel::new(&p / "attentions" / j, out, xcfg)),
                            temporal: slot_ops(&p, Stage::Up(i), j, out),
                        }
                    })
                    .collect();
                let upsampler = (i + 1 < n).then(|| Upsample2D::new(&p / "upsamplers" / 0, out));
                UpBlock { layers, upsampler }
            })
            .collect();

        let conv3 = nn::ConvConfig {
            padding: 1,
            ..Default::default()
        };
        Self {
            flip_sin_to_cos: b.flip_sin_to_cos,
            freq_shift: b.freq_shift as f64,
            time_channels: ch[0],
            time_embedding: TimestepEmbedding::new(vs / "time_embedding", ch[0], temb),
            conv_in: nn::conv2d(vs / "conv_in", b.in_channels as i64, ch[0], 3, conv3),
            down_blocks,
            mid_block,
            up_blocks,
            conv_norm_out: nn::group_norm(
                vs / "conv_norm_out",
                groups,
                ch[0],
                nn::GroupNormConfig {
                    eps,
                    ..Default::default()
                },
            ),
            conv_out: nn::conv2d(vs / "conv_out", ch[0], b.out_channels as i64, 3, conv3),
            num_slots: space.num_slots(),
            down_channels: ch,
        }
    }

    /// Denoiser output for clips `xs` [B, C, T, H, W], timesteps [B] and text context [B, S, D],
    /// running the temporal ops `arch` selects.
    pub fn forward(
        &self,
        xs: &Tensor,
        timesteps: &Tensor,
        context: &Tensor,
        arch: &Architecture,
    ) -> Tensor {
        assert_eq!(
            arch.ops.len(),
            self.num_slots,
            "architecture from another space"
        );
        let (b, _, t, _, _) = xs.size5().expect("clips are [B, C, T, H, W]");
        let frames = t;
        let Prologue { mut h_, temb, ctx } = self.prologue(xs, timesteps, context);
        let mut skips = vec![h_.shallow_clone()];
        for block in &self.down_blocks {
            for layer in &block.layers {
                h_ = layer.forward(&h_, &temb, &ctx, arch, frames);
                skips.push(h_.shallow_clone());
            }
            if let Some(down) = &block.downsampler {
                h_ = down.forward(&h_);
                skips.push(h_.shallow_clone());
            }
        }
        let m = &self.mid_block;
        h_ = m.resnet_0.forward(&h_, &temb);
        if let Some(attn) = &m.attention {
            h_ = attn.forward(&h_, &ctx);
        }
        if let Some(resnet) = &m.resnet_1 {
            h_ = resnet.forward(&h_, &temb);
        }
        h_ = m.temporal.forward(h_, arch, frames);
        for block in &self.up_blocks {
            for layer in &block.layers {
                let skip = skips.pop().expect("one skip per up layer");
                h_ = layer.forward(&Tensor::cat(&[h_, skip], 1), &temb, &ctx, arch, frames);
            }
            if let Some(up) = &block.upsampler {
                h_ = up.forward(&h_);
            }
        }
        let out = h_.apply(&self.conv_norm_out).silu().apply(&self.conv_out);
        let (_, co, ho, wo) = out.size4().expect("[B*T, C, H, W]");
        out.view([b, t, co, ho, wo]).permute([0, 2, 1, 3, 4])
    }

    /// Time embedding, folded context and `conv_in` output, frames folded into the batch.
    fn prologue(&self, xs: &Tensor, timesteps: &Tensor, context: &Tensor) -> Prologue {
        let (b, c, t, h, w) = xs.size5().expect("clips are [B, C, T, H, W]");
        let fold = |x: &Tensor| x.repeat_interleave_self_int(t, 0, None);
        // Features in f32, then the clip's dtype, as diffusers does (`t_emb.to(sample.dtype)`).
        let temb_features = timestep_features(
            timesteps,
            self.time_channels,
            self.flip_sin_to_cos,
            self.freq_shift,
        )
        .to_kind(xs.kind());
        let temb = fold(&self.time_embedding.forward(&temb_features));
        let ctx = fold(context);
        let h_ = xs
            .permute([0, 2, 1, 3, 4])
            .reshape([b * t, c, h, w])
            .apply(&self.conv_in);
        Prologue { h_, temb, ctx }
    }

    /// The encoder half only (`conv_in`, time embedding, down blocks with the temporal ops
    /// `arch` selects), for a discriminator built on a frozen UNet: the output of every down
    /// block's last layer (before its downsampler), `[B·T, C_i, H_i, W_i]` with frames folded
    /// into the batch, and the time embedding those blocks saw, `[B·T, time_embed_dim]`.
    pub fn down_features(
        &self,
        xs: &Tensor,
        timesteps: &Tensor,
        context: &Tensor,
        arch: &Architecture,
    ) -> (Vec<Tensor>, Tensor) {
        assert_eq!(
            arch.ops.len(),
            self.num_slots,
            "architecture from another space"
        );
        let frames = xs.size()[2];
        let Prologue { mut h_, temb, ctx } = self.prologue(xs, timesteps, context);
        let mut features = Vec::with_capacity(self.down_blocks.len());
        for block in &self.down_blocks {
            for layer in &block.layers {
                h_ = layer.forward(&h_, &temb, &ctx, arch, frames);
            }
            features.push(h_.shallow_clone());
            if let Some(down) = &block.downsampler {
                h_ = down.forward(&h_);
            }
        }
        (features, temb)
    }

    /// Channels of every down block's output (what [`VideoUNet::down_features`] returns).
    pub fn down_channels(&self) -> Vec<i64> {
        self.down_channels.clone()
    }
}

/// The shared start of [`VideoUNet::forward`] and [`VideoUNet::down_features`].
struct Prologue {
    h_: Tensor,
    temb: Tensor,
    ctx: Tensor,
}
