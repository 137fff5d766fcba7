//! Running a search in a run folder: start or resume, run the algorithm on the engine, write
//! the derived files.
//!
//! A run folder holds `run.json` (settings, written first), `results.csv` (append-only, one row
//! per evaluation) and the derived `front.csv`, `results_with_front.csv`, `summary.json` and
//! `progress.csv`. `--resume` re-reads results.csv, never re-scores a recorded architecture, and
//! replays the algorithm from the same per-(seed, generation) random streams, so it reaches the
//! same decisions and the same files as a run that was never interrupted.
//!
//! A partial last line of results.csv (a run killed mid-write) is dropped on resume and its
//! architecture scored again (the CLI warns); any other malformed line is an error naming the
//! line and column, since a guessed repair would change the run.

use crate::engine::{Engine, EngineParts};
use crate::error::SearchError;
use crate::evaluator::Evaluator;
use crate::evolution::run_evolution;
use crate::exhaustive::{run_exhaustive, run_random};
use crate::files::{create_dir, read_json, write_json};
use crate::mode::Mode;
use crate::nsga2::run_nsga2;
use crate::outputs::{write_outputs, Summary};
use crate::progress::ProgressEvent;
use crate::results::{ResultRow, ResultsLog};
use crate::results_read::{read_results, ReadResults};
use crate::settings::{Algo, RunSettings, SearchConfig};
use crate::surrogate_search::{run_surrogate_nsga2, SurrogateFit};
use std::path::{Path, PathBuf};
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
    /// Surrogate predictions recorded in results.csv (`--surrogate`; 0 otherwise).
    pub surrogate_rows: usize,
    /// Each generation's surrogate fit: supernet rows it saw and its leave-one-out τ.
    pub surrogate_fits: Vec<SurrogateFit>,
}

/// Runs (or resumes) a search in `run_dir`.
///
/// Every input is checked before anything is written. A fresh run that fails before its first
/// row is recorded removes what it created, and a folder holding only such a run (run.json and
/// a results.csv without rows) counts as empty, so the corrected command needs no `--resume`.
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
    let run_json = run_dir.join("run.json");
    let results_csv = run_dir.join("results.csv");
    let mut predicted = Vec::new();
    let (settings, recorded, log, created) = if options.resume {
        if !run_json.exists() {
            return Err(SearchError::NothingToResume {
                path: run_dir.to_path_buf(),
            });
        }
        let recorded_settings: RunSettings = read_json(&run_json, "run.json")?;
        recorded_settings.check_same(&run_json, &requested, &[])?;
        let read = match results_csv.exists() {
            true => Some(read_results(&results_csv, space)?),
            false => None,
        };
        if let Some(read) = &read {
            check_modes(&results_csv, read, mode)?;
        }
        let (rows, log) = match read {
            // No complete line, not even the header: the run stopped while creating the file.
            Some(read) if read.complete_bytes == 0 => {
                remove_file(&results_csv)?;
                (
                    Vec::new(),
                    ResultsLog::create(&results_csv, space, &requested.joint())?,
                )
            }
            Some(read) => {
                predicted = read.surrogate;
                (
                    read.rows,
                    ResultsLog::reopen(&results_csv, read.complete_bytes, read.schema)?,
                )
            }
            None => (
                Vec::new(),
                ResultsLog::create(&results_csv, space, &requested.joint())?,
            ),
        };
        (recorded_settings, rows, log, None)
    } else {
        match unstarted(run_dir)? {
            Some(files) => files.iter().try_for_each(|f| remove_file(f))?,
            None if run_json.exists() || results_csv.exists() => {
                return Err(SearchError::AlreadyStarted {
                    path: run_dir.to_path_buf(),
                })
            }
            None => {}
        }
        let created = Created::folder(run_dir)?;
        // The relative paths of the request are relative to this command's folder.
        let requested = RunSettings {
            working_dir: vidnas_io::working_dir_record(run_dir),
            ..requested
        };
        let log = write_json(&run_json, &requested)
            .and_then(|_| ResultsLog::create(&results_csv, space, &requested.joint()));
        match log {
            Ok(log) => (requested, Vec::new(), log, Some(created)),
            Err(e) => {
                created.undo(&[&run_json, &results_csv]);
                return Err(e);
            }
        }
    };
    let mut engine = Engine::new(EngineParts {
        space,
        evaluator,
        settings: settings.clone(),
        recorded,
        predicted,
        log,
        run_dir: run_dir.to_path_buf(),
        expected: expected_evaluations(space, config),
        callback: options.progress,
    });
    let none = |r: Result<(), SearchError>| r.map(|()| Vec::new());
    let ran = match &config.algo {
        Algo::Exhaustive { batch } => none(run_exhaustive(&mut engine, *batch, config.shard)),
        Algo::Random { samples, batch } => none(run_random(
            &mut engine,
            config.seed,
            *samples,
            *batch,
            config.shard,
        )),
        Algo::Nsga2(p) => none(run_nsga2(&mut engine, config.seed, p)),
        Algo::SurrogateNsga2 { nsga2, surrogate } => {
            run_surrogate_nsga2(&mut engine, config.seed, nsga2, surrogate)
        }
        Algo::Evolution(p) => none(run_evolution(&mut engine, config.seed, p)),
    };
    let surrogate_fits = match ran {
        Ok(fits) => fits,
        Err(e) => {
            if let (Some(created), 0) = (created, engine.scored_now()) {
                drop(engine);
                created.undo(&[&run_json, &results_csv, &run_dir.join("progress.csv")]);
            }
            return Err(e);
        }
    };
    let surrogate_rows = engine.surrogate_rows();
    let (rows, settings, scored_now) = engine.finish();
    let derived = write_outputs(run_dir, space, &settings, &rows)?;
    let front = derived.front.iter().map(|&i| rows[i].clone()).collect();
    Ok(SearchOutcome {
        settings,
        rows,
        front,
        summary: derived.summary,
        scored_now,
        surrogate_rows,
        surrogate_fits,
    })
}

