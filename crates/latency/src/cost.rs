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
//! Temporal ops are costed from their [`Structure`], never by name: a convolution block of `L`
//! layers keeps `L·N·c·P` (one map per layer) and has `L` GroupNorms and `C → C` convolutions
//! of `taps` = kernel^(axes mixed) each; an attention keeps `4·N·c·P` plus its scores,
//! `sequences·heads·length·keys` (attn1d: `B·P` sequences of `t`; attn3d: `B` of `t·P`).
//!
//! Transformer stages, with `L = P` tokens per image and `S` text tokens: self-attention
//! `3·N·L·c + N·heads·L²`, cross-attention `N·L·c + 2·N·S·c + N·heads·L·S`, GEGLU feed-forward
//! `12·N·L·c` (the `8c` projection and the `4c` gated hidden). Attention matrices are counted as
//! materialised (no flash attention), as on phones.

use crate::signature::Signature;
use serde::{Deserialize, Serialize};
use std::fmt;
use vidnas_space::{Mixing, Structure};

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
    /// Input + output + workspace (saturating at `u64::MAX`, like the counts themselves).
    pub fn total(&self) -> u64 {
        self.input
            .saturating_add(self.output)
            .saturating_add(self.workspace)
    }
}

/// A count that remembers overflow: `None` once any step passes `u64::MAX`. The cost formulas
/// are written once, on this type, so the `u64` methods (which saturate) and
/// [`Signature::checked_bytes`] (which refuses) always agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Count(Option<u64>);

impl Count {
    fn max(self, other: Count) -> Count {
        Count(self.0.zip(other.0).map(|(a, b)| a.max(b)))
    }

    fn div_ceil(self, d: u64) -> Count {
        Count(self.0.map(|a| a.div_ceil(d)))
    }

    fn saturated(self) -> u64 {
        self.0.unwrap_or(u64::MAX)
    }
}

/// The values of a signature as [`Count`]s.
fn n(v: u64) -> Count {
    Count(Some(v))
}

impl std::ops::Add for Count {
    type Output = Count;
    fn add(self, rhs: Count) -> Count {
        Count(self.0.zip(rhs.0).and_then(|(a, b)| a.checked_add(b)))
    }
}

impl std::ops::Mul for Count {
    type Output = Count;
    fn mul(self, rhs: Count) -> Count {
        Count(self.0.zip(rhs.0).and_then(|(a, b)| a.checked_mul(b)))
    }
}

impl std::ops::Mul<Count> for u64 {
    type Output = Count;
    fn mul(self, rhs: Count) -> Count {
        n(self) * rhs
    }
}

/// Weights + bias of a linear or convolution layer with `fan_in` inputs per output.
fn layer(fan_in: Count, out: Count) -> Count {
    fan_in * out + out
}

/// GroupNorm / LayerNorm: weight and bias.
fn norm(c: Count) -> Count {
    2 * c
}

/// Activation counts of one op, each `None` past `u64::MAX`.
struct Acts {
    input: Count,
    output: Count,
    workspace: Count,
}

impl Signature {
    /// Parameter count of the op, exactly as diffusers (and `crates/nn`) build it; `u64::MAX`
    /// for a shape whose count does not fit (no real op).
    pub fn params(&self) -> u64 {
        self.param_count().saturated()
    }

    /// Activation elements for `batch` clips (see the module docs); a count that does not fit
    /// a `u64` (no real op) is `u64::MAX`.
    pub fn activations(&self, batch: u64) -> OpActivations {
        let a = self.activation_counts(batch);
        OpActivations {
            input: a.input.saturated(),
            output: a.output.saturated(),
            workspace: a.workspace.saturated(),
        }
    }

    /// The `bytes` of a table entry: weights plus activations (input, output, workspace) of
    /// the op for `batch` clips in `dtype`; `u64::MAX` when that does not fit (see
    /// [`Signature::checked_bytes`]).
    pub fn bytes(&self, batch: u64, dtype: Dtype) -> u64 {
        self.checked_bytes(batch, dtype).unwrap_or(u64::MAX)
    }

    /// [`Signature::bytes`], or `None` when a step of the count overflows a `u64` (a
    /// signature with absurd sizes, e.g. from a hand-edited CSV).
    pub fn checked_bytes(&self, batch: u64, dtype: Dtype) -> Option<u64> {
        let a = self.activation_counts(batch);
        ((self.param_count() + a.input + a.output + a.workspace) * n(dtype.bytes())).0
    }

