//! A small text encoder over a dataset's vocabulary: token + position embeddings and a few
//! pre-norm transformer layers. The UNet only sees its output `[B, tokens, dim]`, so a real
//! CLIP/T5 can replace it with precomputed embeddings of the same shape.

use crate::attention::Attention;
use serde::{Deserialize, Serialize};
use tch::{nn, nn::Module, Kind, Tensor};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextEncoderConfig {
    /// Token ids are `0..vocab_size`; id 0 is padding.
    pub vocab_size: i64,
    /// Tokens per prompt (prompts are padded or refused beyond this).
    pub max_tokens: i64,
    /// Output width; must equal the backbone's `cross_attention_dim`.
    pub dim: i64,
    pub layers: i64,
    pub heads: i64,
}

#[derive(Debug)]
struct EncoderLayer {
    norm1: nn::LayerNorm,
    attn: Attention,
    norm2: nn::LayerNorm,
    fc1: nn::Linear,
    fc2: nn::Linear,
}

impl EncoderLayer {
    fn new(vs: nn::Path, dim: i64, heads: i64) -> Self {
        Self {
            norm1: nn::layer_norm(&vs / "norm1", vec![dim], Default::default()),
            attn: Attention::new(&vs / "attn", dim, dim, heads),
            norm2: nn::layer_norm(&vs / "norm2", vec![dim], Default::default()),
            fc1: nn::linear(&vs / "fc1", dim, 4 * dim, Default::default()),
            fc2: nn::linear(&vs / "fc2", 4 * dim, dim, Default::default()),
        }
    }
}

impl Module for EncoderLayer {
    fn forward(&self, xs: &Tensor) -> Tensor {
        let xs = self.attn.forward(&xs.apply(&self.norm1), None) + xs;
        xs.apply(&self.norm2)
            .apply(&self.fc1)
            .gelu("none")
            .apply(&self.fc2)
            + xs
    }
}

/// Token ids `[B, max_tokens]` → context `[B, max_tokens, dim]`; also holds the learned null
/// context used for dropped captions (classifier-free guidance).
#[derive(Debug)]
pub struct TextEncoder {
    token_embedding: nn::Embedding,
    position_embedding: Tensor,
    layers: Vec<EncoderLayer>,
    final_norm: nn::LayerNorm,
    null_context: Tensor,
    pub config: TextEncoderConfig,
}

impl TextEncoder {
    pub fn new(vs: nn::Path, config: TextEncoderConfig) -> Self {
        let c = &config;
        let init = nn::Init::Randn {
            mean: 0.0,
            stdev: 0.02,
        };
        Self {
            token_embedding: nn::embedding(
                &vs / "token_embedding",
                c.vocab_size,
                c.dim,
                Default::default(),
            ),
            position_embedding: vs.var("position_embedding", &[c.max_tokens, c.dim], init),
            layers: (0..c.layers)
                .map(|i| EncoderLayer::new(&vs / "layers" / i, c.dim, c.heads))
                .collect(),
            final_norm: nn::layer_norm(&vs / "final_norm", vec![c.dim], Default::default()),
            null_context: vs.var("null_context", &[c.max_tokens, c.dim], init),
            config,
        }
    }

    /// `tokens`: [B, max_tokens] int64.
    pub fn encode(&self, tokens: &Tensor) -> Tensor {
        let mut xs = tokens.to_kind(Kind::Int64).apply(&self.token_embedding)
            + self.position_embedding.unsqueeze(0);
        for layer in &self.layers {
            xs = layer.forward(&xs);
        }
        xs.apply(&self.final_norm)
    }

    /// The learned unconditional context, `[batch, max_tokens, dim]`.
    pub fn null_context(&self, batch: i64) -> Tensor {
        self.null_context
            .unsqueeze(0)
            .expand([batch, -1, -1], false)
    }

    /// Encodes `tokens`, replacing the rows where `drop[i]` is true by the null context.
    pub fn encode_with_dropout(&self, tokens: &Tensor, drop: &[bool]) -> Tensor {
        let ctx = self.encode(tokens);
        if !drop.iter().any(|&d| d) {
            return ctx;
        }
        let mask: Vec<f32> = drop.iter().map(|&d| if d { 1.0 } else { 0.0 }).collect();
        let mask = Tensor::from_slice(&mask)
            .view([-1, 1, 1])
            .to_device(ctx.device());
        let null = self.null_context(drop.len() as i64);
        &ctx * (1.0 - &mask) + null * mask
    }
}
