//! Checkpoints: a folder holding the model, the optimiser moments and the training state,
//! replaced atomically (written beside, then renamed) so an interrupted save loses nothing.

use crate::adamw::AdamW;
use crate::error::TrainError;
use crate::model::VideoModel;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::Tensor;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainState {
    /// Steps completed.
    pub step: usize,
    /// Space hash the weights belong to (a checkpoint from another space is refused).
    pub space_hash: String,
    /// What was trained: `image`, `supernet`, or `standalone:<arch>`.
    pub objective: String,
    /// Loss of every completed step.
    pub losses: Vec<f64>,
}

pub fn checkpoint_dir(run: &Path) -> PathBuf {
    run.join("checkpoint")
}

pub fn save(
    run: &Path,
    model: &VideoModel,
    opt: &AdamW,
    state: &TrainState,
) -> Result<(), TrainError> {
    let dir = checkpoint_dir(run);
    let tmp = run.join("checkpoint.tmp");
    let io = |e: std::io::Error| TrainError::file(&tmp, e);
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io)?;
    }
    std::fs::create_dir_all(&tmp).map_err(io)?;
    model.save_all(&tmp.join("model.safetensors"))?;
    let moments = opt.state_tensors();
    Tensor::write_safetensors(&moments, tmp.join("optimizer.safetensors"))?;
    let json = serde_json::to_string_pretty(state).expect("state serialises");
    std::fs::write(tmp.join("state.json"), json).map_err(io)?;
    let old = run.join("checkpoint.old");
    if dir.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(io)?;
        }
        std::fs::rename(&dir, &old).map_err(io)?;
    }
    std::fs::rename(&tmp, &dir).map_err(io)?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(io)?;
    }
    Ok(())
}

/// Reads the training state of a run's checkpoint, if there is one. A crash between the two
/// renames of [`save`] leaves only `checkpoint.old`; it is used then.
pub fn read_state(run: &Path) -> Result<Option<(PathBuf, TrainState)>, TrainError> {
    for dir in [checkpoint_dir(run), run.join("checkpoint.old")] {
        let path = dir.join("state.json");
        if path.exists() {
            let state: TrainState = vidnas_io::read_json(&path)?;
            return Ok(Some((dir, state)));
        }
    }
    Ok(None)
}

/// Restores model weights and optimiser moments from `dir`.
pub fn load(
    dir: &Path,
    model: &mut VideoModel,
    opt: &mut AdamW,
    state: &TrainState,
) -> Result<(), TrainError> {
    if state.space_hash != model.space.hash() {
        return Err(TrainError::file(
            dir,
            format!(
                "checkpoint belongs to space hash {} but {} has hash {}; use a new --out folder or the original space file",
                state.space_hash,
                model.space.path.display(),
                model.space.hash()
            ),
        ));
    }
    model.load_all(&dir.join("model.safetensors"))?;
    let path = dir.join("optimizer.safetensors");
    let tensors: HashMap<String, Tensor> = Tensor::read_safetensors(&path)
        .map_err(|e| {
            TrainError::file(
                &path,
                format!(
                    "cannot read the optimizer moments ({e}); the checkpoint is damaged: delete {} and rerun to start over",
                    dir.display()
                ),
            )
        })?
        .into_iter()
        .collect();
    opt.load_state(&tensors, state.step as i64).map_err(|m| {
        TrainError::file(
            &path,
            format!(
                "{m}; the checkpoint does not belong to this model: delete {} and rerun to start over, or choose another --out",
                dir.display()
            ),
        )
    })
}
