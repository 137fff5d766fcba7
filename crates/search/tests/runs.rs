//! Whole runs in temporary folders: budgets, the empty-front error, determinism, resume after a
//! crash, sharding and merge, and the run-folder checks.

mod common;

use common::{bench_space, config, nsga2, small_space, Flaky};
use std::path::Path;
use vidnas_search::{
    load_run, merge, read_results, run_search, select, Algo, Budgets, EvolutionParams, RunOptions,
    SearchConfig, SearchError, Selector, Shard, SyntheticEvaluator,
};
use vidnas_space::Space;

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

fn run(space: &Space, cfg: &SearchConfig, dir: &Path) -> vidnas_search::SearchOutcome {
    let mut ev = SyntheticEvaluator::new(space, true);
    run_search(space, &mut ev, cfg, dir, RunOptions::default()).unwrap()
}

#[test]
fn run_folder_holds_every_file() {
    let space = small_space();
    let tmp = tempfile::tempdir().unwrap();
    let out = run(&space, &config(nsga2(8, 3), 1), tmp.path());
    for f in [
        "run.json",
        "results.csv",
        "front.csv",
        "results_with_front.csv",
        "summary.json",
        "progress.csv",
    ] {
        assert!(tmp.path().join(f).is_file(), "{f} missing");
    }
    assert_eq!(out.summary.hypervolume_per_generation.len(), 4);
    let hv: Vec<f64> = out
        .summary
        .hypervolume_per_generation
        .iter()
        .map(|p| p.hypervolume)
        .collect();
    assert!(
        hv.windows(2).all(|w| w[1] >= w[0]),
        "HV is cumulative: {hv:?}"
    );
    assert!(out.rows.len() <= 8 * 4);
    // Every architecture scored once.
    let mut ids: Vec<&str> = out.rows.iter().map(|r| r.arch_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), out.rows.len());
    let header = read(tmp.path(), "results.csv");
    assert!(header.starts_with(
        "arch_id,arch,generation,score,latency_ms,peak_mem_mb,params,temporal_params,feasible,\
         score_source,latency_lo_ms,latency_hi_ms,down.0.block.0,down.1.block.0,mid.block.0,up.0.block.1,up.1.block.1\n"
    ));
    let with_front = read(tmp.path(), "results_with_front.csv");
    assert!(with_front.lines().next().unwrap().ends_with(",is_pareto"));
    let knee = out.summary.knee.as_ref().unwrap();
    assert!(out.front.iter().any(|r| r.arch_id == knee.arch_id));
    let loaded = load_run(tmp.path(), &space).unwrap();
    assert_eq!(loaded.front, out.front);
    assert_eq!(
        select(&loaded.front, &Selector::Knee).unwrap().arch_id,
        knee.arch_id
    );
}

#[test]
fn reported_front_never_violates_the_budgets() {
    let space = bench_space();
    let ev = SyntheticEvaluator::new(&space, true);
    let mut lat: Vec<f64> = space
        .enumerate()
        .map(|a| ev.evaluate_one(&a).latency_ms)
        .collect();
    lat.sort_by(f64::total_cmp);
    let mut mem: Vec<f64> = space
        .enumerate()
        .map(|a| ev.evaluate_one(&a).peak_mem_mb)
        .collect();
    mem.sort_by(f64::total_cmp);
    let budgets = Budgets {
        latency_ms: Some(lat[lat.len() / 3]),
        memory_mb: Some(mem[mem.len() / 2]),
        other_latency_ms: [None; 2],
        other_memory_mb: [None; 2],
    };
    for algo in [
        nsga2(16, 5),
        Algo::Evolution(EvolutionParams {
            population: 16,
            generations: 5,
            ..Default::default()
        }),
        Algo::Random {
            samples: 200,
            batch: 50,
        },
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = SearchConfig {
            budgets,
            ..config(algo, 3)
        };
        let out = run(&space, &cfg, tmp.path());
        assert!(!out.front.is_empty());
        assert!(
            out.rows.iter().any(|r| !r.feasible),
            "the budgets must bind"
        );
        for r in &out.front {
            assert!(r.feasible);
            assert!(r.eval.latency_ms <= budgets.latency_ms.unwrap());
            assert!(r.eval.peak_mem_mb <= budgets.memory_mb.unwrap());
        }
        let front_csv = read(tmp.path(), "front.csv");
        assert_eq!(front_csv.lines().count(), out.front.len() + 1);
        assert!(front_csv.lines().skip(1).all(|l| l.contains(",true,")));
    }
}

