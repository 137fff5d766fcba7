//! `vidnas bench search`: search quality with predictor objectives. The exhaustive front is
//! computed in memory over every architecture; NSGA-II and random search (same number of
//! evaluations) are run as real searches; all hypervolumes use one reference point
//! (`vidnas_search::exhaustive_front`, `vidnas_search::nsga2_and_random`).

use crate::evaluator::PipelineEvaluator;
use crate::values::*;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;
use vidnas_latency::LatencyTable;
use vidnas_search::{exhaustive_front, nsga2_and_random, Budgets, Nsga2Params};
use vidnas_space::Space;

#[derive(Args)]
pub struct BenchSearchArgs {
    pub space: PathBuf,
    #[arg(long)]
    pub table: PathBuf,
    #[arg(long, default_value_t = 100, value_parser = whole(1, MAX_COUNT))]
    pub population: usize,
    #[arg(long, default_value_t = 40, value_parser = whole(1, MAX_COUNT))]
    pub generations: usize,
    /// Seeds to repeat NSGA-II and random search with.
    #[arg(long, default_value = "0,1,2")]
    pub seeds: String,
}

pub fn run(a: BenchSearchArgs) -> Result<()> {
    // Parsed first: a typo is reported before the exhaustive front is computed.
    let seeds: Vec<u64> = a
        .seeds
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()
        .map_err(|e| {
            anyhow::anyhow!(
                "--seeds `{}`: {e}; give whole numbers of 0 or more separated by commas, e.g. 0,1,2",
                a.seeds
            )
        })?;
    let space = Space::load(&a.space)?;
    let table = LatencyTable::load(&a.table)?;
    let mut evaluator =
        PipelineEvaluator::new(&space, &table, &[], None, &vidnas_parallel::Single)?;
    let t0 = Instant::now();
    let exhaustive = exhaustive_front(&space, &mut evaluator, &Budgets::none())?;
    println!(
        "space `{}`: {} architectures; exhaustive front {} points, hypervolume {:.6e} ({:.1} s)",
        space.name(),
        exhaustive.evaluations,
        exhaustive.front.len(),
        exhaustive.hypervolume,
        t0.elapsed().as_secs_f64()
    );
    println!(
        "reference point (latency ms, memory MB, -temporal params): {:?}",
        exhaustive.reference
    );
    println!(
        "\n{:<8} {:>5} {:>12} {:>8} {:>10} {:>9}",
        "algo", "seed", "evaluations", "% space", "HV ratio", "front"
    );
    let nsga2 = Nsga2Params {
        population: a.population,
        generations: a.generations,
        ..Default::default()
    };
    for seed in seeds {
        let dir = tempfile::tempdir()?;
        let searches = nsga2_and_random(
            &space,
            &mut evaluator,
            &exhaustive,
            &nsga2,
            seed,
            Budgets::none(),
            dir.path(),
        )?;
        for s in searches {
            println!(
                "{:<8} {seed:>5} {:>12} {:>7.3}% {:>9.4} {:>9}",
                s.algo,
                s.evaluations,
                100.0 * s.evaluations as f64 / exhaustive.evaluations as f64,
                s.hv_ratio,
                s.front_size
            );
        }
    }
    Ok(())
}
