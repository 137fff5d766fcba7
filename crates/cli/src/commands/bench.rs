//! `vidnas bench search`: search quality with predictor objectives. The exhaustive front is
//! computed in memory over every architecture; NSGA-II and random search (same number of
//! evaluations) are run as real searches; all hypervolumes use one reference point.

use crate::evaluator::PipelineEvaluator;
use anyhow::{Context, Result};
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
    use vidnas_diffusion::RunInfo;
    use vidnas_latency::kendall_tau_b;
    use vidnas_supernet::Scorer;
    let space = Space::load(&a.space)?;
    let supernet = Scorer::open(&space, &a.supernet)?;
    supernet.require_supernet()?;
    let mut by_arch: BTreeMap<String, Vec<(u64, f64)>> = BTreeMap::new();
    for run in &a.standalone {
        let info = RunInfo::load(run)?;
        let vidnas_diffusion::Objective::Standalone(arch) = &info.objective else {
            anyhow::bail!(
                "{}: objective is `{}`, not a stand-alone run; pass runs made by `vidnas train`",
                run.join("run.json").display(),
                info.objective
            )
        };
        let scorer = Scorer::open(&space, run)?;
        let score = scorer.score(arch)?;
        by_arch
            .entry(arch.encode())
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

#[derive(Args)]
pub struct BenchTrainStepArgs {
    /// Search space whose supernet is trained (the tiny space trains on a CPU).
    #[arg(default_value = "search-spaces/tiny.json")]
    pub space: PathBuf,
    /// `supernet` (every allowed op at every slot, paths sampled per --sampling) or one
    /// architecture in canonical encoding, trained stand-alone.
    #[arg(long, default_value = "supernet")]
    pub model: String,
    /// Supernet path sampling: uniform, fair or sandwich (both frameworks train the same paths).
    #[arg(long, default_value = "uniform")]
    pub sampling: String,
    /// Clips per training step.
    #[arg(long, default_value_t = 4)]
    pub batch_size: usize,
    /// Timed rounds; each round runs --steps steps in tch and --steps in PyTorch, alternating
    /// which goes first, so that load on a shared host hits both alike.
    #[arg(long, default_value_t = 6)]
    pub rounds: usize,
    /// Timed steps per framework per round.
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Untimed steps per framework before the first round.
    #[arg(long, default_value_t = 3)]
    pub warmup: usize,
    /// Intra-op threads for both libtorch (tch) and PyTorch.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Python with torch 2.13 and diffusers [default: $VIDNAS_CACHE/venv-torch-2.13.0/bin/python,
    /// VIDNAS_CACHE defaulting to ~/.cache/vidnas, as scripts/install-libtorch.sh installs it].
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// The PyTorch reference implementation of the same model and training step.
    #[arg(long, default_value = "scripts/torch_train_step.py")]
    pub script: PathBuf,
    /// Seed of the data draws, noise and sampled paths.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write every timed step (framework, round, step, ms, loss) to this CSV.
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

fn default_python() -> PathBuf {
    let cache = std::env::var_os("VIDNAS_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/vidnas")))
        .unwrap_or_else(|| PathBuf::from(".cache/vidnas"));
    cache.join("venv-torch-2.13.0/bin/python")
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The PyTorch reference running as a child process: one JSON line per request on stdout.
struct TorchChild {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
    script: PathBuf,
}

impl TorchChild {
    fn read(&mut self) -> Result<serde_json::Value> {
        use std::io::BufRead;
        let mut line = String::new();
        self.stdout.read_line(&mut line)?;
        if line.is_empty() {
            let status = self.child.wait()?;
            anyhow::bail!(
                "{} exited ({status}) without answering; its error is printed above",
                self.script.display()
            );
        }
        serde_json::from_str(&line).with_context(|| {
            format!(
                "{} printed `{}`, not a JSON line",
                self.script.display(),
                line.trim()
            )
        })
    }

    /// Runs `n` training steps in PyTorch; returns their times (ms) and losses.
    fn steps(&mut self, n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        use std::io::Write;
        writeln!(self.stdin, "run {n}")?;
        self.stdin.flush()?;
        let v = self.read()?;
        let list = |key: &str| -> Result<Vec<f64>> {
            v[key]
                .as_array()
                .with_context(|| format!("{}: answer lacks `{key}`: {v}", self.script.display()))?
                .iter()
                .map(|x| x.as_f64().context("a number"))
                .collect()
        };
        Ok((list("ms")?, list("loss")?))
    }
}

/// Times training steps of the same model in tch (the real `Trainer`) and in PyTorch
/// (`scripts/torch_train_step.py`: diffusers' `UNet2DConditionModel` for the spatial layers,
/// the temporal ops of `crates/nn/src/temporal.rs` in PyTorch), interleaved round by round.
pub fn train_step(a: BenchTrainStepArgs) -> Result<()> {
    use std::process::{Command, Stdio};
    use vidnas_data::{Dataset, Vocab};
    use vidnas_diffusion::{default_text_config, procedural_config};
    use vidnas_diffusion::{Objective, TrainConfig, VideoModel};
    use vidnas_nn::{is_temporal, Build};
    use vidnas_supernet::paths::paths_for_step;

    let load_before = load_average();
    tch::set_num_threads(a.threads as i32);
    let space = Space::load(&a.space)?;
    let sampling: vidnas_diffusion::PathSampling = a
        .sampling
        .parse()
        .map_err(|e: String| anyhow::anyhow!("--sampling: {e}"))?;
    let (objective, build) = if a.model == "supernet" {
        (Objective::Supernet(sampling), Build::Supernet)
    } else {
        let arch = space.parse_arch(&a.model).with_context(|| {
            format!(
                "--model `{}`: use `supernet` or an architecture of {}",
                a.model,
                a.space.display()
            )
        })?;
        (Objective::Standalone(arch.clone()), Build::Subnet(arch))
    };
    let clips = 64;
    let data = Dataset::procedural(procedural_config(&space), a.seed, clips)?;
    let vocab = Vocab::procedural();
    let text = default_text_config(&space, &vocab, 8);
    let mut model = VideoModel::new(&space, build.clone(), text.clone(), tch::Device::Cpu)?;
    let params = model.num_params(|_| true);
    let trainable = model.num_params(is_temporal);
    let cfg = TrainConfig {
        steps: usize::MAX,
        batch_size: a.batch_size,
        seed: a.seed,
        ..Default::default()
    };
    let total_steps = a.warmup + a.rounds * a.steps;
    let paths: Vec<Vec<String>> = (0..total_steps as u64)
        .map(|step| match &objective {
            Objective::Supernet(s) => paths_for_step(&space, *s, a.seed, step)
                .iter()
                .map(|p| p.encode())
                .collect(),
            Objective::Standalone(arch) | Objective::Full(arch) => vec![arch.encode()],
            Objective::Image => unreachable!("not offered"),
        })
        .collect();
    let b = &space.file.backbone;
    let ops = &space.file.temporal.ops;
    let spec = serde_json::json!({
        "format": "vidnas-train-step-spec/1",
        "space": a.space,
        "backbone": b,
        "video": space.file.video,
        "slots": space.slots,
        "temporal": {
            "groups": b.norm_num_groups,
            "conv1d_kernel": ops.conv1d.as_ref().map_or(3, |c| c.kernel_size),
            "conv3d_kernel": ops.conv3d.as_ref().map_or(3, |c| c.kernel_size),
            "attn1d_heads": ops.attn1d.as_ref().map_or(1, |x| x.num_heads),
            "attn3d_heads": ops.attn3d.as_ref().map_or(1, |x| x.num_heads),
        },
        "build": if matches!(build, Build::Supernet) { "supernet" } else { "subnet" },
        "text": text,
        "batch_size": a.batch_size,
        "clips": clips,
        "lr": cfg.lr,
        "warmup_steps": cfg.warmup_steps,
        "weight_decay": cfg.weight_decay,
        "grad_clip": cfg.grad_clip,
        "caption_dropout": cfg.caption_dropout,
        "schedule": cfg.schedule,
        "seed": a.seed,
        "threads": a.threads,
        "paths": paths,
    });
    let dir = tempfile::tempdir()?;
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, serde_json::to_string_pretty(&spec)?)?;
    if !a.script.exists() {
        anyhow::bail!(
            "--script {}: no such file; run from the repository root or pass --script",
            a.script.display()
        );
    }
    let python = a.python.clone().unwrap_or_else(default_python);
    let threads = a.threads.to_string();
    let mut child = Command::new(&python)
        .arg(&a.script)
        .arg("--spec")
        .arg(&spec_path)
        .arg("--expect-params")
        .arg(params.to_string())
        .arg("--expect-trainable")
        .arg(trainable.to_string())
        .env("OMP_NUM_THREADS", &threads)
        .env("MKL_NUM_THREADS", &threads)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| {
            format!(
                "starting {}: install torch 2.13 and diffusers there (scripts/install-libtorch.sh) or pass --python",
                python.display()
            )
        })?;
    let mut torch = TorchChild {
        stdin: child.stdin.take().expect("piped"),
        stdout: std::io::BufReader::new(child.stdout.take().expect("piped")),
        child,
        script: a.script.clone(),
    };
    let ready = torch.read()?;
    println!(
        "model: {} of {} ({} parameters, {} trainable); batch {} clips of {}x{}x{}x{}; {} threads",
        objective.describe(),
        a.space.display(),
        params,
        trainable,
        a.batch_size,
        space.file.video.channels,
        space.file.video.frames,
        space.file.video.height,
        space.file.video.width,
        a.threads
    );
    println!(
        "PyTorch reference: {} (torch {}, diffusers {}); parameter counts equal: {} / {}",
        a.script.display(),
        ready["torch"].as_str().unwrap_or("?"),
        ready["diffusers"].as_str().unwrap_or("?"),
        ready["params"],
        ready["trainable"]
    );

    let run_dir = dir.path().join("run");
    let mut trainer = vidnas_supernet::trainer(&mut model, objective, cfg, &data, &vocab, &run_dir);
    let mut tch_steps = |n: usize| -> Result<(Vec<f64>, Vec<f64>)> {
        let (mut ms, mut losses) = (Vec::new(), Vec::new());
        for _ in 0..n {
            let start = Instant::now();
            let loss = trainer.train_step()?;
            ms.push(start.elapsed().as_secs_f64() * 1e3);
            losses.push(loss);
        }
        Ok((ms, losses))
    };
    tch_steps(a.warmup)?;
    torch.steps(a.warmup)?;
    let mut csv = String::from("framework,round,step,ms,loss\n");
    let (mut all_tch, mut all_torch) = (Vec::new(), Vec::new());
    let (mut med_tch, mut med_torch) = (Vec::new(), Vec::new());
    for round in 0..a.rounds {
        let mut results = Vec::new();
        for first_tch in [round % 2 == 0, round % 2 == 1] {
            if first_tch {
                results.push(("tch", tch_steps(a.steps)?));
            } else {
                results.push(("pytorch", torch.steps(a.steps)?));
            }
        }
        for (name, (ms, losses)) in results {
            for (i, (m, l)) in ms.iter().zip(&losses).enumerate() {
                csv += &format!(
                    "{name},{round},{},{m:.3},{l:.6}\n",
                    a.warmup + round * a.steps + i
                );
            }
            let (all, meds) = if name == "tch" {
                (&mut all_tch, &mut med_tch)
            } else {
                (&mut all_torch, &mut med_torch)
            };
            meds.push(median(&ms));
            all.extend(ms);
        }
        println!(
            "round {round}: tch median {:8.1} ms, PyTorch median {:8.1} ms",
            med_tch[round], med_torch[round]
        );
    }
    use std::io::Write;
    let _ = writeln!(torch.stdin, "quit");
    let _ = torch.child.wait();
    let load_after = load_average();
    let (mt, mp) = (median(&all_tch), median(&all_torch));
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "\n{} steps each: tch median {mt:.1} ms (min {:.1}), PyTorch median {mp:.1} ms (min {:.1})",
        all_tch.len(),
        min(&all_tch),
        min(&all_torch)
    );
    println!(
        "ratio tch / PyTorch: {:.3} by medians, {:.3} by minima (tch is faster when below 1)",
        mt / mp,
        min(&all_tch) / min(&all_torch)
    );
    // Both frameworks run step k on the same path(s): pair them step by step.
    let paired: Vec<f64> = all_tch.iter().zip(&all_torch).map(|(t, p)| t / p).collect();
    println!(
        "median of per-step ratios (step k in tch / step k in PyTorch, same paths): {:.3}",
        median(&paired)
    );
    let ratios: Vec<f64> = med_tch.iter().zip(&med_torch).map(|(t, p)| t / p).collect();
    println!(
        "per-round ratios of medians: {}",
        ratios
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("load average (1, 5, 15 min) before: {load_before}; after: {load_after}");
    if let Some(path) = &a.csv {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        vidnas_search::atomic_write(path, csv.as_bytes())?;
        println!("per-step times written to {}", path.display());
    }
    Ok(())
}
