//! The phone bundle's converter (python/vidnas_twin/bundle/runner_to_csv.py, standard-library
//! Python) on a committed sample of `executor_runner` logs: its CSV imports as a table with the
//! runner's numbers and the manifest's delegation, and a signature without a log is named.

use std::path::{Path, PathBuf};
use std::process::Command;
use vidnas_latency::{import_csv_str, Delegation, Dtype, ImportMeta, Statistic};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A copy of the sample bundle with `ops` (indices into its manifest) kept.
fn bundle(ops: &[usize]) -> tempfile::TempDir {
    let sample = repo().join("crates/profile/tests/fixtures/executorch-bundle");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("logs")).unwrap();
    for log in std::fs::read_dir(sample.join("logs")).unwrap() {
        let log = log.unwrap().path();
        std::fs::copy(&log, dir.path().join("logs").join(log.file_name().unwrap())).unwrap();
    }
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sample.join("manifest.json")).unwrap()).unwrap();
    let all = manifest["ops"].as_array().unwrap().clone();
    manifest["ops"] = ops.iter().map(|&i| all[i].clone()).collect();
    std::fs::write(
        dir.path().join("manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .unwrap();
    dir
}

/// (exit ok, stdout, stderr) of the converter on `dir`.
fn convert(dir: &Path) -> (bool, String, String) {
    let out = Command::new("python3")
        .arg(repo().join("python/vidnas_twin/bundle/runner_to_csv.py"))
        .arg(dir)
        .output()
        .expect("python3 runs the converter (scripts/env.sh puts the venv's python3 first)");
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn meta(statistic: Statistic) -> ImportMeta {
    ImportMeta {
        name: "phone".into(),
        host: "adb".into(),
        backend: "executorch-xnnpack".into(),
        dtype: Dtype::F32,
        threads: 2,
        batch: 1,
        text_tokens: 8,
        statistic,
        date: "2026-12-06".into(),
        libtorch_version: None,
        runtime_version: Some("executorch 1.5.1".into()),
    }
}

#[test]
fn per_iteration_logs_give_the_minimum_after_warm_up() {
    let dir = bundle(&[0, 1]);
    let (ok, csv, err) = convert(dir.path());
    assert!(ok, "{err}");
    assert!(err.contains("--statistic min"), "{err}");
    let table = import_csv_str("measurements.csv", &csv, &meta(Statistic::Min)).unwrap();
    let conv = &table.entries["conv1d|c=32|k=3|groups=8|t=8|h=8|w=8"];
    // Iterations 3-5 of 5 (the manifest's 2 warm-up runs dropped).
    assert_eq!(conv.ms, 1.58742);
    assert_eq!(conv.count, 3);
    assert!((conv.mean_ms - (1.602113 + 1.58742 + 1.597844) / 3.0).abs() < 1e-12);
    assert_eq!(conv.delegation, Some(Delegation::Partial));
    let down = &table.entries["down|c=32|t=8|h=8|w=8"];
    assert_eq!(down.ms, 0.3425);
    assert_eq!(down.delegation, Some(Delegation::Xnnpack));
}

#[test]
fn a_runner_printing_only_totals_gives_the_mean_for_every_op() {
    let dir = bundle(&[0, 1, 2]);
    let (ok, csv, err) = convert(dir.path());
    assert!(ok, "{err}");
    assert!(err.contains("--statistic mean"), "{err}");
    let table = import_csv_str("measurements.csv", &csv, &meta(Statistic::Mean)).unwrap();
    assert_eq!(table.entries["up|c=32|t=8|h=8|w=8"].ms, 38.52 / 5.0);
    let conv = &table.entries["conv1d|c=32|k=3|groups=8|t=8|h=8|w=8"];
    assert_eq!(conv.ms, conv.mean_ms);
}

#[test]
fn a_signature_without_a_log_is_named_and_nothing_is_written() {
    let dir = bundle(&[0, 1]);
    std::fs::remove_file(dir.path().join("logs/0001.log")).unwrap();
    let (ok, csv, err) = convert(dir.path());
    assert!(!ok);
    assert!(csv.is_empty(), "{csv}");
    assert!(err.contains("down|c=32|t=8|h=8|w=8"), "{err}");
    assert!(err.contains("absent"), "{err}");
}
