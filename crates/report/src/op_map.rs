//! `op_map.png/svg`: which op every front architecture puts in every slot. Rows are slots (in
//! execution order, top first), columns are front architectures sorted by latency (fastest left,
//! labelled with their latency), cells are coloured by op; the knee column is outlined. Reading
//! across a row shows at which cost an op starts paying off in that slot.

use crate::load::RunData;
use crate::render::{de, draw_legend, fmt_num, op_colour, op_order, DrawResult, Figure, Mark};
use plotters::coord::ranged1d::SegmentValue;
use plotters::coord::Shift;
use plotters::prelude::*;

pub(crate) struct OpMapFigure<'a> {
    pub data: &'a RunData,
}

const LEGEND_H: u32 = 56;

impl Figure for OpMapFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let h = 190 + LEGEND_H + 34 * self.data.slots.len() as u32;
        (1200, h.max(460))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let d = self.data;
        let front = d.front();
        let n = front.len().max(1) as i32;
        let s = d.slots.len() as i32;
        let (_, h) = root.dim_in_pixel();
        let (main, legend) = root.split_vertically(h - LEGEND_H);
        let knee = d.summary.knee.as_ref().map(|k| k.arch_id.as_str());
        let caption = match knee {
            Some(k) => format!(
                "Op per slot on the front · {} architectures, fastest left · knee {k} outlined",
                front.len()
            ),
            None => format!(
                "Op per slot on the front · {} architectures, fastest left",
                front.len()
            ),
        };
        let mut chart = ChartBuilder::on(&main)
            .caption(caption, ("sans-serif", 24))
            .margin(16)
            .margin_right(28)
            .x_label_area_size(64)
            .y_label_area_size(130)
            .build_cartesian_2d((0..n - 1).into_segmented(), (0..s - 1).into_segmented())
            .map_err(de)?;
        let latency_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => front
                .get(*i as usize)
                .map_or(String::new(), |r| fmt_num(r.latency_ms)),
            SegmentValue::Last => String::new(),
        };
        // Slot 0 at the top: row j of the chart shows slot s-1-j.
        let slot_of = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(j) | SegmentValue::Exact(j) => d
                .slots
                .get((s - 1 - j) as usize)
                .cloned()
                .unwrap_or_default(),
            SegmentValue::Last => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_y_mesh()
            .x_labels(front.len().clamp(1, 16))
            .y_labels(d.slots.len().max(1))
            .x_label_formatter(&latency_of)
            .y_label_formatter(&slot_of)
            .x_desc("front architectures sorted by latency (tick = latency per step, ms)")
            .y_desc("temporal slot")
            .axis_desc_style(("sans-serif", 18))
            .label_style(("sans-serif", 14))
            .draw()
            .map_err(de)?;
        let cells = front.iter().enumerate().flat_map(|(i, r)| {
            r.ops.iter().enumerate().map(move |(k, op)| {
                let j = s - 1 - k as i32;
                Rectangle::new(
                    [
                        (SegmentValue::Exact(i as i32), SegmentValue::Exact(j)),
                        (
                            SegmentValue::Exact(i as i32 + 1),
                            SegmentValue::Exact(j + 1),
                        ),
                    ],
                    op_colour(op).filled(),
                )
            })
        });
        chart.draw_series(cells).map_err(de)?;
        // Thin white separators keep neighbouring equal cells readable (unless too narrow).
        let separators = if n > 80 { 0 } else { n + 1 };
        chart
            .draw_series((0..separators).map(|i| {
                PathElement::new(
                    vec![
                        (SegmentValue::Exact(i), SegmentValue::Exact(0)),
                        (SegmentValue::Exact(i), SegmentValue::Exact(s)),
                    ],
                    WHITE.stroke_width(1),
                )
            }))
            .map_err(de)?;
        if let Some(i) = knee.and_then(|id| front.iter().position(|r| r.arch_id == id)) {
            let i = i as i32;
            let red = RGBColor(200, 30, 30);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [
                        (SegmentValue::Exact(i), SegmentValue::Exact(0)),
                        (SegmentValue::Exact(i + 1), SegmentValue::Exact(s)),
                    ],
                    red.stroke_width(3),
                )))
                .map_err(de)?;
        }
        let ops = op_order(front.iter().flat_map(|r| r.ops.iter().cloned()));
        draw_op_legend(&legend, &ops)
    }
}

/// One swatch and name per op, in a row.
pub(crate) fn draw_op_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ops: &[String],
) -> DrawResult {
    let entries: Vec<(Mark, String)> = ops
        .iter()
        .map(|op| (Mark::Swatch(op_colour(op)), format!("op {op}")))
        .collect();
    draw_legend(area, &entries, ops.len().clamp(1, 6))
}
