//! Small file helpers: atomic writes (temporary file + rename, so a reader or a killed run never
//! sees half a file) and JSON read/write with errors that name the file.

use crate::error::SearchError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` through `<path>.tmp` and a rename.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), SearchError> {
    let tmp = tmp_path(path);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| SearchError::io(path, "writing", e))
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Pretty JSON with a trailing newline, written atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), SearchError> {
    let mut text = serde_json::to_string_pretty(value).expect("search records always serialise");
    text.push('\n');
    atomic_write(path, text.as_bytes())
}

/// Reads a JSON file; parse errors name the file, line and column.
pub fn read_json<T: DeserializeOwned>(path: &Path, what: &str) -> Result<T, SearchError> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => SearchError::Json {
            path: path.to_path_buf(),
            message: "not found".into(),
            fix: format!(
                "name a search run folder (one `vidnas search --out` wrote: it holds {what} and \
                 results.csv)"
            ),
        },
        _ => SearchError::io(path, "reading", e),
    })?;
    serde_json::from_str(&text).map_err(|e| SearchError::Json {
        path: path.to_path_buf(),
        message: format!("not a valid {what}: {e}"),
        fix: "this file is written by `vidnas search`; restore it or start a new run folder"
            .to_string(),
    })
}

pub(crate) fn create_dir(dir: &Path) -> Result<(), SearchError> {
    std::fs::create_dir_all(dir).map_err(|e| SearchError::io(dir, "creating the folder", e))
}
