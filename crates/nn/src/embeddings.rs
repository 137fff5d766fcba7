//! Timestep embeddings, as diffusers' `Timesteps` + `TimestepEmbedding`.

use tch::{nn, nn::Module, Kind, Tensor};

/// Sinusoidal timestep features (diffusers `get_timestep_embedding`, scale 1).
pub fn timestep_features(
    timesteps: &Tensor,
    dim: i64,
    flip_sin_to_cos: bool,
    freq_shift: f64,
) -> Tensor {
    let half = dim / 2;
    let exponent = Tensor::arange(half, (Kind::Float, timesteps.device())) * (-(10000f64).ln())
        / (half as f64 - freq_shift);
    let emb = timesteps.to_kind(Kind::Float).unsqueeze(1) * exponent.exp().unsqueeze(0);
    let (sin, cos) = (emb.sin(), emb.cos());
    let emb = if flip_sin_to_cos {
        Tensor::cat(&[cos, sin], -1)
    } else {
        Tensor::cat(&[sin, cos], -1)
    };
    if dim % 2 == 1 {
        emb.pad([0, 1, 0, 0], "constant", Some(0.0))
    } else {
        emb
    }
}

/// `time_embedding`: linear_1 → SiLU → linear_2.
#[derive(Debug)]
pub struct TimestepEmbedding {
    linear_1: nn::Linear,
    linear_2: nn::Linear,
}

impl TimestepEmbedding {
    pub fn new(vs: nn::Path, channels: i64, time_embed_dim: i64) -> Self {
        let linear_1 = nn::linear(
            &vs / "linear_1",
            channels,
            time_embed_dim,
            Default::default(),
        );
        let linear_2 = nn::linear(
            &vs / "linear_2",
            time_embed_dim,
            time_embed_dim,
            Default::default(),
        );
        Self { linear_1, linear_2 }
    }
}

impl Module for TimestepEmbedding {
    fn forward(&self, xs: &Tensor) -> Tensor {
        xs.apply(&self.linear_1).silu().apply(&self.linear_2)
    }
}
