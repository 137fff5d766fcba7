use crate::error::SpaceError;
use crate::ops::OpKind;
use crate::space::Space;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One temporal op per slot, in slot order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Architecture {
    pub ops: Vec<OpKind>,
}

impl Architecture {
    /// The canonical text form: op names in slot order joined by `-`,
    /// e.g. `none-conv1d-attn1d-none-attn3d-conv3d-none`.
    pub fn encode(&self) -> String {
        let names: Vec<&str> = self.ops.iter().map(|o| o.as_str()).collect();
        names.join("-")
    }

    /// A short stable id: the first 10 hex digits of SHA-256 of the encoding.
    pub fn id(&self) -> String {
        vidnas_io::sha256_hex(self.encode().as_bytes(), 10)
    }

    pub fn temporal_layers(&self) -> usize {
        self.ops.iter().filter(|o| o.is_temporal()).count()
    }

    /// `{slot name: op}` for every slot, for configs and JSON output.
    pub fn slot_map(&self, space: &Space) -> BTreeMap<String, OpKind> {
        space
            .slots
            .iter()
            .zip(&self.ops)
            .map(|(s, &o)| (s.name.clone(), o))
            .collect()
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

impl Space {
    fn arch_error(&self, arch: impl Into<String>, message: String) -> SpaceError {
        SpaceError::Arch {
            arch: arch.into(),
            space: self.path.clone(),
            message,
        }
    }

    /// A valid architecture to show in error messages: `none` wherever allowed, then the first
    /// temporal op of the earliest capable slots until the minimum layer count is met.
    pub fn example_arch(&self) -> Architecture {
        let mut ops: Vec<OpKind> = self
            .slots
            .iter()
            .map(|s| {
                if s.allows(OpKind::None) {
                    OpKind::None
                } else {
                    s.allowed.first().copied().unwrap_or(OpKind::None)
                }
            })
            .collect();
        let (min, _) = self.temporal_layer_bounds();
        let mut missing = min.saturating_sub(ops.iter().filter(|o| o.is_temporal()).count());
        for (op, slot) in ops.iter_mut().zip(&self.slots) {
            if missing == 0 {
                break;
            }
            if let (OpKind::None, Some(&t)) = (*op, slot.allowed.iter().find(|o| o.is_temporal())) {
                *op = t;
                missing -= 1;
            }
        }
        Architecture { ops }
    }

    /// Parses the canonical encoding and checks it against this space.
    pub fn parse_arch(&self, text: &str) -> Result<Architecture, SpaceError> {
        let text = text.trim();
        let slot_list = || {
            self.slots
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if text.is_empty() {
            return Err(self.arch_error(
                text,
                format!(
                    "is empty; give one op per slot ({}) joined by `-`, e.g. {}",
                    slot_list(),
                    self.example_arch()
                ),
            ));
        }
        let parts: Vec<&str> = text.split('-').collect();
        if parts.len() != self.slots.len() {
            return Err(self.arch_error(
                text,
                format!(
                    "has {} ops but space `{}` has {} slots ({}); give one op per slot joined \
                     by `-`, e.g. {}",
                    parts.len(),
                    self.name(),
                    self.slots.len(),
                    slot_list(),
                    self.example_arch()
                ),
            ));
        }
        let ops = parts
            .iter()
            .zip(&self.slots)
            .map(|(p, s)| {
                p.parse::<OpKind>()
                    .map_err(|e| self.arch_error(text, format!("slot `{}`: {e}", s.name)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let arch = Architecture { ops };
        self.check_arch(&arch)?;
        Ok(arch)
    }

    /// Builds an architecture from `{slot name: op}`; every slot must be named once.
    pub fn arch_from_map(
        &self,
        map: &BTreeMap<String, OpKind>,
    ) -> Result<Architecture, SpaceError> {
        if let Some(unknown) = map.keys().find(|k| self.slot_index(k).is_none()) {
            return Err(self.arch_error(
                format!("{map:?}"),
                format!(
                    "slot `{unknown}` does not exist in space `{}`; its slots: {}",
                    self.name(),
                    self.slots
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let ops = self
            .slots
            .iter()
            .map(|s| {
                map.get(&s.name).copied().ok_or_else(|| {
                    self.arch_error(
                        format!("{map:?}"),
                        format!("slot `{}` has no op; name an op for every slot", s.name),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let arch = Architecture { ops };
        self.check_arch(&arch)?;
        Ok(arch)
    }

    /// Checks slot count, per-slot allowed ops and the temporal-layer constraints.
    pub fn check_arch(&self, arch: &Architecture) -> Result<(), SpaceError> {
        let arch_err = |message: String| self.arch_error(arch.encode(), message);
        if arch.ops.len() != self.slots.len() {
            return Err(arch_err(format!(
                "has {} ops but space `{}` has {} slots",
                arch.ops.len(),
                self.name(),
                self.slots.len()
            )));
        }
        for (s, &op) in self.slots.iter().zip(&arch.ops) {
            if !s.allows(op) {
                let allowed: Vec<&str> = s.allowed.iter().map(|o| o.as_str()).collect();
                return Err(arch_err(format!(
                    "slot `{}` ({}×{}) does not allow `{op}`; allowed there: {}",
                    s.name,
                    s.height,
                    s.width,
                    allowed.join(", ")
                )));
            }
        }
        let (min, max) = self.temporal_layer_bounds();
        let k = arch.temporal_layers();
        if k < min {
            return Err(arch_err(format!(
                "has {k} temporal layers but space `{}` needs at least {min} \
                 (temporal.constraints.min_temporal_layers); change {} `none` slot(s) to a \
                 temporal op",
                self.name(),
                min - k
            )));
        }
        if k > max {
            return Err(arch_err(format!(
                "has {k} temporal layers but space `{}` allows at most {max} \
                 (temporal.constraints.max_temporal_layers); set {} slot(s) to `none`",
                self.name(),
                k - max
            )));
        }
        Ok(())
    }
}
