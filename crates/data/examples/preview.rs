//! Writes a PNG grid and a few GIFs of procedural clips to look at by eye.
//!
//! `cargo run -p vidnas-data --example preview -- OUT_DIR [SIZE] [SEED]`

use std::path::PathBuf;

use vidnas_data::{generate, write_gif, write_grid_png, ProceduralConfig};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().unwrap_or_else(|| "preview".into()));
    let size: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(32);
    let seed: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(0);
    std::fs::create_dir_all(&out)?;
    let cfg = ProceduralConfig {
        height: size,
        width: size,
        ..Default::default()
    };
    let clips: Vec<_> = (0..16).map(|i| generate(&cfg, seed, i)).collect();
    let scale = (128 / size as u32).max(1);
    write_grid_png(&out.join("grid.png"), &clips, scale)?;
    for (i, clip) in clips.iter().enumerate().take(4) {
        write_gif(&out.join(format!("clip{i}.gif")), clip, scale * 2, 125)?;
    }
    for (i, clip) in clips.iter().enumerate() {
        println!("{i:2}: {}", clip.caption);
    }
    println!("wrote {}", out.display());
    Ok(())
}
