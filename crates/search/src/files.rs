//! The search's files on disk, through `vidnas_io`: atomic writes (temporary file + rename, so a
//! reader or a killed run never sees half a file), pretty JSON with a trailing newline, CSV
//! files written by the `csv` crate, and JSON read back with errors that say what to do.

use crate::error::SearchError;
use serde::de::DeserializeOwned;
use serde::Serialize;
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

pub(crate) fn create_dir(dir: &Path) -> Result<(), SearchError> {
    std::fs::create_dir_all(dir).map_err(|e| SearchError::io(dir, "creating the folder", e))
}
