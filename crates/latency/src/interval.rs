//! Prediction intervals from a table's validation: `latency validate --write-correction`
//! stores the spread of measured / predicted over the networks held out from the correction
//! fit, and every prediction from the table then carries `[lo, hi]` = predicted × those
//! empirical quantiles. A table never validated gives no interval (and says so).

use crate::correction::MAX_SCALE;
use crate::error::show_num;
use crate::rank_stats::quantile;
use serde::{Deserialize, Serialize};

/// Central coverage of the stored interval.
pub const INTERVAL_COVERAGE: f64 = 0.9;

/// Stored in a table as `interval`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictionInterval {
    /// Held-out networks the ratios come from.
    pub networks: usize,
    /// Central fraction of held-out networks inside the interval (0.9).
    pub coverage: f64,
    /// Quantiles (1 − coverage)/2 and (1 + coverage)/2 of measured / predicted.
    pub ratio_lo: f64,
    pub ratio_hi: f64,
    /// What validated the table, e.g. "latency validate, 25 held-out of 50 networks".
    pub source: String,
}

impl PredictionInterval {
    /// From `(predicted, measured)` pairs of held-out networks; `None` below 2 networks or with a
    /// non-positive value (no ratio to take).
    pub fn from_holdout(pairs: &[(f64, f64)], source: String) -> Option<Self> {
        if pairs.len() < 2 || pairs.iter().any(|&(p, m)| !(p > 0.0 && m > 0.0)) {
            return None;
        }
        let ratios: Vec<f64> = pairs.iter().map(|&(p, m)| m / p).collect();
        let tail = (1.0 - INTERVAL_COVERAGE) / 2.0;
        Some(Self {
            networks: pairs.len(),
            coverage: INTERVAL_COVERAGE,
            ratio_lo: quantile(&ratios, tail),
            ratio_hi: quantile(&ratios, 1.0 - tail),
            source,
        })
    }

    /// The bounds every stored interval meets: `0 < coverage < 1` and
    /// `0 < ratio_lo <= ratio_hi <= MAX_SCALE` (a ratio past that would overflow the bounds).
    /// `Err((field, message))` names the first value out of range.
    pub fn check(&self) -> Result<(), (String, String)> {
        if !(self.coverage > 0.0 && self.coverage < 1.0) {
            return Err((
                "coverage".into(),
                format!(
                    "{} is out of range; the valid range is 0 < coverage < 1 (a fraction)",
                    show_num(self.coverage)
                ),
            ));
        }
        let (lo, hi) = (self.ratio_lo, self.ratio_hi);
        let (show_lo, show_hi) = (show_num(lo), show_num(hi));
        let bad = [("ratio_lo", lo), ("ratio_hi", hi)]
            .into_iter()
            .find(|&(_, v)| !(v.is_finite() && v > 0.0 && v <= MAX_SCALE))
            .or((lo > hi).then_some(("ratio_lo", lo)));
        if let Some((field, value)) = bad {
            return Err((
                field.into(),
                format!(
                    "{} is out of range; the valid range is 0 < ratio_lo <= ratio_hi <= \
                     {MAX_SCALE} (measured / predicted; here ratio_lo = {show_lo}, ratio_hi = \
                     {show_hi})",
                    show_num(value)
                ),
            ));
        }
        Ok(())
    }

    /// `[lo, hi]` around a prediction.
    pub fn around(&self, predicted_ms: f64) -> (f64, f64) {
        (predicted_ms * self.ratio_lo, predicted_ms * self.ratio_hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_of_measured_over_predicted_scale_the_prediction() {
        // Ratios 0.9, 1.0, 1.1, 1.2, 1.3 (predicted 10 ms each).
        let pairs: Vec<(f64, f64)> = [9.0, 10.0, 11.0, 12.0, 13.0]
            .iter()
            .map(|&m| (10.0, m))
            .collect();
        let i = PredictionInterval::from_holdout(&pairs, "test".into()).unwrap();
        assert_eq!(i.networks, 5);
        // numpy.quantile([0.9, 1.0, 1.1, 1.2, 1.3], [0.05, 0.95]) = [0.92, 1.28].
        assert!(
            (i.ratio_lo - 0.92).abs() < 1e-12 && (i.ratio_hi - 1.28).abs() < 1e-12,
            "{i:?}"
        );
        let (lo, hi) = i.around(50.0);
        assert!((lo - 46.0).abs() < 1e-9 && (hi - 64.0).abs() < 1e-9);
        assert!(PredictionInterval::from_holdout(&pairs[..1], "one".into()).is_none());
        assert!(
            PredictionInterval::from_holdout(&[(1.0, 0.0), (1.0, 1.0)], "zero".into()).is_none()
        );
    }
}
