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
    Train(#[from] vidnas_diffusion::TrainError),
    #[error(transparent)]
    Weights(#[from] vidnas_nn::WeightsError),
    #[error(transparent)]
    Data(#[from] vidnas_data::DataError),
    #[error(transparent)]
    Export(#[from] vidnas_export::ExportError),
}

impl From<vidnas_io::FileError> for EvalError {
    fn from(e: vidnas_io::FileError) -> Self {
        EvalError::File {
            path: e.path,
            message: e.message,
        }
    }
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
