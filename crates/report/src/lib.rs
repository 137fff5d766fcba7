//! Reports of vidnas search runs: reads a run folder (run.json, summary.json,
//! results_with_front.csv, progress.csv and, if present, breakdown.json) and writes plots as PNG
//! and SVG (drawn once through a backend-generic function) plus `index.md` and `index.html`.
//!
//! Figures: `pareto` (latency vs score or memory, front, budgets, knee), `op_map` (op per slot
//! across the front), `latency_breakdown` (per-slot latency of the chosen architecture) and
//! `hypervolume` (progress per generation).
//!
//! Pure Rust; text is rendered with an embedded font, so PNGs are readable on machines without
//! system fonts.

mod breakdown_plot;
mod error;
mod hv_plot;
mod index;
mod latency_plot;
mod load;
mod op_map;
mod pareto_plot;
mod render;

pub use error::ReportError;
pub use latency_plot::{write_latency_scatter, LatencyPoint};
pub use load::{load_run_folder, Breakdown, ReportRow, RunData, SlotBreakdown, BREAKDOWN_FORMAT};

use breakdown_plot::BreakdownFigure;
use hv_plot::HypervolumeFigure;
use index::{write_html, write_markdown, Embedded};
use op_map::OpMapFigure;
use pareto_plot::ParetoFigure;
use render::render;
use std::path::{Path, PathBuf};

/// Extra input for a report.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Per-slot latency of the chosen architecture; overrides the run folder's breakdown.json.
    pub breakdown: Option<Breakdown>,
}

/// Writes the report of the run in `run_dir` into `out_dir` (created if needed) and returns the
/// paths written. Without a breakdown (option or breakdown.json) the latency-breakdown figure is
/// skipped and the index says so.
pub fn write_report(
    run_dir: &Path,
    out_dir: &Path,
    options: &ReportOptions,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut data = load_run_folder(run_dir)?;
    if let Some(b) = &options.breakdown {
        load::check_breakdown(Path::new("<breakdown option>"), b)?;
        data.breakdown = Some(b.clone());
    }
    std::fs::create_dir_all(out_dir).map_err(|e| ReportError::write(out_dir, e))?;
    let mut written = Vec::new();
    let mut figures = Vec::new();
    let mut notes = Vec::new();
    let mut add = |title: String, stem: &str, paths: Vec<PathBuf>| {
        figures.push(Embedded {
            title,
            png: format!("{stem}.png"),
            svg: format!("{stem}.svg"),
        });
        written.extend(paths);
    };
    let fig = ParetoFigure { data: &data };
    add(
        "Pareto front".into(),
        "pareto",
        render(&fig, out_dir, "pareto")?,
    );
    let fig = OpMapFigure { data: &data };
    add(
        "Op per slot across the front".into(),
        "op_map",
        render(&fig, out_dir, "op_map")?,
    );
    match &data.breakdown {
        Some(b) => {
            let fig = BreakdownFigure { breakdown: b };
            add(
                format!("Latency breakdown of {}", b.arch_id),
                "latency_breakdown",
                render(&fig, out_dir, "latency_breakdown")?,
            );
        }
        None => notes.push(
            "No per-slot latency breakdown: the run folder has no breakdown.json (written by \
             `vidnas report` from the latency table), so latency_breakdown.png was not drawn."
                .to_string(),
        ),
    }
    let fig = HypervolumeFigure { data: &data };
    add(
        "Hypervolume per generation".into(),
        "hypervolume",
        render(&fig, out_dir, "hypervolume")?,
    );
    let md = out_dir.join("index.md");
    write_markdown(&md, &data, &figures, &notes)?;
    let html = out_dir.join("index.html");
    write_html(&html, &data, &figures, &notes)?;
    written.push(md);
    written.push(html);
    Ok(written)
}
