//! A fast, deterministic stand-in [`Evaluator`] for tests, benchmarks and demos, built from the
//! space's slot shapes so its trade-offs look like the real ones: latency = a fixed backbone cost
//! plus per-(slot, op) costs from multiply–accumulate counts (full attention grows with the
//! square of the tokens, conv3d with its 27-tap kernel); peak memory = backbone activations and
//! weights plus the largest temporary of any temporal op; temporal parameters = their sum; and,
//! optionally, a score (a validation-loss-like number, lower better) with diminishing returns
//! in the temporal layers' benefit, so quality and cost genuinely conflict.
//!
//! Costs follow from each op's descriptor ([`OpKind::spec`]): a convolution is charged as one
//! `C → C` convolution with the mean taps of its layers, an attention as four projections
//! plus its scores over the sequences its structure forms. Only the benefit of each op is a
//! made-up per-op constant.
#![deny(clippy::wildcard_enum_match_arm)]

use crate::evaluator::{Evaluation, Evaluator};
use vidnas_space::{Architecture, ConvLayer, Keys, Mixing, OpKind, Slot, Space, Structure};

/// Milliseconds per million multiply–accumulates (a few GFLOP/s device).
const MS_PER_MMAC: f64 = 0.01;
/// Spatial backbone latency, ms.
const BACKBONE_MS: f64 = 5.0;

/// Synthetic cost model over a space; counts what it was asked.
#[derive(Debug, Clone)]
pub struct SyntheticEvaluator {
    slots: Vec<Slot>,
    /// `kernel_size` of each op, by [`OpKind::index`] (3 where the space declares none).
    kernels: [usize; OpKind::COUNT],
    /// Each op's key stride (1 unless its keys are strided).
    strides: [usize; OpKind::COUNT],
    /// The one head count of every attention op: attn1d's, else 4.
    heads: usize,
    with_score: bool,
    /// `(lo, hi)` ratios every latency's interval is `latency ×` (a validated table's spread);
    /// `None`: no interval, as from a table never validated.
    pub latency_interval: Option<(f64, f64)>,
    /// Number of `evaluate` calls.
    pub calls: usize,
    /// Encodings of every architecture evaluated, in order.
    pub evaluated: Vec<String>,
}

impl SyntheticEvaluator {
    /// `with_score`: fill in [`Evaluation::score`] (supernet mode) or not (predictor-only).
    pub fn new(space: &Space, with_score: bool) -> Self {
        let ops = &space.file.temporal.ops;
        SyntheticEvaluator {
            slots: space.slots.clone(),
            kernels: OpKind::ALL.map(|op| ops.get(op).and_then(|p| p.kernel_size()).unwrap_or(3)),
            strides: OpKind::ALL.map(|op| ops.get(op).and_then(|p| p.stride()).unwrap_or(1)),
            heads: ops
                .get(OpKind::Attn1d)
                .and_then(|p| p.num_heads())
                .unwrap_or(4),
            with_score,
            latency_interval: None,
            calls: 0,
            evaluated: Vec::new(),
        }
    }

    /// Taps of the one convolution a [`Structure::Conv`] op is charged as: the mean of its
    /// layers' (so a block of equal layers costs one of them).
    fn taps(&self, op: OpKind, layers: &[ConvLayer]) -> u64 {
        let k = self.kernels[op.index()] as u64;
        let sum = layers
            .iter()
            .fold(0u64, |a, l| a.saturating_add(l.taps(k).unwrap_or(u64::MAX)));
        sum / layers.len().max(1) as u64
    }

    /// Per clip: the sequences an attention forms, their length and the keys each query
    /// attends to.
    fn sequences(&self, s: &Slot, op: OpKind, mixes: Mixing, keys: Keys) -> (f64, f64, f64) {
        let (sequences, length) = mixes.sequences(s.frames as u64, (s.height * s.width) as u64);
        let attended = keys.attended(length, self.strides[op.index()] as u64);
        (sequences as f64, length as f64, attended as f64)
    }

    fn macs(&self, s: &Slot, op: OpKind) -> f64 {
        let (c, t, hw) = (
            s.channels as f64,
            s.frames as f64,
            (s.height * s.width) as f64,
        );
        let tokens = t * hw;
        match op.spec().structure {
            Structure::Identity => 0.0,
            Structure::Conv { layers } => tokens * c * c * self.taps(op, layers) as f64,
            Structure::Attention { mixes, keys } => {
                let (sequences, length, attended) = self.sequences(s, op, mixes, keys);
                tokens * 4.0 * c * c + 2.0 * sequences * length * attended * c
            }
        }
    }

