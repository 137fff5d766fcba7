//! File helpers every vidnas crate shares, so each exists once: write through a temporary file
//! and rename (an interruption never leaves half a file), read JSON with errors that name the
//! file and the field, hash inputs for provenance, and check safetensors files with errors that
//! say what is wrong with the file. Pure Rust: no libtorch.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};

mod os_error;
mod progress;
pub use progress::progress_bar;
mod tensor_file;
pub use os_error::os_fix;
pub use tensor_file::{
    first_non_finite, is_torch_save, safetensors_header, safetensors_views, SAFETENSORS_FIX,
};
mod recorded_path;
pub use recorded_path::{
    folder_record, recorded_folder, resolve_in_run, resolve_recorded, working_dir_record, Recorded,
};

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

/// Writes `path` through its [`temp_path`]: `write` makes the temporary file (by its path, for
/// writers that open files themselves), which is then flushed to disk and renamed over `path`,
/// so an interruption never leaves half a file under the final name. Whatever fails, the
/// temporary file is removed.
pub fn write_atomic_with<E: From<FileError>>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let tmp = temp_path(path);
    let result = write(&tmp).and_then(|()| {
        let moved = std::fs::File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(|e| {
                FileError::new(
                    path,
                    format!(
                        "cannot flush the temporary file {} to disk: {e}; check the disk",
                        tmp.display()
                    ),
                )
            })
            .and_then(|()| {
                std::fs::rename(&tmp, path).map_err(|e| {
                    FileError::new(
                        path,
                        format!(
                            "cannot move the temporary file {} over it: {e}; check that it is \
                             not a folder and that its folder is writable",
                            tmp.display()
                        ),
                    )
                })
            });
        moved.map_err(E::from)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` through a temporary file and a rename (see [`write_atomic_with`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    write_atomic_with(path, |tmp| {
        std::fs::write(tmp, bytes).map_err(|e| {
            FileError::new(
                path,
                format!(
                    "cannot write it (through the temporary file {}): {e}; check that its \
                     folder exists and is writable",
                    tmp.display()
                ),
            )
        })
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
    parse_json(path, &read_text(path)?)
}

/// Reads a UTF-8 text file; the error names the file and says what to do.
pub fn read_text(path: &Path) -> Result<String, FileError> {
    let bytes =
        std::fs::read(path).map_err(|e| FileError::new(path, format!("{e}; {}", os_fix(&e))))?;
    String::from_utf8(bytes).map_err(|e| {
        FileError::new(
            path,
            format!("is not UTF-8 text ({e}); save it as UTF-8 (without a byte-order mark)"),
        )
    })
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
    let bytes =
        std::fs::read(path).map_err(|e| FileError::new(path, format!("{e}; {}", os_fix(&e))))?;
    Ok(sha256_hex(&bytes, 16))
}

/// SHA-256 of `bytes`, its first `digits` hex digits (rounded down to even; at most 64): the
/// short content hashes of spaces, architectures and files.
pub fn sha256_hex(bytes: &[u8], digits: usize) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .take(digits / 2)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The median of `xs`: the upper of the two middle values when their number is even
/// (`sorted[n / 2]`, always one of the samples, in `f64::total_cmp` order); NaN when `xs` is
/// empty.
pub fn median(xs: &[f64]) -> f64 {
    let mut sorted = xs.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Kendall's τ-b: `(C − D) / √((n0 − n1)(n0 − n2))` with C, D the concordant and discordant
/// pairs, `n0 = n(n−1)/2`, `n1`, `n2` the pairs tied in predicted and in measured. NaN for
/// fewer than two pairs or when either side is constant. O(n²).
pub fn kendall_tau_b(pairs: &[(f64, f64)]) -> f64 {
    let n = pairs.len();
    let (mut concordant, mut discordant) = (0i64, 0i64);
    let (mut ties_p, mut ties_m) = (0i64, 0i64);
    for i in 0..n {
        for j in i + 1..n {
            let dp = pairs[i].0 - pairs[j].0;
            let dm = pairs[i].1 - pairs[j].1;
            if dp == 0.0 {
                ties_p += 1;
            }
            if dm == 0.0 {
                ties_m += 1;
            }
            if dp != 0.0 && dm != 0.0 {
                if (dp > 0.0) == (dm > 0.0) {
                    concordant += 1;
                } else {
                    discordant += 1;
                }
            }
        }
    }
    let n0 = (n * n.saturating_sub(1) / 2) as i64;
    let denom = (((n0 - ties_p) * (n0 - ties_m)) as f64).sqrt();
    if denom == 0.0 {
        return f64::NAN;
    }
    (concordant - discordant) as f64 / denom
}

/// The folder caches live in (the libtorch and ExecuTorch venvs, lowered programs):
/// `VIDNAS_CACHE`, else `~/.cache/vidnas`, as `scripts/env.sh` and the install scripts use it.
pub fn cache_dir() -> PathBuf {
    match std::env::var_os("VIDNAS_CACHE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/vidnas"),
    }
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

    #[test]
    fn a_failed_write_leaves_neither_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("a.json");
        let e = write_atomic(&path, b"x").unwrap_err();
        assert_eq!(e.path, path);
        assert!(e.message.contains("folder exists"), "{e}");
        let path = dir.path().join("b.bin");
        let e = write_atomic_with(&path, |tmp| {
            std::fs::write(tmp, b"half").unwrap();
            Err(FileError::new(tmp, "encoder failed"))
        })
        .unwrap_err();
        assert!(e.message.contains("encoder failed"));
        assert!(!path.exists() && !temp_path(&path).exists());
        // A folder in the way of the rename.
        std::fs::create_dir_all(path.join("x")).unwrap();
        let e = write_atomic(&path, b"x").unwrap_err();
        assert!(e.message.contains("move the temporary file"), "{e}");
        assert!(!temp_path(&path).exists());
    }

    #[test]
    fn hashes_and_medians() {
        assert_eq!(
            sha256_hex(b"abc", 16),
            "ba7816bf8f01cfea",
            "SHA-256 of `abc` starts ba7816bf8f01cfea"
        );
        assert_eq!(sha256_hex(b"abc", 10), "ba7816bf8f");
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 3.0);
        assert!(median(&[]).is_nan());
    }
}
