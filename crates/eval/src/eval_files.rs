//! The files `vidnas eval run` writes: `eval.json`, `eval.csv`, `eval.md`, `timing.json` and
//! the media, each through a temporary name.

use crate::error::{EvalError, Result};
use crate::eval_report::{EvalReport, Timing, DATA, STUDENT, TEACHER, TEACHER_FEW};
use crate::metrics::Stat;
use std::path::{Path, PathBuf};
use vidnas_data::{write_gif, write_grid_png, Clip};
use vidnas_io::{write_atomic, write_json};

pub(crate) fn write_outputs(
    out: &Path,
    report: &EvalReport,
    timing: &Timing,
    media: &[Vec<Clip>],
) -> Result<()> {
    std::fs::create_dir_all(out)
        .map_err(|e| EvalError::file(out, format!("cannot create the folder: {e}")))?;
    write_json(&out.join("eval.json"), report)?;
    write_atomic(&out.join("eval.csv"), csv(report).as_bytes())?;
    write_atomic(&out.join("eval.md"), markdown(report).as_bytes())?;
    write_json(&out.join("timing.json"), timing)?;
    if !media.is_empty() {
        let dir = out.join("media");
        std::fs::create_dir_all(&dir)
            .map_err(|e| EvalError::file(&dir, format!("cannot create the folder: {e}")))?;
        let names = [DATA, TEACHER, TEACHER_FEW, STUDENT];
        for (i, row) in media.iter().enumerate() {
            for (clip, name) in row.iter().zip(names) {
                write_gif(&dir.join(format!("prompt-{i:02}-{name}.gif")), clip, 4, 125)?;
            }
        }
        let all: Vec<Clip> = media.iter().flatten().cloned().collect();
        write_grid_png(&dir.join("grid.png"), &all, 3)?;
    }
    Ok(())
}

/// `eval.csv`: one row per prompt and system.
pub fn csv(report: &EvalReport) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let header = [
        "prompt",
        "caption",
        "noise_seed",
        "system",
        "steps",
        "guidance",
        "mse_to_reference",
        "motion_mse_to_reference",
        "temporal_consistency",
        "recognised",
        "shape_ok",
        "colour_ok",
        "motion_ok",
        "all_ok",
    ];
    w.write_record(header).expect("writes to memory");
    let opt = |x: Option<f64>| x.map(|v| format!("{v:.6}")).unwrap_or_default();
    let opt_any = |x: Option<String>| x.unwrap_or_default();
    for p in &report.prompts {
        for (c, sys) in p.clips.iter().zip(&report.systems) {
            w.write_record([
                p.index.to_string(),
                p.caption.clone(),
                p.noise_seed.to_string(),
                c.system.clone(),
                opt_any(sys.steps.map(|v| v.to_string())),
                opt_any(sys.guidance.map(|v| v.to_string())),
                opt(c.mse_to_reference),
                opt(c.motion_mse_to_reference),
                format!("{:.6}", c.temporal_consistency),
                c.recognised.to_string(),
                c.shape_ok.to_string(),
                c.colour_ok.to_string(),
                c.motion_ok.to_string(),
                c.all_ok().to_string(),
            ])
            .expect("writes to memory");
        }
    }
    String::from_utf8(w.into_inner().expect("flushes to memory")).expect("UTF-8 fields")
}

fn pct(s: &Stat) -> String {
    format!("{:.0} %", 100.0 * s.mean)
}

fn pm(s: &Option<Stat>, digits: usize) -> String {
    match s {
        Some(s) => format!("{:.*} ± {:.*}", digits, s.mean, digits, s.se),
        None => "–".into(),
    }
}

