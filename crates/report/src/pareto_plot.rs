//! `pareto.png/svg`: latency against score (or against peak memory in predictor-only mode) for
//! every evaluated architecture, the feasible front highlighted and coloured by its third
//! objective (colour bar on the right), the latency–score staircase of the front, dashed budget
//! lines and the knee point labelled with its arch id.

use crate::load::{ReportRow, RunData};
use crate::render::{colour_map, de, draw_legend, fmt_num, padded, tick, DrawResult, Figure, Mark};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

const LEGEND_H: u32 = 90;

pub(crate) struct ParetoFigure<'a> {
    pub data: &'a RunData,
    /// Whose latency is the x axis: 0 is the first table's; a joint search draws one figure
    /// per device.
    pub device: usize,
}

/// What the axes and the colour show, by mode.
struct Axes {
    y_desc: &'static str,
    colour_desc: &'static str,
    y: fn(&ReportRow) -> f64,
    colour: fn(&ReportRow) -> f64,
}

fn axes(has_score: bool) -> Axes {
    if has_score {
        Axes {
            y_desc: "score: supernet validation loss (lower is better)",
            colour_desc: "peak memory (MB)",
            y: |r| r.score.unwrap_or(f64::NAN),
            colour: |r| r.peak_mem_mb,
        }
    } else {
        Axes {
            y_desc: "peak memory (MB)",
            colour_desc: "temporal parameters (millions)",
            y: |r| r.peak_mem_mb,
            colour: |r| r.temporal_params as f64 / 1e6,
        }
    }
}

/// The front's 2-D non-dominated subset in (latency, y), sorted by latency.
fn staircase(
    front: &[&ReportRow],
    x: impl Fn(&ReportRow) -> f64,
    y: fn(&ReportRow) -> f64,
) -> Vec<(f64, f64)> {
    let mut pts: Vec<(f64, f64)> = front.iter().map(|r| (x(r), y(r))).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut out: Vec<(f64, f64)> = Vec::new();
    for p in pts {
        if out.last().is_none_or(|l| p.1 < l.1) {
            out.push(p);
        }
    }
    out
}