    /// Multiply-accumulates of one forward of the op for one clip (batch 1), counting
    /// convolutions, linear layers and attention products (scores and the weighted sum);
    /// normalisation and elementwise work is left out. Sizes whose products pass `u64::MAX`
    /// saturate (no real op).
    pub fn macs(&self) -> f64 {
        let f = |v: &[u64]| v.iter().fold(1u64, |a, &b| a.saturating_mul(b)) as f64;
        match *self {
            Signature::TimeEmbed { c, temb } => f(&[c]) * f(&[temb]) + f(&[temb]) * f(&[temb]),
            Signature::ConvIn { cin, cout, t, h, w } => f(&[t, h, w]) * f(&[cin, cout]) * 9.0,
            Signature::Resnet {
                cin,
                cout,
                temb,
                t,
                h,
                w,
                ..
            } => {
                let px = f(&[t, h, w]);
                let shortcut = if cin != cout { f(&[cin, cout]) } else { 0.0 };
                px * (9.0 * f(&[cin, cout]) + 9.0 * f(&[cout, cout]) + shortcut)
                    + f(&[t, temb, cout])
            }
            Signature::Transformer {
                c,
                ctx,
                tokens,
                layers,
                t,
                h,
                w,
                ..
            } => {
                let (c, l, s) = (f(&[c]), f(&[h, w]), f(&[tokens]));
                let self_attn = 4.0 * l * c * c + 2.0 * l * l * c;
                let cross_attn = 2.0 * l * c * c + 2.0 * s * f(&[ctx]) * c + 2.0 * l * s * c;
                let ff = 12.0 * l * c * c;
                f(&[t]) * (2.0 * l * c * c + f(&[layers]) * (self_attn + cross_attn + ff))
            }
            Signature::Downsample { c, t, h, w } => {
                f(&[t, h.div_ceil(2), w.div_ceil(2)]) * f(&[c, c]) * 9.0
            }
            Signature::Upsample { c, t, h, w } => f(&[4, t, h, w]) * f(&[c, c]) * 9.0,
            Signature::ConvOut {
                cin, cout, t, h, w, ..
            } => f(&[t, h, w]) * f(&[cin, cout]) * 9.0,
            Signature::TemporalConv {
                op,
                c,
                k: hyper,
                t,
                h,
                w,
                ..
            }
            | Signature::TemporalAttn {
                op,
                c,
                heads: hyper,
                t,
                h,
                w,
                ..
            } => match op.spec().structure {
                Structure::Identity => 0.0,
                Structure::Conv { layers } => layers
                    .iter()
                    .map(|l| f(&[t, h, w]) * f(&[c, c]) * f(&[l.taps(hyper).unwrap_or(u64::MAX)]))
                    .sum(),
                Structure::Attention { mixes, keys } => {
                    // proj_in, to_q, to_k, to_v, to_out.0, proj_out on every token, then the
                    // scores and the weighted sum over each sequence.
                    let projections = 6.0 * f(&[t, h, w]) * f(&[c, c]);
                    let attended = |length: u64| keys.attended(length, self.key_stride());
                    let (hw, thw) = (h.saturating_mul(w), t.saturating_mul(h).saturating_mul(w));
                    // Grouped as `crates/profile/src/scale.rs` did, so the two agree to the bit.
                    let products = match mixes {
                        Mixing::Frames => 2.0 * f(&[h, w]) * f(&[t, attended(t)]) * f(&[c]),
                        Mixing::Pixels => 2.0 * f(&[t]) * f(&[hw, attended(hw)]) * f(&[c]),
                        Mixing::Volume => 2.0 * f(&[thw]) * f(&[attended(thw)]) * f(&[c]),
                    };
                    projections + products
                }
            },
        }
    }

