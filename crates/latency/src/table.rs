//! Latency tables (`format: "vidnas-latency-table/1"`): device metadata and one entry per op
//! signature. Tables match spaces by signature, not by name, so one table serves every space
//! whose ops it has measured.

use crate::correction::Correction;
use crate::cost::Dtype;
use crate::dupkeys::{find_duplicate_key, join};
use crate::error::{show_num, LatencyError};
use crate::interval::PredictionInterval;
use crate::signature::{OpClass, Signature};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub const TABLE_FORMAT: &str = "vidnas-latency-table/1";

/// The largest time a table may hold, in ms (an entry's `ms`, `mean_ms`, `std_ms`, a
/// correction's overhead): 10^7 ms, about 2.8 hours. An op slower than that is a corrupt value,
/// not a measurement, and the bound keeps every sum over an architecture finite (f64 overflows
/// only past 1.8·10^308).
pub const MAX_MS: f64 = 1e7;

/// The largest `bytes` an entry may hold: 1 PiB. The estimate counts attention matrices as
/// materialised, so a large 3-D attention at a large batch reaches TiBs (the spaces here stay
/// under 10 GB at batch 1); past 1 PiB it is a corrupt count, and sums of such counts cannot
/// overflow.
pub const MAX_ENTRY_BYTES: u64 = 1 << 50;

/// Which statistic of the repeats an entry's `ms` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Statistic {
    Min,
    P10,
    Median,
    Mean,
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Statistic::Min => "min",
            Statistic::P10 => "p10",
            Statistic::Median => "median",
            Statistic::Mean => "mean",
        })
    }
}

/// Where and how a table was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceInfo {
    /// Device name, e.g. "iPhone 16 Pro Max" or "2-core CI runner".
    pub name: String,
    /// Host the measurement ran on (the phone's host for imported tables).
    pub host: String,
    /// "cpu", "cuda", "coreml", … (free text).
    pub backend: String,
    pub dtype: Dtype,
    pub threads: usize,
    /// Clips (videos) per forward.
    pub batch: usize,
    /// Text tokens of the cross-attention (also in every `xformer` signature).
    pub text_tokens: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub libtorch_version: Option<String>,
    /// The deployment runtime and its version when it is not libtorch, e.g. "executorch 1.5.1".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime_version: Option<String>,
    /// When it was measured (ISO 8601).
    pub date: String,
    /// Which statistic `ms` is.
    pub statistic: Statistic,
    /// Timed repeats per signature.
    pub repeats: usize,
    /// Untimed warm-up runs per signature.
    pub warmup: usize,
    /// "vidnas latency profile", "imported from X.csv", …
    pub source: String,
}

/// How a deployment runtime ran an op (ExecuTorch: what its XNNPACK partitioner delegated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Delegation {
    /// Every compute op ran in the delegate.
    Xnnpack,
    /// Some ops fell back to the runtime's portable kernels.
    Partial,
    /// None was delegated: portable kernels only.
    Portable,
}

impl Delegation {
    pub fn as_str(self) -> &'static str {
        match self {
            Delegation::Xnnpack => "xnnpack",
            Delegation::Partial => "partial",
            Delegation::Portable => "portable",
        }
    }
}

/// One measured signature.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// The statistic `device.statistic` names, in milliseconds.
    pub ms: f64,
    /// Timed repeats.
    pub count: u64,
    pub mean_ms: f64,
    pub std_ms: f64,
    /// Weights + activations of the op at this shape and batch, in the table's dtype.
    pub bytes: u64,
    /// Tables of a delegating runtime: whether the delegate ran the op or it fell back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation: Option<Delegation>,
}

