//! A first look at the weights beside a diffusers config, reading only the safetensors header:
//! the file is complete, holds floating-point tensors, and its `conv_in` / `conv_out` match
//! the config, so a truncated download or weights of another model are named at import, not
//! at the first training step. (`vidnas_nn::load_into` checks every tensor when loading.)

use crate::error::ImportError;
use serde_json::Value;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};
use vidnas_space::Backbone;

/// The diffusers weights file name.
pub const WEIGHTS_FILE: &str = "diffusion_pytorch_model.safetensors";
/// How to make a valid file, appended to every message about a broken one.
const RESAVE: &str = "download it again or re-export it with unet.save_pretrained(dir) \
                      (safetensors); to import the config alone, pass config.json itself";
/// safetensors' own limit on the header.
const MAX_HEADER: u64 = 100_000_000;

/// What [`check_weights`] found beside a config.
#[derive(Debug, Clone, PartialEq)]
pub enum WeightsFile {
    /// The weights file, whose header matches the config.
    Checked { path: PathBuf, tensors: usize },
    /// No weights file; `note` says what `--init-unet` will need.
    Missing { expected: PathBuf, note: String },
}

/// Checks the `diffusion_pytorch_model.safetensors` beside `config` (the config file the
/// import read) against `backbone`, reading only its header.
pub fn check_weights(config: &Path, backbone: &Backbone) -> Result<WeightsFile, ImportError> {
    let dir = config.parent().unwrap_or(Path::new("."));
    let path = dir.join(WEIGHTS_FILE);
    if !path.is_file() {
        let others: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("diffusion_pytorch_model"))
            .collect();
        let note = match others.iter().find(|n| n.ends_with(".safetensors")) {
            Some(variant) => format!(
                "there is no {WEIGHTS_FILE} but there is {variant}; pass that file to \
                 --init-unet"
            ),
            None if others.iter().any(|n| n.ends_with(".bin")) => format!(
                "the weights are a PyTorch pickle (.bin); vidnas reads safetensors: save them \
                 with unet.save_pretrained(dir) (safe_serialization is the default) to get \
                 {WEIGHTS_FILE}"
            ),
            None => format!(
                "there is no {WEIGHTS_FILE} beside the config; --init-unet needs it to start \
                 from pretrained weights"
            ),
        };
        return Ok(WeightsFile::Missing {
            expected: path,
            note,
        });
    }
    let tensors = read_header(&path)?;
    let bad = |problem: String| ImportError::Weights {
        path: path.clone(),
        problem,
    };
    if let Some((name, t)) = tensors
        .iter()
        .find(|(_, t)| !["F32", "F16", "BF16", "F64"].contains(&t.dtype.as_str()))
    {
        return Err(bad(format!(
            "tensor `{name}` is {} but UNet weights are floating point (F32, F16, BF16 or F64); \
             {RESAVE}",
            t.dtype
        )));
    }
    let c0 = backbone.block_out_channels.first().copied().unwrap_or(0) as u64;
    let expected = [
        ("conv_in.weight", [c0, backbone.in_channels as u64, 3, 3]),
        ("conv_out.weight", [backbone.out_channels as u64, c0, 3, 3]),
    ];
    for (name, shape) in expected {
        let Some((_, t)) = tensors.iter().find(|(n, _)| n == name) else {
            return Err(bad(format!(
                "has no tensor `{name}`{}",
                missing_hint(&tensors, name)
            )));
        };
        if t.shape != shape {
            return Err(bad(format!(
                "tensor `{name}` has shape {:?} but {} needs {shape:?} (block_out_channels[0], \
                 in_channels, out_channels); the weights and config.json are of different models",
                t.shape,
                config.display()
            )));
        }
    }
    Ok(WeightsFile::Checked {
        path,
        tensors: tensors.len(),
    })
}

/// Why a tensor every diffusers UNet has may be absent.
fn missing_hint(tensors: &[(String, Header)], name: &str) -> String {
    if tensors
        .iter()
        .any(|(n, _)| n.starts_with("model.diffusion_model."))
    {
        return "; the file has original Stable Diffusion (LDM) keys: convert it to diffusers \
                format (diffusers' convert_original_stable_diffusion_to_diffusers.py)"
            .into();
    }
    match tensors.iter().find_map(|(n, _)| n.strip_suffix(name)) {
        Some(prefix) if !prefix.is_empty() => format!(
            "; it names it `{prefix}{name}`: save the UNet's state dict without the `{prefix}` \
             prefix"
        ),
        _ => format!("; it is not the weights of a diffusers UNet2DConditionModel; {RESAVE}"),
    }
}

/// One tensor's header entry.
#[derive(Debug)]
struct Header {
    dtype: String,
    shape: Vec<u64>,
    start: u64,
    end: u64,
}

