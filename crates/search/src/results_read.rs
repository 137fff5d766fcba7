//! Reading `results.csv` back (resume, merge, derived outputs): the header names its schema and
//! joint columns, and every row is checked (ids, slots, numbers, sources) and refused with its
//! line and the fix when it is not one a search wrote.

use crate::error::SearchError;
use crate::evaluator::Evaluation;
use crate::joint::Joint;
use crate::results::{schema_header, ResultRow, Schema, Source, FIXED_COLUMNS, SCHEMA1_COLUMNS};
use std::collections::HashMap;
use std::path::Path;
use vidnas_space::Space;

/// What [`read_results`] found.
#[derive(Debug)]
pub struct ReadResults {
    /// Rows scored by the evaluator (supernet or predictor-only): the run's evaluations.
    pub rows: Vec<ResultRow>,
    /// Rows scored by the surrogate (`search --surrogate`), in file order.
    pub surrogate: Vec<ResultRow>,
    pub schema: Schema,
    /// Bytes up to the end of the last complete line; append after cutting the file here.
    pub complete_bytes: u64,
    /// The file ended in a partial line (a run killed mid-write), which was dropped.
    pub torn_last_line: bool,
    /// The file line of each row (1-based; the header is line 1), for errors about a row.
    pub lines: Vec<u64>,
}

/// Reads a results file written for `space`, tolerating (and dropping) a torn last line.
pub fn read_results(path: &Path, space: &Space) -> Result<ReadResults, SearchError> {
    let bytes = std::fs::read(path).map_err(|e| SearchError::io(path, "reading", e))?;
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let torn = complete < bytes.len();
    let parsed = parse_rows(path, &bytes[..complete], space, false)?;
    Ok(ReadResults {
        rows: parsed.rows,
        surrogate: parsed.surrogate,
        schema: parsed.schema,
        lines: parsed.lines,
        complete_bytes: complete as u64,
        torn_last_line: torn,
    })
}

/// Parsed rows: the evaluator's rows with their `is_pareto` values (all false without that
/// column) and file lines, the surrogate's rows, and the file's schema.
pub(crate) struct ParsedRows {
    pub rows: Vec<ResultRow>,
    #[allow(dead_code)] // read by no caller today: results_with_front.csv is only written
    pub pareto: Vec<bool>,
    pub lines: Vec<u64>,
    pub surrogate: Vec<ResultRow>,
    pub schema: Schema,
}

