//! One captioned video clip as a flat `[C, T, H, W]` tensor in [-1, 1].
//!
//! `[C, T, H, W]` is one item of PyTorch's video layout `[B, C, T, H, W]`, so a batch is the
//! concatenation of clips with no transposes, and 3-D convolutions read it directly.

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::label::ClipLabel;

/// A captioned clip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clip {
    /// Number of frames (T).
    pub frames: usize,
    /// Colour channels (C): 3 for RGB, 1 for grey.
    pub channels: usize,
    /// Frame height in pixels (H).
    pub height: usize,
    /// Frame width in pixels (W).
    pub width: usize,
    /// Pixel values in [-1, 1], layout `[C, T, H, W]`.
    pub pixels: Vec<f32>,
    /// The text prompt describing the clip.
    pub caption: String,
    /// The generating parameters, for procedural clips; `None` for real footage.
    pub label: Option<ClipLabel>,
}

impl Clip {
    /// Builds a clip, checking that `pixels` holds exactly `channels * frames * height * width`
    /// values.
    pub fn new(
        frames: usize,
        channels: usize,
        height: usize,
        width: usize,
        pixels: Vec<f32>,
        caption: impl Into<String>,
        label: Option<ClipLabel>,
    ) -> Result<Self> {
        let expected = channels * frames * height * width;
        if pixels.len() != expected {
            return Err(DataError::ShapeMismatch {
                what: "clip pixel buffer".into(),
                expected: format!(
                    "{expected} values for [C={channels}, T={frames}, H={height}, W={width}]"
                ),
                found: format!("{} values", pixels.len()),
            });
        }
        Ok(Clip {
            frames,
            channels,
            height,
            width,
            pixels,
            caption: caption.into(),
            label,
        })
    }

    /// `[C, T, H, W]`.
    pub fn shape(&self) -> [usize; 4] {
        [self.channels, self.frames, self.height, self.width]
    }

    /// Flat index of pixel (c, t, y, x).
    #[inline]
    pub fn index(&self, c: usize, t: usize, y: usize, x: usize) -> usize {
        ((c * self.frames + t) * self.height + y) * self.width + x
    }

    /// Value at (c, t, y, x).
    #[inline]
    pub fn at(&self, c: usize, t: usize, y: usize, x: usize) -> f32 {
        self.pixels[self.index(c, t, y, x)]
    }

    /// Frame `t` as `[C, H, W]`.
    ///
    /// # Panics
    /// If `t >= self.frames`.
    pub fn frame(&self, t: usize) -> Vec<f32> {
        assert!(
            t < self.frames,
            "frame {t} out of range: the clip has {} frames",
            self.frames
        );
        let plane = self.height * self.width;
        let mut out = Vec::with_capacity(self.channels * plane);
        for c in 0..self.channels {
            let start = self.index(c, t, 0, 0);
            out.extend_from_slice(&self.pixels[start..start + plane]);
        }
        out
    }

    /// Every frame as interleaved RGB bytes (`[H, W, 3]`, row-major), ready for PNG or GIF
    /// encoders. Grey clips are repeated into all three channels.
    pub fn to_rgb8_frames(&self) -> Vec<Vec<u8>> {
        let plane = self.height * self.width;
        (0..self.frames)
            .map(|t| {
                let mut out = Vec::with_capacity(plane * 3);
                for p in 0..plane {
                    let (y, x) = (p / self.width, p % self.width);
                    for c in 0..3 {
                        let src = if self.channels == 1 { 0 } else { c };
                        out.push(to_u8(self.at(src, t, y, x)));
                    }
                }
                out
            })
            .collect()
    }
}

/// [-1, 1] to 0..=255, rounding to nearest.
#[inline]
pub(crate) fn to_u8(v: f32) -> u8 {
    (((v.clamp(-1.0, 1.0) + 1.0) * 127.5).round()) as u8
}

/// 0..=255 to [-1, 1].
#[inline]
pub(crate) fn from_u8(v: u8) -> f32 {
    v as f32 / 127.5 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_rejects_wrong_buffer_length() {
        let err = Clip::new(2, 3, 4, 4, vec![0.0; 10], "x", None).unwrap_err();
        assert!(err.to_string().contains("96 values"), "{err}");
    }

    #[test]
    fn frame_and_rgb8_follow_the_layout() {
        // Value encodes (c, t) so the layout is visible.
        let (c_n, t_n, h, w) = (3, 2, 2, 3);
        let mut pixels = vec![0.0; c_n * t_n * h * w];
        for c in 0..c_n {
            for t in 0..t_n {
                for p in 0..h * w {
                    pixels[(c * t_n + t) * h * w + p] = -1.0 + 0.25 * (c * 2 + t) as f32;
                }
            }
        }
        let clip = Clip::new(t_n, c_n, h, w, pixels, "x", None).unwrap();
        let f1 = clip.frame(1);
        assert_eq!(f1.len(), 3 * 6);
        assert_eq!(f1[0], -0.75); // c=0, t=1
        assert_eq!(f1[6], -0.25); // c=1, t=1
        let rgb = clip.to_rgb8_frames();
        assert_eq!(rgb.len(), 2);
        assert_eq!(rgb[1].len(), 2 * 3 * 3);
        assert_eq!(&rgb[1][..3], &[to_u8(-0.75), to_u8(-0.25), to_u8(0.25)]);
    }

    #[test]
    fn u8_conversion_round_trips() {
        for v in 0..=255u8 {
            assert_eq!(to_u8(from_u8(v)), v);
        }
        assert_eq!(to_u8(-1.0), 0);
        assert_eq!(to_u8(1.0), 255);
    }
}
