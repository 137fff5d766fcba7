use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vidnas_latency::{
    accuracy, kendall_tau_b, rmse, rmspe, within_pct, Correction, FitMethod, OpClass,
};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn kendall_tau_of_known_permutations() {
    let ident: Vec<(f64, f64)> = (0..5).map(|i| (i as f64, i as f64)).collect();
    assert_eq!(kendall_tau_b(&ident), 1.0);
    let rev: Vec<(f64, f64)> = (0..5).map(|i| (i as f64, (4 - i) as f64)).collect();
    assert_eq!(kendall_tau_b(&rev), -1.0);
    // 1 2 3 4 5 against 1 3 2 5 4: two of ten pairs swapped → (8 − 2) / 10.
    let perm = [(1.0, 1.0), (2.0, 3.0), (3.0, 2.0), (4.0, 5.0), (5.0, 4.0)];
    assert!(close(kendall_tau_b(&perm), 0.6, 1e-12));
    // Ties: predicted 1 1 2 3, measured 1 2 2 3: C = 4, D = 0, one tie on each side,
    // τ-b = 4 / √((6 − 1)(6 − 1)) = 0.8 (scipy.stats.kendalltau agrees).
    let ties = [(1.0, 1.0), (1.0, 2.0), (2.0, 2.0), (3.0, 3.0)];
    assert!(close(kendall_tau_b(&ties), 0.8, 1e-12));
    assert!(
        kendall_tau_b(&[(1.0, 1.0), (1.0, 2.0)]).is_nan(),
        "constant side"
    );
}

#[test]
fn error_statistics_by_hand() {
    // Errors +10, −10, 0, +20 ms on 100 ms: squares 100, 100, 0, 400, mean 150.
    let pairs = [
        (110.0, 100.0),
        (90.0, 100.0),
        (100.0, 100.0),
        (120.0, 100.0),
    ];
    let s = accuracy(&pairs).unwrap();
    assert_eq!(s.n, 4);
    assert!(close(s.rmse_ms, 150f64.sqrt(), 1e-12));
    assert!(close(s.rmspe_pct, 150f64.sqrt(), 1e-9));
    assert_eq!(s.within_5_pct, 25.0);
    assert_eq!(s.within_10_pct, 75.0, "±10 % is inclusive");
    assert_eq!(s.within_15_pct, 75.0);
    assert!(close(s.mean_bias_ms, 5.0, 1e-12));
    assert!(close(s.mean_bias_pct, 5.0, 1e-9));
    // RMSPE weighs relative errors: 1 ms off on 2 ms is 50 %, 1 ms off on 100 ms is 1 %.
    let mixed = [(3.0, 2.0), (101.0, 100.0)];
    assert!(close(rmspe(&mixed), ((2500.0 + 1.0) / 2f64).sqrt(), 1e-9));
    assert!(close(rmse(&mixed), 1.0, 1e-12));
    assert_eq!(within_pct(&mixed, 1.0), 50.0);
}

#[test]
fn accuracy_refuses_bad_input() {
    assert!(accuracy(&[]).is_err());
    let err = accuracy(&[(1.0, 0.0)]).unwrap_err().to_string();
    assert!(err.contains("pair 0"), "{err}");
    assert!(accuracy(&[(f64::NAN, 1.0)]).is_err());
}

fn random_rows(rng: &mut ChaCha8Rng, n: usize, f: impl Fn(&[f64]) -> f64) -> Vec<(Vec<f64>, f64)> {
    (0..n)
        .map(|_| {
            let x: Vec<f64> = (0..OpClass::COUNT)
                .map(|_| rng.gen_range(0.5..5.0))
                .collect();
            let y = f(&x);
            (x, y)
        })
        .collect()
}

#[test]
fn correction_recovers_a_global_scale_and_overhead() {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let rows = random_rows(&mut rng, 40, |x| 2.0 + 1.3 * x.iter().sum::<f64>());
    let c = Correction::fit(&rows).unwrap();
    assert!(close(c.overhead_ms, 2.0, 1e-6), "{c:?}");
    assert!(close(c.global_scale, 1.3, 1e-9), "{c:?}");
    for class in OpClass::ALL {
        assert!(close(c.scale(class), 1.3, 1e-6), "{class}: {c:?}");
    }
    assert_eq!(c.rows, 40);
}