    fn param_count(&self) -> Count {
        match *self {
            Signature::TimeEmbed { c, temb } => {
                let (c, temb) = (n(c), n(temb));
                layer(c, temb) + layer(temb, temb)
            }
            Signature::ConvIn { cin, cout, .. } => layer(9 * n(cin), n(cout)),
            Signature::Resnet {
                cin, cout, temb, ..
            } => {
                let shortcut = if cin != cout {
                    layer(n(cin), n(cout))
                } else {
                    n(0)
                };
                let (cin, cout, temb) = (n(cin), n(cout), n(temb));
                norm(cin)
                    + layer(9 * cin, cout)
                    + layer(temb, cout)
                    + norm(cout)
                    + layer(9 * cout, cout)
                    + shortcut
            }
            Signature::Transformer { c, ctx, layers, .. } => {
                let (c, ctx, layers) = (n(c), n(ctx), n(layers));
                // proj_in / proj_out: Linear(c, c) or Conv2d(c, c, 1): the same count.
                let attn1 = 3 * c * c + layer(c, c);
                let attn2 = c * c + 2 * ctx * c + layer(c, c);
                let ff = layer(c, 8 * c) + layer(4 * c, c);
                let block = norm(c) + attn1 + norm(c) + attn2 + norm(c) + ff;
                norm(c) + layer(c, c) + layers * block + layer(c, c)
            }
            Signature::Downsample { c, .. } | Signature::Upsample { c, .. } => {
                layer(9 * n(c), n(c))
            }
            Signature::ConvOut { cin, cout, .. } => norm(n(cin)) + layer(9 * n(cin), n(cout)),
            Signature::TemporalConv {
                op, c, k: hyper, ..
            }
            | Signature::TemporalAttn {
                op,
                c,
                heads: hyper,
                ..
            } => {
                let c = n(c);
                match op.spec().structure {
                    Structure::Identity => n(0),
                    // norm → SiLU → conv per layer.
                    Structure::Conv { layers } => layers.iter().fold(n(0), |sum, l| {
                        sum + norm(c) + layer(c * Count(l.taps(hyper)), c)
                    }),
                    // norm, proj_in, to_q/to_k/to_v (no bias), to_out, proj_out: the same
                    // whichever tokens attend to which.
                    Structure::Attention { .. } => {
                        norm(c) + layer(c, c) + 3 * c * c + layer(c, c) + layer(c, c)
                    }
                }
            }
        }
    }

    fn activation_counts(&self, batch: u64) -> Acts {
        let b = n(batch);
        let act = |input, output, workspace| Acts {
            input,
            output,
            workspace,
        };
        match *self {
            Signature::TimeEmbed { c, temb } => act(b * n(c), b * n(temb), b * n(temb)),
            Signature::ConvIn { cin, cout, t, h, w } => {
                let np = b * n(t) * n(h) * n(w);
                act(np * n(cin), np * n(cout), n(0))
            }
            Signature::Resnet {
                cin, cout, t, h, w, ..
            } => {
                let np = b * n(t) * n(h) * n(w);
                act(np * n(cin), np * n(cout), np * (n(cin) + n(cout)))
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
                let (c, heads) = (n(c), n(heads));
                let nn = b * n(t);
                let l = n(h) * n(w);
                let s = n(tokens);
                let self_attn = 3 * nn * l * c + nn * heads * l * l;
                let cross_attn = nn * l * c + 2 * nn * s * c + nn * heads * l * s;
                let ff = 12 * nn * l * c;
                let e = nn * l * c;
                act(e, e, e + self_attn.max(cross_attn).max(ff))
            }
            Signature::Downsample { c, t, h, w } => {
                let nc = b * n(t) * n(c);
                act(
                    nc * n(h) * n(w),
                    nc * n(h).div_ceil(2) * n(w).div_ceil(2),
                    n(0),
                )
            }
            Signature::Upsample { c, t, h, w } => {
                let e = b * n(t) * n(c) * n(h) * n(w);
                act(e, 4 * e, 4 * e)
            }
            Signature::ConvOut {
                cin, cout, t, h, w, ..
            } => {
                let np = b * n(t) * n(h) * n(w);
                act(np * n(cin), np * n(cout), np * n(cin))
            }
            Signature::TemporalConv {
                op,
                c,
                k: hyper,
                t,
                h,
                w,
                ..
            }
            | Signature::TemporalAttn {
                op,
                c,
                heads: hyper,
                t,
                h,
                w,
                ..
            } => match op.spec().structure {
                Structure::Identity => {
                    let e = b * n(c) * n(t) * n(h) * n(w);
                    act(e, e, n(0))
                }
                Structure::Conv { layers } => {
                    let e = b * n(t) * n(c) * n(h) * n(w);
                    act(e, e, n(layers.len() as u64) * e)
                }
                Structure::Attention { mixes, keys } => {
                    let (heads, thw) = (n(hyper), n(t) * n(h) * n(w));
                    let e = b * n(c) * thw;
                    let (sequences, length) = match mixes {
                        Mixing::Frames => (b * n(h) * n(w), n(t)),
                        Mixing::Pixels => (b * n(t), n(h) * n(w)),
                        Mixing::Volume => (b, thw),
                    };
                    // Keys::attended, checked: `length` may already be past u64.
                    let attended = Count(length.0.map(|l| keys.attended(l, self.key_stride())));
                    act(e, e, 4 * e + sequences * heads * length * attended)
                }
            },
        }
    }
}
