//! The derived files of a run folder, recomputed from the rows alone (so a resumed run, a merged
//! run and an uninterrupted run agree byte for byte): `front.csv` (the results columns and
//! `measured_latency_ms` from `remeasure.csv`, if the run was re-measured; the re-ranked scores
//! from `rerank.csv`, if it was re-ranked), `results_with_front.csv`,
//! `summary.json` and `progress.csv`. Also [`load_run`], which reads a finished run back.

use crate::budget::Budgets;
use crate::error::SearchError;
use crate::files::{read_json, write_json};
use crate::mode::Mode;
use crate::pareto::{lex_cmp, non_dominated, objectives};
use crate::progress::{reference_from, write_progress_csv, ProgressPoint, ProgressTracker};
use crate::remeasure::read_measured;
use crate::rerank::read_reranked;
use crate::results::{write_rows, ResultRow};
use crate::results_read::read_results;
use crate::select::knee_index;
use crate::settings::{RunSettings, SpaceRef};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use vidnas_space::Space;

/// `format` of summary.json.
pub const SUMMARY_FORMAT: &str = "vidnas-search-summary/1";

/// One architecture as listed in summary.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrontEntry {
    pub arch_id: String,
    pub arch: String,
    pub generation: usize,
    pub score: Option<f64>,
    pub latency_ms: f64,
    pub peak_mem_mb: f64,
    pub params: u64,
    pub temporal_params: u64,
}

impl From<&ResultRow> for FrontEntry {
    fn from(r: &ResultRow) -> Self {
        FrontEntry {
            arch_id: r.arch_id.clone(),
            arch: r.arch.encode(),
            generation: r.generation,
            score: r.eval.score,
            latency_ms: r.eval.latency_ms,
            peak_mem_mb: r.eval.peak_mem_mb,
            params: r.eval.params,
            temporal_params: r.eval.temporal_params,
        }
    }
}

/// The feasible architecture best in one objective.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BestEntry {
    /// `score`, `latency_ms`, `peak_mem_mb` or `temporal_params`.
    pub objective: String,
    /// `min` or `max`.
    pub direction: String,
    pub value: f64,
    pub arch_id: String,
    pub arch: String,
}

/// summary.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub format: String,
    pub space: SpaceRef,
    pub algo: String,
    pub seed: u64,
    pub mode: Mode,
    pub objectives: Vec<String>,
    pub budgets: Budgets,
    pub evaluations: usize,
    pub feasible: usize,
    pub front_size: usize,
    pub generations: usize,
    pub reference_point: Vec<f64>,
    /// Hypervolume of the final feasible front.
    pub hypervolume: f64,
    pub hypervolume_per_generation: Vec<ProgressPoint>,
    pub best: Vec<BestEntry>,
    pub knee: Option<FrontEntry>,
}

/// Everything derived from a run's rows.
#[derive(Debug, Clone)]
pub struct Derived {
    /// Per row: feasible and non-dominated among the feasible rows.
    pub is_pareto: Vec<bool>,
    /// Row indices of the front, sorted by latency (then objectives, then id).
    pub front: Vec<usize>,
    /// The front's rows; a re-ranked run's carry their re-ranked scores.
    pub front_rows: Vec<ResultRow>,
    /// Whether the front is the re-ranked architectures' (rerank.csv).
    pub reranked: bool,
    pub summary: Summary,
}

/// The reference point of a run: recorded in `settings`, else derived from the rows of the
/// earliest generation (the first population).
pub fn reference_point(settings: &RunSettings, rows: &[ResultRow]) -> Vec<f64> {
    if let Some(p) = &settings.hv_reference.point {
        return p.clone();
    }
    let first = rows.iter().map(|r| r.generation).min().unwrap_or(0);
    let pts: Vec<Vec<f64>> = rows
        .iter()
        .filter(|r| r.generation == first)
        .map(|r| objectives(&r.eval, settings.mode))
        .collect();
    if pts.is_empty() {
        vec![0.0; settings.objectives.len()]
    } else {
        reference_from(&pts)
    }
}

