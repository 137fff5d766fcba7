//! `results.csv`: the append-only record of every evaluation of a run, one row each, flushed as
//! soon as it is known, so a killed run loses nothing that was scored. Also the CSV writers of the
//! derived files (`front.csv`, `results_with_front.csv`), which share its columns.
//!
//! Columns: `arch_id,arch,generation,score,latency_ms,peak_mem_mb,params,temporal_params,
//! feasible,score_source,latency_lo_ms,latency_hi_ms`, then one column per slot (named like the
//! slot) holding its op. The
//! header is checked when reading. Numbers are written in Rust's shortest round-trip form, so
//! reading a file back gives bit-identical values (resume depends on it).
//!
//! `score_source` says where the score came from: `supernet` (the supernet's validation loss),
//! `surrogate` (the fitted surrogate's prediction, `search --surrogate`), or empty (no score:
//! predictor-only search). An architecture has at most one supernet row; surrogate rows are one
//! per architecture and generation that predicted it, and never reach the front. Files written
//! before the column existed (schema 1: the same columns without `score_source`) are still read
//! and resumed in their own schema, one schema per file.
//!
//! A joint search over several devices adds `latency_ms@NAME` for each device after the first
//! (its `latency_ms` is the first device's), then, when its tables differ in dtype,
//! `peak_mem_mb@DTYPE` for each dtype after the first, between these columns and the slots
//! ([`Joint::columns`]).
//!
//! `latency_lo_ms,latency_hi_ms` (schema 3) bound the predicted latency with the table's
//! validation interval (5–95% of measured / predicted on held-out networks); both are empty when
//! the table was never validated. Schema-2 files (without them) are resumed as they are.

use crate::error::SearchError;
use crate::evaluator::Evaluation;
use crate::files::{csv_line, csv_text};
use crate::joint::Joint;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use vidnas_space::{Architecture, Space};

/// The fixed leading columns of every results file.
pub const FIXED_COLUMNS: [&str; 12] = [
    "arch_id",
    "arch",
    "generation",
    "score",
    "latency_ms",
    "peak_mem_mb",
    "params",
    "temporal_params",
    "feasible",
    "score_source",
    "latency_lo_ms",
    "latency_hi_ms",
];

/// The columns of a schema-1 file (before `score_source`).
pub(crate) const SCHEMA1_COLUMNS: usize = 9;
/// The columns of a schema-2 file (before the latency interval).
const SCHEMA2_COLUMNS: usize = 10;

/// Which columns a results file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    /// Without `score_source` (files written before it existed; still resumed as they are).
    V1,
    /// With `score_source`.
    V2,
    /// With `score_source` and `latency_lo_ms,latency_hi_ms`.
    V3,
}

impl Schema {
    pub(crate) fn fixed(self) -> usize {
        match self {
            Schema::V1 => SCHEMA1_COLUMNS,
            Schema::V2 => SCHEMA2_COLUMNS,
            Schema::V3 => FIXED_COLUMNS.len(),
        }
    }
}

/// Where a row's score came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// No score (predictor-only) or the supernet's.
    Evaluator,
    Surrogate,
    /// Fine-tuned and scored again (`search --rerank`); front.csv only.
    Rerank,
}

/// One evaluated architecture.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// [`Architecture::id`].
    pub arch_id: String,
    pub arch: Architecture,
    /// The generation (or batch) that first asked for this architecture.
    pub generation: usize,
    pub eval: Evaluation,
    /// Meets every budget of the run.
    pub feasible: bool,
}

/// The full header of a results file for `space`.
pub fn header(space: &Space) -> Vec<String> {
    header_for(space, &Joint::single())
}

/// The header of a run over `joint`'s devices and dtypes.
pub fn header_for(space: &Space, joint: &Joint) -> Vec<String> {
    schema_header(space, Schema::V3, &joint.columns())
}

pub(crate) fn schema_header(
    space: &Space,
    schema: Schema,
    device_columns: &[String],
) -> Vec<String> {
    FIXED_COLUMNS[..schema.fixed()]
        .iter()
        .map(|c| c.to_string())
        .chain(device_columns.iter().cloned())
        .chain(space.slots.iter().map(|s| s.name.clone()))
        .collect()
}

fn record(row: &ResultRow, schema: Schema, source: Source) -> Vec<String> {
    let mut fields = vec![
        row.arch_id.clone(),
        row.arch.encode(),
        row.generation.to_string(),
    ];
    fields.extend(eval_fields(&row.eval));
    fields.push(row.feasible.to_string());
    if schema != Schema::V1 {
        let source = match (source, row.eval.score) {
            (Source::Surrogate, _) => "surrogate",
            (Source::Rerank, _) => "rerank",
            (Source::Evaluator, Some(_)) => "supernet",
            (Source::Evaluator, None) => "",
        };
        fields.push(source.to_string());
    }
    if schema == Schema::V3 {
        let (lo, hi) = row
            .eval
            .latency_interval_ms
            .map_or((String::new(), String::new()), |(lo, hi)| {
                (lo.to_string(), hi.to_string())
            });
        fields.extend([lo, hi]);
        fields.extend(row.eval.other_latency_ms.iter().map(f64::to_string));
        fields.extend(row.eval.other_peak_mem_mb.iter().map(f64::to_string));
    }
    fields.extend(row.arch.ops.iter().map(|o| o.as_str().to_string()));
    fields
}

