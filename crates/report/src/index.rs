//! `index.md` and `index.html`: the run settings, the figures and a table of the front, one
//! row per front architecture with its id, so every exported architecture can be found again.

use crate::load::RunData;
use crate::render::fmt_num;

/// A figure to embed: title, PNG file name, SVG file name.
pub(crate) struct Embedded {
    pub title: String,
    pub png: String,
    pub svg: String,
}

/// `nsga2 (population 32, generations 20, crossover_prob 0.9, mutation_rate default)`.
fn describe_algo(algo: &vidnas_search::Algo) -> String {
    let value = serde_json::to_value(algo).unwrap_or_default();
    let params: Vec<String> = value
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != "name")
        .map(|(k, v)| match v {
            serde_json::Value::Null => format!("{k} default"),
            v => format!("{k} {v}"),
        })
        .collect();
    format!("{} ({})", algo.name(), params.join(", "))
}

fn settings_rows(d: &RunData) -> Vec<(String, String)> {
    let s = &d.settings;
    let sm = &d.summary;
    let budget =
        |v: Option<f64>, unit: &str| v.map_or("none".into(), |b| format!("{} {unit}", fmt_num(b)));
    let mut rows = vec![
        (
            "space".into(),
            format!(
                "{} (hash {}, {} slots, {} architectures)",
                s.space.name, s.space.hash, s.space.num_slots, s.space.size
            ),
        ),
        ("algorithm".into(), describe_algo(&s.algo)),
        ("seed".into(), s.seed.to_string()),
        ("objectives (minimised)".into(), s.objectives.join(", ")),
        ("latency budget".into(), budget(s.budgets.latency_ms, "ms")),
        ("memory budget".into(), budget(s.budgets.memory_mb, "MB")),
        (
            "latency table".into(),
            s.table
                .as_ref()
                .map_or_else(|| "none recorded".into(), |t| t.to_string()),
        ),
        (
            "supernet".into(),
            match (&s.supernet, s.mode) {
                (Some(file), _) => file.to_string(),
                (None, vidnas_search::Mode::Score) => "not recorded".into(),
                (None, vidnas_search::Mode::PredictorOnly) => "none (predictor-only)".into(),
            },
        ),
        (
            "hypervolume reference".into(),
            format!(
                "[{}] ({})",
                sm.reference_point
                    .iter()
                    .map(|v| fmt_num(*v))
                    .collect::<Vec<_>>()
                    .join(", "),
                if s.hv_reference.given {
                    "given"
                } else {
                    "derived from the first generation"
                }
            ),
        ),
        (
            "evaluations".into(),
            format!(
                "{} ({} feasible, {} on the front)",
                sm.evaluations, sm.feasible, sm.front_size
            ),
        ),
        ("final hypervolume".into(), fmt_num(sm.hypervolume)),
    ];
    if d.reranked > 0 {
        rows.push((
            "front".into(),
            format!(
                "re-ranked: {} front architectures fine-tuned from the supernet and scored again \
                 (rerank.csv); their scores are the loss after fine-tuning, every other point's \
                 the supernet's",
                d.reranked
            ),
        ));
    }
    if let Some(sh) = s.shard {
        rows.push(("shard".into(), format!("{} of {}", sh.index, sh.count)));
    }
    if !s.merged_from.is_empty() {
        rows.push(("merged from".into(), s.merged_from.join(", ")));
    }
    if let Some(k) = &sm.knee {
        rows.push(("knee point".into(), format!("{} ({})", k.arch_id, k.arch)));
    }
    rows
}

const FRONT_HEADER: [&str; 8] = [
    "",
    "arch id",
    "architecture (op per slot)",
    "score",
    "latency (ms), predicted [measured]",
    "peak memory (MB)",
    "params",
    "temporal params",
];

fn front_rows(d: &RunData) -> Vec<[String; 8]> {
    let knee = d.summary.knee.as_ref().map(|k| k.arch_id.as_str());
    d.front()
        .into_iter()
        .map(|r| {
            [
                if Some(r.arch_id.as_str()) == knee {
                    "knee".into()
                } else {
                    String::new()
                },
                r.arch_id.clone(),
                r.arch.clone(),
                r.score.map_or("–".into(), |s| format!("{s:.6}")),
                match d.measured.get(&r.arch_id) {
                    Some(m) => format!("{:.3} [{m:.3}]", r.latency_ms),
                    None => format!("{:.3}", r.latency_ms),
                },
                memory_cell(d, r),
                r.params.to_string(),
                r.temporal_params.to_string(),
            ]
        })
        .collect()
}

