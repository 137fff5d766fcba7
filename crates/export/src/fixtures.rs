//! A micro exported model for tests of the stages after export (fine-tuning, distillation,
//! evaluation): one architecture of `vidnas_space::fixtures::micro`, randomly initialised, and a
//! config written as `vidnas export` writes it.

use crate::config::{ArchConfig, Provenance, CONFIG_FORMAT};
use std::path::{Path, PathBuf};
use tch::Device;
use vidnas_data::Vocab;
use vidnas_diffusion::default_text_config;
use vidnas_diffusion::{NoiseSchedule, VideoModel};
use vidnas_nn::Build;
use vidnas_space::{Architecture, Space};

/// An architecture of the micro space using every op kind.
pub const MICRO_ARCH: &str = "conv1d-attn1d-attn3d-conv3d-none-attn1d-conv1d-none-conv3d-attn1d";

pub fn micro_arch(space: &Space) -> Architecture {
    space
        .parse_arch(MICRO_ARCH)
        .expect("MICRO_ARCH fits the micro space")
}

/// A randomly initialised subnet of [`MICRO_ARCH`] (seeded), with non-zero temporal outputs so
/// the temporal path matters (they start at zero).
pub fn micro_model(space: &Space, seed: i64) -> VideoModel {
    tch::manual_seed(seed);
    let text = default_text_config(space, &Vocab::procedural(), 8);
    let m = VideoModel::new(space, Build::Subnet(micro_arch(space)), text, Device::Cpu)
        .expect("the micro model builds");
    tch::no_grad(|| {
        // In name order: the var store is a hash map, and the draws must not depend on its
        // iteration order, which changes from process to process.
        let mut vars: Vec<_> = m.vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        for (name, mut var) in vars {
            if name.contains(".temporal.") && (name.contains("conv2") || name.contains("proj_out"))
            {
                var.copy_(&(var.randn_like() * 0.05));
            }
        }
    });
    m
}

/// Writes `dir/micro.json` + `dir/micro.safetensors` (the weights of `model`, a
/// [`micro_model`] of `space`) as `vidnas export` would; returns the config's path.
pub fn write_micro_config(dir: &Path, space: &Space, model: &VideoModel) -> PathBuf {
    write_config(dir, "micro", space, &micro_arch(space), model)
}

/// Writes `dir/<name>.json` + `dir/<name>.safetensors` for `model`, a subnet of `arch` with the
/// procedural vocabulary, as `vidnas export` would (provenance marked as a test); returns the
/// config's path.
pub fn write_config(
    dir: &Path,
    name: &str,
    space: &Space,
    arch: &Architecture,
    model: &VideoModel,
) -> PathBuf {
    std::fs::create_dir_all(dir).expect("creates the config folder");
    let weights = format!("{name}.safetensors");
    model
        .save_all(&dir.join(&weights))
        .expect("writes the weights");
    let config = ArchConfig {
        format: CONFIG_FORMAT.into(),
        name: name.into(),
        arch_id: arch.id(),
        arch: arch.encode(),
        slots: arch.slot_map(space),
        space: space.file.clone(),
        schedule: NoiseSchedule::default(),
        text_encoder: model.text.config.clone(),
        vocab: Vocab::procedural(),
        score: None,
        predicted: None,
        weights,
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
    let path = dir.join(format!("{name}.json"));
    vidnas_io::write_json(&path, &config).expect("writes the config");
    path
}
