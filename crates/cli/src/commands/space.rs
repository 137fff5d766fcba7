//! `vidnas space show|count|sample|validate`.

use anyhow::Result;
use clap::Subcommand;
use rand::SeedableRng;
use std::path::PathBuf;
use vidnas_space::Space;

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
    /// Draw architectures uniformly at random (deterministic under --seed).
    Sample {
        file: PathBuf,
        /// How many architectures to draw.
        #[arg(short, long, default_value_t = 5)]
        n: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        json: bool,
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
        } => {
            let space = Space::load(file)?;
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            // One sampler for all draws: the same draws as `space.sample`, weights built once.
            let sampler = space.sampler();
            let archs: Vec<_> = (0..n).map(|_| sampler.sample(&mut rng)).collect();
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
