//! The kinds of lowered ops ([`OpClass`]): the spatial network's blocks, then one per temporal
//! op of the registry, each with the keys of its signatures.

use std::fmt;
use vidnas_space::{OpKind, Structure};

/// Keys of a [`Structure::Conv`] op.
pub(crate) const CONV_KEYS: &[&str] = &["c", "k", "groups", "t", "h", "w"];
/// Keys of a [`Structure::Attention`] op attending to all keys.
pub(crate) const ATTN_KEYS: &[&str] = &["c", "heads", "groups", "t", "h", "w"];
/// Keys of a [`Structure::Attention`] op with [`vidnas_space::Keys::Strided`] keys.
pub(crate) const STRIDED_ATTN_KEYS: &[&str] = &["c", "heads", "stride", "groups", "t", "h", "w"];

/// The classes of the spatial network, in canonical order (before the temporal ones).
const BACKBONE_CLASSES: [OpClass; 7] = [
    OpClass::TimeEmbed,
    OpClass::ConvIn,
    OpClass::Resnet,
    OpClass::Transformer,
    OpClass::Downsample,
    OpClass::Upsample,
    OpClass::ConvOut,
];

/// Number of ops of the registry that are layers (every op but the identity).
const fn temporal_ops() -> usize {
    let mut count = 0;
    let mut i = 0;
    while i < OpKind::COUNT {
        if OpKind::ALL[i].is_temporal() {
            count += 1;
        }
        i += 1;
    }
    count
}

/// What a lowered op is; one class per signature kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpClass {
    TimeEmbed,
    ConvIn,
    Resnet,
    Transformer,
    Downsample,
    Upsample,
    ConvOut,
    /// A temporal op; never `Temporal(OpKind::None)` (the identity is not lowered).
    Temporal(OpKind),
}

impl OpClass {
    pub const COUNT: usize = BACKBONE_CLASSES.len() + temporal_ops();

    /// Every class in canonical order (the order of per-kind vectors, e.g. in corrections):
    /// the spatial network's, then every temporal op of the registry in [`OpKind::ALL`]'s
    /// order.
    pub const ALL: [OpClass; OpClass::COUNT] = {
        let mut all = [OpClass::TimeEmbed; OpClass::COUNT];
        let mut i = 0;
        while i < BACKBONE_CLASSES.len() {
            all[i] = BACKBONE_CLASSES[i];
            i += 1;
        }
        let mut k = 0;
        while k < OpKind::COUNT {
            if OpKind::ALL[k].is_temporal() {
                all[i] = OpClass::Temporal(OpKind::ALL[k]);
                i += 1;
            }
            k += 1;
        }
        all
    };

    /// The signature kind, e.g. `resnet`, `xformer`, `attn1d`.
    pub fn name(self) -> &'static str {
        match self {
            OpClass::TimeEmbed => "time_embed",
            OpClass::ConvIn => "conv_in",
            OpClass::Resnet => "resnet",
            OpClass::Transformer => "xformer",
            OpClass::Downsample => "down",
            OpClass::Upsample => "up",
            OpClass::ConvOut => "conv_out",
            OpClass::Temporal(op) => op.as_str(),
        }
    }

    /// Position in [`OpClass::ALL`].
    ///
    /// # Panics
    /// On `Temporal(OpKind::None)`, which no lowering produces.
    pub fn index(self) -> usize {
        Self::ALL
            .iter()
            .position(|&c| c == self)
            .expect("`none` is never lowered to an op")
    }

    pub fn from_name(name: &str) -> Option<OpClass> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    pub fn is_temporal(self) -> bool {
        matches!(self, OpClass::Temporal(_))
    }

    /// The keys of this kind's signature, in their fixed order.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            OpClass::TimeEmbed => &["c", "temb"],
            OpClass::ConvIn => &["cin", "cout", "t", "h", "w"],
            OpClass::Resnet => &["cin", "cout", "temb", "groups", "t", "h", "w"],
            OpClass::Transformer => &[
                "c", "heads", "ctx", "tokens", "layers", "linear", "groups", "t", "h", "w",
            ],
            OpClass::Downsample | OpClass::Upsample => &["c", "t", "h", "w"],
            OpClass::ConvOut => &["cin", "cout", "groups", "t", "h", "w"],
            OpClass::Temporal(op) => match op.spec().structure {
                // Never a class of a lowered op.
                Structure::Identity => &[],
                Structure::Conv { .. } => CONV_KEYS,
                structure @ Structure::Attention { .. } if structure.strided() => STRIDED_ATTN_KEYS,
                Structure::Attention { .. } => ATTN_KEYS,
            },
        }
    }
}

impl fmt::Display for OpClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
