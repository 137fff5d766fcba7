//! A micro space (2 frames of 8×8) and an exported config of a randomly initialised model, so
//! libtorch tests run in seconds.
#![allow(dead_code, unused_imports)]

use std::path::{Path, PathBuf};
use tch::Tensor;
use vidnas_diffusion::VideoModel;
use vidnas_diffusion::{DataConfig, DataSource};
use vidnas_fewstep::{DistillConfig, PoolConfig};
use vidnas_space::Space;

pub use vidnas_export::fixtures::{micro_arch as arch, micro_model as model};

pub fn micro() -> Space {
    // One intra-op thread: micro ops are all overhead, and OpenMP threads spinning at barriers
    // on a shared 2-core machine made a test 10x slower.
    tch::set_num_threads(1);
    vidnas_space::fixtures::micro()
}

/// Writes `dir/micro.json` + `dir/micro.safetensors` as `vidnas export` would.
pub fn exported_config(dir: &Path) -> PathBuf {
    let space = micro();
    vidnas_export::fixtures::write_micro_config(dir, &space, &model(&space, 0))
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
