//! Deterministic procedural text-video clips: one shape of one colour over a dark background,
//! doing one thing over time, captioned from the parameters that drew it.
//!
//! Clip `index` of stream `seed` comes from its own ChaCha8 generator keyed by both numbers, so
//! any clip can be drawn alone (data loaders, resumed runs) and no two (seed, index) pairs share
//! a random stream.
//!
//! Geometry scales with the frame size so the same captions hold at 16x16, 32x32 and 64x64:
//! objects span about a third of the frame, "slow" moves 1 px per frame at 32 px and "fast"
//! 2 px, and every motion is visible within 8 frames.

use std::f32::consts::PI;
use std::sync::OnceLock;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::clip::Clip;
use crate::error::{DataError, Result};
use crate::label::{ClipLabel, Motion, Shape};

/// Shape of the clips to produce (generated or loaded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProceduralConfig {
    /// Frames per clip (T).
    pub frames: usize,
    /// Frame height in pixels (H); at least 8.
    pub height: usize,
    /// Frame width in pixels (W); at least 8.
    pub width: usize,
    /// 3 for RGB, 1 for grey.
    pub channels: usize,
}

impl Default for ProceduralConfig {
    /// 8 RGB frames of 32x32: the toy scale of DESIGN.md.
    fn default() -> Self {
        ProceduralConfig {
            frames: 8,
            height: 32,
            width: 32,
            channels: 3,
        }
    }
}

impl ProceduralConfig {
    /// Checks that clips of this shape can be drawn and read.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, value, hint| Err(DataError::InvalidShape { field, value, hint });
        if self.frames == 0 {
            return bad(
                "frames",
                self.frames,
                "set frames to at least 1 (8 is the toy scale)",
            );
        }
        if self.height < 8 || self.height > 4096 {
            return bad(
                "height",
                self.height,
                "set height between 8 and 4096 pixels",
            );
        }
        if self.width < 8 || self.width > 4096 {
            return bad("width", self.width, "set width between 8 and 4096 pixels");
        }
        if self.channels != 1 && self.channels != 3 {
            return bad(
                "channels",
                self.channels,
                "set channels to 3 (RGB) or 1 (grey)",
            );
        }
        Ok(())
    }

    /// Values in one clip: C * T * H * W.
    pub fn clip_len(&self) -> usize {
        self.channels * self.frames * self.height * self.width
    }
}

/// The random stream of clip `index` in stream `seed`. The ChaCha key holds both numbers
/// verbatim, so distinct pairs can never share a stream.
pub fn clip_rng(seed: u64, index: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&index.to_le_bytes());
    key[16..30].copy_from_slice(b"vidnas-clip-v1");
    ChaCha8Rng::from_seed(key)
}

/// A label drawn uniformly from [`ClipLabel::all_drawable`], so every caption is equally likely.
pub fn sample_label<R: Rng>(rng: &mut R) -> ClipLabel {
    static ALL: OnceLock<Vec<ClipLabel>> = OnceLock::new();
    let all = ALL.get_or_init(ClipLabel::all_drawable);
    all[rng.gen_range(0..all.len())]
}

/// Clip `index` of stream `seed`, with a random label.
///
/// # Panics
/// If `cfg` fails [`ProceduralConfig::validate`]; check configs from users first (the
/// [`crate::Dataset`] constructors do).
pub fn generate(cfg: &ProceduralConfig, seed: u64, index: u64) -> Clip {
    cfg.validate().expect("invalid ProceduralConfig");
    let mut rng = clip_rng(seed, index);
    let label = sample_label(&mut rng);
    render(cfg, label, &mut rng)
}

/// Clip `index` of stream `seed` forced to show `label`; everything else (position, size,
/// background) is drawn as [`generate`] would, so `generate_labeled(c, s, i, generate(c, s, i)
/// .label.unwrap())` is the same clip. Used to build balanced test sets and to check captions.
pub fn generate_labeled(
    cfg: &ProceduralConfig,
    seed: u64,
    index: u64,
    label: ClipLabel,
) -> Result<Clip> {
    cfg.validate()?;
    if let Some(reason) = label.invalid_reason() {
        return Err(DataError::InvalidLabel {
            caption: label.caption(),
            reason,
        });
    }
    let mut rng = clip_rng(seed, index);
    let _ = sample_label(&mut rng); // keep the stream aligned with `generate`
    Ok(render(cfg, label, &mut rng))
}

