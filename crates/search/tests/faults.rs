//! Bad inputs to a run are refused naming the file, line and column (or the setting), and a run
//! that fails before recording anything leaves nothing behind.

mod common;

use common::{config, nsga2, small_space, Flaky};
use std::path::Path;
use vidnas_search::{
    check_run_folder, merge, run_search, Algo, Budgets, RunOptions, SearchConfig, SearchError,
    Shard, SyntheticEvaluator,
};
use vidnas_space::Space;

fn run(space: &Space, cfg: &SearchConfig, dir: &Path, resume: bool) -> Result<usize, SearchError> {
    let mut ev = SyntheticEvaluator::new(space, true);
    let options = RunOptions {
        resume,
        progress: None,
    };
    run_search(space, &mut ev, cfg, dir, options).map(|o| o.scored_now)
}

/// A finished run in `dir` and the text of its results.csv.
fn finished(space: &Space, dir: &Path) -> String {
    run(space, &config(nsga2(6, 2), 1), dir, false).unwrap();
    std::fs::read_to_string(dir.join("results.csv")).unwrap()
}

/// Replaces field `column` (0-based) of line `line` (1-based) of a CSV text.
fn edit(text: &str, line: usize, column: usize, value: &str) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut fields: Vec<&str> = lines[line - 1].split(',').collect();
    fields[column] = value;
    lines[line - 1] = fields.join(",");
    lines.join("\n") + "\n"
}

#[test]
fn non_finite_or_negative_numbers_are_refused_on_resume() {
    let space = small_space();
    let cfg = config(nsga2(6, 2), 1);
    for (column, name, value) in [
        (3, "score", "NaN"),
        (4, "latency_ms", "inf"),
        (5, "peak_mem_mb", "-1"),
        (7, "temporal_params", "999999999999"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let text = finished(&space, dir.path());
        let csv = dir.path().join("results.csv");
        std::fs::write(&csv, edit(&text, 4, column, value)).unwrap();
        let msg = run(&space, &cfg, dir.path(), true).unwrap_err().to_string();
        assert!(
            msg.contains("results.csv: line 4: column `") && msg.contains(name),
            "{name}: {msg}"
        );
        assert!(
            msg.contains("fix or delete the line"),
            "{name}: no fix: {msg}"
        );
    }
}

#[test]
fn a_repeated_row_names_both_lines() {
    let space = small_space();
    let dir = tempfile::tempdir().unwrap();
    let text = finished(&space, dir.path());
    let third = text.lines().nth(2).unwrap();
    std::fs::write(dir.path().join("results.csv"), format!("{text}{third}\n")).unwrap();
    let msg = run(&space, &config(nsga2(6, 2), 1), dir.path(), true)
        .unwrap_err()
        .to_string();
    let last = text.lines().count() + 1;
    assert!(
        msg.contains(&format!("line {last}: column `arch_id`"))
            && msg.contains("already recorded on line 3"),
        "{msg}"
    );
}

#[test]
fn rows_of_the_other_mode_are_refused_on_resume() {
    let space = small_space();
    let dir = tempfile::tempdir().unwrap();
    let text = finished(&space, dir.path());
    std::fs::write(dir.path().join("results.csv"), edit(&text, 2, 3, "")).unwrap();
    let msg = run(&space, &config(nsga2(6, 2), 1), dir.path(), true)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("line 2: column `score`: empty, but this run scores"),
        "{msg}"
    );
    // A source no writer produces.
    std::fs::write(dir.path().join("results.csv"), edit(&text, 2, 9, "oracle")).unwrap();
    let msg = run(&space, &config(nsga2(6, 2), 1), dir.path(), true)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("line 2: column `score_source`: `oracle` is not a source"),
        "{msg}"
    );
}

