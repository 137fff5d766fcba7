//! Safetensors in and out of a `VarStore`, by PyTorch/diffusers key.
//!
//! Loading checks the whole file before any variable changes: its integrity (a truncated or
//! foreign file is named as such, with the sizes involved), then for every wanted variable the
//! tensor's presence, dtype, shape and finiteness.

use safetensors::tensor::{Dtype, SafeTensors};
use std::path::{Path, PathBuf};
use tch::{nn, Kind, Tensor};
use vidnas_io::{first_non_finite, safetensors_views};

/// Dtypes a floating-point variable loads from (converted on copy).
const FLOAT_DTYPES: [Dtype; 4] = [Dtype::F32, Dtype::F16, Dtype::BF16, Dtype::F64];

#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    #[error("{}: cannot read safetensors: {source}", path.display())]
    Read {
        path: PathBuf,
        source: tch::TchError,
    },
    /// The file is not a complete safetensors file, or cannot be written; `message` says why
    /// and how to fix it.
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
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
    #[error("{}: tensor `{name}` is {found} but the model's weights load from {accepted} only; save floating-point weights ({{k: v.float() for k, v in state_dict.items()}})", path.display())]
    Dtype {
        path: PathBuf,
        name: String,
        /// The file's dtype, as safetensors names it (`I64`, `BOOL`, ...).
        found: String,
        /// The dtypes accepted, comma separated.
        accepted: String,
    },
    #[error("{}: tensor `{name}` holds a NaN or infinite value (element {index}); the run that wrote it diverged or the file is corrupt: use an earlier checkpoint or re-export it", path.display())]
    NonFinite {
        path: PathBuf,
        name: String,
        index: usize,
    },
    #[error("{}: {count} weights the model needs are missing, e.g. {examples}; was the file made for this space?{hint}", path.display())]
    Missing {
        path: PathBuf,
        count: usize,
        examples: String,
        /// What the file seems to hold instead, when that can be told (may be empty).
        hint: String,
    },
}

impl From<vidnas_io::FileError> for WeightsError {
    fn from(e: vidnas_io::FileError) -> Self {
        WeightsError::File {
            path: e.path,
            message: e.message,
        }
    }
}

/// Copies every variable whose name passes `wanted` from `path` into `vs`. Every wanted
/// variable must be in the file with the same shape and a compatible dtype (float variables
/// take F32, F16, BF16 or F64) and finite values; extra tensors in the file are ignored. The
/// whole file is checked before any variable changes. Returns how many variables were loaded.
pub fn load_into(
    vs: &nn::VarStore,
    path: &Path,
    wanted: impl Fn(&str) -> bool,
) -> Result<usize, WeightsError> {
    let bytes = std::fs::read(path).map_err(|e| WeightsError::Read {
        path: path.to_path_buf(),
        source: tch::TchError::Io(e),
    })?;
    let file = safetensors_views(path, &bytes)?;
    let mut vars = vs.variables();
    let mut names: Vec<String> = vars.keys().filter(|n| wanted(n)).cloned().collect();
    names.sort();
    let mut missing = Vec::new();
    let mut found = Vec::new();
    for name in names {
        let Ok(view) = file.tensor(&name) else {
            missing.push(name);
            continue;
        };
        let Some(var) = vars.get(&name) else {
            continue;
        };
        let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        let kind = dtype_kind(view.dtype()).filter(|&k| compatible(var.kind(), k));
        let Some(kind) = kind else {
            let accepted = if is_float(var.kind()) {
                FLOAT_DTYPES.map(|d| format!("{d:?}")).join(", ")
            } else {
                format!("{:?}", var.kind())
            };
            return Err(WeightsError::Dtype {
                path: path.to_path_buf(),
                name,
                found: format!("{:?}", view.dtype()),
                accepted,
            });
        };
        if shape != var.size() {
            return Err(WeightsError::Shape {
                path: path.to_path_buf(),
                name,
                expected: var.size(),
                found: shape,
            });
        }
        if let Some(index) = first_non_finite(view.dtype(), view.data()) {
            return Err(WeightsError::NonFinite {
                path: path.to_path_buf(),
                name,
                index,
            });
        }
        found.push((name, shape, kind));
    }
    if !missing.is_empty() {
        let hint = missing_hint(&file, &missing);
        return Err(WeightsError::Missing {
            path: path.to_path_buf(),
            count: missing.len(),
            examples: missing
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            hint,
        });
    }
    let read_err = |source| WeightsError::Read {
        path: path.to_path_buf(),
        source,
    };
    let loaded = found.len();
    for (name, shape, kind) in found {
        let Some(var) = vars.get_mut(&name) else {
            continue;
        };
        let data = file.tensor(&name).map(|v| v.data()).unwrap_or_default();
        let t = Tensor::f_from_data_size(data, &shape, kind).map_err(read_err)?;
        tch::no_grad(|| var.f_copy_(&t)).map_err(read_err)?;
    }
    Ok(loaded)
}

