//! `vidnas eval quality` on the micro space (2 frames of 8×8): a classifier trained for two
//! steps and a randomly initialised model, so each run takes seconds. The figures are
//! meaningless here; the tests check the files, determinism and the refusals.

mod common;

use common::{check_all, vidnas_ok, Fault};
use std::path::{Path, PathBuf};
use vidnas_data::ProceduralConfig;
use vidnas_eval::{train_classifier, ClassifierSettings};

/// The micro model's config (`dir/micro.json`, weights beside it) and a classifier for its
/// clip shape trained for two steps (`dir/classifier`).
fn micro_setup(dir: &Path) -> (String, String) {
    let space = vidnas_space::fixtures::micro();
    let model = vidnas_export::fixtures::micro_model(&space, 0);
    let config = vidnas_export::fixtures::write_micro_config(dir, &space, &model);
    let config = config.to_str().unwrap().to_string();
    let classifier = dir.join("classifier").to_str().unwrap().to_string();
    vidnas_ok(&[
        "eval",
        "classifier",
        "--config",
        &config,
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--validation-clips",
        "8",
        "--threads",
        "1",
        "--out",
        &classifier,
    ]);
    (config, classifier)
}

/// `vidnas eval quality` with tiny counts (PCA in 2 dimensions needs 3 clips per set).
fn quality_args<'a>(config: &'a str, classifier: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "eval",
        "quality",
        "--config",
        config,
        "--classifier",
        classifier,
        "--out",
        out,
        "--generated",
        "4",
        "--real",
        "6",
        "--steps",
        "2",
        "--pca-dims",
        "2",
        "--bootstrap",
        "20",
        "--threads",
        "1",
    ]
}

fn path(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

#[test]
fn quality_writes_every_figure() {
    let dir = tempfile::tempdir().unwrap();
    let (config, classifier) = micro_setup(dir.path());
    let out = path(&dir.path().join("quality"));
    let stdout = vidnas_ok(&quality_args(&config, &classifier, &out));
    assert!(stdout.contains("Fréchet distance"), "{stdout}");
    let text = std::fs::read_to_string(Path::new(&out).join("quality.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["format"], "vidnas-quality/1");
    assert!(report["note"].as_str().unwrap().contains("NOT comparable"));
    assert!(report["extractor"].as_str().unwrap().contains("classifier"));
    assert_eq!(report["settings"]["generated"], 4);
    assert_eq!(report["settings"]["pca_dims"], 2);
    for figure in ["generated_vs_real", "real_vs_real"] {
        let f = &report["frechet"][figure];
        let (estimate, low, high) = (
            f["estimate"].as_f64().unwrap(),
            f["low"].as_f64().unwrap(),
            f["high"].as_f64().unwrap(),
        );
        assert!(
            estimate >= 0.0 && low >= 0.0 && low <= high,
            "{figure}: {f}"
        );
    }
    assert_eq!(report["frechet"]["feature_dim"], 128);
    for set in ["accuracy_generated", "accuracy_procedural"] {
        for head in ["shape", "colour", "motion", "all"] {
            let share = report[set][head]["estimate"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&share), "{set}.{head}: {share}");
        }
        assert_eq!(report[set]["clips"], 4);
    }
    for set in [
        "temporal_consistency_generated",
        "temporal_consistency_real",
    ] {
        let mean = report[set]["mean"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&mean), "{set}: {mean}");
    }
    assert_eq!(report["temporal_consistency_real"]["n"], 6);
    let md = std::fs::read_to_string(Path::new(&out).join("quality.md")).unwrap();
    assert!(
        md.contains("spread between two draws of real clips"),
        "{md}"
    );
}

#[test]
fn quality_json_is_byte_identical_under_a_seed() {
    let dir = tempfile::tempdir().unwrap();
    let (config, classifier) = micro_setup(dir.path());
    let out = path(&dir.path().join("quality"));
    let json = Path::new(&out).join("quality.json");
    vidnas_ok(&quality_args(&config, &classifier, &out));
    let first = std::fs::read(&json).unwrap();
    // Into the same folder, so even the recorded command line is the same.
    vidnas_ok(&quality_args(&config, &classifier, &out));
    assert!(
        first == std::fs::read(&json).unwrap(),
        "quality.json changed"
    );
    let mut other_seed = quality_args(&config, &classifier, &out);
    other_seed.extend(["--seed", "1"]);
    vidnas_ok(&other_seed);
    assert!(
        first != std::fs::read(&json).unwrap(),
        "--seed had no effect"
    );
}

#[test]
fn too_few_clips_for_the_pca_are_refused_before_out_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let (config, classifier) = micro_setup(dir.path());
    let out: PathBuf = dir.path().join("quality");
    let out_s = path(&out);
    let with = |flag: &'static str, value: &'static str| {
        let mut args: Vec<String> = quality_args(&config, &classifier, &out_s)
            .iter()
            .map(|s| s.to_string())
            .collect();
        let at = args.iter().position(|a| a == flag).unwrap();
        args[at + 1] = value.to_string();
        args
    };
    let case = |name: &'static str, args: Vec<String>, flag: &'static str| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Fault::new(name, &args)
            .names(&[flag])
            .fix(&["at least 3 clips"])
            .out(&out)
    };
    check_all(&[
        case("--generated 2", with("--generated", "2"), "--generated 2"),
        case("--real 2", with("--real", "2"), "--real 2"),
    ]);
    assert!(!out.exists(), "--out was created");
}

#[test]
fn a_classifier_of_another_clip_shape_is_refused_naming_both_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let (config, _) = micro_setup(dir.path());
    // Four frames instead of the micro model's two.
    let other = ProceduralConfig {
        frames: 4,
        height: 8,
        width: 8,
        channels: 3,
    };
    let classifier = dir.path().join("classifier-4-frames");
    let settings = ClassifierSettings {
        steps: 1,
        batch_size: 2,
        validation_clips: 2,
        ..ClassifierSettings::default()
    };
    tch::set_num_threads(1);
    train_classifier(
        other,
        "other",
        &settings,
        &classifier,
        false,
        tch::Device::Cpu,
    )
    .unwrap();
    let out = dir.path().join("quality");
    let args = quality_args(&config, classifier.to_str().unwrap(), out.to_str().unwrap());
    check_all(&[Fault::new("another clip shape", &args)
        .names(&["classifier.json", "frames: 4", "frames: 2"])
        .fix(&["vidnas eval classifier --config"])
        .out(&out)]);
    assert!(!out.exists(), "--out was created");
}
