//! A fast predictor for searches: the backbone's cost and every (slot, op) cost precomputed
//! once, so predicting an architecture is a few additions and maxima per slot.
//!
//! Exact, not an approximation: latency is additive, and under the memory model of
//! `memory.rs` the live activations of every backbone op do not depend on which temporal ops
//! the slots hold (a temporal op only moves the skip push from the op before it to itself,
//! which keeps every op's held, input and output counts), so the peak is the larger of the
//! backbone's peak and the largest live count of the chosen temporal ops.

use crate::correction::Correction;
use crate::error::LatencyError;
use crate::lower::{lower_ops, LowerOptions};
use crate::memory::live_elems;
use crate::predict::{check_covers, check_finite, check_fits, PredictRequest};
use crate::signature::OpClass;
use crate::table::LatencyTable;
use vidnas_space::{Architecture, OpKind, Space};

/// The cost of one temporal op at one slot.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SlotOpCost {
    /// Table `ms`.
    pub ms: f64,
    /// `ms` through the correction (equal to `ms` without one).
    pub corrected_ms: f64,
    pub params: u64,
    /// Live activation elements while the op runs.
    pub live_elems: u64,
}

/// The result of [`SlotCostModel::predict`]: the same numbers as [`crate::Prediction`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FastPrediction {
    pub total_ms: f64,
    pub sum_ms: f64,
    pub backbone_ms: f64,
    pub temporal_ms: f64,
    pub peak_mem_bytes: u64,
    pub weight_bytes: u64,
    pub peak_activation_bytes: u64,
    pub params: u64,
}

/// Precomputed backbone and per-(slot, op) costs of one space under one table.
#[derive(Debug, Clone)]
pub struct SlotCostModel {
    backbone_ms: f64,
    /// Overhead plus the corrected backbone ops.
    backbone_corrected_ms: f64,
    backbone_params: u64,
    backbone_peak_elems: u64,
    /// `slots[i][op.index()]`: `op` at slot `i`; `None` where not allowed or `none`.
    slots: Vec<[Option<SlotOpCost>; OpKind::COUNT]>,
    /// The same with zero costs where `slots` has `None`, for [`SlotCostModel::predict`]'s hot
    /// loop: adding a zero cost needs no branch (a zero never raises the peak either).
    dense: Vec<[SlotOpCost; OpKind::COUNT]>,
    dtype_bytes: u64,
}

