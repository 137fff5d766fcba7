//! `latency_breakdown.png/svg`: predicted milliseconds of each slot's temporal op for one
//! architecture (normally the knee), as horizontal bars coloured by op and labelled with the op
//! and its time; the spatial backbone gets its own grey bar when known.

use crate::breakdown::Breakdown;
use crate::op_map::draw_op_legend;
use crate::render::{de, fmt_num, op_colour, op_order, tick, DrawResult, Figure};
use plotters::coord::ranged1d::SegmentValue;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub(crate) struct BreakdownFigure<'a> {
    pub breakdown: &'a Breakdown,
}

const LEGEND_H: u32 = 56;

impl BreakdownFigure<'_> {
    /// (label, op for the colour, ms), top to bottom.
    fn bars(&self) -> Vec<(String, String, f64)> {
        let b = self.breakdown;
        let mut bars: Vec<(String, String, f64)> = b
            .slots
            .iter()
            .map(|s| (s.slot.clone(), s.op.clone(), s.ms))
            .collect();
        if let Some(ms) = b.backbone_ms {
            bars.push(("spatial backbone".into(), String::new(), ms));
        }
        bars
    }
}

impl Figure for BreakdownFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let h = 170 + LEGEND_H + 38 * self.bars().len() as u32;
        (1100, h.max(420))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let b = self.breakdown;
        let bars = self.bars();
        let n = bars.len() as i32;
        let temporal: f64 = b.slots.iter().map(|s| s.ms).sum();
        let total = temporal + b.backbone_ms.unwrap_or(0.0);
        let (_, h) = root.dim_in_pixel();
        let (main, legend) = root.split_vertically(h - LEGEND_H);
        let caption = match b.backbone_ms {
            Some(_) => format!(
                "Predicted latency per slot · {} · total {} ms, temporal {} ms",
                b.arch_id,
                fmt_num(total),
                fmt_num(temporal)
            ),
            None => format!(
                "Predicted latency per slot · {} · temporal layers {} ms",
                b.arch_id,
                fmt_num(temporal)
            ),
        };
        let x_max = bars.iter().map(|b| b.2).fold(0.0, f64::max).max(1e-9) * 1.25;
        let mut chart = ChartBuilder::on(&main)
            .caption(caption, ("sans-serif", 22))
            .margin(16)
            .margin_right(30)
            .x_label_area_size(56)
            .y_label_area_size(150)
            .build_cartesian_2d(0.0..x_max, (0..n - 1).into_segmented())
            .map_err(de)?;
        let label_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(j) | SegmentValue::Exact(j) => bars
                .get((n - 1 - j) as usize)
                .map_or(String::new(), |b| b.0.clone()),
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(bars.len().max(1))
            .y_label_formatter(&label_of)
            .x_label_formatter(&|v| tick(*v))
            .x_desc("predicted latency (ms per denoising step)")
            .y_desc("slot")
            .axis_desc_style(("sans-serif", 18))
            .label_style(("sans-serif", 14))
            .bold_line_style(BLACK.mix(0.08))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(de)?;
        let grey = RGBColor(170, 170, 170);
        for (k, (_, op, ms)) in bars.iter().enumerate() {
            let j = n - 1 - k as i32;
            let colour = if op.is_empty() { grey } else { op_colour(op) };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(j)),
                        (*ms, SegmentValue::Exact(j + 1)),
                    ],
                    colour.filled(),
                )))
                .map_err(de)?;
            let text = if op.is_empty() {
                format!("{} ms", fmt_num(*ms))
            } else {
                format!("{op} · {} ms", fmt_num(*ms))
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    text,
                    (*ms + x_max * 0.01, SegmentValue::CenterOf(j)),
                    ("sans-serif", 14)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Left, VPos::Center)),
                )))
                .map_err(de)?;
        }
        let ops = op_order(b.slots.iter().map(|s| s.op.clone()));
        draw_op_legend(&legend, &ops)
    }
}
