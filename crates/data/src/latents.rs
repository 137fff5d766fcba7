//! Pre-encoded latent clips, for latent-space backbones (an imported Stable-Diffusion-style UNet):
//! the VAE runs elsewhere and its latents arrive as one safetensors file.
//!
//! ```text
//! latents   float32 [N, C, T, H, W]   (already multiplied by the VAE's scaling factor)
//! __metadata__ {"captions": "[\"a dog running\", ...]"}   a JSON list of N captions
//! ```

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;

use crate::clip::Clip;
use crate::error::{io_err, DataError, Result};

/// Name of the latent tensor inside the file.
pub const LATENTS_TENSOR: &str = "latents";
/// Metadata key holding the JSON list of captions.
pub const CAPTIONS_KEY: &str = "captions";

fn bad(path: &Path, problem: String) -> DataError {
    DataError::BadFile {
        path: path.to_path_buf(),
        problem,
    }
}

/// Reads every clip of a latent file (see the module docs for its layout).
pub fn load_latent_clips(path: &Path) -> Result<Vec<Clip>> {
    let bytes = std::fs::read(path).map_err(io_err("read latent file", path))?;
    let (_, header) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| bad(path, format!("not a safetensors file ({e})")))?;
    let captions_json = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get(CAPTIONS_KEY))
        .ok_or_else(|| {
            bad(
                path,
                format!("metadata has no `{CAPTIONS_KEY}`; save the file with metadata={{\"{CAPTIONS_KEY}\": json.dumps(captions)}}"),
            )
        })?;
    let captions: Vec<String> = serde_json::from_str(captions_json).map_err(|e| {
        bad(
            path,
            format!("metadata `{CAPTIONS_KEY}` is not a JSON list of strings ({e})"),
        )
    })?;
    let file = SafeTensors::deserialize(&bytes)
        .map_err(|e| bad(path, format!("not a safetensors file ({e})")))?;
    let view = file.tensor(LATENTS_TENSOR).map_err(|_| {
        bad(
            path,
            format!("has no tensor `{LATENTS_TENSOR}`; store the latents [N, C, T, H, W] under that name"),
        )
    })?;
    if view.dtype() != Dtype::F32 {
        return Err(bad(
            path,
            format!(
                "tensor `{LATENTS_TENSOR}` is {:?}; save it as float32 (`latents.float()`)",
                view.dtype()
            ),
        ));
    }
    let shape = view.shape().to_vec();
    let [n, c, t, h, w] = shape[..] else {
        return Err(bad(
            path,
            format!("tensor `{LATENTS_TENSOR}` has shape {shape:?}; expected [N, C, T, H, W]"),
        ));
    };
    if captions.len() != n {
        return Err(bad(
            path,
            format!(
                "{} captions for {n} clips; metadata `{CAPTIONS_KEY}` needs one caption per clip",
                captions.len()
            ),
        ));
    }
    if let Some(i) = captions.iter().position(|c| c.trim().is_empty()) {
        return Err(bad(
            path,
            format!("caption {i} is empty; every clip needs a caption"),
        ));
    }
    let values: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(bad(
            path,
            format!("latent value {i} is not finite; re-encode the clip"),
        ));
    }
    let per_clip = c * t * h * w;
    captions
        .into_iter()
        .enumerate()
        .map(|(i, caption)| {
            let pixels = values[i * per_clip..(i + 1) * per_clip].to_vec();
            Clip::new(t, c, h, w, pixels, caption, None)
        })
        .collect()
}

/// Writes clips (all of one shape) as a latent file; the inverse of [`load_latent_clips`].
pub fn write_latent_clips(path: &Path, clips: &[Clip]) -> Result<()> {
    let first = clips.first().ok_or(DataError::EmptyDataset {
        hint: "write at least one clip",
    })?;
    let shape = vec![
        clips.len(),
        first.channels,
        first.frames,
        first.height,
        first.width,
    ];
    let mut bytes = Vec::with_capacity(clips.len() * first.pixels.len() * 4);
    for c in clips {
        if c.shape() != first.shape() {
            return Err(DataError::ShapeMismatch {
                what: format!("latent clip \"{}\"", c.caption),
                expected: format!("{:?}", first.shape()),
                found: format!("{:?}", c.shape()),
            });
        }
        bytes.extend(c.pixels.iter().flat_map(|v| v.to_le_bytes()));
    }
    let view = TensorView::new(Dtype::F32, shape, &bytes)
        .map_err(|e| bad(path, format!("cannot build tensor ({e})")))?;
    let captions: Vec<&str> = clips.iter().map(|c| c.caption.as_str()).collect();
    let metadata = HashMap::from([(
        CAPTIONS_KEY.to_string(),
        serde_json::to_string(&captions).expect("strings serialise"),
    )]);
    let tmp = path.with_extension("safetensors.tmp");
    safetensors::serialize_to_file([(LATENTS_TENSOR, view)], &Some(metadata), &tmp)
        .map_err(|e| bad(&tmp, format!("cannot write ({e})")))?;
    std::fs::rename(&tmp, path).map_err(io_err("rename to final name", path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(i: usize) -> Clip {
        let pixels = (0..4 * 2 * 3 * 3).map(|v| (v + i) as f32 * 0.1).collect();
        Clip::new(2, 4, 3, 3, pixels, format!("clip {i}"), None).unwrap()
    }

    #[test]
    fn latent_file_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latents.safetensors");
        let clips = vec![clip(0), clip(1), clip(2)];
        write_latent_clips(&path, &clips).unwrap();
        assert_eq!(load_latent_clips(&path).unwrap(), clips);
    }

    #[test]
    fn missing_captions_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latents.safetensors");
        let bytes = vec![0u8; 4 * 8];
        let view = TensorView::new(Dtype::F32, vec![1, 1, 2, 2, 2], &bytes).unwrap();
        safetensors::serialize_to_file([(LATENTS_TENSOR, view)], &None, &path).unwrap();
        let err = load_latent_clips(&path).unwrap_err().to_string();
        assert!(
            err.contains("captions") && err.contains("latents.safetensors"),
            "{err}"
        );
    }

    #[test]
    fn wrong_rank_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l.safetensors");
        let bytes = vec![0u8; 4 * 4];
        let view = TensorView::new(Dtype::F32, vec![1, 4], &bytes).unwrap();
        let meta = HashMap::from([(CAPTIONS_KEY.to_string(), "[\"a\"]".to_string())]);
        safetensors::serialize_to_file([(LATENTS_TENSOR, view)], &Some(meta), &path).unwrap();
        let err = load_latent_clips(&path).unwrap_err().to_string();
        assert!(err.contains("[N, C, T, H, W]"), "{err}");
    }
}
