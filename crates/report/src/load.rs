//! Reading a search run folder: run.json and summary.json (the search crate's types),
//! results_with_front.csv (parsed here, without the search space: slot columns are whatever the
//! header names between `feasible` and `is_pareto`), progress.csv and the optional
//! breakdown.json, remeasure.csv and rerank.csv.

use crate::breakdown::{check_breakdown, Breakdown};
use crate::error::ReportError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use vidnas_search::{Joint, ProgressPoint, RunSettings, Summary, FIXED_COLUMNS};

/// One row of results_with_front.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub arch_id: String,
    pub arch: String,
    pub generation: usize,
    pub score: Option<f64>,
    pub latency_ms: f64,
    /// A joint search's latency on each device after the first (`latency_ms@NAME` columns).
    pub other_latency_ms: Vec<f64>,
    pub peak_mem_mb: f64,
    /// Peak memory in each dtype after the first of a joint search over tables of several
    /// dtypes (`peak_mem_mb@DTYPE` columns).
    pub other_peak_mem_mb: Vec<f64>,
    pub params: u64,
    pub temporal_params: u64,
    pub feasible: bool,
    pub is_pareto: bool,
    /// One op name per slot, in [`RunData::slots`] order.
    pub ops: Vec<String>,
}

/// Everything the report draws.
#[derive(Debug, Clone)]
pub struct RunData {
    pub run_dir: PathBuf,
    pub settings: RunSettings,
    pub summary: Summary,
    /// Slot names, in execution order.
    pub slots: Vec<String>,
    pub rows: Vec<ReportRow>,
    pub progress: Vec<ProgressPoint>,
    pub breakdown: Option<Breakdown>,
    /// Latency measured on the search machine by `search --remeasure`, by arch id (empty when
    /// the run was not re-measured).
    pub measured: HashMap<String, f64>,
    /// Architectures the search re-ranked by fine-tuning (`search --rerank`, rerank.csv); their
    /// rows carry the re-ranked score.
    pub reranked: usize,
}

impl RunData {
    /// Front rows sorted by latency (then id).
    pub fn front(&self) -> Vec<&ReportRow> {
        let mut f: Vec<&ReportRow> = self.rows.iter().filter(|r| r.is_pareto).collect();
        f.sort_by(|a, b| {
            a.latency_ms
                .total_cmp(&b.latency_ms)
                .then(a.arch_id.cmp(&b.arch_id))
        });
        f
    }

    /// Latency of `row` on device `device` (0: the first table's, `latency_ms`).
    pub fn latency_on(row: &ReportRow, device: usize) -> f64 {
        match device {
            0 => row.latency_ms,
            d => row.other_latency_ms[d - 1],
        }
    }

