//! `vidnas latency e2e`: predicted time to generate one clip (text encoder + steps × denoiser
//! passes + decoder) with its breakdown, and the same measured on this machine.

use crate::compute_args::ComputeArgs;
use crate::values::*;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::path::PathBuf;
use vidnas_diffusion::{sample, SampleConfig};
use vidnas_export::{load_exported_on, ArchConfig};
use vidnas_latency::{default_decoder, generation_time, ExtraTerm, LatencyTable};
use vidnas_profile::e2e::median_time_ms;
use vidnas_space::Space;

#[derive(Args)]
pub struct E2eArgs {
    /// Exported config (`vidnas export`); its weights allow --measure.
    #[arg(long, conflicts_with_all = ["space", "arch"])]
    pub config: Option<PathBuf>,
    /// Or a space file with --arch (prediction only, e.g. a paper-scale space).
    #[arg(long, requires = "arch")]
    pub space: Option<PathBuf>,
    #[arg(long)]
    pub arch: Option<String>,
    /// Latency table of the target device.
    #[arg(long)]
    pub table: PathBuf,
    /// Denoising steps.
    #[arg(long, default_value_t = 25, value_parser = steps(MAX_SAMPLE_STEPS))]
    pub steps: usize,
    /// Classifier-free guidance scale; anything but 1 costs a second denoiser pass per step.
    #[arg(long, default_value_t = 3.0, value_parser = number(0.0, MAX_GUIDANCE))]
    pub guidance: f64,
    /// Text-encoder time on the target (default: timed here for the built-in encoder,
    /// unknown for prompt embeddings computed elsewhere).
    #[arg(long, value_parser = number(0.0, MAX_MS))]
    pub text_encoder_ms: Option<f64>,
    /// VAE decoder time on the target (a pixel-space model has none).
    #[arg(long, value_parser = number(0.0, MAX_MS))]
    pub decoder_ms: Option<f64>,
    /// Also time the whole sampler on this machine (needs --config and its weights).
    #[arg(long, requires = "config")]
    pub measure: bool,
    /// Timed runs of the sampler (after one warm-up); the median is reported.
    #[arg(long, default_value_t = 3, value_parser = whole(1, MAX_COUNT), requires = "measure")]
    pub runs: usize,
    #[arg(long)]
    pub json: bool,
    // --device: where --measure runs the sampler (and times the built-in text encoder).
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// A prompt the model can encode (cost does not depend on which: prompts are padded).
fn any_prompt(config: &ArchConfig) -> String {
    match &config.text_encoder.precomputed {
        Some(p) => p.prompts.first().cloned().unwrap_or_default(),
        None => config.vocab.tokens().get(2).cloned().unwrap_or_default(),
    }
}

/// `cpu` or `cuda:N`, as `--device` takes it.
fn device_name(device: tch::Device) -> String {
    match device {
        tch::Device::Cuda(i) => format!("cuda:{i}"),
        other => format!("{other:?}").to_lowercase(),
    }
}

pub fn run(a: E2eArgs) -> Result<()> {
    let compute = a.compute.open()?;
    let device = device_name(compute.device);
    let table = LatencyTable::load(&a.table)?;
    let loaded = match &a.config {
        Some(path) => Some(load_exported_on(path, None, compute.device)?),
        None => None,
    };
    let (space, arch) = match (&loaded, &a.space, &a.arch) {
        (Some((_, space, arch, _)), _, _) => (space.clone(), arch.clone()),
        (None, Some(path), Some(text)) => {
            let space = Space::load(path)?;
            let arch = space.parse_arch(text)?;
            (space, arch)
        }
        _ => bail!("give --config configs/NAME.json, or --space FILE with --arch A"),
    };
    let text_encoder = match (a.text_encoder_ms, &loaded) {
        (Some(ms), _) => ExtraTerm::Included {
            ms,
            source: "given with --text-encoder-ms".into(),
        },
        (None, Some((config, _, _, model))) if config.text_encoder.precomputed.is_none() => {
            let prompt = any_prompt(config);
            let ms = median_time_ms(0, 21, || {
                let ctx = tch::no_grad(|| model.prompt_context(&[prompt.as_str()], &config.vocab))?;
                // CUDA runs asynchronously: wait for the encoder before the clock stops.
                if let tch::Device::Cuda(i) = compute.device {
                    tch::Cuda::synchronize(i as i64);
                }
                drop(ctx);
                Ok::<_, vidnas_diffusion::TrainError>(())
            })?;
            ExtraTerm::Included {
                ms,
                source: format!(
                    "built-in encoder timed on this machine ({device}), not on the table's device"
                ),
            }
        }
        (None, Some(_)) => ExtraTerm::Unknown {
            reason: "prompt embeddings are computed elsewhere; pass --text-encoder-ms".into(),
        },
        (None, None) => ExtraTerm::Unknown {
            reason: "no model given; pass --text-encoder-ms".into(),
        },
    };
    let decoder = match a.decoder_ms {
        Some(ms) => ExtraTerm::Included {
            ms,
            source: "given with --decoder-ms".into(),
        },
        None => default_decoder(&space),
    };
    let guided = a.guidance != 1.0;
    let predicted = generation_time(
        &space,
        &arch,
        &table,
        a.steps,
        guided,
        text_encoder,
        decoder,
    )?;
    let measured_ms = if a.measure {
        let Some((config, _, arch, model)) = &loaded else {
            bail!("--measure needs --config (a model with weights to run)");
        };
        check_sampling_steps("--steps", a.steps, config.schedule.train_timesteps)?;
        let prompt = any_prompt(config);
        let cfg = SampleConfig {
            steps: a.steps,
            guidance: a.guidance,
            seed: 0,
        };
        // One warm-up run, then the timed ones.
        let ms = median_time_ms(1, a.runs.max(1), || {
            sample(model, arch, &config.vocab, &config.schedule, &prompt, &cfg).map(drop)
        })
        .context("sampling for --measure")?;
        Some(ms)
    } else {
        None
    };
    if a.json {
        let out = serde_json::json!({
            "arch": arch.encode(),
            "predicted": predicted,
            "measured_ms": measured_ms,
            "measured_on": measured_ms.map(|_| format!("this machine, {device}, {} libtorch threads", tch::get_num_threads())),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let p = &predicted;
    println!(
        "generation time of one clip, {} ({})",
        arch.id(),
        arch.encode()
    );
    println!("table: {} [{}]", a.table.display(), p.table_device);
    println!("  text encoder   {}", p.text_encoder.describe());
    println!(
        "  denoiser       {:.2} ms = {} steps x {} pass{} x {:.2} ms",
        p.denoiser_ms,
        p.steps,
        p.passes_per_step,
        if p.passes_per_step == 1 {
            ""
        } else {
            "es (guidance)"
        },
        p.denoiser_pass_ms
    );
    println!("  decoder        {}", p.decoder.describe());
    println!("  predicted      {:.2} ms", p.total_ms);
    if let Some(ms) = measured_ms {
        println!(
            "  measured       {ms:.2} ms on this machine, {device} (median of {} sampler runs, {} threads); predicted / measured = {:.2}",
            a.runs.max(1),
            tch::get_num_threads(),
            p.total_ms / ms
        );
    }
    Ok(())
}