/// Rotation per frame. Well under half of the smallest symmetry period (90 degrees for the
/// square and cross), so the direction of turn is never ambiguous.
const ROTATION_STEP: f32 = 10.0 * PI / 180.0;
/// Supersampling per pixel axis for anti-aliased edges.
const SUPERSAMPLE: usize = 4;
/// Highest background value per channel; objects have a channel of at least 0.9.
const BACKGROUND_MAX: f32 = 0.3;

/// Where the object is and how it looks in one frame.
#[derive(Debug, Clone, Copy)]
struct ObjectState {
    cx: f32,
    cy: f32,
    /// Half-size in pixels (radius for the circle).
    size: f32,
    /// Radians; increasing turns clockwise on screen because y grows downwards.
    angle: f32,
    rgb: [f32; 3],
    opacity: f32,
}

/// A bound on the half-extent along x and y of the shape tilted by `angle`, in units of
/// `size`: the axis-aligned extent grows by at most |cos| + |sin|, and never exceeds the
/// radius at any rotation.
fn tilted_extent(shape: Shape, angle: f32) -> f32 {
    let axis = match shape {
        Shape::Triangle => TRIANGLE_RADIUS,
        _ => 1.0,
    };
    (axis * (angle.cos().abs() + angle.sin().abs())).min(radius_extent(shape))
}

/// Furthest point from the centre at any rotation, in units of `size`.
fn radius_extent(shape: Shape) -> f32 {
    match shape {
        Shape::Square => std::f32::consts::SQRT_2,
        Shape::Circle => 1.0,
        Shape::Triangle => TRIANGLE_RADIUS,
        Shape::Cross => (1.0f32 + CROSS_ARM * CROSS_ARM).sqrt(),
    }
}

/// Circumradius of the triangle; larger than 1 so its area is close to the other shapes'.
const TRIANGLE_RADIUS: f32 = 1.35;
/// Half-width of the cross's arms relative to their half-length.
const CROSS_ARM: f32 = 0.35;

/// Whether the local point (u, v), in units of `size`, lies inside the unrotated shape.
fn inside(shape: Shape, u: f32, v: f32) -> bool {
    match shape {
        Shape::Square => u.abs() <= 1.0 && v.abs() <= 1.0,
        Shape::Circle => u * u + v * v <= 1.0,
        Shape::Cross => {
            (u.abs() <= 1.0 && v.abs() <= CROSS_ARM) || (u.abs() <= CROSS_ARM && v.abs() <= 1.0)
        }
        Shape::Triangle => {
            // Pointing up (towards row 0), centroid at the origin.
            let r = TRIANGLE_RADIUS;
            let (s, c) = (PI / 6.0).sin_cos();
            let verts = [(0.0, -r), (r * c, r * s), (-r * c, r * s)];
            (0..3).all(|i| {
                let (ax, ay) = verts[i];
                let (bx, by) = verts[(i + 1) % 3];
                (bx - ax) * (v - ay) - (by - ay) * (u - ax) >= 0.0
            })
        }
    }
}

/// Draws `label` with the remaining randomness from `rng`.
fn render(cfg: &ProceduralConfig, label: ClipLabel, rng: &mut ChaCha8Rng) -> Clip {
    let (h, w, t_n) = (cfg.height, cfg.width, cfg.frames);
    let states = object_track(cfg, label, rng);
    let background = Background::sample(h, w, rng);

    let plane = h * w;
    let mut pixels = vec![0.0f32; cfg.clip_len()];
    let mut rgb = vec![[0.0f32; 3]; plane];
    for (t, state) in states.iter().enumerate() {
        for (p, px) in rgb.iter_mut().enumerate() {
            *px = background.at(p, rng);
        }
        draw_object(&mut rgb, h, w, label.shape, state);
        for (p, px) in rgb.iter().enumerate() {
            if cfg.channels == 1 {
                let luma = 0.299 * px[0] + 0.587 * px[1] + 0.114 * px[2];
                pixels[t * plane + p] = luma * 2.0 - 1.0;
            } else {
                for (c, v) in px.iter().enumerate() {
                    pixels[(c * t_n + t) * plane + p] = v * 2.0 - 1.0;
                }
            }
        }
    }
    Clip {
        frames: t_n,
        channels: cfg.channels,
        height: h,
        width: w,
        pixels,
        caption: label.caption(),
        label: Some(label),
    }
}

