//! File helpers every vidnas crate shares, so each exists once: write through a temporary file
//! and rename (an interruption never leaves half a file), read JSON with errors that name the
//! file and the field, and hash inputs for provenance. Pure Rust: no libtorch.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A file problem: the path, and what is wrong with it and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileError {
    pub path: PathBuf,
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

impl std::error::Error for FileError {}

impl FileError {
    pub fn new(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        Self {
            path: path.into(),
            message: message.to_string(),
        }
    }
}

/// `path` with `.tmp` appended (`run.json` → `run.json.tmp`), beside it on the same disk so the
/// rename is atomic.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    let tmp = temp_path(path);
    std::fs::write(&tmp, bytes).map_err(|e| FileError::new(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        FileError::new(path, e)
    })
}

/// Writes `value` as pretty JSON to `path`, atomically.
pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), FileError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| FileError::new(path, format!("cannot serialise: {e}")))?;
    write_atomic(path, text.as_bytes())
}

/// Parses JSON `text` read from `path`; the error names the field (`train.batch_size`), the
/// line and column, and says what to do about a byte-order mark or a truncated file.
pub fn parse_json<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, FileError> {
    if text.starts_with('\u{feff}') {
        return Err(FileError::new(
            path,
            "starts with a UTF-8 byte-order mark (BOM); save the file as UTF-8 without a BOM",
        ));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let at = if field.is_empty() || field == "." {
            String::new()
        } else {
            format!("field `{field}`: ")
        };
        json_error(path, &at, e.into_inner())
    })?;
    de.end().map_err(|e| json_error(path, "", e))?;
    Ok(value)
}

fn json_error(path: &Path, at: &str, inner: serde_json::Error) -> FileError {
    let hint = if inner.is_eof() {
        "the file ends early (truncated?); restore it or rerun the command that wrote it"
    } else if inner.is_syntax() {
        "it is not valid JSON; fix the syntax at that position"
    } else {
        "fix that field's value (see the documentation of the format)"
    };
    FileError::new(path, format!("{at}{inner}; {hint}"))
}

/// Reads and parses a JSON file (see [`parse_json`]).
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T, FileError> {
    let bytes = std::fs::read(path).map_err(|e| FileError::new(path, e))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        FileError::new(
            path,
            format!("is not UTF-8 text ({e}); save it as UTF-8 JSON"),
        )
    })?;
    parse_json(path, &text)
}

/// A file an output was made from, for provenance: where it was and what it held.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, first 16 hex digits.
    pub sha256: String,
}

impl FileRef {
    /// Hashes `path` now.
    pub fn of(path: &Path) -> Result<Self, FileError> {
        Ok(Self {
            path: path.to_path_buf(),
            sha256: sha256_16(path)?,
        })
    }
}

impl std::fmt::Display for FileRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.path.display(), self.sha256)
    }
}

/// SHA-256 of a file's bytes, the first 16 hex digits (provenance fields).
pub fn sha256_16(path: &Path) -> Result<String, FileError> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).map_err(|e| FileError::new(path, e))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Train {
        batch_size: usize,
    }

    #[derive(Debug, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Run {
        train: Train,
    }

    fn err(text: &str) -> String {
        parse_json::<Run>(Path::new("run.json"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn errors_name_the_file_the_field_and_the_fix() {
        let e = err(r#"{"train": {"batch_size": -1}}"#);
        assert!(e.starts_with("run.json: field `train.batch_size`"), "{e}");
        let e = err(r#"{"train": {"batch_size": 2}"#);
        assert!(e.contains("truncated"), "{e}");
        let e = err("\u{feff}{}");
        assert!(e.contains("byte-order mark"), "{e}");
        let e = err(r#"{"train": {"batch_size": 2}} x"#);
        assert!(e.contains("not valid JSON"), "{e}");
        assert_eq!(
            parse_json::<Run>(Path::new("r"), r#"{"train": {"batch_size": 2}}"#).unwrap(),
            Run {
                train: Train { batch_size: 2 }
            }
        );
    }

    #[test]
    fn atomic_writes_leave_no_temporary_file_and_hash_is_stable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        write_json(&path, &serde_json::json!({"x": 1})).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\n  \"x\": 1\n}");
        assert!(!temp_path(&path).exists());
        assert_eq!(sha256_16(&path).unwrap().len(), 16);
        assert_eq!(sha256_16(&path).unwrap(), sha256_16(&path).unwrap());
    }
}