/// `score,latency_ms,peak_mem_mb,params,temporal_params` of one evaluation (no score: empty).
fn eval_fields(e: &Evaluation) -> [String; 5] {
    [
        e.score.map_or(String::new(), |s| s.to_string()),
        e.latency_ms.to_string(),
        e.peak_mem_mb.to_string(),
        e.params.to_string(),
        e.temporal_params.to_string(),
    ]
}

/// Columns of [`write_evaluations`].
pub const EVALUATION_COLUMNS: [&str; 7] = [
    "arch_id",
    "arch",
    "score",
    "latency_ms",
    "peak_mem_mb",
    "params",
    "temporal_params",
];

/// Writes evaluations of a list of architectures (`vidnas score`) to a CSV file atomically:
/// [`EVALUATION_COLUMNS`], numbers as in results.csv.
pub fn write_evaluations(
    path: &Path,
    rows: &[(&Architecture, &Evaluation)],
) -> Result<(), SearchError> {
    let text = csv_text(
        &EVALUATION_COLUMNS,
        rows.iter().map(|(arch, e)| {
            let mut fields = vec![arch.id(), arch.encode()];
            fields.extend(eval_fields(e));
            fields
        }),
    );
    Ok(vidnas_io::write_atomic(path, text.as_bytes())?)
}

/// Appends rows to `results.csv`, flushing each one.
pub struct ResultsLog {
    path: PathBuf,
    file: File,
    schema: Schema,
}

impl ResultsLog {
    /// Creates the file with its header (fails if it exists: never overwrite results).
    pub fn create(path: &Path, space: &Space, joint: &Joint) -> Result<Self, SearchError> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| SearchError::io(path, "creating", e))?;
        let mut log = ResultsLog {
            path: path.to_path_buf(),
            file,
            schema: Schema::V3,
        };
        log.write_record(&header_for(space, joint))?;
        Ok(log)
    }

    /// Opens an existing file of `schema` for appending after cutting it to `keep_bytes` (the
    /// end of its last complete line, see
    /// [`ReadResults::complete_bytes`](crate::ReadResults::complete_bytes)).
    pub fn reopen(path: &Path, keep_bytes: u64, schema: Schema) -> Result<Self, SearchError> {
        let file = OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| SearchError::io(path, "opening for append", e))?;
        file.set_len(keep_bytes)
            .map_err(|e| SearchError::io(path, "dropping the torn last line of", e))?;
        let mut log = ResultsLog {
            path: path.to_path_buf(),
            file,
            schema,
        };
        use std::io::Seek;
        log.file
            .seek(std::io::SeekFrom::End(0))
            .map_err(|e| SearchError::io(path, "seeking in", e))?;
        Ok(log)
    }

    /// Writes one row scored by the evaluator (supernet or predictor-only) and flushes it.
    pub fn append(&mut self, row: &ResultRow) -> Result<(), SearchError> {
        self.write_record(&record(row, self.schema, Source::Evaluator))
    }

    /// Writes one row whose score is the surrogate's prediction and flushes it.
    pub fn append_surrogate(&mut self, row: &ResultRow) -> Result<(), SearchError> {
        if self.schema == Schema::V1 {
            return Err(SearchError::io(
                &self.path,
                "marking surrogate scores in",
                std::io::Error::other(
                    "this results.csv predates the score_source column; run --surrogate in a new run folder",
                ),
            ));
        }
        self.write_record(&record(row, self.schema, Source::Surrogate))
    }

    fn write_record(&mut self, fields: &[String]) -> Result<(), SearchError> {
        let mut line = csv_line(fields);
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.flush())
            .map_err(|e| SearchError::io(&self.path, "appending to", e))
    }
}

/// Writes rows to a CSV file atomically, optionally with one more column at the end (its name
/// and one value per row: `is_pareto` of results_with_front.csv, `measured_latency_ms` of
/// front.csv).
pub fn write_rows(
    path: &Path,
    space: &Space,
    joint: &Joint,
    rows: &[&ResultRow],
    extra: Option<(&str, &[String])>,
    reranked: bool,
) -> Result<(), SearchError> {
    let source = if reranked {
        Source::Rerank
    } else {
        Source::Evaluator
    };
    let mut head = header_for(space, joint);
    if let Some((name, _)) = extra {
        head.push(name.into());
    }
    let head: Vec<&str> = head.iter().map(String::as_str).collect();
    let text = csv_text(
        &head,
        rows.iter().enumerate().map(|(i, row)| {
            let mut fields = record(row, Schema::V3, source);
            if let Some((_, values)) = extra {
                fields.push(values[i].clone());
            }
            fields
        }),
    );
    Ok(vidnas_io::write_atomic(path, text.as_bytes())?)
}
