mod common;

use common::micro_space;
use tch::Device;
use vidnas_data::{Dataset, Vocab};
use vidnas_diffusion::{default_text_config, procedural_config};
use vidnas_diffusion::{Objective, PathSampling, TrainConfig, VideoModel};
use vidnas_nn::Build;

/// libtorch splits reductions across its shared thread pool differently when tests run
/// concurrently, which changes the last bits of a loss; exact-resume checks run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn setup(build: Build) -> (VideoModel, Dataset, Vocab) {
    tch::manual_seed(0);
    let space = micro_space();
    let vocab = Vocab::procedural();
    let model = VideoModel::new(
        &space,
        build,
        default_text_config(&space, &vocab, 8),
        Device::Cpu,
    )
    .unwrap();
    let data = Dataset::procedural(procedural_config(&space), 0, 64).unwrap();
    (model, data, vocab)
}

fn cfg(steps: usize) -> TrainConfig {
    TrainConfig {
        steps,
        batch_size: 2,
        checkpoint_every: 2,
        warmup_steps: 1,
        ..TrainConfig::default()
    }
}

fn weights(model: &VideoModel) -> Vec<(String, Vec<f32>)> {
    let mut vars: Vec<_> = model
        .vs
        .variables()
        .into_iter()
        .map(|(n, t)| (n, Vec::<f32>::try_from(t.flatten(0, -1)).unwrap()))
        .collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

#[test]
fn image_pretraining_lowers_the_loss() {
    let _guard = serial();
    let (mut model, data, vocab) = setup(Build::Image);
    let dir = tempfile::tempdir().unwrap();
    let mut config = cfg(40);
    config.lr = 3e-3;
    config.batch_size = 4;
    let mut t = vidnas_supernet::trainer(
        &mut model,
        Objective::Image,
        config,
        &data,
        &vocab,
        dir.path(),
    );
    t.run(false).unwrap();
    let l = t.losses();
    let first: f64 = l[..8].iter().sum::<f64>() / 8.0;
    let last: f64 = l[l.len() - 8..].iter().sum::<f64>() / 8.0;
    assert!(last < 0.8 * first, "loss did not fall: {first} -> {last}");
}

#[test]
fn supernet_gradients_reach_only_temporal_parameters() {
    let _guard = serial();
    let (mut model, data, vocab) = setup(Build::Supernet);
    let dir = tempfile::tempdir().unwrap();
    let before = weights(&model);
    let mut t = vidnas_supernet::trainer(
        &mut model,
        Objective::Supernet(PathSampling::Sandwich),
        cfg(3),
        &data,
        &vocab,
        dir.path(),
    );
    for _ in 0..3 {
        t.train_step().unwrap();
    }
    let after = weights(&model);
    let mut temporal_changed = 0;
    for ((name, b), (_, a)) in before.iter().zip(&after) {
        let changed = a != b;
        if vidnas_nn::is_temporal(name) {
            temporal_changed += usize::from(changed);
        } else {
            assert!(!changed, "frozen weight {name} changed");
        }
    }
    assert!(
        temporal_changed > 10,
        "only {temporal_changed} temporal tensors moved"
    );
}

#[test]
fn text_path_also_trains_the_text_encoder_and_cross_attention() {
    let _guard = serial();
    let (mut model, data, vocab) = setup(Build::Supernet);
    let dir = tempfile::tempdir().unwrap();
    let before = weights(&model);
    let config = TrainConfig {
        text_path: true,
        ..cfg(3)
    };
    let mut t = vidnas_supernet::trainer(
        &mut model,
        Objective::Supernet(PathSampling::Sandwich),
        config,
        &data,
        &vocab,
        dir.path(),
    );
    for _ in 0..3 {
        t.train_step().unwrap();
    }
    let after = weights(&model);
    let (mut text, mut cross) = (0, 0);
    for ((name, b), (_, a)) in before.iter().zip(&after) {
        let changed = a != b;
        if vidnas_diffusion::is_text_path(name) {
            text += usize::from(changed && name.starts_with(vidnas_diffusion::TEXT_PREFIX));
            cross += usize::from(changed && name.contains(".attn2."));
        } else if !vidnas_nn::is_temporal(name) {
            assert!(!changed, "weight {name} off the text path changed");
        }
    }
    assert!(text > 3, "only {text} text-encoder tensors moved");
    assert!(cross > 3, "only {cross} cross-attention tensors moved");
}

#[test]
fn resume_equals_an_uninterrupted_run() {
    let _guard = serial();
    let straight = tempfile::tempdir().unwrap();
    let (mut model_a, data, vocab) = setup(Build::Supernet);
    let mut a = vidnas_supernet::trainer(
        &mut model_a,
        Objective::Supernet(PathSampling::Fair),
        cfg(6),
        &data,
        &vocab,
        straight.path(),
    );
    a.run(false).unwrap();
    let losses_a = a.losses().to_vec();
    let weights_a = weights(&model_a);

    let split = tempfile::tempdir().unwrap();
    {
        let (mut model_b, data, vocab) = setup(Build::Supernet);
        let mut b = vidnas_supernet::trainer(
            &mut model_b,
            Objective::Supernet(PathSampling::Fair),
            cfg(4),
            &data,
            &vocab,
            split.path(),
        );
        b.run(false).unwrap();
    }
    // A fresh process: different initial weights, then resume from step 4's checkpoint.
    tch::manual_seed(99);
    let space = micro_space();
    let mut model_c = VideoModel::new(
        &space,
        Build::Supernet,
        default_text_config(&space, &vocab, 8),
        Device::Cpu,
    )
    .unwrap();
    let mut c = vidnas_supernet::trainer(
        &mut model_c,
        Objective::Supernet(PathSampling::Fair),
        cfg(6),
        &data,
        &vocab,
        split.path(),
    );
    assert_eq!(c.resume().unwrap(), 4);
    c.run(false).unwrap();
    assert_eq!(c.losses(), losses_a.as_slice());
    assert_eq!(weights(&model_c), weights_a, "resumed weights differ");
}

#[test]
fn checkpoint_round_trips_and_refuses_another_objective() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let (mut model, data, vocab) = setup(Build::Supernet);
    let mut t = vidnas_supernet::trainer(
        &mut model,
        Objective::Supernet(PathSampling::Uniform),
        cfg(2),
        &data,
        &vocab,
        dir.path(),
    );
    t.run(false).unwrap();
    let saved = weights(&model);
    let (mut other, _, _) = setup(Build::Supernet);
    let mut t2 = vidnas_supernet::trainer(
        &mut other,
        Objective::Supernet(PathSampling::Uniform),
        cfg(2),
        &data,
        &vocab,
        dir.path(),
    );
    t2.resume().unwrap();
    assert_eq!(weights(&other), saved);
    let (mut third, _, _) = setup(Build::Supernet);
    let mut t3 = vidnas_supernet::trainer(
        &mut third,
        Objective::Supernet(PathSampling::Fair),
        cfg(2),
        &data,
        &vocab,
        dir.path(),
    );
    let err = t3.resume().unwrap_err().to_string();
    assert!(
        err.contains("supernet:uniform") && err.contains("another --out"),
        "{err}"
    );
}

#[test]
fn fair_sampling_visits_every_op_of_every_slot_equally() {
    let space = micro_space();
    let cycle = space.slots.iter().map(|s| s.allowed.len()).max().unwrap() as u64;
    let mut counts = vec![std::collections::BTreeMap::new(); space.num_slots()];
    for step in 0..cycle * 20 {
        let arch = &vidnas_supernet::paths::paths_for_step(&space, PathSampling::Fair, 5, step)[0];
        for (i, op) in arch.ops.iter().enumerate() {
            *counts[i].entry(*op).or_insert(0) += 1;
        }
    }
    for (slot, c) in space.slots.iter().zip(&counts) {
        assert_eq!(c.len(), slot.allowed.len(), "slot {} misses ops", slot.name);
        let (min, max) = (c.values().min().unwrap(), c.values().max().unwrap());
        // Repair of rare all-none paths may shift a few counts.
        assert!(max - min <= 12, "slot {}: {c:?}", slot.name);
    }
}
