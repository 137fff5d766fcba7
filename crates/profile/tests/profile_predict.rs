//! profile → predict round trip on a micro space (tiny shapes, one repeat: fast).

use vidnas_latency::{check_covers, predict, Dtype, LatencyTable, PredictRequest, Statistic};
use vidnas_profile::profile::{profile_space, ProfileOptions};
use vidnas_profile::timer::TimingConfig;
use vidnas_space::Space;

fn micro() -> Space {
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("../../../search-spaces/tiny.json")).unwrap();
    v["video"] = serde_json::json!({"frames": 2, "height": 8, "width": 8, "channels": 3});
    v["backbone"]["block_out_channels"] = serde_json::json!([8, 16, 16]);
    v["backbone"]["cross_attention_dim"] = 16.into();
    v["backbone"]["norm_num_groups"] = 4.into();
    v["temporal"]["ops"]["attn3d"]["max_resolution"] = 4.into();
    Space::from_json("micro.json", &v.to_string()).unwrap()
}

fn options(f16: bool) -> ProfileOptions {
    ProfileOptions {
        device_name: "test".into(),
        cuda: false,
        dtype: if f16 { Dtype::F16 } else { Dtype::F32 },
        threads: 1,
        batch: 1,
        text_tokens: 4,
        timing: TimingConfig {
            warmup: 0,
            repeats: 2,
        },
        statistic: Statistic::Min,
    }
}

#[test]
fn profiled_table_covers_the_space_and_predicts() {
    let space = micro();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.json");
    let table = profile_space(&space, &out, &options(false), false).unwrap();
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
    let resumed = profile_space(&space, &out, &options(false), false).unwrap();
    assert!(resumed.entries.contains_key(&first));
    assert_eq!(
        resumed.entries[&kept.0], kept.1,
        "already measured entries are kept"
    );
}

#[test]
fn half_precision_on_cpu_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = profile_space(&micro(), &dir.path().join("t.json"), &options(true), false)
        .unwrap_err()
        .to_string();
    assert!(err.contains("--dtype f16") && err.contains("cuda"), "{err}");
    assert!(
        !dir.path().join("t.json").exists(),
        "nothing written on refusal"
    );
}
