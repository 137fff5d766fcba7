//! `vidnas bench …`: benchmarks that print figures.

mod ranking;
mod search;
mod train_step;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// NSGA-II and random search vs the exhaustive front, predictor objectives.
    Search(search::BenchSearchArgs),
    /// Kendall τ of supernet scores against stand-alone training, with the seed-to-seed ceiling.
    Ranking(ranking::BenchRankingArgs),
    /// Training-step time of the supernet in tch against the same model in PyTorch
    /// (diffusers UNet + the temporal ops), interleaved, printed as a ratio.
    TrainStep(train_step::BenchTrainStepArgs),
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Search(a) => search::run(a),
        BenchCommand::Ranking(a) => ranking::run(a),
        BenchCommand::TrainStep(a) => train_step::run(a),
    }
}
