//! GIF and PNG output: written atomically, read back with the right size.

use std::fs;

use vidnas_data::{
    generate, read_gif_frames, write_gif, write_grid_png, write_strip_png, ProceduralConfig,
};

#[test]
fn gif_round_trip_has_every_frame_at_scale() {
    let dir = tempfile::tempdir().unwrap();
    let clip = generate(&ProceduralConfig::default(), 1, 0);
    let path = dir.path().join("clip.gif");
    write_gif(&path, &clip, 4, 125).unwrap();
    assert_eq!(read_gif_frames(&path).unwrap(), (8, 128, 128));
    assert!(
        !dir.path().join("clip.gif.tmp").exists(),
        "temporary file left behind"
    );
    // Overwriting works too.
    write_gif(&path, &clip, 1, 100).unwrap();
    assert_eq!(read_gif_frames(&path).unwrap(), (8, 32, 32));
}

#[test]
fn strip_and_grid_have_frames_side_by_side() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = ProceduralConfig {
        frames: 5,
        height: 16,
        width: 24,
        channels: 3,
    };
    let clips: Vec<_> = (0..3).map(|i| generate(&cfg, 2, i)).collect();
    let strip = dir.path().join("strip.png");
    write_strip_png(&strip, &clips[0], 2).unwrap();
    // 5 frames of 24 px with 1 px gaps, scaled by 2.
    assert_eq!(
        image::image_dimensions(&strip).unwrap(),
        ((5 * 25 - 1) * 2, 16 * 2)
    );
    let grid = dir.path().join("grid.png");
    write_grid_png(&grid, &clips, 1).unwrap();
    assert_eq!(
        image::image_dimensions(&grid).unwrap(),
        (5 * 25 - 1, 3 * 17 - 1)
    );
    // Pixel (0, 0) of the strip is the first frame's top-left pixel.
    let img = image::open(&strip).unwrap().to_rgb8();
    assert_eq!(
        img.get_pixel(0, 0).0.to_vec(),
        clips[0].to_rgb8_frames()[0][..3].to_vec()
    );
}

#[test]
fn unwritable_path_is_named_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let clip = generate(&ProceduralConfig::default(), 1, 0);
    let path = dir.path().join("missing-dir").join("clip.gif");
    let err = write_gif(&path, &clip, 2, 100).unwrap_err().to_string();
    assert!(err.contains("missing-dir"), "{err}");
    assert!(fs::read_dir(dir.path()).unwrap().next().is_none());
}

#[test]
fn reading_a_non_gif_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fake.gif");
    fs::write(&path, b"hello").unwrap();
    let err = read_gif_frames(&path).unwrap_err().to_string();
    assert!(err.contains("fake.gif"), "{err}");
}
