//! A supernet started from a video supernet's weights file (the shipped
//! `configs/<space>-video.safetensors`): its temporal layers and text path come from the file,
//! its other spatial weights from its own stage-1 run, and run.json records the file's hash.

mod common;

use common::micro_space;
use tch::Tensor;
use vidnas_diffusion::ScoreMetric;
use vidnas_diffusion::{is_text_path, Compute, DataConfig, Objective, PathSampling, RunInfo};
use vidnas_diffusion::{DataSource, TrainConfig};
use vidnas_supernet::{pretrain_image, train_temporal, ImageStage, Scorer, TemporalStage};

fn quick(steps: usize, text_path: bool) -> TrainConfig {
    TrainConfig {
        steps,
        batch_size: 2,
        checkpoint_every: 10,
        warmup_steps: 1,
        text_path,
        ..TrainConfig::default()
    }
}

fn tensors(path: &std::path::Path) -> Vec<(String, Tensor)> {
    let mut t = Tensor::read_safetensors(path).unwrap();
    t.sort_by(|a, b| a.0.cmp(&b.0));
    t
}

/// A stage-1 run of 2 steps in `dir/image`.
fn stage1(space: &vidnas_space::Space, dir: &std::path::Path) -> std::path::PathBuf {
    let image = dir.join("image");
    let stage1 = ImageStage {
        data: DataConfig {
            train_clips: 8,
            validation_clips: 2,
            source: DataSource::Procedural,
            ..DataConfig::default()
        },
        text_embeddings: None,
        init_unet: None,
    };
    let cpu = Compute::cpu();
    pretrain_image(space, &image, quick(2, false), stage1, false, false, &cpu).unwrap();
    image
}

#[test]
fn a_supernet_starts_from_a_video_supernet_file() {
    let space = micro_space();
    let dir = tempfile::tempdir().unwrap();
    let image = stage1(&space, dir.path());
    let cpu = Compute::cpu();
    let supernet = |name: &str, steps, text_path, init_from| {
        let run = dir.path().join(name);
        let objective = Objective::Supernet(PathSampling::Fair);
        let stage = TemporalStage {
            init_from,
            ..TemporalStage::default()
        };
        let config = quick(steps, text_path);
        train_temporal(
            &space, &image, &run, objective, config, stage, false, false, &cpu,
        )
        .unwrap();
        run.join("model.safetensors")
    };
    let shipped = supernet("video", 3, true, None);
    let started = supernet("started", 0, false, Some(shipped.clone()));

    let (from, to) = (tensors(&shipped), tensors(&started));
    let stage1 = tensors(&image.join("model.safetensors"));
    let mut carried = 0;
    for ((name, a), (_, b)) in from.iter().zip(&to) {
        if vidnas_nn::is_temporal(name) || is_text_path(name) {
            assert!(a.equal(b), "{name} did not come from the video supernet");
            carried += 1;
        } else {
            let (_, s) = stage1.iter().find(|(n, _)| n == name).unwrap();
            assert!(s.equal(b), "{name} did not come from the stage-1 run");
        }
    }
    assert!(carried > 10, "only {carried} tensors carried over");
    let missing = dir.path().join("configs/micro-video.safetensors");
    let err = train_temporal(
        &space,
        &image,
        &dir.path().join("missing"),
        Objective::Supernet(PathSampling::Fair),
        quick(0, false),
        TemporalStage {
            init_from: Some(missing),
            ..TemporalStage::default()
        },
        false,
        false,
        &cpu,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("micro-video.safetensors") && err.contains("scripts/pretrain-video.sh"),
        "{err}"
    );
    assert!(
        !dir.path().join("missing").exists(),
        "no output for a refused start"
    );
    let info = RunInfo::load(&dir.path().join("started")).unwrap();
    let init = info.init_weights.expect("the file is recorded");
    assert_eq!(init.sha256, vidnas_io::sha256_16(&shipped).unwrap());
    assert_eq!(info.init_run, None);
}

#[test]
fn a_run_scores_by_the_metric_it_records() {
    let space = micro_space();
    let dir = tempfile::tempdir().unwrap();
    let image = stage1(&space, dir.path());
    let run = dir.path().join("motion");
    let stage = TemporalStage {
        metric: Some(ScoreMetric::Motion),
        ..TemporalStage::default()
    };
    let objective = Objective::Supernet(PathSampling::Fair);
    let cpu = Compute::cpu();
    train_temporal(
        &space,
        &image,
        &run,
        objective,
        quick(2, false),
        stage,
        false,
        false,
        &cpu,
    )
    .unwrap();
    let json = std::fs::read_to_string(run.join("run.json")).unwrap();
    assert!(json.contains(r#""metric": "motion""#), "{json}");
    let scorer = Scorer::open(&space, &run, tch::Device::Cpu).unwrap();
    let arch = space.parse_arch(&["conv1d"; 7].join("-")).unwrap();
    let score = scorer.score(&arch).unwrap();
    let (motion, loss) = (
        scorer.validation.score_motion(&scorer.model, &arch),
        scorer.validation.score_loss(&scorer.model, &arch),
    );
    assert_eq!(score, motion);
    assert_ne!(motion, loss);
}
