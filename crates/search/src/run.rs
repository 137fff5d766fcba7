//! Running a search in a run folder: start or resume, run the algorithm on the engine, write
//! the derived files.
//!
//! A run folder holds `run.json` (settings, written first), `results.csv` (append-only, one row
//! per evaluation) and the derived `front.csv`, `results_with_front.csv`, `summary.json` and
//! `progress.csv`. `--resume` re-reads results.csv, never re-scores a recorded architecture, and
//! replays the algorithm from the same per-(seed, generation) random streams, so it reaches the
//! same decisions and the same files as a run that was never interrupted.

use crate::engine::{Engine, EngineParts};
use crate::error::SearchError;
use crate::evaluator::Evaluator;
use crate::evolution::run_evolution;
use crate::exhaustive::{run_exhaustive, run_random};
use crate::files::{create_dir, read_json, write_json};
use crate::nsga2::run_nsga2;
use crate::outputs::{write_outputs, Summary};
use crate::pareto::Mode;
use crate::progress::ProgressEvent;
use crate::results::{read_results, ResultRow, ResultsLog};
use crate::settings::{Algo, RunSettings, SearchConfig};
use std::path::Path;
use vidnas_space::Space;

/// How to run: resume or not, and an optional progress callback (see
/// [`crate::progress_bar_callback`] for an `indicatif` bar).
#[derive(Default)]
pub struct RunOptions<'a> {
    pub resume: bool,
    pub progress: Option<&'a mut dyn FnMut(&ProgressEvent)>,
}

/// The result of a finished run.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    pub settings: RunSettings,
    /// Every evaluated architecture, in the order first requested.
    pub rows: Vec<ResultRow>,
    /// The feasible front, sorted by latency.
    pub front: Vec<ResultRow>,
    pub summary: Summary,
    /// Architectures scored by this process (the rest came from results.csv on resume).
    pub scored_now: usize,
}

/// Runs (or resumes) a search in `run_dir`.
pub fn run_search<'a>(
    space: &'a Space,
    evaluator: &'a mut dyn Evaluator,
    config: &SearchConfig,
    run_dir: &Path,
    options: RunOptions<'a>,
) -> Result<SearchOutcome, SearchError> {
    config.check()?;
    let mode = Mode::for_scorer(evaluator.has_score());
    let requested = RunSettings::new(config, space, mode);
    create_dir(run_dir)?;
    let run_json = run_dir.join("run.json");
    let results_csv = run_dir.join("results.csv");
    let (settings, recorded, log) = if options.resume {
        if !run_json.exists() {
            return Err(SearchError::NothingToResume {
                path: run_dir.to_path_buf(),
            });
        }
        let recorded_settings: RunSettings = read_json(&run_json, "run.json")?;
        recorded_settings.check_same(&run_json, &requested, &[])?;
        if results_csv.exists() {
            let read = read_results(&results_csv, space)?;
            let log = ResultsLog::reopen(&results_csv, read.complete_bytes)?;
            (recorded_settings, read.rows, log)
        } else {
            (
                recorded_settings,
                Vec::new(),
                ResultsLog::create(&results_csv, space)?,
            )
        }
    } else {
        if run_json.exists() || results_csv.exists() {
            return Err(SearchError::AlreadyStarted {
                path: run_dir.to_path_buf(),
            });
        }
        write_json(&run_json, &requested)?;
        (
            requested,
            Vec::new(),
            ResultsLog::create(&results_csv, space)?,
        )
    };
    let mut engine = Engine::new(EngineParts {
        space,
        evaluator,
        settings: settings.clone(),
        recorded,
        log,
        run_dir: run_dir.to_path_buf(),
        expected: expected_evaluations(space, config),
        callback: options.progress,
    });
    match &config.algo {
        Algo::Exhaustive { batch } => run_exhaustive(&mut engine, *batch, config.shard)?,
        Algo::Random { samples, batch } => {
            run_random(&mut engine, config.seed, *samples, *batch, config.shard)?
        }
        Algo::Nsga2(p) => run_nsga2(&mut engine, config.seed, p)?,
        Algo::Evolution(p) => run_evolution(&mut engine, config.seed, p)?,
    }
    let (rows, settings, scored_now) = engine.finish();
    let derived = write_outputs(run_dir, space, &settings, &rows)?;
    let front = derived.front.iter().map(|&i| rows[i].clone()).collect();
    Ok(SearchOutcome {
        settings,
        rows,
        front,
        summary: derived.summary,
        scored_now,
    })
}

/// Evaluations the run will make (an upper bound for the evolutionary algorithms).
pub fn expected_evaluations(space: &Space, config: &SearchConfig) -> Option<u64> {
    let count = u64::try_from(space.count()).ok()?;
    let shard_share = |n: u64| match config.shard {
        Some(s) => (n + (s.count - s.index) as u64 - 1) / s.count as u64,
        None => n,
    };
    let n = match &config.algo {
        Algo::Exhaustive { .. } => shard_share(count),
        Algo::Random { samples, .. } => shard_share(count.min(*samples as u64)),
        Algo::Nsga2(p) => (p.population as u64 * (p.generations as u64 + 1)).min(count),
        Algo::Evolution(p) => {
            let parents = ((p.population as f64 * p.parent_fraction).round() as u64)
                .clamp(1, p.population as u64);
            (p.population as u64 + p.generations as u64 * (p.population as u64 - parents))
                .min(count)
        }
    };
    Some(n)
}
