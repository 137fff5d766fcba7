//! Re-ranking by short fine-tuning: one architecture inherits a supernet's weights, trains a
//! few steps on its own, and is scored on the supernet's validation clips. Ranks better than
//! the supernet's own scores on the ranking benchmark (`reports/ranking/methods.md`).

use crate::stages::{train_temporal, Scorer, TemporalStage};
use std::path::Path;
use vidnas_diffusion::{Compute, LrDecay, Objective, RunInfo, TrainConfig, TrainError};
use vidnas_space::{Architecture, Space};

/// How the candidates are fine-tuned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RerankConfig {
    /// Optimisation steps per candidate.
    pub steps: usize,
    pub seed: u64,
}

/// Fine-tunes `arch` from `supernet` into `run` (resumed, or reused when finished) and returns
/// its validation loss on the supernet's clips and timesteps. The optimiser settings are the
/// supernet's (batch, learning rate, schedule) without warm-up or decay.
pub fn fine_tune_and_score(
    space: &Space,
    supernet: &Path,
    arch: &Architecture,
    config: RerankConfig,
    run: &Path,
    compute: &Compute,
) -> Result<f64, TrainError> {
    let info = RunInfo::load(supernet)?;
    let image_run = info.image_run_folder(supernet)?.ok_or_else(|| {
        TrainError::file(
            supernet.join("run.json"),
            "names no stage-1 run (`image_run`); re-ranking fine-tunes from a supernet made by `vidnas supernet train`",
        )
    })?;
    if !run.join("model.safetensors").exists() {
        let train = TrainConfig {
            steps: config.steps,
            seed: config.seed,
            warmup_steps: 0,
            lr_decay: LrDecay::Constant,
            checkpoint_every: config.steps.max(1),
            ..info.train.clone()
        };
        let stage = TemporalStage {
            // Scored on exactly the clips and timesteps the supernet scores on.
            scoring: Some((info.data.validation_clips, info.validation.clone())),
            source: Some(info.data_source(supernet)?),
            init_from: Some(supernet.to_path_buf()),
            // The metric travels in the validation settings above.
            metric: None,
        };
        train_temporal(
            space,
            &image_run,
            run,
            Objective::Standalone(arch.clone()),
            train,
            stage,
            run.join("run.json").exists(),
            false,
            compute,
        )?;
    }
    Scorer::open(space, run, compute.device)?.score(arch)
}
