//! `vidnas export`: cut a front architecture of a search run out of the supernet it was scored
//! with (`vidnas_export::export`), finding the supernet and table from the run's settings.

use crate::paths::{out_dir, plain_name};
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use vidnas_export::{export, ExportRequest, PredictedCost};
use vidnas_search::{finished_rerank_run, load_run, select, RunSettings, Selector};
use vidnas_space::Space;

#[derive(Args)]
pub struct ExportArgs {
    /// Search run folder.
    pub run: PathBuf,
    /// Which front architecture: knee | fastest-under-score:X | best-under-latency:MS | id:ID.
    #[arg(long, default_value = "knee")]
    pub select: String,
    /// Config name: writes <out>/<name>.json and <out>/<name>.safetensors.
    #[arg(long, value_parser = plain_name)]
    pub name: String,
    #[arg(long, default_value = "configs", value_parser = out_dir)]
    pub out: PathBuf,
    /// Search-space file (defaults to the space the supernet run recorded).
    #[arg(long)]
    pub space: Option<PathBuf>,
    /// Supernet run to cut the weights from (defaults to the one the search used, or, for an
    /// architecture the search re-ranked, its fine-tuned run under `RUN/rerank/`).
    #[arg(long)]
    pub supernet: Option<PathBuf>,
    /// Latency table the search used (for provenance; defaults to the one it recorded).
    #[arg(long)]
    pub table: Option<PathBuf>,
}

pub fn run(a: ExportArgs) -> Result<()> {
    // Parsed first: a typo in --select is reported before the weights are read.
    let selector: Selector = a.select.parse()?;
    let settings: RunSettings = vidnas_io::read_json(&a.run.join("run.json"))
        .with_context(|| format!("{}: not a search run folder", a.run.display()))?;
    // Paths the runs recorded are found from any working folder (`resolve_recorded`).
    let supernet = match &a.supernet {
        Some(p) => p.clone(),
        None => settings.supernet_folder(&a.run)?.with_context(|| {
            format!(
                "{} was a predictor-only search: pass --supernet RUN to take weights from",
                a.run.display()
            )
        })?,
    };
    // Provenance only: a table that is gone is named as recorded.
    let table = match &a.table {
        Some(t) => Some(t.clone()),
        None => settings
            .table_file(&a.run)
            .unwrap_or_else(|_| settings.table.as_ref().map(|t| t.path.clone())),
    };
    let space_path = match &a.space {
        Some(p) => p.clone(),
        None => {
            let first = vidnas_supernet::run_holding(&supernet, None)?;
            vidnas_diffusion::RunInfo::load(&first)?.space_file(&first)?
        }
    };
    let space = Space::load(&space_path)?;
    let run = load_run(&a.run, &space)?;
    let row = select(&run.front, &selector)?;
    // A re-ranked architecture: the weights its re-ranking fine-tune left (what its score
    // measured); else a few-shot supernet's part whose region holds it, or the supernet.
    let fine_tuned = a
        .supernet
        .is_none()
        .then(|| finished_rerank_run(&a.run, &row.arch_id))
        .flatten();
    let supernet = match fine_tuned {
        Some(run) => run,
        None => vidnas_supernet::run_holding(&supernet, Some(&row.arch))?,
    };
    let predicted = Some(PredictedCost {
        latency_ms: row.eval.latency_ms,
        peak_mem_mb: row.eval.peak_mem_mb,
        params: row.eval.params,
        table: table
            .as_ref()
            .map_or("unknown".into(), |t| t.display().to_string()),
    });
    let path = export(&ExportRequest {
        space: &space,
        arch: &row.arch,
        supernet_run: &supernet,
        out_dir: &a.out,
        name: &a.name,
        score: row.eval.score,
        predicted,
        table_path: table.as_deref().filter(|t| t.exists()),
        search_run: Some(&a.run),
        search_seed: Some(settings.seed),
        selection: a.select.clone(),
    })?;
    println!(
        "exported {} ({}) to {}",
        row.arch_id,
        row.arch.encode(),
        path.display()
    );
    Ok(())
}
