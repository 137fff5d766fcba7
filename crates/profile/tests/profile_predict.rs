//! profile → predict round trip on a micro space (tiny shapes, one repeat: fast).

mod common;

use common::{micro, options};
use vidnas_latency::{check_covers, predict, Dtype, LatencyTable, PredictRequest};
use vidnas_profile::profile::profile_space;

#[test]
fn profiled_table_covers_the_space_and_predicts() {
    let space = micro(2);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.json");
    let table = profile_space(&space, &out, &options(Dtype::F32), false).unwrap();
    check_covers(&space, &table).unwrap();
    let reloaded = LatencyTable::load(&out).unwrap();
    assert_eq!(reloaded.entries.len(), table.entries.len());
    assert!(reloaded
        .entries
        .values()
        .all(|e| e.ms > 0.0 && e.count == 2 && e.bytes > 0));
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(0);
    let arch = space.sample(&mut rng);
    let p = predict(
        &space,
        &arch,
        &reloaded,
        &PredictRequest::for_table(&reloaded),
    )
    .unwrap();
    let by_hand: f64 = p
        .per_op
        .iter()
        .map(|(op, _)| reloaded.entries[&op.signature].ms)
        .sum();
    assert!((p.sum_ms - by_hand).abs() < 1e-9);

    // Resuming keeps measured entries: drop one, profile again, only it is re-measured.
    let mut partial = reloaded.clone();
    let first = partial.entries.keys().next().unwrap().clone();
    let kept = partial
        .entries
        .iter()
        .nth(1)
        .map(|(k, v)| (k.clone(), *v))
        .unwrap();
    partial.entries.remove(&first);
    partial.save(&out).unwrap();
    let resumed = profile_space(&space, &out, &options(Dtype::F32), false).unwrap();
    assert!(resumed.entries.contains_key(&first));
    assert_eq!(
        resumed.entries[&kept.0], kept.1,
        "already measured entries are kept"
    );
}

#[test]
fn half_precision_on_cpu_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = profile_space(
        &micro(2),
        &dir.path().join("t.json"),
        &options(Dtype::F16),
        false,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("--dtype f16") && err.contains("cuda"), "{err}");
    assert!(
        !dir.path().join("t.json").exists(),
        "nothing written on refusal"
    );
}
