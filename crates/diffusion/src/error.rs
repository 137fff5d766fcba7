use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Weights(#[from] vidnas_nn::WeightsError),
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error("loss became {loss} at step {step}; the last good checkpoint (step {last_good}) is kept in {}. Lower --lr or raise --grad-clip and resume", dir.display())]
    NonFinite {
        step: usize,
        loss: f64,
        last_good: usize,
        dir: PathBuf,
    },
    #[error(transparent)]
    Torch(#[from] tch::TchError),
    #[error(transparent)]
    Data(#[from] vidnas_data::DataError),
}

impl From<vidnas_io::FileError> for TrainError {
    fn from(e: vidnas_io::FileError) -> Self {
        TrainError::File {
            path: e.path,
            message: e.message,
        }
    }
}

impl TrainError {
    pub fn file(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        TrainError::File {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
