//! Import of per-op measurements taken elsewhere (a phone or GPU harness) from CSV.
//!
//! The header is checked exactly: `signature,ms,count,mean_ms,std_ms`, optionally followed by
//! `bytes` and/or `delegation` (`xnnpack`, `partial` or `portable`: how a delegating runtime ran
//! the op, as an ExecuTorch bundle's manifest records it). Without a `bytes` column the bytes are computed from each signature at the
//! metadata's batch and dtype (see `cost.rs`). Device metadata is passed separately.

use crate::cost::Dtype;
use crate::error::LatencyError;
use crate::signature::Signature;
use crate::table::{DeviceInfo, Entry, LatencyTable, Statistic, MAX_ENTRY_BYTES, MAX_MS};
use std::collections::BTreeMap;
use std::path::Path;

/// The required columns, in order; `bytes` may follow.
pub const CSV_COLUMNS: [&str; 5] = ["signature", "ms", "count", "mean_ms", "std_ms"];

/// Device metadata of an imported table (what the CSV does not say).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportMeta {
    pub name: String,
    pub host: String,
    pub backend: String,
    pub dtype: Dtype,
    pub threads: usize,
    /// Clips per forward the harness ran.
    pub batch: usize,
    pub text_tokens: usize,
    /// Which statistic the `ms` column is.
    pub statistic: Statistic,
    /// When it was measured (ISO 8601).
    pub date: String,
    pub libtorch_version: Option<String>,
    /// A deployment runtime's name and version, e.g. "executorch 1.5.1".
    pub runtime_version: Option<String>,
}

/// Reads a measurements CSV into a table (not yet saved).
pub fn import_csv(path: impl AsRef<Path>, meta: &ImportMeta) -> Result<LatencyTable, LatencyError> {
    let path = path.as_ref();
    let text = std::fs::read_to_string(path).map_err(|error| LatencyError::Io {
        path: path.to_path_buf(),
        action: "read the measurements CSV",
        error,
    })?;
    import_csv_str(path, &text, meta)
}

