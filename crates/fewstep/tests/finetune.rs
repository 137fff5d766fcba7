mod common;

use vidnas_fewstep::{finetune, FinetuneRequest};
use vidnas_supernet::TrainConfig;

fn request<'a>(
    config: &'a std::path::Path,
    out: &'a std::path::Path,
    steps: usize,
    resume: bool,
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
        resume,
        progress: false,
    }
}

#[test]
fn resumed_finetune_equals_the_uninterrupted_run_and_keeps_the_exported_keys() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::exported_config(&dir.path().join("configs"));
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    finetune(request(&config, &a, 4, false)).unwrap();
    finetune(request(&config, &b, 2, false)).unwrap();
    finetune(request(&config, &b, 4, true)).unwrap();
    common::assert_same_tensors(&a.join("model.safetensors"), &b.join("model.safetensors"));

    let exported = common::tensors(&dir.path().join("configs/micro.safetensors"));
    let tuned = common::tensors(&a.join("model.safetensors"));
    assert_eq!(
        exported.iter().map(|t| &t.0).collect::<Vec<_>>(),
        tuned.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    // Temporal layers trained; spatial ones stayed frozen.
    for ((name, x), (_, y)) in exported.iter().zip(&tuned) {
        if !name.contains(".temporal.") {
            assert!(x.equal(y), "frozen weight {name} changed");
        }
    }
    assert!(exported
        .iter()
        .zip(&tuned)
        .any(|((n, x), (_, y))| n.contains(".temporal.") && !x.equal(y)));
    // The resumed run's settings must match.
    let mut changed = request(&config, &b, 6, true);
    changed.train.lr = 5e-3;
    let err = finetune(changed).unwrap_err().to_string();
    assert!(
        err.contains("train.lr") && err.contains("finetune.json"),
        "{err}"
    );
}
