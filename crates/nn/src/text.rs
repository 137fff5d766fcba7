//! The text conditioning: either a small encoder over a dataset's vocabulary (token + position
//! embeddings and a few pre-norm transformer layers, trained in stage 1) or a frozen table of
//! prompt embeddings computed elsewhere by a real CLIP/T5 (see `prompt_table`). The UNet only
//! sees the output `[B, tokens, dim]`, so both are interchangeable.

use crate::attention::Attention;
use crate::prompt_table::PromptTable;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tch::{nn, nn::Module, Kind, Tensor};

/// Variable holding the precomputed prompt embeddings (frozen in every stage).
pub const PROMPT_TABLE_VAR: &str = "prompt_embeddings";

/// Where precomputed prompt embeddings came from, and which prompt each row is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrecomputedText {
    /// The embeddings file stage 1 read (the rows are saved with the model's weights).
    pub file: PathBuf,
    /// SHA-256 of that file (first 16 hex digits).
    pub sha256: String,
    /// The prompt of each row.
    pub prompts: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextEncoderConfig {
    /// Token ids are `0..vocab_size`; id 0 is padding. With precomputed embeddings: the number
    /// of prompts (ids are rows of the table).
    pub vocab_size: i64,
    /// Tokens per prompt (prompts are padded or refused beyond this).
    pub max_tokens: i64,
    /// Output width; must equal the backbone's `cross_attention_dim`.
    pub dim: i64,
    /// Transformer layers and heads of the learned encoder (0 with precomputed embeddings).
    pub layers: i64,
    pub heads: i64,
    /// Prompt embeddings computed elsewhere, replacing the learned encoder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precomputed: Option<PrecomputedText>,
}

impl TextEncoderConfig {
    /// Checks every field a model is built from; the message names the field (under `field`,
    /// e.g. `text_encoder`) and the fix; callers prefix the file. Without this, libtorch aborts
    /// or the attention divides by zero.
    pub fn validate(&self, field: &str) -> Result<(), String> {
        let positive = [
            ("vocab_size", self.vocab_size),
            ("max_tokens", self.max_tokens),
            ("dim", self.dim),
        ];
        for (name, v) in positive {
            if v < 1 {
                return Err(format!("{field}.{name} is {v}; it must be at least 1"));
            }
        }
        if self.precomputed.is_some() {
            return Ok(());
        }
        if self.layers < 0 {
            return Err(format!("{field}.layers is {}; use 0 or more", self.layers));
        }
        if self.layers > 0 && (self.heads < 1 || self.dim % self.heads != 0) {
            return Err(format!(
                "{field}.heads is {} but must be at least 1 and divide {field}.dim ({}); use a divisor of {}, e.g. 1",
                self.heads, self.dim, self.dim
            ));
        }
        Ok(())
    }

    /// The configuration that reads `table` (from `file`, hashed `sha256`).
    pub fn precomputed(table: &PromptTable, file: PathBuf, sha256: String) -> Self {
        let (tokens, dim) = table.token_shape();
        Self {
            vocab_size: table.prompts.len() as i64,
            max_tokens: tokens,
            dim,
            layers: 0,
            heads: 0,
            precomputed: Some(PrecomputedText {
                file,
                sha256,
                prompts: table.prompts.clone(),
            }),
        }
    }
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

#[derive(Debug)]
enum Encoder {
    Learned {
        token_embedding: nn::Embedding,
        position_embedding: Tensor,
        layers: Vec<EncoderLayer>,
        final_norm: nn::LayerNorm,
    },
    /// `[prompts, tokens, dim]`, indexed by prompt id.
    Table(Tensor),
}

/// Token ids `[B, max_tokens]` (or prompt ids `[B, 1]` with precomputed embeddings) → context
/// `[B, max_tokens, dim]`; also holds the learned null context used for dropped captions
/// (classifier-free guidance).
#[derive(Debug)]
pub struct TextEncoder {
    encoder: Encoder,
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
        let encoder = if c.precomputed.is_some() {
            let table = vs.var(
                PROMPT_TABLE_VAR,
                &[c.vocab_size, c.max_tokens, c.dim],
                nn::Init::Const(0.0),
            );
            Encoder::Table(table.set_requires_grad(false))
        } else {
            Encoder::Learned {
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
            }
        };
        Self {
            encoder,
            null_context: vs.var("null_context", &[c.max_tokens, c.dim], init),
            config,
        }
    }

    /// Copies a table's rows (and the empty prompt's row, if any, as the null context) into
    /// this encoder. Errors when the encoder does not read precomputed embeddings or the
    /// table's prompts or shape differ from the configuration's.
    pub fn load_table(&mut self, table: &PromptTable) -> Result<(), String> {
        let Encoder::Table(rows) = &mut self.encoder else {
            return Err("this text encoder is learned, not a precomputed table".into());
        };
        let expected = self.config.precomputed.as_ref().map(|p| &p.prompts);
        if expected != Some(&table.prompts) || rows.size() != table.embeddings.size() {
            return Err(format!(
                "table has {} prompts of shape {:?}; the model expects {:?}",
                table.prompts.len(),
                table.embeddings.size(),
                rows.size()
            ));
        }
        tch::no_grad(|| {
            rows.copy_(&table.embeddings.to_device(rows.device()));
            if let Some(i) = table.prompts.iter().position(|p| p.is_empty()) {
                self.null_context
                    .copy_(&table.embeddings.get(i as i64).to_device(rows.device()));
            }
        });
        Ok(())
    }

    /// Row of `prompt` in the precomputed table (`None` for a learned encoder or an unknown
    /// prompt).
    pub fn prompt_row(&self, prompt: &str) -> Option<i64> {
        let p = self.config.precomputed.as_ref()?;
        p.prompts.iter().position(|q| q == prompt).map(|i| i as i64)
    }

    /// `tokens`: [B, max_tokens] int64 token ids, or [B, 1] prompt rows of a precomputed table.
    pub fn encode(&self, tokens: &Tensor) -> Tensor {
        let ids = tokens.to_kind(Kind::Int64);
        match &self.encoder {
            Encoder::Table(rows) => rows.index_select(0, &ids.select(1, 0)),
            Encoder::Learned {
                token_embedding,
                position_embedding,
                layers,
                final_norm,
            } => {
                let mut xs = ids.apply(token_embedding) + position_embedding.unsqueeze(0);
                for layer in layers {
                    xs = layer.forward(&xs);
                }
                xs.apply(final_norm)
            }
        }
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