/// Parses CSV text; `path` labels errors and the table's `source`.
pub fn import_csv_str(
    path: impl AsRef<Path>,
    text: &str,
    meta: &ImportMeta,
) -> Result<LatencyTable, LatencyError> {
    let path = path.as_ref();
    let err = |line: u64, column: Option<&str>, message: String| LatencyError::Csv {
        path: path.to_path_buf(),
        line,
        column: column.map(str::to_string),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let expected = format!(
        "{} (optionally followed by `,bytes` and/or `,delegation`)",
        CSV_COLUMNS.join(",")
    );
    let header = match records.next() {
        None => {
            return Err(err(
                1,
                None,
                format!("the file is empty; the first line must be `{expected}`"),
            ))
        }
        Some(r) => r.map_err(|e| err(1, None, e.to_string()))?,
    };
    let fields: Vec<&str> = header.iter().collect();
    let optional: Vec<&str> = fields.iter().skip(5).copied().collect();
    let optional_ok = matches!(
        optional.as_slice(),
        [] | ["bytes"] | ["delegation"] | ["bytes", "delegation"]
    );
    let has_bytes = optional.first() == Some(&"bytes");
    let delegation_column = optional
        .iter()
        .position(|c| *c == "delegation")
        .map(|i| i + 5);
    if fields[..fields.len().min(5)] != CSV_COLUMNS[..] || !optional_ok {
        let missing: Vec<String> = CSV_COLUMNS
            .iter()
            .filter(|c| !fields.contains(c))
            .map(|c| format!("`{c}`"))
            .collect();
        let missing = match missing.is_empty() {
            true => String::new(),
            false => format!(" (missing {})", missing.join(", ")),
        };
        return Err(err(
            1,
            None,
            format!(
                "header is `{}`{missing}; it must be exactly `{expected}`",
                fields.join(",")
            ),
        ));
    }
    let width = fields.len();

    let mut entries: BTreeMap<String, (u64, Entry)> = BTreeMap::new();
    for record in records {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            err(line, None, e.to_string())
        })?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        if record.len() != width {
            return Err(err(
                line,
                None,
                format!(
                    "has {} fields but the header has {width}; give every row `{}`",
                    record.len(),
                    fields.join(",")
                ),
            ));
        }
        let sig_text = &record[0];
        let sig: Signature = sig_text
            .parse()
            .map_err(|e: LatencyError| err(line, Some("signature"), e.to_string()))?;
        let float = |i: usize| -> Result<f64, LatencyError> {
            let column = CSV_COLUMNS[i];
            let value = &record[i];
            match value.parse::<f64>() {
                // `1e999` parses as inf; `MAX_MS` keeps every sum over an architecture finite.
                Ok(v) if v.is_finite() && (0.0..=MAX_MS).contains(&v) => Ok(v),
                Ok(_) => Err(err(
                    line,
                    Some(column),
                    format!(
                        "`{value}` is not a finite non-negative number of milliseconds up to \
                         {MAX_MS} (an op slower than ~2.8 hours is a corrupt value); fix the \
                         value or measure the op again"
                    ),
                )),
                Err(_) => Err(err(
                    line,
                    Some(column),
                    format!("`{value}` is not a number"),
                )),
            }
        };
        // Checked against `max` as parsed, so no count past it reaches any arithmetic.
        let integer = |column: &str, value: &str, max: u64, fix: &str| {
            let digits = !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
            match value.parse::<u64>() {
                Ok(v) if v <= max => Ok(v),
                _ if digits => Err(err(
                    line,
                    Some(column),
                    format!("`{value}` is too large; the largest is {max}; {fix}"),
                )),
                _ => Err(err(
                    line,
                    Some(column),
                    format!("`{value}` is not a non-negative integer; {fix}"),
                )),
            }
        };
        let count = integer(
            "count",
            &record[2],
            u64::MAX,
            "fix the value (the number of timed repeats)",
        )?;
        if count == 0 {
            return Err(err(line, Some("count"), "no timed repeats (0)".into()));
        }
        let entry = Entry {
            ms: float(1)?,
            count,
            mean_ms: float(3)?,
            std_ms: float(4)?,
            bytes: if has_bytes {
                integer(
                    "bytes",
                    &record[5],
                    MAX_ENTRY_BYTES,
                    "fix the value (bytes of the op's weights and activations, at most 1 PiB), \
                     or leave the column out to compute it from the signature",
                )?
            } else {
                let batch = meta.batch as u64;
                match sig.checked_bytes(batch, meta.dtype) {
                    Some(b) if b <= MAX_ENTRY_BYTES => b,
                    computed => {
                        let size = computed.map_or("more than 2^64".into(), |b| b.to_string());
                        return Err(err(
                            line,
                            Some("signature"),
                            format!(
                                "the op's weights and activations at batch {batch} in {} come to \
                                 {size} bytes, above the largest a table holds ({MAX_ENTRY_BYTES}, \
                                 1 PiB); fix the signature's sizes",
                                meta.dtype
                            ),
                        ));
                    }
                }
            },
            delegation: match delegation_column {
                None => None,
                Some(i) => Some(
                    serde_json::from_value(serde_json::Value::String(record[i].to_string()))
                        .map_err(|_| {
                            err(
                                line,
                                Some("delegation"),
                                format!("`{}` is not xnnpack, partial or portable", &record[i]),
                            )
                        })?,
                ),
            },
        };
        // Key by the canonical form (parsing only accepts canonical text, so they agree).
        let key = sig.to_string();
        if let Some((first, _)) = entries.get(&key) {
            return Err(err(
                line,
                Some("signature"),
                format!(
                    "`{key}` is already given on line {first}; keep one measurement per signature"
                ),
            ));
        }
        entries.insert(key, (line, entry));
    }

    if entries.is_empty() {
        return Err(err(
            2,
            None,
            "no measurements after the header; add one row per signature (`vidnas latency \
             signatures SPACE` lists them)"
                .into(),
        ));
    }
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |f| f.to_string_lossy().into_owned(),
    );
    let mut table = LatencyTable::new(DeviceInfo {
        name: meta.name.clone(),
        host: meta.host.clone(),
        backend: meta.backend.clone(),
        dtype: meta.dtype,
        threads: meta.threads,
        batch: meta.batch,
        text_tokens: meta.text_tokens,
        libtorch_version: meta.libtorch_version.clone(),
        runtime_version: meta.runtime_version.clone(),
        date: meta.date.clone(),
        statistic: meta.statistic,
        repeats: usize::try_from(entries.values().map(|(_, e)| e.count).max().unwrap_or(0))
            .unwrap_or(usize::MAX),
        warmup: 0,
        source: format!("imported from {file_name}"),
    });
    table.entries = entries.into_iter().map(|(k, (_, e))| (k, e)).collect();
    Ok(table)
}
