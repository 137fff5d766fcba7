//! `vidnas`: hardware-aware neural architecture search for on-device text-to-video diffusion.
//! A thin layer over the library crates: parse arguments, call a stage, print the result.

mod commands;
mod compute_args;
mod csv_file;
mod evaluator;
#[cfg(test)]
mod every_numeric_flag;
mod paths;
mod values;

use clap::{ArgAction, CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "vidnas",
    version,
    about = "Search which temporal layers to add to an image diffusion UNet, and where, under \
             measured latency and memory budgets (the SnapGen-V recipe).",
    long_about = None,
    after_help = "Start with `vidnas demo` for the whole pipeline on the tiny space, or \
                  `vidnas space show search-spaces/tiny.json` to see a search space."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole pipeline on the tiny space: profile, pretrain, supernet, search, report, export.
    Demo(commands::demo::DemoArgs),
    /// Write a search space whose backbone is a diffusers UNet2DConditionModel folder's.
    ImportBackbone(commands::import::ImportBackboneArgs),
    /// Inspect and check search-space files.
    #[command(subcommand)]
    Space(commands::space::SpaceCommand),
    /// Measure latency tables, predict latency and memory, validate predictions.
    #[command(subcommand)]
    Latency(commands::latency::LatencyCommand),
    /// Stage 1: train the spatial backbone as a text-to-image model on single frames.
    PretrainImage(commands::train::PretrainImage),
    /// Train one architecture stand-alone from the stage-1 weights (a ranking reference).
    Train(commands::train::StandaloneTrain),
    /// Train the weight-sharing temporal supernet and score architectures with it.
    #[command(subcommand)]
    Supernet(commands::train::SupernetCommand),
    /// Search temporal-layer architectures under latency and memory budgets.
    Search(commands::search::SearchCommand),
    /// Score a list of architectures (or one shard of it) into a CSV.
    Score(commands::score::ScoreArgs),
    /// Plot a search run: Pareto front, op map, latency breakdown, hypervolume.
    Report(commands::report::ReportArgs),
    /// Export a front architecture as configs/<name>.json plus its weights.
    Export(commands::export::ExportArgs),
    /// Fine-tune an exported architecture stand-alone from its weights: the multi-step teacher.
    Finetune(commands::fewstep::FinetuneArgs),
    /// Distil the teacher into a few-step (4-step) student by adversarial fine-tuning.
    Distill(commands::fewstep::DistillArgs),
    /// Evaluate generated video: train the prompt-faithfulness classifier, measure one model
    /// against real clips (Fréchet distance, faithfulness, temporal consistency), or compare the
    /// few-step student with its teacher.
    #[command(subcommand)]
    Eval(commands::eval::EvalCommand),
    /// Generate a clip from a prompt with an exported architecture (animated GIF + PNG strip).
    Sample(commands::sample::SampleArgs),
    /// Benchmarks that print figures (search quality against exhaustive search).
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
}

/// Every flag that takes a value takes `-1` as its value (`--steps -1` as `--steps=-1`), so
/// a negative number reaches the flag's own range check instead of being read as an unknown
/// short flag.
fn negatives_reach_their_check(cmd: clap::Command) -> clap::Command {
    cmd.mut_args(|arg| {
        let takes_value = matches!(arg.get_action(), ArgAction::Set | ArgAction::Append);
        arg.allow_negative_numbers(takes_value)
    })
    .mut_subcommands(negatives_reach_their_check)
}

fn main() {
    let matches = negatives_reach_their_check(Cli::command()).get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let result = match cli.command {
        Command::Demo(args) => commands::demo::run(args),
        Command::ImportBackbone(args) => commands::import::run(args),
        Command::Space(cmd) => commands::space::run(cmd),
        Command::Latency(cmd) => commands::latency::run(cmd),
        Command::PretrainImage(args) => commands::train::pretrain_image(args),
        Command::Train(args) => commands::train::standalone(args),
        Command::Supernet(cmd) => commands::train::supernet(cmd),
        Command::Search(cmd) => commands::search::run(cmd),
        Command::Score(args) => commands::score::score(args),
        Command::Report(args) => commands::report::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Finetune(args) => commands::fewstep::finetune_cmd(args),
        Command::Distill(args) => commands::fewstep::distill_cmd(args),
        Command::Eval(cmd) => commands::eval::run(cmd),
        Command::Sample(args) => commands::sample::run(args),
        Command::Bench(cmd) => commands::bench::run(cmd),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
