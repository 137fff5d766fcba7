//! Loader for real footage: one sub-folder per clip, holding its frames as PNG or JPEG files and
//! a `caption.txt`.
//!
//! ```text
//! my-footage/
//!   dog-running/   caption.txt  0001.png 0002.png ...
//!   waves/         caption.txt  frame_1.jpg frame_2.jpg ...
//! ```
//!
//! Frames are ordered by file name with digit runs compared as numbers, so `frame_10.png`
//! follows `frame_9.png` whether or not the numbers are zero-padded.

use std::cmp::Ordering;
use std::fs;
use std::path::{Path, PathBuf};

use image::imageops::{self, FilterType};
use image::RgbImage;

use crate::clip::{from_u8, Clip};
use crate::error::{io_err, DataError, Result};
use crate::procedural::ProceduralConfig;

/// Name of the caption file inside each clip folder.
pub const CAPTION_FILE: &str = "caption.txt";

/// Loads every clip folder under `root` (in natural name order), resized to `shape`.
///
/// Each clip keeps its first `shape.frames` frames; a folder with fewer is an error naming it,
/// rather than a silently shorter or padded clip.
pub fn load_folder_dataset(root: &Path, shape: &ProceduralConfig) -> Result<Vec<Clip>> {
    shape.validate()?;
    let mut dirs = Vec::new();
    for entry in fs::read_dir(root).map_err(io_err("read data folder", root))? {
        let entry = entry.map_err(io_err("read data folder", root))?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if path.is_dir() && !hidden {
            dirs.push(path);
        }
    }
    if dirs.is_empty() {
        return Err(DataError::NoClips {
            root: root.to_path_buf(),
        });
    }
    dirs.sort_by(|a, b| natural_cmp(&file_name(a), &file_name(b)));
    dirs.iter().map(|d| load_clip_folder(d, shape)).collect()
}

/// Loads one clip folder, resized to `shape`.
pub fn load_clip_folder(dir: &Path, shape: &ProceduralConfig) -> Result<Clip> {
    shape.validate()?;
    let caption = read_caption(dir)?;
    let frames = frame_files(dir)?;
    if frames.is_empty() {
        return Err(DataError::NoFrames {
            dir: dir.to_path_buf(),
        });
    }
    if frames.len() < shape.frames {
        return Err(DataError::TooFewFrames {
            dir: dir.to_path_buf(),
            found: frames.len(),
            needed: shape.frames,
        });
    }

    // Every frame, used or not, must be an image of the first frame's size: a stray frame of
    // another size or format means the folder holds something other than one clip.
    let decode = |path: &PathBuf| {
        let path = path.clone();
        move |source: image::ImageError| DataError::ImageDecode { path, source }
    };
    let first_size = image::image_dimensions(&frames[0]).map_err(decode(&frames[0]))?;
    for path in &frames[1..] {
        let size = image::image_dimensions(path).map_err(decode(path))?;
        if size != first_size {
            return Err(DataError::FrameSize {
                path: path.clone(),
                found: size,
                first: frames[0].clone(),
                expected: first_size,
            });
        }
    }

    let (t_n, h, w) = (shape.frames, shape.height, shape.width);
    let plane = h * w;
    let mut pixels = vec![0.0f32; shape.clip_len()];
    for (t, path) in frames.iter().take(t_n).enumerate() {
        let img = image::open(path).map_err(decode(path))?.to_rgb8();
        let img = fit(&img, w as u32, h as u32);
        for (p, px) in img.pixels().enumerate() {
            if shape.channels == 1 {
                let [r, g, b] = px.0.map(from_u8);
                pixels[t * plane + p] = 0.299 * r + 0.587 * g + 0.114 * b;
            } else {
                for c in 0..3 {
                    pixels[(c * t_n + t) * plane + p] = from_u8(px.0[c]);
                }
            }
        }
    }
    Clip::new(t_n, shape.channels, h, w, pixels, caption, None)
}

