//! Distillation checkpoints: one folder holding the student, the discriminator heads, both
//! optimisers' moments and the state, replaced atomically (written beside, then renamed), so an
//! interrupted save or a stopped run keeps the last good checkpoint.

use crate::discriminator::Discriminator;
use crate::distill::StepLosses;
use crate::error::FewStepError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::Tensor;
use vidnas_nn::{load_into, save_filtered};
use vidnas_supernet::{AdamW, VideoModel};

const STUDENT: &str = "student.safetensors";
const DISCRIMINATOR: &str = "discriminator.safetensors";
const OPT_G: &str = "optimizer_g.safetensors";
const OPT_D: &str = "optimizer_d.safetensors";
const STATE: &str = "state.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistillState {
    /// Steps completed.
    pub step: usize,
    /// The architecture distilled (canonical encoding).
    pub arch: String,
    /// Losses of every completed step.
    pub losses: Vec<StepLosses>,
}

pub fn checkpoint_dir(run: &Path) -> PathBuf {
    run.join("checkpoint")
}

pub fn save(
    run: &Path,
    student: &VideoModel,
    disc: &Discriminator,
    opt_g: &AdamW,
    opt_d: &AdamW,
    state: &DistillState,
) -> Result<(), FewStepError> {
    let dir = checkpoint_dir(run);
    let tmp = run.join("checkpoint.tmp");
    let old = run.join("checkpoint.old");
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e: std::io::Error| FewStepError::file(&p, e)
    };
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io(&tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    student.save_all(&tmp.join(STUDENT))?;
    save_filtered(&disc.vs, &tmp.join(DISCRIMINATOR), |_| true)?;
    Tensor::write_safetensors(&opt_g.state_tensors(), tmp.join(OPT_G))?;
    Tensor::write_safetensors(&opt_d.state_tensors(), tmp.join(OPT_D))?;
    let json = serde_json::to_string_pretty(state).expect("state serialises");
    std::fs::write(tmp.join(STATE), json).map_err(io(&tmp))?;
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

/// The state of a run's checkpoint, if there is one. A crash between the two renames of
/// [`save`] leaves only `checkpoint.old`; it is used then.
pub fn read_state(run: &Path) -> Result<Option<(PathBuf, DistillState)>, FewStepError> {
    for dir in [checkpoint_dir(run), run.join("checkpoint.old")] {
        let path = dir.join(STATE);
        if path.exists() {
            let text = std::fs::read_to_string(&path).map_err(|e| FewStepError::file(&path, e))?;
            let state: DistillState =
                serde_json::from_str(&text).map_err(|e| FewStepError::file(&path, e))?;
            return Ok(Some((dir, state)));
        }
    }
    Ok(None)
}

/// Restores the student, the discriminator heads and both optimisers from `dir`.
pub fn load(
    dir: &Path,
    student: &VideoModel,
    disc: &Discriminator,
    opt_g: &mut AdamW,
    opt_d: &mut AdamW,
    step: usize,
) -> Result<(), FewStepError> {
    load_into(&student.vs, &dir.join(STUDENT), |_| true)?;
    load_into(&disc.vs, &dir.join(DISCRIMINATOR), |_| true)?;
    for (file, opt) in [(OPT_G, opt_g), (OPT_D, opt_d)] {
        let path = dir.join(file);
        let tensors: HashMap<String, Tensor> = Tensor::read_safetensors(&path)
            .map_err(|e| FewStepError::file(&path, e))?
            .into_iter()
            .collect();
        opt.load_state(&tensors, step as i64)
            .map_err(|m| FewStepError::file(&path, m))?;
    }
    Ok(())
}
