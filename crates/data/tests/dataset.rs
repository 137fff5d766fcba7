//! Data sets: on-demand procedural clips, disjoint validation, resumable batch order.

use vidnas_data::{generate, Clip, Dataset, ProceduralConfig, VALIDATION_INDEX_OFFSET};

fn cfg() -> ProceduralConfig {
    ProceduralConfig {
        frames: 4,
        height: 16,
        width: 16,
        channels: 3,
    }
}

#[test]
fn procedural_get_is_generate() {
    let ds = Dataset::procedural(cfg(), 5, 100).unwrap();
    assert_eq!(ds.len(), 100);
    assert_eq!(ds.get(17), generate(&cfg(), 5, 17));
    assert_eq!(ds.shape(), cfg());
}

#[test]
fn batch_indices_are_deterministic_per_seed_and_step() {
    let ds = Dataset::procedural(cfg(), 0, 1000).unwrap();
    let a = ds.batch_indices(12, 8, 99);
    assert_eq!(a, ds.batch_indices(12, 8, 99), "same seed and step");
    assert_eq!(a.len(), 8);
    assert!(a.iter().all(|&i| i < 1000));
    assert_ne!(a, ds.batch_indices(13, 8, 99), "next step");
    assert_ne!(a, ds.batch_indices(12, 8, 100), "other seed");
    // A resumed run (fresh data set object) sees the same batch.
    let again = Dataset::procedural(cfg(), 0, 1000).unwrap();
    assert_eq!(a, again.batch_indices(12, 8, 99));
}

#[test]
fn validation_never_shares_clips_with_training() {
    let (train, val) = Dataset::procedural(cfg(), 3, 200)
        .unwrap()
        .split(50)
        .unwrap();
    assert_eq!((train.len(), val.len()), (200, 50));
    assert_eq!(val.get(0), generate(&cfg(), 3, VALIDATION_INDEX_OFFSET));
    let train_pixels: Vec<Vec<f32>> = (0..200).map(|i| train.get(i).pixels).collect();
    for i in 0..50 {
        assert!(
            !train_pixels.contains(&val.get(i).pixels),
            "validation clip {i} is also a training clip"
        );
    }
    assert!(
        val.split(5).is_err(),
        "a validation set cannot be split again"
    );
}

#[test]
fn batch_stacks_clips_in_order() {
    let ds = Dataset::procedural(cfg(), 1, 10).unwrap();
    let b = ds.batch(&[3, 1]);
    assert_eq!(b.shape, [2, 3, 4, 16, 16]);
    let n = cfg().clip_len();
    assert_eq!(b.pixels.len(), 2 * n);
    assert_eq!(&b.pixels[n..], &ds.get(1).pixels[..]);
    assert_eq!(b.captions[0], ds.get(3).caption);
    assert_eq!(b.labels[1], ds.get(1).label);
}

#[test]
fn from_clips_checks_shapes_and_emptiness() {
    let a = Clip::new(2, 3, 8, 8, vec![0.0; 384], "a", None).unwrap();
    let b = Clip::new(3, 3, 8, 8, vec![0.0; 576], "b", None).unwrap();
    let err = Dataset::from_clips(vec![a.clone(), b])
        .unwrap_err()
        .to_string();
    assert!(err.contains("clip 1 (\"b\")"), "{err}");
    assert!(Dataset::from_clips(vec![]).is_err());
    assert!(Dataset::procedural(cfg(), 0, 0).is_err());
    let ds = Dataset::from_clips(vec![a.clone(), a]).unwrap();
    assert!(ds.split(2).is_err(), "validation may not take every clip");
}

#[test]
fn invalid_config_is_rejected_by_name() {
    let bad = ProceduralConfig { height: 4, ..cfg() };
    let err = Dataset::procedural(bad, 0, 10).unwrap_err().to_string();
    assert!(err.contains("height = 4"), "{err}");
}
