//! `vidnas bench train-step`: training-step time of the same model in tch (the real `Trainer`)
//! and in PyTorch (`python/vidnas_twin/train_step.py`, a child process speaking JSON lines),
//! interleaved round by round (`vidnas_profile::e2e::interleave`). What stays here is the glue
//! between the two: the spec both build the model from, the child process, and printing.

use crate::csv_file::write_csv;
use crate::paths::out_file;
use crate::values::*;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use vidnas_profile::e2e::{interleave, load_average, time_steps, StepTimes};
use vidnas_space::Space;

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
    #[arg(long, default_value_t = 4, value_parser = whole(1, MAX_BATCH))]
    pub batch_size: usize,
    /// Timed rounds; each round runs --steps steps in tch and --steps in PyTorch, alternating
    /// which goes first, so that load on a shared host hits both alike.
    #[arg(long, default_value_t = 6, value_parser = whole(1, MAX_COUNT))]
    pub rounds: usize,
    /// Timed steps per framework per round.
    #[arg(long, default_value_t = 5, value_parser = steps(MAX_STEPS))]
    pub steps: usize,
    /// Untimed steps per framework before the first round.
    #[arg(long, default_value_t = 3, value_parser = whole(0, MAX_COUNT))]
    pub warmup: usize,
    /// Intra-op threads for both libtorch (tch) and PyTorch.
    #[arg(long, default_value_t = 2, value_parser = threads())]
    pub threads: usize,
    /// Where both frameworks train: cpu, cuda or cuda:N (PyTorch on the same GPU).
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: vidnas_diffusion::DeviceChoice,
    /// Python with torch 2.13 and diffusers [default: $VIDNAS_CACHE/venv-torch-2.13.0/bin/python,
    /// VIDNAS_CACHE defaulting to ~/.cache/vidnas, as scripts/install-libtorch.sh installs it].
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// The PyTorch reference implementation of the same model and training step.
    #[arg(long, default_value = "python/vidnas_twin/train_step.py")]
    pub script: PathBuf,
    /// Seed of the data draws, noise and sampled paths.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Write every timed step (framework, round, step, ms, loss) to this CSV.
    #[arg(long, value_parser = out_file)]
    pub csv: Option<PathBuf>,
}

fn default_python() -> PathBuf {
    vidnas_io::cache_dir().join("venv-torch-2.13.0/bin/python")
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

    /// Runs `n` training steps in PyTorch; returns their times (ms, timed there) and losses.
    fn steps(&mut self, n: usize) -> Result<StepTimes> {
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
        Ok(StepTimes {
            ms: list("ms")?,
            losses: list("loss")?,
        })
    }
}

/// Times training steps of the same model in tch (the real `Trainer`) and in PyTorch
/// (`python/vidnas_twin/train_step.py`: diffusers' `UNet2DConditionModel` for the spatial layers,
/// the temporal ops of `crates/nn/src/temporal.rs` in PyTorch), interleaved round by round.
pub fn run(a: BenchTrainStepArgs) -> Result<()> {
    use std::process::{Command, Stdio};
    use vidnas_data::{Dataset, Vocab};
    use vidnas_diffusion::{default_text_config, procedural_config};
    use vidnas_diffusion::{Objective, TrainConfig, VideoModel};
    use vidnas_nn::{is_temporal, Build};
    use vidnas_supernet::paths::paths_for_step;

    let load_before = load_average();
    // Checks the device and sets the threads before anything runs.
    let compute = vidnas_diffusion::Compute::open(vidnas_diffusion::ComputeRequest {
        device: a.device,
        threads: Some(a.threads),
        precision: vidnas_diffusion::Precision::F32,
    })?;
    let device = compute.record().device;
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
    let mut model = VideoModel::new(&space, build.clone(), text.clone(), compute.device)?;
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
            Objective::Image | Objective::SubSupernet(..) => unreachable!("not offered"),
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
        // `OpShape::of` for every declared op, as python/vidnas_twin's `temporal_config`.
        "temporal": {
            "groups": b.norm_num_groups,
            "hyper": ops
                .declared()
                .filter_map(|(op, p)| Some((op.as_str(), p.hyper()?.size)))
                .collect::<std::collections::BTreeMap<_, _>>(),
            "stride": ops
                .declared()
                .filter_map(|(op, p)| Some((op.as_str(), p.stride()?)))
                .collect::<std::collections::BTreeMap<_, _>>(),
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
        "device": device,
        "paths": paths,
    });
    let dir = tempfile::tempdir()?;
    let spec_path = dir.path().join("spec.json");
    vidnas_io::write_json(&spec_path, &spec)?;
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
        "model: {} of {} ({} parameters, {} trainable); batch {} clips of {}x{}x{}x{}; {} threads; {device}",
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
    let cuda = match compute.device {
        tch::Device::Cuda(i) => Some(i as i64),
        _ => None,
    };
    let mut tch = |n: usize| -> Result<StepTimes> {
        Ok(time_steps(n, || {
            let loss = trainer.train_step();
            // CUDA runs asynchronously: the optimiser step ends before the clock stops.
            if let Some(i) = cuda {
                tch::Cuda::synchronize(i);
            }
            loss
        })?)
    };
    let mut pytorch = |n: usize| torch.steps(n);
    let steps = interleave(
        [("tch", &mut tch), ("pytorch", &mut pytorch)],
        a.warmup,
        a.rounds,
        a.steps,
        |round, [t, p]| {
            println!("round {round}: tch median {t:8.1} ms, PyTorch median {p:8.1} ms");
        },
    )?;
    use std::io::Write;
    let _ = writeln!(torch.stdin, "quit");
    let _ = torch.child.wait();
    let load_after = load_average();
    let ([mt, mp], [min_t, min_p]) = (steps.medians(), steps.minima());
    println!(
        "\n{} steps each: tch median {mt:.1} ms (min {min_t:.1}), PyTorch median {mp:.1} ms (min {min_p:.1})",
        steps.all[0].len(),
    );
    println!(
        "ratio tch / PyTorch: {:.3} by medians, {:.3} by minima (tch is faster when below 1)",
        mt / mp,
        min_t / min_p
    );
    // Both frameworks run step k on the same path(s): pair them step by step.
    println!(
        "median of per-step ratios (step k in tch / step k in PyTorch, same paths): {:.3}",
        steps.median_paired_ratio()
    );
    println!(
        "per-round ratios of medians: {}",
        steps
            .round_ratios()
            .iter()
            .map(|r| format!("{r:.3}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("load average (1, 5, 15 min) before: {load_before}; after: {load_after}");
    if let Some(path) = &a.csv {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::paths::create_out_dir(parent)?;
        }
        let rows = steps.records.iter().map(|r| {
            [
                r.name.to_string(),
                r.round.to_string(),
                r.step.to_string(),
                format!("{:.3}", r.ms),
                format!("{:.6}", r.loss),
            ]
        });
        write_csv(path, "framework,round,step,ms,loss", rows)?;
        println!("per-step times written to {}", path.display());
    }
    Ok(())
}
