//! Prompt embeddings computed elsewhere (CLIP, T5, …) as the text conditioning, so a real text
//! encoder can condition the UNet without running in vidnas.
//!
//! ```text
//! embeddings   float32/float16/bfloat16 [prompts, tokens, dim]
//! __metadata__ {"prompts": "[\"a red square moving left\", ...]"}   a JSON list, one per row
//! ```
//! A row for the empty prompt `""`, if present, initialises the null (unconditional) context,
//! as Stable Diffusion's classifier-free guidance uses the empty prompt's embedding.

use safetensors::SafeTensors;
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

/// Name of the embedding tensor inside the file.
pub const EMBEDDINGS_TENSOR: &str = "embeddings";
/// Metadata key holding the JSON list of prompts.
pub const PROMPTS_KEY: &str = "prompts";

#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct PromptTableError {
    pub path: PathBuf,
    pub problem: String,
}

/// The prompts of an embeddings file and their embeddings `[prompts, tokens, dim]` (f32).
#[derive(Debug)]
pub struct PromptTable {
    pub prompts: Vec<String>,
    pub embeddings: Tensor,
}

impl PromptTable {
    pub fn read(path: &Path) -> Result<Self, PromptTableError> {
        let bad = |problem: String| PromptTableError {
            path: path.to_path_buf(),
            problem,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read: {e}")))?;
        let (_, header) = SafeTensors::read_metadata(&bytes)
            .map_err(|e| bad(format!("not a safetensors file ({e})")))?;
        let prompts_json = header
            .metadata()
            .as_ref()
            .and_then(|m| m.get(PROMPTS_KEY))
            .ok_or_else(|| {
                bad(format!(
                    "metadata has no `{PROMPTS_KEY}`; save with metadata={{\"{PROMPTS_KEY}\": json.dumps(prompts)}}"
                ))
            })?;
        let prompts: Vec<String> = serde_json::from_str(prompts_json).map_err(|e| {
            bad(format!(
                "metadata `{PROMPTS_KEY}` is not a JSON list of strings ({e})"
            ))
        })?;
        let tensors = Tensor::read_safetensors(path).map_err(|e| bad(e.to_string()))?;
        let embeddings = tensors
            .into_iter()
            .find(|(n, _)| n == EMBEDDINGS_TENSOR)
            .map(|(_, t)| t.to_kind(Kind::Float))
            .ok_or_else(|| {
                bad(format!(
                    "has no tensor `{EMBEDDINGS_TENSOR}`; store the embeddings [prompts, tokens, dim] under that name"
                ))
            })?;
        let size = embeddings.size();
        if size.len() != 3 {
            return Err(bad(format!(
                "tensor `{EMBEDDINGS_TENSOR}` has shape {size:?}; expected [prompts, tokens, dim]"
            )));
        }
        if size[0] as usize != prompts.len() {
            return Err(bad(format!(
                "{} prompts in metadata for {} embedding rows; list one prompt per row",
                prompts.len(),
                size[0]
            )));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = prompts.iter().find(|p| !seen.insert(p.as_str())) {
            return Err(bad(format!(
                "prompt {dup:?} is listed twice; keep one row per prompt"
            )));
        }
        let finite = embeddings.isfinite().all().int64_value(&[]) == 1;
        if !finite {
            return Err(bad("embeddings hold NaN or inf values".into()));
        }
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
        let tmp = path.with_extension("safetensors.tmp");
        safetensors::serialize_to_file([(EMBEDDINGS_TENSOR, view)], &Some(meta), &tmp)
            .map_err(|e| bad(e.to_string()))?;
        std::fs::rename(&tmp, path).map_err(|e| bad(e.to_string()))
    }
}
