//! `vidnas`: hardware-aware neural architecture search for on-device text-to-video diffusion.
//! A thin layer over the library crates: parse arguments, call a stage, print the result.

mod commands;

use clap::{Parser, Subcommand};

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
    /// Inspect and check search-space files.
    #[command(subcommand)]
    Space(commands::space::SpaceCommand),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Space(cmd) => commands::space::run(cmd),
    };
    if let Err(err) = result {
        eprintln!("error: {err:#}");
        std::process::exit(1);
    }
}
