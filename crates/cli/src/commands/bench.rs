//! `vidnas bench search`: search quality with predictor objectives. The exhaustive front is
//! computed in memory over every architecture; NSGA-II and random search (same number of
//! evaluations) are run as real searches; all hypervolumes use one reference point.

use crate::evaluator::PipelineEvaluator;
use anyhow::Result;
use clap::Args;
use std::path::PathBuf;
use std::time::Instant;
use vidnas_latency::{temporal_params, LatencyTable, PredictRequest, SlotCostModel};
use vidnas_search::{
    dominates, hypervolume, run_search, Algo, Budgets, Nsga2Params, RunOptions, SearchConfig,
};
use vidnas_space::Space;

#[derive(Args)]
pub struct BenchSearchArgs {
    pub space: PathBuf,
    #[arg(long)]
    pub table: PathBuf,
    #[arg(long, default_value_t = 100)]
    pub population: usize,
    #[arg(long, default_value_t = 40)]
    pub generations: usize,
    /// Seeds to repeat NSGA-II and random search with.
    #[arg(long, default_value = "0,1,2")]
    pub seeds: String,
}

/// Adds `p` to a non-dominated set (minimisation), dropping points it dominates.
fn insert_front(front: &mut Vec<Vec<f64>>, p: Vec<f64>) {
    if front.iter().any(|q| dominates(q, &p) || *q == p) {
        return;
    }
    front.retain(|q| !dominates(&p, q));
    front.push(p);
}

pub fn search_quality(a: BenchSearchArgs) -> Result<()> {
    let space = Space::load(&a.space)?;
    let table = LatencyTable::load(&a.table)?;
    let costs = SlotCostModel::new(&space, &table, &PredictRequest::for_table(&table))?;
    let objectives = |arch: &vidnas_space::Architecture| {
        let p = costs.predict(arch);
        vec![
            p.total_ms,
            p.peak_mem_bytes as f64 / 1e6,
            -(temporal_params(&space, arch) as f64),
        ]
    };
    let t0 = Instant::now();
    let mut front: Vec<Vec<f64>> = Vec::new();
    let mut worst = [f64::NEG_INFINITY; 3];
    let mut total: u64 = 0;
    for arch in space.enumerate() {
        let p = objectives(&arch);
        for k in 0..3 {
            worst[k] = worst[k].max(p[k]);
        }
        insert_front(&mut front, p);
        total += 1;
    }
    // Beyond the worst point of the whole space, so every architecture counts.
    let reference: Vec<f64> = worst
        .iter()
        .map(|&w| if w > 0.0 { w * 1.1 } else { w * 0.9 })
        .collect();
    let hv_exhaustive = hypervolume(&front, &reference);
    println!(
        "space `{}`: {} architectures; exhaustive front {} points, hypervolume {:.6e} ({:.1} s)",
        space.name(),
        total,
        front.len(),
        hv_exhaustive,
        t0.elapsed().as_secs_f64()
    );
    println!("reference point (latency ms, memory MB, -temporal params): {reference:?}");
    println!(
        "\n{:<8} {:>5} {:>12} {:>8} {:>10} {:>9}",
        "algo", "seed", "evaluations", "% space", "HV ratio", "front"
    );
    let seeds: Vec<u64> = a
        .seeds
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()?;
    for seed in seeds {
        let dir = tempfile::tempdir()?;
        let nsga = run(
            &space,
            &table,
            Algo::Nsga2(Nsga2Params {
                population: a.population,
                generations: a.generations,
                ..Default::default()
            }),
            seed,
            &dir.path().join("nsga2"),
        )?;
        let evals = nsga.0;
        let random = run(
            &space,
            &table,
            Algo::Random {
                samples: evals,
                batch: a.population,
            },
            seed,
            &dir.path().join("random"),
        )?;
        for (name, (n, pts)) in [("nsga2", (evals, nsga.1)), ("random", random)] {
            let mut f = Vec::new();
            for p in pts {
                insert_front(&mut f, p);
            }
            let ratio = hypervolume(&f, &reference) / hv_exhaustive;
            println!(
                "{name:<8} {seed:>5} {n:>12} {:>7.3}% {:>9.4} {:>9}",
                100.0 * n as f64 / total as f64,
                ratio,
                f.len()
            );
        }
    }
    Ok(())
}

