//! `hypervolume.png/svg`: hypervolume of the feasible front after each generation (left axis),
//! with the front size as a second, dashed series on the right axis.

use crate::load::RunData;
use crate::render::{de, fmt_num, padded, tick, title_strip, DrawResult, Figure};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use vidnas_search::Algo;

pub(crate) struct HypervolumeFigure<'a> {
    pub data: &'a RunData,
}

impl Figure for HypervolumeFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (1000, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let d = self.data;
        let p = &d.progress;
        let g_max = p.iter().map(|q| q.generation).max().unwrap_or(0).max(1) as f64;
        let (h0, h1) = padded(p.iter().map(|q| q.hypervolume), 0.08);
        let f_max = p.iter().map(|q| q.front_size).max().unwrap_or(0).max(1) as f64 * 1.1;
        let reference: Vec<String> = d
            .summary
            .reference_point
            .iter()
            .map(|v| fmt_num(*v))
            .collect();
        let caption = format!(
            "Search progress · {} · hypervolume of the feasible front",
            d.settings.algo.name()
        );
        let subtitle = format!(
            "objectives {} · reference point [{}]",
            d.settings.objectives.join(", "),
            reference.join(", ")
        );
        let body = title_strip(root, &caption, &subtitle)?;
        let mut chart = ChartBuilder::on(&body)
            .margin(16)
            .margin_top(4)
            .x_label_area_size(56)
            .y_label_area_size(90)
            .right_y_label_area_size(70)
            .build_cartesian_2d(-0.02 * g_max..g_max * 1.02, h0..h1)
            .map_err(de)?
            .set_secondary_coord(-0.02 * g_max..g_max * 1.02, 0.0..f_max);
        chart
            .configure_mesh()
            .x_desc(match d.settings.algo {
                Algo::Exhaustive { .. } | Algo::Random { .. } => "batch of evaluations",
                _ => "generation",
            })
            .y_desc(if d.has_score() {
                "hypervolume (score × ms × MB)"
            } else {
                "hypervolume (ms × MB × parameters)"
            })
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| tick(*v))
            .axis_desc_style(("sans-serif", 16))
            .label_style(("sans-serif", 14))
            .bold_line_style(BLACK.mix(0.08))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(de)?;
        chart
            .configure_secondary_axes()
            .y_desc("front size (architectures)")
            .y_label_formatter(&|v| format!("{v:.0}"))
            .axis_desc_style(("sans-serif", 16))
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(de)?;
        let blue = RGBColor(0, 114, 178);
        let orange = RGBColor(230, 159, 0);
        chart
            .draw_series(LineSeries::new(
                p.iter().map(|q| (q.generation as f64, q.hypervolume)),
                blue.stroke_width(3),
            ))
            .map_err(de)?
            .label("hypervolume (left axis)")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x - 10, y), (x + 10, y)], blue.stroke_width(3))
            });
        chart
            .draw_series(
                p.iter()
                    .map(|q| Circle::new((q.generation as f64, q.hypervolume), 4, blue.filled())),
            )
            .map_err(de)?;
        let style = ShapeStyle {
            color: orange.to_rgba(),
            filled: false,
            stroke_width: 2,
        };
        chart
            .draw_secondary_series(DashedLineSeries::new(
                p.iter().map(|q| (q.generation as f64, q.front_size as f64)),
                8,
                5,
                style,
            ))
            .map_err(de)?
            .label("front size (right axis)")
            .legend(move |(x, y)| {
                PathElement::new(vec![(x - 10, y), (x + 10, y)], orange.stroke_width(2))
            });
        if let Some(last) = p.last() {
            chart
                .draw_series(std::iter::once(Text::new(
                    format!(
                        "{} after {} evaluations",
                        fmt_num(last.hypervolume),
                        last.evaluations
                    ),
                    (last.generation as f64, last.hypervolume),
                    ("sans-serif", 15)
                        .into_font()
                        .color(&blue)
                        .pos(Pos::new(HPos::Right, VPos::Bottom)),
                )))
                .map_err(de)?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 15))
            .draw()
            .map_err(de)?;
        Ok(())
    }
}