impl Figure for ParetoFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (1200, 800)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let d = self.data;
        let ax = axes(d.has_score());
        let front = d.front();
        let knee_id = d.summary.knee.as_ref().map(|k| k.arch_id.clone());
        let (left, bar) = root.split_horizontally(1040);
        let (_, h) = left.dim_in_pixel();
        let (main, legend_area) = left.split_vertically(h - LEGEND_H);
        let mut legend: Vec<(Mark, String)> = Vec::new();
        let rows: Vec<&ReportRow> = d.rows.iter().filter(|r| (ax.y)(r).is_finite()).collect();
        let budgets = &d.settings.budgets;
        let lat = |r: &ReportRow| RunData::latency_on(r, self.device);
        let latency_budget = match self.device {
            0 => budgets.latency_ms,
            k => budgets.other_latency_ms.get(k - 1).copied().flatten(),
        };
        // Measurements are of the first table's device (`search --remeasure`).
        let measured = match self.device {
            0 => d.measured.clone(),
            _ => Default::default(),
        };
        let (x0, x1) = padded(
            rows.iter()
                .map(|r| lat(r))
                .chain(latency_budget)
                .chain(measured.values().copied()),
            0.04,
        );
        let y_budget = if d.has_score() {
            None
        } else {
            budgets.memory_mb
        };
        let (y0, y1) = padded(rows.iter().map(|r| (ax.y)(r)).chain(y_budget), 0.06);
        // In score mode memory is the colour; its budget is marked on the colour bar.
        let colour_budget = if d.has_score() {
            budgets.memory_mb
        } else {
            None
        };
        let (c0, c1) = padded(front.iter().map(|r| (ax.colour)(r)), 0.0);
        let to_t = |v: f64| if c1 > c0 { (v - c0) / (c1 - c0) } else { 0.5 };
        let infeasible = rows.iter().filter(|r| !r.feasible).count();

        // A joint search names the device whose latency is on the x axis.
        let on = d
            .settings
            .devices
            .get(self.device)
            .map_or(String::new(), |name| format!(" on {name}"));
        let caption = format!(
            "Pareto front{on} · space {} · {} · {} evaluated, {} on the front",
            d.settings.space.name,
            d.settings.algo.name(),
            d.rows.len(),
            front.len()
        );
        let mut chart = ChartBuilder::on(&main)
            .caption(caption, ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(90)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(de)?;
        chart
            .configure_mesh()
            .x_desc(format!("latency per denoising step{on} (ms)"))
            .y_desc(ax.y_desc)
            .x_label_formatter(&|v| tick(*v))
            .y_label_formatter(&|v| tick(*v))
            .axis_desc_style(("sans-serif", 18))
            .label_style(("sans-serif", 15))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.08))
            .draw()
            .map_err(de)?;

        let grey = RGBColor(150, 150, 150);
        chart
            .draw_series(
                rows.iter()
                    .filter(|r| r.feasible && !r.is_pareto)
                    .map(|r| Circle::new((lat(r), (ax.y)(r)), 3, grey.mix(0.45).filled())),
            )
            .map_err(de)?;
        legend.push((
            Mark::Dot(grey.mix(0.6)),
            format!(
                "feasible, dominated ({})",
                rows.iter().filter(|r| r.feasible && !r.is_pareto).count()
            ),
        ));
        if infeasible > 0 {
            chart
                .draw_series(
                    rows.iter()
                        .filter(|r| !r.feasible)
                        .map(|r| Cross::new((lat(r), (ax.y)(r)), 3, grey.mix(0.6))),
                )
                .map_err(de)?;
            legend.push((
                Mark::Cross(grey.mix(0.9)),
                format!("over a budget ({infeasible})"),
            ));
        }
        let stairs = staircase(&front, lat, ax.y);
        let mut path = Vec::new();
        for (i, &(x, y)) in stairs.iter().enumerate() {
            if i > 0 {
                path.push((x, stairs[i - 1].1));
            }
            path.push((x, y));
        }
        chart
            .draw_series(std::iter::once(PathElement::new(
                path,
                BLACK.stroke_width(2),
            )))
            .map_err(de)?;
        legend.push((
            Mark::Line(BLACK),
            if d.has_score() {
                "front in latency–score only (step)".into()
            } else {
                "front in latency–memory only (step)".into()
            },
        ));
        chart
            .draw_series(front.iter().map(|r| {
                let c = colour_map(to_t((ax.colour)(r)));
                EmptyElement::at((lat(r), (ax.y)(r)))
                    + Circle::new((0, 0), 6, c.filled())
                    + Circle::new((0, 0), 6, BLACK.stroke_width(1))
            }))
            .map_err(de)?;
        legend.push((
            Mark::OutlinedDot(colour_map(0.5)),
            format!(
                "feasible front ({}), colour = {}",
                front.len(),
                ax.colour_desc
            ),
        ));
        let dash = |colour: RGBColor| ShapeStyle {
            color: colour.to_rgba(),
            filled: false,
            stroke_width: 2,
        };
        let red = RGBColor(200, 30, 30);
        if let Some(b) = latency_budget {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(b, y0), (b, y1)],
                    8,
                    6,
                    dash(red),
                ))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("latency budget {} ms", fmt_num(b)),
                    (b, y1),
                    ("sans-serif", 15)
                        .into_font()
                        .color(&red)
                        .pos(Pos::new(HPos::Right, VPos::Top)),
                )))
                .map_err(de)?;
        }
        if let Some(b) = y_budget {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x0, b), (x1, b)],
                    8,
                    6,
                    dash(red),
                ))
                .map_err(de)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("memory budget {} MB", fmt_num(b)),
                    (x1, b),
                    ("sans-serif", 15)
                        .into_font()
                        .color(&red)
                        .pos(Pos::new(HPos::Right, VPos::Bottom)),
                )))
                .map_err(de)?;
        }
        if let Some(k) = knee_id
            .as_ref()
            .and_then(|id| front.iter().find(|r| &r.arch_id == id))
        {
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((lat(k), (ax.y)(k)))
                        + Circle::new((0, 0), 12, red.stroke_width(3))
                        + Text::new(
                            format!("knee {}", k.arch_id),
                            (14, -26),
                            ("sans-serif", 17).into_font().color(&red),
                        ),
                ))
                .map_err(de)?;
            legend.push((Mark::Ring(red), format!("knee point {}", k.arch_id)));
        }
        // Re-measured front points: the measurement as a cross, joined to its prediction.
        let measured: Vec<(&ReportRow, f64)> = front
            .iter()
            .filter_map(|r| measured.get(&r.arch_id).map(|&m| (*r, m)))
            .collect();
        if !measured.is_empty() {
            let blue = RGBColor(30, 90, 200);
            for &(r, m) in &measured {
                let y = (ax.y)(r);
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(lat(r), y), (m, y)],
                        blue.stroke_width(2),
                    )))
                    .map_err(de)?;
                chart
                    .draw_series(std::iter::once(Cross::new((m, y), 7, blue.stroke_width(3))))
                    .map_err(de)?;
            }
            legend.push((
                Mark::Cross(blue.to_rgba()),
                format!("measured on this machine ({})", measured.len()),
            ));
        }
        if latency_budget.is_some() || budgets.memory_mb.is_some() {
            legend.push((Mark::Dashed(red), "budget".into()));
        }
        draw_legend(&legend_area, &legend, 2)?;
        draw_colour_bar(&bar, (c0, c1), ax.colour_desc, colour_budget)
    }
}

