//! `vidnas space show|count|sample|validate`.

use crate::values::*;
use anyhow::{bail, Result};
use clap::Subcommand;
use rand::SeedableRng;
use std::collections::BTreeSet;
use std::path::PathBuf;
use vidnas_latency::LatencyBand;
use vidnas_space::{Architecture, Space};

#[derive(Subcommand)]
pub enum SpaceCommand {
    /// Print the backbone, the temporal slots and the ops each slot allows.
    Show {
        /// Search-space file, e.g. search-spaces/tiny.json.
        file: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print the exact number of valid architectures (any size: counted with big integers).
    Count {
        file: PathBuf,
        /// Print JSON; `count` is a decimal string, so it stays exact beyond 2^64.
        #[arg(long)]
        json: bool,
    },
    /// Draw distinct architectures uniformly at random (deterministic under --seed), optionally
    /// only those whose predicted latency lies in a band: `--table T --latency-ms 74
    /// --within-pct 5` draws from the architectures predicted at 74 ms ± 5% on T (the in-band
    /// set of a ranking study).
    Sample {
        file: PathBuf,
        /// How many architectures to draw.
        #[arg(short, long, default_value_t = 5, value_parser = whole(1, MAX_COUNT))]
        n: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        json: bool,
        /// Latency table for the band (with --latency-ms).
        #[arg(long, requires = "latency_ms")]
        table: Option<PathBuf>,
        /// Centre of the latency band, predicted on --table.
        #[arg(long, requires = "table", value_parser = positive(MAX_MS))]
        latency_ms: Option<f64>,
        /// Half-width of the band, in percent of --latency-ms.
        #[arg(long, default_value_t = 5.0, requires = "latency_ms", value_parser = positive(100.0))]
        within_pct: f64,
    },
    /// Check a file; exits non-zero with the field and the fix when it is invalid.
    Validate {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cmd: SpaceCommand) -> Result<()> {
    match cmd {
        SpaceCommand::Show { file, json } => show(&Space::load(file)?, json),
        SpaceCommand::Count { file, json } => {
            let space = Space::load(file)?;
            if json {
                let out = serde_json::json!({"space": space.name(), "slots": space.num_slots(), "count": space.count().to_string()});
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!(
                    "{} architectures over {} slots in space `{}`",
                    space.count(),
                    space.num_slots(),
                    space.name()
                );
            }
            Ok(())
        }
        SpaceCommand::Sample {
            file,
            n,
            seed,
            json,
            table,
            latency_ms,
            within_pct,
        } => {
            let space = Space::load(file)?;
            let band = match (table, latency_ms) {
                (Some(table), Some(ms)) => Some(LatencyBand::new(
                    &space,
                    &table,
                    ms,
                    within_pct,
                    ("--latency-ms", "--within-pct"),
                )?),
                _ => None,
            };
            let archs = draw_distinct(&space, n, seed, band.as_ref())?;
            if json {
                let rows: Vec<_> = archs
                    .iter()
                    .map(|a| serde_json::json!({"id": a.id(), "arch": a.encode(), "slots": a.slot_map(&space)}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for a in &archs {
                    println!("{}  {}", a.id(), a.encode());
                }
            }
            Ok(())
        }
        SpaceCommand::Validate { file, json } => {
            let space = Space::load(&file)?;
            if json {
                let out = serde_json::json!({"file": file, "valid": true, "hash": space.hash()});
                println!("{}", serde_json::to_string_pretty(&out)?);
            } else {
                println!(
                    "{}: valid (space `{}`, hash {})",
                    file.display(),
                    space.name(),
                    space.hash()
                );
            }
            Ok(())
        }
    }
}

fn show(space: &Space, json: bool) -> Result<()> {
    if json {
        let out = serde_json::json!({
            "name": space.name(),
            "hash": space.hash(),
            "count": space.count().to_string(),
            "file": space.file,
            "slots": space.slots,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let f = &space.file;
    let b = &f.backbone;
    println!(
        "space `{}` ({}), hash {}",
        f.name,
        space.path.display(),
        space.hash()
    );
    for note in &f.notes {
        println!("  note: {note}");
    }
    println!(
        "video: {} frames of {}x{}, {} channels{}",
        f.video.frames,
        f.video.height,
        f.video.width,
        f.video.channels,
        if f.video.vae_scale_factor > 1 {
            format!(" (latents, VAE x{})", f.video.vae_scale_factor)
        } else {
            String::new()
        }
    );
    println!(
        "backbone: channels {:?}, {} layer(s) per block, down {:?}, mid {}, text width {}, {} heads",
        b.block_out_channels, b.layers_per_block, b.down_block_types, b.mid_block_type, b.cross_attention_dim, b.attention_head_dim
    );
    let (min, max) = space.temporal_layer_bounds();
    println!(
        "temporal layers per architecture: {min}..={max}; {} architectures",
        space.count()
    );
    println!(
        "\n{:<16} {:>8} {:>11}  allowed ops",
        "slot", "channels", "T x H x W"
    );
    for s in &space.slots {
        let ops: Vec<&str> = s.allowed.iter().map(|o| o.as_str()).collect();
        println!(
            "{:<16} {:>8} {:>11}  {}",
            s.name,
            s.channels,
            format!("{}x{}x{}", s.frames, s.height, s.width),
            ops.join(" ")
        );
    }
    Ok(())
}

/// `n` distinct architectures drawn uniformly (from the band when given), in draw order.
/// Gives up, naming the band, after 1000 draws per wanted architecture.
fn draw_distinct(
    space: &Space,
    n: usize,
    seed: u64,
    band: Option<&LatencyBand>,
) -> Result<Vec<Architecture>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    // One sampler for all draws: the same draws as `space.sample`, weights built once.
    let sampler = space.sampler();
    let max_draws = n.saturating_mul(1000).max(1000);
    let (mut seen, mut archs) = (BTreeSet::new(), Vec::with_capacity(n));
    for _ in 0..max_draws {
        if archs.len() == n {
            break;
        }
        let arch = sampler.sample(&mut rng);
        if let Some(band) = band {
            if !band.contains(space, &arch)? {
                continue;
            }
        }
        if seen.insert(arch.encode()) {
            archs.push(arch);
        }
    }
    if archs.len() < n {
        match band {
            Some(b) => bail!(
                "found {} of {n} distinct architectures at {} after {max_draws} draws; widen --within-pct or move --latency-ms toward the space's typical latency",
                archs.len(),
                b.label
            ),
            None => bail!(
                "the space holds fewer than {n} distinct architectures (found {} in {max_draws} draws); ask for fewer",
                archs.len()
            ),
        }
    }
    Ok(archs)
}
