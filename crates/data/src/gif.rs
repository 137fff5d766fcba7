//! Writing clips for people to look at: looping GIFs and PNG strips, upscaled with nearest
//! neighbour so 32x32 pixels stay crisp.
//!
//! Files are encoded in memory and written with `vidnas_io::write_atomic` (to `<name>.tmp`, then
//! renamed), so a crashed or interrupted run never leaves a half-written file under the final
//! name.

use std::fs::File;
use std::io::Cursor;
use std::path::Path;

use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
use image::imageops::{self, FilterType};
use image::{AnimationDecoder, Delay, Frame, ImageDecoder, RgbImage, RgbaImage};

use crate::clip::Clip;
use crate::error::{io_err, DataError, Result};

/// Writes `clip` as a GIF that loops forever, each pixel drawn as a `scale` x `scale` block and
/// each frame shown for `delay_ms`.
pub fn write_gif(path: &Path, clip: &Clip, scale: u32, delay_ms: u32) -> Result<()> {
    write_gif_rgb8(
        path,
        &clip.to_rgb8_frames(),
        clip.width as u32,
        clip.height as u32,
        scale,
        delay_ms,
    )
}

/// Writes RGB frames (`[H, W, 3]` bytes each, as from [`Clip::to_rgb8_frames`]) as a looping
/// GIF.
pub fn write_gif_rgb8(
    path: &Path,
    frames: &[Vec<u8>],
    width: u32,
    height: u32,
    scale: u32,
    delay_ms: u32,
) -> Result<()> {
    let images = frames
        .iter()
        .enumerate()
        .map(|(t, f)| {
            rgb_image(
                f,
                width,
                height,
                &format!("GIF frame {t} for {}", path.display()),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let scale = scale.max(1);
    let mut bytes = Vec::new();
    {
        // Speed 10 of 30: palettes good enough for flat-coloured shapes, quick to compute.
        let mut enc = GifEncoder::new_with_speed(&mut bytes, 10);
        enc.set_repeat(Repeat::Infinite).map_err(encode_err(path))?;
        for img in &images {
            let big = upscale(img, scale);
            let rgba: RgbaImage = image::DynamicImage::ImageRgb8(big).to_rgba8();
            let frame = Frame::from_parts(rgba, 0, 0, Delay::from_numer_denom_ms(delay_ms, 1));
            enc.encode_frame(frame).map_err(encode_err(path))?;
        }
    }
    Ok(vidnas_io::write_atomic(path, &bytes)?)
}

/// Writes the clip's frames side by side (time left to right) as one PNG.
pub fn write_strip_png(path: &Path, clip: &Clip, scale: u32) -> Result<()> {
    write_grid_png(path, std::slice::from_ref(clip), scale)
}

/// Writes several clips as a PNG grid: one clip per row, time left to right. All clips must
/// share a shape; a 1-pixel (before scaling) dark gap separates frames and rows.
pub fn write_grid_png(path: &Path, clips: &[Clip], scale: u32) -> Result<()> {
    let first = clips.first().ok_or(DataError::EmptyDataset {
        hint: "no clips given to write_grid_png",
    })?;
    let (t_n, h, w) = (first.frames as u32, first.height as u32, first.width as u32);
    let gap = 1;
    let (cell_w, cell_h) = (w + gap, h + gap);
    let mut sheet = RgbImage::from_pixel(
        t_n * cell_w - gap,
        clips.len() as u32 * cell_h - gap,
        image::Rgb([16, 16, 16]),
    );
    for (row, clip) in clips.iter().enumerate() {
        if clip.shape() != first.shape() {
            return Err(DataError::ShapeMismatch {
                what: format!("clip {row} of the grid for {}", path.display()),
                expected: format!("{:?}", first.shape()),
                found: format!("{:?}", clip.shape()),
            });
        }
        for (t, f) in clip.to_rgb8_frames().iter().enumerate() {
            let img = rgb_image(f, w, h, "strip frame")?;
            imageops::replace(
                &mut sheet,
                &img,
                (t as u32 * cell_w) as i64,
                (row as u32 * cell_h) as i64,
            );
        }
    }
    let sheet = upscale(&sheet, scale.max(1));
    let mut png = Cursor::new(Vec::new());
    sheet
        .write_to(&mut png, image::ImageFormat::Png)
        .map_err(encode_err(path))?;
    Ok(vidnas_io::write_atomic(path, png.get_ref())?)
}

/// `(frames, width, height)` of a GIF, for checking written files.
pub fn read_gif_frames(path: &Path) -> Result<(usize, u32, u32)> {
    let file = File::open(path).map_err(io_err("open GIF", path))?;
    let decode_err = |source| DataError::ImageDecode {
        path: path.to_path_buf(),
        source,
    };
    let dec = GifDecoder::new(std::io::BufReader::new(file)).map_err(decode_err)?;
    let (w, h) = dec.dimensions();
    let frames = dec.into_frames().collect_frames().map_err(decode_err)?;
    Ok((frames.len(), w, h))
}

fn rgb_image(bytes: &[u8], w: u32, h: u32, what: &str) -> Result<RgbImage> {
    RgbImage::from_raw(w, h, bytes.to_vec()).ok_or_else(|| DataError::ShapeMismatch {
        what: what.to_string(),
        expected: format!("{} bytes for {w}x{h} RGB", w as usize * h as usize * 3),
        found: format!("{} bytes", bytes.len()),
    })
}

fn upscale(img: &RgbImage, scale: u32) -> RgbImage {
    if scale == 1 {
        return img.clone();
    }
    imageops::resize(
        img,
        img.width() * scale,
        img.height() * scale,
        FilterType::Nearest,
    )
}

fn encode_err(path: &Path) -> impl Fn(image::ImageError) -> DataError + '_ {
    move |source| DataError::ImageEncode {
        path: path.to_path_buf(),
        source,
    }
}
