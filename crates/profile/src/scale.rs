//! Profiling paper-scale spaces at reduced size: every op is timed with fewer frames per clip
//! and its time scaled to the signature's frame count by the ratio of multiply-accumulates.
//!
//! Why frames: spatial ops run on `[batch·t, C, h, w]`, so `t` is a batch dimension for them and
//! cutting it leaves every kernel's shape (channels, resolution, heads, head width) unchanged;
//! their work is exactly linear in `t`. The temporal ops are linear in `t` too (conv1d, conv3d,
//! every projection) except the attention scores of `attn1d` (`t²` per pixel) and `attn3d`
//! (`(t·h·w)²`), which the MAC model below carries. Cutting channels or resolution instead would
//! change the kernels that are timed, and with them their efficiency.
//!
//! The rule, per signature: `scaled = timed × MACs(signature) / MACs(timed shape)` for `ms`,
//! `mean_ms` and `std_ms`; `bytes` is the full-size op's. Normalisation and elementwise work is
//! left out of the MAC count: it is linear in `t` like the bulk, so it moves no ratio by more
//! than the quadratic attention terms do. `vidnas latency profile --scaling-check` times the
//! cheapest signature of every op kind at both sizes to show how well the rule holds.

use crate::timer::Timing;
use vidnas_latency::{Dtype, Entry, Signature, Statistic};

/// Multiply-accumulates of one forward of the op for one clip (batch 1): the formula the
/// latency crate derives from each op's descriptor ([`Signature::macs`]), kept here by name for
/// the scaling rule and its callers.
pub fn macs(sig: &Signature) -> f64 {
    sig.macs()
}

/// Frames of the signature, if it has a frame count (every kind but `time_embed`).
pub fn frames(sig: &Signature) -> Option<u64> {
    match *sig {
        Signature::TimeEmbed { .. } => None,
        Signature::ConvIn { t, .. }
        | Signature::Resnet { t, .. }
        | Signature::Transformer { t, .. }
        | Signature::Downsample { t, .. }
        | Signature::Upsample { t, .. }
        | Signature::ConvOut { t, .. }
        | Signature::TemporalConv { t, .. }
        | Signature::TemporalAttn { t, .. } => Some(t),
    }
}

/// The signature with `t` set to `frames` (unchanged for `time_embed`).
pub fn with_frames(sig: &Signature, frames: u64) -> Signature {
    let mut s = sig.clone();
    match &mut s {
        Signature::TimeEmbed { .. } => {}
        Signature::ConvIn { t, .. }
        | Signature::Resnet { t, .. }
        | Signature::Transformer { t, .. }
        | Signature::Downsample { t, .. }
        | Signature::Upsample { t, .. }
        | Signature::ConvOut { t, .. }
        | Signature::TemporalConv { t, .. }
        | Signature::TemporalAttn { t, .. } => *t = frames,
    }
    s
}

/// How a table is measured at reduced size: every op runs with at most `frames` frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reduction {
    pub frames: u64,
}

impl Reduction {
    /// `frames` must be at least 1.
    pub fn frames(frames: u64) -> Result<Self, String> {
        if frames == 0 {
            return Err(
                "--reduce-frames 0: an op needs at least one frame; use 1 or more (4 keeps \
                 attn1d's sequences non-trivial)"
                    .into(),
            );
        }
        Ok(Self { frames })
    }

    /// The shape actually timed for `sig`: `t` cut to `frames` when it is larger.
    pub fn timed_shape(&self, sig: &Signature) -> Signature {
        match frames(sig) {
            Some(t) if t > self.frames => with_frames(sig, self.frames),
            _ => sig.clone(),
        }
    }

    /// MACs(sig) / MACs(timed shape): what the timed figures are multiplied by.
    pub fn factor(&self, sig: &Signature) -> f64 {
        macs(sig) / macs(&self.timed_shape(sig))
    }

    /// The table's `device.source`: how it was measured and scaled, in words.
    pub fn describe(&self) -> String {
        format!(
            "vidnas latency profile --reduce-frames {f}: measured at reduced size and scaled. \
             Every op was timed with t = min(t, {f}) frames per clip (channels, resolution, \
             heads, text tokens and batch as in its signature) and ms, mean_ms and std_ms were \
             multiplied by MACs(signature) / MACs(timed shape) (crates/profile/src/scale.rs): \
             the frame ratio for every op linear in frames, more for the attention scores of \
             attn1d (t^2) and attn3d ((t*h*w)^2); bytes are the full-size op's",
            f = self.frames
        )
    }
}

