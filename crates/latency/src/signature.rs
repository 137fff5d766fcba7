//! Op signatures: the strings that key latency tables.
//!
//! # Grammar
//!
//! ```text
//! signature := kind ( "|" key "=" value )*
//! kind      := one of the kinds below
//! value     := decimal unsigned integer, no sign, no leading zeros ("0" itself is allowed)
//! ```
//!
//! Every key of a kind appears exactly once, in the order listed; no spaces anywhere. `t` is the
//! number of frames of one clip (spatial ops run on `t` images per clip); the batch (clips per
//! forward) and the dtype are not part of a signature: they are table metadata.
//!
//! | kind         | keys, in order                                          |
//! |--------------|---------------------------------------------------------|
//! | `time_embed` | `c temb`                                                |
//! | `conv_in`    | `cin cout t h w`                                        |
//! | `resnet`     | `cin cout temb groups t h w`                            |
//! | `xformer`    | `c heads ctx tokens layers linear groups t h w`         |
//! | `down`       | `c t h w` (input resolution)                            |
//! | `up`         | `c t h w` (input resolution)                            |
//! | `conv_out`   | `cin cout groups t h w`                                 |
//! | temporal op  | `c k groups t h w` (a convolution)                      |
//! |              | `c heads groups t h w` (an attention)                   |
//! |              | `c heads stride groups t h w` (an attention, strided)   |
//!
//! A temporal op's kind is its registry name ([`OpKind::spec`]: `conv1d`, `attn3d_stride`, …)
//! and its keys follow from its [`Structure`] ([`OpClass::keys`]).
//!
//! Example: `resnet|cin=64|cout=32|temb=128|groups=8|t=8|h=16|w=16`. The same text, with the
//! meaning of every key and the cost model, is in `crates/latency/SIGNATURES.md` for harnesses
//! written in other languages.

use crate::error::LatencyError;
pub use crate::op_class::OpClass;
use crate::op_class::STRIDED_ATTN_KEYS;
use std::fmt;
use std::str::FromStr;
use vidnas_space::{OpHyper, OpKind, Structure};

/// A parsed signature: an op kind and the shape it runs at. `t`, `h`, `w` are frames per clip
/// and the op's input height and width.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Signature {
    /// Sinusoidal features (`c` wide) → Linear(c, temb) → SiLU → Linear(temb, temb); once per clip.
    TimeEmbed { c: u64, temb: u64 },
    /// Conv2d(cin, cout, 3, pad 1).
    ConvIn {
        cin: u64,
        cout: u64,
        t: u64,
        h: u64,
        w: u64,
    },
    /// diffusers `ResnetBlock2D` (1×1 shortcut when `cin != cout`).
    Resnet {
        cin: u64,
        cout: u64,
        temb: u64,
        groups: u64,
        t: u64,
        h: u64,
        w: u64,
    },
    /// diffusers `Transformer2DModel` with `layers` `BasicTransformerBlock`s attending to
    /// `tokens` text tokens of width `ctx`; `linear`: linear (true) or 1×1-conv projections.
    Transformer {
        c: u64,
        heads: u64,
        ctx: u64,
        tokens: u64,
        layers: u64,
        linear: bool,
        groups: u64,
        t: u64,
        h: u64,
        w: u64,
    },
    /// Stride-2 3×3 convolution; `h`, `w` are the input size.
    Downsample { c: u64, t: u64, h: u64, w: u64 },
    /// Nearest 2× upsampling then a 3×3 convolution; `h`, `w` are the input size.
    Upsample { c: u64, t: u64, h: u64, w: u64 },
    /// GroupNorm → SiLU → Conv2d(cin, cout, 3, pad 1).
    ConvOut {
        cin: u64,
        cout: u64,
        groups: u64,
        t: u64,
        h: u64,
        w: u64,
    },
    /// Residual temporal convolution block; `op` is an op whose structure is
    /// [`Structure::Conv`] (conv1d, conv3d).
    TemporalConv {
        op: OpKind,
        c: u64,
        k: u64,
        groups: u64,
        t: u64,
        h: u64,
        w: u64,
    },
    /// Residual temporal self-attention block; `op` is an op whose structure is
    /// [`Structure::Attention`] (attn1d, attn3d, attn3d_stride). `stride` is 1 for an op that
    /// attends to all keys (and then not written).
    TemporalAttn {
        op: OpKind,
        c: u64,
        heads: u64,
        stride: u64,
        groups: u64,
        t: u64,
        h: u64,
        w: u64,
    },
}

