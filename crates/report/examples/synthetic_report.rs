//! Runs NSGA-II with the synthetic evaluator on a 7-slot version of the tiny space and writes
//! its report: `cargo run -p vidnas-report --example synthetic_report -- <out-folder> [--predictor-only]`.

use std::path::PathBuf;
use vidnas_report::{write_report, Breakdown, ReportOptions};
use vidnas_search::{
    run_search, Algo, Budgets, Nsga2Params, RunOptions, SearchConfig, SyntheticEvaluator,
};
use vidnas_space::Space;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let out = PathBuf::from(args.get(1).map_or("synthetic-report", String::as_str));
    let with_score = !args.iter().any(|a| a == "--predictor-only");
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("../../../search-spaces/tiny.json"))?;
    v["temporal"]["placement"] = serde_json::json!("last_layer_of_block");
    let space = Space::from_json("tiny-7slot.json", &v.to_string())?;
    let mut ev = SyntheticEvaluator::new(&space, with_score);
    let cfg = SearchConfig {
        algo: Algo::Nsga2(Nsga2Params {
            population: 32,
            generations: 20,
            ..Default::default()
        }),
        seed: 1,
        budgets: Budgets {
            latency_ms: Some(10.0),
            memory_mb: Some(30.0),
            ..Budgets::none()
        },
        shard: None,
        hv_reference: None,
        table: None,
        supernet: None,
        devices: Vec::new(),
        other_tables: Vec::new(),
        memory_dtypes: Vec::new(),
    };
    let run_dir = out.join("run");
    let result = run_search(&space, &mut ev, &cfg, &run_dir, RunOptions::default())?;
    let knee = result.summary.knee.clone().expect("a front");
    let arch = space.parse_arch(&knee.arch)?;
    let ms: Vec<f64> = ev.slot_breakdown(&arch).iter().map(|s| s.2).collect();
    let breakdown = Breakdown::new(&space, &arch, Some(5.0), &ms);
    let files = write_report(
        &run_dir,
        &out.join("report"),
        &ReportOptions {
            breakdown: Some(breakdown),
        },
    )?;
    for f in files {
        println!("{}", f.display());
    }
    Ok(())
}