impl SlotCostModel {
    /// Precomputes the costs; the table must match the request and cover the whole space.
    pub fn new(
        space: &Space,
        table: &LatencyTable,
        req: &PredictRequest,
    ) -> Result<Self, LatencyError> {
        table.check_conditions(req.dtype, req.batch, req.text_tokens)?;
        check_covers(space, table)?;
        let opts: LowerOptions = req.lower_options();
        let identity = Correction::identity();
        let correction = table
            .correction
            .as_ref()
            .filter(|_| req.apply_correction)
            .unwrap_or(&identity);
        let ms = |sig: &str| table.ms(sig).expect("coverage was checked");

        let none = vec![OpKind::None; space.num_slots()];
        let backbone = lower_ops(space, &none, &opts);
        let backbone_ms = backbone.iter().map(|op| ms(&op.signature)).sum();
        let backbone_corrected_ms = correction.overhead_ms
            + backbone
                .iter()
                .map(|op| correction.scale(op.op_kind) * ms(&op.signature))
                .sum::<f64>();
        let backbone_params = backbone
            .iter()
            .fold(0u64, |a, op| a.saturating_add(op.params));
        let backbone_peak_elems = live_elems(&backbone).into_iter().max().unwrap_or(0);

        // Lower one architecture per op kind that puts that op at every slot allowing it, and
        // read each temporal op's live count from the walk.
        let mut slots = vec![[None; OpKind::COUNT]; space.num_slots()];
        for kind in OpKind::ALL.into_iter().filter(|k| k.is_temporal()) {
            let ops: Vec<OpKind> = space
                .slots
                .iter()
                .map(|s| if s.allows(kind) { kind } else { OpKind::None })
                .collect();
            let lowered = lower_ops(space, &ops, &opts);
            let live = live_elems(&lowered);
            for (op, live) in lowered.iter().zip(live) {
                if let Some(slot) = op.slot {
                    let m = ms(&op.signature);
                    slots[slot][kind.index()] = Some(SlotOpCost {
                        ms: m,
                        corrected_ms: correction.scale(OpClass::Temporal(kind)) * m,
                        params: op.params,
                        live_elems: live,
                    });
                }
            }
        }
        // The costliest choice at every slot bounds every architecture's sums, so when these are
        // finite (and fit 64 bits) `predict` never prints inf nor wraps.
        let worst = |f: fn(&SlotOpCost) -> f64| -> f64 {
            slots
                .iter()
                .map(|s| s.iter().flatten().map(|c| f(c).abs()).fold(0.0, f64::max))
                .sum()
        };
        // `f64::max` skips NaN, so every cost is also summed once.
        let every_ms = slots
            .iter()
            .flatten()
            .flatten()
            .map(|c| c.ms + c.corrected_ms);
        let worst_ms = [
            backbone_ms + worst(|c| c.ms),
            backbone_corrected_ms + worst(|c| c.corrected_ms),
            every_ms.sum(),
        ];
        check_finite(
            table,
            &format!("the costliest architecture of `{}`", space.name()),
            &worst_ms,
        )?;
        let bytes = req.dtype.bytes();
        let worst_params = slots.iter().fold(backbone_params, |a, s| {
            a.saturating_add(s.iter().flatten().map(|c| c.params).max().unwrap_or(0))
        });
        let worst_peak = slots
            .iter()
            .flatten()
            .flatten()
            .map(|c| c.live_elems)
            .fold(backbone_peak_elems, u64::max);
        let worst_mem = worst_params
            .saturating_mul(bytes)
            .saturating_add(worst_peak.saturating_mul(bytes));
        check_fits(
            space,
            &format!("the costliest architecture of `{}`", space.name()),
            &[worst_params, worst_mem],
        )?;
        Ok(Self {
            backbone_ms,
            backbone_corrected_ms,
            backbone_params,
            backbone_peak_elems,
            dense: slots
                .iter()
                .map(|costs| costs.map(Option::unwrap_or_default))
                .collect(),
            slots,
            dtype_bytes: req.dtype.bytes(),
        })
    }

    /// The cost of `op` at `slot`; `None` for `none` or an op the slot does not allow.
    pub fn slot_cost(&self, slot: usize, op: OpKind) -> Option<SlotOpCost> {
        self.slots.get(slot)?[op.index()]
    }

    /// Latency (corrected when the model was built with a correction) of `arch`, which must
    /// be an architecture of the space the model was built for.
    pub fn latency_ms(&self, arch: &Architecture) -> f64 {
        self.backbone_corrected_ms + self.chosen(arch).map(|c| c.corrected_ms).sum::<f64>()
    }

    /// Weights plus peak activations of `arch`, in bytes.
    pub fn peak_mem_bytes(&self, arch: &Architecture) -> u64 {
        let p = self.predict(arch);
        p.peak_mem_bytes
    }

    /// Every number of [`crate::predict`] but the per-op lists.
    pub fn predict(&self, arch: &Architecture) -> FastPrediction {
        let (mut temporal_ms, mut corrected) = (0.0, self.backbone_corrected_ms);
        let (mut params, mut peak) = (self.backbone_params, self.backbone_peak_elems);
        for c in self.chosen(arch) {
            temporal_ms += c.ms;
            corrected += c.corrected_ms;
            params += c.params;
            peak = peak.max(c.live_elems);
        }
        let weight_bytes = params * self.dtype_bytes;
        let peak_activation_bytes = peak * self.dtype_bytes;
        FastPrediction {
            total_ms: corrected,
            sum_ms: self.backbone_ms + temporal_ms,
            backbone_ms: self.backbone_ms,
            temporal_ms,
            peak_mem_bytes: weight_bytes + peak_activation_bytes,
            weight_bytes,
            peak_activation_bytes,
            params,
        }
    }

    /// The costs of the temporal ops `arch` chooses (ops a slot does not allow cost nothing).
    fn chosen<'a>(&'a self, arch: &'a Architecture) -> impl Iterator<Item = SlotOpCost> + 'a {
        // Branch-free over dense rows: with a seventh op, the search over `OpKind::ALL` that
        // beat `Option` rows indexed by `op.index()` (2026-12-07) fell to 0.89x the six-op
        // predictor on tiny (reports/predict/README.md).
        self.dense
            .iter()
            .zip(&arch.ops)
            .map(|(costs, &op)| costs[op.index()])
    }
}