/// Computes the front, the progress per generation and the summary from `rows`. With
/// `reranked` scores (rerank.csv, by arch_id) the front is the Pareto set of the re-ranked
/// architectures under those scores; progress and hypervolume stay the search's.
pub fn derive(
    settings: &RunSettings,
    rows: &[ResultRow],
    reranked: &HashMap<String, f64>,
) -> Derived {
    let mode = settings.mode;
    let reference = reference_point(settings, rows);
    let feasible: Vec<usize> = (0..rows.len())
        .filter(|&i| settings.budgets.is_feasible(&rows[i].eval))
        .collect();
    // The rows that compete for the front, with the scores they compete by.
    let ranked: Vec<ResultRow> = rows
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if let Some(&score) = reranked.get(&r.arch_id) {
                r.eval.score = Some(score);
            }
            r
        })
        .collect();
    let pool: Vec<usize> = feasible
        .iter()
        .copied()
        .filter(|&i| reranked.is_empty() || reranked.contains_key(&rows[i].arch_id))
        .collect();
    let points: Vec<Vec<f64>> = pool
        .iter()
        .map(|&i| objectives(&ranked[i].eval, mode))
        .collect();
    let mut front: Vec<usize> = non_dominated(&points)
        .into_iter()
        .map(|k| pool[k])
        .collect();
    front.sort_by(|&a, &b| {
        let (ea, eb) = (&ranked[a].eval, &ranked[b].eval);
        ea.latency_ms
            .total_cmp(&eb.latency_ms)
            .then_with(|| lex_cmp(&objectives(ea, mode), &objectives(eb, mode)))
            .then_with(|| rows[a].arch_id.cmp(&rows[b].arch_id))
    });
    let mut is_pareto = vec![false; rows.len()];
    for &i in &front {
        is_pareto[i] = true;
    }
    // Progress: cumulative by generation, in generation order.
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by_key(|&i| rows[i].generation);
    let mut tracker = ProgressTracker::new(reference.clone());
    let mut k = 0;
    while k < order.len() {
        let g = rows[order[k]].generation;
        let mut batch = Vec::new();
        while k < order.len() && rows[order[k]].generation == g {
            let r = &rows[order[k]];
            if settings.budgets.is_feasible(&r.eval) {
                batch.push(objectives(&r.eval, mode));
            }
            k += 1;
        }
        tracker.add(g, batch, k);
    }
    let front_rows: Vec<ResultRow> = front.iter().map(|&i| ranked[i].clone()).collect();
    let summary = Summary {
        format: SUMMARY_FORMAT.into(),
        space: settings.space.clone(),
        algo: settings.algo.name().into(),
        seed: settings.seed,
        mode,
        objectives: settings.objectives.clone(),
        budgets: settings.budgets,
        evaluations: rows.len(),
        feasible: feasible.len(),
        front_size: front.len(),
        generations: tracker.points.len(),
        reference_point: reference,
        hypervolume: tracker.hypervolume(),
        hypervolume_per_generation: tracker.points,
        best: best_entries(rows, &feasible, mode),
        knee: knee_index(&front_rows).map(|i| FrontEntry::from(&front_rows[i])),
    };
    Derived {
        is_pareto,
        front,
        front_rows,
        reranked: !reranked.is_empty(),
        summary,
    }
}

