//! Latency and peak-memory prediction of one architecture from a latency table.
//!
//! Latency is additive: the sum of the table's `ms` over the lowered ops, optionally passed
//! through the table's [`Correction`](crate::Correction). Memory follows `memory.rs`.

use crate::correction::kind_sums;
use crate::cost::Dtype;
use crate::error::LatencyError;
use crate::lower::{all_signatures, lower, LowerOptions, LoweredOp};
use crate::memory;
use crate::table::LatencyTable;
use vidnas_space::{Architecture, Space};

/// The conditions a prediction is for; the table must have been measured under them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PredictRequest {
    pub dtype: Dtype,
    /// Clips per forward.
    pub batch: usize,
    /// Text tokens of the cross-attention.
    pub text_tokens: usize,
    /// Apply the table's correction when it has one.
    pub apply_correction: bool,
}

impl Default for PredictRequest {
    fn default() -> Self {
        Self {
            dtype: Dtype::F32,
            batch: 1,
            text_tokens: LowerOptions::DEFAULT_TEXT_TOKENS,
            apply_correction: true,
        }
    }
}

impl PredictRequest {
    /// The conditions the table was measured under.
    pub fn for_table(table: &LatencyTable) -> Self {
        Self {
            dtype: table.device.dtype,
            batch: table.device.batch,
            text_tokens: table.device.text_tokens,
            apply_correction: true,
        }
    }

    pub fn lower_options(&self) -> LowerOptions {
        LowerOptions::new(self.text_tokens, self.batch)
    }
}

/// Predicted cost of one architecture.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    /// Predicted latency of one forward: `sum_ms` through the correction when applied.
    pub total_ms: f64,
    /// Plain sum of the table's `ms` over the ops.
    pub sum_ms: f64,
    /// Every lowered op with its table `ms`, in execution order.
    pub per_op: Vec<(LoweredOp, f64)>,
    /// Table `ms` of the temporal op at each slot (0 for `none`), in slot order.
    pub per_slot_ms: Vec<f64>,
    /// Sum over the spatial ops.
    pub backbone_ms: f64,
    /// Sum over the temporal ops.
    pub temporal_ms: f64,
    /// Op-ms sums per kind, indexed like [`OpClass::ALL`](crate::OpClass::ALL) (the rows of a
    /// correction fit).
    pub kind_ms: Vec<f64>,
    /// Weights + peak activations.
    pub peak_mem_bytes: u64,
    pub weight_bytes: u64,
    pub peak_activation_bytes: u64,
    /// Index into `per_op` of the op where activations peak.
    pub peak_op: usize,
    pub params: u64,
    /// Whether `total_ms` went through the table's correction.
    pub corrected: bool,
    /// `[lo, hi]` around `total_ms` from the table's validation (`None`: never validated, or
    /// the raw sum was asked for while the interval describes the corrected prediction).
    pub interval_ms: Option<(f64, f64)>,
}

/// Predicts `arch` from `table`, which must match the request's dtype, batch and text tokens
/// and hold every signature the architecture needs.
pub fn predict(
    space: &Space,
    arch: &Architecture,
    table: &LatencyTable,
    req: &PredictRequest,
) -> Result<Prediction, LatencyError> {
    table.check_conditions(req.dtype, req.batch, req.text_tokens)?;
    let ops = lower(space, arch, &req.lower_options())?;
    let mut missing: Vec<String> = Vec::new();
    let mut per_op = Vec::with_capacity(ops.len());
    for op in ops {
        match table.ms(&op.signature) {
            Some(ms) => per_op.push((op, ms)),
            None => {
                if !missing.contains(&op.signature) {
                    missing.push(op.signature.clone());
                }
            }
        }
    }
    if !missing.is_empty() {
        return Err(LatencyError::missing(
            space,
            table,
            missing,
            per_op.is_empty(),
        ));
    }
    let mut per_slot_ms = vec![0.0; space.num_slots()];
    let (mut backbone_ms, mut temporal_ms) = (0.0, 0.0);
    for (op, ms) in &per_op {
        match op.slot {
            Some(slot) => {
                per_slot_ms[slot] += ms;
                temporal_ms += ms;
            }
            None => backbone_ms += ms,
        }
    }
    let sum_ms = backbone_ms + temporal_ms;
    let kind_ms = kind_sums(per_op.iter().map(|(op, ms)| (op, *ms)));
    let correction = table.correction.as_ref().filter(|_| req.apply_correction);
    let total_ms = correction.map_or(sum_ms, |c| c.apply(&kind_ms));
    let interval_ms = table
        .interval
        .as_ref()
        .filter(|_| correction.is_some() || table.correction.is_none())
        .map(|i| i.around(total_ms));
    let (lo, hi) = interval_ms.unwrap_or_default();
    check_finite(
        table,
        &format!("architecture `{}`", arch.encode()),
        &[total_ms, sum_ms, lo, hi],
    )?;
    let ops: Vec<LoweredOp> = per_op.iter().map(|(op, _)| op.clone()).collect();
    let mem = memory::estimate(&ops, req.dtype.bytes());
    check_fits(
        space,
        &format!("architecture `{}`", arch.encode()),
        &[mem.peak_mem_bytes, mem.params],
    )?;
    Ok(Prediction {
        total_ms,
        sum_ms,
        per_op,
        per_slot_ms,
        backbone_ms,
        temporal_ms,
        kind_ms,
        peak_mem_bytes: mem.peak_mem_bytes,
        weight_bytes: mem.weight_bytes,
        peak_activation_bytes: mem.peak_activation_bytes,
        peak_op: mem.peak_op,
        params: mem.params,
        corrected: correction.is_some(),
        interval_ms,
    })
}

/// Refuses a predicted time that is not a finite number of milliseconds. `load` keeps every
/// value of a table in range, so this guards tables built or changed in memory: the error names
/// the entry or correction field at fault when there is one.
pub(crate) fn check_finite(
    table: &LatencyTable,
    what: &str,
    ms: &[f64],
) -> Result<(), LatencyError> {
    if ms.iter().all(|v| v.is_finite()) {
        return Ok(());
    }
    table.check_values()?;
    Err(LatencyError::Data {
        what: table.label(),
        message: format!(
            "the predicted time of {what} is not a finite number of milliseconds ({ms:?}); fix: \
             check the table's entries and correction, or measure it again with `vidnas latency \
             profile`"
        ),
    })
}

/// Refuses a memory or parameter count that reached `u64::MAX`: the counts saturate there
/// instead of wrapping, which only a space with absurd sizes reaches.
pub(crate) fn check_fits(space: &Space, what: &str, counts: &[u64]) -> Result<(), LatencyError> {
    if !counts.contains(&u64::MAX) {
        return Ok(());
    }
    Err(LatencyError::Data {
        what: space.path.display().to_string(),
        message: format!(
            "the peak memory or parameter count of {what} does not fit 64 bits; fix: check the \
             space's video and backbone sizes (channels, frames, height, width)"
        ),
    })
}

/// Checks that `table` holds every signature any architecture of `space` can need, under the
/// table's own conditions (its text tokens); run before a search.
pub fn check_covers(space: &Space, table: &LatencyTable) -> Result<(), LatencyError> {
    let opts = LowerOptions::new(table.device.text_tokens, table.device.batch);
    let needed = all_signatures(space, &opts);
    let missing = table.pending(&needed);
    if missing.is_empty() {
        return Ok(());
    }
    let none_present = missing.len() == needed.len();
    Err(LatencyError::missing(space, table, missing, none_present))
}
