//! The temporal ops and their registry: one [`OpSpec`] per [`OpKind`], saying what the op
//! computes ([`Structure`]) precisely enough that every consumer (signatures, cost formulas,
//! memory, modules, plots) derives its own formulas from it instead of naming ops.
//!
//! Adding an op: a variant of [`OpKind`] (in [`OpKind::ALL`] and [`OpKind::index`]), its entry
//! in [`OpKind::spec`], and its hyper-parameters in the file format
//! ([`crate::OpsSpec::get`]). A consumer that matches on [`Structure`] handles every op of that
//! structure without being edited; one that must know an op by name matches [`OpKind`]
//! exhaustively, so the compiler names it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The temporal layer kinds a slot can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    /// No temporal layer: the slot is the identity.
    None,
    /// Temporal convolution over frames, space folded into the batch.
    Conv1d,
    /// Full spatio-temporal convolution.
    Conv3d,
    /// Temporal self-attention over frames, space folded into the batch.
    Attn1d,
    /// Self-attention over all T×H×W tokens.
    Attn3d,
    /// (2+1)-D convolution: a 3×3 convolution within each frame, then one over frames.
    Conv2plus1d,
    /// Self-attention over all T×H×W tokens, attending to every `stride`-th of them.
    #[serde(rename = "attn3d_stride")]
    Attn3dStride,
}

/// Which activations one sequence (attention) or one kernel window (convolution) spans, on a
/// clip's `[C, T, H, W]` map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mixing {
    /// Along time only, every pixel on its own: space folded into the batch (`H·W` sequences
    /// of `T` per clip); a kernel of size `k` has `k` taps.
    Frames,
    /// Within each frame, every frame on its own: time folded into the batch (`T` sequences of
    /// `H·W` per clip); a kernel of size `k` has `k²` taps.
    Pixels,
    /// Over time and space together (one sequence of `T·H·W` per clip); a kernel of size `k`
    /// has `k³` taps.
    Volume,
}

impl Mixing {
    /// Axes the mixing spans: 1 (time), 2 (height, width) or 3 (all).
    pub const fn axes(self) -> u32 {
        match self {
            Mixing::Frames => 1,
            Mixing::Pixels => 2,
            Mixing::Volume => 3,
        }
    }

    /// Per clip of `t` frames of `hw` pixels: how many sequences an attention over this
    /// mixing forms and their length (saturating).
    pub const fn sequences(self, t: u64, hw: u64) -> (u64, u64) {
        match self {
            Mixing::Frames => (hw, t),
            Mixing::Pixels => (t, hw),
            Mixing::Volume => (1, t.saturating_mul(hw)),
        }
    }
}

/// The kernel size of one convolution of a [`Structure::Conv`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// The op's `kernel_size` hyper-parameter (from the space file; the `k` of its signature).
    Hyper,
    /// A size fixed by the op itself (e.g. the 3×3 spatial half of a (2+1)-D convolution).
    Fixed(u64),
}

impl Kernel {
    /// The size, given the op's `kernel_size` hyper-parameter `k`.
    pub const fn size(self, k: u64) -> u64 {
        match self {
            Kernel::Hyper => k,
            Kernel::Fixed(size) => size,
        }
    }
}

/// One `norm → SiLU → conv` stage of a [`Structure::Conv`] block: a `C → C` convolution with
/// bias, `kernel` wide along every axis `mixes` spans, padded to keep the shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConvLayer {
    pub mixes: Mixing,
    pub kernel: Kernel,
}

impl ConvLayer {
    /// Weight taps per (input, output) channel pair, given the op's `kernel_size` `k`;
    /// `None` past `u64::MAX`.
    pub const fn taps(self, k: u64) -> Option<u64> {
        self.kernel.size(k).checked_pow(self.mixes.axes())
    }
}

/// Which key/value tokens each query of a [`Structure::Attention`] attends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keys {
    /// Every token of its sequence (full self-attention).
    All,
    /// Every `stride`-th token of its sequence, in the sequence's order, from the first (the
    /// op's `stride` hyper-parameter; S2DiT's stride self-attention). Queries stay every token,
    /// so the output keeps its shape while the scores shrink by the stride.
    Strided,
}

