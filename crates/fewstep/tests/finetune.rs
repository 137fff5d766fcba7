mod common;

use vidnas_diffusion::{Compute, Prediction, TrainConfig};
use vidnas_export::load_exported;
use vidnas_fewstep::{finetune, FinetuneRequest};

fn request<'a>(
    config: &'a std::path::Path,
    out: &'a std::path::Path,
    steps: usize,
    resume: bool,
    freeze_spatial: bool,
) -> FinetuneRequest<'a> {
    FinetuneRequest {
        config,
        weights: None,
        out,
        data: common::data(),
        train: TrainConfig {
            steps,
            batch_size: 2,
            checkpoint_every: 2,
            ..TrainConfig::default()
        },
        freeze_spatial,
        arch: None,
        // The frozen-spatial run keeps the config's target; the others switch to v.
        prediction: (!freeze_spatial).then_some(Prediction::V),
        frame_noise_share: None,
        zero_terminal_snr: false,
        resume,
        progress: false,
        compute: None,
    }
}

#[test]
fn resumed_finetune_equals_the_uninterrupted_run_and_keeps_the_exported_keys() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::exported_config(&dir.path().join("configs"));
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    finetune(request(&config, &a, 4, false, false)).unwrap();
    finetune(request(&config, &b, 2, false, false)).unwrap();
    // The resumed invocation runs through a Compute: where it runs is recorded, not compared.
    let cpu = Compute::cpu();
    finetune(FinetuneRequest {
        compute: Some(&cpu),
        ..request(&config, &b, 4, true, false)
    })
    .unwrap();
    common::assert_same_tensors(&a.join("model.safetensors"), &b.join("model.safetensors"));
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(b.join("finetune.json")).unwrap()).unwrap();
    assert_eq!(info["compute"]["device"], "cpu", "{info}");

    let exported = common::tensors(&dir.path().join("configs/micro.safetensors"));
    let tuned = common::tensors(&a.join("model.safetensors"));
    assert_eq!(
        exported.iter().map(|t| &t.0).collect::<Vec<_>>(),
        tuned.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    // The run folder is a complete model for the new target.
    let (teacher_config, ..) = load_exported(&a.join("config.json")).unwrap();
    assert_eq!(teacher_config.schedule.prediction, Prediction::V);
    assert_eq!(teacher_config.weights, "model.safetensors");
    // By default spatial and temporal layers both train.
    let changed = |tuned: &[(String, tch::Tensor)], temporal: bool| {
        exported
            .iter()
            .zip(tuned)
            .any(|((n, x), (_, y))| n.contains(".temporal.") == temporal && !x.equal(y))
    };
    assert!(changed(&tuned, true) && changed(&tuned, false));
    // With freeze_spatial only the temporal layers train.
    let c = dir.path().join("c");
    finetune(request(&config, &c, 2, false, true)).unwrap();
    let tuned = common::tensors(&c.join("model.safetensors"));
    assert!(changed(&tuned, true));
    for ((name, x), (_, y)) in exported.iter().zip(&tuned) {
        if !name.contains(".temporal.") {
            assert!(x.equal(y), "frozen weight {name} changed");
        }
    }
    // The resumed run's settings must match.
    let mut other = request(&config, &b, 6, true, false);
    other.train.lr = 5e-3;
    let err = finetune(other).unwrap_err().to_string();
    assert!(
        err.contains("train.lr") && err.contains("finetune.json"),
        "{err}"
    );
}

#[test]
fn another_architecture_starts_from_image_weights_with_fresh_temporal_layers() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::exported_config(&dir.path().join("configs"));
    // An image model's file: the exported weights without the temporal layers.
    let image = dir.path().join("image.safetensors");
    let spatial: Vec<(String, tch::Tensor)> =
        common::tensors(&dir.path().join("configs/micro.safetensors"))
            .into_iter()
            .filter(|(n, _)| !vidnas_nn::is_temporal(n))
            .collect();
    tch::Tensor::write_safetensors(&spatial, &image).unwrap();
    let (exported, ..) = load_exported(&config).unwrap();
    let space = vidnas_space::fixtures::micro();
    let other = space
        .slots
        .iter()
        .map(|s| {
            if s.allows(vidnas_space::OpKind::Conv1d) {
                "conv1d"
            } else {
                "none"
            }
        })
        .collect::<Vec<_>>()
        .join("-");
    assert_ne!(other, exported.arch);
    let out = dir.path().join("other");
    let info = finetune(FinetuneRequest {
        weights: Some(&image),
        arch: Some(&other),
        ..request(&config, &out, 2, false, true)
    })
    .unwrap();
    let over = info.arch_override.expect("recorded");
    assert!(!over.temporal_loaded);
    assert_eq!(over.config_arch, exported.arch);
    let (tuned, _, arch, _) = load_exported(&out.join("config.json")).unwrap();
    assert_eq!(
        (tuned.arch.as_str(), arch.encode()),
        (other.as_str(), other.clone())
    );

    // A file holding the config's temporal layers cannot start an architecture with others.
    let err = finetune(FinetuneRequest {
        arch: Some(&other),
        ..request(&config, &dir.path().join("bad"), 2, false, true)
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("conv1d"), "{err}");
    let err = finetune(FinetuneRequest {
        arch: Some("conv1d"),
        ..request(&config, &dir.path().join("bad2"), 2, false, true)
    })
    .unwrap_err()
    .to_string();
    assert!(err.contains("--arch conv1d"), "{err}");
}
