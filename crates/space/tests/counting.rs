//! Exact counts and exactly uniform sampling on spaces far beyond `u128`, and byte-identical
//! samples on the shipped spaces.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use vidnas_space::{BigUint, OpKind, Space};

/// The tiny space with `layers` ResNet layers per block: 3·(2·layers + 1) + 1 slots, a third
/// each at 32, 16 and 8 px (3, 4 and 5 allowed ops), and the given constraints.
fn deep(layers: usize, constraints: Value) -> Space {
    let mut v: Value =
        serde_json::from_str(include_str!("../../../search-spaces/tiny.json")).unwrap();
    v["backbone"]["layers_per_block"] = json!(layers);
    v["temporal"]["constraints"] = constraints;
    Space::from_json("deep.json", &v.to_string()).unwrap()
}

fn big(n: u64) -> BigUint {
    BigUint::from(n)
}

/// ∏ (ops allowed at each slot): the count when nothing bounds the temporal layers.
fn product_of_choices(s: &Space) -> BigUint {
    s.slots
        .iter()
        .fold(big(1), |acc, slot| acc * big(slot.allowed.len() as u64))
}

#[test]
fn a_364_slot_space_is_counted_exactly() {
    let s = deep(60, json!({}));
    assert_eq!(s.num_slots(), 364);
    let all = product_of_choices(&s);
    assert_eq!(all, big(3).pow(121) * big(4).pow(121) * big(5).pow(122));
    assert_eq!(s.count(), all);
    assert_eq!(s.count_u128(), None, "far beyond u128");
    // The shipped constraint (at least one temporal layer) removes only the all-`none` arch.
    let s = deep(60, json!({"min_temporal_layers": 1}));
    assert_eq!(s.count(), &all - big(1));
}

#[test]
fn a_bounded_364_slot_space_matches_elementary_symmetric_sums() {
    // At most two temporal layers: 1 + e1 + e2 of the per-slot temporal-op counts t_i,
    // with e1 = Σ t_i and e2 = (e1² − Σ t_i²) / 2.
    let s = deep(60, json!({"max_temporal_layers": 2}));
    let t: Vec<BigUint> = s
        .slots
        .iter()
        .map(|slot| big(slot.allowed.iter().filter(|o| o.is_temporal()).count() as u64))
        .collect();
    let e1: BigUint = t.iter().sum();
    let squares: BigUint = t.iter().map(|x| x * x).sum();
    let e2 = (&e1 * &e1 - squares) / big(2);
    assert_eq!(s.count(), big(1) + &e1 + e2);
    let s = deep(
        60,
        json!({"min_temporal_layers": 1, "max_temporal_layers": 1}),
    );
    assert_eq!(s.count(), e1);
}

#[test]
fn the_tiny_count_is_unchanged() {
    let tiny = vidnas_space::fixtures::tiny();
    assert_eq!(tiny.count(), big(1_079_999));
    assert_eq!(tiny.count_u128(), Some(1_079_999));
}

/// `a / b` as an f64 (both exact, the quotient rounded to 1e-15).
fn ratio(a: &BigUint, b: &BigUint) -> f64 {
    let scale = big(1_000_000_000_000_000);
    let q = u128::try_from(&(a * &scale / b)).unwrap();
    q as f64 / 1e15
}

#[test]
fn op_frequencies_on_a_364_slot_space_match_exact_shares() {
    // Between 30 and 40 temporal layers out of 364: `none` dominates every slot, far from the
    // unconstrained shares, and every per-slot total is a big integer.
    let s = deep(
        60,
        json!({"min_temporal_layers": 30, "max_temporal_layers": 40}),
    );
    let total = s.count();
    assert!(total.bits() > 128);
    let sampler = s.sampler();
    assert_eq!(sampler.count(), total);
    let draws = 20_000;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let archs: Vec<_> = (0..draws).map(|_| sampler.sample(&mut rng)).collect();
    for a in archs.iter().take(50) {
        s.check_arch(a).unwrap();
    }
    // First slot (32 px, 3 ops), mid block (8 px, 5 ops), last slot (32 px).
    for slot in [0, 180, 363] {
        for &op in &s.slots[slot].allowed {
            // Exact share: the count with this slot pinned to `op`, over the total.
            let mut pinned = s.clone();
            pinned.slots[slot].allowed = vec![op];
            let p = ratio(&pinned.count(), &total);
            let hits = archs.iter().filter(|a| a.ops[slot] == op).count() as f64;
            // 99.9% normal interval of a binomial(draws, p): ±3.29 σ.
            let sigma = (draws as f64 * p * (1.0 - p)).sqrt();
            let expected = draws as f64 * p;
            assert!(
                (hits - expected).abs() <= 3.29 * sigma + 1.0,
                "slot {slot} op {op}: {hits} draws, expected {expected:.1} ± {:.1}",
                3.29 * sigma
            );
        }
    }
    // The number of temporal layers follows its exact distribution too (it is never uniform).
    let in_bounds = archs
        .iter()
        .all(|a| (30..=40).contains(&a.temporal_layers()));
    assert!(in_bounds);
}

#[test]
fn space_sample_draws_valid_archs_on_a_364_slot_space() {
    let s = deep(60, json!({"min_temporal_layers": 1}));
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let a = s.sample(&mut rng);
    s.check_arch(&a).unwrap();
    // Unconstrained but for one layer: `none` is one of 3–5 ops, never the 69% of the old
    // overflowing count.
    let nones = a.ops.iter().filter(|&&o| o == OpKind::None).count();
    assert!(nones < 150, "{nones} of 364 slots are none");
}

/// SHA-256 of 200 samples. The expected values were computed with the `u128` sampler that
/// preceded big integers; committed reports depend on these draws.
fn samples_digest(path: &str, seed: u64) -> String {
    let s = Space::load(format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let text: Vec<String> = (0..200).map(|_| s.sample(&mut rng).encode()).collect();
    vidnas_io::sha256_hex(text.join("\n").as_bytes(), 16)
}

#[test]
fn shipped_spaces_sample_as_before() {
    assert_eq!(
        samples_digest("search-spaces/tiny.json", 4),
        "04581f7c5720c658"
    );
    assert_eq!(
        samples_digest("search-spaces/snapgen-v.json", 4),
        "10f02cd9834bb49a"
    );
    assert_eq!(
        samples_digest("search-spaces/bk-sdm-tiny.json", 0),
        "bd16df6149169b8c"
    );
}