impl Keys {
    /// Keys each query attends to in a sequence of `length` tokens, given the op's `stride`
    /// (ignored by [`Keys::All`]; 0 is read as 1, validation rejects it first).
    pub const fn attended(self, length: u64, stride: u64) -> u64 {
        match self {
            Keys::All => length,
            Keys::Strided => length.div_ceil(if stride == 0 { 1 } else { stride }),
        }
    }

    /// Whether the op reads a `stride` hyper-parameter.
    pub const fn strided(self) -> bool {
        match self {
            Keys::All => false,
            Keys::Strided => true,
        }
    }
}

/// The hyper-parameters an op's structure reads, as numbers: `size` is a [`Structure::Conv`]'s
/// `kernel_size` or a [`Structure::Attention`]'s `num_heads`; `stride` the stride of
/// [`Keys::Strided`] (1 for every other op).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpHyper {
    pub size: u64,
    pub stride: u64,
}

impl OpHyper {
    /// An op without a stride.
    pub const fn of_size(size: u64) -> Self {
        OpHyper { size, stride: 1 }
    }
}

/// What a temporal op computes, in terms every consumer derives its formulas from. Every op
/// but the identity is a residual block on the clip's `[C, T, H, W]` map that keeps its shape,
/// normalises with GroupNorm over the whole clip (`groups` groups) and zero-initialises its
/// last layer, so an inflated network equals the image network frame by frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Structure {
    /// No layer: the slot is the identity (never lowered, profiled nor built).
    Identity,
    /// `x + (norm → SiLU → conv)` for each of `layers` in order, the last conv zero-initialised.
    /// Signature keys `c k groups t h w` (`k`: the `kernel_size` hyper-parameter).
    Conv { layers: &'static [ConvLayer] },
    /// `x + proj_out(attention(proj_in(norm(x)) + frame position))`: linear `proj_in`,
    /// multi-head attention (`to_q`, `to_k`, `to_v` without bias, `to_out` with bias) over the
    /// sequences `mixes` forms, attending to `keys`, and a zero-initialised linear `proj_out`.
    /// Signature keys `c heads groups t h w` (`heads`: the `num_heads` hyper-parameter).
    Attention { mixes: Mixing, keys: Keys },
}

impl Structure {
    /// Whether the op reads a `stride` hyper-parameter: an attention with [`Keys::Strided`].
    pub const fn strided(self) -> bool {
        match self {
            Structure::Attention { keys, .. } => keys.strided(),
            Structure::Identity | Structure::Conv { .. } => false,
        }
    }
}

/// The one description of a temporal op.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OpSpec {
    pub kind: OpKind,
    /// Its name in space files, architecture encodings, signatures, tables and plots.
    pub name: &'static str,
    /// One line for legends and error messages.
    pub doc: &'static str,
    pub structure: Structure,
}

impl OpKind {
    /// All kinds in their canonical order (the order used in files, tables and plots).
    pub const ALL: [OpKind; 7] = [
        OpKind::None,
        OpKind::Conv1d,
        OpKind::Conv3d,
        OpKind::Attn1d,
        OpKind::Attn3d,
        OpKind::Conv2plus1d,
        OpKind::Attn3dStride,
    ];

    /// Number of kinds: the size of per-op arrays indexed by [`OpKind::index`].
    pub const COUNT: usize = Self::ALL.len();

    /// Position in [`OpKind::ALL`].
    pub const fn index(self) -> usize {
        match self {
            OpKind::None => 0,
            OpKind::Conv1d => 1,
            OpKind::Conv3d => 2,
            OpKind::Attn1d => 3,
            OpKind::Attn3d => 4,
            OpKind::Conv2plus1d => 5,
            OpKind::Attn3dStride => 6,
        }
    }