/// The tch kind of a safetensors dtype, for the dtypes tch reads.
fn dtype_kind(dtype: Dtype) -> Option<Kind> {
    Some(match dtype {
        Dtype::BOOL => Kind::Bool,
        Dtype::U8 => Kind::Uint8,
        Dtype::I8 => Kind::Int8,
        Dtype::I16 => Kind::Int16,
        Dtype::I32 => Kind::Int,
        Dtype::I64 => Kind::Int64,
        Dtype::F16 => Kind::Half,
        Dtype::BF16 => Kind::BFloat16,
        Dtype::F32 => Kind::Float,
        Dtype::F64 => Kind::Double,
        _ => return None,
    })
}

fn is_float(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Half | Kind::BFloat16 | Kind::Float | Kind::Double
    )
}

/// A float variable takes any float tensor (converted on copy); any other needs its own kind,
/// so integer data never silently becomes weights.
fn compatible(var: Kind, file: Kind) -> bool {
    if is_float(var) {
        is_float(file)
    } else {
        var == file
    }
}

/// "; the file names them with a `unet.` prefix", or LDM's naming, when that explains them.
fn missing_hint(file: &SafeTensors, missing: &[String]) -> String {
    let names = file.names();
    if names
        .iter()
        .any(|n| n.starts_with("model.diffusion_model."))
    {
        return " The file has original Stable Diffusion (LDM) keys (`model.diffusion_model.…`); \
                convert it to diffusers format (diffusers' convert_original_stable_diffusion_to_diffusers.py) \
                and pass the unet/ folder."
            .to_string();
    }
    let Some(first) = missing.first() else {
        return String::new();
    };
    names
        .iter()
        .find_map(|n| n.strip_suffix(first.as_str()).filter(|p| !p.is_empty()))
        .map(|prefix| {
            format!(" The file names `{first}` as `{prefix}{first}`: save the tensors without the `{prefix}` prefix.")
        })
        .unwrap_or_default()
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
        // On the CPU first, so files do not depend on the device that trained them.
        .map(|(n, t)| (n, t.detach().to_device(tch::Device::Cpu).contiguous()))
        .collect();
    named.sort_by(|a, b| a.0.cmp(&b.0));
    vidnas_io::write_atomic_with(path, |tmp| {
        Tensor::write_safetensors(&named, tmp).map_err(|source| WeightsError::Write {
            path: path.to_path_buf(),
            source,
        })
    })?;
    Ok(named.len())
}

/// Whether `path` holds any tensor named with `prefix` (e.g. a vidnas image model's
/// `text_encoder.` weights, which a diffusers UNet file lacks).
pub fn holds_prefix(path: &Path, prefix: &str) -> Result<bool, WeightsError> {
    holds_any(path, |n| n.starts_with(prefix))
}

/// Whether `path` holds any tensor whose name passes `wanted` (e.g. [`is_temporal`]: an image
/// model's file holds no temporal layers, a supernet's holds every op of every slot).
pub fn holds_any(path: &Path, wanted: impl Fn(&str) -> bool) -> Result<bool, WeightsError> {
    let bytes = std::fs::read(path).map_err(|e| WeightsError::Read {
        path: path.to_path_buf(),
        source: tch::TchError::Io(e),
    })?;
    let file = safetensors_views(path, &bytes)?;
    Ok(file.names().iter().any(|n| wanted(n)))
}

