//! Timing a closure: warm-up, many repeats, robust statistics. The host is shared and noisy,
//! so the figure a predictor sums is a low statistic (the minimum by default), not the mean.

use serde::{Deserialize, Serialize};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimingConfig {
    pub warmup: usize,
    pub repeats: usize,
}

impl Default for TimingConfig {
    fn default() -> Self {
        Self {
            warmup: 3,
            repeats: 15,
        }
    }
}

/// Statistics of repeated timings, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    pub min_ms: f64,
    pub p10_ms: f64,
    pub median_ms: f64,
    pub mean_ms: f64,
    pub std_ms: f64,
    pub count: usize,
}

impl Timing {
    pub fn from_samples(mut ms: Vec<f64>) -> Self {
        assert!(!ms.is_empty(), "at least one repeat");
        ms.sort_by(|a, b| a.total_cmp(b));
        let n = ms.len();
        let mean = ms.iter().sum::<f64>() / n as f64;
        let var = ms.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        Self {
            min_ms: ms[0],
            p10_ms: ms[(n - 1) / 10],
            median_ms: vidnas_io::median(&ms),
            mean_ms: mean,
            std_ms: var.sqrt(),
            count: n,
        }
    }
}

/// Runs `f` `warmup` times untimed, then `repeats` times timed.
pub fn time<F: FnMut()>(cfg: &TimingConfig, mut f: F) -> Timing {
    for _ in 0..cfg.warmup {
        f();
    }
    let samples = (0..cfg.repeats.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    Timing::from_samples(samples)
}
