//! Scoring architectures outside a search: `vidnas score` (a list, or one shard of it, into a
//! CSV with predicted latency and memory) and `vidnas supernet score` (printed).

use crate::compute_args::ComputeArgs;
use crate::evaluator::{serve_ranks, PipelineEvaluator};
use crate::paths::out_file;
use crate::values::parse_shard;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::{Path, PathBuf};
use vidnas_latency::LatencyTable;
use vidnas_search::{write_evaluations, Evaluator, Shard};
use vidnas_space::{Architecture, Space};
use vidnas_supernet::{Scorer, SupernetScorer};

/// `vidnas score`: scores a list of architectures (one encoding per line), optionally one shard
/// of it, so a scheduler can fan scoring out; rows go to a CSV.
#[derive(Args)]
pub struct ScoreArgs {
    pub space: PathBuf,
    /// File with one architecture encoding per line (`#` comments allowed).
    #[arg(long)]
    pub archs: PathBuf,
    #[arg(long)]
    pub table: PathBuf,
    #[arg(long)]
    pub supernet: Option<PathBuf>,
    /// Score only lines whose index ≡ i (mod n).
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// CSV to write (arch_id,arch,score,latency_ms,peak_mem_mb,params,temporal_params).
    #[arg(long, value_parser = out_file)]
    pub out: PathBuf,
    /// Device and threads of supernet scoring. Launched on N ranks (mpirun, srun), the list is
    /// split over the ranks and rank 0 writes the CSV.
    #[command(flatten)]
    pub compute: ComputeArgs,
}

pub fn score(a: ScoreArgs) -> Result<()> {
    // The output is written once, at the end: refuse a place it cannot go before scoring.
    let parent = a
        .out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if a.out.is_dir() || !parent.is_dir() {
        bail!(
            "--out {}: {}; give a CSV file path in an existing folder",
            a.out.display(),
            if a.out.is_dir() {
                "is a folder"
            } else {
                "its folder does not exist"
            }
        );
    }
    let space = Space::load(&a.space)?;
    let compute = a.compute.open()?;
    if !compute.is_lead() {
        return serve_ranks(&space, a.supernet.as_deref(), &compute);
    }
    let table = LatencyTable::load(&a.table)?;
    let archs = read_archs(&space, &a.archs)?;
    let mine: Vec<Architecture> = archs
        .into_iter()
        .enumerate()
        .filter(|(i, _)| a.shard.as_ref().is_none_or(|s| i % s.count == s.index))
        .map(|(_, a)| a)
        .collect();
    let scorer = a
        .supernet
        .as_deref()
        .map(|s| SupernetScorer::open(&space, s, compute.device))
        .transpose()?;
    let mut evaluator = PipelineEvaluator::new(&space, &table, &[], scorer, compute.comm.as_ref())?;
    let evals = evaluator.evaluate(&mine).map_err(|e| anyhow::anyhow!(e))?;
    drop(evaluator);
    let rows: Vec<_> = mine.iter().zip(&evals).collect();
    write_evaluations(&a.out, &rows)?;
    eprintln!(
        "{} architectures scored into {}",
        mine.len(),
        a.out.display()
    );
    Ok(())
}

/// The architectures of a list file: one encoding per line, blank lines and `#` comments
/// skipped; at least one, each once (a repeated one would be counted twice). Errors name the
/// file, the line and the reason.
pub(crate) fn read_archs(space: &Space, path: &Path) -> Result<Vec<Architecture>> {
    let text = vidnas_io::read_text(path)?;
    let mut archs = Vec::new();
    let mut first_line = std::collections::HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let arch = space
            .parse_arch(line)
            .with_context(|| format!("{} line {}", path.display(), n + 1))?;
        if let Some(first) = first_line.insert(arch.encode(), n + 1) {
            bail!(
                "{} line {}: the architecture of line {first} again ({}); list each once",
                path.display(),
                n + 1,
                arch.encode()
            );
        }
        archs.push(arch);
    }
    if archs.is_empty() {
        bail!(
            "{}: holds no architectures; write one encoding per line (`vidnas space sample` \
             prints some)",
            path.display()
        );
    }
    Ok(archs)
}

#[derive(Args)]
pub struct SupernetScore {
    /// A supernet (or stand-alone) run folder, or a few-shot folder (`supernet split`).
    pub run: PathBuf,
    /// Architectures to score (canonical encoding); repeat the flag for several.
    #[arg(long, required = true)]
    pub arch: Vec<String>,
    /// The space file; defaults to the one recorded in the run.
    #[arg(long)]
    pub space: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// `vidnas supernet score`: the validation loss of each architecture through a run's weights.
pub fn supernet_score(a: SupernetScore) -> Result<()> {
    let holding = vidnas_supernet::run_holding(&a.run, None)?;
    let info = vidnas_diffusion::RunInfo::load(&holding)?;
    let space_path = match &a.space {
        Some(p) => p.clone(),
        None => info.space_file(&holding)?,
    };
    let space = Space::load(&space_path)
        .with_context(|| format!("loading the run's space {}", space_path.display()))?;
    let compute = a.compute.open()?;
    // A few-shot folder scores each architecture with its part; any single run scores what it
    // holds (a stand-alone run its own architecture).
    let scorer = if a.run.join(vidnas_supernet::fewshot::SPLIT_FILE).exists() {
        SupernetScorer::open(&space, &a.run, compute.device)?
    } else {
        SupernetScorer::single(Scorer::open(&space, &a.run, compute.device)?)
    };
    let mut rows = Vec::new();
    for text in &a.arch {
        let arch = space.parse_arch(text)?;
        let score = scorer.score(&arch)?;
        rows.push(serde_json::json!({"id": arch.id(), "arch": arch.encode(), "score": score}));
        if !a.json {
            println!("{}  {:.6}  {}", arch.id(), score, arch.encode());
        }
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    }
    Ok(())
}