/// Runs one predictor-only search; returns its evaluation count and every objective vector.
fn run(
    space: &Space,
    table: &LatencyTable,
    algo: Algo,
    seed: u64,
    dir: &std::path::Path,
) -> Result<(usize, Vec<Vec<f64>>)> {
    let mut evaluator = PipelineEvaluator::new(space, table, None)?;
    let config = SearchConfig {
        algo,
        seed,
        budgets: Budgets::default(),
        shard: None,
        hv_reference: None,
        table_id: "bench".into(),
        supernet_id: None,
    };
    let outcome = run_search(space, &mut evaluator, &config, dir, RunOptions::default())?;
    let pts = outcome
        .rows
        .iter()
        .map(|r| {
            vec![
                r.eval.latency_ms,
                r.eval.peak_mem_mb,
                -(r.eval.temporal_params as f64),
            ]
        })
        .collect();
    Ok((outcome.rows.len(), pts))
}

#[derive(Args)]
pub struct BenchRankingArgs {
    pub space: PathBuf,
    /// The supernet run whose ranking is judged.
    #[arg(long)]
    pub supernet: PathBuf,
    /// Stand-alone runs (`supernet train --arch A`), any number of seeds per architecture.
    #[arg(long, required = true, num_args = 1..)]
    pub standalone: Vec<PathBuf>,
    /// CSV of per-architecture scores to write.
    #[arg(long)]
    pub out: PathBuf,
}

/// Kendall τ between supernet scores and stand-alone scores (mean over seeds), with the
/// seed-to-seed τ of the stand-alone runs as the ceiling any proxy can reach.
pub fn ranking(a: BenchRankingArgs) -> Result<()> {
    use std::collections::BTreeMap;
    use vidnas_latency::kendall_tau_b;
    use vidnas_supernet::stages::{RunInfo, Scorer};
    let space = Space::load(&a.space)?;
    let supernet = Scorer::open(&space, &a.supernet)?;
    let mut by_arch: BTreeMap<String, Vec<(u64, f64)>> = BTreeMap::new();
    for run in &a.standalone {
        let info = RunInfo::load(run)?;
        let arch = info
            .objective
            .strip_prefix("standalone:")
            .map(str::to_string);
        let Some(arch) = arch else {
            anyhow::bail!(
                "{}: not a stand-alone run ({})",
                run.display(),
                info.objective
            )
        };
        let scorer = Scorer::open(&space, run)?;
        let score = scorer.score(&space.parse_arch(&arch)?)?;
        by_arch
            .entry(arch)
            .or_default()
            .push((info.train.seed, score));
    }
    let image_score = supernet.validation.score(
        &supernet.model,
        &vidnas_space::Architecture {
            ops: vec![vidnas_space::OpKind::None; space.num_slots()],
        },
    );
    let mut csv = String::from("arch_id,arch,supernet_score,standalone_mean,standalone_scores\n");
    let mut pairs = Vec::new();
    let mut seed_pairs = Vec::new();
    println!("image model (no temporal layers) through the supernet: {image_score:.5}");
    println!(
        "{:<12} {:>10} {:>10}  stand-alone by seed",
        "id", "supernet", "alone"
    );
    for (arch_text, scores) in &by_arch {
        let arch = space.parse_arch(arch_text)?;
        let s = supernet.score(&arch)?;
        let mean = scores.iter().map(|x| x.1).sum::<f64>() / scores.len() as f64;
        pairs.push((s, mean));
        let mut sorted = scores.clone();
        sorted.sort_by_key(|x| x.0);
        if sorted.len() >= 2 {
            seed_pairs.push((sorted[0].1, sorted[1].1));
        }
        let list: Vec<String> = sorted
            .iter()
            .map(|(seed, v)| format!("{seed}:{v:.5}"))
            .collect();
        println!(
            "{:<12} {:>10.5} {:>10.5}  {}",
            arch.id(),
            s,
            mean,
            list.join(" ")
        );
        csv += &format!(
            "{},{},{},{},{}\n",
            arch.id(),
            arch.encode(),
            s,
            mean,
            list.join(" ")
        );
    }
    vidnas_search::atomic_write(&a.out, csv.as_bytes())?;
    println!(
        "\nKendall τ, supernet vs stand-alone mean over seeds: {:.3} ({} architectures)",
        kendall_tau_b(&pairs),
        pairs.len()
    );
    if seed_pairs.len() >= 2 {
        println!(
            "Kendall τ, stand-alone seed vs seed (the ceiling):  {:.3}",
            kendall_tau_b(&seed_pairs)
        );
    }
    Ok(())
}