impl Signature {
    pub fn class(&self) -> OpClass {
        match self {
            Signature::TimeEmbed { .. } => OpClass::TimeEmbed,
            Signature::ConvIn { .. } => OpClass::ConvIn,
            Signature::Resnet { .. } => OpClass::Resnet,
            Signature::Transformer { .. } => OpClass::Transformer,
            Signature::Downsample { .. } => OpClass::Downsample,
            Signature::Upsample { .. } => OpClass::Upsample,
            Signature::ConvOut { .. } => OpClass::ConvOut,
            Signature::TemporalConv { op, .. } | Signature::TemporalAttn { op, .. } => {
                OpClass::Temporal(*op)
            }
        }
    }

    /// The stride of a strided attention's keys; 1 for every other signature.
    pub fn key_stride(&self) -> u64 {
        if let Signature::TemporalAttn { stride, .. } = *self {
            stride
        } else {
            1
        }
    }

    /// The values in the order of [`OpClass::keys`].
    pub fn values(&self) -> Vec<u64> {
        match *self {
            Signature::TimeEmbed { c, temb } => vec![c, temb],
            Signature::ConvIn { cin, cout, t, h, w } => vec![cin, cout, t, h, w],
            Signature::Resnet {
                cin,
                cout,
                temb,
                groups,
                t,
                h,
                w,
            } => {
                vec![cin, cout, temb, groups, t, h, w]
            }
            Signature::Transformer {
                c,
                heads,
                ctx,
                tokens,
                layers,
                linear,
                groups,
                t,
                h,
                w,
            } => {
                vec![
                    c,
                    heads,
                    ctx,
                    tokens,
                    layers,
                    u64::from(linear),
                    groups,
                    t,
                    h,
                    w,
                ]
            }
            Signature::Downsample { c, t, h, w } | Signature::Upsample { c, t, h, w } => {
                vec![c, t, h, w]
            }
            Signature::ConvOut {
                cin,
                cout,
                groups,
                t,
                h,
                w,
            } => vec![cin, cout, groups, t, h, w],
            Signature::TemporalConv {
                c,
                k,
                groups,
                t,
                h,
                w,
                ..
            } => vec![c, k, groups, t, h, w],
            Signature::TemporalAttn {
                op,
                c,
                heads,
                stride,
                groups,
                t,
                h,
                w,
            } => {
                if op.spec().structure.strided() {
                    vec![c, heads, stride, groups, t, h, w]
                } else {
                    vec![c, heads, groups, t, h, w]
                }
            }
        }
    }

    /// The temporal op `op` at channels `c`, its hyper-parameters `hyper` (a convolution's
    /// kernel size, an attention's heads and stride), `groups` and frames × height × width;
    /// `None` for the identity.
    pub fn temporal(
        op: OpKind,
        c: u64,
        hyper: OpHyper,
        groups: u64,
        (t, h, w): (u64, u64, u64),
    ) -> Option<Signature> {
        match op.spec().structure {
            Structure::Identity => None,
            Structure::Conv { .. } => Some(Signature::TemporalConv {
                op,
                c,
                k: hyper.size,
                groups,
                t,
                h,
                w,
            }),
            Structure::Attention { .. } => Some(Signature::TemporalAttn {
                op,
                c,
                heads: hyper.size,
                stride: if op.spec().structure.strided() {
                    hyper.stride
                } else {
                    1
                },
                groups,
                t,
                h,
                w,
            }),
        }
    }