/// Peak memory, with its dtype beside each value when the run has one objective per dtype.
fn memory_cell(d: &RunData, r: &crate::load::ReportRow) -> String {
    let dtypes = &d.settings.memory_dtypes;
    if dtypes.is_empty() {
        return format!("{:.2}", r.peak_mem_mb);
    }
    (std::iter::once(&r.peak_mem_mb).chain(&r.other_peak_mem_mb))
        .zip(dtypes)
        .map(|(m, dtype)| format!("{m:.2} ({dtype})"))
        .collect::<Vec<_>>()
        .join(" / ")
}

fn title(d: &RunData) -> String {
    format!(
        "vidnas search report: {} on space {}",
        d.settings.algo.name(),
        d.settings.space.name
    )
}

/// Writes index.md.
/// The text of `index.md`.
pub(crate) fn markdown(d: &RunData, figures: &[Embedded], notes: &[String]) -> String {
    let mut md = format!(
        "# {}\n\nRun folder: `{}`\n\n## Settings\n\n| setting | value |\n|---|---|\n",
        title(d),
        d.run_dir.display()
    );
    for (k, v) in settings_rows(d) {
        md.push_str(&format!("| {k} | {} |\n", v.replace('|', "\\|")));
    }
    md.push_str("\n## Figures\n\n");
    for f in figures {
        md.push_str(&format!(
            "### {}\n\n![{}]({})\n\n[SVG]({})\n\n",
            f.title, f.title, f.png, f.svg
        ));
    }
    for n in notes {
        md.push_str(&format!("> {n}\n\n"));
    }
    md.push_str(&format!(
        "## Front ({} architectures, sorted by latency)\n\n",
        d.summary.front_size
    ));
    md.push_str(&format!("| {} |\n", FRONT_HEADER.join(" | ")));
    md.push_str(&format!("|{}\n", "---|".repeat(FRONT_HEADER.len())));
    for row in front_rows(d) {
        md.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    md
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Writes index.html (self-contained apart from the images beside it).
/// The text of `index.html`.
pub(crate) fn html(d: &RunData, figures: &[Embedded], notes: &[String]) -> String {
    let t = esc(&title(d));
    let mut h = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{t}</title>\n<style>\n\
         body {{ font-family: sans-serif; margin: 2em auto; max-width: 1250px; color: #222; }}\n\
         table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}\n\
         th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; }}\n\
         th {{ background: #f3f3f3; }}\n\
         tr.knee {{ background: #fde8e8; font-weight: bold; }}\n\
         td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}\n\
         code, td.arch {{ font-family: monospace; }}\n\
         img {{ max-width: 100%; border: 1px solid #eee; }}\n\
         .note {{ border-left: 4px solid #ccc; padding-left: 1em; color: #555; }}\n\
         </style>\n</head>\n<body>\n<h1>{t}</h1>\n<p>Run folder: <code>{}</code></p>\n<h2>Settings</h2>\n<table>\n",
        esc(&d.run_dir.display().to_string())
    );
    for (k, v) in settings_rows(d) {
        h.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>\n",
            esc(&k),
            esc(&v)
        ));
    }
    h.push_str("</table>\n<h2>Figures</h2>\n");
    for f in figures {
        h.push_str(&format!(
            "<h3>{}</h3>\n<p><img src=\"{}\" alt=\"{}\"><br><a href=\"{}\">SVG</a></p>\n",
            esc(&f.title),
            esc(&f.png),
            esc(&f.title),
            esc(&f.svg)
        ));
    }
    for n in notes {
        h.push_str(&format!("<p class=\"note\">{}</p>\n", esc(n)));
    }
    h.push_str(&format!(
        "<h2>Front ({} architectures, sorted by latency)</h2>\n<table>\n<tr>",
        d.summary.front_size
    ));
    for c in FRONT_HEADER {
        h.push_str(&format!("<th>{}</th>", esc(c)));
    }
    h.push_str("</tr>\n");
    for row in front_rows(d) {
        let class = if row[0].is_empty() {
            ""
        } else {
            " class=\"knee\""
        };
        h.push_str(&format!("<tr{class}>"));
        for (i, cell) in row.iter().enumerate() {
            let cls = match i {
                2 => " class=\"arch\"",
                3..=7 => " class=\"num\"",
                _ => "",
            };
            h.push_str(&format!("<td{cls}>{}</td>", esc(cell)));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n</body>\n</html>\n");
    h
}