/// The object's state in every frame.
fn object_track(
    cfg: &ProceduralConfig,
    label: ClipLabel,
    rng: &mut ChaCha8Rng,
) -> Vec<ObjectState> {
    let (h, w, t_n) = (cfg.height as f32, cfg.width as f32, cfg.frames);
    let m = h.min(w);
    // Fraction of the clip elapsed at frame t, 0 at the first frame and 1 at the last.
    let progress = |t: usize| {
        if t_n > 1 {
            t as f32 / (t_n - 1) as f32
        } else {
            0.0
        }
    };
    let margin = 0.5;
    // Centre coordinate range keeping an object of half-extent `e` fully in view.
    let span = |e: f32, dim: f32| (e + margin, (dim - e - margin).max(e + margin));
    let pick = |rng: &mut ChaCha8Rng, (lo, hi): (f32, f32)| {
        if hi > lo {
            rng.gen_range(lo..hi)
        } else {
            lo
        }
    };

    let mut size = m * rng.gen_range(0.14..0.19);
    // A small tilt varies static shapes without turning squares into diamonds.
    let tilt = rng.gen_range(-0.25..0.25);
    let base_rgb = label.colour.rgb();
    let mut states = vec![
        ObjectState {
            cx: w / 2.0,
            cy: h / 2.0,
            size,
            angle: tilt,
            rgb: base_rgb,
            opacity: 1.0,
        };
        t_n
    ];
    let static_centre =
        |rng: &mut ChaCha8Rng, e: f32| (pick(rng, span(e, w)), pick(rng, span(e, h)));

    match label.motion {
        Motion::Move { direction, fast } => {
            let e = size * tilted_extent(label.shape, tilt);
            let (dx, dy) = direction.unit();
            let horizontal = dx != 0.0;
            let dim = if horizontal { w } else { h };
            let (lo, hi) = span(e, dim);
            // Nominal speeds scale with the frame; clamp both (keeping fast = 2 x slow) when a
            // long clip would carry the object out of view.
            let nominal_fast = 2.0 * dim / 32.0;
            let fast_speed = if t_n > 1 {
                nominal_fast.min((hi - lo) / (t_n - 1) as f32)
            } else {
                nominal_fast
            };
            let speed = if fast { fast_speed } else { fast_speed / 2.0 };
            let travel = speed * t_n.saturating_sub(1) as f32;
            let forward = dx + dy > 0.0;
            let start = if forward {
                pick(rng, (lo, hi - travel))
            } else {
                pick(rng, (lo + travel, hi))
            };
            let cross = pick(rng, span(e, if horizontal { h } else { w }));
            for (t, s) in states.iter_mut().enumerate() {
                let along = start + (dx + dy) * speed * t as f32;
                (s.cx, s.cy) = if horizontal {
                    (along, cross)
                } else {
                    (cross, along)
                };
            }
        }
        Motion::RotateClockwise | Motion::RotateCounterclockwise => {
            let sign = if label.motion == Motion::RotateClockwise {
                1.0
            } else {
                -1.0
            };
            let start = rng.gen_range(0.0..2.0 * PI);
            let (cx, cy) = static_centre(rng, size * radius_extent(label.shape));
            for (t, s) in states.iter_mut().enumerate() {
                (s.cx, s.cy) = (cx, cy);
                s.angle = start + sign * ROTATION_STEP * t as f32;
            }
        }
        Motion::Grow | Motion::Shrink => {
            // Roughly a 3x change of size (9x of area) over the clip.
            let small = m * rng.gen_range(0.07..0.09);
            size = m * rng.gen_range(0.22..0.25);
            let (cx, cy) = static_centre(rng, size * tilted_extent(label.shape, tilt));
            for (t, s) in states.iter_mut().enumerate() {
                let p = if label.motion == Motion::Grow {
                    progress(t)
                } else {
                    1.0 - progress(t)
                };
                (s.cx, s.cy) = (cx, cy);
                s.size = small + (size - small) * p;
            }
        }
        Motion::Blink => {
            let (cx, cy) = static_centre(rng, size * tilted_extent(label.shape, tilt));
            // On for two frames, off for two, so 8 frames show two full blinks; short clips
            // alternate every frame so at least one frame is dark.
            let half = if t_n >= 6 { 2 } else { 1 };
            for (t, s) in states.iter_mut().enumerate() {
                (s.cx, s.cy) = (cx, cy);
                s.opacity = if (t / half) % 2 == 0 { 1.0 } else { 0.0 };
            }
        }
        Motion::TurnInto(target) => {
            let (cx, cy) = static_centre(rng, size * tilted_extent(label.shape, tilt));
            let to = target.rgb();
            for (t, s) in states.iter_mut().enumerate() {
                (s.cx, s.cy) = (cx, cy);
                let p = progress(t);
                s.rgb = std::array::from_fn(|c| base_rgb[c] + (to[c] - base_rgb[c]) * p);
            }
        }
    }
    if !matches!(label.motion, Motion::Grow | Motion::Shrink) {
        for s in &mut states {
            s.size = size;
        }
    }
    states
}