    /// Whether the run has supernet scores (else predictor-only).
    pub fn has_score(&self) -> bool {
        self.settings.mode == vidnas_search::Mode::Score
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ReportError> {
    let text = std::fs::read_to_string(path).map_err(|e| ReportError::read(path, e))?;
    vidnas_io::parse_json(path, &text).map_err(|e| ReportError::Format {
        path: e.path,
        message: format!("cannot parse: {}", e.message),
        fix: "this file is written by `vidnas search`; re-run the search or restore the file"
            .into(),
    })
}

/// Reads a run folder (breakdown.json is optional).
pub fn load_run_folder(run_dir: &Path) -> Result<RunData, ReportError> {
    let settings: RunSettings = read_json(&run_dir.join("run.json"))?;
    let run_json = run_dir.join("run.json");
    if settings.format != vidnas_search::RUN_FORMAT {
        return Err(ReportError::Format {
            path: run_json,
            message: format!("`format` is `{}`", settings.format),
            fix: format!(
                "this build reads runs of format `{}`; re-run the search",
                vidnas_search::RUN_FORMAT
            ),
        });
    }
    let summary_json = run_dir.join("summary.json");
    let summary: Summary = read_json(&summary_json)?;
    let numbers = summary
        .reference_point
        .iter()
        .map(|v| ("reference_point", *v))
        .chain([("hypervolume", summary.hypervolume)]);
    for (field, value) in numbers {
        if !value.is_finite() {
            return Err(ReportError::Format {
                path: summary_json,
                message: format!("field `{field}` holds {value}, not a finite number"),
                fix: "re-run the search (or `vidnas search --resume`) to rewrite it".into(),
            });
        }
    }
    let (slots, mut rows) = read_rows(&run_dir.join("results_with_front.csv"))?;
    if slots.len() != settings.space.num_slots {
        return Err(ReportError::Format {
            path: run_dir.join("results_with_front.csv"),
            message: format!(
                "has {} slot columns but run.json's space has {} slots",
                slots.len(),
                settings.space.num_slots
            ),
            fix: "the folder mixes files of different runs; re-run the search".into(),
        });
    }
    let progress = read_progress(&run_dir.join("progress.csv"))?;
    let breakdown_path = run_dir.join("breakdown.json");
    let breakdown = if breakdown_path.exists() {
        let b: Breakdown = read_json(&breakdown_path)?;
        check_breakdown(&breakdown_path, &b)?;
        Some(b)
    } else {
        None
    };
    let measured = vidnas_search::read_measured(run_dir).map_err(|e| ReportError::Format {
        path: run_dir.join(vidnas_search::REMEASURE_FILE),
        message: e.to_string(),
        fix: "re-run the search with --resume --remeasure K to rewrite it".into(),
    })?;
    let reranked = vidnas_search::read_reranked(run_dir).map_err(|e| ReportError::Format {
        path: run_dir.join(vidnas_search::RERANK_FILE),
        message: e.to_string(),
        fix: "re-run the search with --resume to rewrite it".into(),
    })?;
    for r in &mut rows {
        if let Some(&score) = reranked.get(&r.arch_id) {
            r.score = Some(score);
        }
    }
    Ok(RunData {
        reranked: reranked.len(),
        run_dir: run_dir.to_path_buf(),
        settings,
        summary,
        slots,
        rows,
        progress,
        breakdown,
        measured,
    })
}

fn csv_reader(path: &Path) -> Result<csv::Reader<std::fs::File>, ReportError> {
    let file = std::fs::File::open(path).map_err(|e| ReportError::read(path, e))?;
    Ok(csv::ReaderBuilder::new().from_reader(file))
}

fn header_error(path: &Path, message: String) -> ReportError {
    ReportError::Format {
        path: path.to_path_buf(),
        message,
        fix: "this file is written by `vidnas search`; re-run the search".into(),
    }
}

/// Returns (slot names, rows).
fn read_rows(path: &Path) -> Result<(Vec<String>, Vec<ReportRow>), ReportError> {
    let mut reader = csv_reader(path)?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| header_error(path, format!("cannot read the header: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let fixed = FIXED_COLUMNS.len();
    if header.len() < fixed + 1
        || header[..fixed] != FIXED_COLUMNS
        || header.last().map(String::as_str) != Some("is_pareto")
    {
        return Err(header_error(
            path,
            format!(
                "the header `{}` is not `{},<slots>,is_pareto`",
                header.join(","),
                FIXED_COLUMNS.join(",")
            ),
        ));
    }
    // A joint search's `latency_ms@NAME`, then `peak_mem_mb@DTYPE`, columns sit between the
    // fixed ones and the slots.
    let joint = Joint::from_columns(&header[fixed..]);
    let devices = joint.other_devices();
    let first_slot = fixed + devices + joint.other_memories();
    let slots = header[first_slot..header.len() - 1].to_vec();
    let mut rows = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| ReportError::Row {
            path: path.to_path_buf(),
            line: e.position().map_or(0, |p| p.line()),
            message: format!("malformed CSV: {e}"),
            fix: "re-run the search to rewrite the derived files".into(),
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let bad = |col: &str, v: &str| ReportError::Row {
            path: path.to_path_buf(),
            line,
            message: format!("column `{col}`: cannot parse `{v}`"),
            fix: "re-run the search to rewrite the derived files".into(),
        };
        let get = |i: usize| rec.get(i).unwrap_or("");
        // NaN or infinite values would break the axes; a search never writes them.
        let f = |i: usize| match get(i).parse::<f64>() {
            Ok(v) if v.is_finite() && (i == 3 || v >= 0.0) => Ok(v),
            Ok(_) => Err(ReportError::Row {
                path: path.to_path_buf(),
                line,
                message: format!(
                    "column `{}`: `{}` is not a finite{} number",
                    header[i],
                    get(i),
                    if i == 3 { "" } else { " non-negative" }
                ),
                fix: "re-run the search to rewrite the derived files".into(),
            }),
            Err(_) => Err(bad(&header[i], get(i))),
        };
        let u = |i: usize| get(i).parse::<u64>().map_err(|_| bad(&header[i], get(i)));
        let b = |i: usize| get(i).parse::<bool>().map_err(|_| bad(&header[i], get(i)));
        rows.push(ReportRow {
            arch_id: get(0).to_string(),
            arch: get(1).to_string(),
            generation: u(2)? as usize,
            score: if get(3).is_empty() { None } else { Some(f(3)?) },
            latency_ms: f(4)?,
            other_latency_ms: (fixed..fixed + devices).map(f).collect::<Result<_, _>>()?,
            peak_mem_mb: f(5)?,
            other_peak_mem_mb: (fixed + devices..first_slot)
                .map(f)
                .collect::<Result<_, _>>()?,
            params: u(6)?,
            temporal_params: u(7)?,
            feasible: b(8)?,
            is_pareto: b(header.len() - 1)?,
            ops: (first_slot..header.len() - 1)
                .map(|i| get(i).to_string())
                .collect(),
        });
    }
    Ok((slots, rows))
}

fn read_progress(path: &Path) -> Result<Vec<ProgressPoint>, ReportError> {
    let mut reader = csv_reader(path)?;
    let expected = ["generation", "evaluations", "hypervolume", "front_size"];
    let header = reader
        .headers()
        .map_err(|e| header_error(path, format!("cannot read the header: {e}")))?
        .clone();
    if header.iter().collect::<Vec<_>>() != expected {
        return Err(header_error(
            path,
            format!(
                "the header `{}` is not `{}`",
                header.iter().collect::<Vec<_>>().join(","),
                expected.join(",")
            ),
        ));
    }
    let mut points = Vec::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| ReportError::Row {
            path: path.to_path_buf(),
            line: e.position().map_or(0, |p| p.line()),
            message: format!("malformed CSV: {e}"),
            fix: "re-run the search to rewrite progress.csv".into(),
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let parsed = (|| {
            Some(ProgressPoint {
                generation: rec.get(0)?.parse().ok()?,
                evaluations: rec.get(1)?.parse().ok()?,
                hypervolume: rec.get(2)?.parse().ok().filter(|v: &f64| v.is_finite())?,
                front_size: rec.get(3)?.parse().ok()?,
            })
        })();
        points.push(parsed.ok_or_else(|| {
            ReportError::Row {
                path: path.to_path_buf(),
                line,
                message: "expected four numbers: generation, evaluations and front_size whole, \
                      hypervolume finite"
                    .into(),
                fix: "re-run the search to rewrite progress.csv".into(),
            }
        })?);
    }
    Ok(points)
}
