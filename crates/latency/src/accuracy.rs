//! Predictor accuracy on (predicted, measured) pairs, as nn-Meter reports it: RMSE, RMSPE and
//! the share of networks within ±5/±10/±15 % of measured, plus Kendall's τ-b (does the
//! predictor rank networks as the device does?) and the mean bias.
//!
//! The single statistics are pure functions returning NaN on empty input; [`accuracy`] checks
//! its input and computes them all.

use crate::error::LatencyError;
use serde::{Deserialize, Serialize};

/// Every statistic over one set of pairs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AccuracyStats {
    pub n: usize,
    /// Root-mean-square error, ms.
    pub rmse_ms: f64,
    /// Root-mean-square percentage error, %.
    pub rmspe_pct: f64,
    /// % of pairs whose prediction is within ±5 % of measured.
    pub within_5_pct: f64,
    pub within_10_pct: f64,
    pub within_15_pct: f64,
    /// Kendall's τ-b between predicted and measured (NaN when either side is constant).
    pub kendall_tau_b: f64,
    /// Mean of predicted − measured, ms (positive: the predictor overestimates).
    pub mean_bias_ms: f64,
    /// Mean of (predicted − measured) / measured, %.
    pub mean_bias_pct: f64,
}

/// Checks the pairs (non-empty, finite, measured > 0) and computes every statistic.
pub fn accuracy(pairs: &[(f64, f64)]) -> Result<AccuracyStats, LatencyError> {
    let err = |message: String| LatencyError::Data {
        what: "accuracy statistics".into(),
        message,
    };
    if pairs.is_empty() {
        return Err(err(
            "no (predicted, measured) pairs; measure some networks first".into(),
        ));
    }
    if let Some(i) = pairs
        .iter()
        .position(|&(p, m)| !p.is_finite() || !m.is_finite() || m <= 0.0)
    {
        return Err(err(format!(
            "pair {i} = {:?}: predicted and measured must be finite and measured positive; \
             drop failed measurements",
            pairs[i]
        )));
    }
    Ok(AccuracyStats {
        n: pairs.len(),
        rmse_ms: rmse(pairs),
        rmspe_pct: rmspe(pairs),
        within_5_pct: within_pct(pairs, 5.0),
        within_10_pct: within_pct(pairs, 10.0),
        within_15_pct: within_pct(pairs, 15.0),
        kendall_tau_b: kendall_tau_b(pairs),
        mean_bias_ms: mean_bias(pairs),
        mean_bias_pct: mean_bias_pct(pairs),
    })
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    if n == 0 {
        f64::NAN
    } else {
        sum / n as f64
    }
}

/// √mean((p − m)²), in the unit of the inputs.
pub fn rmse(pairs: &[(f64, f64)]) -> f64 {
    mean(pairs.iter().map(|(p, m)| (p - m).powi(2))).sqrt()
}

/// 100 · √mean(((p − m) / m)²), %.
pub fn rmspe(pairs: &[(f64, f64)]) -> f64 {
    100.0 * mean(pairs.iter().map(|(p, m)| ((p - m) / m).powi(2))).sqrt()
}

/// % of pairs with |p − m| ≤ pct % of m (inclusive, with a relative slack of 1e-9 for
/// rounding).
pub fn within_pct(pairs: &[(f64, f64)], pct: f64) -> f64 {
    let bound = pct / 100.0 * (1.0 + 1e-9);
    100.0
        * mean(pairs.iter().map(|(p, m)| {
            if ((p - m) / m).abs() <= bound {
                1.0
            } else {
                0.0
            }
        }))
}

/// Mean of p − m.
pub fn mean_bias(pairs: &[(f64, f64)]) -> f64 {
    mean(pairs.iter().map(|(p, m)| p - m))
}

/// 100 · mean((p − m) / m), %.
pub fn mean_bias_pct(pairs: &[(f64, f64)]) -> f64 {
    100.0 * mean(pairs.iter().map(|(p, m)| (p - m) / m))
}

/// Kendall's τ-b (shared with the search's surrogate; it lives with the other statistics in
/// `vidnas-io`).
pub use vidnas_io::kendall_tau_b;
