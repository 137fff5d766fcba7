//! Hardware-aware architecture search for vidnas: exhaustive, random, NSGA-II and single-objective
//! evolution over a [`vidnas_space::Space`], with hard latency and memory budgets, scored through
//! the [`Evaluator`] trait (latency predictor + supernet in the CLI, [`SyntheticEvaluator`] in
//! tests).
//!
//! A run lives in a folder: `run.json` (settings), `results.csv` (append-only, one row per
//! evaluation, flushed at once), and the derived `front.csv`, `results_with_front.csv`,
//! `summary.json` and `progress.csv`. Runs are deterministic under their seed, resumable
//! ([`RunOptions::resume`]) and, for exhaustive and random search, shardable ([`merge`]).
//!
//! Reading order for a newcomer: [`run_search`] (run.rs) → the algorithm (nsga2.rs) → the
//! engine's cache and evaluator call (engine.rs) → [`Evaluator`] → the CLI's latency lookup.
//!
//! Pure Rust: no libtorch.

mod benchmark;
mod budget;
mod config_check;
mod engine;
mod error;
mod evaluator;
mod evolution;
mod exhaustive;
mod files;
mod hypervolume;
mod joint;
mod merge;
mod mode;
mod nsga2;
mod outputs;
mod pareto;
mod payoff;
mod progress;
mod remeasure;
mod rerank;
mod results;
mod results_read;
mod run;
mod select;
mod settings;
mod settings_diff;
mod surrogate;
mod surrogate_search;
mod synthetic;

pub use benchmark::{
    benchmark_vs_exhaustive, exhaustive_front, insert_non_dominated, nsga2_and_random,
    search_quality, BenchmarkReport, ExhaustiveFront, SearchQuality,
};
pub use budget::{constrained_dominates, Budgets};
pub use engine::generation_rng;
pub use error::SearchError;
pub use evaluator::{Evaluation, Evaluator};
pub use hypervolume::hypervolume;
pub use joint::Joint;
pub use merge::merge;
pub use mode::Mode;
pub use outputs::{
    derive, load_run, reference_point, write_outputs, BestEntry, Derived, FrontEntry, LoadedRun,
    Summary, SUMMARY_FORMAT,
};
pub use pareto::{
    crowding_distance, dominates, non_dominated, non_dominated_sort, non_dominated_sort_by,
    objectives,
};
pub use payoff::counterparts;
pub use progress::{
    progress_bar_callback, reference_from, write_progress_csv, ProgressEvent, ProgressPoint,
};
pub use remeasure::{
    read_measured, spread_over_latency, write_remeasured, Remeasured, REMEASURE_COLUMNS,
    REMEASURE_FILE,
};
pub use rerank::{
    finished_rerank_run, read_reranked, rerank_run, write_reranked, Reranked, RERANK_COLUMNS,
    RERANK_FILE,
};
pub use results::{
    header, header_for, write_evaluations, write_rows, ResultRow, ResultsLog, Schema,
    EVALUATION_COLUMNS, FIXED_COLUMNS,
};
pub use results_read::{read_results, ReadResults};
pub use run::{check_run_folder, expected_evaluations, run_search, RunOptions, SearchOutcome};
pub use select::{knee_index, knee_of_points, select, Selector};
pub use settings::{
    parse_hv_reference, Algo, EvolutionParams, HvReference, Nsga2Params, RunSettings, SearchConfig,
    Shard, SpaceRef, SurrogateParams, RUN_FORMAT,
};
pub use surrogate::{kendall_tau, min_fit_rows, Surrogate};
pub use surrogate_search::SurrogateFit;
pub use synthetic::SyntheticEvaluator;
