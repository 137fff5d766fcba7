use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use vidnas_space::{OpKind, Space};

fn tiny() -> Space {
    Space::from_json(
        "tiny.json",
        include_str!("../../../search-spaces/tiny.json"),
    )
    .unwrap()
}

/// A 4-slot space (one stage pair plus mid... via placement) small enough to enumerate.
fn small() -> Space {
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("../../../search-spaces/tiny.json")).unwrap();
    v["backbone"]["block_out_channels"] = serde_json::json!([32, 64]);
    v["backbone"]["down_block_types"] = serde_json::json!(["DownBlock2D", "CrossAttnDownBlock2D"]);
    v["backbone"]["up_block_types"] = serde_json::json!(["CrossAttnUpBlock2D", "UpBlock2D"]);
    v["video"]["height"] = serde_json::json!(16);
    v["video"]["width"] = serde_json::json!(16);
    v["temporal"]["placement"] = serde_json::json!("last_layer_of_block");
    v["temporal"]["constraints"] =
        serde_json::json!({"min_temporal_layers": 1, "max_temporal_layers": 3});
    Space::from_json("small.json", &v.to_string()).unwrap()
}

#[test]
fn tiny_slots_are_named_and_shaped() {
    let s = tiny();
    let names: Vec<&str> = s.slots.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "down.0.block.0",
            "down.1.block.0",
            "down.2.block.0",
            "mid.block.0",
            "up.0.block.0",
            "up.0.block.1",
            "up.1.block.0",
            "up.1.block.1",
            "up.2.block.0",
            "up.2.block.1"
        ]
    );
    let mid = &s.slots[3];
    assert_eq!(
        (mid.channels, mid.height, mid.width, mid.frames),
        (64, 8, 8, 8)
    );
    assert!(mid.allows(OpKind::Attn3d));
    let top = &s.slots[0];
    assert_eq!((top.channels, top.height), (32, 32));
    assert!(!top.allows(OpKind::Attn3d), "attn3d is limited to 8x8");
}

#[test]
fn tiny_count_is_exact() {
    // Three slots at 32 px allow 3 ops (no conv3d, no attn3d), three at 16 px allow 4, four at
    // 8 px allow 5; minus the all-none arch.
    let exact = 3u128.pow(3) * 4u128.pow(3) * 5u128.pow(4) - 1;
    assert_eq!(exact, 1_079_999);
    assert_eq!(tiny().count_u128(), Some(exact));
    assert_eq!(tiny().count().to_string(), "1079999");
}

#[test]
fn enumeration_matches_count_and_is_unique() {
    let s = small();
    let all: Vec<_> = s.enumerate().collect();
    assert_eq!(Some(all.len() as u128), s.count_u128());
    let unique: BTreeSet<_> = all.iter().cloned().collect();
    assert_eq!(unique.len(), all.len());
    assert!(all.iter().all(|a| s.check_arch(a).is_ok()));
}

#[test]
fn sampling_is_uniform_on_a_small_space() {
    let s = small();
    let n = s.count_u128().unwrap() as usize;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut hits = std::collections::HashMap::new();
    let draws = n * 200;
    for _ in 0..draws {
        *hits.entry(s.sample(&mut rng)).or_insert(0usize) += 1;
    }
    assert_eq!(hits.len(), n, "every architecture is reachable");
    for &c in hits.values() {
        // 200 expected; 6 sigma is about 85.
        assert!((115..=285).contains(&c), "count {c} far from uniform");
    }
}

#[test]
fn same_seed_same_samples() {
    let s = tiny();
    let draw = |seed| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..20)
            .map(|_| s.sample(&mut rng).encode())
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(7), draw(7));
    assert_ne!(draw(7), draw(8));
}

#[test]
fn parse_errors_name_the_slot() {
    let s = tiny();
    let err = s.parse_arch("none-none").unwrap_err().to_string();
    assert!(
        err.contains("has 2 ops") && err.contains("10 slots"),
        "{err}"
    );
    let err = s
        .parse_arch("attn3d-none-none-none-none-none-none-none-none-none")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("slot `down.0.block.0`") && err.contains("does not allow `attn3d`"),
        "{err}"
    );
    let err = s
        .parse_arch(&["none"; 10].join("-"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("has 0 temporal layers"), "{err}");
    let err = s
        .parse_arch(&["conv2d"; 10].join("-"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown temporal op `conv2d`"), "{err}");
}

#[test]
fn ids_are_stable_and_distinct() {
    let s = tiny();
    let a = s
        .parse_arch("conv1d-none-none-none-none-none-none-none-none-none")
        .unwrap();
    let b = s
        .parse_arch("none-conv1d-none-none-none-none-none-none-none-none")
        .unwrap();
    assert_eq!(a.id().len(), 10);
    assert_eq!(a.id(), a.clone().id());
    assert_ne!(a.id(), b.id());
}

#[test]
fn hash_ignores_formatting() {
    let text = include_str!("../../../search-spaces/tiny.json");
    let compact =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(text).unwrap()).unwrap();
    assert_eq!(
        tiny().hash(),
        Space::from_json("x", &compact).unwrap().hash()
    );
}

proptest! {
    #[test]
    fn encode_decode_round_trip(seed in any::<u64>()) {
        let s = tiny();
        let a = s.sample(&mut ChaCha8Rng::seed_from_u64(seed));
        prop_assert_eq!(s.parse_arch(&a.encode()).unwrap(), a.clone());
        prop_assert_eq!(s.arch_from_map(&a.slot_map(&s)).unwrap(), a);
    }

    #[test]
    fn mutation_and_crossover_stay_valid(seed in any::<u64>(), rate in 0.0f64..1.0) {
        for s in [tiny(), small()] {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let a = s.sample(&mut rng);
            let b = s.sample(&mut rng);
            let m = s.mutate(&a, rate, &mut rng);
            prop_assert!(s.check_arch(&m).is_ok());
            prop_assert_ne!(&m, &a, "mutation changes something");
            let c = s.crossover(&a, &b, &mut rng);
            prop_assert!(s.check_arch(&c).is_ok());
            for (i, op) in c.ops.iter().enumerate() {
                // Repair may only move ops towards the constraints; otherwise slots come from a parent.
                prop_assert!(s.slots[i].allows(*op));
            }
        }
    }
}