fn best_entries(rows: &[ResultRow], feasible: &[usize], mode: Mode) -> Vec<BestEntry> {
    type Get = fn(&ResultRow) -> Option<f64>;
    let mut wanted: Vec<(&str, bool, Get)> = Vec::new();
    if mode == Mode::Score {
        wanted.push(("score", false, |r| r.eval.score));
    }
    wanted.push(("latency_ms", false, |r| Some(r.eval.latency_ms)));
    wanted.push(("peak_mem_mb", false, |r| Some(r.eval.peak_mem_mb)));
    wanted.push(("temporal_params", true, |r| {
        Some(r.eval.temporal_params as f64)
    }));
    wanted
        .into_iter()
        .filter_map(|(name, maximise, get)| {
            let sign = if maximise { -1.0 } else { 1.0 };
            let best = feasible
                .iter()
                .filter_map(|&i| get(&rows[i]).map(|v| (i, v)))
                .min_by(|a, b| (sign * a.1).total_cmp(&(sign * b.1)).then(a.0.cmp(&b.0)))?;
            Some(BestEntry {
                objective: name.into(),
                direction: if maximise { "max" } else { "min" }.into(),
                value: best.1,
                arch_id: rows[best.0].arch_id.clone(),
                arch: rows[best.0].arch.encode(),
            })
        })
        .collect()
}

/// Writes the derived files into `run_dir`. Returns the summary, or the clear
/// [`SearchError::NoFeasible`] (after writing them) when no architecture meets the budgets.
pub fn write_outputs(
    run_dir: &Path,
    space: &Space,
    settings: &RunSettings,
    rows: &[ResultRow],
) -> Result<Derived, SearchError> {
    let derived = derive(settings, rows, &read_reranked(run_dir)?);
    let front: Vec<&ResultRow> = derived.front_rows.iter().collect();
    let measured = read_measured(run_dir)?;
    let measured: Vec<String> = front
        .iter()
        .map(|r| {
            measured
                .get(&r.arch_id)
                .map_or(String::new(), f64::to_string)
        })
        .collect();
    write_rows(
        &run_dir.join("front.csv"),
        space,
        &settings.joint(),
        &front,
        Some(("measured_latency_ms", &measured)),
        derived.reranked,
    )?;
    let all: Vec<&ResultRow> = rows.iter().collect();
    let is_pareto: Vec<String> = derived.is_pareto.iter().map(bool::to_string).collect();
    write_rows(
        &run_dir.join("results_with_front.csv"),
        space,
        &settings.joint(),
        &all,
        Some(("is_pareto", &is_pareto)),
        false,
    )?;
    write_progress_csv(
        &run_dir.join("progress.csv"),
        &derived.summary.hypervolume_per_generation,
    )?;
    write_json(&run_dir.join("summary.json"), &derived.summary)?;
    if derived.front.is_empty() {
        return Err(settings
            .budgets
            .no_feasible_error(rows.iter().map(|r| &r.eval)));
    }
    Ok(derived)
}

/// A run read back from its folder.
#[derive(Debug, Clone)]
pub struct LoadedRun {
    pub settings: RunSettings,
    /// results.csv rows in file order, feasibility recomputed from the budgets.
    pub rows: Vec<ResultRow>,
    /// The feasible front, sorted by latency.
    pub front: Vec<ResultRow>,
    pub summary: Summary,
}

/// Reads run.json and results.csv of `run_dir` (checked against `space`) and recomputes the
/// front and summary, e.g. to export an architecture from a finished (or interrupted) run.
pub fn load_run(run_dir: &Path, space: &Space) -> Result<LoadedRun, SearchError> {
    let run_json = run_dir.join("run.json");
    let settings: RunSettings = read_json(&run_json, "run.json")?;
    if settings.space.hash != space.hash() {
        return Err(SearchError::SettingsMismatch {
            path: run_json,
            field: "space.hash".into(),
            recorded: settings.space.hash.clone(),
            requested: format!("{} (space `{}`)", space.hash(), space.name()),
        });
    }
    let mut rows = read_results(&run_dir.join("results.csv"), space)?.rows;
    for r in &mut rows {
        r.feasible = settings.budgets.is_feasible(&r.eval);
    }
    let derived = derive(&settings, &rows, &read_reranked(run_dir)?);
    let front = derived.front_rows;
    Ok(LoadedRun {
        settings,
        rows,
        front,
        summary: derived.summary,
    })
}
