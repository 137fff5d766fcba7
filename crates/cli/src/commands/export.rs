//! `vidnas report` and `vidnas export`.

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use vidnas_export::{export, ExportRequest, PredictedCost};
use vidnas_report::{write_report, ReportOptions};
use vidnas_search::{load_run, select, Selector};
use vidnas_space::Space;

#[derive(Args)]
pub struct ReportArgs {
    /// Search run folder.
    pub run: PathBuf,
    /// Folder for the plots (PNG and SVG) and index.md / index.html.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn report(a: ReportArgs) -> Result<()> {
    let files = write_report(&a.run, &a.out, &ReportOptions::default())?;
    for f in files {
        println!("{}", f.display());
    }
    Ok(())
}

#[derive(Args)]
pub struct ExportArgs {
    /// Search run folder.
    pub run: PathBuf,
    /// Which front architecture: knee | fastest-under-score:X | best-under-latency:MS | id:ID.
    #[arg(long, default_value = "knee")]
    pub select: String,
    /// Config name: writes <out>/<name>.json and <out>/<name>.safetensors.
    #[arg(long)]
    pub name: String,
    #[arg(long, default_value = "configs")]
    pub out: PathBuf,
    /// Search-space file (defaults to the space the supernet run recorded).
    #[arg(long)]
    pub space: Option<PathBuf>,
    /// Supernet run to cut the weights from (defaults to the one the search used).
    #[arg(long)]
    pub supernet: Option<PathBuf>,
    /// Latency table the search used (for provenance; defaults to the one it recorded).
    #[arg(long)]
    pub table: Option<PathBuf>,
}

/// Path part of an id string like `runs/x (0123abcd)`.
fn path_of(id: &str) -> PathBuf {
    PathBuf::from(id.rsplit_once(" (").map_or(id, |(p, _)| p))
}

pub fn export_cmd(a: ExportArgs) -> Result<()> {
    // Parsed first: a typo in --select is reported before the weights are read.
    let selector: Selector = a.select.parse()?;
    let settings_text = std::fs::read_to_string(a.run.join("run.json"))
        .with_context(|| format!("{}: not a search run folder", a.run.display()))?;
    let settings: serde_json::Value = serde_json::from_str(&settings_text)?;
    let supernet = match (&a.supernet, settings["supernet_id"].as_str()) {
        (Some(p), _) => p.clone(),
        (None, Some(id)) => path_of(id),
        (None, None) => anyhow::bail!(
            "{} was a predictor-only search: pass --supernet RUN to take weights from",
            a.run.display()
        ),
    };
    let table = a
        .table
        .clone()
        .or_else(|| settings["table_id"].as_str().map(path_of));
    let space_path = match &a.space {
        Some(p) => p.clone(),
        None => vidnas_diffusion::RunInfo::load(&supernet)?.space_path,
    };
    let space = Space::load(&space_path)?;
    let run = load_run(&a.run, &space)?;
    let row = select(&run.front, &selector)?;
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
        search_seed: settings["seed"].as_u64(),
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