/// Blends the anti-aliased object into `rgb` (row-major `[H, W]` of RGB in [0, 1]).
fn draw_object(rgb: &mut [[f32; 3]], h: usize, w: usize, shape: Shape, s: &ObjectState) {
    if s.opacity <= 0.0 || s.size <= 0.0 {
        return;
    }
    let reach = s.size * radius_extent(shape) + 1.0;
    let x0 = (s.cx - reach).floor().max(0.0) as usize;
    let x1 = ((s.cx + reach).ceil().max(0.0) as usize).min(w);
    let y0 = (s.cy - reach).floor().max(0.0) as usize;
    let y1 = ((s.cy + reach).ceil().max(0.0) as usize).min(h);
    let (sin, cos) = s.angle.sin_cos();
    let inv = 1.0 / s.size;
    let step = 1.0 / SUPERSAMPLE as f32;
    for y in y0..y1 {
        for x in x0..x1 {
            let mut hits = 0usize;
            for sy in 0..SUPERSAMPLE {
                for sx in 0..SUPERSAMPLE {
                    let dx = x as f32 + (sx as f32 + 0.5) * step - s.cx;
                    let dy = y as f32 + (sy as f32 + 0.5) * step - s.cy;
                    // Into the shape's own frame: rotate by -angle.
                    let u = (dx * cos + dy * sin) * inv;
                    let v = (-dx * sin + dy * cos) * inv;
                    hits += inside(shape, u, v) as usize;
                }
            }
            if hits > 0 {
                let a = s.opacity * hits as f32 / (SUPERSAMPLE * SUPERSAMPLE) as f32;
                for (dst, &obj) in rgb[y * w + x].iter_mut().zip(&s.rgb) {
                    *dst = *dst * (1.0 - a) + obj * a;
                }
            }
        }
    }
}

/// A dark solid colour or dark two-colour gradient, with a fixed grain and mild per-frame noise.
struct Background {
    /// Noise-free background per pixel, row-major.
    base: Vec<[f32; 3]>,
    /// Amplitude of the per-frame noise.
    flicker: f32,
}

