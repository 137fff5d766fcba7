//! Search progress: the hypervolume of the feasible front after each generation
//! (`progress.csv`, summary.json), the reference point it is measured against, and the callback
//! (or `indicatif` bar) that shows it live.

use crate::error::SearchError;
use crate::files::csv_text;
use crate::hypervolume::hypervolume;
use crate::pareto::non_dominated;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The state of the search after one generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressPoint {
    pub generation: usize,
    /// Architectures evaluated so far (cumulative).
    pub evaluations: usize,
    /// Hypervolume of the feasible non-dominated set so far.
    pub hypervolume: f64,
    pub front_size: usize,
}

/// What a progress callback receives after each generation.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressEvent {
    pub point: ProgressPoint,
    /// Evaluations the whole run will make, when known in advance (an upper bound for
    /// evolutionary searches, which skip duplicates).
    pub expected_evaluations: Option<u64>,
    /// Of [`ProgressPoint::evaluations`], how many were scored by this process (the rest came
    /// from results.csv on resume).
    pub scored_now: usize,
}

/// A callback for [`crate::RunOptions::progress`] that drives an `indicatif` bar: position =
/// evaluations, message = generation, hypervolume and front size.
pub fn progress_bar_callback(bar: &ProgressBar) -> impl FnMut(&ProgressEvent) + '_ {
    move |e: &ProgressEvent| {
        if let Some(n) = e.expected_evaluations {
            bar.set_length(n);
        }
        bar.set_position(e.point.evaluations as u64);
        bar.set_message(format!(
            "gen {} · HV {:.4e} · front {}",
            e.point.generation, e.point.hypervolume, e.point.front_size
        ));
    }
}

/// The derived reference point: per objective, the worst value among `points` moved 10% of
/// its magnitude further away (worst × 1.1 for a positive worst, worst × 0.9 for a negative one
/// such as −temporal_params), so every point of the first generation counts. A worst of 0 moves
/// by 10% of the objective's range, or by 1 when all values are equal.
pub fn reference_from(points: &[Vec<f64>]) -> Vec<f64> {
    let d = points.first().map_or(0, Vec::len);
    (0..d)
        .map(|k| {
            let worst = points
                .iter()
                .map(|p| p[k])
                .fold(f64::NEG_INFINITY, f64::max);
            let best = points.iter().map(|p| p[k]).fold(f64::INFINITY, f64::min);
            beyond_worst(worst, best)
        })
        .collect()
}

/// One objective's reference value from its worst and best values (see [`reference_from`]).
pub(crate) fn beyond_worst(worst: f64, best: f64) -> f64 {
    let mut margin = 0.1 * worst.abs();
    if margin == 0.0 {
        margin = 0.1 * (worst - best);
    }
    if margin == 0.0 {
        margin = 1.0;
    }
    worst + margin
}

/// Follows the feasible front generation by generation.
#[derive(Debug, Clone)]
pub(crate) struct ProgressTracker {
    reference: Vec<f64>,
    archive: Vec<Vec<f64>>,
    hv: f64,
    pub points: Vec<ProgressPoint>,
}

impl ProgressTracker {
    pub fn new(reference: Vec<f64>) -> Self {
        ProgressTracker {
            reference,
            archive: Vec::new(),
            hv: 0.0,
            points: Vec::new(),
        }
    }

    /// Adds a generation's feasible objective vectors; `evaluations` is the cumulative count.
    pub fn add(&mut self, generation: usize, feasible: Vec<Vec<f64>>, evaluations: usize) {
        if !feasible.is_empty() {
            let before = self.archive.len();
            self.archive.extend(feasible);
            let keep = non_dominated(&self.archive);
            // Unchanged when exactly the old archive survives (new points all dominated).
            let changed = keep.len() != before || keep.iter().enumerate().any(|(i, &k)| i != k);
            self.archive = keep.iter().map(|&i| self.archive[i].clone()).collect();
            if changed {
                self.hv = hypervolume(&self.archive, &self.reference);
            }
        }
        self.points.push(ProgressPoint {
            generation,
            evaluations,
            hypervolume: self.hv,
            front_size: self.archive.len(),
        });
    }

    pub fn hypervolume(&self) -> f64 {
        self.hv
    }
}

/// Writes `progress.csv`: `generation,evaluations,hypervolume,front_size`.
pub fn write_progress_csv(path: &Path, points: &[ProgressPoint]) -> Result<(), SearchError> {
    let text = csv_text(
        &["generation", "evaluations", "hypervolume", "front_size"],
        points.iter().map(|p| {
            [
                p.generation.to_string(),
                p.evaluations.to_string(),
                p.hypervolume.to_string(),
                p.front_size.to_string(),
            ]
        }),
    );
    Ok(vidnas_io::write_atomic(path, text.as_bytes())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_lies_beyond_the_worst_for_either_sign() {
        let pts = vec![vec![1.0, 10.0, -300.0], vec![2.0, 20.0, -100.0]];
        let r = reference_from(&pts);
        assert!((r[0] - 2.2).abs() < 1e-12);
        assert!((r[1] - 22.0).abs() < 1e-12);
        assert!(
            (r[2] - -90.0).abs() < 1e-12,
            "0.9 × the worst negative value"
        );
        let zero = reference_from(&[vec![0.0], vec![-5.0]]);
        assert!((zero[0] - 0.5).abs() < 1e-12);
        assert_eq!(reference_from(&[vec![0.0]]), vec![1.0]);
    }

    #[test]
    fn tracker_keeps_hypervolume_monotone() {
        let mut t = ProgressTracker::new(vec![10.0, 10.0]);
        t.add(0, vec![vec![5.0, 5.0]], 1);
        t.add(1, vec![vec![6.0, 6.0]], 2);
        t.add(2, vec![vec![1.0, 9.0]], 3);
        let hv: Vec<f64> = t.points.iter().map(|p| p.hypervolume).collect();
        assert_eq!(hv, vec![25.0, 25.0, 25.0 + 4.0]);
        assert_eq!(t.points[2].front_size, 2);
    }
}
