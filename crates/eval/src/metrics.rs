//! Clip metrics: distance to a reference clip, distance of the motion (frame-to-frame changes)
//! to the reference's, temporal consistency, and mean ± standard error over prompts.
//!
//! All work on [`Clip`]s (`[C, T, H, W]` in [-1, 1]) and need no libtorch, so they are checked
//! on hand-made clips.

use crate::error::{EvalError, Result};
use serde::{Deserialize, Serialize};
use vidnas_data::Clip;

fn same_shape(a: &Clip, b: &Clip, what: &str) -> Result<()> {
    if a.shape() != b.shape() || a.pixels.len() != b.pixels.len() {
        return Err(EvalError::Config(format!(
            "{what}: clips of different shapes [C, T, H, W] {:?} and {:?}; compare clips of one model",
            a.shape(),
            b.shape()
        )));
    }
    Ok(())
}

/// Mean squared difference of pixel values (range [-1, 1], so at most 4). 0 for identical
/// clips.
pub fn mse(a: &Clip, b: &Clip) -> Result<f64> {
    same_shape(a, b, "mse")?;
    let n = a.pixels.len().max(1) as f64;
    Ok(a.pixels
        .iter()
        .zip(&b.pixels)
        .map(|(x, y)| {
            let d = (*x - *y) as f64;
            d * d
        })
        .sum::<f64>()
        / n)
}

/// Frame-to-frame changes `x[t+1] − x[t]`, layout `[C, T−1, H, W]`.
fn frame_differences(c: &Clip) -> Vec<f64> {
    let (ch, t, hw) = (c.channels, c.frames, c.height * c.width);
    let mut out = Vec::with_capacity(ch * t.saturating_sub(1) * hw);
    for ci in 0..ch {
        for ti in 0..t.saturating_sub(1) {
            let a = (ci * t + ti) * hw;
            let b = a + hw;
            out.extend((0..hw).map(|i| (c.pixels[b + i] - c.pixels[a + i]) as f64));
        }
    }
    out
}

/// Mean squared difference between the frame-to-frame changes of `a` and of `reference`: how
/// far the motion is from the reference's, whatever the still content. 0 for identical clips
/// and for clips that differ by a constant image; 0 for one-frame clips.
pub fn motion_mse(a: &Clip, reference: &Clip) -> Result<f64> {
    same_shape(a, reference, "motion_mse")?;
    let (da, dr) = (frame_differences(a), frame_differences(reference));
    if da.is_empty() {
        return Ok(0.0);
    }
    Ok(da
        .iter()
        .zip(&dr)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        / da.len() as f64)
}

/// Temporal consistency in [0, 1]: `1 − mean |x[t+1] − x[t]| / 2` over every pixel and
/// consecutive frame pair (VBench's "temporal flickering" score, for pixels in [-1, 1]). 1 for a
/// static clip (and for one frame), lower the more frames change. Higher is not better past
/// the reference: a clip that should move must change, so read it next to the 25-step model's
/// and the training clips' own value.
pub fn temporal_consistency(c: &Clip) -> f64 {
    let d = frame_differences(c);
    if d.is_empty() {
        return 1.0;
    }
    1.0 - d.iter().map(|x| x.abs()).sum::<f64>() / d.len() as f64 / 2.0
}

/// Mean and standard error of the mean of a sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stat {
    pub mean: f64,
    /// Standard error of the mean (sample standard deviation / √n); 0 for n < 2.
    pub se: f64,
    pub n: usize,
}

impl Stat {
    pub fn of(xs: &[f64]) -> Stat {
        let n = xs.len();
        if n == 0 {
            return Stat {
                mean: 0.0,
                se: 0.0,
                n,
            };
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        let se = if n < 2 {
            0.0
        } else {
            let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
            (var / n as f64).sqrt()
        };
        Stat { mean, se, n }
    }

    /// Fraction of `true`s, as a [`Stat`] of 0/1 values.
    pub fn of_hits(hits: impl IntoIterator<Item = bool>) -> Stat {
        let xs: Vec<f64> = hits.into_iter().map(|h| f64::from(u8::from(h))).collect();
        Stat::of(&xs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `[1, T, 2, 2]` grey clip whose frame t has every pixel `values[t]`.
    fn flat(values: &[f32]) -> Clip {
        let pixels = values.iter().flat_map(|v| [*v; 4]).collect();
        Clip::new(values.len(), 1, 2, 2, pixels, "test", None).unwrap()
    }

    #[test]
    fn identical_clips_have_zero_distance() {
        let c = flat(&[0.1, -0.3, 0.7]);
        assert_eq!(mse(&c, &c).unwrap(), 0.0);
        assert_eq!(motion_mse(&c, &c).unwrap(), 0.0);
    }

    #[test]
    fn distances_are_hand_computed() {
        let a = flat(&[0.0, 0.0, 0.0]);
        let b = flat(&[0.5, 0.5, 1.0]);
        // Squared differences per frame: 0.25, 0.25, 1 → mean 0.5.
        assert!((mse(&a, &b).unwrap() - 0.5).abs() < 1e-12);
        // Changes of a: 0, 0; of b: 0, 0.5 → squared differences 0, 0.25 → mean 0.125.
        assert!((motion_mse(&a, &b).unwrap() - 0.125).abs() < 1e-12);
        // A constant offset has the same motion.
        let c = flat(&[0.5, 0.5, 0.5]);
        assert_eq!(motion_mse(&a, &c).unwrap(), 0.0);
        assert!((mse(&a, &c).unwrap() - 0.25).abs() < 1e-12);
    }

    #[test]
    fn a_static_clip_is_perfectly_consistent_and_flicker_is_not() {
        assert_eq!(temporal_consistency(&flat(&[0.3, 0.3, 0.3, 0.3])), 1.0);
        assert_eq!(temporal_consistency(&flat(&[0.3])), 1.0);
        // Alternating −1, 1: every change is 2, the largest possible.
        assert_eq!(temporal_consistency(&flat(&[-1.0, 1.0, -1.0])), 0.0);
        // Changes 0.2 and 0.6 → mean |Δ| 0.4 → 1 − 0.2.
        let c = flat(&[0.0, 0.2, -0.4]);
        assert!((temporal_consistency(&c) - 0.8).abs() < 1e-6);
    }

    #[test]
    fn shapes_must_match() {
        let a = flat(&[0.0, 0.0]);
        let b = flat(&[0.0, 0.0, 0.0]);
        assert!(mse(&a, &b).is_err());
        assert!(motion_mse(&a, &b).is_err());
    }

    #[test]
    fn stat_is_mean_and_standard_error() {
        let s = Stat::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.mean, 2.5);
        // Sample variance 5/3, se = sqrt(5/3 / 4).
        assert!((s.se - (5.0f64 / 12.0).sqrt()).abs() < 1e-12);
        assert_eq!(Stat::of_hits([true, false, true, true]).mean, 0.75);
        assert_eq!(Stat::of(&[]).n, 0);
    }
}
