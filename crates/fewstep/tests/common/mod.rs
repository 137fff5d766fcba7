//! A micro space (2 frames of 8×8) and an exported config of a randomly initialised model, so
//! libtorch tests run in seconds.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use tch::{Device, Tensor};
use vidnas_data::Vocab;
use vidnas_export::{ArchConfig, Provenance, CONFIG_FORMAT};
use vidnas_fewstep::{DistillConfig, PoolConfig};
use vidnas_nn::Build;
use vidnas_space::{Architecture, Space};
use vidnas_supernet::stages::{default_text_config, DataConfig, DataSource};
use vidnas_supernet::{NoiseSchedule, VideoModel};

pub const ARCH: &str = "conv1d-attn1d-attn3d-conv3d-none-attn1d-conv1d-none-conv3d-attn1d";

pub fn micro() -> Space {
    // One intra-op thread: micro ops are all overhead, and OpenMP threads spinning at barriers
    // on a shared 2-core machine made a test 10x slower.
    tch::set_num_threads(1);
    vidnas_space::fixtures::micro()
}

pub fn arch(space: &Space) -> Architecture {
    space.parse_arch(ARCH).unwrap()
}

/// A randomly initialised subnet of `ARCH` (seeded).
pub fn model(space: &Space, seed: i64) -> VideoModel {
    tch::manual_seed(seed);
    let text = default_text_config(space, &Vocab::procedural(), 8);
    let m = VideoModel::new(space, Build::Subnet(arch(space)), text, Device::Cpu).unwrap();
    // Temporal output layers start at zero; give them weights so the temporal path matters.
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

/// Writes `dir/micro.json` + `dir/micro.safetensors` as `vidnas export` would.
pub fn exported_config(dir: &Path) -> PathBuf {
    let space = micro();
    let arch = arch(&space);
    let m = model(&space, 0);
    std::fs::create_dir_all(dir).unwrap();
    m.save_all(&dir.join("micro.safetensors")).unwrap();
    let config = ArchConfig {
        format: CONFIG_FORMAT.into(),
        name: "micro".into(),
        arch_id: arch.id(),
        arch: arch.encode(),
        slots: arch.slot_map(&space),
        space: space.file.clone(),
        schedule: NoiseSchedule::default(),
        text_encoder: m.text.config.clone(),
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
    path
}

pub fn data() -> DataConfig {
    DataConfig {
        seed: 0,
        train_clips: 8,
        validation_clips: 2,
        source: DataSource::Procedural,
    }
}

pub fn pool() -> PoolConfig {
    PoolConfig {
        train_entries: 3,
        eval_entries: 1,
        teacher_steps: 3,
        guidance: 2.0,
        seed: 0,
    }
}

pub fn distill_config(steps: usize) -> DistillConfig {
    DistillConfig {
        steps,
        batch_size: 2,
        checkpoint_every: 2,
        warmup_steps: 1,
        lr_g: 1e-3,
        lr_d: 1e-3,
        ..DistillConfig::default()
    }
}

/// Every tensor of a safetensors file, by name.
pub fn tensors(path: &Path) -> Vec<(String, Tensor)> {
    let mut t = Tensor::read_safetensors(path).unwrap();
    t.sort_by(|a, b| a.0.cmp(&b.0));
    t
}

pub fn assert_same_tensors(a: &Path, b: &Path) {
    let (ta, tb) = (tensors(a), tensors(b));
    assert_eq!(ta.len(), tb.len());
    for ((na, xa), (nb, xb)) in ta.iter().zip(&tb) {
        assert_eq!(na, nb);
        assert!(
            xa.equal(xb),
            "{na} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// Copies of every variable of a model, by name.
pub fn tensors_of(m: &VideoModel) -> Vec<(String, Tensor)> {
    let mut t: Vec<(String, Tensor)> =
        m.vs.variables()
            .into_iter()
            .map(|(n, v)| (n, v.detach().copy()))
            .collect();
    t.sort_by(|a, b| a.0.cmp(&b.0));
    t
}
