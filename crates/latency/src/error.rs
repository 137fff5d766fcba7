use std::path::PathBuf;
use vidnas_space::SpaceError;

/// Every user-facing error names the file (and line, column or field) and what to do.
#[derive(Debug, thiserror::Error)]
pub enum LatencyError {
    /// Writing a file through `vidnas_io` (its message names the file and the fix).
    #[error(transparent)]
    File(#[from] vidnas_io::FileError),
    #[error("{}: cannot {action}: {error}", path.display())]
    Io {
        path: PathBuf,
        /// What was attempted, e.g. "read the latency table".
        action: &'static str,
        /// Printed in the message, not chained as a source (so it is not shown twice).
        error: std::io::Error,
    },
    /// The table file is not valid JSON of the table format.
    #[error("{}: {message} (at `{field}`); fix: {fix}", path.display())]
    TableParse {
        path: PathBuf,
        field: String,
        message: String,
        fix: String,
    },
    /// The table parsed but a field holds an unusable value.
    #[error("{}: field `{field}`: {message}; fix: {fix}", path.display())]
    TableInvalid {
        path: PathBuf,
        field: String,
        message: String,
        fix: String,
    },
    /// A measurements CSV has a bad header, cell or row.
    #[error("{} line {line}: {}{message}", path.display(), column.as_ref().map(|c| format!("column `{c}`: ")).unwrap_or_default())]
    Csv {
        path: PathBuf,
        line: u64,
        column: Option<String>,
        message: String,
    },
    /// A signature string does not follow the grammar of crates/latency/SIGNATURES.md.
    #[error("signature `{signature}`: {message} (grammar: crates/latency/SIGNATURES.md)")]
    Signature { signature: String, message: String },
    /// The table lacks entries an architecture or space needs.
    #[error(
        "{table}: lacks {count} signature(s) that space `{space}` needs{hint}: {list}; \
         run `{profile}` (entries already measured are kept) or import them with \
         `vidnas latency import`",
        count = missing.len(),
        list = list_some(missing, 10),
        hint = if *none_present { " (none of its signatures are in the table: was it measured for another space? tables match spaces by signature)" } else { "" }
    )]
    MissingSignatures {
        /// The table's path (or `<in-memory latency table>`).
        table: String,
        /// The space's name.
        space: String,
        /// The suggested command: `vidnas latency profile <space file> --out <table file>`.
        profile: String,
        /// Every missing signature, in the order the network runs them (sorted for a space).
        missing: Vec<String>,
        /// True when the table holds none of the signatures needed.
        none_present: bool,
    },
    /// The table was measured under other conditions than the request asks for.
    #[error("{table}: field `{field}` is {table_value} but {requested} was requested; fix: {fix}")]
    Mismatch {
        table: String,
        field: String,
        table_value: String,
        requested: String,
        fix: String,
    },
    /// Inputs to a statistic or fit that cannot give a meaningful answer.
    #[error("{what}: {message}")]
    Data { what: String, message: String },
    #[error(transparent)]
    Space(#[from] SpaceError),
}

impl LatencyError {
    pub(crate) fn missing(
        space: &vidnas_space::Space,
        table: &crate::LatencyTable,
        missing: Vec<String>,
        none_present: bool,
    ) -> Self {
        LatencyError::MissingSignatures {
            table: table.label(),
            space: space.name().to_string(),
            profile: format!(
                "vidnas latency profile {} --out {}",
                space.path.display(),
                table
                    .path
                    .as_ref()
                    .map_or_else(|| "<table>".to_string(), |p| p.display().to_string())
            ),
            missing,
            none_present,
        }
    }
}

/// The first `n` items joined by `, `, then `… and K more`.
pub(crate) fn list_some(items: &[String], n: usize) -> String {
    let mut text = items
        .iter()
        .take(n)
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > n {
        text.push_str(&format!(" … and {} more", items.len() - n));
    }
    text
}

/// A number for a message: plain decimals (`2.5`, `-1000000`), but `1e308` rather than 309
/// digits and `1e-300` rather than 300 zeros.
pub(crate) fn show_num(v: f64) -> String {
    if v.is_finite() && v != 0.0 && !(1e-6..1e16).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}
