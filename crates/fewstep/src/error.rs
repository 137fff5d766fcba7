use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum FewStepError {
    #[error("{0}")]
    Config(String),
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error("{what} became {value} at distillation step {step}; the last good checkpoint (step {last_good}) is kept in {}. Lower --lr-g/--lr-d or --adv-weight and rerun with --resume", dir.display())]
    NonFinite {
        step: usize,
        what: &'static str,
        value: f64,
        last_good: usize,
        dir: PathBuf,
    },
    #[error(transparent)]
    Train(#[from] vidnas_diffusion::TrainError),
    #[error(transparent)]
    Export(#[from] vidnas_export::ExportError),
    #[error(transparent)]
    Data(#[from] vidnas_data::DataError),
    #[error(transparent)]
    Weights(#[from] vidnas_nn::WeightsError),
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

impl From<vidnas_io::FileError> for FewStepError {
    fn from(e: vidnas_io::FileError) -> Self {
        FewStepError::File {
            path: e.path,
            message: e.message,
        }
    }
}

impl FewStepError {
    pub fn file(path: impl Into<PathBuf>, message: impl std::fmt::Display) -> Self {
        FewStepError::File {
            path: path.into(),
            message: message.to_string(),
        }
    }
}
