//! What one op costs besides time: its parameter count (exactly the tensors diffusers' modules
//! and `crates/nn` create) and its activation elements at a batch of clips.
//!
//! Activation model, per batch of `B` clips, `N = B·t` images, `P = h·w` pixels per image
//! (`h`, `w` the op's input size):
//!
//! | kind         | input        | output         | workspace (transient, inside the op)            |
//! |--------------|--------------|----------------|-------------------------------------------------|
//! | `time_embed` | `B·c`        | `B·temb`       | `B·temb` (hidden after `linear_1`)              |
//! | `conv_in`    | `N·cin·P`    | `N·cout·P`     | 0                                               |
//! | `resnet`     | `N·cin·P`    | `N·cout·P`     | `N·P·(cin+cout)` (normed input, conv1 output)   |
//! | `xformer`    | `N·c·P`      | `N·c·P`        | `N·P·c` token stream + the largest stage below  |
//! | `down`       | `N·c·P`      | `N·c·⌈h/2⌉·⌈w/2⌉` | 0                                            |
//! | `up`         | `N·c·P`      | `N·c·4P`       | `N·c·4P` (the upsampled map before the conv)    |
//! | `conv_out`   | `N·cin·P`    | `N·cout·P`     | `N·cin·P` (normed input)                        |
//! | `conv1d/3d`  | `N·c·P`      | `N·c·P`        | `2·N·c·P` (normed input, conv1 output)          |
//! | `attn1d`     | `N·c·P`      | `N·c·P`        | `4·N·c·P` (tokens, q, k, v) + `B·P·heads·t²`    |
//! | `attn3d`     | `N·c·P`      | `N·c·P`        | `4·N·c·P` (tokens, q, k, v) + `B·heads·(t·P)²`  |
//!
//! Transformer stages, with `L = P` tokens per image and `S` text tokens: self-attention
//! `3·N·L·c + N·heads·L²`, cross-attention `N·L·c + 2·N·S·c + N·heads·L·S`, GEGLU feed-forward
//! `12·N·L·c` (the `8c` projection and the `4c` gated hidden). Attention matrices are counted as
//! materialised (no flash attention), as on phones.

use crate::signature::Signature;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Element type of weights and activations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    F32,
    F16,
    Bf16,
}

impl Dtype {
    pub fn bytes(self) -> u64 {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::Bf16 => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::F16 => "f16",
            Dtype::Bf16 => "bf16",
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Dtype {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "f32" => Ok(Dtype::F32),
            "f16" => Ok(Dtype::F16),
            "bf16" => Ok(Dtype::Bf16),
            _ => Err(format!("unknown dtype `{s}`; use f32, f16 or bf16")),
        }
    }
}

/// Activation elements of one op (see the module docs for the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpActivations {
    pub input: u64,
    pub output: u64,
    pub workspace: u64,
}

impl OpActivations {
    pub fn total(&self) -> u64 {
        self.input + self.output + self.workspace
    }
}

/// Weights + bias of a linear or convolution layer with `fan_in` inputs per output.
fn layer(fan_in: u64, out: u64) -> u64 {
    fan_in * out + out
}

/// GroupNorm / LayerNorm: weight and bias.
fn norm(c: u64) -> u64 {
    2 * c
}

impl Signature {
    /// Parameter count of the op, exactly as diffusers (and `crates/nn`) build it.
    pub fn params(&self) -> u64 {
        match *self {
            Signature::TimeEmbed { c, temb } => layer(c, temb) + layer(temb, temb),
            Signature::ConvIn { cin, cout, .. } => layer(cin * 9, cout),
            Signature::Resnet {
                cin, cout, temb, ..
            } => {
                let shortcut = if cin != cout { layer(cin, cout) } else { 0 };
                norm(cin)
                    + layer(cin * 9, cout)
                    + layer(temb, cout)
                    + norm(cout)
                    + layer(cout * 9, cout)
                    + shortcut
            }
            Signature::Transformer { c, ctx, layers, .. } => {
                // proj_in / proj_out: Linear(c, c) or Conv2d(c, c, 1): the same count.
                let attn1 = 3 * c * c + layer(c, c);
                let attn2 = c * c + 2 * ctx * c + layer(c, c);
                let ff = layer(c, 8 * c) + layer(4 * c, c);
                let block = norm(c) + attn1 + norm(c) + attn2 + norm(c) + ff;
                norm(c) + layer(c, c) + layers * block + layer(c, c)
            }
            Signature::Downsample { c, .. } | Signature::Upsample { c, .. } => layer(c * 9, c),
            Signature::ConvOut { cin, cout, .. } => norm(cin) + layer(cin * 9, cout),
            Signature::TemporalConv { op, c, k, .. } => {
                let taps = if op == vidnas_space::OpKind::Conv3d {
                    k * k * k
                } else {
                    k
                };
                2 * (norm(c) + layer(c * taps, c))
            }
            Signature::TemporalAttn { c, .. } => {
                norm(c) + layer(c, c) + 3 * c * c + layer(c, c) + layer(c, c)
            }
        }
    }

    /// Activation elements for `batch` clips (see the module docs).
    pub fn activations(&self, batch: u64) -> OpActivations {
        let b = batch;
        let act = |input, output, workspace| OpActivations {
            input,
            output,
            workspace,
        };
        match *self {
            Signature::TimeEmbed { c, temb } => act(b * c, b * temb, b * temb),
            Signature::ConvIn { cin, cout, t, h, w } => {
                let np = b * t * h * w;
                act(np * cin, np * cout, 0)
            }
            Signature::Resnet {
                cin, cout, t, h, w, ..
            } => {
                let np = b * t * h * w;
                act(np * cin, np * cout, np * (cin + cout))
            }
            Signature::Transformer {
                c,
                heads,
                tokens,
                t,
                h,
                w,
                ..
            } => {
                let n = b * t;
                let l = h * w;
                let s = tokens;
                let self_attn = 3 * n * l * c + n * heads * l * l;
                let cross_attn = n * l * c + 2 * n * s * c + n * heads * l * s;
                let ff = 12 * n * l * c;
                let e = n * l * c;
                act(e, e, e + self_attn.max(cross_attn).max(ff))
            }
            Signature::Downsample { c, t, h, w } => {
                let n = b * t;
                act(n * c * h * w, n * c * h.div_ceil(2) * w.div_ceil(2), 0)
            }
            Signature::Upsample { c, t, h, w } => {
                let e = b * t * c * h * w;
                act(e, 4 * e, 4 * e)
            }
            Signature::ConvOut {
                cin, cout, t, h, w, ..
            } => {
                let np = b * t * h * w;
                act(np * cin, np * cout, np * cin)
            }
            Signature::TemporalConv { c, t, h, w, .. } => {
                let e = b * t * c * h * w;
                act(e, e, 2 * e)
            }
            Signature::TemporalAttn {
                op,
                c,
                heads,
                t,
                h,
                w,
                ..
            } => {
                let e = b * t * c * h * w;
                let scores = if op == vidnas_space::OpKind::Attn3d {
                    b * heads * (t * h * w) * (t * h * w)
                } else {
                    b * h * w * heads * t * t
                };
                act(e, e, 4 * e + scores)
            }
        }
    }

    /// The `bytes` of a table entry: weights plus activations (input, output, workspace) of
    /// the op for `batch` clips in `dtype`.
    pub fn bytes(&self, batch: u64, dtype: Dtype) -> u64 {
        (self.params() + self.activations(batch).total()) * dtype.bytes()
    }
}
