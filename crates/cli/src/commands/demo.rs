//! `vidnas demo`: the whole pipeline on one space with settings that fit a laptop CPU —
//! profile latency, pretrain the image model, train the supernet, search, report, export.
//! Every stage is skipped or resumed when its output is already there, so an interrupted
//! demo continues where it stopped.

use crate::commands::search::{
    rerank, search, why_not_reranked, AlgoArg, NamedBudgets, RerankRequest, SearchArgs,
};
use crate::commands::train::{BackboneArgs, SourceArgs};
use crate::compute_args::ComputeArgs;
use crate::paths::out_dir;
use crate::values::*;
use anyhow::Result;
use clap::Args;
use std::path::{Path, PathBuf};
use std::time::Instant;
use vidnas_diffusion::DataConfig;
use vidnas_diffusion::{Objective, PathSampling, TrainConfig};
use vidnas_export::{export, ExportRequest, PredictedCost};
use vidnas_latency::{Dtype, Statistic};
use vidnas_profile::executorch::Runtime;
use vidnas_profile::profile::{profile_space, ProfileOptions};
use vidnas_profile::timer::TimingConfig;
use vidnas_report::{write_report, ReportOptions};
use vidnas_search::{select, Selector};
use vidnas_space::Space;
use vidnas_supernet::stages::{self, ImageStage, TemporalStage};

#[derive(Args)]
pub struct DemoArgs {
    /// Search-space file.
    #[arg(default_value = "search-spaces/tiny.json")]
    pub space: PathBuf,
    /// Folder for every output (table, runs, search, report, config).
    #[arg(long, default_value = "runs/demo", value_parser = out_dir)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Stage-1 image pretraining steps [default: 0 from a pretrained backbone (see
    /// --pretrained), else 400].
    #[arg(long, value_parser = steps(MAX_STEPS))]
    pub image_steps: Option<usize>,
    /// Start stage 1 from this vidnas image model (spatial UNet + text encoder, e.g. the
    /// `model.safetensors` of a `vidnas pretrain-image` run). Default: the space's shipped
    /// backbone `configs/<space name>-image.safetensors` (next to the space's folder) when it
    /// exists; made by `scripts/pretrain-backbone.sh`.
    #[arg(long, value_name = "SAFETENSORS", conflicts_with_all = ["no_pretrained", "init_unet"])]
    pub pretrained: Option<PathBuf>,
    /// Train the image model from scratch even when the space ships a pretrained backbone.
    #[arg(long)]
    pub no_pretrained: bool,
    /// Start the supernet from this video supernet (every op of every slot trained, e.g.
    /// `configs/<space name>-video.safetensors`, made from the shipped image model by
    /// scripts/pretrain-video.sh). Default: the space's shipped one when it exists and stage 1
    /// starts from the shipped image model it was made from.
    #[arg(long, value_name = "SAFETENSORS", conflicts_with = "no_video_start")]
    pub video_start: Option<PathBuf>,
    /// Start the supernet's temporal layers fresh even when the space ships a video supernet.
    #[arg(long)]
    pub no_video_start: bool,
    /// Supernet training steps.
    #[arg(long, default_value_t = 150, value_parser = steps(MAX_STEPS))]
    pub supernet_steps: usize,
    #[arg(long, default_value_t = 12, value_parser = whole(1, MAX_COUNT))]
    pub population: usize,
    #[arg(long, default_value_t = 4, value_parser = whole(1, MAX_COUNT))]
    pub generations: usize,
    /// Latency budget for the search (ms on this machine's table).
    #[arg(long, value_parser = positive(MAX_MS))]
    pub latency_budget_ms: Option<f64>,
    /// libtorch threads for profiling (the deployment target's).
    #[arg(long, default_value_t = 2, value_parser = threads())]
    pub threads: usize,
    /// Where to train and score: cpu, cuda or cuda:N (profiling stays on the CPU, the
    /// latency target).
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: vidnas_diffusion::DeviceChoice,
    /// Search with plain NSGA-II instead of surrogate-assisted NSGA-II.
    #[arg(long)]
    pub no_surrogate: bool,
    /// Front architectures re-ranked by fine-tuning after the search (`search --rerank`);
    /// 0 turns it off.
    #[arg(long, value_name = "K", default_value_t = 8, value_parser = whole(0, 1000))]
    pub rerank: usize,
    /// Fine-tuning steps per re-ranked architecture.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = steps(MAX_STEPS))]
    pub rerank_steps: usize,
    /// Validation clips that score architectures (taken out of loaded data).
    #[arg(long, default_value_t = 8, value_parser = whole(1, MAX_COUNT))]
    pub validation_clips: usize,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub backbone: BackboneArgs,
}

