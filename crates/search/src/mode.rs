//! Which objectives a search minimises: [`Mode`], with the supernet's score or, predictor-only,
//! without it.

use serde::{Deserialize, Serialize};

/// Which objectives the search minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// `[score, latency_ms, peak_mem_mb]`: the supernet scores every architecture.
    Score,
    /// `[latency_ms, peak_mem_mb, -temporal_params]`: no scorer, so temporal capacity stands in
    /// for quality and the front is not a single point (the architecture with the fewest
    /// temporal layers would otherwise win everything).
    PredictorOnly,
}

impl Mode {
    pub fn for_scorer(has_score: bool) -> Self {
        if has_score {
            Mode::Score
        } else {
            Mode::PredictorOnly
        }
    }

    /// Names of the minimised objectives, in vector order (recorded in run.json and summary.json).
    pub fn objective_names(self) -> [&'static str; 3] {
        match self {
            Mode::Score => ["score", "latency_ms", "peak_mem_mb"],
            Mode::PredictorOnly => ["latency_ms", "peak_mem_mb", "neg_temporal_params"],
        }
    }
}
