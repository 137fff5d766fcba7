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

mod breakdown;
mod breakdown_plot;
mod error;
mod hv_plot;
mod index;
mod latency_plot;
mod load;
mod op_map;
mod pareto_plot;
mod payoff_plot;
mod render;

pub use breakdown::{Breakdown, SlotBreakdown, BREAKDOWN_FORMAT};
pub use error::ReportError;
pub use latency_plot::{write_latency_scatter, LatencyPoint};
pub use load::{load_run_folder, ReportRow, RunData};
pub use payoff_plot::{write_payoff_plot, PayoffPair, PayoffPoint};

use breakdown_plot::BreakdownFigure;
use hv_plot::HypervolumeFigure;
use index::{html, markdown, Embedded};
use op_map::OpMapFigure;
use pareto_plot::ParetoFigure;
use render::draw_files;
use std::path::{Path, PathBuf};

/// Extra input for a report.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Per-slot latency of the chosen architecture; overrides the run folder's breakdown.json.
    pub breakdown: Option<Breakdown>,
}

/// Writes the report of the run in `run_dir` into `out_dir` (created if needed) and returns the
/// paths written. Without a breakdown (option or breakdown.json) the latency-breakdown figure is
/// skipped and the index says so. Every figure is drawn in memory before the first file is
/// written, so bad input leaves `out_dir` as it was; a failed write removes what it wrote.
pub fn write_report(
    run_dir: &Path,
    out_dir: &Path,
    options: &ReportOptions,
) -> Result<Vec<PathBuf>, ReportError> {
    let mut data = load_run_folder(run_dir)?;
    if let Some(b) = &options.breakdown {
        breakdown::check_breakdown(Path::new("<breakdown option>"), b)?;
        data.breakdown = Some(b.clone());
    }
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut figures = Vec::new();
    let mut notes = Vec::new();
    let mut add = |title: String, stem: &str, drawn: Vec<(PathBuf, Vec<u8>)>| {
        figures.push(Embedded {
            title,
            png: format!("{stem}.png"),
            svg: format!("{stem}.svg"),
        });
        files.extend(drawn);
    };
    // One scatter per device of a joint search (the front is the joint one throughout).
    for (device, name) in std::iter::once("")
        .chain(data.settings.devices.iter().skip(1).map(String::as_str))
        .enumerate()
    {
        let fig = ParetoFigure {
            data: &data,
            device,
        };
        let (title, stem) = match device {
            0 => match data.settings.devices.first() {
                Some(first) => (format!("Pareto front on {first}"), "pareto".to_string()),
                None => ("Pareto front".to_string(), "pareto".to_string()),
            },
            _ => (format!("Pareto front on {name}"), format!("pareto-{name}")),
        };
        let drawn = draw_files(&fig, out_dir, &stem)?;
        add(title, &stem, drawn);
    }
    let fig = OpMapFigure { data: &data };
    add(
        "Op per slot across the front".into(),
        "op_map",
        draw_files(&fig, out_dir, "op_map")?,
    );
    match &data.breakdown {
        Some(b) => {
            let fig = BreakdownFigure { breakdown: b };
            add(
                format!("Latency breakdown of {}", b.arch_id),
                "latency_breakdown",
                draw_files(&fig, out_dir, "latency_breakdown")?,
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
        draw_files(&fig, out_dir, "hypervolume")?,
    );
    files.push((
        out_dir.join("index.md"),
        markdown(&data, &figures, &notes).into_bytes(),
    ));
    files.push((
        out_dir.join("index.html"),
        html(&data, &figures, &notes).into_bytes(),
    ));
    write_all(out_dir, &files)?;
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

/// Creates `out_dir` and writes `files`; on failure removes the files written and the folders
/// created (best effort: the write error is what gets reported).
fn write_all(out_dir: &Path, files: &[(PathBuf, Vec<u8>)]) -> Result<(), ReportError> {
    let created: Vec<&Path> = out_dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .collect();
    std::fs::create_dir_all(out_dir).map_err(|e| ReportError::write(out_dir, e))?;
    for (k, (path, bytes)) in files.iter().enumerate() {
        if let Err(e) = vidnas_io::write_atomic(path, bytes) {
            for (p, _) in &files[..k] {
                let _ = std::fs::remove_file(p);
            }
            for d in &created {
                let _ = std::fs::remove_dir(d);
            }
            return Err(e.into());
        }
    }
    Ok(())
}