impl Background {
    fn sample(h: usize, w: usize, rng: &mut ChaCha8Rng) -> Self {
        // Leave headroom for the noise so the background stays below BACKGROUND_MAX.
        let dark = |rng: &mut ChaCha8Rng| -> [f32; 3] {
            std::array::from_fn(|_| rng.gen_range(0.0..0.24))
        };
        let a = dark(rng);
        let b = if rng.gen_bool(0.5) { dark(rng) } else { a };
        let theta = rng.gen_range(0.0..2.0 * PI);
        let (dy, dx) = theta.sin_cos();
        // Projection onto the gradient direction, normalised to [0, 1] over the frame.
        let corners = [
            (0.0, 0.0),
            (w as f32, 0.0),
            (0.0, h as f32),
            (w as f32, h as f32),
        ];
        let proj: Vec<f32> = corners.iter().map(|&(x, y)| x * dx + y * dy).collect();
        let lo = proj.iter().cloned().fold(f32::INFINITY, f32::min);
        let hi = proj.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let grain = 0.03;
        let base = (0..h * w)
            .map(|p| {
                let (x, y) = ((p % w) as f32 + 0.5, (p / w) as f32 + 0.5);
                let f = ((x * dx + y * dy - lo) / (hi - lo).max(1e-6)).clamp(0.0, 1.0);
                std::array::from_fn(|c| {
                    (a[c] + (b[c] - a[c]) * f + rng.gen_range(0.0..grain)).min(BACKGROUND_MAX)
                })
            })
            .collect();
        Background {
            base,
            flicker: 0.02,
        }
    }

    /// Pixel `p` of one frame: the base plus fresh noise.
    fn at(&self, p: usize, rng: &mut ChaCha8Rng) -> [f32; 3] {
        let b = self.base[p];
        std::array::from_fn(|c| {
            (b[c] + rng.gen_range(-self.flicker..self.flicker)).clamp(0.0, BACKGROUND_MAX)
        })
    }
}

/// The colour an object of `label` has in frame `t` of `frames` (before anti-aliasing), e.g.
/// for tests and classifiers that look for the object.
pub fn object_colour(label: &ClipLabel, t: usize, frames: usize) -> [f32; 3] {
    let from = label.colour.rgb();
    match label.motion {
        Motion::TurnInto(to) => {
            let p = if frames > 1 {
                t as f32 / (frames - 1) as f32
            } else {
                0.0
            };
            let to = to.rgb();
            std::array::from_fn(|c| from[c] + (to[c] - from[c]) * p)
        }
        _ => from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::label::Colour;

    #[test]
    fn validate_names_the_bad_field() {
        let cfg = ProceduralConfig {
            channels: 4,
            ..Default::default()
        };
        let err = cfg.validate().unwrap_err().to_string();
        assert!(
            err.contains("channels = 4") && err.contains("3 (RGB)"),
            "{err}"
        );
        let cfg = ProceduralConfig {
            frames: 0,
            ..Default::default()
        };
        assert!(cfg
            .validate()
            .unwrap_err()
            .to_string()
            .contains("frames = 0"));
    }

    #[test]
    fn shapes_have_similar_areas() {
        // Count the unit-size shape's area on a fine grid: no shape should dwarf another.
        let areas: Vec<f32> = Shape::ALL
            .iter()
            .map(|&s| {
                let n = 400;
                let hits = (0..n * n)
                    .filter(|i| {
                        let u = -2.0 + 4.0 * (i % n) as f32 / n as f32;
                        let v = -2.0 + 4.0 * (i / n) as f32 / n as f32;
                        inside(s, u, v)
                    })
                    .count();
                16.0 * hits as f32 / (n * n) as f32
            })
            .collect();
        let (lo, hi) = areas
            .iter()
            .fold((f32::MAX, 0.0f32), |(l, h), &a| (l.min(a), h.max(a)));
        assert!(hi / lo < 1.8, "areas {areas:?}");
    }

    #[test]
    fn generate_labeled_matches_generate() {
        let cfg = ProceduralConfig::default();
        for i in 0..5 {
            let clip = generate(&cfg, 9, i);
            let again = generate_labeled(&cfg, 9, i, clip.label.unwrap()).unwrap();
            assert_eq!(clip, again);
        }
    }

    #[test]
    fn undrawable_label_is_an_error() {
        let label = ClipLabel {
            shape: Shape::Circle,
            colour: Colour::Red,
            motion: Motion::RotateClockwise,
        };
        let err = generate_labeled(&ProceduralConfig::default(), 0, 0, label).unwrap_err();
        assert!(
            err.to_string().contains("a red circle rotating clockwise"),
            "{err}"
        );
    }
}
