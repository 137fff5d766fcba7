//! Search quality on a space small enough to enumerate: how much of the true front's
//! hypervolume NSGA-II (and random search with as many evaluations) recovers.
//!
//! The exhaustive front is computed in memory ([`exhaustive_front`]: every architecture is
//! scored in batches and kept only while it is non-dominated, nothing is written), so a space of
//! a million architectures takes seconds; the searches compared with it are real runs
//! ([`run_search`]) in a work folder. All hypervolumes use one reference point, beyond the worst
//! value of every objective over the whole space.

use crate::budget::Budgets;
use crate::error::SearchError;
use crate::evaluator::{evaluate_checked, Evaluator};
use crate::hypervolume::hypervolume;
use crate::joint::Joint;
use crate::mode::Mode;
use crate::pareto::{dominates, objectives};
use crate::progress::beyond_worst;
use crate::run::{run_search, RunOptions};
use crate::settings::{Algo, Nsga2Params, SearchConfig};
use serde::Serialize;
use std::path::Path;
use vidnas_space::{Architecture, Space};

/// Architectures per evaluator call while enumerating the space.
const BATCH: usize = 4096;

/// The true front of a space, from scoring every architecture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExhaustiveFront {
    /// Architectures scored: every valid architecture of the space.
    pub evaluations: u64,
    pub mode: Mode,
    /// The distinct non-dominated objective vectors ([`objectives`]) of the architectures that
    /// meet the budgets.
    pub front: Vec<Vec<f64>>,
    /// Per objective, the worst value over the whole space (feasible or not) moved 10% of its
    /// magnitude further away, so every architecture counts (see [`reference_value`]).
    pub reference: Vec<f64>,
    /// Hypervolume of `front` against `reference`.
    pub hypervolume: f64,
}

/// Scores every architecture of `space` in memory and keeps the front of those within `budgets`.
pub fn exhaustive_front(
    space: &Space,
    evaluator: &mut dyn Evaluator,
    budgets: &Budgets,
) -> Result<ExhaustiveFront, SearchError> {
    budgets.check()?;
    let has_score = evaluator.has_score();
    let mode = Mode::for_scorer(has_score);
    let mut front: Vec<Vec<f64>> = Vec::new();
    let mut worst: Vec<f64> = Vec::new();
    let mut best: Vec<f64> = Vec::new();
    let mut evaluations = 0u64;
    let mut batch: Vec<Architecture> = Vec::with_capacity(BATCH);
    let mut archs = space.enumerate().peekable();
    let mut generation = 0;
    while archs.peek().is_some() {
        batch.clear();
        batch.extend(archs.by_ref().take(BATCH));
        let evals = evaluate_checked(evaluator, generation, &batch, has_score, &Joint::single())?;
        for eval in &evals {
            let p = objectives(eval, mode);
            if worst.is_empty() {
                (worst, best) = (p.clone(), p.clone());
            }
            for (k, &v) in p.iter().enumerate() {
                worst[k] = worst[k].max(v);
                best[k] = best[k].min(v);
            }
            if budgets.is_feasible(eval) {
                insert_non_dominated(&mut front, p);
            }
        }
        evaluations += batch.len() as u64;
        generation += 1;
    }
    let reference: Vec<f64> = worst
        .iter()
        .zip(&best)
        .map(|(&w, &b)| reference_value(w, b))
        .collect();
    let hypervolume = hypervolume(&front, &reference);
    Ok(ExhaustiveFront {
        evaluations,
        mode,
        front,
        reference,
        hypervolume,
    })
}

/// `worst × 1.1` for a positive worst, `worst × 0.9` for a negative one: the figures of
/// `vidnas bench search` (reports/search-quality) were measured with these products, which can
/// differ in the last bit from [`crate::reference_from`]'s `worst + 0.1·|worst|`. A worst of 0
/// moves as there (by 10% of the range, or 1), not onto the reference itself.
fn reference_value(worst: f64, best: f64) -> f64 {
    if worst > 0.0 {
        worst * 1.1
    } else if worst < 0.0 {
        worst * 0.9
    } else {
        beyond_worst(worst, best)
    }
}

/// Adds `p` to a set of distinct non-dominated points (minimisation), dropping the points it
/// dominates; a point equal to or dominated by a member is not added.
pub fn insert_non_dominated(front: &mut Vec<Vec<f64>>, p: Vec<f64>) {
    if front.iter().any(|q| dominates(q, &p) || *q == p) {
        return;
    }
    front.retain(|q| !dominates(&p, q));
    front.push(p);
}

