//! Checkpoint folders, one implementation for every trainer: the parts (weights, optimiser
//! moments) and a JSON state are written into `checkpoint.tmp`, which then replaces
//! `checkpoint` by two renames, so an interrupted save or a stopped run keeps the last good
//! checkpoint. A crash between the renames leaves `checkpoint.old`, which is read then.

use crate::adamw::AdamW;
use crate::error::TrainError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::Tensor;

const STATE: &str = "state.json";

pub fn checkpoint_dir(run: &Path) -> PathBuf {
    run.join("checkpoint")
}

/// Writes a checkpoint of `run`: `write_parts` fills the new folder, `state` is its
/// `state.json`, and the folder then replaces the previous checkpoint.
pub fn save<S: Serialize>(
    run: &Path,
    state: &S,
    write_parts: impl FnOnce(&Path) -> Result<(), TrainError>,
) -> Result<(), TrainError> {
    let dir = checkpoint_dir(run);
    let tmp = run.join("checkpoint.tmp");
    let old = run.join("checkpoint.old");
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e: std::io::Error| TrainError::file(&p, e)
    };
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    write_parts(&tmp)?;
    vidnas_io::write_json(&tmp.join(STATE), state)?;
    if dir.exists() {
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(io(&old))?;
        }
        std::fs::rename(&dir, &old).map_err(io(&dir))?;
    }
    std::fs::rename(&tmp, &dir).map_err(io(&dir))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    Ok(())
}

/// The state of a run's checkpoint and its folder, if there is one.
pub fn read_state<S: DeserializeOwned>(run: &Path) -> Result<Option<(PathBuf, S)>, TrainError> {
    for dir in [checkpoint_dir(run), run.join("checkpoint.old")] {
        let path = dir.join(STATE);
        if path.exists() {
            return Ok(Some((dir, vidnas_io::read_json(&path)?)));
        }
    }
    Ok(None)
}

/// Whether a run that has completed `step` of `steps` saves a checkpoint now: every
/// `every` steps and at the end.
pub fn is_due(step: usize, every: usize, steps: usize) -> bool {
    step.is_multiple_of(every.max(1)) || step == steps
}

/// Refuses to resume a checkpoint that is already past the run's `--steps`.
pub fn check_within_steps(dir: &Path, step: usize, steps: usize) -> Result<(), TrainError> {
    if step > steps {
        return Err(TrainError::file(
            dir.join(STATE),
            format!(
                "the checkpoint is at step {step} but --steps is {steps}; pass --steps {step} or more to continue it, or choose another --out"
            ),
        ));
    }
    Ok(())
}

/// Writes an optimiser's moments as safetensors.
pub fn save_optimizer(path: &Path, opt: &AdamW) -> Result<(), TrainError> {
    Ok(Tensor::write_safetensors(&opt.state_tensors(), path)?)
}

/// Restores an optimiser's moments from `path` (inside checkpoint `dir`) at `step`.
pub fn load_optimizer(
    path: &Path,
    dir: &Path,
    opt: &mut AdamW,
    step: usize,
) -> Result<(), TrainError> {
    let damaged = |m: String| {
        TrainError::file(
            path,
            format!(
                "{m}; the checkpoint is damaged or belongs to another model: delete {} and rerun to start over, or choose another --out",
                dir.display()
            ),
        )
    };
    let tensors: HashMap<String, Tensor> = Tensor::read_safetensors(path)
        .map_err(|e| damaged(format!("cannot read the optimizer moments ({e})")))?
        .into_iter()
        .collect();
    opt.load_state(&tensors, step as i64).map_err(damaged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_save_replaces_the_previous_checkpoint_and_reads_back() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path();
        for step in [1usize, 2] {
            save(run, &step, |dir| {
                std::fs::write(dir.join("part.bin"), [step as u8])
                    .map_err(|e| TrainError::file(dir, e))
            })
            .unwrap();
        }
        let (dir, step): (PathBuf, usize) = read_state(run).unwrap().unwrap();
        assert_eq!(step, 2);
        assert_eq!(std::fs::read(dir.join("part.bin")).unwrap(), [2]);
        assert!(!run.join("checkpoint.tmp").exists() && !run.join("checkpoint.old").exists());
        // A crash between the two renames leaves only the old folder: it is read.
        std::fs::rename(checkpoint_dir(run), run.join("checkpoint.old")).unwrap();
        let (_, step): (PathBuf, usize) = read_state(run).unwrap().unwrap();
        assert_eq!(step, 2);
        assert!(check_within_steps(&dir, 2, 1)
            .unwrap_err()
            .to_string()
            .contains("--steps 2 or more"));
    }
}
