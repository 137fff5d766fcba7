//! `latency_scatter.png/svg`: predicted against measured whole-network latency, before and after
//! the fitted correction, with the y = x line and a ±10% band.

use crate::error::ReportError;
use crate::render::{de, draw_legend, padded, render, tick, title_strip, DrawResult, Figure, Mark};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// One validated network.
#[derive(Debug, Clone, Copy)]
pub struct LatencyPoint {
    pub measured_ms: f64,
    /// Plain sum of the table's op times.
    pub predicted_ms: f64,
    /// Through the correction fitted on the other half.
    pub corrected_ms: f64,
    /// Held out from the correction fit.
    pub holdout: bool,
}

struct LatencyFigure<'a> {
    points: &'a [LatencyPoint],
    subtitle: &'a str,
}

const BLUE: RGBColor = RGBColor(0, 114, 178);
const ORANGE: RGBColor = RGBColor(213, 94, 0);

impl Figure for LatencyFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 820)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let rest = title_strip(
            root,
            "Predicted vs measured whole-network latency",
            self.subtitle,
        )?;
        let (body, legend) = rest.split_vertically(rest.dim_in_pixel().1 - 64);
        let all = self
            .points
            .iter()
            .flat_map(|p| [p.measured_ms, p.predicted_ms, p.corrected_ms]);
        let (lo, hi) = padded(all, 0.06);
        let mut chart = ChartBuilder::on(&body)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d(lo..hi, lo..hi)
            .map_err(de)?;
        chart
            .configure_mesh()
            .x_desc("measured latency (ms, minimum over interleaved rounds)")
            .y_desc("predicted latency (ms)")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(de)?;
        chart
            .draw_series(LineSeries::new([(lo, lo), (hi, hi)], BLACK.stroke_width(1)))
            .map_err(de)?;
        for f in [0.9, 1.1] {
            chart
                .draw_series(DashedLineSeries::new(
                    [(lo, lo * f), (hi, hi * f)],
                    6,
                    4,
                    BLACK.mix(0.45).stroke_width(1),
                ))
                .map_err(de)?;
        }
        chart
            .draw_series(
                self.points
                    .iter()
                    .filter(|p| !p.holdout)
                    .map(|p| Cross::new((p.measured_ms, p.predicted_ms), 5, BLACK.mix(0.35))),
            )
            .map_err(de)?;
        chart
            .draw_series(
                self.points
                    .iter()
                    .filter(|p| p.holdout)
                    .map(|p| Circle::new((p.measured_ms, p.predicted_ms), 5, BLUE.filled())),
            )
            .map_err(de)?;
        chart
            .draw_series(
                self.points
                    .iter()
                    .filter(|p| p.holdout)
                    .map(|p| Circle::new((p.measured_ms, p.corrected_ms), 5, ORANGE.filled())),
            )
            .map_err(de)?;
        let entries = [
            (
                Mark::Cross(BLACK.mix(0.35)),
                "raw sum, networks the correction was fitted on".to_string(),
            ),
            (
                Mark::Dot(BLUE.to_rgba()),
                "raw sum of op times, held-out networks".to_string(),
            ),
            (
                Mark::Dot(ORANGE.to_rgba()),
                "corrected, held-out networks".to_string(),
            ),
            (
                Mark::Dashed(RGBColor(110, 110, 110)),
                "y = x ± 10%".to_string(),
            ),
        ];
        draw_legend(&legend, &entries, 2)
    }
}

/// Writes `latency_scatter.png` and `.svg` into `out_dir`.
pub fn write_latency_scatter(
    out_dir: &Path,
    points: &[LatencyPoint],
    subtitle: &str,
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out_dir).map_err(|e| ReportError::write(out_dir, e))?;
    render(
        &LatencyFigure { points, subtitle },
        out_dir,
        "latency_scatter",
    )
}