/// The caption as one line with single spaces.
fn read_caption(dir: &Path) -> Result<String> {
    let path = dir.join(CAPTION_FILE);
    if !path.is_file() {
        return Err(DataError::MissingCaption {
            dir: dir.to_path_buf(),
        });
    }
    let bytes = fs::read(&path).map_err(io_err("read caption file", &path))?;
    // Editors on Windows may start the file with a byte-order mark; it is not part of the text.
    let bytes = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| DataError::BadFile {
        path: path.clone(),
        problem: format!(
            "is not UTF-8 text (invalid byte at offset {}); save the caption as UTF-8",
            e.valid_up_to()
        ),
    })?;
    let caption = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if caption.is_empty() {
        return Err(DataError::EmptyCaption { path });
    }
    Ok(caption)
}

/// Image formats that are not read as frames: refused rather than skipped, since skipping them
/// would silently drop frames from the clip.
const OTHER_IMAGES: [&str; 7] = ["gif", "webp", "bmp", "tif", "tiff", "tga", "exr"];

/// PNG and JPEG files in `dir`, in natural name order. Other files (notes, metadata) are
/// ignored, except images in other formats.
fn frame_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(io_err("read clip folder", dir))? {
        let path = entry.map_err(io_err("read clip folder", dir))?.path();
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if !path.is_file() {
            continue;
        }
        if matches!(ext.as_str(), "png" | "jpg" | "jpeg") {
            files.push(path);
        } else if OTHER_IMAGES.contains(&ext.as_str()) {
            return Err(DataError::UnsupportedFrame { path });
        }
    }
    files.sort_by(|a, b| natural_cmp(&file_name(a), &file_name(b)));
    Ok(files)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Centre-crops to the target aspect ratio, then resizes with a triangle filter, so shapes are
/// not stretched when footage and model disagree on aspect.
fn fit(img: &RgbImage, w: u32, h: u32) -> RgbImage {
    let (iw, ih) = img.dimensions();
    if (iw, ih) == (w, h) {
        return img.clone();
    }
    // Largest window of aspect w:h inside the image.
    let (cw, ch) = if iw as u64 * h as u64 > ih as u64 * w as u64 {
        (((ih as u64 * w as u64) / h as u64).max(1) as u32, ih)
    } else {
        (iw, ((iw as u64 * h as u64) / w as u64).max(1) as u32)
    };
    let cropped = imageops::crop_imm(img, (iw - cw) / 2, (ih - ch) / 2, cw, ch).to_image();
    imageops::resize(&cropped, w, h, FilterType::Triangle)
}

/// Compares names with digit runs as numbers: "f9" < "f10", "a2b" < "a10a".
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.find(|c: char| !c.is_ascii_digit()).unwrap_or(a.len());
                let nb = b.find(|c: char| !c.is_ascii_digit()).unwrap_or(b.len());
                let (da, db) = (
                    a[..na].trim_start_matches('0'),
                    b[..nb].trim_start_matches('0'),
                );
                // Longer digit run (ignoring leading zeros) is the larger number.
                let ord = da
                    .len()
                    .cmp(&db.len())
                    .then_with(|| da.cmp(db))
                    .then_with(|| na.cmp(&nb));
                if ord != Ordering::Equal {
                    return ord;
                }
                (a, b) = (&a[na..], &b[nb..]);
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                (a, b) = (&a[x.len_utf8()..], &b[y.len_utf8()..]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_compares_numbers() {
        let mut names = vec!["f10.png", "f9.png", "f1.png", "f002.png", "g.png", "f.png"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            ["f.png", "f1.png", "f002.png", "f9.png", "f10.png", "g.png"]
        );
    }

    #[test]
    fn fit_crops_to_aspect_before_resizing() {
        // Left half red, right half blue, 8x4: cropping to a square keeps both colours in the
        // middle, resizing gives the target size.
        let img = RgbImage::from_fn(8, 4, |x, _| {
            if x < 4 {
                image::Rgb([255, 0, 0])
            } else {
                image::Rgb([0, 0, 255])
            }
        });
        let out = fit(&img, 2, 2);
        assert_eq!(out.dimensions(), (2, 2));
        assert!(out.get_pixel(0, 0).0[0] > 200 && out.get_pixel(1, 0).0[2] > 200);
    }
}