/// The table entry of full-size `sig` from `timing` of its reduced shape, scaled by `factor`.
pub fn scaled_entry(
    sig: &Signature,
    factor: f64,
    timing: &Timing,
    statistic: Statistic,
    batch: u64,
    dtype: Dtype,
) -> Entry {
    let ms = match statistic {
        Statistic::Min => timing.min_ms,
        Statistic::P10 => timing.p10_ms,
        Statistic::Median => timing.median_ms,
        Statistic::Mean => timing.mean_ms,
    };
    Entry {
        ms: ms * factor,
        count: timing.count as u64,
        mean_ms: timing.mean_ms * factor,
        std_ms: timing.std_ms * factor,
        bytes: sig.bytes(batch, dtype),
        delegation: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(s: &str) -> Signature {
        s.parse().unwrap()
    }

    #[test]
    fn ops_linear_in_frames_scale_by_the_frame_ratio() {
        let r = Reduction::frames(4).unwrap();
        for s in [
            "conv_in|cin=4|cout=320|t=16|h=64|w=64",
            "resnet|cin=960|cout=320|temb=1280|groups=32|t=16|h=64|w=64",
            "xformer|c=320|heads=8|ctx=768|tokens=77|layers=1|linear=0|groups=32|t=16|h=64|w=64",
            "down|c=320|t=16|h=64|w=64",
            "up|c=640|t=16|h=32|w=32",
            "conv_out|cin=320|cout=4|groups=32|t=16|h=64|w=64",
            "conv1d|c=640|k=3|groups=32|t=16|h=32|w=32",
            "conv3d|c=640|k=3|groups=32|t=16|h=32|w=32",
        ] {
            let s = sig(s);
            assert_eq!(frames(&r.timed_shape(&s)), Some(4), "{s}");
            assert!((r.factor(&s) - 4.0).abs() < 1e-12, "{s}: {}", r.factor(&s));
        }
    }

    #[test]
    fn attention_scores_scale_quadratically() {
        let r = Reduction::frames(4).unwrap();
        // attn3d: 6·T·P·c² + 2·(T·P)²·c with P = 256, c = 1280.
        let full =
            6.0 * 16.0 * 256.0 * 1280.0f64.powi(2) + 2.0 * (16.0f64 * 256.0).powi(2) * 1280.0;
        let cut = 6.0 * 4.0 * 256.0 * 1280.0f64.powi(2) + 2.0 * (4.0f64 * 256.0).powi(2) * 1280.0;
        let a3 = sig("attn3d|c=1280|heads=8|groups=32|t=16|h=16|w=16");
        assert_eq!(macs(&a3), full);
        assert!((r.factor(&a3) - full / cut).abs() < 1e-12);
        assert!(r.factor(&a3) > 4.0 && r.factor(&a3) < 16.0);
        // attn1d: 6·T·P·c² + 2·P·T²·c.
        let a1 = sig("attn1d|c=320|heads=8|groups=32|t=16|h=64|w=64");
        let p = 4096.0;
        let want = (6.0 * 16.0 * p * 320.0f64.powi(2) + 2.0 * p * 256.0 * 320.0)
            / (6.0 * 4.0 * p * 320.0f64.powi(2) + 2.0 * p * 16.0 * 320.0);
        assert!((r.factor(&a1) - want).abs() < 1e-12);
    }

    #[test]
    fn short_clips_and_the_time_embedding_are_timed_as_they_are() {
        let r = Reduction::frames(4).unwrap();
        for s in [
            "time_embed|c=320|temb=1280",
            "conv1d|c=64|k=3|groups=8|t=4|h=16|w=16",
            "attn1d|c=64|heads=4|groups=8|t=2|h=16|w=16",
        ] {
            let s = sig(s);
            assert_eq!(r.timed_shape(&s), s);
            assert_eq!(r.factor(&s), 1.0);
        }
        assert!(Reduction::frames(0).is_err());
    }

    #[test]
    fn entries_carry_the_scaled_statistics_and_full_size_bytes() {
        let s = sig("resnet|cin=320|cout=320|temb=1280|groups=32|t=16|h=64|w=64");
        let r = Reduction::frames(4).unwrap();
        let timing = Timing::from_samples(vec![3.0, 2.0, 4.0, 2.5]);
        let e = scaled_entry(&s, r.factor(&s), &timing, Statistic::Min, 1, Dtype::F32);
        assert_eq!(e.ms, 8.0);
        assert_eq!(e.mean_ms, timing.mean_ms * 4.0);
        assert_eq!(e.std_ms, timing.std_ms * 4.0);
        assert_eq!(e.count, 4);
        assert_eq!(e.bytes, s.bytes(1, Dtype::F32));
        assert!(e.bytes > r.timed_shape(&s).bytes(1, Dtype::F32));
        let e = scaled_entry(&s, 4.0, &timing, Statistic::Median, 1, Dtype::F32);
        assert_eq!(e.ms, timing.median_ms * 4.0);
    }
}