    /// The op's descriptor: the registry.
    pub const fn spec(self) -> &'static OpSpec {
        const FRAMES_K: ConvLayer = ConvLayer {
            mixes: Mixing::Frames,
            kernel: Kernel::Hyper,
        };
        const VOLUME_K: ConvLayer = ConvLayer {
            mixes: Mixing::Volume,
            kernel: Kernel::Hyper,
        };
        const PIXELS_3: ConvLayer = ConvLayer {
            mixes: Mixing::Pixels,
            kernel: Kernel::Fixed(3),
        };
        match self {
            OpKind::None => &OpSpec {
                kind: OpKind::None,
                name: "none",
                doc: "no temporal layer: the slot is the identity",
                structure: Structure::Identity,
            },
            OpKind::Conv1d => &OpSpec {
                kind: OpKind::Conv1d,
                name: "conv1d",
                doc: "temporal convolution over frames, space folded into the batch",
                structure: Structure::Conv {
                    layers: &[FRAMES_K, FRAMES_K],
                },
            },
            OpKind::Conv3d => &OpSpec {
                kind: OpKind::Conv3d,
                name: "conv3d",
                doc: "spatio-temporal convolution over T×H×W",
                structure: Structure::Conv {
                    layers: &[VOLUME_K, VOLUME_K],
                },
            },
            OpKind::Attn1d => &OpSpec {
                kind: OpKind::Attn1d,
                name: "attn1d",
                doc: "temporal self-attention over frames, space folded into the batch",
                structure: Structure::Attention {
                    mixes: Mixing::Frames,
                    keys: Keys::All,
                },
            },
            OpKind::Attn3d => &OpSpec {
                kind: OpKind::Attn3d,
                name: "attn3d",
                doc: "self-attention over all T×H×W tokens",
                structure: Structure::Attention {
                    mixes: Mixing::Volume,
                    keys: Keys::All,
                },
            },
            OpKind::Conv2plus1d => &OpSpec {
                kind: OpKind::Conv2plus1d,
                name: "conv2plus1d",
                doc: "(2+1)-D convolution: 3×3 within each frame, then over frames",
                structure: Structure::Conv {
                    layers: &[PIXELS_3, FRAMES_K],
                },
            },
            OpKind::Attn3dStride => &OpSpec {
                kind: OpKind::Attn3dStride,
                name: "attn3d_stride",
                doc: "self-attention over T×H×W tokens, keys every stride-th token",
                structure: Structure::Attention {
                    mixes: Mixing::Volume,
                    keys: Keys::Strided,
                },
            },
        }
    }

    pub const fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// Whether the op is a layer (every kind but the identity).
    pub const fn is_temporal(self) -> bool {
        !matches!(self.spec().structure, Structure::Identity)
    }

    /// The names of every kind in canonical order, for messages: `none, conv1d, …`.
    pub fn known() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|op| op.as_str()).collect();
        names.join(", ")
    }
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OpKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OpKind::ALL
            .into_iter()
            .find(|op| op.as_str() == s)
            .ok_or_else(|| format!("unknown temporal op `{s}`; known ops: {}", OpKind::known()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_is_consistent() {
        for (i, op) in OpKind::ALL.into_iter().enumerate() {
            assert_eq!(op.index(), i, "{op}: index() disagrees with ALL");
            assert_eq!(op.spec().kind, op, "{op}: spec() describes another op");
            assert!(!op.spec().doc.is_empty(), "{op}: no doc line");
            assert_eq!(
                serde_json::to_string(&op).unwrap(),
                format!("\"{}\"", op.spec().name),
                "{op}: the serde name differs from the registry's name"
            );
            assert_eq!(op.as_str().parse::<OpKind>(), Ok(op));
            for other in &OpKind::ALL[..i] {
                assert_ne!(other.as_str(), op.as_str(), "two ops named `{op}`");
            }
            if let Structure::Conv { layers } = op.spec().structure {
                assert!(!layers.is_empty(), "{op}: a convolution without layers");
            }
        }
        assert_eq!(OpKind::COUNT, OpKind::ALL.len());
    }

    #[test]
    fn unknown_ops_list_the_registry() {
        let err = "conv2d".parse::<OpKind>().unwrap_err();
        assert!(
            err.starts_with("unknown temporal op `conv2d`; known ops: none, conv1d, conv3d,"),
            "{err}"
        );
        assert!(
            OpKind::ALL.iter().all(|op| err.contains(op.as_str())),
            "{err}"
        );
    }

    #[test]
    fn taps_follow_the_axes_mixed() {
        let layer = |mixes, kernel| ConvLayer { mixes, kernel };
        assert_eq!(layer(Mixing::Frames, Kernel::Hyper).taps(5), Some(5));
        assert_eq!(layer(Mixing::Pixels, Kernel::Fixed(3)).taps(5), Some(9));
        assert_eq!(layer(Mixing::Volume, Kernel::Hyper).taps(3), Some(27));
        assert_eq!(layer(Mixing::Volume, Kernel::Hyper).taps(1 << 22), None);
    }
}
