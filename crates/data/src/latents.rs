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

use crate::clip::Clip;
use crate::error::{DataError, Result};
use crate::tensor_file::TensorFile;

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

/// Reads every clip of a latent file (see the module docs for its layout). Everything is checked
/// before any clip is built: the file's integrity, the tensor's dtype and shape, one non-empty
/// caption per clip, and finite values.
pub fn load_latent_clips(path: &Path) -> Result<Vec<Clip>> {
    let file = TensorFile::open(path)?;
    let view = file.tensor(LATENTS_TENSOR).ok_or_else(|| {
        file.bad(format!(
            "{}; store the latents [N, C, T, H, W] under that name",
            file.missing(LATENTS_TENSOR)
        ))
    })?;
    if view.dtype != Dtype::F32 {
        return Err(file.bad(format!(
            "tensor `{LATENTS_TENSOR}` is {:?} but latents must be F32 (float32); save them with \
             `latents.float()`",
            view.dtype
        )));
    }
    let shape = view.shape.clone();
    let [n, c, t, h, w] = shape[..] else {
        return Err(file.bad(format!(
            "tensor `{LATENTS_TENSOR}` has shape {shape:?} (rank {}); expected rank 5, \
             [N, C, T, H, W]: stack the clips' [C, T, H, W] latents along a first axis",
            shape.len()
        )));
    };
    if let Some(axis) = shape.iter().position(|&d| d == 0) {
        return Err(file.bad(format!(
            "tensor `{LATENTS_TENSOR}` has shape {shape:?}: its {} axis is empty; every \
             axis of [N, C, T, H, W] needs at least one entry",
            ["N", "C", "T", "H", "W"][axis]
        )));
    }
    let captions = captions(&file, n)?;
    let per_clip = c * t * h * w;
    if let Some(i) = vidnas_io::first_non_finite(Dtype::F32, view.data) {
        return Err(file.bad(format!(
            "tensor `{LATENTS_TENSOR}`: clip {} (\"{}\") holds a NaN or infinite value; \
             re-encode that clip (a VAE run in float16 can overflow: encode in float32)",
            i / per_clip,
            captions[i / per_clip]
        )));
    }
    let values: Vec<f32> = view
        .data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    captions
        .into_iter()
        .zip(values.chunks_exact(per_clip))
        .map(|(caption, pixels)| Clip::new(t, c, h, w, pixels.to_vec(), caption, None))
        .collect()
}

/// The `captions` metadata: a JSON list of `n` non-empty strings.
fn captions(file: &TensorFile, n: usize) -> Result<Vec<String>> {
    let fix = format!(
        "save the file with metadata={{\"{CAPTIONS_KEY}\": json.dumps(captions)}}, one caption \
         per clip"
    );
    let json = file
        .metadata(CAPTIONS_KEY)
        .ok_or_else(|| file.bad(format!("metadata has no `{CAPTIONS_KEY}`; {fix}")))?;
    let captions: Vec<String> = serde_json::from_str(json).map_err(|e| {
        file.bad(format!(
            "metadata `{CAPTIONS_KEY}` is not a JSON list of strings ({e}); {fix}"
        ))
    })?;
    if captions.len() != n {
        return Err(file.bad(format!(
            "metadata `{CAPTIONS_KEY}` lists {} captions but tensor `{LATENTS_TENSOR}` holds {n} \
             clips; {fix}",
            captions.len()
        )));
    }
    if let Some(i) = captions.iter().position(|c| c.trim().is_empty()) {
        return Err(file.bad(format!(
            "metadata `{CAPTIONS_KEY}`: caption {i} is empty; every clip needs a caption"
        )));
    }
    Ok(captions)
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
    let bytes = safetensors::serialize([(LATENTS_TENSOR, view)], &Some(metadata))
        .map_err(|e| bad(path, format!("cannot serialise ({e})")))?;
    Ok(vidnas_io::write_atomic(path, &bytes)?)
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

    /// Writes `latents` with the given dtype, shape and captions; returns the load error.
    fn refused(dtype: Dtype, shape: Vec<usize>, bytes: &[u8], captions: Option<&str>) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lat.safetensors");
        let view = TensorView::new(dtype, shape, bytes).unwrap();
        let meta = captions.map(|c| HashMap::from([(CAPTIONS_KEY.to_string(), c.to_string())]));
        safetensors::serialize_to_file([(LATENTS_TENSOR, view)], &meta, &path).unwrap();
        let err = load_latent_clips(&path).unwrap_err().to_string();
        assert!(err.contains("lat.safetensors"), "{err}");
        err
    }

    #[test]
    fn every_malformed_latent_file_is_named() {
        let err = refused(Dtype::I64, vec![1, 1, 1, 1, 1], &[0; 8], Some("[\"a\"]"));
        assert!(
            err.contains("is I64") && err.contains("latents.float()"),
            "{err}"
        );
        let err = refused(Dtype::F32, vec![1, 0, 1, 1, 1], &[], Some("[\"a\"]"));
        assert!(err.contains("C axis is empty"), "{err}");
        let err = refused(Dtype::F32, vec![2, 1, 1, 1, 1], &[0; 8], Some("[\"a\"]"));
        assert!(
            err.contains("lists 1 captions") && err.contains("holds 2 clips"),
            "{err}"
        );
        let err = refused(Dtype::F32, vec![1, 1, 1, 1, 1], &[0; 4], Some("{\"a\": 1}"));
        assert!(err.contains("not a JSON list of strings"), "{err}");
        let err = refused(Dtype::F32, vec![1, 1, 1, 1, 1], &[0; 4], Some("[\" \"]"));
        assert!(err.contains("caption 0 is empty"), "{err}");
        let nan: Vec<u8> = [0.0f32, f32::NAN]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let err = refused(
            Dtype::F32,
            vec![2, 1, 1, 1, 1],
            &nan,
            Some("[\"a\", \"b\"]"),
        );
        assert!(
            err.contains("clip 1 (\"b\")") && err.contains("NaN"),
            "{err}"
        );
    }

    #[test]
    fn truncated_and_foreign_files_are_explained() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latents.safetensors");
        write_latent_clips(&path, &[clip(0)]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
        let err = load_latent_clips(&path).unwrap_err().to_string();
        assert!(
            err.contains("truncated") && err.contains("save_file"),
            "{err}"
        );
        let other = dir.path().join("other.safetensors");
        let view = TensorView::new(Dtype::F32, vec![1], &[0; 4]).unwrap();
        safetensors::serialize_to_file([("x", view)], &None, &other).unwrap();
        let err = load_latent_clips(&other).unwrap_err().to_string();
        assert!(
            err.contains("has no tensor `latents` (it holds `x`)"),
            "{err}"
        );
    }
}
