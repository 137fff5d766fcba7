//! Drawing once, writing twice: every figure implements [`Figure`] (generic over the plotters
//! backend) and [`render`] draws it into a PNG (bitmap, encoded with `image`) and an SVG, both
//! written atomically. Also the embedded font and the colours shared by the figures.
//!
//! Text is rasterised with plotters' `ab_glyph` feature from an embedded DejaVu Sans
//! (assets/, Bitstream Vera licence), so PNGs have readable text on machines without system
//! fonts; SVG text names the `sans-serif` family and is rendered by the viewer.

use crate::error::ReportError;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::{Path, PathBuf};
use std::sync::Once;
use vidnas_space::OpKind;

pub(crate) type DrawResult = Result<(), String>;

/// A figure that can draw itself on any plotters backend.
pub(crate) trait Figure {
    /// Size in pixels (PNG) and user units (SVG).
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult;
}

/// Converts any plotters error into the message [`DrawResult`] carries.
pub(crate) fn de<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

static FONT: Once = Once::new();
const DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn ensure_font() {
    FONT.call_once(|| {
        for family in ["sans-serif", "serif", "monospace"] {
            // The font is compiled in and known to parse; a failure would be a build problem.
            let _ = plotters::style::register_font(family, FontStyle::Normal, DEJAVU_SANS);
        }
    });
}

/// Draws `fig` to `<out_dir>/<stem>.png` and `<out_dir>/<stem>.svg`; returns both paths.
pub(crate) fn render(
    fig: &impl Figure,
    out_dir: &Path,
    stem: &str,
) -> Result<Vec<PathBuf>, ReportError> {
    let files = draw_files(fig, out_dir, stem)?;
    for (path, bytes) in &files {
        vidnas_io::write_atomic(path, bytes)?;
    }
    Ok(files.into_iter().map(|(p, _)| p).collect())
}

/// Draws `fig` in memory: the PNG and SVG bytes with the paths they belong at.
pub(crate) fn draw_files(
    fig: &impl Figure,
    out_dir: &Path,
    stem: &str,
) -> Result<Vec<(PathBuf, Vec<u8>)>, ReportError> {
    ensure_font();
    let (w, h) = fig.size();
    let png_path = out_dir.join(format!("{stem}.png"));
    let svg_path = out_dir.join(format!("{stem}.svg"));
    let draw_err = |path: &Path, message: String| ReportError::Draw {
        path: path.to_path_buf(),
        message,
    };

    let mut pixels = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(&png_path, de(e)))?;
        fig.draw(&root).map_err(|e| draw_err(&png_path, e))?;
        root.present().map_err(|e| draw_err(&png_path, de(e)))?;
    }
    let image = image::RgbImage::from_raw(w, h, pixels).expect("buffer is w·h·3 bytes");
    let mut png = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| draw_err(&png_path, format!("PNG encoding: {e}")))?;

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| draw_err(&svg_path, de(e)))?;
        fig.draw(&root).map_err(|e| draw_err(&svg_path, e))?;
        root.present().map_err(|e| draw_err(&svg_path, de(e)))?;
    }
    Ok(vec![(png_path, png), (svg_path, svg.into_bytes())])
}

/// The marker drawn in front of a legend entry.
pub(crate) enum Mark {
    Dot(RGBAColor),
    OutlinedDot(RGBColor),
    Cross(RGBAColor),
    Line(RGBColor),
    Dashed(RGBColor),
    Ring(RGBColor),
    Swatch(RGBColor),
}

/// Splits the top 72 pixels off `root` and draws a centred title and subtitle there; returns
/// the rest of the figure.
pub(crate) fn title_strip<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> Result<DrawingArea<DB, Shift>, String> {
    let (w, _) = root.dim_in_pixel();
    let (header, rest) = root.split_vertically(72);
    let centred = |size: u32| {
        ("sans-serif", size)
            .into_font()
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Center))
    };
    header
        .draw(&Text::new(
            title.to_string(),
            (w as i32 / 2, 24),
            centred(22),
        ))
        .map_err(de)?;
    header
        .draw(&Text::new(
            subtitle.to_string(),
            (w as i32 / 2, 54),
            centred(14),
        ))
        .map_err(de)?;
    Ok(rest)
}