/// Bytes per element of a safetensors dtype.
fn dtype_size(dtype: &str) -> Option<u64> {
    Some(match dtype {
        "BOOL" | "U8" | "I8" | "F8_E5M2" | "F8_E4M3" => 1,
        "I16" | "U16" | "F16" | "BF16" => 2,
        "I32" | "U32" | "F32" => 4,
        "I64" | "U64" | "F64" => 8,
        _ => return None,
    })
}

/// Reads and checks the header of the safetensors file at `path`: its length, JSON, every
/// tensor's byte range, and that the ranges end where the file does.
fn read_header(path: &Path) -> Result<Vec<(String, Header)>, ImportError> {
    let bad = |problem: String| ImportError::Weights {
        path: path.to_path_buf(),
        problem,
    };
    let read = |e: std::io::Error| ImportError::Weights {
        path: path.to_path_buf(),
        problem: format!("cannot read it: {e}"),
    };
    let mut file = std::fs::File::open(path).map_err(read)?;
    let len = file.metadata().map_err(read)?.len();
    if len < 8 {
        return Err(bad(format!(
            "the file is truncated or not a safetensors file: it has {len} bytes, fewer than the \
             8-byte header length; {RESAVE}"
        )));
    }
    // Nine bytes: the header length and the header's first byte (`{`), which tells a
    // safetensors file whose length starts with 0x80 from a pickle.
    let mut prefix = Vec::with_capacity(9);
    std::io::Read::by_ref(&mut file)
        .take(9)
        .read_to_end(&mut prefix)
        .map_err(read)?;
    if vidnas_io::is_torch_save(&prefix) {
        return Err(bad(format!(
            "is a PyTorch pickle (torch.save), not a safetensors file; {RESAVE}"
        )));
    }
    let mut head = [0u8; 8];
    head.copy_from_slice(&prefix[..8]);
    file.seek(std::io::SeekFrom::Start(8)).map_err(read)?;
    let n = u64::from_le_bytes(head);
    if n > MAX_HEADER || n > len - 8 {
        return Err(bad(format!(
            "the file is truncated or not a safetensors file: its first 8 bytes declare a \
             {n}-byte header but the file has {len} bytes; {RESAVE}"
        )));
    }
    let mut header = vec![0u8; n as usize];
    file.read_exact(&mut header).map_err(read)?;
    let json: Value = serde_json::from_slice(&header).map_err(|e| {
        bad(format!(
            "not a safetensors file: its {n}-byte header is not JSON ({e}); {RESAVE}"
        ))
    })?;
    let Value::Object(entries) = json else {
        return Err(bad(format!(
            "not a safetensors file: its header is not a JSON object; {RESAVE}"
        )));
    };
    let mut tensors = Vec::new();
    for (name, v) in entries {
        if name == "__metadata__" {
            continue;
        }
        let corrupt = || {
            bad(format!(
                "the header entry of tensor `{name}` is malformed; {RESAVE}"
            ))
        };
        let dtype = v.get("dtype").and_then(Value::as_str).ok_or_else(corrupt)?;
        let size = dtype_size(dtype).ok_or_else(|| {
            bad(format!(
                "tensor `{name}` has dtype {dtype}, which safetensors does not define; {RESAVE}"
            ))
        })?;
        let ints = |key: &str| -> Option<Vec<u64>> {
            v.get(key)?.as_array()?.iter().map(Value::as_u64).collect()
        };
        let shape = ints("shape").ok_or_else(corrupt)?;
        let offsets = ints("data_offsets").ok_or_else(corrupt)?;
        let [start, end] = offsets[..] else {
            return Err(corrupt());
        };
        let bytes = shape.iter().try_fold(size, |a, &d| a.checked_mul(d));
        if end < start || bytes != Some(end - start) {
            return Err(bad(format!(
                "the header is corrupt: tensor `{name}` ({dtype} {shape:?}) does not fit its byte \
                 range {start}..{end}; {RESAVE}"
            )));
        }
        let dtype = dtype.to_string();
        tensors.push((
            name,
            Header {
                dtype,
                shape,
                start,
                end,
            },
        ));
    }
    tensors.sort_by_key(|(_, t)| t.start);
    let mut at = 0;
    for (name, t) in &tensors {
        if t.start != at {
            return Err(bad(format!(
                "the header is corrupt: tensor `{name}` starts at byte {} of the data, not where \
                 the previous one ends ({at}); {RESAVE}",
                t.start
            )));
        }
        at = t.end;
    }
    let declared = 8 + n + at;
    if declared != len {
        let what = if len < declared {
            "the file is truncated"
        } else {
            "the file has extra bytes"
        };
        return Err(bad(format!(
            "{what}: its header says {declared} bytes but the file has {len}; {RESAVE}"
        )));
    }
    Ok(tensors)
}
