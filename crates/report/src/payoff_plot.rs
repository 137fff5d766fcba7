//! `payoff.png/svg`: stand-alone loss against measured latency for hand-designed baselines and
//! their searched counterparts, each pair joined by a line; bars span the seeds.

use crate::error::ReportError;
use crate::render::{de, draw_legend, padded, render, tick, title_strip, DrawResult, Figure, Mark};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// One trained and timed architecture.
#[derive(Debug, Clone, Copy)]
pub struct PayoffPoint {
    pub measured_ms: f64,
    /// Mean stand-alone loss over seeds, with the lowest and highest seed.
    pub loss: f64,
    pub loss_min: f64,
    pub loss_max: f64,
}

/// A baseline and (when the front has one as fast) its searched counterpart.
#[derive(Debug, Clone, Copy)]
pub struct PayoffPair {
    pub baseline: PayoffPoint,
    pub searched: Option<PayoffPoint>,
}

struct PayoffFigure<'a> {
    pairs: &'a [PayoffPair],
    subtitle: &'a str,
}

const GREY: RGBColor = RGBColor(120, 120, 120);
const ORANGE: RGBColor = RGBColor(213, 94, 0);

impl Figure for PayoffFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 760)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let rest = title_strip(
            root,
            "Searched vs hand-designed temporal layouts",
            self.subtitle,
        )?;
        // Two legend rows: three long entries side by side overlap at this width.
        let (body, legend) = rest.split_vertically(rest.dim_in_pixel().1 - 64);
        let points: Vec<&PayoffPoint> = self
            .pairs
            .iter()
            .flat_map(|p| std::iter::once(&p.baseline).chain(p.searched.as_ref()))
            .collect();
        let (x_lo, x_hi) = padded(points.iter().map(|p| p.measured_ms), 0.06);
        let (y_lo, y_hi) = padded(points.iter().flat_map(|p| [p.loss_min, p.loss_max]), 0.08);
        let mut chart = ChartBuilder::on(&body)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)
            .map_err(de)?;
        chart
            .configure_mesh()
            .x_desc("measured latency (ms, one denoiser forward)")
            .y_desc("stand-alone validation loss (lower is better)")
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .label_style(("sans-serif", 14))
            .axis_desc_style(("sans-serif", 16))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(de)?;
        for pair in self.pairs {
            if let Some(s) = &pair.searched {
                chart
                    .draw_series(DashedLineSeries::new(
                        [
                            (pair.baseline.measured_ms, pair.baseline.loss),
                            (s.measured_ms, s.loss),
                        ],
                        5,
                        4,
                        GREY.mix(0.8).stroke_width(1),
                    ))
                    .map_err(de)?;
            }
        }
        let bars = |p: &PayoffPoint, color: RGBColor| {
            PathElement::new(
                [(p.measured_ms, p.loss_min), (p.measured_ms, p.loss_max)],
                color.stroke_width(2),
            )
        };
        chart
            .draw_series(self.pairs.iter().map(|p| bars(&p.baseline, GREY)))
            .map_err(de)?;
        chart
            .draw_series(self.pairs.iter().map(|p| {
                Cross::new(
                    (p.baseline.measured_ms, p.baseline.loss),
                    6,
                    BLACK.stroke_width(2),
                )
            }))
            .map_err(de)?;
        let searched: Vec<&PayoffPoint> = self
            .pairs
            .iter()
            .filter_map(|p| p.searched.as_ref())
            .collect();
        chart
            .draw_series(searched.iter().map(|p| bars(p, ORANGE)))
            .map_err(de)?;
        chart
            .draw_series(
                searched
                    .iter()
                    .map(|p| Circle::new((p.measured_ms, p.loss), 6, ORANGE.filled())),
            )
            .map_err(de)?;
        let entries = [
            (
                Mark::Cross(BLACK.to_rgba()),
                "hand-designed baseline".to_string(),
            ),
            (
                Mark::Dot(ORANGE.to_rgba()),
                "searched counterpart (front, no slower predicted)".to_string(),
            ),
            (Mark::Dashed(GREY), "pair; bars span the seeds".to_string()),
        ];
        draw_legend(&legend, &entries, 2)
    }
}

/// Writes `payoff.png` and `.svg` into `out_dir`.
pub fn write_payoff_plot(
    out_dir: &Path,
    pairs: &[PayoffPair],
    subtitle: &str,
) -> Result<Vec<PathBuf>, ReportError> {
    std::fs::create_dir_all(out_dir).map_err(|e| ReportError::write(out_dir, e))?;
    render(&PayoffFigure { pairs, subtitle }, out_dir, "payoff")
}
