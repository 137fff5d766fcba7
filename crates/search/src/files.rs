//! The search's files on disk, through `vidnas_io`: atomic writes (temporary file + rename, so a
//! reader or a killed run never sees half a file), pretty JSON with a trailing newline, CSV
//! files written by the `csv` crate, and JSON read back with errors that say what to do.

use crate::error::SearchError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// Pretty JSON with a trailing newline, written atomically.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), SearchError> {
    let mut text = serde_json::to_string_pretty(value).expect("search records always serialise");
    text.push('\n');
    Ok(vidnas_io::write_atomic(path, text.as_bytes())?)
}

/// CSV text: `header`, then one line per record, `\n` line ends, fields quoted only where
/// needed.
pub(crate) fn csv_text<R, F>(header: &[&str], records: impl IntoIterator<Item = R>) -> String
where
    R: IntoIterator<Item = F>,
    F: AsRef<[u8]>,
{
    let mut w = csv_writer();
    w.write_record(header).expect("writing to memory");
    for r in records {
        w.write_record(r).expect("writing to memory");
    }
    csv_finish(w)
}

/// One CSV line (no line end) of `fields`.
pub(crate) fn csv_line(fields: &[String]) -> String {
    let mut w = csv_writer();
    w.write_record(fields).expect("writing to memory");
    let mut s = csv_finish(w);
    s.pop();
    s
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new())
}

fn csv_finish(w: csv::Writer<Vec<u8>>) -> String {
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("fields are UTF-8")
}

/// Reads a JSON file of a run folder; errors name the file (and field, line and column).
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T, SearchError> {
    if !path.exists() {
        return Err(SearchError::Json {
            path: path.to_path_buf(),
            message: "not found".into(),
            fix: format!(
                "name a search run folder (one `vidnas search --out` wrote: it holds {what} and \
                 results.csv)"
            ),
        });
    }
    vidnas_io::read_json(path).map_err(|e| SearchError::Json {
        path: e.path,
        message: format!("not a valid {what}: {}", e.message),
        fix: "this file is written by `vidnas search`; restore it or start a new run folder"
            .to_string(),
    })
}

/// A number per `arch_id` from a CSV of a run folder whose header must be `columns` (column 0
/// `arch_id`, column `value` the number, which `accept` must take; `wanted` says what it must
/// be, e.g. "a positive number"). A missing file is an empty map; a bad one is refused naming
/// the line, the column and `fix`.
pub(crate) fn read_values_by_id(
    path: &Path,
    columns: &[&str],
    value: usize,
    accept: fn(f64) -> bool,
    wanted: &str,
    fix: &str,
) -> Result<HashMap<String, f64>, SearchError> {
    if !path.exists() {
        return Ok(HashMap::new());
    }
    let bad = |line: u64, message: String| SearchError::Row {
        path: path.to_path_buf(),
        line,
        message,
        fix: fix.into(),
    };
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| SearchError::io(path, "reading", std::io::Error::other(e)))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| bad(1, format!("cannot read the header: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    if header != columns {
        return Err(bad(
            1,
            format!(
                "the header is `{}`, not `{}`",
                header.join(","),
                columns.join(",")
            ),
        ));
    }
    let mut values = HashMap::new();
    for rec in reader.records() {
        let rec = rec.map_err(|e| bad(0, format!("malformed CSV: {e}")))?;
        let line = rec.position().map_or(0, |p| p.line());
        let text = rec.get(value).unwrap_or("");
        match text.parse::<f64>() {
            Ok(v) if accept(v) => {
                values.insert(rec.get(0).unwrap_or("").to_string(), v);
            }
            _ => {
                return Err(bad(
                    line,
                    format!("column `{}`: `{text}` is not {wanted}", columns[value]),
                ))
            }
        }
    }
    Ok(values)
}

pub(crate) fn create_dir(dir: &Path) -> Result<(), SearchError> {
    std::fs::create_dir_all(dir).map_err(|e| SearchError::io(dir, "creating the folder", e))
}
