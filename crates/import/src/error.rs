use std::path::PathBuf;
use vidnas_space::SpaceError;

/// Every error names the file, the config key (with its value) and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{}: no config.json there or in its unet/ folder; point at a diffusers UNet2DConditionModel folder (the one holding config.json and diffusion_pytorch_model.safetensors)", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: cannot read the config: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a diffusers config: {message}", path.display())]
    Json { path: PathBuf, message: String },
    /// A key whose value vidnas cannot express.
    #[error("{}: `{key}` = {value} is not supported: {reason}", path.display())]
    Unsupported {
        path: PathBuf,
        /// The config key, with an index for list items (`down_block_types[1]`).
        key: String,
        /// The offending value as compact JSON.
        value: String,
        /// Why, and what vidnas supports instead.
        reason: String,
    },
    /// The weights file beside the config is damaged or of another model.
    #[error("{}: {problem}", path.display())]
    Weights { path: PathBuf, problem: String },
    /// The imported (or given) space failed validation.
    #[error(transparent)]
    Space(#[from] SpaceError),
    /// The search-space file cannot be written.
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
}

impl From<vidnas_io::FileError> for ImportError {
    fn from(e: vidnas_io::FileError) -> Self {
        ImportError::File {
            path: e.path,
            message: e.message,
        }
    }
}

impl ImportError {
    /// The config key an [`ImportError::Unsupported`] names.
    pub fn key(&self) -> Option<&str> {
        match self {
            ImportError::Unsupported { key, .. } => Some(key),
            _ => None,
        }
    }
}
