//! How much of a procedural clip motion explains: the share of a clip's variance that lies in
//! its change over time (each pixel's deviation from its own mean over the frames), by clip
//! shape and by motion. A denoiser that got every frame's appearance right but ignored motion
//! could at best remove the rest; reports/motion/README.md reads these figures.
//!
//! cargo run --release -p vidnas-data --example motion_share

use vidnas_data::{generate, ProceduralConfig};

/// (share of variance over time, mean |frame t+1 − frame t|) of clip `pixels` [C, T, H, W].
fn shares(cfg: &ProceduralConfig, pixels: &[f32]) -> (f64, f64) {
    let (c, t, hw) = (cfg.channels, cfg.frames, cfg.height * cfg.width);
    let mean = pixels.iter().map(|&v| v as f64).sum::<f64>() / pixels.len() as f64;
    let total: f64 = pixels.iter().map(|&v| (v as f64 - mean).powi(2)).sum();
    let (mut over_time, mut step, mut steps) = (0.0, 0.0, 0usize);
    for ch in 0..c {
        for p in 0..hw {
            let at = |f: usize| pixels[(ch * t + f) * hw + p] as f64;
            let m = (0..t).map(at).sum::<f64>() / t as f64;
            over_time += (0..t).map(|f| (at(f) - m).powi(2)).sum::<f64>();
            for f in 1..t {
                step += (at(f) - at(f - 1)).abs();
                steps += 1;
            }
        }
    }
    (over_time / total.max(1e-12), step / steps.max(1) as f64)
}

fn main() {
    let shapes = [
        ("8 frames of 32x32 (tiny)", 8, 32),
        ("16 frames of 32x32", 16, 32),
        ("8 frames of 16x16", 8, 16),
        ("8 frames of 64x64", 8, 64),
    ];
    println!("| clip shape | variance over time (share) | mean abs frame step |");
    println!("|---|---|---|");
    for (name, frames, side) in shapes {
        let cfg = ProceduralConfig {
            frames,
            height: side,
            width: side,
            channels: 3,
        };
        let n = 2000;
        let (mut share, mut step) = (0.0, 0.0);
        for i in 0..n {
            let (s, d) = shares(&cfg, &generate(&cfg, 0, i).pixels);
            share += s;
            step += d;
        }
        println!(
            "| {name} | {:.1} % | {:.4} |",
            100.0 * share / n as f64,
            step / n as f64
        );
    }
    println!();
    println!("| motion (8 frames of 32x32) | variance over time (share) | clips |");
    println!("|---|---|---|");
    let cfg = ProceduralConfig::default();
    let mut by_motion: std::collections::BTreeMap<String, (f64, usize)> = Default::default();
    for i in 0..4000 {
        let clip = generate(&cfg, 0, i);
        let motion = clip.label.expect("procedural clips are labelled").motion;
        let key = motion.as_str().to_string();
        let e = by_motion.entry(key).or_default();
        e.0 += shares(&cfg, &clip.pixels).0;
        e.1 += 1;
    }
    for (motion, (share, n)) in by_motion {
        println!("| {motion} | {:.1} % | {n} |", 100.0 * share / n as f64);
    }
}