#[test]
fn correction_recovers_per_kind_scales() {
    let truth: Vec<f64> = (0..OpClass::COUNT).map(|k| 0.5 + 0.1 * k as f64).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let rows = random_rows(&mut rng, 80, |x| {
        0.7 + x.iter().zip(&truth).map(|(a, b)| a * b).sum::<f64>()
    });
    let c = Correction::fit(&rows).unwrap();
    assert_eq!(c.method, FitMethod::PerKind);
    assert!(close(c.overhead_ms, 0.7, 0.05), "{c:?}");
    for (k, class) in OpClass::ALL.into_iter().enumerate() {
        assert!(close(c.scale(class), truth[k], 0.01), "{class}: {c:?}");
    }
    for (x, y) in &rows {
        assert!(close(c.apply(x), *y, 0.01 * y), "{} vs {y}", c.apply(x));
    }
}

#[test]
fn constant_backbone_kinds_go_to_the_overhead_and_absent_kinds_keep_the_global_scale() {
    // As within one space: the backbone kinds never vary; only conv1d and attn1d do, and
    // conv3d / attn3d never occur.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let conv1d = OpClass::Temporal(vidnas_space::OpKind::Conv1d).index();
    let attn1d = OpClass::Temporal(vidnas_space::OpKind::Attn1d).index();
    let rows: Vec<(Vec<f64>, f64)> = (0..30)
        .map(|_| {
            let mut x = vec![0.0; OpClass::COUNT];
            x[OpClass::Resnet.index()] = 10.0;
            x[OpClass::ConvIn.index()] = 1.0;
            x[conv1d] = rng.gen_range(0.0..4.0);
            x[attn1d] = rng.gen_range(0.0..4.0);
            let y = 1.5 + 0.9 * 11.0 + 1.4 * x[conv1d] + 0.6 * x[attn1d];
            (x, y)
        })
        .collect();
    let c = Correction::fit(&rows).unwrap();
    assert!(close(c.scale(OpClass::ALL[conv1d]), 1.4, 0.01), "{c:?}");
    assert!(close(c.scale(OpClass::ALL[attn1d]), 0.6, 0.01), "{c:?}");
    let conv3d = OpClass::Temporal(vidnas_space::OpKind::Conv3d);
    assert_eq!(c.scale(conv3d), c.global_scale);
    for (x, y) in &rows {
        assert!(close(c.apply(x), *y, 1e-3 * y), "{} vs {y}", c.apply(x));
    }
}

#[test]
fn scales_stay_non_negative() {
    // A kind whose time anticorrelates with the total would get a negative LS scale.
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let rows = random_rows(&mut rng, 30, |x| 20.0 + 2.0 * x[2] - 1.5 * x[3]);
    let c = Correction::fit(&rows).unwrap();
    assert!(c.overhead_ms >= 0.0);
    assert!(c.scales.values().all(|&s| s >= 0.0), "{c:?}");
    assert_eq!(c.scale(OpClass::ALL[3]), 0.0, "{c:?}");
}

#[test]
fn degenerate_fits_fall_back_or_fail_clearly() {
    // One network: no way to split overhead from scale: ratio, no overhead.
    let total = 2.0 * OpClass::COUNT as f64;
    let rows = vec![(vec![1.0; OpClass::COUNT], total)];
    let c = Correction::fit(&rows).unwrap();
    assert!(close(c.global_scale, 2.0, 1e-12));
    assert!(close(c.apply(&rows[0].0), total, 1e-6), "{c:?}");
    assert!(Correction::fit(&[]).is_err());
    let err = Correction::fit(&[(vec![1.0; 3], 1.0)]).unwrap_err();
    assert!(err.to_string().contains("row 0"), "{err}");
    assert!(Correction::fit(&[(vec![0.0; OpClass::COUNT], 1.0)]).is_err());
}

#[test]
fn correction_serialises_into_the_table() {
    let mut c = Correction::identity();
    c.scales.insert("attn1d".into(), 1.2);
    let json = serde_json::to_string(&c).unwrap();
    let back: Correction = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
    let mut table = vidnas_latency::LatencyTable::from_json(
        "f.json",
        include_str!("../../../latency-tables/fixtures/one-block.json"),
    )
    .unwrap();
    table.correction = Some(c.clone());
    let text = serde_json::to_string(&table).unwrap();
    let loaded = vidnas_latency::LatencyTable::from_json("f.json", &text).unwrap();
    assert_eq!(loaded.correction, Some(c));
    let bad = text.replace("\"attn1d\":1.2", "\"attn9d\":1.2");
    let err = vidnas_latency::LatencyTable::from_json("f.json", &bad).unwrap_err();
    assert!(
        err.to_string().contains("correction.scales.attn9d"),
        "{err}"
    );
}