fn stage(n: usize, name: &str, start: Instant) {
    eprintln!(
        "\n[{n}/7] {name} (t = {:.0} s)",
        start.elapsed().as_secs_f64()
    );
}

pub fn run(a: DemoArgs) -> Result<()> {
    let start = Instant::now();
    let space = Space::load(&a.space)?;
    let compute_args = ComputeArgs {
        device: a.device,
        threads: None,
    };
    let compute = compute_args.open()?;
    eprintln!(
        "vidnas demo on space `{}`: {} slots, {} architectures; outputs in {}",
        space.name(),
        space.num_slots(),
        space.count(),
        a.out.display()
    );
    crate::paths::create_out_dir(&a.out)?;
    let table = a.out.join("latency-table.json");
    let image = a.out.join("image");
    let supernet = a.out.join("supernet");
    let search_dir = a.out.join("search");
    let report_dir = a.out.join("report");
    let configs = a.out.join("configs");

    stage(
        1,
        "profile the latency of every op signature on this machine",
        start,
    );
    // Cross-attention reads as many tokens as the text conditioning produces.
    let text_tokens = match &a.backbone.text_embeddings {
        Some(path) => vidnas_nn::PromptTable::read(path)?.token_shape().0 as usize,
        None => 8,
    };
    let opts = ProfileOptions {
        device_name: "this machine (demo)".into(),
        cuda: false,
        dtype: Dtype::F32,
        threads: a.threads,
        batch: 1,
        text_tokens,
        timing: TimingConfig {
            warmup: 2,
            repeats: 7,
        },
        statistic: Statistic::Min,
        runtime: Runtime::Libtorch,
        bundle: None,
    };
    profile_space(&space, &table, &opts, true)?;

    let train = |steps, lr, batch_size| TrainConfig {
        steps,
        lr,
        batch_size,
        seed: a.seed,
        checkpoint_every: 50,
        ..TrainConfig::default()
    };
    stage(
        2,
        "pretrain the image model (spatial UNet + text encoder) on single frames",
        start,
    );
    let pretrained = pretrained_backbone(&a, &space)?;
    let video_start = video_start(&a, &space, pretrained.as_deref())?;
    let image_steps = a
        .image_steps
        .unwrap_or(if pretrained.is_some() { 0 } else { 400 });
    match &pretrained {
        Some(p) => eprintln!(
            "starting from the pretrained image model {} ({image_steps} more steps)",
            p.display()
        ),
        None => eprintln!("training the image model from scratch ({image_steps} steps)"),
    }
    if let Some(v) = &video_start {
        eprintln!(
            "starting the supernet from the video supernet {}",
            v.display()
        );
    }
    let image_stage = ImageStage {
        data: DataConfig {
            seed: a.seed,
            source: a.source.source().unwrap_or_default(),
            validation_clips: a.validation_clips,
            ..DataConfig::default()
        },
        text_embeddings: a.backbone.text_embeddings.clone(),
        init_unet: pretrained.or_else(|| a.backbone.init_file()),
    };
    run_stage(&image, |resume| {
        stages::pretrain_image(
            &space,
            &image,
            train(image_steps, 2e-3, 8),
            image_stage.clone(),
            resume,
            true,
            &compute,
        )
        .map(drop)
    })?;

    stage(
        3,
        "inflate to video and train the weight-sharing temporal supernet (fair path sampling)",
        start,
    );
    run_stage(&supernet, |resume| {
        let objective = Objective::Supernet(PathSampling::Fair);
        stages::train_temporal(
            &space,
            &image,
            &supernet,
            objective,
            train(a.supernet_steps, 1e-3, 4),
            TemporalStage {
                init_from: video_start.clone(),
                ..TemporalStage::default()
            },
            resume,
            true,
            &compute,
        )
        .map(drop)
    })?;

    stage(
        4,
        if a.no_surrogate {
            "search: NSGA-II over (supernet score, predicted latency, predicted memory)"
        } else {
            "search: NSGA-II over (supernet score, predicted latency, predicted memory), \
             its inner loop on a surrogate of the supernet score"
        },
        start,
    );
    refuse_other_search(&search_dir, a.no_surrogate)?;
    let args = SearchArgs {
        space: None,
        table: Vec::new(),
        supernet: None,
        out: None,
        algo: AlgoArg::Nsga2,
        latency_budget_ms: a.latency_budget_ms.map(NamedBudgets::One),
        memory_budget_mb: None,
        population: a.population,
        generations: a.generations,
        samples: None,
        seed: a.seed,
        resume: search_dir.join("run.json").exists(),
        shard: None,
        hv_ref: None,
        runtime: None,
        dtype: None,
        batch: None,
        // The supernet scores as many as plain NSGA-II would (warm-up = one population); the
        // surrogate predicts over 10,000 (reports/surrogate/bench.txt: a better front).
        surrogate: !a.no_surrogate,
        surrogate_warmup: a.population,
        surrogate_population: 128,
        surrogate_generations: 24,
        remeasure: None,
        // Re-ranking is its own stage below.
        rerank: Some(0),
        rerank_steps: a.rerank_steps,
        compute: compute_args,
    };
    let mut outcome = search(
        &space,
        std::slice::from_ref(&table),
        Some(&supernet),
        &search_dir,
        &args,
        &compute,
    )?;
    eprintln!(
        "{} architectures scored by the supernet, {} predicted by the surrogate, {} on the Pareto front",
        outcome.rows.len(),
        outcome.surrogate_rows,
        outcome.front.len()
    );

    let skip = why_not_reranked(&supernet, false, &compute);
    if let Some(why) = skip.filter(|_| a.rerank > 0) {
        eprintln!("--rerank skipped: {why}");
    } else if a.rerank > 0 {
        stage(
            5,
            &format!(
                "re-rank {} front architectures: {} fine-tuning steps each from the supernet, scored again",
                a.rerank, a.rerank_steps
            ),
            start,
        );
        let request = RerankRequest {
            k: a.rerank,
            steps: a.rerank_steps,
            seed: a.seed,
        };
        let table = vidnas_latency::LatencyTable::load(&table)?;
        rerank(
            &space,
            &table,
            &supernet,
            &mut outcome,
            request,
            &search_dir,
            &compute,
        )?;
    }

    stage(
        6,
        "report: Pareto front, op map, latency breakdown, hypervolume",
        start,
    );
    write_report(&search_dir, &report_dir, &ReportOptions::default())?;

    stage(
        7,
        "export the knee-point architecture as a config plus weights",
        start,
    );
    let knee = select(&outcome.front, &Selector::Knee)?;
    let name = format!("{}-demo", space.name());
    // The re-ranked knee's fine-tuned weights (what its score measured), else the supernet's.
    let weights = vidnas_search::finished_rerank_run(&search_dir, &knee.arch_id)
        .unwrap_or_else(|| supernet.clone());
    let config = export(&ExportRequest {
        space: &space,
        arch: &knee.arch,
        supernet_run: &weights,
        out_dir: &configs,
        name: &name,
        score: knee.eval.score,
        predicted: Some(PredictedCost {
            latency_ms: knee.eval.latency_ms,
            peak_mem_mb: knee.eval.peak_mem_mb,
            params: knee.eval.params,
            table: table.display().to_string(),
        }),
        table_path: Some(&table),
        search_run: Some(&search_dir),
        search_seed: Some(a.seed),
        selection: "knee".into(),
    })?;
    // One clip from the exported model, so the demo ends with something that generates.
    let gif = report_dir.join("sample.gif");
    let prompt = "a red square moving left fast";
    let (exported, _, arch, model) =
        vidnas_export::load_exported_on(&config, None, compute.device)?;
    let clip = vidnas_diffusion::sample(
        &model,
        &arch,
        &exported.vocab,
        &exported.schedule,
        prompt,
        &vidnas_diffusion::SampleConfig {
            steps: 25,
            guidance: 3.0,
            seed: a.seed,
        },
    )?;
    vidnas_data::write_gif(&gif, &clip, 4, 125)?;
    eprintln!("\ndone in {:.0} s", start.elapsed().as_secs_f64());
    println!("report:  {}", report_dir.join("index.html").display());
    println!("config:  {}", config.display());
    println!("sample:  {} (\"{prompt}\", 25 steps)", gif.display());
    println!(
        "chosen:  {} ({}), score {:.5}, {:.2} ms, {:.1} MB predicted",
        knee.arch_id,
        knee.arch.encode(),
        knee.eval.score.unwrap_or(f64::NAN),
        knee.eval.latency_ms,
        knee.eval.peak_mem_mb
    );
    println!(
        "next:    vidnas sample --config {} --prompt \"a blue circle moving up slow\" --out clip.gif",
        config.display()
    );
    Ok(())
}