/// A latency table as stored on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatencyTable {
    /// Must equal [`TABLE_FORMAT`].
    pub format: String,
    pub device: DeviceInfo,
    /// Keyed by signature (see `SIGNATURES.md`).
    pub entries: BTreeMap<String, Entry>,
    /// Fitted on whole-network measurements; applied by the predictor when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<Correction>,
    /// Spread of measured / predicted on held-out networks (`latency validate
    /// --write-correction`): every prediction's interval. Absent: predictions carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<PredictionInterval>,
    /// Where the table was read from or last saved to (for error messages).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

impl LatencyTable {
    /// An empty table for `device`.
    pub fn new(device: DeviceInfo) -> Self {
        Self {
            format: TABLE_FORMAT.to_string(),
            device,
            entries: BTreeMap::new(),
            correction: None,
            interval: None,
            path: None,
        }
    }

    /// How errors name this table: its path, or `<in-memory latency table>`.
    pub fn label(&self) -> String {
        match &self.path {
            Some(p) => p.display().to_string(),
            None => "<in-memory latency table>".to_string(),
        }
    }

    /// Reads and checks a table file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, LatencyError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|error| LatencyError::Io {
            path: path.to_path_buf(),
            action: "read the latency table",
            error,
        })?;
        Self::from_json(path, &text)
    }

    /// Parses and checks JSON text; `path` labels errors.
    pub fn from_json(path: impl AsRef<Path>, text: &str) -> Result<Self, LatencyError> {
        let path = path.as_ref();
        if text.starts_with('\u{feff}') {
            return Err(LatencyError::TableParse {
                path: path.to_path_buf(),
                field: "line 1".into(),
                message: "the file starts with a byte-order mark, which JSON does not allow".into(),
                fix: "save it as UTF-8 without a byte-order mark".into(),
            });
        }
        // Before the typed parse, which would keep the later of two repeated keys.
        if let Some(d) = find_duplicate_key(text) {
            return Err(LatencyError::TableInvalid {
                path: path.to_path_buf(),
                field: d.field(),
                message: format!(
                    "the key `{}` is given twice, on lines {} and {} (JSON keeps only the later)",
                    d.key, d.lines.0, d.lines.1
                ),
                fix: "keep one of the two (re-measure the entry if unsure which is right)".into(),
            });
        }
        let de = &mut serde_json::Deserializer::from_str(text);
        let mut table: LatencyTable = serde_path_to_error::deserialize(de).map_err(|e| {
            // Named as the other table errors name fields: `entries."conv1d|c=8|…".ms`.
            // (Catch-alls on other crates' enums are allowed here: their new variants must not
            // break the build.)
            #[allow(clippy::wildcard_enum_match_arm)]
            let field = e
                .path()
                .iter()
                .fold(String::new(), |path, segment| match segment {
                    serde_path_to_error::Segment::Seq { index } => format!("{path}[{index}]"),
                    serde_path_to_error::Segment::Map { key } => join(&path, key),
                    other => join(&path, &other.to_string()),
                });
            let field = if field.is_empty() { ".".into() } else { field };
            let inner = e.into_inner();
            #[allow(clippy::wildcard_enum_match_arm)]
            let fix = match inner.classify() {
                serde_json::error::Category::Eof => {
                    "the file ends early (cut off while being written?): restore it or measure \
                     the table again"
                }
                serde_json::error::Category::Syntax => {
                    "fix the JSON there; every number must be finite (JSON has no NaN or \
                     Infinity): measure the entry again or delete it"
                }
                _ => {
                    "fix the value there (the format is described in \
                     crates/latency/SIGNATURES.md), or measure the entry again with `vidnas \
                     latency profile`"
                }
            };
            LatencyError::TableParse {
                path: path.to_path_buf(),
                field,
                message: inner.to_string(),
                fix: fix.into(),
            }
        })?;
        table.path = Some(path.to_path_buf());
        table.check(path)?;
        Ok(table)
    }

    fn check(&self, path: &Path) -> Result<(), LatencyError> {
        let invalid = |field: String, message: String, fix: &str| LatencyError::TableInvalid {
            path: path.to_path_buf(),
            field,
            message,
            fix: fix.to_string(),
        };
        if self.format != TABLE_FORMAT {
            return Err(invalid(
                "format".into(),
                format!("unsupported format version `{}`", self.format),
                &format!("set \"format\": \"{TABLE_FORMAT}\" (the only version this build reads)"),
            ));
        }
        for (field, value) in [
            ("device.batch", self.device.batch),
            ("device.text_tokens", self.device.text_tokens),
        ] {
            if value == 0 {
                return Err(invalid(
                    field.into(),
                    "must be positive, got 0".into(),
                    "record the value the table was measured with",
                ));
            }
        }
        // `check_values` of a table never saved labels it `<in-memory latency table>`.
        let out = match self.path.is_none() && path == Path::new(&self.label()) {
            true => "TABLE".to_string(),
            false => path.display().to_string(),
        };
        let remeasure = format!(
            "re-measure the entry: delete it and run `vidnas latency profile SPACE --out {out}` \
             (or re-import it with `vidnas latency import`), or fix the value"
        );
        for (sig, e) in &self.entries {
            let field = |name: &str| format!("entries.\"{sig}\"{name}");
            if let Err(err) = sig.parse::<Signature>() {
                return Err(invalid(
                    field(""),
                    err.to_string(),
                    "delete the entry and re-profile (`vidnas latency profile`) or re-import it",
                ));
            }
            for (name, value) in [("ms", e.ms), ("mean_ms", e.mean_ms), ("std_ms", e.std_ms)] {
                if !(value.is_finite() && (0.0..=MAX_MS).contains(&value)) {
                    return Err(invalid(
                        field(&format!(".{name}")),
                        format!(
                            "{} is out of range; the valid range is 0 <= {name} <= {MAX_MS} \
                             (milliseconds; an op slower than ~2.8 hours is a corrupt value)",
                            show_num(value)
                        ),
                        &remeasure,
                    ));
                }
            }
            if e.bytes > MAX_ENTRY_BYTES {
                return Err(invalid(
                    field(".bytes"),
                    format!(
                        "{} is out of range; the valid range is 0 <= bytes <= {MAX_ENTRY_BYTES} \
                         (1 PiB)",
                        e.bytes
                    ),
                    &remeasure,
                ));
            }
            if e.count == 0 {
                return Err(invalid(
                    field(".count"),
                    "no timed repeats".into(),
                    &remeasure,
                ));
            }
        }
        if let Some(c) = &self.correction {
            if let Some(kind) = c.scales.keys().find(|k| OpClass::from_name(k).is_none()) {
                return Err(invalid(
                    format!("correction.scales.{kind}"),
                    format!("unknown op kind `{kind}`"),
                    "refit the correction with `vidnas latency validate`, or remove the key",
                ));
            }
            if let Err((field, message)) = c.check() {
                return Err(invalid(
                    format!("correction.{field}"),
                    message,
                    "refit it with `vidnas latency validate --write-correction`, or delete the \
                     `correction` field to predict with plain sums",
                ));
            }
        }
        if let Some(i) = &self.interval {
            if let Err((field, message)) = i.check() {
                return Err(invalid(
                    format!("interval.{field}"),
                    message,
                    "validate the table again with `vidnas latency validate --write-correction`, \
                     or delete the `interval` field",
                ));
            }
        }
        Ok(())
    }

    /// Checks the values as [`LatencyTable::load`] does, for a table built or changed in
    /// memory; errors name [`LatencyTable::label`].
    pub fn check_values(&self) -> Result<(), LatencyError> {
        self.check(Path::new(&self.label()))
    }

    /// Writes the table as pretty JSON, atomically (`vidnas_io::write_atomic`), and records
    /// `path` as the table's path.
    pub fn save(&mut self, path: impl AsRef<Path>) -> Result<(), LatencyError> {
        let path = path.as_ref();
        // Never write a table that `load` would refuse.
        self.check(path)?;
        let mut text = serde_json::to_string_pretty(self).expect("a table always serialises");
        text.push('\n');
        vidnas_io::write_atomic(path, text.as_bytes())?;
        self.path = Some(path.to_path_buf());
        Ok(())
    }

    /// The `ms` of a signature.
    pub fn ms(&self, signature: &str) -> Option<f64> {
        self.entries.get(signature).map(|e| e.ms)
    }

    /// Adds or replaces the entry of `signature`.
    pub fn insert(&mut self, signature: &Signature, entry: Entry) {
        self.entries.insert(signature.to_string(), entry);
    }

    /// The signatures of `wanted` that have no entry yet, in the order given.
    pub fn pending<'a>(&self, wanted: impl IntoIterator<Item = &'a String>) -> Vec<String> {
        wanted
            .into_iter()
            .filter(|s| !self.entries.contains_key(*s))
            .cloned()
            .collect()
    }

    /// Refuses a table measured under other conditions than (`dtype`, `batch`, `text_tokens`).
    pub fn check_conditions(
        &self,
        dtype: Dtype,
        batch: usize,
        text_tokens: usize,
    ) -> Result<(), LatencyError> {
        let d = &self.device;
        let mismatch = |field: &str, table_value: String, requested: String, fix: &str| {
            Err(LatencyError::Mismatch {
                table: self.label(),
                field: field.into(),
                table_value,
                requested,
                fix: fix.into(),
            })
        };
        if d.dtype != dtype {
            return mismatch(
                "device.dtype",
                format!("`{}`", d.dtype),
                format!("`{dtype}`"),
                &format!("use a table profiled in {dtype}, or request {}", d.dtype),
            );
        }
        if d.batch != batch {
            return mismatch(
                "device.batch",
                d.batch.to_string(),
                format!("batch {batch}"),
                &format!(
                    "use a table profiled at batch {batch}, or request batch {}",
                    d.batch
                ),
            );
        }
        if d.text_tokens != text_tokens {
            return mismatch(
                "device.text_tokens",
                d.text_tokens.to_string(),
                format!("{text_tokens} text tokens"),
                &format!(
                    "use a table profiled with {text_tokens} text tokens, or request {}",
                    d.text_tokens
                ),
            );
        }
        Ok(())
    }

    /// Adds `other`'s entries that this table lacks (entries already here are kept), for
    /// resumable profiling; returns how many were added. Both must describe the same device
    /// and conditions (name, backend, dtype, threads, batch, text tokens, statistic).
    pub fn merge(&mut self, other: &LatencyTable) -> Result<usize, LatencyError> {
        let (a, b) = (&self.device, &other.device);
        let fields: [(&str, String, String); 7] = [
            ("device.name", a.name.clone(), b.name.clone()),
            ("device.backend", a.backend.clone(), b.backend.clone()),
            ("device.dtype", a.dtype.to_string(), b.dtype.to_string()),
            (
                "device.threads",
                a.threads.to_string(),
                b.threads.to_string(),
            ),
            ("device.batch", a.batch.to_string(), b.batch.to_string()),
            (
                "device.text_tokens",
                a.text_tokens.to_string(),
                b.text_tokens.to_string(),
            ),
            (
                "device.statistic",
                a.statistic.to_string(),
                b.statistic.to_string(),
            ),
        ];
        if let Some((field, mine, theirs)) = fields.into_iter().find(|(_, x, y)| x != y) {
            return Err(LatencyError::Mismatch {
                table: self.label(),
                field: field.into(),
                table_value: format!("`{mine}`"),
                requested: format!("`{theirs}` (in {})", other.label()),
                fix: "merge only tables measured on the same device under the same conditions; \
                      write the new measurements to another table"
                    .into(),
            });
        }
        let mut added = 0;
        for (sig, entry) in &other.entries {
            if !self.entries.contains_key(sig) {
                self.entries.insert(sig.clone(), *entry);
                added += 1;
            }
        }
        Ok(added)
    }
}