#[test]
fn too_tight_a_budget_gives_a_clear_error() {
    let space = small_space();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = SearchConfig {
        budgets: Budgets {
            latency_ms: Some(3.0),
            memory_mb: None,
            ..Budgets::none()
        },
        ..config(nsga2(8, 2), 1)
    };
    let mut ev = SyntheticEvaluator::new(&space, true);
    let err = run_search(&space, &mut ev, &cfg, tmp.path(), RunOptions::default()).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, SearchError::NoFeasible { .. }), "{msg}");
    assert!(
        msg.starts_with("no architecture meets --latency-budget-ms 3.0 (fastest evaluated: 5."),
        "{msg}"
    );
    assert!(msg.ends_with("raise the budget"), "{msg}");
    // The evaluations are kept, and the derived files say what happened.
    assert!(
        read_results(&tmp.path().join("results.csv"), &space)
            .unwrap()
            .rows
            .len()
            > 8
    );
    let summary: serde_json::Value =
        serde_json::from_str(&read(tmp.path(), "summary.json")).unwrap();
    assert_eq!(summary["front_size"], 0);
}

#[test]
fn same_seed_gives_byte_identical_results() {
    let space = bench_space();
    for algo in [
        nsga2(12, 4),
        Algo::Evolution(EvolutionParams {
            population: 12,
            generations: 4,
            ..Default::default()
        }),
        Algo::Random {
            samples: 60,
            batch: 16,
        },
    ] {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        run(&space, &config(algo.clone(), 42), a.path());
        run(&space, &config(algo.clone(), 42), b.path());
        run(&space, &config(algo.clone(), 43), c.path());
        for f in ["results.csv", "front.csv", "summary.json", "progress.csv"] {
            assert_eq!(read(a.path(), f), read(b.path(), f), "{} {f}", algo.name());
        }
        assert_ne!(read(a.path(), "results.csv"), read(c.path(), "results.csv"));
    }
}

#[test]
fn resume_after_a_crash_reproduces_the_uninterrupted_run() {
    let space = bench_space();
    let cfg = config(nsga2(16, 6), 7);
    let whole = tempfile::tempdir().unwrap();
    run(&space, &cfg, whole.path());

    // Crash after 50 evaluations (inside generation 3), then tear the last line.
    let broken = tempfile::tempdir().unwrap();
    let mut flaky = Flaky {
        inner: SyntheticEvaluator::new(&space, true),
        fail_after: Some(50),
    };
    let err = run_search(
        &space,
        &mut flaky,
        &cfg,
        broken.path(),
        RunOptions::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("simulated crash"), "{err}");
    let csv_path = broken.path().join("results.csv");
    let mut bytes = std::fs::read(&csv_path).unwrap();
    bytes.truncate(bytes.len() - 7);
    std::fs::write(&csv_path, &bytes).unwrap();
    let partial = read_results(&csv_path, &space).unwrap();
    assert!(partial.torn_last_line);
    assert!(partial.rows.len() >= 16 && partial.rows.len() < 50);
    let recorded: Vec<String> = partial.rows.iter().map(|r| r.arch.encode()).collect();

    // Resuming without --resume is refused; resuming with other settings is refused.
    let mut ev = SyntheticEvaluator::new(&space, true);
    let refused = run_search(&space, &mut ev, &cfg, broken.path(), RunOptions::default());
    assert!(matches!(refused, Err(SearchError::AlreadyStarted { .. })));
    let other = config(nsga2(16, 6), 8);
    let resume = || RunOptions {
        resume: true,
        progress: None,
    };
    let msg = run_search(&space, &mut ev, &other, broken.path(), resume())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("run.json") && msg.contains("`seed` was 7") && msg.contains("is 8"),
        "{msg}"
    );
    assert!(ev.evaluated.is_empty());

    let mut events = Vec::new();
    let mut cb = |e: &vidnas_search::ProgressEvent| events.push(e.clone());
    let out = run_search(
        &space,
        &mut ev,
        &cfg,
        broken.path(),
        RunOptions {
            resume: true,
            progress: Some(&mut cb),
        },
    )
    .unwrap();
    for a in &ev.evaluated {
        assert!(!recorded.contains(a), "{a} was scored again");
    }
    assert_eq!(out.scored_now, ev.evaluated.len());
    assert_eq!(out.rows.len(), recorded.len() + ev.evaluated.len());
    assert_eq!(events.len(), 7);
    assert_eq!(events.last().unwrap().point.evaluations, out.rows.len());
    for f in [
        "front.csv",
        "results.csv",
        "results_with_front.csv",
        "summary.json",
        "progress.csv",
        "run.json",
    ] {
        assert_eq!(read(whole.path(), f), read(broken.path(), f), "{f} differs");
    }
}

