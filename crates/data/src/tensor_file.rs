//! A safetensors file read and checked whole, with the `safetensors` crate's errors turned into
//! sentences that say what is wrong with the file and how to make a good one.

use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, Metadata};
use safetensors::{SafeTensorError, SafeTensors};

use crate::error::{io_err, DataError, Result};

/// How to make a valid file, appended to every message about a broken one.
pub const RESAVE: &str = "re-export it with safetensors.torch.save_file";

/// A whole safetensors file whose header and byte ranges have been checked.
pub struct TensorFile {
    /// Where it was read from (named by every error).
    pub path: PathBuf,
    bytes: Vec<u8>,
    header_len: usize,
    meta: Metadata,
}

/// One tensor of a [`TensorFile`]: its dtype, shape and little-endian bytes.
pub struct TensorData<'a> {
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    pub data: &'a [u8],
}

impl TensorFile {
    /// Reads and checks `path`; a truncated or foreign file is an error saying which.
    pub fn open(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(io_err("read", path))?;
        let (header_len, meta) =
            SafeTensors::read_metadata(&bytes).map_err(|e| DataError::BadFile {
                path: path.to_path_buf(),
                problem: describe_error(&bytes, &e),
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            bytes,
            header_len,
            meta,
        })
    }

    /// A `__metadata__` entry.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.meta.metadata().as_ref()?.get(key).map(String::as_str)
    }

    /// Tensor names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.meta.tensors().into_keys().collect();
        names.sort();
        names
    }

    /// The tensor `name`, or `None` when the file has none of that name.
    pub fn tensor(&self, name: &str) -> Option<TensorData<'_>> {
        let info = self.meta.info(name)?;
        let (start, end) = info.data_offsets;
        let base = 8 + self.header_len;
        // `read_metadata` checked the offsets cover the file exactly, so this slice is in range.
        let data = self.bytes.get(base + start..base + end)?;
        Some(TensorData {
            dtype: info.dtype,
            shape: info.shape.clone(),
            data,
        })
    }

    /// An error about this file.
    pub fn bad(&self, problem: impl Into<String>) -> DataError {
        DataError::BadFile {
            path: self.path.clone(),
            problem: problem.into(),
        }
    }

    /// "has no tensor `x` (it holds `a`, `b`)": what a missing tensor error starts with.
    pub fn missing(&self, name: &str) -> String {
        let held = self.names();
        let held = if held.is_empty() {
            "it holds no tensors".to_string()
        } else {
            let shown: Vec<String> = held.iter().take(5).map(|n| format!("`{n}`")).collect();
            let more = held.len().saturating_sub(5);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            format!("it holds {}{more}", shown.join(", "))
        };
        format!("has no tensor `{name}` ({held})")
    }
}

/// A sentence for a `safetensors` error on `bytes` (the whole file): truncation with the sizes
/// the header declares and the file has, a pickle instead of safetensors, or the header fault.
pub fn describe_error(bytes: &[u8], err: &SafeTensorError) -> String {
    let len = bytes.len();
    // torch.save writes a zip (PK..) or, in old versions, a raw pickle (0x80 protocol byte).
    if bytes.starts_with(b"PK\x03\x04") || bytes.first() == Some(&0x80) {
        return "is a PyTorch pickle (torch.save, .bin or .ckpt), not a safetensors file; convert \
                it with safetensors.torch.save_file(torch.load(path), new_path)"
            .to_string();
    }
    let Some(head) = bytes.get(..8) else {
        return format!(
            "the file is truncated or not a safetensors file: it has {len} bytes, fewer than the \
             8-byte header length that starts every safetensors file; {RESAVE}"
        );
    };
    let mut n = [0u8; 8];
    n.copy_from_slice(head);
    let n = u64::from_le_bytes(n);
    let header = usize::try_from(n)
        .ok()
        .and_then(|n| bytes.get(8..8usize.checked_add(n)?));
    match err {
        SafeTensorError::HeaderTooLarge
        | SafeTensorError::InvalidHeaderLength
        | SafeTensorError::HeaderTooSmall => format!(
            "the file is truncated or not a safetensors file: its first 8 bytes declare a \
             {n}-byte header but the file has {len} bytes; {RESAVE}"
        ),
        SafeTensorError::MetadataIncompleteBuffer => {
            let end = header.and_then(data_end).map(|e| 8 + n as u128 + e as u128);
            match end {
                Some(end) if (len as u128) < end => format!(
                    "the file is truncated: its header says {end} bytes but the file has {len}; \
                     copy it again or {RESAVE}"
                ),
                Some(end) => format!(
                    "the file has {} bytes after the tensors its header describes (the header \
                     says {end} bytes, the file has {len}); {RESAVE}",
                    len as u128 - end
                ),
                None => format!(
                    "the file is truncated or not a safetensors file: its tensors do not cover \
                     its {len} bytes; {RESAVE}"
                ),
            }
        }
        SafeTensorError::InvalidOffset(name) => format!(
            "the header is corrupt: tensor `{name}` does not start where the previous tensor \
             ends (data_offsets); {RESAVE}"
        ),
        SafeTensorError::TensorInvalidInfo => {
            let which = header.and_then(inconsistent_tensor).unwrap_or_default();
            format!(
                "the header is corrupt: {which}the dtype and shape do not match the byte range \
                 (data_offsets); {RESAVE}"
            )
        }
        SafeTensorError::ValidationOverflow => {
            format!("the header is corrupt: a tensor's shape is too large to address; {RESAVE}")
        }
        SafeTensorError::InvalidHeader
        | SafeTensorError::InvalidHeaderStart
        | SafeTensorError::InvalidHeaderDeserialization
        | SafeTensorError::JsonError(_) => {
            // Re-parse for the JSON error itself (e.g. an unknown dtype such as `C64`).
            let detail = header
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| serde_json::from_str::<Metadata>(h).err())
                .map(|e| format!(" ({e})"))
                .unwrap_or_default();
            format!(
                "not a safetensors file: the {n}-byte header after the length is not safetensors \
                 JSON{detail}; {RESAVE}"
            )
        }
        other => format!("cannot read it as safetensors ({other}); {RESAVE}"),
    }
}

