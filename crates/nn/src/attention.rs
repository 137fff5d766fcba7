//! Attention blocks, as diffusers' `Attention`, `BasicTransformerBlock` and `Transformer2DModel`.

use tch::{nn, nn::Module, Tensor};

/// Multi-head attention with diffusers' weight names (`to_q`, `to_k`, `to_v`, `to_out.0`).
#[derive(Debug)]
pub struct Attention {
    to_q: nn::Linear,
    to_k: nn::Linear,
    to_v: nn::Linear,
    to_out: nn::Linear,
    heads: i64,
}

impl Attention {
    /// `context_dim`: width of the keys' source (the query width for self-attention).
    pub fn new(vs: nn::Path, query_dim: i64, context_dim: i64, heads: i64) -> Self {
        let no_bias = nn::LinearConfig {
            bias: false,
            ..Default::default()
        };
        Self {
            to_q: nn::linear(&vs / "to_q", query_dim, query_dim, no_bias),
            to_k: nn::linear(&vs / "to_k", context_dim, query_dim, no_bias),
            to_v: nn::linear(&vs / "to_v", context_dim, query_dim, no_bias),
            to_out: nn::linear(&vs / "to_out" / 0, query_dim, query_dim, Default::default()),
            heads,
        }
    }

    /// `xs`: [N, L, C]; `context`: [N, S, D] or `None` for self-attention.
    pub fn forward(&self, xs: &Tensor, context: Option<&Tensor>) -> Tensor {
        let context = context.unwrap_or(xs);
        let split = |t: Tensor| {
            let (n, l, c) = t.size3().expect("[N, L, C]");
            t.view([n, l, self.heads, c / self.heads]).transpose(1, 2)
        };
        let q = split(xs.apply(&self.to_q));
        let k = split(context.apply(&self.to_k));
        let v = split(context.apply(&self.to_v));
        let out = Tensor::scaled_dot_product_attention(
            &q,
            &k,
            &v,
            None::<Tensor>,
            0.0,
            false,
            None,
            false,
        );
        let (n, _, l, _) = out.size4().expect("[N, heads, L, d]");
        out.transpose(1, 2).reshape([n, l, -1]).apply(&self.to_out)
    }
}

/// `ff`: GEGLU projection (`net.0.proj`) then a linear layer (`net.2`).
#[derive(Debug)]
struct FeedForward {
    proj: nn::Linear,
    out: nn::Linear,
}

impl FeedForward {
    fn new(vs: nn::Path, dim: i64) -> Self {
        let inner = 4 * dim;
        Self {
            proj: nn::linear(&vs / "net" / 0 / "proj", dim, 2 * inner, Default::default()),
            out: nn::linear(&vs / "net" / 2, inner, dim, Default::default()),
        }
    }
}

impl Module for FeedForward {
    fn forward(&self, xs: &Tensor) -> Tensor {
        let parts = xs.apply(&self.proj).chunk(2, -1);
        (&parts[0] * parts[1].gelu("none")).apply(&self.out)
    }
}

/// Self-attention, cross-attention to the text, feed-forward; each pre-normed and residual.
#[derive(Debug)]
struct BasicTransformerBlock {
    norm1: nn::LayerNorm,
    attn1: Attention,
    norm2: nn::LayerNorm,
    attn2: Attention,
    norm3: nn::LayerNorm,
    ff: FeedForward,
}

impl BasicTransformerBlock {
    fn new(vs: nn::Path, dim: i64, heads: i64, context_dim: i64) -> Self {
        let ln = |name: &str| nn::layer_norm(&vs / name, vec![dim], Default::default());
        Self {
            norm1: ln("norm1"),
            attn1: Attention::new(&vs / "attn1", dim, dim, heads),
            norm2: ln("norm2"),
            attn2: Attention::new(&vs / "attn2", dim, context_dim, heads),
            norm3: ln("norm3"),
            ff: FeedForward::new(&vs / "ff", dim),
        }
    }

    fn forward(&self, xs: &Tensor, context: &Tensor) -> Tensor {
        let xs = self.attn1.forward(&xs.apply(&self.norm1), None) + xs;
        let xs = self.attn2.forward(&xs.apply(&self.norm2), Some(context)) + xs;
        xs.apply(&self.norm3).apply(&self.ff) + xs
    }
}

/// Spatial transformer over an image feature map (`attentions.i`).
#[derive(Debug)]
pub struct Transformer2DModel {
    norm: nn::GroupNorm,
    proj_in: ProjInOut,
    transformer_blocks: Vec<BasicTransformerBlock>,
    proj_out: ProjInOut,
}

/// 1×1 convolution or linear layer, as `use_linear_projection` selects.
#[derive(Debug)]
enum ProjInOut {
    Conv(nn::Conv2D),
    Linear(nn::Linear),
}

impl ProjInOut {
    fn new(vs: nn::Path, dim: i64, linear: bool) -> Self {
        if linear {
            ProjInOut::Linear(nn::linear(vs, dim, dim, Default::default()))
        } else {
            ProjInOut::Conv(nn::conv2d(vs, dim, dim, 1, Default::default()))
        }
    }
}

/// Shape and options of a spatial transformer.
#[derive(Debug, Clone, Copy)]
pub struct Transformer2DConfig {
    pub heads: i64,
    pub context_dim: i64,
    pub layers: i64,
    pub groups: i64,
    pub linear_projection: bool,
}

impl Transformer2DModel {
    pub fn new(vs: nn::Path, channels: i64, cfg: Transformer2DConfig) -> Self {
        let gn = nn::GroupNormConfig {
            eps: 1e-6,
            ..Default::default()
        };
        Self {
            norm: nn::group_norm(&vs / "norm", cfg.groups, channels, gn),
            proj_in: ProjInOut::new(&vs / "proj_in", channels, cfg.linear_projection),
            transformer_blocks: (0..cfg.layers)
                .map(|i| {
                    BasicTransformerBlock::new(
                        &vs / "transformer_blocks" / i,
                        channels,
                        cfg.heads,
                        cfg.context_dim,
                    )
                })
                .collect(),
            proj_out: ProjInOut::new(&vs / "proj_out", channels, cfg.linear_projection),
        }
    }

    /// `xs`: [N, C, H, W]; `context`: [N, S, D].
    pub fn forward(&self, xs: &Tensor, context: &Tensor) -> Tensor {
        let (n, c, h, w) = xs.size4().expect("[N, C, H, W]");
        let to_tokens = |t: Tensor| t.permute([0, 2, 3, 1]).reshape([n, h * w, c]);
        let to_map = |t: Tensor| t.reshape([n, h, w, c]).permute([0, 3, 1, 2]);
        let normed = xs.apply(&self.norm);
        let mut tokens = match &self.proj_in {
            ProjInOut::Conv(conv) => to_tokens(normed.apply(conv)),
            ProjInOut::Linear(lin) => to_tokens(normed).apply(lin),
        };
        for block in &self.transformer_blocks {
            tokens = block.forward(&tokens, context);
        }
        let out = match &self.proj_out {
            ProjInOut::Conv(conv) => to_map(tokens).apply(conv),
            ProjInOut::Linear(lin) => to_map(tokens.apply(lin)),
        };
        out + xs
    }
}