#[test]
fn merged_shards_equal_the_unsharded_exhaustive_run() {
    let space = small_space();
    let algo = Algo::Exhaustive { batch: 64 };
    let whole = tempfile::tempdir().unwrap();
    let full = run(&space, &config(algo.clone(), 0), whole.path());
    assert_eq!(Some(full.rows.len() as u128), space.count_u128());
    let root = tempfile::tempdir().unwrap();
    let mut dirs = Vec::new();
    let mut total = 0;
    for i in 0..3 {
        let dir = root.path().join(format!("shard{i}"));
        let cfg = SearchConfig {
            shard: Some(Shard { index: i, count: 3 }),
            ..config(algo.clone(), 0)
        };
        total += run(&space, &cfg, &dir).rows.len();
        dirs.push(dir);
    }
    assert_eq!(total, full.rows.len());
    let merged_dir = root.path().join("merged");
    let merged = merge(&space, &dirs, &merged_dir).unwrap();
    assert_eq!(merged.rows.len(), full.rows.len());
    for f in ["front.csv", "summary.json", "progress.csv"] {
        assert_eq!(read(whole.path(), f), read(&merged_dir, f), "{f} differs");
    }
    // A shard given twice, or a shard of another seed, is refused.
    let twice = merge(
        &space,
        &[dirs[0].clone(), dirs[0].clone()],
        &root.path().join("m2"),
    );
    assert!(twice.unwrap_err().to_string().contains("given twice"));
    let other = root.path().join("other-seed");
    let cfg = SearchConfig {
        shard: Some(Shard { index: 1, count: 3 }),
        ..config(algo.clone(), 5)
    };
    run(&space, &cfg, &other);
    let msg = merge(&space, &[dirs[0].clone(), other], &root.path().join("m3"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("`seed`"), "{msg}");
}

#[test]
fn results_of_another_space_are_refused_with_the_file_named() {
    let small = small_space();
    let tmp = tempfile::tempdir().unwrap();
    run(&small, &config(nsga2(4, 1), 1), tmp.path());
    let msg = read_results(&tmp.path().join("results.csv"), &bench_space())
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("results.csv") && msg.contains("column 15"),
        "{msg}"
    );
}

