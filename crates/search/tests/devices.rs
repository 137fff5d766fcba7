//! A joint search over two devices whose costs differ (attention is cheap on the second,
//! convolution dear): each device's latency is an objective, results.csv and run.json name the
//! devices, per-device budgets bind, and the joint front holds the fastest architecture of each;
//! tables of two dtypes give one peak-memory objective and budget per dtype.

mod common;

use common::{config, label, small_space};
use vidnas_search::{
    read_results, run_search, Algo, Evaluation, Evaluator, RunOptions, SearchConfig, SearchOutcome,
    SyntheticEvaluator,
};
use vidnas_space::{Architecture, Space, Structure};

/// The synthetic evaluator on device `a`, plus device `b`'s latency from the same per-slot costs
/// reweighted by op kind.
struct TwoDevices {
    inner: SyntheticEvaluator,
    seen: Seen,
}

/// Which latencies the evaluator reports.
#[derive(Clone, Copy)]
enum Seen {
    OnlyA,
    OnlyB,
    Both,
}

impl TwoDevices {
    fn latency_b(&self, arch: &Architecture) -> f64 {
        5.0 + self
            .inner
            .slot_breakdown(arch)
            .iter()
            .map(|(_, op, ms)| {
                ms * match op.spec().structure {
                    Structure::Conv { .. } => 4.0,
                    Structure::Attention { .. } => 0.25,
                    Structure::Identity => 0.0,
                }
            })
            .sum::<f64>()
    }

    fn with_b(&self, arch: &Architecture, e: Evaluation) -> Evaluation {
        let b = self.latency_b(arch);
        match self.seen {
            Seen::OnlyA => e,
            Seen::OnlyB => Evaluation { latency_ms: b, ..e },
            Seen::Both => Evaluation {
                other_latency_ms: vec![b],
                ..e
            },
        }
    }
}

impl Evaluator for TwoDevices {
    fn evaluate(
        &mut self,
        archs: &[Architecture],
    ) -> Result<Vec<Evaluation>, Box<dyn std::error::Error + Send + Sync>> {
        let evals = self.inner.evaluate(archs)?;
        Ok(archs
            .iter()
            .zip(evals)
            .map(|(a, e)| self.with_b(a, e))
            .collect())
    }

    fn has_score(&self) -> bool {
        true
    }
}

/// A run of `evaluator` under `cfg` in `dir`, which must succeed.
fn search(
    space: &Space,
    mut evaluator: impl Evaluator,
    cfg: &SearchConfig,
    dir: &std::path::Path,
) -> SearchOutcome {
    run_search(space, &mut evaluator, cfg, dir, RunOptions::default()).unwrap()
}

fn run(space: &Space, cfg: &SearchConfig, ev: TwoDevices, dir: &std::path::Path) -> Vec<String> {
    let out = search(space, ev, cfg, dir);
    let mut ids: Vec<String> = out.front.iter().map(|r| r.arch_id.clone()).collect();
    ids.sort();
    ids
}

/// The error of a run of `evaluator` under `cfg`, which must fail.
fn refusal(
    space: &Space,
    mut evaluator: impl Evaluator,
    cfg: &SearchConfig,
    dir: &std::path::Path,
) -> String {
    run_search(
        space,
        &mut evaluator,
        cfg,
        &dir.join("refused"),
        RunOptions::default(),
    )
    .unwrap_err()
    .to_string()
}

#[test]
fn each_device_is_an_objective_and_the_fronts_differ() {
    let space = small_space();
    let exhaustive = config(Algo::Exhaustive { batch: 256 }, 0);
    let dir = tempfile::tempdir().unwrap();
    let device = |seen: Seen| TwoDevices {
        inner: SyntheticEvaluator::new(&space, true),
        seen,
    };
    // Each device alone, then both.
    let a = run(
        &space,
        &exhaustive,
        device(Seen::OnlyA),
        &dir.path().join("a"),
    );
    let b = run(
        &space,
        &exhaustive,
        device(Seen::OnlyB),
        &dir.path().join("b"),
    );
    assert_ne!(
        a, b,
        "the two devices must disagree for this test to mean anything"
    );
    let joint_cfg = SearchConfig {
        devices: vec!["a".into(), "b".into()],
        other_tables: vec![label("b-table")],
        ..exhaustive.clone()
    };
    let joint_dir = dir.path().join("joint");
    let out = search(&space, device(Seen::Both), &joint_cfg, &joint_dir);
    assert_eq!(
        out.settings.objectives,
        ["score", "latency_ms@a", "latency_ms@b", "peak_mem_mb"]
    );
    let joint: Vec<&str> = out.front.iter().map(|r| r.arch_id.as_str()).collect();
    let fastest = |key: &dyn Fn(&Evaluation) -> f64| {
        out.rows
            .iter()
            .min_by(|x, y| {
                key(&x.eval)
                    .total_cmp(&key(&y.eval))
                    .then(x.arch_id.cmp(&y.arch_id))
            })
            .unwrap()
            .arch_id
            .clone()
    };
    for id in [
        fastest(&|e| e.latency_ms),
        fastest(&|e| e.other_latency_ms[0]),
    ] {
        assert!(
            joint.contains(&id.as_str()),
            "{id} missing from the joint front"
        );
    }
    assert!(
        joint.len() > a.len().max(b.len()),
        "{} vs {} / {}",
        joint.len(),
        a.len(),
        b.len()
    );

    // results.csv names device b and reads back exactly.
    let text = std::fs::read_to_string(joint_dir.join("results.csv")).unwrap();
    let head: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(head[12], "latency_ms@b");
    let back = read_results(&joint_dir.join("results.csv"), &space).unwrap();
    assert_eq!(back.rows, out.rows);

    // A budget on device b alone binds there only.
    let budget = fastest(&|e| e.other_latency_ms[0]);
    let b_min = out
        .rows
        .iter()
        .find(|r| r.arch_id == budget)
        .unwrap()
        .eval
        .other_latency_ms[0];
    let mut tight = joint_cfg.clone();
    tight.budgets.other_latency_ms = [Some(b_min * 1.5), None];
    let out = search(
        &space,
        device(Seen::Both),
        &tight,
        &dir.path().join("budget"),
    );
    assert!(!out.front.is_empty());
    assert!(out
        .front
        .iter()
        .all(|r| r.eval.other_latency_ms[0] <= b_min * 1.5));
    assert!(out
        .rows
        .iter()
        .any(|r| r.eval.other_latency_ms[0] > b_min * 1.5 && !r.feasible));

    // An evaluator that forgets device b is refused, naming the architecture.
    let msg = refusal(&space, device(Seen::OnlyA), &joint_cfg, dir.path());
    assert!(
        msg.contains("0 latencies on other devices; the run has 1"),
        "{msg}"
    );
}