/// Parses results rows; with `with_pareto` the file must end in an `is_pareto` column, whose
/// values are returned alongside. An architecture may have one evaluator row (a second would
/// silently replace the first on resume) and one surrogate row per generation.
pub(crate) fn parse_rows(
    path: &Path,
    bytes: &[u8],
    space: &Space,
    with_pareto: bool,
) -> Result<ParsedRows, SearchError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes);
    let found: Vec<String> = reader
        .headers()
        .map_err(|e| header_error(path, format!("cannot read it: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    // A joint search's device and dtype columns follow the fixed ones of schema 3.
    let joint = Joint::from_columns(&found[Schema::V3.fixed().min(found.len())..]);
    let expected_of = |schema| {
        let columns = if schema == Schema::V3 {
            joint.columns()
        } else {
            Vec::new()
        };
        let mut h = schema_header(space, schema, &columns);
        if with_pareto {
            h.push("is_pareto".into());
        }
        h
    };
    let schema = if found == expected_of(Schema::V1) {
        Schema::V1
    } else if found == expected_of(Schema::V2) {
        Schema::V2
    } else {
        check_header(path, &found, &expected_of(Schema::V3), space)?;
        Schema::V3
    };
    let mut rows = Vec::new();
    let mut pareto = Vec::new();
    let mut lines = Vec::new();
    let mut surrogate = Vec::new();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut first_predicted: HashMap<(usize, String), u64> = HashMap::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| SearchError::Row {
            path: path.to_path_buf(),
            line: e.position().map_or(0, |p| p.line()),
            message: format!("malformed CSV: {e}"),
            fix: "delete the broken line (its architecture is scored again on resume)".into(),
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        let (row, is_pareto, source) =
            parse_row(path, line, &rec, space, with_pareto, schema, &joint)?;
        if source == Source::Surrogate {
            let key = (row.generation, row.arch_id.clone());
            if let Some(first) = first_predicted.insert(key, line) {
                return Err(SearchError::Row {
                    path: path.to_path_buf(),
                    line,
                    message: format!(
                        "column `arch_id`: `{}` already has a surrogate row for generation {} on line {first}",
                        row.arch_id, row.generation
                    ),
                    fix: "delete one of the two lines".into(),
                });
            }
            surrogate.push(row);
            continue;
        }
        if let Some(first) = first_line.insert(row.arch_id.clone(), line) {
            return Err(SearchError::Row {
                path: path.to_path_buf(),
                line,
                message: format!(
                    "column `arch_id`: `{}` is already recorded on line {first}",
                    row.arch_id
                ),
                fix: "delete one of the two lines (a deleted architecture is scored again on \
                      resume)"
                    .into(),
            });
        }
        rows.push(row);
        pareto.push(is_pareto);
        lines.push(line);
    }
    Ok(ParsedRows {
        rows,
        pareto,
        lines,
        surrogate,
        schema,
    })
}

fn header_error(path: &Path, message: String) -> SearchError {
    SearchError::Header {
        path: path.to_path_buf(),
        message,
        fix: "use the search-space file this run was started with, or start a new run folder"
            .into(),
    }
}

fn check_header(
    path: &Path,
    found: &[String],
    expected: &[String],
    space: &Space,
) -> Result<(), SearchError> {
    if found == expected {
        return Ok(());
    }
    if let Some(i) = (0..found.len().min(expected.len())).find(|&i| found[i] != expected[i]) {
        return Err(header_error(
            path,
            format!(
                "column {} is `{}` but space `{}` expects `{}`",
                i + 1,
                found[i],
                space.name(),
                expected[i]
            ),
        ));
    }
    Err(header_error(
        path,
        format!(
            "it has {} columns but space `{}` ({} slots) expects {}",
            found.len(),
            space.name(),
            space.num_slots(),
            expected.len()
        ),
    ))
}

fn parse_row(
    path: &Path,
    line: u64,
    rec: &csv::StringRecord,
    space: &Space,
    with_pareto: bool,
    schema: Schema,
    joint: &Joint,
) -> Result<(ResultRow, bool, Source), SearchError> {
    let bad = |column: &str, message: String| SearchError::Row {
        path: path.to_path_buf(),
        line,
        message: format!("column `{column}`: {message}"),
        fix: "fix or delete the line (a deleted architecture is scored again on resume)".into(),
    };
    let get = |i: usize| rec.get(i).unwrap_or("");
    // Every number a search writes is finite and, but for the score, ≥ 0 (see
    // `Evaluation::check`); anything else was edited in and would change the run.
    let num = |i: usize| -> Result<f64, SearchError> {
        let v = get(i).parse::<f64>().map_err(|e| {
            bad(
                FIXED_COLUMNS[i],
                format!("`{}` is not a number ({e})", get(i)),
            )
        })?;
        let non_negative = i != 3;
        if !v.is_finite() || (non_negative && v < 0.0) {
            let range = if non_negative {
                "finite and >= 0"
            } else {
                "finite"
            };
            return Err(bad(
                FIXED_COLUMNS[i],
                format!("`{}` is not a valid value: it must be {range}", get(i)),
            ));
        }
        Ok(v)
    };
    let int = |i: usize| -> Result<u64, SearchError> {
        get(i).parse::<u64>().map_err(|e| {
            bad(
                FIXED_COLUMNS[i],
                format!("`{}` is not a whole number ({e})", get(i)),
            )
        })
    };
    let boolean = |i: usize, name: &str| -> Result<bool, SearchError> {
        get(i)
            .parse::<bool>()
            .map_err(|_| bad(name, format!("`{}` is not true or false", get(i))))
    };
    let arch = space
        .parse_arch(get(1))
        .map_err(|e| bad("arch", e.to_string()))?;
    if arch.id() != get(0) {
        return Err(bad(
            "arch_id",
            format!("`{}` is not the id of `{arch}` ({})", get(0), arch.id()),
        ));
    }
    let (other_devices, other_memories) = match schema {
        Schema::V3 => (joint.other_devices(), joint.other_memories()),
        Schema::V1 | Schema::V2 => (0, 0),
    };
    let first_slot = schema.fixed() + other_devices + other_memories;
    for (k, (slot, op)) in space.slots.iter().zip(&arch.ops).enumerate() {
        let cell = get(first_slot + k);
        if cell != op.as_str() {
            return Err(bad(
                &slot.name,
                format!("`{cell}` disagrees with the arch column's `{op}`"),
            ));
        }
    }
    let score = match get(3) {
        "" => None,
        _ => Some(num(3)?),
    };
    let extra = |k: usize, what: String| -> Result<f64, SearchError> {
        let i = schema.fixed() + k;
        match get(i).parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
            _ => Err(bad(
                &what,
                format!("`{}` is not a finite number >= 0", get(i)),
            )),
        }
    };
    let other_latency_ms = (0..other_devices)
        .map(|d| extra(d, format!("latency_ms of device {}", d + 2)))
        .collect::<Result<Vec<f64>, SearchError>>()?;
    let other_peak_mem_mb = (0..other_memories)
        .map(|m| extra(other_devices + m, format!("peak_mem_mb of dtype {}", m + 2)))
        .collect::<Result<Vec<f64>, SearchError>>()?;
    let latency_interval_ms = match (schema, get(10), get(11)) {
        (Schema::V3, "", "") | (Schema::V1 | Schema::V2, _, _) => None,
        (Schema::V3, _, _) => {
            let (lo, hi) = (num(10)?, num(11)?);
            if lo > hi {
                return Err(bad(
                    "latency_lo_ms",
                    format!("{lo} is above latency_hi_ms = {hi}"),
                ));
            }
            Some((lo, hi))
        }
    };
    let row = ResultRow {
        arch_id: get(0).to_string(),
        generation: int(2)? as usize,
        eval: Evaluation {
            score,
            latency_ms: num(4)?,
            latency_interval_ms,
            other_latency_ms,
            peak_mem_mb: num(5)?,
            other_peak_mem_mb,
            params: int(6)?,
            temporal_params: int(7)?,
        },
        feasible: boolean(8, "feasible")?,
        arch,
    };
    if row.eval.temporal_params > row.eval.params {
        return Err(bad(
            "temporal_params",
            format!(
                "{} is above params = {} (params counts the whole network)",
                row.eval.temporal_params, row.eval.params
            ),
        ));
    }
    let is_pareto = if with_pareto {
        boolean(first_slot + space.num_slots(), "is_pareto")?
    } else {
        false
    };
    // A score or its absence against the run's mode is checked on resume (with the fix that
    // fits); here only what no writer produces.
    let source = match (schema, get(SCHEMA1_COLUMNS), row.eval.score) {
        (Schema::V1, _, _) | (_, "" | "supernet", _) => Source::Evaluator,
        (_, "surrogate", Some(_)) => Source::Surrogate,
        (_, "surrogate", None) => {
            return Err(bad(
                "score",
                "empty on a surrogate row; a surrogate row holds the predicted score".into(),
            ))
        }
        (_, other, _) => {
            return Err(bad(
                "score_source",
                format!("`{other}` is not a source; write `supernet`, `surrogate` or nothing"),
            ))
        }
    };
    Ok((row, is_pareto, source))
}
