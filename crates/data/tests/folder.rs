//! Loading real footage from folders of frames.

use std::fs;
use std::path::Path;

use image::{Rgb, RgbImage};
use vidnas_data::{load_folder_dataset, DataError, Dataset, ProceduralConfig};

fn target() -> ProceduralConfig {
    ProceduralConfig {
        frames: 3,
        height: 8,
        width: 8,
        channels: 3,
    }
}

/// Writes a solid-colour frame.
fn frame(path: &Path, rgb: [u8; 3], w: u32, h: u32) {
    RgbImage::from_pixel(w, h, Rgb(rgb)).save(path).unwrap();
}

#[test]
fn loads_clips_resized_in_c_t_h_w() {
    let root = tempfile::tempdir().unwrap();
    let a = root.path().join("clip-a");
    fs::create_dir(&a).unwrap();
    fs::write(a.join("caption.txt"), "A dog\nrunning on grass\n").unwrap();
    // Natural order: 2 before 10. A fourth frame is ignored.
    frame(&a.join("f2.png"), [0, 255, 0], 20, 10);
    frame(&a.join("f10.png"), [0, 0, 255], 20, 10);
    frame(&a.join("f1.png"), [255, 0, 0], 20, 10);
    frame(&a.join("f11.png"), [255, 255, 255], 20, 10);
    let b = root.path().join("clip-b");
    fs::create_dir(&b).unwrap();
    fs::write(b.join("caption.txt"), "waves").unwrap();
    for i in 0..3 {
        frame(&b.join(format!("{i:03}.jpg")), [128, 128, 128], 8, 8);
    }
    fs::write(b.join("notes.md"), "not a frame").unwrap();

    let clips = load_folder_dataset(root.path(), &target()).unwrap();
    assert_eq!(clips.len(), 2);
    let c = &clips[0];
    assert_eq!(c.shape(), [3, 3, 8, 8]);
    assert_eq!(c.caption, "A dog running on grass");
    assert!(c.label.is_none());
    // Frame order red, green, blue, visible in the channel planes.
    let near = |v: f32, want: f32| (v - want).abs() < 0.02;
    assert!(near(c.at(0, 0, 4, 4), 1.0) && near(c.at(1, 0, 4, 4), -1.0));
    assert!(near(c.at(1, 1, 4, 4), 1.0) && near(c.at(0, 1, 4, 4), -1.0));
    assert!(near(c.at(2, 2, 4, 4), 1.0) && near(c.at(1, 2, 4, 4), -1.0));
    assert!(c.pixels.iter().all(|v| (-1.0..=1.0).contains(v)));
    assert_eq!(clips[1].caption, "waves");
    assert!(near(clips[1].at(1, 2, 0, 0), 128.0 / 127.5 - 1.0));

    let ds = Dataset::from_clips(clips).unwrap();
    assert_eq!(ds.shape(), target());
}

#[test]
fn grey_target_averages_channels() {
    let root = tempfile::tempdir().unwrap();
    let a = root.path().join("a");
    fs::create_dir(&a).unwrap();
    fs::write(a.join("caption.txt"), "white").unwrap();
    for i in 0..3 {
        frame(&a.join(format!("{i}.png")), [255, 255, 255], 8, 8);
    }
    let clips = load_folder_dataset(
        root.path(),
        &ProceduralConfig {
            channels: 1,
            ..target()
        },
    )
    .unwrap();
    assert_eq!(clips[0].shape(), [1, 3, 8, 8]);
    assert!(clips[0].pixels.iter().all(|&v| (v - 1.0).abs() < 1e-3));
}

fn error_for(setup: impl FnOnce(&Path)) -> (DataError, std::path::PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("clip-x");
    fs::create_dir(&dir).unwrap();
    setup(&dir);
    let err = load_folder_dataset(root.path(), &target()).unwrap_err();
    (err, dir)
}

