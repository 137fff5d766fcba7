//! A safetensors file read and checked whole (by `vidnas_io::safetensors_header`, whose errors
//! say what is wrong with the file and how to make a good one).

use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, Metadata};

use crate::error::{io_err, DataError, Result};

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
        let (header_len, meta) = vidnas_io::safetensors_header(path, &bytes)?;
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
    fn a_broken_file_is_named_with_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.safetensors");
        write(&path, Dtype::F32, vec![4], &[0; 16]);
        let bytes = std::fs::read(&path).unwrap();
        let err = open_err(&bytes[..bytes.len() - 5]);
        assert!(
            err.contains("x.safetensors: the file is truncated")
                && err.contains(vidnas_io::SAFETENSORS_FIX),
            "{err}"
        );
    }
}
