//! `vidnas bench predict`: how many architectures per second the latency and memory predictor
//! (`SlotCostModel::predict`, the search's inner loop) costs on one thread. The architectures
//! are drawn uniformly once, outside the clock; the rate is the best of several rounds, each
//! long enough that the clock's resolution does not matter.

use crate::values::*;
use anyhow::Result;
use clap::Args;
use rand::SeedableRng;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;
use vidnas_latency::{LatencyTable, PredictRequest, SlotCostModel};
use vidnas_space::Space;

#[derive(Args)]
pub struct BenchPredictArgs {
    pub space: PathBuf,
    #[arg(long)]
    pub table: PathBuf,
    /// Distinct uniform architectures cycled through (drawn once, before timing).
    #[arg(long, default_value_t = 4096, value_parser = whole(1, MAX_COUNT))]
    pub archs: usize,
    /// Timed rounds; the fastest is reported (the others show the sitting's noise).
    #[arg(long, default_value_t = 5, value_parser = whole(1, 1000))]
    pub rounds: usize,
    /// Predictions per round.
    #[arg(long, default_value_t = 5_000_000, value_parser = whole(1, 100_000_000))]
    pub predictions: usize,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

pub fn run(a: BenchPredictArgs) -> Result<()> {
    let space = Space::load(&a.space)?;
    let table = LatencyTable::load(&a.table)?;
    let model = SlotCostModel::new(&space, &table, &PredictRequest::for_table(&table))?;
    let sampler = space.sampler();
    let mut rng = rand::rngs::StdRng::seed_from_u64(a.seed);
    let archs: Vec<_> = (0..a.archs).map(|_| sampler.sample(&mut rng)).collect();
    let mut rates = Vec::with_capacity(a.rounds);
    for _ in 0..a.rounds {
        let start = Instant::now();
        let mut checksum = 0.0;
        for arch in archs.iter().cycle().take(a.predictions) {
            let p = model.predict(black_box(arch));
            checksum += p.total_ms + p.peak_mem_bytes as f64;
        }
        black_box(checksum);
        rates.push(a.predictions as f64 / start.elapsed().as_secs_f64());
    }
    let best = rates.iter().cloned().fold(f64::MIN, f64::max);
    let worst = rates.iter().cloned().fold(f64::MAX, f64::min);
    println!(
        "predict: {:.2}M architectures/s on one thread (best of {} rounds of {} predictions; \
         slowest round {:.2}M/s), space `{}` ({} slots), table {}",
        best / 1e6,
        a.rounds,
        a.predictions,
        worst / 1e6,
        space.name(),
        space.num_slots(),
        a.table.display()
    );
    Ok(())
}
