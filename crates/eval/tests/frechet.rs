//! The classifier as a [`VideoFeatures`] extractor: deterministic under a seed, refusing clips
//! of another shape by name, and giving a zero Fréchet distance for a set against itself.

mod common;

use std::sync::Mutex;
use vidnas_data::{generate, Clip, ProceduralConfig};
use vidnas_eval::{frechet_between, ClipClassifier, Pca, VideoFeatures};

fn clips(shape: &ProceduralConfig, n: u64) -> Vec<Clip> {
    (0..n).map(|i| generate(shape, 3, i)).collect()
}

/// Held by every test that draws from torch's global generator (training draws from it too),
/// so a seed and the draws after it never interleave with another test's.
static TORCH_RNG: Mutex<()> = Mutex::new(());

fn seeded_classifier(seed: i64) -> ClipClassifier {
    tch::manual_seed(seed);
    ClipClassifier::new(common::micro_clip(), tch::Device::Cpu).unwrap()
}

#[test]
fn classifier_features_are_deterministic_under_a_seed() {
    tch::set_num_threads(1);
    let set = clips(&common::micro_clip(), 10);
    let _rng = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
    let (a, b, c) = (
        seeded_classifier(4),
        seeded_classifier(4),
        seeded_classifier(5),
    );
    let fa = a.features(&set).unwrap();
    assert_eq!(fa.size(), [10, a.dim() as i64]);
    assert_eq!(fa.kind(), tch::Kind::Double);
    assert!(
        fa.equal(&b.features(&set).unwrap()),
        "same seed, other features"
    );
    assert!(
        !fa.equal(&c.features(&set).unwrap()),
        "the seed had no effect"
    );
    // Batch independent up to f32 rounding: each clip is normalised on its own.
    let one = a.features(&set[3..4]).unwrap();
    let diff = (one - fa.narrow(0, 3, 1)).abs().max().double_value(&[]);
    assert!(diff < 1e-5, "batch of 10 vs alone: {diff}");
}

#[test]
fn classifier_features_of_a_set_against_themselves_are_zero_apart() {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let trained = {
        let _rng = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
        common::micro_classifier(dir.path())
    };
    let (classifier, _) = ClipClassifier::load(&trained).unwrap();
    let f = classifier
        .features(&clips(&common::micro_clip(), 12))
        .unwrap();
    let pca = Pca::fit(&f, 4).unwrap();
    let p = pca.project(&f).unwrap();
    let d = frechet_between(&p, &p).unwrap();
    assert!(d.abs() < 1e-9, "{d}");
}

#[test]
fn clips_of_another_shape_are_refused_naming_both_shapes() {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let trained = {
        let _rng = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
        common::micro_classifier(dir.path())
    };
    let (classifier, _) = ClipClassifier::load(&trained).unwrap();
    let longer = ProceduralConfig {
        frames: 4,
        ..common::micro_clip()
    };
    let e = classifier
        .features(&clips(&longer, 2))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("[3, 4, 8, 8]") && e.contains("[3, 2, 8, 8]"),
        "{e}"
    );
}