#[test]
fn missing_caption_names_the_folder() {
    let (err, dir) = error_for(|d| frame(&d.join("0.png"), [1, 2, 3], 8, 8));
    assert!(matches!(err, DataError::MissingCaption { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains(&dir.display().to_string()) && msg.contains("caption.txt"),
        "{msg}"
    );
}

#[test]
fn empty_caption_names_the_file() {
    let (err, dir) = error_for(|d| fs::write(d.join("caption.txt"), " \n").unwrap());
    assert!(
        err.to_string()
            .contains(&dir.join("caption.txt").display().to_string()),
        "{err}"
    );
}

#[test]
fn no_frames_names_the_folder() {
    let (err, dir) = error_for(|d| fs::write(d.join("caption.txt"), "x").unwrap());
    assert!(matches!(err, DataError::NoFrames { .. }));
    assert!(
        err.to_string().contains(&dir.display().to_string()),
        "{err}"
    );
}

#[test]
fn too_few_frames_names_the_folder_and_counts() {
    let (err, dir) = error_for(|d| {
        fs::write(d.join("caption.txt"), "x").unwrap();
        frame(&d.join("0.png"), [1, 2, 3], 8, 8);
        frame(&d.join("1.png"), [1, 2, 3], 8, 8);
    });
    let msg = err.to_string();
    assert!(
        msg.contains(&dir.display().to_string()) && msg.contains("has 2 frames but clips need 3"),
        "{msg}"
    );
}

#[test]
fn unreadable_image_names_the_file() {
    let (err, dir) = error_for(|d| {
        fs::write(d.join("caption.txt"), "x").unwrap();
        frame(&d.join("0.png"), [1, 2, 3], 8, 8);
        fs::write(d.join("1.png"), b"not a png").unwrap();
        frame(&d.join("2.png"), [1, 2, 3], 8, 8);
    });
    assert!(matches!(err, DataError::ImageDecode { .. }));
    assert!(
        err.to_string()
            .contains(&dir.join("1.png").display().to_string()),
        "{err}"
    );
}

#[test]
fn empty_or_missing_root_is_explained() {
    let root = tempfile::tempdir().unwrap();
    let err = load_folder_dataset(root.path(), &target())
        .unwrap_err()
        .to_string();
    assert!(err.contains("has no clip folders"), "{err}");
    let missing = root.path().join("nope");
    let err = load_folder_dataset(&missing, &target())
        .unwrap_err()
        .to_string();
    assert!(err.contains(&missing.display().to_string()), "{err}");
}

#[test]
fn frames_of_different_sizes_name_both_frames() {
    let (err, dir) = error_for(|d| {
        fs::write(d.join("caption.txt"), "x").unwrap();
        frame(&d.join("0.png"), [1, 2, 3], 8, 8);
        frame(&d.join("1.png"), [1, 2, 3], 8, 8);
        frame(&d.join("2.png"), [1, 2, 3], 8, 8);
        // An unused fourth frame is checked too.
        frame(&d.join("3.png"), [1, 2, 3], 16, 8);
    });
    assert!(matches!(err, DataError::FrameSize { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains(&dir.join("3.png").display().to_string())
            && msg.contains("is 16x8")
            && msg.contains(&dir.join("0.png").display().to_string())
            && msg.contains("8x8"),
        "{msg}"
    );
}

#[test]
fn frames_in_other_image_formats_are_refused() {
    let (err, dir) = error_for(|d| {
        fs::write(d.join("caption.txt"), "x").unwrap();
        for i in 0..3 {
            frame(&d.join(format!("{i}.png")), [1, 2, 3], 8, 8);
        }
        fs::write(d.join("3.webp"), b"RIFF").unwrap();
    });
    assert!(matches!(err, DataError::UnsupportedFrame { .. }));
    let msg = err.to_string();
    assert!(
        msg.contains(&dir.join("3.webp").display().to_string()) && msg.contains(".png"),
        "{msg}"
    );
}

#[test]
fn caption_with_byte_order_mark_is_read_and_non_utf8_is_named() {
    let root = tempfile::tempdir().unwrap();
    let a = root.path().join("a");
    fs::create_dir(&a).unwrap();
    fs::write(a.join("caption.txt"), "\u{feff}a red ball\r\n").unwrap();
    for i in 0..3 {
        frame(&a.join(format!("{i}.png")), [9, 9, 9], 8, 8);
    }
    let clips = load_folder_dataset(root.path(), &target()).unwrap();
    assert_eq!(clips[0].caption, "a red ball");

    fs::write(a.join("caption.txt"), b"caf\xe9").unwrap();
    let err = load_folder_dataset(root.path(), &target())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&a.join("caption.txt").display().to_string()) && err.contains("UTF-8"),
        "{err}"
    );
}

#[test]
fn a_clip_folder_that_is_a_bad_frame_names_the_frame() {
    // A text file with a frame's extension is refused even when it is not among the frames used.
    let (err, dir) = error_for(|d| {
        fs::write(d.join("caption.txt"), "x").unwrap();
        for i in 0..3 {
            frame(&d.join(format!("{i}.png")), [1, 2, 3], 8, 8);
        }
        fs::write(d.join("9.jpg"), "text").unwrap();
    });
    assert!(matches!(err, DataError::ImageDecode { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&dir.join("9.jpg").display().to_string()),
        "{err}"
    );
}