    /// Builds a signature from a class and its values in key order (`v.len()` must match);
    /// `None` for a class no signature has (`Temporal(OpKind::None)`).
    fn from_values(class: OpClass, v: &[u64]) -> Option<Signature> {
        Some(match class {
            OpClass::TimeEmbed => Signature::TimeEmbed {
                c: v[0],
                temb: v[1],
            },
            OpClass::ConvIn => Signature::ConvIn {
                cin: v[0],
                cout: v[1],
                t: v[2],
                h: v[3],
                w: v[4],
            },
            OpClass::Resnet => Signature::Resnet {
                cin: v[0],
                cout: v[1],
                temb: v[2],
                groups: v[3],
                t: v[4],
                h: v[5],
                w: v[6],
            },
            OpClass::Transformer => Signature::Transformer {
                c: v[0],
                heads: v[1],
                ctx: v[2],
                tokens: v[3],
                layers: v[4],
                linear: v[5] == 1,
                groups: v[6],
                t: v[7],
                h: v[8],
                w: v[9],
            },
            OpClass::Downsample => Signature::Downsample {
                c: v[0],
                t: v[1],
                h: v[2],
                w: v[3],
            },
            OpClass::Upsample => Signature::Upsample {
                c: v[0],
                t: v[1],
                h: v[2],
                w: v[3],
            },
            OpClass::ConvOut => Signature::ConvOut {
                cin: v[0],
                cout: v[1],
                groups: v[2],
                t: v[3],
                h: v[4],
                w: v[5],
            },
            OpClass::Temporal(op) => {
                // A strided attention's stride sits after its heads.
                let (hyper, rest) = if class.keys() == STRIDED_ATTN_KEYS {
                    let (size, stride) = (v[1], v[2]);
                    (OpHyper { size, stride }, &v[3..])
                } else {
                    (OpHyper::of_size(v[1]), &v[2..])
                };
                return Signature::temporal(op, v[0], hyper, rest[0], (rest[1], rest[2], rest[3]));
            }
        })
    }

    /// Checks the values make a buildable op: positive sizes, `linear` 0 or 1, group and head
    /// counts that divide the channels they split, odd kernels.
    fn check(&self) -> Result<(), String> {
        let class = self.class();
        for (key, value) in class.keys().iter().zip(self.values()) {
            if value == 0 && *key != "linear" {
                return Err(format!("`{key}` must be positive, got 0"));
            }
        }
        let divides = |what: &str, d: u64, key: &str, n: u64| {
            if n.is_multiple_of(d) {
                Ok(())
            } else {
                Err(format!("{what}={d} does not divide {key}={n}"))
            }
        };
        match *self {
            Signature::Resnet {
                cin, cout, groups, ..
            } => {
                divides("groups", groups, "cin", cin)?;
                divides("groups", groups, "cout", cout)
            }
            Signature::Transformer {
                c, heads, groups, ..
            } => {
                divides("groups", groups, "c", c)?;
                divides("heads", heads, "c", c)
            }
            Signature::ConvOut { cin, groups, .. } => divides("groups", groups, "cin", cin),
            Signature::TemporalConv { c, k, groups, .. } => {
                divides("groups", groups, "c", c)?;
                if k % 2 == 0 {
                    return Err(format!("kernel k={k} is even; temporal kernels are odd"));
                }
                Ok(())
            }
            Signature::TemporalAttn {
                c,
                heads,
                stride,
                groups,
                t,
                h,
                w,
                op,
            } => {
                divides("groups", groups, "c", c)?;
                divides("heads", heads, "c", c)?;
                let Structure::Attention { mixes, .. } = op.spec().structure else {
                    return Ok(());
                };
                let (_, length) = mixes.sequences(t, h.saturating_mul(w));
                if stride > length {
                    return Err(format!(
                        "stride={stride} is larger than the {length} tokens of a sequence"
                    ));
                }
                Ok(())
            }
            Signature::TimeEmbed { .. }
            | Signature::ConvIn { .. }
            | Signature::Downsample { .. }
            | Signature::Upsample { .. } => Ok(()),
        }
    }
}

