use std::path::{Path, PathBuf};

/// Everything evaluation can fail on; file errors name the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A setting that cannot work, with the flag or field to change.
    #[error("{0}")]
    Config(String),
    /// A file that could not be read, written or understood.
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error(transparent)]
    Torch(#[from] tch::TchError),
    #[error(transparent)]
    Train(#[from] vidnas_supernet::TrainError),
    #[error(transparent)]
    Weights(#[from] vidnas_nn::WeightsError),
    #[error(transparent)]
    Data(#[from] vidnas_data::DataError),
    #[error(transparent)]
    Export(#[from] vidnas_export::ExportError),
}

impl EvalError {
    pub fn file(path: impl AsRef<Path>, message: impl std::fmt::Display) -> Self {
        EvalError::File {
            path: path.as_ref().to_path_buf(),
            message: message.to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, EvalError>;

/// Writes `bytes` to `path` through `<path>.tmp` and a rename, so an interrupted run never
/// leaves half a file under the final name.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    let tmp = path.with_file_name(name);
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| EvalError::file(path, format!("cannot write: {e}")))
}

/// Pretty JSON with a trailing newline, written atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| EvalError::file(path, format!("cannot serialise: {e}")))?;
    text.push('\n');
    atomic_write(path, text.as_bytes())
}

/// SHA-256 of a file, first 16 hex digits (provenance in output files).
pub fn sha256_16(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    let bytes =
        std::fs::read(path).map_err(|e| EvalError::file(path, format!("cannot read: {e}")))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect())
}
