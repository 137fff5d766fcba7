//! The report of small synthetic run folders: every file, readable PNGs, every front id listed.

use std::path::Path;
use vidnas_io::FileRef;
use vidnas_report::{write_report, Breakdown, ReportOptions, BREAKDOWN_FORMAT};
use vidnas_search::{
    run_search, Algo, Budgets, Nsga2Params, RunOptions, SearchConfig, SearchOutcome,
    SyntheticEvaluator,
};
use vidnas_space::Space;

fn space() -> Space {
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("../../../search-spaces/tiny.json")).unwrap();
    v["temporal"]["placement"] = serde_json::json!("last_layer_of_block");
    Space::from_json("tiny-7slot.json", &v.to_string()).unwrap()
}

/// An NSGA-II run with a latency and a memory budget that bind.
fn search(dir: &Path, space: &Space, with_score: bool) -> (SearchOutcome, SyntheticEvaluator) {
    let mut ev = SyntheticEvaluator::new(space, with_score);
    let cfg = SearchConfig {
        algo: Algo::Nsga2(Nsga2Params {
            population: 24,
            generations: 8,
            ..Default::default()
        }),
        seed: 3,
        budgets: Budgets {
            latency_ms: Some(10.0),
            memory_mb: Some(30.0),
            ..Budgets::none()
        },
        shard: None,
        hv_reference: None,
        table: Some(label("synthetic")),
        supernet: with_score.then(|| label("synthetic-supernet")),
        devices: Vec::new(),
        other_tables: Vec::new(),
        memory_dtypes: Vec::new(),
    };
    let out = run_search(space, &mut ev, &cfg, dir, RunOptions::default()).unwrap();
    (out, ev)
}

/// Provenance of an input that is no file.
fn label(name: &str) -> FileRef {
    FileRef {
        path: name.into(),
        sha256: "0123456789abcdef".into(),
    }
}

fn breakdown(space: &Space, out: &SearchOutcome, ev: &SyntheticEvaluator) -> Breakdown {
    let knee = out.summary.knee.as_ref().unwrap();
    let arch = space.parse_arch(&knee.arch).unwrap();
    let ms: Vec<f64> = ev.slot_breakdown(&arch).iter().map(|s| s.2).collect();
    let b = Breakdown::new(space, &arch, Some(5.0), &ms);
    assert_eq!(
        (b.format.as_str(), &b.arch_id),
        (BREAKDOWN_FORMAT, &knee.arch_id)
    );
    b
}

fn check_png(path: &Path, size: (u32, u32)) {
    let img = image::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!((img.width(), img.height()), size, "{}", path.display());
    // Not blank: some pixels are far from white.
    let rgb = img.to_rgb8();
    let dark = rgb
        .pixels()
        .filter(|p| p.0.iter().all(|&c| c < 100))
        .count();
    assert!(dark > 500, "{} looks empty", path.display());
}

#[test]
fn report_of_a_scored_run_writes_every_file() {
    let space = space();
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = tmp.path().join("run");
    let (out, ev) = search(&run_dir, &space, true);
    assert!(out.rows.iter().any(|r| !r.feasible), "budgets should bind");
    let report_dir = tmp.path().join("report");
    let opts = ReportOptions {
        breakdown: Some(breakdown(&space, &out, &ev)),
    };
    let files = write_report(&run_dir, &report_dir, &opts).unwrap();
    for name in [
        "pareto.png",
        "pareto.svg",
        "op_map.png",
        "op_map.svg",
        "latency_breakdown.png",
        "latency_breakdown.svg",
        "hypervolume.png",
        "hypervolume.svg",
        "index.md",
        "index.html",
    ] {
        let p = report_dir.join(name);
        assert!(files.contains(&p), "{name} not reported");
        assert!(
            std::fs::metadata(&p).unwrap().len() > 200,
            "{name} is (nearly) empty"
        );
    }
    check_png(&report_dir.join("pareto.png"), (1200, 800));
    check_png(&report_dir.join("hypervolume.png"), (1000, 600));
    check_png(&report_dir.join("op_map.png"), (1200, 190 + 56 + 34 * 7));
    check_png(
        &report_dir.join("latency_breakdown.png"),
        (1100, 170 + 56 + 38 * 8),
    );
    let md = std::fs::read_to_string(report_dir.join("index.md")).unwrap();
    let html = std::fs::read_to_string(report_dir.join("index.html")).unwrap();
    for r in &out.front {
        assert!(md.contains(&r.arch_id), "index.md lacks {}", r.arch_id);
        assert!(html.contains(&r.arch_id), "index.html lacks {}", r.arch_id);
    }
    for img in [
        "pareto.png",
        "op_map.png",
        "latency_breakdown.png",
        "hypervolume.png",
    ] {
        assert!(
            md.contains(&format!("]({img})")),
            "index.md does not embed {img}"
        );
        assert!(html.contains(&format!("src=\"{img}\"")));
    }
    assert!(md.contains("| latency budget | 10.0 ms |"), "{md}");
    let svg = std::fs::read_to_string(report_dir.join("pareto.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("knee "));
    // No temporary files are left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&report_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn predictor_only_run_without_breakdown_still_reports() {
    let space = space();
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = tmp.path().join("run");
    let (out, ev) = search(&run_dir, &space, false);
    let report_dir = tmp.path().join("report");
    write_report(&run_dir, &report_dir, &ReportOptions::default()).unwrap();
    assert!(!report_dir.join("latency_breakdown.png").exists());
    let md = std::fs::read_to_string(report_dir.join("index.md")).unwrap();
    assert!(md.contains("No per-slot latency breakdown"));
    check_png(&report_dir.join("pareto.png"), (1200, 800));
    // breakdown.json in the run folder is picked up.
    breakdown(&space, &out, &ev).write(&run_dir).unwrap();
    let again = tmp.path().join("report2");
    write_report(&run_dir, &again, &ReportOptions::default()).unwrap();
    assert!(again.join("latency_breakdown.png").is_file());
}

#[test]
fn a_folder_that_is_not_a_run_is_named_in_the_error() {
    let tmp = tempfile::tempdir().unwrap();
    let err = write_report(tmp.path(), &tmp.path().join("r"), &ReportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("run.json") && err.contains("search run folder"),
        "{err}"
    );
}

#[test]
fn non_finite_values_are_refused_before_anything_is_written() {
    let space = space();
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = tmp.path().join("run");
    search(&run_dir, &space, true);
    let csv = run_dir.join("results_with_front.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut fields: Vec<&str> = lines[2].split(',').collect();
    fields[4] = "NaN";
    lines[2] = fields.join(",");
    std::fs::write(&csv, lines.join("\n") + "\n").unwrap();
    let report_dir = tmp.path().join("report");
    let err = write_report(&run_dir, &report_dir, &ReportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("results_with_front.csv: line 3: column `latency_ms`: `NaN`"),
        "{err}"
    );
    assert!(!report_dir.exists(), "the output folder was created");
    // An empty progress.csv value is refused the same way, naming the line.
    std::fs::write(&csv, text).unwrap();
    let progress = run_dir.join("progress.csv");
    let p = std::fs::read_to_string(&progress).unwrap();
    let bad = p.replacen('\n', "\n0,1,inf,1\n", 1);
    std::fs::write(&progress, bad).unwrap();
    let err = write_report(&run_dir, &report_dir, &ReportOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("progress.csv: line 2") && err.contains("finite"),
        "{err}"
    );
    assert!(!report_dir.exists());
}
