//! Safetensors in and out of a `VarStore`, by PyTorch/diffusers key.

use std::path::{Path, PathBuf};
use tch::{nn, Tensor};

#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("{}: cannot read safetensors: {source}", path.display())]
    Read {
        path: PathBuf,
        source: tch::TchError,
    },
    #[error("{}: cannot write safetensors: {source}", path.display())]
    Write {
        path: PathBuf,
        source: tch::TchError,
    },
    #[error("{}: tensor `{name}` has shape {found:?} but the model expects {expected:?}; the file was made for another space or backbone", path.display())]
    Shape {
        path: PathBuf,
        name: String,
        expected: Vec<i64>,
        found: Vec<i64>,
    },
    #[error("{}: {count} weights the model needs are missing, e.g. {examples}; was the file made for this space?", path.display())]
    Missing {
        path: PathBuf,
        count: usize,
        examples: String,
    },
}

/// Copies every variable whose name passes `wanted` from `path` into `vs`. Every wanted
/// variable must be in the file with the same shape; extra tensors in the file are ignored.
/// Returns how many variables were loaded.
pub fn load_into(
    vs: &nn::VarStore,
    path: &Path,
    wanted: impl Fn(&str) -> bool,
) -> Result<usize, WeightsError> {
    let tensors = Tensor::read_safetensors(path).map_err(|source| WeightsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file: std::collections::HashMap<String, Tensor> = tensors.into_iter().collect();
    let mut vars = vs.variables();
    let mut missing = Vec::new();
    let mut loaded = 0;
    let mut names: Vec<String> = vars.keys().filter(|n| wanted(n)).cloned().collect();
    names.sort();
    for name in names {
        let var = vars.get_mut(&name).expect("listed above");
        match file.get(&name) {
            None => missing.push(name),
            Some(t) if t.size() != var.size() => {
                return Err(WeightsError::Shape {
                    path: path.to_path_buf(),
                    name,
                    expected: var.size(),
                    found: t.size(),
                })
            }
            Some(t) => {
                tch::no_grad(|| var.copy_(t));
                loaded += 1;
            }
        }
    }
    if !missing.is_empty() {
        return Err(WeightsError::Missing {
            path: path.to_path_buf(),
            count: missing.len(),
            examples: missing
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(loaded)
}

/// Writes the variables whose names pass `wanted` to `path` atomically (temp file, then rename).
pub fn save_filtered(
    vs: &nn::VarStore,
    path: &Path,
    wanted: impl Fn(&str) -> bool,
) -> Result<usize, WeightsError> {
    let mut named: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(n, _)| wanted(n))
        .map(|(n, t)| (n, t.detach().contiguous()))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let tmp = path.with_extension("safetensors.tmp");
    let write_err = |source| WeightsError::Write {
        path: path.to_path_buf(),
        source,
    };
    Tensor::write_safetensors(&named, &tmp).map_err(write_err)?;
    std::fs::rename(&tmp, path).map_err(|e| write_err(tch::TchError::Io(e)))?;
    Ok(named.len())
}

/// True for the weights of temporal layers (`…​.temporal.<layer>.<op>.…`).
pub fn is_temporal(name: &str) -> bool {
    name.contains(".temporal.")
}