/// Draws legend entries in rows of `columns` across `area` (a strip outside the plot, so the
/// legend never hides data).
pub(crate) fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Mark, String)],
    columns: usize,
) -> DrawResult {
    let (w, _) = area.dim_in_pixel();
    let col_w = (w as i32 - 40) / columns.max(1) as i32;
    let font = ("sans-serif", 15).into_font().color(&BLACK);
    for (k, (mark, text)) in entries.iter().enumerate() {
        let x = 30 + (k % columns) as i32 * col_w;
        let y = 16 + (k / columns) as i32 * 26;
        let c = (x + 11, y);
        match mark {
            Mark::Dot(col) => area.draw(&Circle::new(c, 5, col.filled())),
            Mark::OutlinedDot(col) => area
                .draw(&Circle::new(c, 6, col.filled()))
                .and_then(|_| area.draw(&Circle::new(c, 6, BLACK.stroke_width(1)))),
            Mark::Cross(col) => area.draw(&Cross::new(c, 5, *col)),
            Mark::Line(col) => area.draw(&PathElement::new(
                vec![(x, y), (x + 22, y)],
                col.stroke_width(2),
            )),
            Mark::Dashed(col) => area
                .draw(&PathElement::new(
                    vec![(x, y), (x + 8, y)],
                    col.stroke_width(2),
                ))
                .and_then(|_| {
                    area.draw(&PathElement::new(
                        vec![(x + 14, y), (x + 22, y)],
                        col.stroke_width(2),
                    ))
                }),
            Mark::Ring(col) => area.draw(&Circle::new(c, 7, col.stroke_width(3))),
            Mark::Swatch(col) => area
                .draw(&Rectangle::new([(x, y - 9), (x + 22, y + 9)], col.filled()))
                .and_then(|_| {
                    area.draw(&Rectangle::new(
                        [(x, y - 9), (x + 22, y + 9)],
                        BLACK.mix(0.4),
                    ))
                }),
        }
        .map_err(de)?;
        area.draw(&Text::new(
            text.clone(),
            (x + 32, y),
            font.pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(de)?;
    }
    Ok(())
}

/// Op colours (Okabe–Ito, colour-blind safe), in the space's canonical op order; a name that
/// is no op of the registry (a hand-edited CSV) gets green.
pub(crate) fn op_colour(op: &str) -> RGBColor {
    match op.parse::<OpKind>() {
        Ok(kind) => kind_colour(kind),
        Err(_) => RGBColor(0, 0, 0),
    }
}

/// Every op of the registry has its own colour: a new op fails to compile here until it gets one.
fn kind_colour(kind: OpKind) -> RGBColor {
    match kind {
        OpKind::None => RGBColor(221, 221, 221),
        OpKind::Conv1d => RGBColor(86, 180, 233),
        OpKind::Conv3d => RGBColor(0, 114, 178),
        OpKind::Attn1d => RGBColor(230, 159, 0),
        OpKind::Attn3d => RGBColor(213, 94, 0),
        OpKind::Conv2plus1d => RGBColor(0, 158, 115),
        OpKind::Attn3dStride => RGBColor(204, 121, 167),
    }
}

/// Canonical op order for legends (the registry's); unknown ops go last, alphabetically.
pub(crate) fn op_order(ops: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = ops.into_iter().collect();
    v.sort_by_key(|o| {
        let known = o.parse::<OpKind>().map_or(OpKind::COUNT, OpKind::index);
        (known, o.clone())
    });
    v.dedup();
    v
}

/// A viridis-like colour map on `t` in [0, 1] (dark purple → teal → yellow).
pub(crate) fn colour_map(t: f64) -> RGBColor {
    const STOPS: [(f64, (f64, f64, f64)); 5] = [
        (0.0, (68.0, 1.0, 84.0)),
        (0.25, (59.0, 82.0, 139.0)),
        (0.5, (33.0, 145.0, 140.0)),
        (0.75, (94.0, 201.0, 98.0)),
        (1.0, (253.0, 231.0, 37.0)),
    ];
    let t = if t.is_finite() {
        t.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let k = STOPS
        .windows(2)
        .position(|w| t <= w[1].0)
        .unwrap_or(STOPS.len() - 2);
    let ((t0, a), (t1, b)) = (STOPS[k], STOPS[k + 1]);
    let u = (t - t0) / (t1 - t0);
    let mix = |x: f64, y: f64| (x + (y - x) * u).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Axis range with a margin of `pad` × the span on both sides (a minimum span for equal values).
pub(crate) fn padded(values: impl IntoIterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let span = if hi > lo {
        hi - lo
    } else {
        lo.abs().max(1.0) * 0.1
    };
    (lo - pad * span, hi + pad * span)
}

/// [`fmt_num`] without trailing zeros, for axis ticks (`5`, `5.5`, `0.0125`).
pub(crate) fn tick(v: f64) -> String {
    let s = fmt_num(v);
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Number formatting for tick labels: 3 significant digits, no exponent in ordinary ranges.
pub(crate) fn fmt_num(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        let digits = (-a.log10()).ceil() as usize + 2;
        format!("{v:.digits$}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_compactly() {
        assert_eq!(fmt_num(5.2345), "5.23");
        assert_eq!(fmt_num(0.01234), "0.0123");
        assert_eq!(fmt_num(1234.4), "1234");
        assert_eq!(fmt_num(2.5e7), "2.50e7");
        assert_eq!(tick(5.0), "5");
        assert_eq!(tick(12.50), "12.5");
        assert_eq!(tick(0.0125), "0.0125");
    }

    #[test]
    fn colour_map_ends() {
        assert_eq!(colour_map(0.0), RGBColor(68, 1, 84));
        assert_eq!(colour_map(1.0), RGBColor(253, 231, 37));
    }
}