/// Device `a` in f32 and device `b` in f16, where `b`'s peak memory counts the weights alone
/// (a runtime that plans activations into a fixed arena): the two memory objectives order
/// architectures differently.
struct TwoDtypes {
    inner: SyntheticEvaluator,
    /// Reports `b`'s f16 memory (else the run has one memory objective).
    f16: bool,
}

impl TwoDtypes {
    fn memory_b(e: &Evaluation) -> f64 {
        2.0 * e.params as f64 / 1e6
    }
}

impl Evaluator for TwoDtypes {
    fn evaluate(
        &mut self,
        archs: &[Architecture],
    ) -> Result<Vec<Evaluation>, Box<dyn std::error::Error + Send + Sync>> {
        let evals = self.inner.evaluate(archs)?;
        Ok(evals
            .into_iter()
            .map(|e| Evaluation {
                other_latency_ms: vec![e.latency_ms],
                other_peak_mem_mb: match self.f16 {
                    true => vec![Self::memory_b(&e)],
                    false => Vec::new(),
                },
                ..e
            })
            .collect())
    }

    fn has_score(&self) -> bool {
        true
    }
}

#[test]
fn each_dtype_is_a_memory_objective_with_its_own_budget() {
    let space = small_space();
    let dir = tempfile::tempdir().unwrap();
    let cfg = SearchConfig {
        devices: vec!["a".into(), "b".into()],
        other_tables: vec![label("b-table")],
        memory_dtypes: vec!["f32".into(), "f16".into()],
        ..config(Algo::Exhaustive { batch: 256 }, 0)
    };
    let evaluator = || TwoDtypes {
        inner: SyntheticEvaluator::new(&space, true),
        f16: true,
    };
    let out = search(&space, evaluator(), &cfg, &dir.path().join("joint"));
    assert_eq!(
        out.settings.objectives,
        [
            "score",
            "latency_ms@a",
            "latency_ms@b",
            "peak_mem_mb@f32",
            "peak_mem_mb@f16"
        ]
    );
    // The f16 memory is an objective: the front holds every architecture of the front with
    // one memory objective, and more.
    let one_memory = SearchConfig {
        memory_dtypes: Vec::new(),
        ..cfg.clone()
    };
    let single = search(
        &space,
        TwoDtypes {
            inner: SyntheticEvaluator::new(&space, true),
            f16: false,
        },
        &one_memory,
        &dir.path().join("one-memory"),
    );
    let front: Vec<&str> = out.front.iter().map(|r| r.arch_id.as_str()).collect();
    assert!(single
        .front
        .iter()
        .all(|r| front.contains(&r.arch_id.as_str())));
    assert!(
        front.len() > single.front.len(),
        "{} vs {}",
        front.len(),
        single.front.len()
    );
    // The smallest memory in each dtype is reached on the front.
    let smallest = |rows: &[vidnas_search::ResultRow], key: &dyn Fn(&Evaluation) -> f64| {
        rows.iter()
            .map(|r| key(&r.eval))
            .fold(f64::INFINITY, f64::min)
    };
    for key in [
        &(|e: &Evaluation| e.peak_mem_mb) as &dyn Fn(&Evaluation) -> f64,
        &|e: &Evaluation| e.other_peak_mem_mb[0],
    ] {
        assert_eq!(smallest(&out.front, key), smallest(&out.rows, key));
    }

    // results.csv holds the f16 column after the device columns and reads back exactly.
    let csv = dir.path().join("joint/results.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let head: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    assert_eq!(&head[12..14], ["latency_ms@b", "peak_mem_mb@f16"]);
    let back = read_results(&csv, &space).unwrap();
    assert_eq!(back.rows, out.rows);

    // A budget on the f16 memory binds there.
    let limit = out
        .rows
        .iter()
        .map(|r| r.eval.other_peak_mem_mb[0])
        .fold(f64::INFINITY, f64::min)
        * 1.02;
    let mut tight = cfg.clone();
    tight.budgets.other_memory_mb = [Some(limit), None];
    let out = search(&space, evaluator(), &tight, &dir.path().join("budget"));
    assert!(!out.front.is_empty());
    assert!(out
        .front
        .iter()
        .all(|r| r.eval.other_peak_mem_mb[0] <= limit));
    assert!(out.rows.iter().any(|r| !r.feasible));

    // An evaluator that forgets the f16 memory is refused.
    let forgetful = TwoDevices {
        inner: SyntheticEvaluator::new(&space, true),
        seen: Seen::Both,
    };
    let msg = refusal(&space, forgetful, &cfg, dir.path());
    assert!(
        msg.contains("0 peak memories in other dtypes; the run has 1"),
        "{msg}"
    );
}
