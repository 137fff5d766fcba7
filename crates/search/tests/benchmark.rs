//! Search quality: NSGA-II against the exhaustive front on a 31,999-architecture space.

mod common;

use common::bench_space;
use vidnas_search::{
    benchmark_vs_exhaustive, exhaustive_front, insert_non_dominated, non_dominated, objectives,
    run_search, Algo, Budgets, Evaluator, Mode, Nsga2Params, RunOptions, SearchConfig,
    SyntheticEvaluator,
};

#[test]
fn nsga2_recovers_99_percent_of_the_exhaustive_hypervolume_with_5_percent_of_evaluations() {
    let space = bench_space();
    assert_eq!(space.count_u128(), Some(31_999));
    let tmp = tempfile::tempdir().unwrap();
    let mut ev = SyntheticEvaluator::new(&space, true);
    let params = Nsga2Params {
        population: 32,
        generations: 48,
        ..Default::default()
    };
    let r = benchmark_vs_exhaustive(&space, &mut ev, &params, &[1], Budgets::none(), tmp.path())
        .unwrap();
    eprintln!("{r:?}");
    assert_eq!(r.exhaustive.evaluations, 31_999);
    let [nsga2, random] = &r.searches[..] else {
        panic!("one seed: NSGA-II and random search")
    };
    assert_eq!((nsga2.algo, random.algo), ("nsga2", "random"));
    assert_eq!(random.evaluations, nsga2.evaluations);
    assert!(
        nsga2.evaluations as f64 <= 0.05 * r.exhaustive.evaluations as f64,
        "{} evaluations",
        nsga2.evaluations
    );
    assert!(
        nsga2.hv_ratio >= 0.99,
        "NSGA-II reached {:.4} of the exhaustive HV",
        nsga2.hv_ratio
    );
    assert!(nsga2.hypervolume <= r.exhaustive.hypervolume * (1.0 + 1e-12));
    assert!(random.hv_ratio < nsga2.hv_ratio);
}

/// The in-memory front is the front of a real exhaustive run, feasible rows only, without
/// repeated points.
#[test]
fn the_in_memory_front_is_the_exhaustive_runs_feasible_front() {
    let space = common::small_space();
    let mut ev = SyntheticEvaluator::new(&space, false);
    // A latency budget at the median, so it binds.
    let all: Vec<_> = space.enumerate().collect();
    let mut latencies: Vec<f64> = ev
        .evaluate(&all)
        .unwrap()
        .iter()
        .map(|e| e.latency_ms)
        .collect();
    latencies.sort_by(f64::total_cmp);
    let budgets = Budgets {
        latency_ms: Some(latencies[latencies.len() / 2]),
        memory_mb: None,
        other_latency_ms: [None; 2],
        other_memory_mb: [None; 2],
    };
    let front = exhaustive_front(&space, &mut ev, &budgets).unwrap();
    assert_eq!(front.mode, Mode::PredictorOnly);
    assert_eq!(front.evaluations as u128, space.count_u128().unwrap());
    let tmp = tempfile::tempdir().unwrap();
    let config = SearchConfig {
        algo: Algo::Exhaustive { batch: 64 },
        seed: 0,
        budgets,
        shard: None,
        hv_reference: None,
        table: None,
        supernet: None,
        devices: Vec::new(),
        other_tables: Vec::new(),
        memory_dtypes: Vec::new(),
    };
    let run = run_search(&space, &mut ev, &config, tmp.path(), RunOptions::default()).unwrap();
    let feasible: Vec<Vec<f64>> = run
        .rows
        .iter()
        .filter(|r| r.feasible)
        .map(|r| objectives(&r.eval, front.mode))
        .collect();
    assert!(feasible.len() < run.rows.len(), "the budget binds");
    let mut expected: Vec<Vec<f64>> = non_dominated(&feasible)
        .into_iter()
        .map(|i| feasible[i].clone())
        .collect();
    expected.sort_by(|a, b| a.partial_cmp(b).unwrap());
    expected.dedup();
    let mut got = front.front.clone();
    got.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(got, expected);
    // The reference lies beyond the worst of every objective over the whole space.
    for (k, r) in front.reference.iter().enumerate() {
        assert!(run
            .rows
            .iter()
            .all(|row| objectives(&row.eval, front.mode)[k] < *r));
    }
}

#[test]
fn inserting_keeps_distinct_non_dominated_points() {
    let mut front = Vec::new();
    for p in [
        [2.0, 2.0],
        [1.0, 3.0],
        [2.0, 2.0],
        [3.0, 3.0],
        [1.0, 1.0],
        [0.0, 5.0],
    ] {
        insert_non_dominated(&mut front, p.to_vec());
    }
    assert_eq!(front, vec![vec![1.0, 1.0], vec![0.0, 5.0]]);
}
