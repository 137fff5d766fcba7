use std::path::PathBuf;

/// Every error names the file, the field (or architecture slot) and what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SpaceError {
    #[error(
        "{}: cannot read the search-space file: {source}; fix: check the path (the shipped \
         spaces are in search-spaces/)",
        path.display()
    )]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The bytes are not plain UTF-8 text (a byte-order mark, UTF-16, binary).
    #[error("{}: {message}; fix: {fix}", path.display())]
    Encoding {
        path: PathBuf,
        message: String,
        fix: String,
    },
    #[error("{}: {message} (at `{field}`); fix: {fix}", path.display())]
    Parse {
        path: PathBuf,
        field: String,
        message: String,
        fix: String,
    },
    #[error("{}: field `{field}`: {message}; fix: {fix}", path.display())]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
        fix: String,
    },
    /// An architecture that does not fit the space read from `space`.
    #[error("architecture `{arch}` (for the space in {}): {message}", space.display())]
    Arch {
        arch: String,
        space: PathBuf,
        message: String,
    },
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