/// The vidnas image model stage 1 starts from: `--pretrained`, else the space's shipped
/// backbone when it exists (unless `--no-pretrained` or `--init-unet`).
fn pretrained_backbone(a: &DemoArgs, space: &Space) -> Result<Option<PathBuf>> {
    if let Some(p) = &a.pretrained {
        let fix = "pass the model.safetensors of a `vidnas pretrain-image` run";
        return given_file("--pretrained", p, fix).map(Some);
    }
    if a.no_pretrained || a.backbone.init_unet.is_some() {
        return Ok(None);
    }
    Ok(shipped(&space.path, space.name(), "image"))
}

/// The video supernet stage 3 starts from: `--video-start`, else the space's shipped one when
/// stage 1 starts from the shipped image model it was made from (unless `--no-video-start`).
fn video_start(a: &DemoArgs, space: &Space, image: Option<&Path>) -> Result<Option<PathBuf>> {
    if let Some(p) = &a.video_start {
        return given_file("--video-start", p, "make it with scripts/pretrain-video.sh").map(Some);
    }
    let shipped_image = shipped(&space.path, space.name(), "image");
    if a.no_video_start || image.is_none() || image != shipped_image.as_deref() {
        return Ok(None);
    }
    Ok(shipped(&space.path, space.name(), "video"))
}