/// True for the weights of temporal layers (`…​.temporal.<layer>.<op>.…`).
pub fn is_temporal(name: &str) -> bool {
    name.contains(".temporal.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::tensor::TensorView;
    use tch::Device;

    /// A store with one f32 variable `a.weight` of shape [2, 3].
    fn store() -> nn::VarStore {
        let vs = nn::VarStore::new(Device::Cpu);
        let _ = vs.root().sub("a").zeros("weight", &[2, 3]);
        vs
    }

    fn write(path: &Path, tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) {
        let views: Vec<(&str, TensorView)> = tensors
            .iter()
            .map(|(n, d, s, b)| (*n, TensorView::new(*d, s.clone(), b).unwrap()))
            .collect();
        safetensors::serialize_to_file(views, &None, path).unwrap();
    }

    fn f32_bytes(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    /// Loads `tensors` into a fresh store; returns the error, after checking it names the file
    /// and that the store was left untouched.
    fn refused(tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        write(&path, tensors);
        let vs = store();
        let err = load_into(&vs, &path, |_| true).unwrap_err().to_string();
        assert!(err.contains("w.safetensors"), "{err}");
        let sum = vs.variables()["a.weight"].abs().sum(Kind::Float);
        assert_eq!(
            sum.double_value(&[]),
            0.0,
            "a refused file changed the store"
        );
        err
    }

    #[test]
    fn loads_float_dtypes_converted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        // 1.5 in f16 is 0x3e00, in bf16 0x3fc0.
        for (dtype, bytes) in [
            (Dtype::F32, f32_bytes(&[1.5; 6])),
            (Dtype::F16, [0x00, 0x3e].repeat(6)),
            (Dtype::BF16, [0xc0, 0x3f].repeat(6)),
            (Dtype::F64, 1.5f64.to_le_bytes().repeat(6)),
        ] {
            write(&path, &[("a.weight", dtype, vec![2, 3], bytes)]);
            let vs = store();
            assert_eq!(load_into(&vs, &path, |_| true).unwrap(), 1);
            let v = vs.variables()["a.weight"]
                .mean(Kind::Float)
                .double_value(&[]);
            assert_eq!(v, 1.5, "{dtype:?}");
        }
    }

    #[test]
    fn integer_and_bool_tensors_are_refused_by_name() {
        let err = refused(&[("a.weight", Dtype::I64, vec![2, 3], vec![0; 48])]);
        assert!(
            err.contains("tensor `a.weight` is I64") && err.contains("F32, F16, BF16, F64"),
            "{err}"
        );
        let err = refused(&[("a.weight", Dtype::BOOL, vec![2, 3], vec![0; 6])]);
        assert!(err.contains("is BOOL"), "{err}");
    }

    #[test]
    fn shape_missing_and_non_finite_are_named() {
        let err = refused(&[("a.weight", Dtype::F32, vec![3, 2], f32_bytes(&[0.0; 6]))]);
        assert!(
            err.contains("`a.weight` has shape [3, 2] but the model expects [2, 3]"),
            "{err}"
        );
        let err = refused(&[("b.weight", Dtype::F32, vec![1], f32_bytes(&[0.0]))]);
        assert!(
            err.contains("1 weights the model needs are missing, e.g. a.weight"),
            "{err}"
        );
        let err = refused(&[(
            "unet.a.weight",
            Dtype::F32,
            vec![2, 3],
            f32_bytes(&[0.0; 6]),
        )]);
        assert!(err.contains("without the `unet.` prefix"), "{err}");
        let mut values = [0.0f32; 6];
        values[4] = f32::NAN;
        let err = refused(&[("a.weight", Dtype::F32, vec![2, 3], f32_bytes(&values))]);
        assert!(
            err.contains("`a.weight` holds a NaN") && err.contains("element 4"),
            "{err}"
        );
        let err = refused(&[("a.weight", Dtype::F16, vec![2, 3], [0x00, 0x7c].repeat(6))]);
        assert!(err.contains("element 0"), "{err}");
    }

    #[test]
    fn truncated_and_foreign_files_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.safetensors");
        write(
            &path,
            &[("a.weight", Dtype::F32, vec![2, 3], f32_bytes(&[0.0; 6]))],
        );
        let bytes = std::fs::read(&path).unwrap();
        let full = bytes.len();
        let check = |data: &[u8], want: &str| {
            std::fs::write(&path, data).unwrap();
            let err = load_into(&store(), &path, |_| true)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want) && err.contains("w.safetensors"), "{err}");
        };
        check(
            &bytes[..full - 7],
            &format!("header says {full} bytes but the file has {}", full - 7),
        );
        check(&bytes[..30], "truncated or not a safetensors file");
        check(&bytes[..5], "has 5 bytes");
        check(b"PK\x03\x04....", "PyTorch pickle");
        check(
            b"\x10\0\0\0\0\0\0\0not json at all!",
            "not safetensors JSON",
        );
        check(&[], "has 0 bytes");
    }
}