    fn op_params(&self, s: &Slot, op: OpKind) -> u64 {
        let c = s.channels as u64;
        match op.spec().structure {
            Structure::Identity => 0,
            Structure::Conv { layers } => c * c * self.taps(op, layers) + c,
            Structure::Attention { .. } => 4 * c * c + 4 * c,
        }
    }

    /// Temporary bytes of one op (attention matrices, im2col buffers).
    fn op_temp_bytes(&self, s: &Slot, op: OpKind) -> f64 {
        let (c, t, hw) = (
            s.channels as f64,
            s.frames as f64,
            (s.height * s.width) as f64,
        );
        let heads = self.heads as f64;
        4.0 * match op.spec().structure {
            Structure::Identity => 0.0,
            Structure::Conv { layers } => t * hw * c * self.taps(op, layers) as f64,
            Structure::Attention { mixes, keys } => {
                let (sequences, length, attended) = self.sequences(s, op, mixes, keys);
                heads * sequences * length * attended
            }
        }
    }

    /// Predicted milliseconds of each slot's temporal op (for latency-breakdown plots).
    pub fn slot_breakdown(&self, arch: &Architecture) -> Vec<(String, OpKind, f64)> {
        self.slots
            .iter()
            .zip(&arch.ops)
            .map(|(s, &op)| (s.name.clone(), op, self.macs(s, op) / 1e6 * MS_PER_MMAC))
            .collect()
    }

    /// The evaluation of one architecture (pure: the same answer every time).
    pub fn evaluate_one(&self, arch: &Architecture) -> Evaluation {
        let backbone_params: u64 = self
            .slots
            .iter()
            .map(|s| 18 * (s.channels as u64).pow(2))
            .sum();
        let backbone_bytes: f64 = self
            .slots
            .iter()
            .map(|s| 4.0 * (s.channels * s.frames * s.height * s.width) as f64)
            .sum();
        let mut latency = BACKBONE_MS;
        let mut temporal_params = 0;
        let mut temp_bytes: f64 = 0.0;
        let mut benefit = 0.0;
        for (s, &op) in self.slots.iter().zip(&arch.ops) {
            latency += self.macs(s, op) / 1e6 * MS_PER_MMAC;
            temporal_params += self.op_params(s, op);
            temp_bytes = temp_bytes.max(self.op_temp_bytes(s, op));
            let low_res = 1.0 + 8.0 / s.height.max(1) as f64;
            // Made-up per-op constants, matched by name on purpose: a new op picks its own.
            benefit += low_res
                * match op {
                    OpKind::None => 0.0,
                    OpKind::Conv1d => 0.0015,
                    OpKind::Conv3d => 0.0025,
                    OpKind::Attn1d => 0.0030,
                    OpKind::Attn3d => 0.0045,
                    OpKind::Conv2plus1d => 0.0020,
                    OpKind::Attn3dStride => 0.0040,
                };
        }
        let params = backbone_params + temporal_params;
        let peak = (backbone_bytes + 4.0 * params as f64 + temp_bytes) / 1e6;
        let score = self.with_score.then(|| {
            // Diminishing returns, plus a small deterministic per-architecture wobble (±5e-5)
            // standing in for supernet noise.
            let id = arch.id();
            let wobble = u64::from_str_radix(&id[..4], 16).unwrap_or(0) as f64 / 65535.0 - 0.5;
            0.0161 - 0.004 * (1.0 - (-benefit / 0.012).exp()) + 1e-4 * wobble
        });
        Evaluation {
            score,
            latency_ms: latency,
            latency_interval_ms: self
                .latency_interval
                .map(|(lo, hi)| (latency * lo, latency * hi)),
            other_latency_ms: Vec::new(),
            other_peak_mem_mb: Vec::new(),
            peak_mem_mb: peak,
            params,
            temporal_params,
        }
    }
}

impl Evaluator for SyntheticEvaluator {
    fn evaluate(
        &mut self,
        archs: &[Architecture],
    ) -> Result<Vec<Evaluation>, Box<dyn std::error::Error + Send + Sync>> {
        self.calls += 1;
        self.evaluated
            .extend(archs.iter().map(Architecture::encode));
        Ok(archs.iter().map(|a| self.evaluate_one(a)).collect())
    }

    fn has_score(&self) -> bool {
        self.with_score
    }

    /// The same costs without the score (not counted as evaluations).
    fn predict(
        &mut self,
        archs: &[Architecture],
    ) -> Result<Vec<Evaluation>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(archs
            .iter()
            .map(|a| Evaluation {
                score: None,
                ..self.evaluate_one(a)
            })
            .collect())
    }
}