/// A vertical colour bar for the front's colour scale.
fn draw_colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    (c0, c1): (f64, f64),
    desc: &str,
    budget: Option<f64>,
) -> DrawResult {
    let (lo, hi) = if c1 > c0 {
        (c0, c1)
    } else {
        (c0 - 0.5, c0 + 0.5)
    };
    let mut chart = ChartBuilder::on(area)
        .margin_top(60)
        .margin_bottom(72 + LEGEND_H)
        .margin_right(10)
        .y_label_area_size(62)
        .build_cartesian_2d(0.0..1.0, lo..hi)
        .map_err(de)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_y_mesh()
        .disable_x_axis()
        .y_desc(desc)
        .y_label_formatter(&|v| tick(*v))
        .axis_desc_style(("sans-serif", 15))
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(de)?;
    let steps = 100;
    chart
        .draw_series((0..steps).map(|i| {
            let a = lo + (hi - lo) * i as f64 / steps as f64;
            let b = lo + (hi - lo) * (i + 1) as f64 / steps as f64;
            let t = (i as f64 + 0.5) / steps as f64;
            Rectangle::new([(0.0, a), (1.0, b)], colour_map(t).filled())
        }))
        .map_err(de)?;
    let red = RGBColor(200, 30, 30);
    if let Some(b) = budget.filter(|b| *b > hi) {
        // The whole front is well inside the budget: say so above the bar.
        area.draw(&Text::new(
            format!("budget {} MB", fmt_num(b)),
            (6, 36),
            ("sans-serif", 13).into_font().color(&red),
        ))
        .map_err(de)?;
    }
    if let Some(b) = budget.filter(|b| (lo..=hi).contains(b)) {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, b), (1.0, b)],
                red.stroke_width(3),
            )))
            .map_err(de)?;
        chart
            .draw_series(std::iter::once(Text::new(
                "budget",
                (0.5, b),
                ("sans-serif", 13)
                    .into_font()
                    .color(&red)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))
            .map_err(de)?;
    }
    Ok(())
}
