//! `search --remeasure K`: the front's predicted latencies checked on this machine. K front
//! architectures spread over the front's latency range are timed as whole networks (the caller
//! times them; the search crate is pure Rust) and stored in the run folder's `remeasure.csv`;
//! `front.csv` then shows each one's measured latency beside the prediction
//! (`measured_latency_ms`, empty for the architectures not re-measured) and the report marks them.

use crate::error::SearchError;
use crate::files::{csv_text, read_values_by_id};
use crate::results::ResultRow;
use std::collections::HashMap;
use std::path::Path;

/// The file in a run folder.
pub const REMEASURE_FILE: &str = "remeasure.csv";

/// Columns of remeasure.csv.
pub const REMEASURE_COLUMNS: [&str; 7] = [
    "arch_id",
    "arch",
    "predicted_ms",
    "latency_lo_ms",
    "latency_hi_ms",
    "measured_ms",
    "inside_interval",
];

/// One front architecture timed on this machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Remeasured {
    pub arch_id: String,
    pub arch: String,
    /// The search's (predicted) latency.
    pub predicted_ms: f64,
    /// The prediction's interval, when the table was validated.
    pub interval_ms: Option<(f64, f64)>,
    pub measured_ms: f64,
}

impl Remeasured {
    /// Whether the measurement falls inside the prediction's interval (`None`: no interval).
    pub fn inside_interval(&self) -> Option<bool> {
        self.interval_ms
            .map(|(lo, hi)| lo <= self.measured_ms && self.measured_ms <= hi)
    }
}

/// `k` architectures of `front` spread evenly over its latency range (the fastest and the
/// slowest always among them), in order of latency; all of them when the front is smaller.
pub fn spread_over_latency(front: &[ResultRow], k: usize) -> Vec<&ResultRow> {
    let mut sorted: Vec<&ResultRow> = front.iter().collect();
    sorted.sort_by(|a, b| {
        a.eval
            .latency_ms
            .total_cmp(&b.eval.latency_ms)
            .then_with(|| a.arch_id.cmp(&b.arch_id))
    });
    if k >= sorted.len() {
        return sorted;
    }
    let n = sorted.len() - 1;
    let mut picked: Vec<usize> = (0..k)
        .map(|i| {
            if k == 1 {
                0
            } else {
                (i * n + (k - 1) / 2) / (k - 1)
            }
        })
        .collect();
    picked.dedup();
    picked.into_iter().map(|i| sorted[i]).collect()
}

/// Writes remeasure.csv into `run_dir` atomically.
pub fn write_remeasured(run_dir: &Path, rows: &[Remeasured]) -> Result<(), SearchError> {
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    let text = csv_text(
        &REMEASURE_COLUMNS,
        rows.iter().map(|r| {
            [
                r.arch_id.clone(),
                r.arch.clone(),
                r.predicted_ms.to_string(),
                opt(r.interval_ms.map(|i| i.0)),
                opt(r.interval_ms.map(|i| i.1)),
                r.measured_ms.to_string(),
                r.inside_interval().map_or(String::new(), |b| b.to_string()),
            ]
        }),
    );
    Ok(vidnas_io::write_atomic(
        &run_dir.join(REMEASURE_FILE),
        text.as_bytes(),
    )?)
}

/// Measured latency by `arch_id` from `run_dir`'s remeasure.csv; empty when there is none.
pub fn read_measured(run_dir: &Path) -> Result<HashMap<String, f64>, SearchError> {
    read_values_by_id(
        &run_dir.join(REMEASURE_FILE),
        &REMEASURE_COLUMNS,
        5,
        |v| v.is_finite() && v > 0.0,
        "a positive number",
        "delete remeasure.csv and run the search again with --resume --remeasure K",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluator::Evaluation;
    use vidnas_space::{Architecture, OpKind};

    fn row(id: &str, latency_ms: f64) -> ResultRow {
        ResultRow {
            arch_id: id.into(),
            arch: Architecture {
                ops: vec![OpKind::None],
            },
            generation: 0,
            eval: Evaluation {
                score: Some(1.0),
                latency_ms,
                latency_interval_ms: None,
                peak_mem_mb: 1.0,
                params: 1,
                temporal_params: 0,
                other_latency_ms: Vec::new(),
                other_peak_mem_mb: Vec::new(),
            },
            feasible: true,
        }
    }

    #[test]
    fn picks_spread_over_the_latency_range_ends_included() {
        let front: Vec<ResultRow> = (0..9)
            .rev()
            .map(|i| row(&format!("a{i}"), i as f64))
            .collect();
        let ids = |k| {
            spread_over_latency(&front, k)
                .iter()
                .map(|r| r.arch_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(3), ["a0", "a4", "a8"]);
        assert_eq!(ids(2), ["a0", "a8"]);
        assert_eq!(ids(5), ["a0", "a2", "a4", "a6", "a8"]);
        assert_eq!(ids(20).len(), 9);
    }

    #[test]
    fn measurements_round_trip_and_bad_files_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_measured(dir.path()).unwrap().is_empty());
        let rows = [
            Remeasured {
                arch_id: "a".into(),
                arch: "none".into(),
                predicted_ms: 10.0,
                interval_ms: Some((9.0, 12.0)),
                measured_ms: 12.5,
            },
            Remeasured {
                arch_id: "b".into(),
                arch: "conv1d".into(),
                predicted_ms: 20.0,
                interval_ms: None,
                measured_ms: 19.25,
            },
        ];
        assert_eq!(rows[0].inside_interval(), Some(false));
        write_remeasured(dir.path(), &rows).unwrap();
        let text = std::fs::read_to_string(dir.path().join(REMEASURE_FILE)).unwrap();
        assert_eq!(
            text,
            "arch_id,arch,predicted_ms,latency_lo_ms,latency_hi_ms,measured_ms,inside_interval\n\
             a,none,10,9,12,12.5,false\nb,conv1d,20,,,19.25,\n"
        );
        let m = read_measured(dir.path()).unwrap();
        assert_eq!((m["a"], m["b"]), (12.5, 19.25));
        std::fs::write(
            dir.path().join(REMEASURE_FILE),
            text.replace("19.25", "fast"),
        )
        .unwrap();
        let msg = read_measured(dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains("line 3") && msg.contains("`fast`") && msg.contains("--remeasure"),
            "{msg}"
        );
    }
}
