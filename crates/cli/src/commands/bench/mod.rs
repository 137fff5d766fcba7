//! `vidnas bench …`: benchmarks that print figures.

mod payoff;
mod predict;
mod ranking;
mod search;
mod train_step;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use std::path::Path;
use vidnas_diffusion::{Objective, RunInfo};
use vidnas_space::{Architecture, Space};
use vidnas_supernet::Scorer;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// NSGA-II and random search vs the exhaustive front, predictor objectives.
    Search(search::BenchSearchArgs),
    /// Kendall τ and Spearman ρ of supernets (and other proxies) against stand-alone training,
    /// overall and inside a latency band, with the seed-to-seed ceiling.
    Ranking(ranking::BenchRankingArgs),
    /// Searched architectures against hand-designed baselines at equal latency: pairs each
    /// baseline with its counterpart on a search's front, then judges their stand-alone loss
    /// and measured latency (table, plot).
    Payoff(payoff::BenchPayoffArgs),
    /// Architectures per second of the latency and memory predictor on one thread (the
    /// search's inner loop).
    Predict(predict::BenchPredictArgs),
    /// Training-step time of the supernet in tch against the same model in PyTorch
    /// (diffusers UNet + the temporal ops), interleaved, printed as a ratio.
    TrainStep(train_step::BenchTrainStepArgs),
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Search(a) => search::run(a),
        BenchCommand::Ranking(a) => ranking::run(a),
        BenchCommand::Payoff(a) => payoff::run(a),
        BenchCommand::Predict(a) => predict::run(a),
        BenchCommand::TrainStep(a) => train_step::run(a),
    }
}

/// A stand-alone run's architecture, run.json and validation loss (`bench ranking` and
/// `bench payoff` judge proxies against these); any other run is refused naming its file.
fn score_standalone(space: &Space, run: &Path) -> Result<(Architecture, RunInfo, f64)> {
    let info = RunInfo::load(run)?;
    let Objective::Standalone(arch) = &info.objective else {
        bail!(
            "{}: objective is `{}`, not a stand-alone run; pass runs made by `vidnas train`",
            run.join("run.json").display(),
            info.objective
        )
    };
    let score = Scorer::open(space, run, tch::Device::Cpu)?.score(arch)?;
    Ok((arch.clone(), info, score))
}

/// The index of column `name` in a CSV `header` read from `path`; the error names both and
/// ends with `fix`.
fn csv_column(header: &csv::StringRecord, path: &Path, name: &str, fix: &str) -> Result<usize> {
    header
        .iter()
        .position(|h| h == name)
        .with_context(|| format!("{}: no `{name}` column; {fix}", path.display()))
}
