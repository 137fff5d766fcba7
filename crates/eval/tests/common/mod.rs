//! A micro space (2 frames of 8×8), exported configs of randomly initialised models and a
//! quickly trained classifier, so libtorch tests run in seconds.
#![allow(dead_code, unused_imports)]

use std::path::{Path, PathBuf};
use vidnas_data::ProceduralConfig;
use vidnas_eval::{train_classifier, ClassifierSettings};
use vidnas_space::Space;

pub use vidnas_export::fixtures::{micro_arch as arch, micro_model as model};

pub fn micro() -> Space {
    // One intra-op thread: micro ops are all overhead, and OpenMP threads spinning at barriers
    // on a shared 2-core machine made a test 10x slower.
    tch::set_num_threads(1);
    vidnas_space::fixtures::micro()
}

pub fn micro_clip() -> ProceduralConfig {
    ProceduralConfig {
        frames: 2,
        height: 8,
        width: 8,
        channels: 3,
    }
}

/// Writes `dir/micro.json` + `dir/micro.safetensors` (model seed 0) as `vidnas export` would,
/// plus `dir/teacher.safetensors` (seed 0, the same weights) and `dir/student.safetensors`
/// (seed 1). Returns (config, teacher, student).
pub fn exported(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let space = micro();
    let teacher = model(&space, 0);
    let path = vidnas_export::fixtures::write_micro_config(dir, &space, &teacher);
    teacher.save_all(&dir.join("teacher.safetensors")).unwrap();
    model(&space, 1)
        .save_all(&dir.join("student.safetensors"))
        .unwrap();
    (
        path,
        dir.join("teacher.safetensors"),
        dir.join("student.safetensors"),
    )
}

/// A classifier of micro clips after a few steps (accuracy irrelevant: the eval tests check
/// bookkeeping and determinism).
pub fn micro_classifier(dir: &Path) -> PathBuf {
    let out = dir.join("classifier");
    let settings = ClassifierSettings {
        steps: 3,
        batch_size: 8,
        validation_clips: 16,
        ..ClassifierSettings::default()
    };
    train_classifier(
        micro_clip(),
        "micro",
        &settings,
        &out,
        false,
        tch::Device::Cpu,
    )
    .unwrap();
    out
}
