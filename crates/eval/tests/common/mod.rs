//! A micro space (2 frames of 8×8), exported configs of randomly initialised models and a
//! quickly trained classifier, so libtorch tests run in seconds.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use tch::Device;
use vidnas_data::{ProceduralConfig, Vocab};
use vidnas_eval::{train_classifier, ClassifierSettings};
use vidnas_export::{ArchConfig, Provenance, CONFIG_FORMAT};
use vidnas_nn::Build;
use vidnas_space::{Architecture, Space};
use vidnas_supernet::stages::default_text_config;
use vidnas_supernet::{NoiseSchedule, VideoModel};

pub const ARCH: &str = "conv1d-attn1d-attn3d-conv3d-none-attn1d-conv1d-none-conv3d-attn1d";

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

pub fn arch(space: &Space) -> Architecture {
    space.parse_arch(ARCH).unwrap()
}

/// A randomly initialised subnet of `ARCH` (seeded), with non-zero temporal outputs.
pub fn model(space: &Space, seed: i64) -> VideoModel {
    tch::manual_seed(seed);
    let text = default_text_config(space, &Vocab::procedural(), 8);
    let m = VideoModel::new(space, Build::Subnet(arch(space)), text, Device::Cpu).unwrap();
    tch::no_grad(|| {
        for (name, mut var) in m.vs.variables() {
            if name.contains(".temporal.") && (name.contains("conv2") || name.contains("proj_out"))
            {
                var.copy_(&(var.randn_like() * 0.05));
            }
        }
    });
    m
}

/// Writes `dir/micro.json` + `dir/micro.safetensors` (model seed 0) as `vidnas export` would,
/// plus `dir/teacher.safetensors` (seed 0, the same weights) and `dir/student.safetensors`
/// (seed 1). Returns (config, teacher, student).
pub fn exported(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let space = micro();
    let arch = arch(&space);
    std::fs::create_dir_all(dir).unwrap();
    let teacher = model(&space, 0);
    teacher.save_all(&dir.join("micro.safetensors")).unwrap();
    teacher.save_all(&dir.join("teacher.safetensors")).unwrap();
    model(&space, 1)
        .save_all(&dir.join("student.safetensors"))
        .unwrap();
    let config = ArchConfig {
        format: CONFIG_FORMAT.into(),
        name: "micro".into(),
        arch_id: arch.id(),
        arch: arch.encode(),
        slots: arch.slot_map(&space),
        space: space.file.clone(),
        schedule: NoiseSchedule::default(),
        text_encoder: teacher.text.config.clone(),
        vocab: Vocab::procedural(),
        score: None,
        predicted: None,
        weights: "micro.safetensors".into(),
        provenance: Provenance {
            space_hash: space.hash().into(),
            table_sha256: None,
            supernet_sha256: "test".into(),
            supernet_run: "none".into(),
            search_run: None,
            search_seed: None,
            selection: "test".into(),
            created: "test".into(),
            vidnas_version: "test".into(),
        },
    };
    let path = dir.join("micro.json");
    std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
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
    train_classifier(micro_clip(), "micro", &settings, &out, false).unwrap();
    out
}