impl fmt::Display for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = self.class();
        f.write_str(class.name())?;
        for (key, value) in class.keys().iter().zip(self.values()) {
            write!(f, "|{key}={value}")?;
        }
        Ok(())
    }
}

impl FromStr for Signature {
    type Err = LatencyError;

    /// Parses the canonical form only: exactly the keys of the kind, in order, decimal values
    /// without leading zeros; `parse(format(s)) == s` and `format(parse(text)) == text`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |message: String| LatencyError::Signature {
            signature: text.to_string(),
            message,
        };
        let mut parts = text.split('|');
        let kind = parts.next().unwrap_or_default();
        let class = OpClass::from_name(kind).ok_or_else(|| {
            let known: Vec<&str> = OpClass::ALL.iter().map(|c| c.name()).collect();
            err(format!(
                "unknown op kind `{kind}`; known kinds: {}",
                known.join(", ")
            ))
        })?;
        let keys = class.keys();
        let mut values = Vec::with_capacity(keys.len());
        for (i, part) in parts.enumerate() {
            let Some(&expected) = keys.get(i) else {
                return Err(err(format!(
                    "`{kind}` takes {} keys ({}), found more: `{part}`",
                    keys.len(),
                    keys.join(", ")
                )));
            };
            let (key, value) = part
                .split_once('=')
                .ok_or_else(|| err(format!("`{part}` is not `key=value`")))?;
            if key != expected {
                return Err(err(format!(
                    "expected key `{expected}` at position {} but found `{key}`; `{kind}` keys \
                     are, in order: {}",
                    i + 1,
                    keys.join(", ")
                )));
            }
            values.push(parse_value(key, value).map_err(err)?);
        }
        if values.len() < keys.len() {
            return Err(err(format!(
                "missing key `{}`; `{kind}` keys are, in order: {}",
                keys[values.len()],
                keys.join(", ")
            )));
        }
        if class == OpClass::Transformer && values[5] > 1 {
            return Err(err(format!("`linear` must be 0 or 1, got {}", values[5])));
        }
        let sig = Signature::from_values(class, &values)
            .ok_or_else(|| err(format!("`{kind}` is not an op kind")))?;
        sig.check().map_err(err)?;
        Ok(sig)
    }
}

fn parse_value(key: &str, value: &str) -> Result<u64, String> {
    let canonical = !value.is_empty()
        && value.bytes().all(|b| b.is_ascii_digit())
        && (value == "0" || !value.starts_with('0'));
    if !canonical {
        return Err(format!(
            "`{key}={value}`: values are decimal integers without sign, spaces or leading zeros"
        ));
    }
    value
        .parse()
        .map_err(|_| format!("`{key}={value}`: the value is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_a_distinct_name_and_index() {
        for (i, c) in OpClass::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
            assert_eq!(OpClass::from_name(c.name()), Some(*c));
        }
    }

    #[test]
    fn every_temporal_op_of_the_registry_has_a_class() {
        for op in OpKind::ALL {
            let class = OpClass::Temporal(op);
            assert_eq!(
                OpClass::ALL.contains(&class),
                op.is_temporal(),
                "`{op}`: OpClass::ALL and the registry disagree"
            );
            if op.is_temporal() {
                assert_eq!(OpClass::from_name(op.as_str()), Some(class), "`{op}`");
                assert!(!class.keys().is_empty(), "`{op}` has no signature keys");
            }
        }
    }

    #[test]
    fn leading_zeros_and_spaces_are_rejected() {
        assert!("down|c=032|t=8|h=32|w=32".parse::<Signature>().is_err());
        assert!("down|c=32|t=8|h=32| w=32".parse::<Signature>().is_err());
        assert!("down|c=32|t=8|h=32|w=32".parse::<Signature>().is_ok());
    }
}