/// The results table (Markdown), as in eval.md and for a README.
pub fn markdown_table(report: &EvalReport) -> String {
    let mut t = String::from(
        "| system | steps × passes | MSE to 25-step ↓ | motion MSE to 25-step ↓ | temporal consistency | shape | colour | motion | all three |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    let reference_steps = report.settings.teacher_steps;
    if reference_steps != 25 {
        t = t.replace("25-step", &format!("{reference_steps}-step"));
    }
    for s in &report.systems {
        let passes = match (s.steps, s.denoiser_passes) {
            (Some(steps), Some(p)) => format!("{steps} × {}", p / steps),
            _ => "–".into(),
        };
        let name = match s.system.as_str() {
            STUDENT => format!("student (distilled), guidance {}", fmt_g(s.guidance)),
            TEACHER_FEW => format!("teacher, no distillation, guidance {}", fmt_g(s.guidance)),
            TEACHER => format!("teacher, guidance {} (reference)", fmt_g(s.guidance)),
            _ => "procedural clips of the prompts (ceiling)".into(),
        };
        let (distance, motion) = if s.system == TEACHER {
            ("0 (itself)".to_string(), "0 (itself)".to_string())
        } else {
            (
                pm(&s.mse_to_reference, 4),
                pm(&s.motion_mse_to_reference, 4),
            )
        };
        t += &format!(
            "| {name} | {passes} | {distance} | {motion} | {:.3} ± {:.3} | {} | {} | {} | {} |\n",
            s.temporal_consistency.mean,
            s.temporal_consistency.se,
            pct(&s.shape),
            pct(&s.colour),
            pct(&s.motion),
            pct(&s.all),
        );
    }
    t
}

fn fmt_g(g: Option<f64>) -> String {
    g.map(|g| format!("{g}")).unwrap_or_default()
}

/// `eval.md`: what was run, the table, and how to read it.
pub fn markdown(r: &EvalReport) -> String {
    let s = &r.settings;
    let c = &r.comparison;
    let acc = &r.classifier_held_out;
    let deg = &r.classifier_held_out_degraded;
    let sys = |name: &str| r.systems.iter().find(|x| x.system == name);
    let mut m = String::from("# Few-step evaluation\n\n");
    m += &format!("```sh\n{}\n```\n\n", r.command);
    m += &format!(
        "Architecture `{}` ({}); teacher `{}`, student `{}`. {} held-out prompts: the captions of procedural validation clips 0–{} of stream {} (clips no training run sees; the 420 drawable captions all occur in training too). Every system starts each prompt from the same noise (seed {} → one seed per prompt). Distances are mean squared differences of pixel values in [-1, 1] (± standard error over prompts).\n\n",
        r.arch,
        r.config,
        r.teacher,
        r.student,
        s.prompts,
        s.prompts - 1,
        s.data_seed,
        s.seed
    );
    m += &markdown_table(r);
    m += "\n";
    if let (Some(st), Some(tf)) = (sys(STUDENT), sys(TEACHER_FEW)) {
        m += &format!(
            "- Distance to the reference: student {} vs few-step teacher {}; paired difference {:+.4} ± {:.4}; the student is closer on {} of {} prompts.\n",
            pm(&st.mse_to_reference, 4),
            pm(&tf.mse_to_reference, 4),
            c.mse_difference.mean,
            c.mse_difference.se,
            c.student_closer,
            c.prompts
        );
    }
    m += &format!(
        "- Prompt faithfulness: a classifier trained on procedural clips ({}; held-out accuracy shape / colour / motion / all three {:.0} / {:.0} / {:.0} / {:.0} % on {} clips, {:.0} / {:.0} / {:.0} / {:.0} % on the same clips blurred and noised as its strongest augmentation; chance 25 / 17 / 5 / 0.2 %) reads each clip; a column is the share of prompts whose shape, colour, motion or all three it recognises.\n",
        r.classifier,
        100.0 * acc.shape,
        100.0 * acc.colour,
        100.0 * acc.motion,
        100.0 * acc.all,
        acc.clips,
        100.0 * deg.shape,
        100.0 * deg.colour,
        100.0 * deg.motion,
        100.0 * deg.all,
    );
    m += "- Temporal consistency = 1 − mean |frame t+1 − frame t| / 2 (VBench's temporal flickering; 1 = static). Clips that should move must change, so read it against the reference and the procedural clips: above them means too still, below them flicker. Motion MSE compares the frame-to-frame changes with the reference's.\n";
    m += "- `media/grid.png`: per prompt, rows are the procedural clip, the reference, the few-step teacher and the student; `media/*.gif` the same clips. Seconds per clip on this machine are in `timing.json`.\n";
    m
}

/// Where `vidnas eval run` writes, for messages.
pub fn output_files(out: &Path) -> Vec<PathBuf> {
    [
        "eval.json",
        "eval.csv",
        "eval.md",
        "timing.json",
        "media/grid.png",
    ]
    .iter()
    .map(|f| out.join(f))
    .collect()
}
