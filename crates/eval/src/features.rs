//! Clip features for distribution distances: the [`VideoFeatures`] trait, so any extractor
//! (the project's classifier, or one a user brings) can feed the Fréchet distance, and its
//! implementation for [`ClipClassifier`]: the activations of the hidden layer the three heads
//! read.

use crate::classifier::{ClipClassifier, FORWARD_BATCH};
use crate::error::{EvalError, Result};
use tch::{Device, Kind, Tensor};
use vidnas_data::{Clip, ProceduralConfig};

/// Maps clips to one feature vector each.
pub trait VideoFeatures {
    /// A name for reports (which network, which layer).
    fn name(&self) -> String;
    /// Length of each feature vector.
    fn dim(&self) -> usize;
    /// The clip shape it reads; clips of any other shape are refused.
    fn clip_shape(&self) -> ProceduralConfig;
    /// Features of `clips`, `[N, dim]`, as `f64` on the CPU. Errors name the clip's shape and
    /// the extractor's when they differ.
    fn features(&self, clips: &[Clip]) -> Result<Tensor>;
}

impl VideoFeatures for ClipClassifier {
    fn name(&self) -> String {
        format!(
            "vidnas clip classifier, hidden layer ({} SiLU activations)",
            self.hidden_dim()
        )
    }

    fn dim(&self) -> usize {
        self.hidden_dim()
    }

    fn clip_shape(&self) -> ProceduralConfig {
        ClipClassifier::clip_shape(self)
    }

    fn features(&self, clips: &[Clip]) -> Result<Tensor> {
        let mut parts = Vec::with_capacity(clips.len().div_ceil(FORWARD_BATCH));
        for chunk in clips.chunks(FORWARD_BATCH) {
            // `stack` refuses clips of another shape, naming both.
            let x = self.stack(chunk)?;
            let f = tch::no_grad(|| self.hidden_features(&x));
            parts.push(f.to_device(Device::Cpu).to_kind(Kind::Double));
        }
        if parts.is_empty() {
            return Ok(Tensor::zeros(
                [0, self.dim() as i64],
                (Kind::Double, Device::Cpu),
            ));
        }
        Ok(Tensor::f_cat(&parts, 0)?)
    }
}

/// Features of `clips` from `extractor`, checked to be `[clips, dim]` and finite (a user's
/// extractor may get either wrong), as `f64` on the CPU.
pub(crate) fn checked_features(extractor: &dyn VideoFeatures, clips: &[Clip]) -> Result<Tensor> {
    let f = extractor.features(clips)?;
    let want = [clips.len() as i64, extractor.dim() as i64];
    if f.size() != want {
        return Err(EvalError::Config(format!(
            "the feature extractor `{}` returned features of shape {:?} for {} clips; it must return [clips, dim] = {:?}",
            extractor.name(),
            f.size(),
            clips.len(),
            want
        )));
    }
    let f = f.f_to_kind(Kind::Double)?.f_to_device(Device::Cpu)?;
    if f.numel() > 0 && !bool::try_from(f.f_isfinite()?.f_all()?)? {
        return Err(EvalError::Config(format!(
            "the feature extractor `{}` returned NaN or infinite features; check its weights",
            extractor.name()
        )));
    }
    Ok(f)
}