/// Checks that `run_dir` can take a run: with `resume` it must hold one (run.json); without,
/// it must not, unless that run never recorded a row. Lets a caller refuse before loading its
/// inputs; [`run_search`] checks the same.
pub fn check_run_folder(run_dir: &Path, resume: bool) -> Result<(), SearchError> {
    if run_dir.exists() && !run_dir.is_dir() {
        return Err(SearchError::io(
            run_dir,
            "using as the run folder",
            std::io::Error::other("it is a file; give a folder"),
        ));
    }
    let started = run_dir.join("run.json").exists() || run_dir.join("results.csv").exists();
    if resume && !run_dir.join("run.json").exists() {
        return Err(SearchError::NothingToResume {
            path: run_dir.to_path_buf(),
        });
    }
    if !resume && started && unstarted(run_dir)?.is_none() {
        return Err(SearchError::AlreadyStarted {
            path: run_dir.to_path_buf(),
        });
    }
    Ok(())
}

/// Rows recorded with a score in a predictor-only run, or without one in a scored run, were
/// written by another kind of search (or edited) and would mix two rankings.
fn check_modes(path: &Path, read: &ReadResults, mode: Mode) -> Result<(), SearchError> {
    let scored = mode == Mode::Score;
    for (row, &line) in read.rows.iter().zip(&read.lines) {
        if row.eval.score.is_some() != scored {
            return Err(SearchError::Row {
                path: path.to_path_buf(),
                line,
                message: if scored {
                    "column `score`: empty, but this run scores with a supernet".into()
                } else {
                    "column `score`: filled, but this run is predictor-only (no --supernet)".into()
                },
                fix: "resume with the supernet the run started with, or delete the line (it \
                      is scored again)"
                    .into(),
            });
        }
    }
    Ok(())
}

/// The files of a run in `dir` that never recorded a row (run.json, results.csv holding at
/// most its header, their temporary files), or `None` when `dir` holds anything else.
pub(crate) fn unstarted(dir: &Path) -> Result<Option<Vec<PathBuf>>, SearchError> {
    const RUN_FILES: [&str; 4] = ["run.json", "results.csv", "run.json.tmp", "results.csv.tmp"];
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(None);
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| SearchError::io(dir, "listing", e))?;
        let name = entry.file_name();
        if !RUN_FILES.iter().any(|f| name == *f) || !entry.path().is_file() {
            return Ok(None);
        }
        files.push(entry.path());
    }
    let results = dir.join("results.csv");
    if results.is_file() {
        let bytes = std::fs::read(&results).map_err(|e| SearchError::io(&results, "reading", e))?;
        // More than one complete line: a row was recorded.
        if bytes.iter().filter(|&&b| b == b'\n').count() > 1 {
            return Ok(None);
        }
    }
    Ok((!files.is_empty()).then_some(files))
}

fn remove_file(path: &Path) -> Result<(), SearchError> {
    std::fs::remove_file(path).map_err(|e| SearchError::io(path, "removing", e))
}

/// A run folder this process may have created (with any missing parents), to remove again if
/// the run fails before it records anything.
pub(crate) struct Created {
    dir: PathBuf,
    /// The highest folder that did not exist before, if any.
    top: Option<PathBuf>,
}

impl Created {
    pub(crate) fn folder(dir: &Path) -> Result<Self, SearchError> {
        let top = dir
            .ancestors()
            .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
            .last()
            .map(Path::to_path_buf);
        create_dir(dir)?;
        Ok(Created {
            dir: dir.to_path_buf(),
            top,
        })
    }

    /// Removes `files` (and their temporary files) and the folders created, if empty. Best
    /// effort: the error being reported matters more than a failed clean-up.
    pub(crate) fn undo(self, files: &[&Path]) {
        for f in files {
            let _ = std::fs::remove_file(f);
            let mut tmp = f.as_os_str().to_owned();
            tmp.push(".tmp");
            let _ = std::fs::remove_file(PathBuf::from(tmp));
        }
        let Some(top) = self.top else { return };
        for d in self.dir.ancestors() {
            if std::fs::remove_dir(d).is_err() || d == top {
                break;
            }
        }
    }
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
        Algo::SurrogateNsga2 { nsga2, surrogate } => (surrogate.warmup as u64
            + nsga2.population as u64 * nsga2.generations as u64)
            .min(count),
        Algo::Evolution(p) => {
            let parents = ((p.population as f64 * p.parent_fraction).round() as u64)
                .clamp(1, p.population as u64);
            (p.population as u64 + p.generations as u64 * (p.population as u64 - parents))
                .min(count)
        }
    };
    Some(n)
}
