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
}

impl OpKind {
    /// All kinds in their canonical order (the order used in files, tables and plots).
    pub const ALL: [OpKind; 5] = [
        OpKind::None,
        OpKind::Conv1d,
        OpKind::Conv3d,
        OpKind::Attn1d,
        OpKind::Attn3d,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::None => "none",
            OpKind::Conv1d => "conv1d",
            OpKind::Conv3d => "conv3d",
            OpKind::Attn1d => "attn1d",
            OpKind::Attn3d => "attn3d",
        }
    }

    pub fn is_temporal(self) -> bool {
        self != OpKind::None
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
            .ok_or_else(|| {
                format!(
                    "unknown temporal op `{s}`; known ops: none, conv1d, conv3d, attn1d, attn3d"
                )
            })
    }
}
