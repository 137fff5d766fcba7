use std::path::PathBuf;

/// Every error names the file, the field (or architecture slot) and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SpaceError {
    #[error("{}: cannot read the search-space file: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message} (at `{field}`)", path.display())]
    Parse {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error("{}: field `{field}`: {message}; fix: {fix}", path.display())]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
        fix: String,
    },
    #[error("architecture `{arch}`: {message}")]
    Arch { arch: String, message: String },
}

impl SpaceError {
    pub(crate) fn invalid(
        path: &std::path::Path,
        field: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        SpaceError::Invalid {
            path: path.to_path_buf(),
            field: field.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }
}