/// The end of the data section the header describes: the largest `data_offsets` end.
fn data_end(header: &[u8]) -> Option<u64> {
    let json: serde_json::Value = serde_json::from_slice(header).ok()?;
    json.as_object()?
        .iter()
        .filter(|(k, _)| k.as_str() != "__metadata__")
        .filter_map(|(_, v)| v.get("data_offsets")?.get(1)?.as_u64())
        .max()
        .or(Some(0))
}

/// "tensor `x` (F32 [2, 3], 20 bytes): " for the first tensor whose byte range does not fit.
fn inconsistent_tensor(header: &[u8]) -> Option<String> {
    let meta: serde_json::Value = serde_json::from_slice(header).ok()?;
    meta.as_object()?.iter().find_map(|(name, v)| {
        let dtype: Dtype = serde_json::from_value(v.get("dtype")?.clone()).ok()?;
        let shape: Vec<u64> = serde_json::from_value(v.get("shape")?.clone()).ok()?;
        let offsets: Vec<u64> = serde_json::from_value(v.get("data_offsets")?.clone()).ok()?;
        let span = offsets.get(1)?.checked_sub(*offsets.first()?)?;
        let need = shape
            .iter()
            .try_fold(dtype.size() as u64, |a, &d| a.checked_mul(d));
        (need != Some(span))
            .then(|| format!("tensor `{name}` ({dtype:?} {shape:?}, {span} bytes): "))
    })
}

/// The index of the first NaN or infinite value of little-endian f32 `data`.
pub fn first_non_finite_f32(data: &[u8]) -> Option<usize> {
    data.chunks_exact(4)
        .position(|b| !f32::from_le_bytes([b[0], b[1], b[2], b[3]]).is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn write(path: &Path, dtype: Dtype, shape: Vec<usize>, bytes: &[u8]) {
        let view = safetensors::tensor::TensorView::new(dtype, shape, bytes).unwrap();
        let meta = HashMap::from([("k".to_string(), "v".to_string())]);
        safetensors::serialize_to_file([("t", view)], &Some(meta), path).unwrap();
    }

    fn open_err(bytes: &[u8]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.safetensors");
        std::fs::write(&path, bytes).unwrap();
        match TensorFile::open(&path) {
            Ok(_) => panic!("opened"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_tensors_and_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.safetensors");
        write(&path, Dtype::F32, vec![2], &[0; 8]);
        let f = TensorFile::open(&path).unwrap();
        assert_eq!(f.metadata("k"), Some("v"));
        assert_eq!(f.names(), ["t"]);
        let t = f.tensor("t").unwrap();
        assert_eq!(
            (t.dtype, t.shape.as_slice(), t.data.len()),
            (Dtype::F32, &[2][..], 8)
        );
        assert!(f.tensor("u").is_none());
        assert!(f.missing("u").contains("has no tensor `u` (it holds `t`)"));
    }

    #[test]
    fn truncation_gives_both_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.safetensors");
        write(&path, Dtype::F32, vec![4], &[0; 16]);
        let bytes = std::fs::read(&path).unwrap();
        let full = bytes.len();
        let err = open_err(&bytes[..full - 5]);
        assert!(
            err.contains(&format!(
                "header says {full} bytes but the file has {}",
                full - 5
            )) && err.contains("x.safetensors")
                && err.contains(RESAVE),
            "{err}"
        );
        let mut longer = bytes.clone();
        longer.extend_from_slice(b"junk");
        assert!(open_err(&longer).contains("4 bytes after the tensors"));
        // Cut inside the header.
        let err = open_err(&bytes[..20]);
        assert!(
            err.contains("truncated") && err.contains("has 20 bytes"),
            "{err}"
        );
        assert!(open_err(&bytes[..3]).contains("has 3 bytes"));
    }

    #[test]
    fn foreign_files_are_named_as_such() {
        assert!(open_err(b"PK\x03\x04 zip").contains("PyTorch pickle"));
        assert!(open_err(b"").contains("has 0 bytes"));
        let mut text = 12u64.to_le_bytes().to_vec();
        text.extend_from_slice(b"not json !!!");
        let err = open_err(&text);
        assert!(err.contains("not safetensors JSON"), "{err}");
        let mut bad_dtype = Vec::new();
        let header = br#"{"t":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#;
        bad_dtype.extend_from_slice(&(header.len() as u64).to_le_bytes());
        bad_dtype.extend_from_slice(header);
        bad_dtype.extend_from_slice(&[0; 8]);
        let err = open_err(&bad_dtype);
        assert!(err.contains("C64"), "{err}");
    }

    #[test]
    fn inconsistent_byte_range_names_the_tensor() {
        let header = br#"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#;
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header);
        bytes.extend_from_slice(&[0; 8]);
        let err = open_err(&bytes);
        assert!(err.contains("tensor `t` (F32 [3], 8 bytes)"), "{err}");
    }

    #[test]
    fn finds_non_finite_values() {
        let v: Vec<u8> = [1.0f32, 2.0, f32::NAN]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(first_non_finite_f32(&v), Some(2));
        assert_eq!(first_non_finite_f32(&v[..8]), None);
    }
}
