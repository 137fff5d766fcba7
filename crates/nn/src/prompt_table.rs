//! Prompt embeddings computed elsewhere (CLIP, T5, …) as the text conditioning, so a real text
//! encoder can condition the UNet without running in vidnas.
//!
//! ```text
//! embeddings   float32/float16/bfloat16 [prompts, tokens, dim]
//! __metadata__ {"prompts": "[\"a red square moving left\", ...]"}   a JSON list, one per row
//! ```
//! A row for the empty prompt `""`, if present, initialises the null (unconditional) context,
//! as Stable Diffusion's classifier-free guidance uses the empty prompt's embedding.

use safetensors::tensor::Dtype;
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};
use vidnas_io::{first_non_finite, safetensors_header, safetensors_views};

/// Name of the embedding tensor inside the file.
pub const EMBEDDINGS_TENSOR: &str = "embeddings";
/// Metadata key holding the JSON list of prompts.
pub const PROMPTS_KEY: &str = "prompts";

/// The dtypes embeddings are accepted in (converted to f32 on load).
const DTYPES: [(Dtype, Kind); 3] = [
    (Dtype::F32, Kind::Float),
    (Dtype::F16, Kind::Half),
    (Dtype::BF16, Kind::BFloat16),
];

#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct PromptTableError {
    pub path: PathBuf,
    pub problem: String,
}

impl From<vidnas_io::FileError> for PromptTableError {
    fn from(e: vidnas_io::FileError) -> Self {
        PromptTableError {
            path: e.path,
            problem: e.message,
        }
    }
}

/// The prompts of an embeddings file and their embeddings `[prompts, tokens, dim]` (f32).
#[derive(Debug)]
pub struct PromptTable {
    pub prompts: Vec<String>,
    pub embeddings: Tensor,
}

