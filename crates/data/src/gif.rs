//! Writing clips for people to look at: looping GIFs and PNG strips, upscaled with nearest
//! neighbour so 32x32 pixels stay crisp.
//!
//! Files are written to `<name>.tmp` and renamed, so a crashed or interrupted run never leaves a
//! half-written file under the final name.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

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
    atomic_write(path, |file, tmp| {
        // Speed 10 of 30: palettes good enough for flat-coloured shapes, quick to compute.
        let mut enc = GifEncoder::new_with_speed(file, 10);
        enc.set_repeat(Repeat::Infinite).map_err(encode_err(tmp))?;
        for img in &images {
            let big = upscale(img, scale);
            let rgba: RgbaImage = image::DynamicImage::ImageRgb8(big).to_rgba8();
            let frame = Frame::from_parts(rgba, 0, 0, Delay::from_numer_denom_ms(delay_ms, 1));
            enc.encode_frame(frame).map_err(encode_err(tmp))?;
        }
        Ok(())
    })
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
    atomic_write(path, |file, tmp| {
        sheet
            .write_to(file, image::ImageFormat::Png)
            .map_err(encode_err(tmp))
    })
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

/// `path` with ".tmp" appended to its file name.
fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Runs `write` on `<path>.tmp`, flushes it and renames it to `path`; removes the temporary
/// file if anything fails.
fn atomic_write(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>, &Path) -> Result<()>,
) -> Result<()> {
    let tmp = tmp_path(path);
    let result = (|| {
        let file = File::create(&tmp).map_err(io_err("create", &tmp))?;
        let mut out = BufWriter::new(file);
        write(&mut out, &tmp)?;
        out.flush().map_err(io_err("write", &tmp))?;
        let file = out
            .into_inner()
            .map_err(|e| e.into_error())
            .map_err(io_err("write", &tmp))?;
        file.sync_all().map_err(io_err("sync", &tmp))?;
        drop(file);
        fs::rename(&tmp, path).map_err(io_err("rename into place", path))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
