//! Search quality on a space small enough to enumerate: how much of the true front's
//! hypervolume NSGA-II recovers, and with how many evaluations.

use crate::budget::Budgets;
use crate::error::SearchError;
use crate::evaluator::Evaluator;
use crate::hypervolume::hypervolume;
use crate::pareto::objectives;
use crate::progress::reference_from;
use crate::run::{run_search, RunOptions, SearchOutcome};
use crate::settings::{Algo, Nsga2Params, SearchConfig};
use serde::Serialize;
use std::path::Path;
use vidnas_space::Space;

/// What [`benchmark_vs_exhaustive`] measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchmarkReport {
    /// Valid architectures in the space (= exhaustive evaluations).
    pub space_size: u128,
    /// Common reference point: the worst of every objective over the whole space, pushed out
    /// by 10% (see [`reference_from`]), so both fronts are measured in the same box.
    pub reference_point: Vec<f64>,
    pub exhaustive_hv: f64,
    pub nsga2_hv: f64,
    /// `nsga2_hv / exhaustive_hv`.
    pub hv_ratio: f64,
    pub exhaustive_evaluations: usize,
    pub nsga2_evaluations: usize,
    pub exhaustive_front_size: usize,
    pub nsga2_front_size: usize,
}

/// Runs an exhaustive search and NSGA-II (`nsga2`, `seed`) under `budgets` with the same
/// evaluator, in `work_dir/exhaustive` and `work_dir/nsga2`, and compares their fronts.
pub fn benchmark_vs_exhaustive(
    space: &Space,
    evaluator: &mut dyn Evaluator,
    nsga2: &Nsga2Params,
    seed: u64,
    budgets: Budgets,
    work_dir: &Path,
) -> Result<BenchmarkReport, SearchError> {
    let config = |algo| SearchConfig {
        algo,
        seed,
        budgets,
        shard: None,
        hv_reference: None,
        table_id: "benchmark".into(),
        supernet_id: None,
    };
    let exhaustive = run_search(
        space,
        evaluator,
        &config(Algo::Exhaustive { batch: 1024 }),
        &work_dir.join("exhaustive"),
        RunOptions::default(),
    )?;
    let evolved = run_search(
        space,
        evaluator,
        &config(Algo::Nsga2(nsga2.clone())),
        &work_dir.join("nsga2"),
        RunOptions::default(),
    )?;
    let mode = exhaustive.settings.mode;
    let all: Vec<Vec<f64>> = exhaustive
        .rows
        .iter()
        .map(|r| objectives(&r.eval, mode))
        .collect();
    let reference = reference_from(&all);
    let front_hv = |o: &SearchOutcome| {
        let pts: Vec<Vec<f64>> = o.front.iter().map(|r| objectives(&r.eval, mode)).collect();
        hypervolume(&pts, &reference)
    };
    let (exhaustive_hv, nsga2_hv) = (front_hv(&exhaustive), front_hv(&evolved));
    Ok(BenchmarkReport {
        space_size: space.count_u128().unwrap_or(u128::MAX),
        reference_point: reference,
        exhaustive_hv,
        nsga2_hv,
        hv_ratio: if exhaustive_hv > 0.0 {
            nsga2_hv / exhaustive_hv
        } else {
            0.0
        },
        exhaustive_evaluations: exhaustive.rows.len(),
        nsga2_evaluations: evolved.rows.len(),
        exhaustive_front_size: exhaustive.front.len(),
        nsga2_front_size: evolved.front.len(),
    })
}