/// The file a start flag names, refused when missing with `fix` or leaving the flag out.
fn given_file(flag: &str, path: &Path, fix: &str) -> Result<PathBuf> {
    if !path.is_file() {
        anyhow::bail!(
            "{flag} {}: not found; {fix}, or leave {flag} out",
            path.display()
        );
    }
    Ok(path.to_path_buf())
}

/// `configs/<name>-<kind>.safetensors` beside the folder holding the space file
/// (`search-spaces/tiny.json` → `configs/tiny-image.safetensors`), when it exists.
pub fn shipped(space_path: &Path, name: &str, kind: &str) -> Option<PathBuf> {
    let folder = space_path.parent()?.parent().unwrap_or(Path::new(""));
    let file = folder
        .join("configs")
        .join(format!("{name}-{kind}.safetensors"));
    file.is_file().then_some(file)
}

/// A search folder left by a demo with the other search (an older demo, or `--no-surrogate`)
/// cannot be resumed with this one: say how to search again without retraining.
fn refuse_other_search(search_dir: &Path, no_surrogate: bool) -> Result<()> {
    let expected = if no_surrogate {
        "nsga2"
    } else {
        "surrogate_nsga2"
    };
    let found = std::fs::read_to_string(search_dir.join("run.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| v["algo"]["name"].as_str().map(str::to_string));
    match found {
        Some(found) if found != expected => anyhow::bail!(
            "{} holds a `{found}` search from an earlier demo, not this demo's `{expected}`; \
             delete that folder to search again (the trained stages are kept){}",
            search_dir.display(),
            if no_surrogate {
                ""
            } else {
                ", or pass --no-surrogate"
            }
        ),
        _ => Ok(()),
    }
}

/// Runs a training stage unless it finished; resumes it when it started.
fn run_stage(
    run: &Path,
    f: impl FnOnce(bool) -> Result<(), vidnas_diffusion::TrainError>,
) -> Result<()> {
    if run.join("model.safetensors").exists() {
        eprintln!("already trained: {}", run.display());
        return Ok(());
    }
    Ok(f(run.join("run.json").exists())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_backbone_sits_in_configs_beside_the_spaces_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let space = tmp.path().join("search-spaces/tiny.json");
        std::fs::create_dir_all(space.parent().unwrap()).unwrap();
        assert_eq!(shipped(&space, "tiny", "image"), None);
        std::fs::create_dir_all(tmp.path().join("configs")).unwrap();
        let file = tmp.path().join("configs/tiny-image.safetensors");
        std::fs::write(&file, b"weights").unwrap();
        assert_eq!(shipped(&space, "tiny", "image"), Some(file));
        assert_eq!(shipped(&space, "other", "image"), None);
        assert_eq!(shipped(&space, "tiny", "video"), None);
    }
}
