use std::path::PathBuf;

/// Every user-facing error names the file (and line or field where there is one) and says
/// what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Reading or writing a file through `vidnas_io` (atomic writes, JSON).
    #[error(transparent)]
    File(#[from] vidnas_io::FileError),
    #[error("{}: {action} failed: {error}; {}", path.display(), vidnas_io::os_fix(error))]
    Io {
        path: PathBuf,
        action: &'static str,
        /// Printed in the message, not chained as a source (so it is not shown twice).
        error: std::io::Error,
    },
    #[error("{}: line {line}: {message}; {fix}", path.display())]
    Row {
        path: PathBuf,
        line: u64,
        message: String,
        fix: String,
    },
    #[error("{}: the header does not match this search: {message}; {fix}", path.display())]
    Header {
        path: PathBuf,
        message: String,
        fix: String,
    },
    #[error("{}: {message}; {fix}", path.display())]
    Json {
        path: PathBuf,
        message: String,
        fix: String,
    },
    #[error(
        "{}: `{field}` was {recorded} when the run started but is {requested} now; \
         resume with the same {}, or start a new run folder",
        path.display(),
        crate::settings_diff::setting_flag(field)
    )]
    SettingsMismatch {
        path: PathBuf,
        field: String,
        recorded: String,
        requested: String,
    },
    #[error(
        "{}: the run folder already holds results; pass --resume to continue it, \
         or choose another output folder",
        path.display()
    )]
    AlreadyStarted { path: PathBuf },
    #[error("{}: nothing to resume (no run.json); start the run without --resume", path.display())]
    NothingToResume { path: PathBuf },
    #[error("{message}")]
    NoFeasible { message: String },
    #[error(
        "evaluating generation {generation} ({count} architectures) failed: {error}; \
         everything scored before is kept in results.csv: fix the cause and rerun with --resume"
    )]
    Evaluator {
        generation: usize,
        count: usize,
        error: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(
        "generation {generation}: {message}; raise --surrogate-warmup (or run without --surrogate)"
    )]
    Surrogate { generation: usize, message: String },
    #[error("the evaluator returned {got} results for {expected} architectures; it must return one per architecture, in order")]
    EvaluationCount { expected: usize, got: usize },
    #[error("the evaluator gave architecture `{arch}` {message}; fix the evaluator (or its latency table)")]
    InvalidEvaluation { arch: String, message: String },
    #[error("setting `{field}`: {message}; {fix}")]
    Config {
        field: String,
        message: String,
        fix: String,
    },
    #[error("{}: cannot merge: {message}; {fix}", path.display())]
    Merge {
        path: PathBuf,
        message: String,
        fix: String,
    },
    #[error("cannot select an architecture: {message}; {fix}")]
    Select { message: String, fix: String },
}

impl SearchError {
    pub(crate) fn io(path: &std::path::Path, action: &'static str, error: std::io::Error) -> Self {
        SearchError::Io {
            path: path.to_path_buf(),
            action,
            error,
        }
    }

    pub(crate) fn config(
        field: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        SearchError::Config {
            field: field.into(),
            message: message.into(),
            fix: fix.into(),
        }
    }
}
