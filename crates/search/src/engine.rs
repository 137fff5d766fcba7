//! The evaluation engine every algorithm runs on: a cache keyed by the architecture encoding (so
//! an architecture is scored at most once per run), batch calls to the [`Evaluator`] (one per
//! generation), rows appended to results.csv as soon as they are known, per-generation progress,
//! and the per-(seed, generation) random streams that make a resumed run replay exactly.
//!
//! On resume the cache is pre-filled from results.csv. Algorithms must take their decisions
//! only from [`Engine::seen`] and the rows the engine returns (never from what happened to be on
//! disk), so the replay makes the same choices as the uninterrupted run.

use crate::budget::Budgets;
use crate::error::SearchError;
use crate::evaluator::{evaluate_checked, Evaluator};
use crate::files::write_json;
use crate::mode::Mode;
use crate::pareto::objectives;
use crate::progress::{reference_from, write_progress_csv, ProgressEvent, ProgressTracker};
use crate::results::{ResultRow, ResultsLog};
use crate::settings::RunSettings;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use vidnas_space::{Architecture, Space};

/// The random stream of one generation: ChaCha8 keyed by the seed, stream = generation. Every
/// generation starts from a fresh stream, so a replay re-creates it without replaying others.
pub fn generation_rng(seed: u64, generation: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(generation as u64);
    rng
}

pub(crate) struct Engine<'a> {
    pub space: &'a Space,
    evaluator: &'a mut dyn Evaluator,
    pub mode: Mode,
    pub budgets: Budgets,
    /// Rows read from results.csv on resume, by encoding.
    recorded: HashMap<String, ResultRow>,
    /// Surrogate rows read from results.csv on resume, by (generation, encoding).
    predicted: HashSet<(usize, String)>,
    /// Surrogate rows this run has recorded.
    surrogate_rows: usize,
    /// Rows of this run in the order first requested.
    rows: Vec<ResultRow>,
    index: HashMap<String, usize>,
    log: ResultsLog,
    scored_now: usize,
    settings: RunSettings,
    run_json: PathBuf,
    progress_csv: PathBuf,
    tracker: Option<ProgressTracker>,
    /// Rows up to this index are in the tracker.
    tracked: usize,
    expected: Option<u64>,
    callback: Option<&'a mut dyn FnMut(&ProgressEvent)>,
}

pub(crate) struct EngineParts<'a> {
    pub space: &'a Space,
    pub evaluator: &'a mut dyn Evaluator,
    pub settings: RunSettings,
    pub recorded: Vec<ResultRow>,
    /// Surrogate rows of results.csv (resume).
    pub predicted: Vec<ResultRow>,
    pub log: ResultsLog,
    pub run_dir: PathBuf,
    pub expected: Option<u64>,
    pub callback: Option<&'a mut dyn FnMut(&ProgressEvent)>,
}

impl<'a> Engine<'a> {
    pub fn new(p: EngineParts<'a>) -> Self {
        let tracker = p
            .settings
            .hv_reference
            .point
            .clone()
            .map(ProgressTracker::new);
        Engine {
            space: p.space,
            evaluator: p.evaluator,
            mode: p.settings.mode,
            budgets: p.settings.budgets,
            recorded: p
                .recorded
                .into_iter()
                .map(|r| (r.arch.encode(), r))
                .collect(),
            predicted: p
                .predicted
                .into_iter()
                .map(|r| (r.generation, r.arch.encode()))
                .collect(),
            surrogate_rows: 0,
            rows: Vec::new(),
            index: HashMap::new(),
            log: p.log,
            scored_now: 0,
            run_json: p.run_dir.join("run.json"),
            progress_csv: p.run_dir.join("progress.csv"),
            settings: p.settings,
            tracker,
            tracked: 0,
            expected: p.expected,
            callback: p.callback,
        }
    }

    /// Whether this run has already asked for `arch`.
    pub fn seen(&self, arch: &Architecture) -> bool {
        self.index.contains_key(&arch.encode())
    }

    /// Every row of this run so far (the evaluator's: supernet-scored in a scored run).
    pub fn scored(&self) -> &[ResultRow] {
        &self.rows
    }

    pub fn row(&self, i: usize) -> &ResultRow {
        &self.rows[i]
    }

    /// Objective vector and total budget violation of row `i`.
    pub fn ranked(&self, i: usize) -> (Vec<f64>, f64) {
        let e = &self.rows[i].eval;
        (objectives(e, self.mode), self.budgets.violation(e))
    }