#[test]
fn a_run_that_fails_before_its_first_row_leaves_nothing() {
    let space = small_space();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("new/run");
    let mut flaky = Flaky {
        inner: SyntheticEvaluator::new(&space, true),
        fail_after: Some(0),
    };
    let cfg = config(nsga2(6, 2), 1);
    let err = run_search(&space, &mut flaky, &cfg, &dir, RunOptions::default()).unwrap_err();
    assert!(err.to_string().contains("simulated crash"), "{err}");
    assert!(!root.path().join("new").exists(), "created folders remain");
    // In a folder that existed, only the run's files go.
    std::fs::write(root.path().join("notes.txt"), "mine").unwrap();
    run_search(&space, &mut flaky, &cfg, root.path(), RunOptions::default()).unwrap_err();
    let left: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["notes.txt"]);
}

#[test]
fn a_folder_holding_a_run_that_never_started_is_reused() {
    let space = small_space();
    let dir = tempfile::tempdir().unwrap();
    // As an older build left it: settings and a header, no rows; the settings were wrong.
    let wrong = config(nsga2(6, 2), 1);
    run(&space, &wrong, dir.path(), false).unwrap();
    let text = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
    let header = text.lines().next().unwrap();
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let f = f.unwrap().path();
        if f.file_name().unwrap() != "run.json" {
            std::fs::remove_file(f).unwrap();
        }
    }
    std::fs::write(dir.path().join("results.csv"), format!("{header}\n")).unwrap();
    check_run_folder(dir.path(), false).unwrap();
    let right = SearchConfig {
        seed: 9,
        ..config(nsga2(6, 2), 1)
    };
    assert!(run(&space, &right, dir.path(), false).unwrap() > 0);
    // A run with rows is not reused.
    let err = check_run_folder(dir.path(), false).unwrap_err();
    assert!(matches!(err, SearchError::AlreadyStarted { .. }), "{err}");
    let err = check_run_folder(&dir.path().join("none"), true).unwrap_err();
    assert!(matches!(err, SearchError::NothingToResume { .. }), "{err}");
}

#[test]
fn settings_errors_name_the_flag_to_change() {
    let space = small_space();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let cases = [
        (config(nsga2(1, 2), 1), "--population"),
        (config(nsga2(6, 0), 1), "--generations"),
        (
            SearchConfig {
                hv_reference: Some(vec![1.0, 2.0]),
                ..config(nsga2(6, 2), 1)
            },
            "--hv-ref",
        ),
        (
            SearchConfig {
                shard: Some(Shard { index: 4, count: 4 }),
                ..config(Algo::Exhaustive { batch: 8 }, 1)
            },
            "--shard",
        ),
        (
            SearchConfig {
                budgets: Budgets {
                    latency_ms: Some(-5.0),
                    ..Budgets::none()
                },
                ..config(nsga2(6, 2), 1)
            },
            "--latency-budget-ms",
        ),
    ];
    for (cfg, flag) in cases {
        let msg = run(&space, &cfg, &out, false).unwrap_err().to_string();
        assert!(msg.contains(&format!("`{flag}`")), "{flag}: {msg}");
        assert!(!out.exists(), "{flag}: the run folder was created");
    }
}

#[test]
fn merge_refuses_missing_shards_and_its_own_input_without_writing() {
    let space = small_space();
    let root = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    for i in 0..3 {
        let dir = root.path().join(format!("shard{i}"));
        let cfg = SearchConfig {
            shard: Some(Shard { index: i, count: 3 }),
            ..config(Algo::Exhaustive { batch: 64 }, 1)
        };
        run(&space, &cfg, &dir, false).unwrap();
        dirs.push(dir);
    }
    let out = root.path().join("merged");
    let msg = merge(&space, &dirs[..2], &out).unwrap_err().to_string();
    assert!(msg.contains("shard(s) 2/3 are not given"), "{msg}");
    assert!(!out.exists());
    let msg = merge(&space, &dirs, &dirs[1]).unwrap_err().to_string();
    assert!(msg.contains("--out is the shard folder"), "{msg}");
    merge(&space, &dirs, &out).unwrap();
    let again = merge(&space, &dirs, &out).unwrap_err();
    assert!(
        matches!(again, SearchError::AlreadyStarted { .. }),
        "{again}"
    );
}
