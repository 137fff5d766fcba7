//! How scores reach the search: the [`Evaluator`] trait. The CLI implements it by combining the
//! latency predictor (latency, memory, parameters) with the supernet scorer (validation loss);
//! tests and benchmarks use [`crate::SyntheticEvaluator`].

use crate::error::SearchError;
use crate::joint::Joint;
use serde::{Deserialize, Serialize};
use vidnas_space::Architecture;

/// What the search knows about one architecture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Supernet validation loss, lower is better; `None` in predictor-only mode.
    pub score: Option<f64>,
    /// Predicted (or measured) latency of one denoiser forward, milliseconds.
    pub latency_ms: f64,
    /// `[lo, hi]` around `latency_ms` from the table's validation (`latency validate
    /// --write-correction`): the 5–95% spread of measured / predicted over held-out networks.
    /// `None`: the table was never validated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_interval_ms: Option<(f64, f64)>,
    /// A joint search over several devices (`search --table A --table B`): the latency on each
    /// device after the first, in the run's device order (`latency_ms` is the first's). Empty for
    /// a single-device search.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_latency_ms: Vec<f64>,
    /// Predicted peak memory, MB, in the first table's dtype.
    pub peak_mem_mb: f64,
    /// A joint search whose tables were measured in different dtypes: the peak memory in each
    /// dtype after the first, in the run's order ([`crate::Joint::memory_dtypes`]). Empty when
    /// every table has one dtype.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_peak_mem_mb: Vec<f64>,
    /// Parameters of the whole network (spatial backbone + temporal layers).
    pub params: u64,
    /// Parameters of the temporal layers alone.
    pub temporal_params: u64,
}

/// Scores architectures in batches: one call per generation, so a scorer can batch its work.
pub trait Evaluator {
    /// One [`Evaluation`] per architecture, in the same order.
    fn evaluate(
        &mut self,
        archs: &[Architecture],
    ) -> Result<Vec<Evaluation>, Box<dyn std::error::Error + Send + Sync>>;

    /// Whether [`Evaluation::score`] is filled in (supernet mode) or not (predictor-only mode).
    fn has_score(&self) -> bool;

    /// Latency, memory and parameters of `archs` without a score: the cheap predictor alone,
    /// for the surrogate's inner search. Evaluators without a separate predictor refuse.
    fn predict(
        &mut self,
        archs: &[Architecture],
    ) -> Result<Vec<Evaluation>, Box<dyn std::error::Error + Send + Sync>> {
        let _ = archs;
        Err(
            "this evaluator cannot predict latency without scoring; it cannot run --surrogate"
                .into(),
        )
    }
}

impl<E: Evaluator + ?Sized> Evaluator for &mut E {
    fn evaluate(
        &mut self,
        archs: &[Architecture],
    ) -> Result<Vec<Evaluation>, Box<dyn std::error::Error + Send + Sync>> {
        (**self).evaluate(archs)
    }

    fn has_score(&self) -> bool {
        (**self).has_score()
    }

    fn predict(
        &mut self,
        archs: &[Architecture],
    ) -> Result<Vec<Evaluation>, Box<dyn std::error::Error + Send + Sync>> {
        (**self).predict(archs)
    }
}

/// One evaluator call for `archs` (generation `generation` of a run), its answer checked: one
/// evaluation per architecture, each one the search can rank in its mode
/// ([`Evaluation::check`]).
pub(crate) fn evaluate_checked(
    evaluator: &mut dyn Evaluator,
    generation: usize,
    archs: &[Architecture],
    has_score: bool,
    joint: &Joint,
) -> Result<Vec<Evaluation>, SearchError> {
    let evals = evaluator
        .evaluate(archs)
        .map_err(|error| SearchError::Evaluator {
            generation,
            count: archs.len(),
            error,
        })?;
    if evals.len() != archs.len() {
        return Err(SearchError::EvaluationCount {
            expected: archs.len(),
            got: evals.len(),
        });
    }
    for (arch, eval) in archs.iter().zip(&evals) {
        eval.check(arch, has_score, joint)?;
    }
    Ok(evals)
}

impl Evaluation {
    /// Rejects values the search cannot rank: NaN or infinite numbers, negative latency or
    /// memory, a score that is present (or absent) against the evaluator's mode, and another
    /// number of device latencies (dtype memories) than the run has devices (dtypes).
    pub(crate) fn check(
        &self,
        arch: &Architecture,
        has_score: bool,
        joint: &Joint,
    ) -> Result<(), SearchError> {
        let bad = |message: String| SearchError::InvalidEvaluation {
            arch: arch.encode(),
            message,
        };
        match (self.score, has_score) {
            (Some(s), true) if !s.is_finite() => {
                return Err(bad(format!("a non-finite score ({s})")))
            }
            (None, true) => {
                return Err(bad(
                    "no score although the evaluator says it has scores".into()
                ))
            }
            (Some(_), false) => {
                return Err(bad(
                    "a score although the evaluator says it is predictor-only".into(),
                ))
            }
            _ => {}
        }
        if self.other_latency_ms.len() != joint.other_devices() {
            return Err(bad(format!(
                "{} latencies on other devices; the run has {}",
                self.other_latency_ms.len(),
                joint.other_devices()
            )));
        }
        if self.other_peak_mem_mb.len() != joint.other_memories() {
            return Err(bad(format!(
                "{} peak memories in other dtypes; the run has {}",
                self.other_peak_mem_mb.len(),
                joint.other_memories()
            )));
        }
        let others = (self.other_latency_ms.iter())
            .map(|&v| ("other device latency_ms", v))
            .chain((self.other_peak_mem_mb.iter()).map(|&v| ("peak_mem_mb in another dtype", v)));
        for (name, value) in [
            ("latency_ms", self.latency_ms),
            ("peak_mem_mb", self.peak_mem_mb),
        ]
        .into_iter()
        .chain(others)
        {
            if !value.is_finite() || value < 0.0 {
                return Err(bad(format!("{name} = {value}; it must be finite and >= 0")));
            }
        }
        if let Some((lo, hi)) = self.latency_interval_ms {
            if !(lo.is_finite() && hi.is_finite() && 0.0 <= lo && lo <= hi) {
                return Err(bad(format!(
                    "latency interval [{lo}, {hi}]; it must be finite with 0 <= lo <= hi"
                )));
            }
        }
        if self.temporal_params > self.params {
            return Err(bad(format!(
                "temporal_params = {} above params = {}; params counts the whole network",
                self.temporal_params, self.params
            )));
        }
        Ok(())
    }
}