    /// Scores one generation in a single evaluator call (architectures not yet known only) and
    /// returns each architecture's row index, in order.
    pub fn evaluate(
        &mut self,
        generation: usize,
        archs: &[Architecture],
    ) -> Result<Vec<usize>, SearchError> {
        let mut missing: Vec<Architecture> = Vec::new();
        let mut pending: HashMap<String, ()> = HashMap::new();
        for a in archs {
            let key = a.encode();
            if !self.index.contains_key(&key)
                && !self.recorded.contains_key(&key)
                && pending.insert(key, ()).is_none()
            {
                missing.push(a.clone());
            }
        }
        let mut fresh: HashMap<String, ResultRow> = HashMap::new();
        if !missing.is_empty() {
            let has_score = self.mode == Mode::Score;
            let evals = evaluate_checked(
                self.evaluator,
                generation,
                &missing,
                has_score,
                &self.settings.joint(),
            )?;
            for (arch, eval) in missing.iter().zip(evals) {
                let row = ResultRow {
                    arch_id: arch.id(),
                    arch: arch.clone(),
                    generation,
                    feasible: self.budgets.is_feasible(&eval),
                    eval,
                };
                fresh.insert(arch.encode(), row);
            }
        }
        // Append in request order, so an uninterrupted run and a replay write the same order.
        let mut out = Vec::with_capacity(archs.len());
        for a in archs {
            let key = a.encode();
            if let Some(&i) = self.index.get(&key) {
                out.push(i);
                continue;
            }
            let row = match fresh.remove(&key) {
                Some(row) => {
                    self.log.append(&row)?;
                    self.scored_now += 1;
                    row
                }
                None => {
                    let mut row = self.recorded.remove(&key).expect("recorded or fresh");
                    row.feasible = self.budgets.is_feasible(&row.eval);
                    row
                }
            };
            self.index.insert(key, self.rows.len());
            out.push(self.rows.len());
            self.rows.push(row);
        }
        Ok(out)
    }

    /// The latency, memory and parameters of `archs` without scoring them (the surrogate's
    /// inner search), from the evaluator's cheap predictor.
    pub fn predict(
        &mut self,
        generation: usize,
        archs: &[Architecture],
    ) -> Result<Vec<crate::Evaluation>, SearchError> {
        let evals = self
            .evaluator
            .predict(archs)
            .map_err(|error| SearchError::Evaluator {
                generation,
                count: archs.len(),
                error,
            })?;
        for (arch, eval) in archs.iter().zip(&evals) {
            eval.check(arch, false, &self.settings.joint())?;
        }
        Ok(evals)
    }

    /// Records the surrogate's predictions of one generation in results.csv (those a resumed
    /// run recorded before are skipped, so the file is the same as an uninterrupted run's).
    pub fn record_surrogate(&mut self, rows: &[ResultRow]) -> Result<(), SearchError> {
        for row in rows {
            if !self.predicted.remove(&(row.generation, row.arch.encode())) {
                self.log.append_surrogate(row)?;
            }
            self.surrogate_rows += 1;
        }
        Ok(())
    }

    /// Surrogate rows of this run so far (recorded now or before a resume).
    pub fn surrogate_rows(&self) -> usize {
        self.surrogate_rows
    }

    /// Closes a generation: fixes the reference point after the first one (recording it in
    /// run.json), updates the hypervolume, rewrites progress.csv and calls the callback.
    pub fn end_generation(&mut self, generation: usize) -> Result<(), SearchError> {
        if self.tracker.is_none() {
            if self.rows.is_empty() {
                return Ok(());
            }
            let first: Vec<Vec<f64>> = self
                .rows
                .iter()
                .map(|r| objectives(&r.eval, self.mode))
                .collect();
            let reference = reference_from(&first);
            self.settings.hv_reference.point = Some(reference.clone());
            write_json(&self.run_json, &self.settings)?;
            self.tracker = Some(ProgressTracker::new(reference));
        }
        let tracker = self.tracker.as_mut().expect("set above");
        let feasible = self.rows[self.tracked..]
            .iter()
            .filter(|r| r.feasible)
            .map(|r| objectives(&r.eval, self.mode))
            .collect();
        self.tracked = self.rows.len();
        tracker.add(generation, feasible, self.rows.len());
        write_progress_csv(&self.progress_csv, &tracker.points)?;
        if let Some(cb) = self.callback.as_mut() {
            cb(&ProgressEvent {
                point: tracker.points.last().expect("just added").clone(),
                expected_evaluations: self.expected,
                scored_now: self.scored_now,
            });
        }
        Ok(())
    }

    /// Architectures this process has scored and recorded so far.
    pub fn scored_now(&self) -> usize {
        self.scored_now
    }

    /// The run's rows (request order), its settings (with the reference point fixed) and the
    /// number of architectures this process scored.
    pub fn finish(self) -> (Vec<ResultRow>, RunSettings, usize) {
        (self.rows, self.settings, self.scored_now)
    }
}