#[test]
fn predictor_only_runs_rank_on_latency_memory_and_capacity() {
    let space = small_space();
    let tmp = tempfile::tempdir().unwrap();
    let mut ev = SyntheticEvaluator::new(&space, false);
    let cfg = SearchConfig {
        supernet: None,
        ..config(nsga2(10, 3), 2)
    };
    let out = run_search(&space, &mut ev, &cfg, tmp.path(), RunOptions::default()).unwrap();
    assert_eq!(
        out.summary.objectives,
        ["latency_ms", "peak_mem_mb", "neg_temporal_params"]
    );
    assert!(
        out.front.len() > 1,
        "capacity keeps the front from collapsing"
    );
    assert!(out.summary.reference_point[2] < 0.0);
    assert!(out.summary.hypervolume > 0.0);
    assert!(out.rows.iter().all(|r| r.eval.score.is_none()));
    let sel = select(&out.front, &Selector::BestUnderLatency(1e9)).unwrap();
    let most = out
        .front
        .iter()
        .map(|r| r.eval.temporal_params)
        .max()
        .unwrap();
    assert_eq!(sel.eval.temporal_params, most);
    assert!(select(&out.front, &Selector::FastestUnderScore(1.0)).is_err());
}

#[test]
fn latency_intervals_reach_the_results_and_schema_2_files_resume_as_they_are() {
    let space = small_space();
    let cfg = config(nsga2(8, 3), 3);
    // A validated table: every row carries latency × [0.9, 1.2]; the front keeps the columns.
    let dir = tempfile::tempdir().unwrap();
    let mut ev = SyntheticEvaluator::new(&space, true);
    ev.latency_interval = Some((0.9, 1.2));
    let out = run_search(&space, &mut ev, &cfg, dir.path(), RunOptions::default()).unwrap();
    let back = read_results(&dir.path().join("results.csv"), &space).unwrap();
    assert_eq!(back.rows, out.rows);
    for r in &back.rows {
        let (lo, hi) = r.eval.latency_interval_ms.expect("an interval");
        assert_eq!((lo, hi), (r.eval.latency_ms * 0.9, r.eval.latency_ms * 1.2));
    }
    let front = read(dir.path(), "front.csv");
    let head: Vec<&str> = front.lines().next().unwrap().split(',').collect();
    assert_eq!(&head[10..12], &["latency_lo_ms", "latency_hi_ms"]);
    assert!(front
        .lines()
        .skip(1)
        .all(|l| !l.split(',').nth(10).unwrap().is_empty()));

    // An unvalidated table leaves both empty.
    let plain = tempfile::tempdir().unwrap();
    let whole = run(&space, &cfg, plain.path());
    let text = read(plain.path(), "results.csv");
    assert!(text.lines().skip(1).all(|l| {
        let f: Vec<&str> = l.split(',').collect();
        f[10].is_empty() && f[11].is_empty()
    }));

    // A schema-2 file (written before the interval columns) stopped half-way resumes in its
    // own schema and finishes as the uninterrupted run did.
    let old = tempfile::tempdir().unwrap();
    let mut flaky = Flaky {
        inner: SyntheticEvaluator::new(&space, true),
        fail_after: Some(12),
    };
    run_search(&space, &mut flaky, &cfg, old.path(), RunOptions::default()).unwrap_err();
    let drop_interval = |line: &str| {
        let mut f: Vec<&str> = line.split(',').collect();
        f.drain(10..12);
        f.join(",")
    };
    let csv_path = old.path().join("results.csv");
    let v2: String = read(old.path(), "results.csv")
        .lines()
        .map(|l| drop_interval(l) + "\n")
        .collect();
    std::fs::write(&csv_path, &v2).unwrap();
    let mut ev = SyntheticEvaluator::new(&space, true);
    ev.latency_interval = Some((0.9, 1.2));
    let resumed = run_search(
        &space,
        &mut ev,
        &cfg,
        old.path(),
        RunOptions {
            resume: true,
            progress: None,
        },
    )
    .unwrap();
    let finished = read(old.path(), "results.csv");
    let expected: String = text.lines().map(|l| drop_interval(l) + "\n").collect();
    assert_eq!(finished, expected);
    assert_eq!(
        resumed.front.iter().map(|r| &r.arch_id).collect::<Vec<_>>(),
        whole.front.iter().map(|r| &r.arch_id).collect::<Vec<_>>()
    );
}
