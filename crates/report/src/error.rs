use std::path::PathBuf;

/// Every error names the file (and line or column where there is one) and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Writing a file through `vidnas_io` (its message says what to do).
    #[error(transparent)]
    File(#[from] vidnas_io::FileError),
    #[error("{}: {action} failed: {error}; {fix}", path.display())]
    Io {
        path: PathBuf,
        action: &'static str,
        /// Printed in the message, not chained as a source (so it is not shown twice).
        error: std::io::Error,
        fix: &'static str,
    },
    #[error("{}: {message}; {fix}", path.display())]
    Format {
        path: PathBuf,
        message: String,
        fix: String,
    },
    #[error("{}: line {line}: {message}; {fix}", path.display())]
    Row {
        path: PathBuf,
        line: u64,
        message: String,
        fix: String,
    },
    #[error("{}: drawing failed: {message}", path.display())]
    Draw { path: PathBuf, message: String },
}

impl ReportError {
    pub(crate) fn read(path: &std::path::Path, error: std::io::Error) -> Self {
        ReportError::Io {
            path: path.to_path_buf(),
            action: "reading",
            error,
            fix: "point the report at a search run folder (it holds run.json and results.csv)",
        }
    }

    pub(crate) fn write(path: &std::path::Path, error: std::io::Error) -> Self {
        ReportError::Io {
            path: path.to_path_buf(),
            action: "writing",
            error,
            fix: "check that the output folder is writable and the disk is not full",
        }
    }
}