impl PromptTable {
    /// Reads and checks a table: the file's integrity, the tensor's dtype and shape, one
    /// distinct prompt per row, and finite values, each error naming the file and the field.
    pub fn read(path: &Path) -> Result<Self, PromptTableError> {
        let bad = |problem: String| PromptTableError {
            path: path.to_path_buf(),
            problem,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read: {e}")))?;
        let (_, header) = safetensors_header(path, &bytes)?;
        let file = safetensors_views(path, &bytes)?;
        let Ok(view) = file.tensor(EMBEDDINGS_TENSOR) else {
            let mut held: Vec<String> = file.names().iter().map(|n| format!("`{n}`")).collect();
            held.sort();
            return Err(bad(format!(
                "has no tensor `{EMBEDDINGS_TENSOR}` (it holds {}); store the embeddings \
                 [prompts, tokens, dim] under that name",
                if held.is_empty() {
                    "none".to_string()
                } else {
                    held.join(", ")
                }
            )));
        };
        let Some(&(_, kind)) = DTYPES.iter().find(|(d, _)| *d == view.dtype()) else {
            return Err(bad(format!(
                "tensor `{EMBEDDINGS_TENSOR}` is {:?} but embeddings must be F32, F16 or BF16 \
                 (floating point); save the text encoder's output as it is, or `emb.float()`",
                view.dtype()
            )));
        };
        let shape = view.shape().to_vec();
        if shape.len() != 3 {
            return Err(bad(format!(
                "tensor `{EMBEDDINGS_TENSOR}` has shape {shape:?} (rank {}); expected rank 3, \
                 [prompts, tokens, dim]: the text encoder's last hidden state for every prompt",
                shape.len()
            )));
        }
        if let Some(axis) = shape.iter().position(|&d| d == 0) {
            return Err(bad(format!(
                "tensor `{EMBEDDINGS_TENSOR}` has shape {shape:?}: its {} axis is empty; \
                 embed at least one prompt of at least one token",
                ["prompts", "tokens", "dim"][axis]
            )));
        }
        let fix = format!(
            "save with metadata={{\"{PROMPTS_KEY}\": json.dumps(prompts)}}, one prompt per row"
        );
        let prompts_json = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(PROMPTS_KEY))
            .ok_or_else(|| bad(format!("metadata has no `{PROMPTS_KEY}`; {fix}")))?;
        let prompts: Vec<String> = serde_json::from_str(prompts_json).map_err(|e| {
            bad(format!(
                "metadata `{PROMPTS_KEY}` is not a JSON list of strings ({e}); {fix}"
            ))
        })?;
        if shape[0] != prompts.len() {
            return Err(bad(format!(
                "metadata `{PROMPTS_KEY}` lists {} prompts but tensor `{EMBEDDINGS_TENSOR}` has \
                 {} rows; {fix}",
                prompts.len(),
                shape[0]
            )));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = prompts.iter().find(|p| !seen.insert(p.as_str())) {
            return Err(bad(format!(
                "metadata `{PROMPTS_KEY}`: prompt {dup:?} is listed twice; keep one row per prompt"
            )));
        }
        if let Some(i) = first_non_finite(view.dtype(), view.data()) {
            let row = i / (shape[1] * shape[2]);
            return Err(bad(format!(
                "tensor `{EMBEDDINGS_TENSOR}`: row {row} (prompt {:?}) holds a NaN or infinite \
                 value; embed that prompt again (in float32 if float16 overflowed)",
                prompts[row]
            )));
        }
        let size: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let embeddings = Tensor::f_from_data_size(view.data(), &size, kind)
            .map_err(|e| bad(e.to_string()))?
            .to_kind(Kind::Float);
        Ok(Self {
            prompts,
            embeddings,
        })
    }

    /// `[tokens, dim]`.
    pub fn token_shape(&self) -> (i64, i64) {
        let s = self.embeddings.size();
        (s[1], s[2])
    }

    /// Writes a table (used by tests and by tools that make tables from Rust).
    pub fn write(&self, path: &Path) -> Result<(), PromptTableError> {
        let bad = |problem: String| PromptTableError {
            path: path.to_path_buf(),
            problem,
        };
        let t = self.embeddings.to_kind(Kind::Float).contiguous();
        let values = Vec::<f32>::try_from(t.flatten(0, -1)).map_err(|e| bad(e.to_string()))?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape, &bytes)
            .map_err(|e| bad(e.to_string()))?;
        let meta = std::collections::HashMap::from([(
            PROMPTS_KEY.to_string(),
            serde_json::to_string(&self.prompts).expect("strings serialise"),
        )]);
        let file = safetensors::serialize([(EMBEDDINGS_TENSOR, view)], &Some(meta))
            .map_err(|e| bad(e.to_string()))?;
        Ok(vidnas_io::write_atomic(path, &file)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use safetensors::tensor::TensorView;
    use std::collections::HashMap;

    /// Writes `embeddings` (and `prompts` metadata when given) and returns the read error.
    fn refused(dtype: Dtype, shape: Vec<usize>, bytes: &[u8], prompts: Option<&str>) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("emb.safetensors");
        let view = TensorView::new(dtype, shape, bytes).unwrap();
        let meta = prompts.map(|p| HashMap::from([(PROMPTS_KEY.to_string(), p.to_string())]));
        safetensors::serialize_to_file([(EMBEDDINGS_TENSOR, view)], &meta, &path).unwrap();
        let err = PromptTable::read(&path).unwrap_err().to_string();
        assert!(err.contains("emb.safetensors"), "{err}");
        err
    }

    fn f32s(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    #[test]
    fn round_trips_and_converts_half_precision() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("emb.safetensors");
        let table = PromptTable {
            prompts: vec!["".into(), "a dog".into()],
            embeddings: Tensor::arange(12, (Kind::Float, tch::Device::Cpu)).view([2, 3, 2]),
        };
        table.write(&path).unwrap();
        let back = PromptTable::read(&path).unwrap();
        assert_eq!(back.prompts, table.prompts);
        assert_eq!(back.token_shape(), (3, 2));
        assert!(back.embeddings.equal(&table.embeddings));
        // 2.0 in bf16 is 0x4000.
        let view = TensorView::new(Dtype::BF16, vec![1, 1, 2], &[0, 0x40, 0, 0x40]).unwrap();
        let meta = HashMap::from([(PROMPTS_KEY.to_string(), "[\"x\"]".to_string())]);
        safetensors::serialize_to_file([(EMBEDDINGS_TENSOR, view)], &Some(meta), &path).unwrap();
        let back = PromptTable::read(&path).unwrap();
        assert_eq!(back.embeddings.kind(), Kind::Float);
        assert_eq!(back.embeddings.sum(Kind::Float).double_value(&[]), 4.0);
    }

    #[test]
    fn every_malformed_table_is_named() {
        let one = Some("[\"a\"]");
        let err = refused(Dtype::I64, vec![1, 1, 1], &[0; 8], one);
        assert!(
            err.contains("`embeddings` is I64") && err.contains("F32, F16 or BF16"),
            "{err}"
        );
        let err = refused(Dtype::F32, vec![1, 2], &f32s(&[0.0; 2]), one);
        assert!(
            err.contains("rank 2") && err.contains("[prompts, tokens, dim]"),
            "{err}"
        );
        let err = refused(Dtype::F32, vec![1, 0, 4], &[], one);
        assert!(err.contains("tokens axis is empty"), "{err}");
        let err = refused(Dtype::F32, vec![1, 1, 1], &f32s(&[0.0]), None);
        assert!(
            err.contains("metadata has no `prompts`") && err.contains("json.dumps"),
            "{err}"
        );
        let err = refused(Dtype::F32, vec![1, 1, 1], &f32s(&[0.0]), Some("['a']"));
        assert!(err.contains("not a JSON list of strings"), "{err}");
        let err = refused(Dtype::F32, vec![2, 1, 1], &f32s(&[0.0; 2]), one);
        assert!(
            err.contains("lists 1 prompts") && err.contains("has 2 rows"),
            "{err}"
        );
        let err = refused(
            Dtype::F32,
            vec![2, 1, 1],
            &f32s(&[0.0; 2]),
            Some("[\"a\", \"a\"]"),
        );
        assert!(err.contains("\"a\" is listed twice"), "{err}");
        let err = refused(
            Dtype::F32,
            vec![2, 1, 2],
            &f32s(&[0.0, 0.0, 0.0, f32::INFINITY]),
            Some("[\"a\", \"b\"]"),
        );
        assert!(err.contains("row 1 (prompt \"b\")"), "{err}");
    }

    #[test]
    fn truncated_file_and_missing_tensor_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("emb.safetensors");
        let table = PromptTable {
            prompts: vec!["a".into()],
            embeddings: Tensor::zeros([1, 2, 2], (Kind::Float, tch::Device::Cpu)),
        };
        table.write(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let err = PromptTable::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("truncated") && err.contains("save_file"),
            "{err}"
        );
        let view = TensorView::new(Dtype::F32, vec![1], &[0; 4]).unwrap();
        safetensors::serialize_to_file([("emb", view)], &None, &path).unwrap();
        let err = PromptTable::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("no tensor `embeddings` (it holds `emb`)"),
            "{err}"
        );
    }
}
