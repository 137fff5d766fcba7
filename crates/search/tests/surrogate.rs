//! `search --surrogate`: surrogate rows are recorded and marked, only supernet rows reach the
//! front, a killed run resumes to the same bytes, and a warm-up too small to fit is refused
//! naming how many architectures are needed.

mod common;

use common::{bench_space, config, Flaky};
use std::path::Path;
use vidnas_search::{
    load_run, read_results, run_search, Algo, Nsga2Params, RunOptions, SearchConfig,
    SurrogateParams, SyntheticEvaluator,
};

fn surrogate(population: usize, generations: usize, warmup: usize) -> Algo {
    Algo::SurrogateNsga2 {
        nsga2: Nsga2Params {
            population,
            generations,
            ..Default::default()
        },
        surrogate: SurrogateParams {
            warmup,
            inner_population: 24,
            inner_generations: 4,
        },
    }
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    [
        "results.csv",
        "front.csv",
        "results_with_front.csv",
        "summary.json",
        "progress.csv",
        "run.json",
    ]
    .iter()
    .map(|f| (f.to_string(), std::fs::read(dir.join(f)).unwrap()))
    .collect()
}

#[test]
fn surrogate_rows_are_marked_and_never_reach_the_front() {
    let space = bench_space();
    let cfg: SearchConfig = config(surrogate(6, 3, 16), 4);
    let tmp = tempfile::tempdir().unwrap();
    let mut ev = SyntheticEvaluator::new(&space, true);
    let out = run_search(&space, &mut ev, &cfg, tmp.path(), RunOptions::default()).unwrap();
    // The supernet scored the warm-up and at most 6 per generation; the surrogate many more.
    assert_eq!(ev.evaluated.len(), out.rows.len());
    assert!(
        out.rows.len() > 16 && out.rows.len() <= 16 + 3 * 6,
        "{}",
        out.rows.len()
    );
    assert!(out.surrogate_rows > 3 * 24, "{}", out.surrogate_rows);
    assert_eq!(out.surrogate_fits.len(), 3);
    let read = read_results(&tmp.path().join("results.csv"), &space).unwrap();
    assert_eq!(read.rows.len(), out.rows.len());
    assert_eq!(read.surrogate.len(), out.surrogate_rows);
    let text = std::fs::read_to_string(tmp.path().join("results.csv")).unwrap();
    let sources = |name: &str| {
        text.lines()
            .filter(|l| l.contains(&format!(",{name},")))
            .count()
    };
    assert_eq!(sources("supernet"), out.rows.len());
    assert_eq!(sources("surrogate"), out.surrogate_rows);
    // The front holds supernet-scored architectures only, with their supernet scores.
    let supernet: std::collections::HashMap<String, f64> = ev
        .evaluated
        .iter()
        .map(|e| {
            let arch = space.parse_arch(e).unwrap();
            (arch.id(), ev.evaluate_one(&arch).score.unwrap())
        })
        .collect();
    let loaded = load_run(tmp.path(), &space).unwrap();
    assert!(!loaded.front.is_empty());
    for row in &loaded.front {
        assert_eq!(
            Some(supernet[&row.arch_id]),
            row.eval.score,
            "{}",
            row.arch_id
        );
    }
    let front_csv = std::fs::read_to_string(tmp.path().join("front.csv")).unwrap();
    assert!(!front_csv.contains("surrogate"));
}

#[test]
fn a_killed_surrogate_search_resumes_to_the_same_bytes() {
    let space = bench_space();
    let cfg = config(surrogate(6, 3, 16), 9);
    let whole = tempfile::tempdir().unwrap();
    let mut ev = SyntheticEvaluator::new(&space, true);
    run_search(&space, &mut ev, &cfg, whole.path(), RunOptions::default()).unwrap();
    let expected = files(whole.path());
    // Kill inside generation 2's supernet scoring (after its surrogate rows), and again with the
    // last line torn; both resume to the same files.
    for (fail_after, tear) in [(16 + 6 + 2, false), (16 + 6 + 2, true), (16, true)] {
        let broken = tempfile::tempdir().unwrap();
        let mut flaky = Flaky {
            inner: SyntheticEvaluator::new(&space, true),
            fail_after: Some(fail_after),
        };
        run_search(
            &space,
            &mut flaky,
            &cfg,
            broken.path(),
            RunOptions::default(),
        )
        .unwrap_err();
        if tear {
            let csv = broken.path().join("results.csv");
            let mut bytes = std::fs::read(&csv).unwrap();
            bytes.truncate(bytes.len() - 5);
            std::fs::write(&csv, &bytes).unwrap();
        }
        let mut ev = SyntheticEvaluator::new(&space, true);
        let resume = RunOptions {
            resume: true,
            progress: None,
        };
        run_search(&space, &mut ev, &cfg, broken.path(), resume).unwrap();
        for ((name, a), (_, b)) in files(broken.path()).iter().zip(&expected) {
            assert!(
                a == b,
                "{name} differs after a resume (kill after {fail_after}, torn {tear})"
            );
        }
    }
}

#[test]
fn a_warmup_too_small_to_fit_names_how_many_are_needed() {
    let space = bench_space();
    let cfg = config(surrogate(6, 2, 4), 1);
    let tmp = tempfile::tempdir().unwrap();
    let mut ev = SyntheticEvaluator::new(&space, true);
    let e = run_search(&space, &mut ev, &cfg, tmp.path(), RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("generation 1")
            && e.contains("at least 9 supernet-scored")
            && e.contains("--surrogate-warmup"),
        "{e}"
    );
}
