//! The few-step evaluation: on held-out prompts, the distilled student at its few steps, the
//! teacher at the same few steps (what distillation must beat) and the teacher at its full
//! step count (the reference) generate one clip each from the same noise. Every clip is
//! measured for distance (and motion distance) to the reference clip, temporal consistency and
//! prompt faithfulness under the classifier; the procedural clip each prompt came from gives
//! the ceiling row.
//!
//! Writes `eval.json` (settings, provenance, summaries, every prompt), `eval.csv` (one row per
//! prompt and system), `eval.md` (the table and the command), `timing.json` (seconds per clip
//! on this machine, kept apart because it is the one output that is not a function of the
//! seed) and `media/` (GIFs and one PNG grid for the first prompts). Every file is written to a
//! temporary name and renamed.

use crate::classifier::{ClipClassifier, Predicted};
use crate::error::{EvalError, Result};
use crate::eval_files::write_outputs;
use crate::eval_report::{
    ClipResult, Comparison, EvalReport, EvalSettings, PromptResult, SystemSummary, Timing, DATA,
    EVAL_FORMAT, STUDENT, TEACHER, TEACHER_FEW,
};
use crate::metrics::{motion_mse, mse, temporal_consistency, Stat};
use std::path::Path;
use std::time::Instant;
use tch::Device;
use vidnas_data::{Clip, ClipLabel, Dataset, ProceduralConfig};
use vidnas_diffusion::{sample, SampleConfig};
use vidnas_export::load_exported_on;
use vidnas_io::sha256_16;

/// The inputs of one evaluation.
pub struct EvalRequest<'a> {
    /// Exported config (`vidnas export`).
    pub config: &'a Path,
    /// Teacher weights (`vidnas finetune` → model.safetensors).
    pub teacher: &'a Path,
    /// Student weights (`vidnas distill` → model.safetensors).
    pub student: &'a Path,
    /// Classifier folder (`vidnas eval classifier`).
    pub classifier: &'a Path,
    /// Output folder.
    pub out: &'a Path,
    pub settings: EvalSettings,
    /// The command line, written into eval.md and eval.json.
    pub command: String,
    pub progress: bool,
    /// Where the models and the classifier run (the results do not depend on it beyond float
    /// rounding).
    pub device: Device,
}

/// `cpu` or `cuda:N`, as `--device` takes it.
fn device_name(device: Device) -> String {
    match device {
        Device::Cuda(i) => format!("cuda:{i}"),
        Device::Mps => "mps".into(),
        Device::Vulkan => "vulkan".into(),
        Device::Cpu => "cpu".into(),
    }
}