/// One search measured against the exhaustive front.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchQuality {
    /// [`Algo::name`].
    pub algo: &'static str,
    pub seed: u64,
    pub evaluations: usize,
    /// Distinct non-dominated objective vectors among its feasible evaluations.
    pub front_size: usize,
    /// Hypervolume of its front against the exhaustive front's reference point.
    pub hypervolume: f64,
    /// `hypervolume / exhaustive hypervolume` (0 when the exhaustive one is 0).
    pub hv_ratio: f64,
}

/// Runs one search (`algo`, `seed`, `budgets`) in `run_dir` and measures its front against
/// `exhaustive`.
pub fn search_quality(
    space: &Space,
    evaluator: &mut dyn Evaluator,
    exhaustive: &ExhaustiveFront,
    algo: Algo,
    seed: u64,
    budgets: Budgets,
    run_dir: &Path,
) -> Result<SearchQuality, SearchError> {
    let name = algo.name();
    let config = SearchConfig {
        algo,
        seed,
        budgets,
        shard: None,
        hv_reference: None,
        devices: Vec::new(),
        other_tables: Vec::new(),
        memory_dtypes: Vec::new(),
        table: None,
        supernet: None,
    };
    let outcome = run_search(space, evaluator, &config, run_dir, RunOptions::default())?;
    let mode = outcome.settings.mode;
    let mut front = Vec::new();
    for r in outcome.rows.iter().filter(|r| r.feasible) {
        insert_non_dominated(&mut front, objectives(&r.eval, mode));
    }
    let hv = hypervolume(&front, &exhaustive.reference);
    Ok(SearchQuality {
        algo: name,
        seed,
        evaluations: outcome.rows.len(),
        front_size: front.len(),
        hypervolume: hv,
        hv_ratio: if exhaustive.hypervolume > 0.0 {
            hv / exhaustive.hypervolume
        } else {
            0.0
        },
    })
}

/// NSGA-II (`nsga2`, `seed`) in `work_dir/nsga2`, then random search with as many evaluations
/// (batches of the population size) in `work_dir/random`, both measured against `exhaustive`.
pub fn nsga2_and_random(
    space: &Space,
    evaluator: &mut dyn Evaluator,
    exhaustive: &ExhaustiveFront,
    nsga2: &Nsga2Params,
    seed: u64,
    budgets: Budgets,
    work_dir: &Path,
) -> Result<[SearchQuality; 2], SearchError> {
    let evolved = search_quality(
        space,
        evaluator,
        exhaustive,
        Algo::Nsga2(nsga2.clone()),
        seed,
        budgets,
        &work_dir.join("nsga2"),
    )?;
    let random = search_quality(
        space,
        evaluator,
        exhaustive,
        Algo::Random {
            samples: evolved.evaluations,
            batch: nsga2.population,
        },
        seed,
        budgets,
        &work_dir.join("random"),
    )?;
    Ok([evolved, random])
}

/// What [`benchmark_vs_exhaustive`] measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchmarkReport {
    pub exhaustive: ExhaustiveFront,
    /// NSGA-II then random search, for each seed in order.
    pub searches: Vec<SearchQuality>,
}

/// [`exhaustive_front`], then [`nsga2_and_random`] for each seed (in `work_dir/seed-<seed>`).
pub fn benchmark_vs_exhaustive(
    space: &Space,
    evaluator: &mut dyn Evaluator,
    nsga2: &Nsga2Params,
    seeds: &[u64],
    budgets: Budgets,
    work_dir: &Path,
) -> Result<BenchmarkReport, SearchError> {
    let exhaustive = exhaustive_front(space, evaluator, &budgets)?;
    let mut searches = Vec::new();
    for &seed in seeds {
        let dir = work_dir.join(format!("seed-{seed}"));
        searches.extend(nsga2_and_random(
            space,
            evaluator,
            &exhaustive,
            nsga2,
            seed,
            budgets,
            &dir,
        )?);
    }
    Ok(BenchmarkReport {
        exhaustive,
        searches,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_moves_past_the_worst_by_ten_percent() {
        assert_eq!(reference_value(26.9, 1.0), 26.9 * 1.1);
        assert_eq!(reference_value(-6304.0, -9000.0), -6304.0 * 0.9);
        // A worst of 0 moves by 10% of the range instead of staying on the reference.
        assert_eq!(reference_value(0.0, -5.0), 0.5);
        assert_eq!(reference_value(0.0, 0.0), 1.0);
    }
}
