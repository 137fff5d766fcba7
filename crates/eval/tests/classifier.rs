mod common;

use vidnas_data::{generate, ProceduralConfig};
use vidnas_eval::{
    held_out_accuracy, train_classifier, Accuracy, ClassifierSettings, ClipClassifier,
};

/// 4 frames of 16×16: small enough to train in seconds, large enough to draw every motion.
fn tiny_clip() -> ProceduralConfig {
    ProceduralConfig {
        frames: 4,
        height: 16,
        width: 16,
        channels: 3,
    }
}

#[test]
fn classifier_trains_and_beats_chance_on_tiny_shapes() {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let settings = ClassifierSettings {
        steps: 300,
        batch_size: 16,
        validation_clips: 192,
        ..ClassifierSettings::default()
    };
    let (model, info) = train_classifier(
        tiny_clip(),
        "tiny-test",
        &settings,
        dir.path(),
        false,
        tch::Device::Cpu,
    )
    .unwrap();
    let (h, chance) = (info.held_out, Accuracy::chance());
    eprintln!("held-out {h:?}, final loss {}", info.final_loss);
    assert_eq!(h.clips, 192);
    // Chance: shape 25 %, colour 17 %, motion 5 %. With 192 clips, chance plus 5 standard
    // errors is 40 % / 31 % / 13 %.
    assert!(
        h.shape > 0.40,
        "shape {} vs chance {}",
        h.shape,
        chance.shape
    );
    assert!(
        h.colour > 0.31,
        "colour {} vs chance {}",
        h.colour,
        chance.colour
    );
    assert!(
        h.motion > 0.13,
        "motion {} vs chance {}",
        h.motion,
        chance.motion
    );
    // Cross-entropy at chance is ln 4 + ln 6 + ln 19 = 6.12.
    assert!(info.final_loss < 5.0, "final loss {}", info.final_loss);

    // The saved folder loads into the same classifier.
    let (loaded, loaded_info) = ClipClassifier::load(dir.path()).unwrap();
    assert_eq!(loaded_info, info);
    let clips: Vec<_> = (0..24).map(|i| generate(&tiny_clip(), 99, i)).collect();
    assert_eq!(
        loaded.predict(&clips).unwrap(),
        model.predict(&clips).unwrap()
    );
    assert_eq!(
        held_out_accuracy(&loaded, settings.seed, settings.validation_clips, None).unwrap(),
        h
    );
}

#[test]
fn training_is_deterministic_under_a_seed() {
    let settings = ClassifierSettings {
        steps: 4,
        batch_size: 4,
        validation_clips: 16,
        ..ClassifierSettings::default()
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let clip = common::micro_clip();
    tch::set_num_threads(1);
    train_classifier(clip, "micro", &settings, a.path(), false, tch::Device::Cpu).unwrap();
    train_classifier(clip, "micro", &settings, b.path(), false, tch::Device::Cpu).unwrap();
    for f in ["classifier.json", "classifier.safetensors"] {
        assert_eq!(
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
            "{f} differs between two runs with the same seed"
        );
    }
}

#[test]
fn a_wrong_shape_or_file_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let out = common::micro_classifier(dir.path());
    let (model, _) = ClipClassifier::load(&out).unwrap();
    let other = generate(&tiny_clip(), 0, 0);
    let err = model.predict(&[other]).unwrap_err().to_string();
    assert!(err.contains("vidnas eval classifier"), "{err}");

    let info = out.join("classifier.json");
    let text = std::fs::read_to_string(&info).unwrap();
    std::fs::write(
        &info,
        text.replace("vidnas-classifier/1", "vidnas-classifier/0"),
    )
    .unwrap();
    let err = ClipClassifier::load(&out).unwrap_err().to_string();
    assert!(
        err.contains("classifier.json") && err.contains("format"),
        "{err}"
    );

    let err = ClipClassifier::load(&dir.path().join("missing"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("vidnas eval classifier"), "{err}");
}

#[test]
fn bad_settings_name_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let settings = ClassifierSettings {
        steps: 0,
        ..ClassifierSettings::default()
    };
    let err = train_classifier(
        common::micro_clip(),
        "micro",
        &settings,
        dir.path(),
        false,
        tch::Device::Cpu,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("--steps"), "{err}");
}
