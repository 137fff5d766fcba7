//! `vidnas bench ranking`: Kendall τ between supernet scores and stand-alone scores (mean over
//! seeds), with the seed-to-seed τ of the stand-alone runs as the ceiling any proxy can reach
//! (`vidnas_latency::RankAgreement`).

use crate::evaluator::open_supernet;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use vidnas_diffusion::{Objective, RunInfo};
use vidnas_latency::RankAgreement;
use vidnas_space::{Architecture, OpKind, Space};
use vidnas_supernet::Scorer;

#[derive(Args)]
pub struct BenchRankingArgs {
    pub space: PathBuf,
    /// The supernet run whose ranking is judged.
    #[arg(long)]
    pub supernet: PathBuf,
    /// Stand-alone runs (`supernet train --arch A`), any number of seeds per architecture.
    #[arg(long, required = true, num_args = 1..)]
    pub standalone: Vec<PathBuf>,
    /// CSV of per-architecture scores to write.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: BenchRankingArgs) -> Result<()> {
    let space = Space::load(&a.space)?;
    let supernet = open_supernet(&space, &a.supernet, tch::Device::Cpu)?;
    let mut runs = Vec::new();
    for run in &a.standalone {
        let info = RunInfo::load(run)?;
        let Objective::Standalone(arch) = &info.objective else {
            anyhow::bail!(
                "{}: objective is `{}`, not a stand-alone run; pass runs made by `vidnas train`",
                run.join("run.json").display(),
                info.objective
            )
        };
        let score = Scorer::open(&space, run, tch::Device::Cpu)?.score(arch)?;
        runs.push((arch.clone(), info.train.seed, score));
    }
    let image_score = supernet.validation.score(
        &supernet.model,
        &Architecture {
            ops: vec![OpKind::None; space.num_slots()],
        },
    );
    println!("image model (no temporal layers) through the supernet: {image_score:.5}");
    let ranking = RankAgreement::new(runs, |arch| supernet.score(arch))?;
    println!(
        "{:<12} {:>10} {:>10}  stand-alone by seed",
        "id", "supernet", "alone"
    );
    for r in &ranking.archs {
        println!(
            "{:<12} {:>10.5} {:>10.5}  {}",
            r.arch.id(),
            r.proxy,
            r.reference_mean(),
            r.runs_text()
        );
    }
    vidnas_io::write_atomic(&a.out, ranking.csv().as_bytes())?;
    println!(
        "\nsupernet vs stand-alone mean over seeds: {} ({} architectures; 95% bootstrap intervals)",
        ranking.proxy.text(),
        ranking.archs.len()
    );
    if let Some(seeds) = &ranking.seeds {
        println!("stand-alone seed vs seed (the ceiling): {}", seeds.text());
    }
    Ok(())
}
