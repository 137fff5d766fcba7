//! Search quality: NSGA-II against the exhaustive front on a 31,999-architecture space.

mod common;

use common::bench_space;
use vidnas_search::{benchmark_vs_exhaustive, Budgets, Nsga2Params, SyntheticEvaluator};

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
    let r =
        benchmark_vs_exhaustive(&space, &mut ev, &params, 1, Budgets::none(), tmp.path()).unwrap();
    eprintln!("{r:?}");
    assert_eq!(r.exhaustive_evaluations, 31_999);
    assert!(
        r.nsga2_evaluations as f64 <= 0.05 * r.exhaustive_evaluations as f64,
        "{} evaluations",
        r.nsga2_evaluations
    );
    assert!(
        r.hv_ratio >= 0.99,
        "NSGA-II reached {:.4} of the exhaustive HV",
        r.hv_ratio
    );
    assert!(r.nsga2_hv <= r.exhaustive_hv * (1.0 + 1e-12));
}
