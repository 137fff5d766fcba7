//! `breakdown.json`: the predicted latency of each temporal slot of one architecture (the
//! search writes it for the knee of its front), drawn as the latency-breakdown figure.

use crate::error::ReportError;
use serde::{Deserialize, Serialize};
use std::path::Path;
use vidnas_space::{Architecture, Space};

/// `format` of breakdown.json.
pub const BREAKDOWN_FORMAT: &str = "vidnas-breakdown/1";

/// Predicted latency of one slot's temporal op.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlotBreakdown {
    pub slot: String,
    pub op: String,
    pub ms: f64,
}

/// Per-slot latency of one architecture (breakdown.json, next to the run's files).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Breakdown {
    /// Must equal [`BREAKDOWN_FORMAT`].
    pub format: String,
    pub arch_id: String,
    pub arch: String,
    /// Latency of everything that is not a temporal op (the spatial backbone), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backbone_ms: Option<f64>,
    pub slots: Vec<SlotBreakdown>,
}

impl Breakdown {
    /// The breakdown of `arch` from a prediction's backbone time and per-slot times (one per
    /// slot of `space`, in slot order).
    pub fn new(
        space: &Space,
        arch: &Architecture,
        backbone_ms: Option<f64>,
        per_slot_ms: &[f64],
    ) -> Self {
        Breakdown {
            format: BREAKDOWN_FORMAT.into(),
            arch_id: arch.id(),
            arch: arch.encode(),
            backbone_ms,
            slots: space
                .slots
                .iter()
                .zip(&arch.ops)
                .zip(per_slot_ms)
                .map(|((s, op), &ms)| SlotBreakdown {
                    slot: s.name.clone(),
                    op: op.as_str().into(),
                    ms,
                })
                .collect(),
        }
    }

    /// Writes `<run_dir>/breakdown.json` atomically (after checking it as a report would).
    pub fn write(&self, run_dir: &Path) -> Result<(), ReportError> {
        let path = run_dir.join("breakdown.json");
        check_breakdown(&path, self)?;
        Ok(vidnas_io::write_json(&path, self)?)
    }
}

pub(crate) fn check_breakdown(path: &Path, b: &Breakdown) -> Result<(), ReportError> {
    if b.format != BREAKDOWN_FORMAT {
        return Err(ReportError::Format {
            path: path.to_path_buf(),
            message: format!("unsupported format `{}`", b.format),
            fix: format!("write \"format\": \"{BREAKDOWN_FORMAT}\""),
        });
    }
    if let Some(s) = b.slots.iter().find(|s| !s.ms.is_finite() || s.ms < 0.0) {
        return Err(ReportError::Format {
            path: path.to_path_buf(),
            message: format!("slot `{}` has ms = {}", s.slot, s.ms),
            fix: "give every slot a finite, non-negative latency".into(),
        });
    }
    Ok(())
}