/// Noise seed of prompt `index`: SplitMix64 of the run seed and the index.
pub fn noise_seed(seed: u64, index: u64) -> u64 {
    let mix = |mut z: u64| {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    mix(mix(seed) ^ mix(index.wrapping_add(0x5eed)))
}

fn check_settings(s: &EvalSettings) -> Result<()> {
    if s.prompts == 0 {
        return Err(EvalError::Config(
            "--prompts must be at least 1 (32 gives accuracies in steps of 3 %)".into(),
        ));
    }
    if s.teacher_steps == 0 || s.student_steps == 0 {
        return Err(EvalError::Config(
            "--teacher-steps and --student-steps must be at least 1".into(),
        ));
    }
    for (flag, g) in [
        ("--guidance", s.guidance),
        ("--student-guidance", s.student_guidance),
    ] {
        if !g.is_finite() {
            return Err(EvalError::Config(format!(
                "{flag} {g} is not a number; 1 disables guidance"
            )));
        }
    }
    Ok(())
}

fn median_and_min(mut xs: Vec<f64>) -> (f64, f64) {
    xs.sort_by(f64::total_cmp);
    (xs[xs.len() / 2], xs[0])
}

fn measure(
    system: &str,
    clip: &Clip,
    reference: Option<&Clip>,
    predicted: &Predicted,
    label: &ClipLabel,
) -> Result<ClipResult> {
    let hits = predicted.hits(label);
    Ok(ClipResult {
        system: system.to_string(),
        mse_to_reference: reference.map(|r| mse(clip, r)).transpose()?,
        motion_mse_to_reference: reference.map(|r| motion_mse(clip, r)).transpose()?,
        temporal_consistency: temporal_consistency(clip),
        recognised: predicted.caption(),
        shape_ok: hits.shape,
        colour_ok: hits.colour,
        motion_ok: hits.motion,
    })
}

/// Runs the evaluation and writes its files into `req.out`.
/// The clip shape of `space`'s model, once it is known to make pixels of the shape the
/// classifier (in folder `classifier_dir`) reads; errors name both shapes and the fix.
pub(crate) fn classifier_reads_model(
    classifier: &ClipClassifier,
    space: &vidnas_space::Space,
    classifier_dir: &std::path::Path,
    config: &std::path::Path,
) -> Result<ProceduralConfig> {
    let video = &space.file.video;
    if video.vae_scale_factor != 1 {
        return Err(EvalError::file(
            config,
            format!(
                "the model generates latents (video.vae_scale_factor {}), but the classifier and metrics read pixels; evaluate a pixel-space model",
                video.vae_scale_factor
            ),
        ));
    }
    let shape = vidnas_diffusion::procedural_config(space);
    if classifier.clip_shape() != shape {
        return Err(EvalError::file(
            classifier_dir.join(crate::classifier::INFO_FILE),
            format!(
                "the classifier reads clips {:?} but the model makes {shape:?}; train one for this space with `vidnas eval classifier --config {}`",
                classifier.clip_shape(),
                config.display()
            ),
        ));
    }
    Ok(shape)
}

pub fn evaluate(req: &EvalRequest) -> Result<EvalReport> {
    let s = &req.settings;
    check_settings(s)?;
    let (classifier, classifier_info) = ClipClassifier::load_on(req.classifier, req.device)?;
    let (config, space, arch, teacher) =
        load_exported_on(req.config, Some(req.teacher), req.device)?;
    let (_, _, _, student) = load_exported_on(req.config, Some(req.student), req.device)?;
    let shape = classifier_reads_model(&classifier, &space, req.classifier, req.config)?;
    let data = Dataset::procedural_validation(shape, s.data_seed, s.prompts)?;
    let passes = |steps: usize, g: f64| steps * if g != 1.0 { 2 } else { 1 };
    let systems: [(&str, String, &vidnas_diffusion::VideoModel, usize, f64); 3] = [
        (
            STUDENT,
            format!(
                "distilled student, {} steps, guidance {}",
                s.student_steps, s.student_guidance
            ),
            &student,
            s.student_steps,
            s.student_guidance,
        ),
        (
            TEACHER_FEW,
            format!(
                "teacher without distillation, {} steps, guidance {}",
                s.student_steps, s.guidance
            ),
            &teacher,
            s.student_steps,
            s.guidance,
        ),
        (
            TEACHER,
            format!(
                "teacher, {} steps, guidance {} (the reference)",
                s.teacher_steps, s.guidance
            ),
            &teacher,
            s.teacher_steps,
            s.guidance,
        ),
    ];
    let bar = vidnas_io::progress_bar(
        req.progress,
        s.prompts as u64,
        "eval [{bar:30}] {pos}/{len} prompts, eta {eta} {msg}",
    );
    let mut prompts = Vec::with_capacity(s.prompts);
    let mut seconds: Vec<Vec<f64>> = vec![Vec::new(); systems.len()];
    let mut media: Vec<Vec<Clip>> = Vec::new();
    for index in 0..s.prompts {
        let real = data.get(index);
        let label = real.label.expect("procedural clips are labelled");
        let caption = label.caption();
        let seed = noise_seed(s.seed, index as u64);
        let mut clips = Vec::with_capacity(systems.len());
        for (k, (_, _, model, steps, guidance)) in systems.iter().enumerate() {
            let t0 = Instant::now();
            let clip = sample(
                model,
                &arch,
                &config.vocab,
                &config.schedule,
                &caption,
                &SampleConfig {
                    steps: *steps,
                    guidance: *guidance,
                    seed,
                },
            )?;
            seconds[k].push(t0.elapsed().as_secs_f64());
            clips.push(clip);
        }
        let reference = clips.last().expect("three systems").clone();
        let mut judged = clips.clone();
        judged.push(real.clone());
        let predicted = classifier.predict(&judged)?;
        let mut results = Vec::with_capacity(judged.len());
        for (k, clip) in clips.iter().enumerate() {
            results.push(measure(
                systems[k].0,
                clip,
                Some(&reference),
                &predicted[k],
                &label,
            )?);
        }
        results.push(measure(DATA, &real, None, &predicted[3], &label)?);
        if index < s.media_prompts {
            // Grid rows per prompt: the procedural clip, the reference, the few-step teacher,
            // the student.
            media.push(vec![
                real,
                clips[2].clone(),
                clips[1].clone(),
                clips[0].clone(),
            ]);
        }
        prompts.push(PromptResult {
            index,
            caption,
            label,
            noise_seed: seed,
            clips: results,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();

    let mut summaries: Vec<SystemSummary> = systems
        .iter()
        .enumerate()
        .map(|(k, (name, description, _, steps, guidance))| {
            summarise(
                &prompts,
                k,
                name,
                description.clone(),
                Some((*steps, *guidance, passes(*steps, *guidance))),
            )
        })
        .collect();
    summaries.push(summarise(
        &prompts,
        3,
        DATA,
        "the procedural validation clip each prompt is the caption of (the classifier's ceiling)"
            .into(),
        None,
    ));
    let diffs: Vec<f64> = prompts
        .iter()
        .map(|p| {
            p.clips[0].mse_to_reference.unwrap_or(0.0) - p.clips[1].mse_to_reference.unwrap_or(0.0)
        })
        .collect();
    let comparison = Comparison {
        mse_difference: Stat::of(&diffs),
        student_closer: diffs.iter().filter(|d| **d < 0.0).count(),
        prompts: diffs.len(),
    };
    let show = |p: &Path| p.display().to_string();
    let report = EvalReport {
        format: EVAL_FORMAT.into(),
        command: req.command.clone(),
        config: show(req.config),
        config_sha256: sha256_16(req.config)?,
        arch: arch.encode(),
        teacher: show(req.teacher),
        teacher_sha256: sha256_16(req.teacher)?,
        student: show(req.student),
        student_sha256: sha256_16(req.student)?,
        classifier: show(req.classifier),
        classifier_sha256: sha256_16(&req.classifier.join(crate::classifier::WEIGHTS_FILE))?,
        classifier_held_out: classifier_info.held_out,
        classifier_held_out_degraded: classifier_info.held_out_degraded,
        settings: s.clone(),
        systems: summaries,
        comparison,
        prompts,
    };
    let timing = Timing {
        threads: tch::get_num_threads(),
        device: device_name(req.device),
        systems: systems
            .iter()
            .zip(seconds)
            .map(|((name, ..), xs)| {
                let (median, min) = median_and_min(xs);
                (name.to_string(), median, min)
            })
            .collect(),
    };
    write_outputs(req.out, &report, &timing, &media)?;
    Ok(report)
}

fn summarise(
    prompts: &[PromptResult],
    k: usize,
    name: &str,
    description: String,
    sampling: Option<(usize, f64, usize)>,
) -> SystemSummary {
    let clips: Vec<&ClipResult> = prompts.iter().map(|p| &p.clips[k]).collect();
    let opt_stat = |f: fn(&ClipResult) -> Option<f64>| {
        let xs: Option<Vec<f64>> = clips.iter().map(|c| f(c)).collect();
        xs.map(|xs| Stat::of(&xs))
    };
    SystemSummary {
        system: name.to_string(),
        description,
        steps: sampling.map(|s| s.0),
        guidance: sampling.map(|s| s.1),
        denoiser_passes: sampling.map(|s| s.2),
        mse_to_reference: opt_stat(|c| c.mse_to_reference),
        motion_mse_to_reference: opt_stat(|c| c.motion_mse_to_reference),
        temporal_consistency: Stat::of(
            &clips
                .iter()
                .map(|c| c.temporal_consistency)
                .collect::<Vec<_>>(),
        ),
        shape: Stat::of_hits(clips.iter().map(|c| c.shape_ok)),
        colour: Stat::of_hits(clips.iter().map(|c| c.colour_ok)),
        motion: Stat::of_hits(clips.iter().map(|c| c.motion_ok)),
        all: Stat::of_hits(clips.iter().map(|c| c.all_ok())),
    }
}
