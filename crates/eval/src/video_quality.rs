//! `vidnas eval quality`: how close one model's samples are to real clips, as a distribution
//! and clip by clip. The model samples one clip for each of `generated` held-out prompts;
//! `real` procedural clips are the reference. Reported: the Fréchet distance between the two
//! sets in the classifier's feature space (with a bootstrap interval, and the distance between
//! two disjoint draws of real clips as its noise floor), prompt faithfulness under the
//! classifier (with bootstrap intervals) and temporal consistency.
//!
//! Clips, all from procedural validation stream `seed` (never a training clip):
//! - prompts: the captions of validation clips `0..generated`, as `vidnas eval run` takes them
//!   (clip `i` is sampled from noise seed [`noise_seed`]`(seed, i)`, as there);
//! - the real reference: validation clips from [`REAL_FIRST_INDEX`] on, so neither set's size
//!   shifts the other;
//! - the noise floor compares the prompts' own procedural clips (as many as the generated
//!   ones) with the real reference.
//!
//! `quality.json` and `quality.md` are written only once every figure is computed, each
//! through a temporary name; every check runs before anything is sampled.

use crate::classifier::{Accuracy, ClassifierInfo, ClipClassifier, Hits, WEIGHTS_FILE};
use crate::error::{EvalError, Result};
use crate::eval::{classifier_reads_model, noise_seed};
use crate::features::{checked_features, VideoFeatures};
use crate::frechet::{bootstrap_rng, check_clip_count, frechet_interval, resample, Interval, Pca};
use crate::metrics::{temporal_consistency, Stat};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::Device;
use vidnas_data::{generate, Clip, ClipLabel, Dataset, VALIDATION_INDEX_OFFSET};
use vidnas_diffusion::sample_batch;
use vidnas_export::{load_exported_on, weights_path};
use vidnas_io::{sha256_16, write_atomic, write_json};

pub const QUALITY_FORMAT: &str = "vidnas-quality/1";
pub const QUALITY_JSON: &str = "quality.json";
pub const QUALITY_MD: &str = "quality.md";

/// What quality.json says about its Fréchet distance, so no one quotes it as an FVD.
pub const FRECHET_NOTE: &str = "This Fréchet distance is computed on the features of this project's clip classifier (its hidden layer, reduced by a PCA fitted on the real clips), not on I3D features: it is NOT comparable with published FVD numbers. Compare it only between models of the same clip shape measured with the same classifier and settings, and against the spread between two draws of real clips.";

/// Index (within the validation stream) of the first real reference clip: far past any
/// prompt count, so the prompts' clips and the reference never overlap.
pub const REAL_FIRST_INDEX: u64 = VALIDATION_INDEX_OFFSET + (1 << 62);

/// Clips sampled per batch (several times faster on a CPU than one by one).
const SAMPLE_BATCH: usize = 8;

/// Bootstrap streams, one per figure (see [`bootstrap_rng`]).
const STREAM_FRECHET: u64 = 0;
const STREAM_FLOOR: u64 = 1;
const STREAM_ACCURACY: u64 = 2;
const STREAM_CEILING: u64 = 3;

/// How many clips, how they are sampled, and how the figures are computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualitySettings {
    /// Clips the model samples, one per held-out prompt.
    pub generated: usize,
    /// Real procedural clips of the reference set.
    pub real: usize,
    /// DDIM steps per generated clip.
    pub steps: usize,
    /// Classifier-free guidance (1 = none).
    pub guidance: f64,
    /// Dimensions the features are reduced to before the Fréchet distance.
    pub pca_dims: usize,
    /// Bootstrap resamples behind every interval.
    pub bootstrap: usize,
    /// Seed of the prompts, the real clips, the sampling noise and the bootstrap.
    pub seed: u64,
}

impl Default for QualitySettings {
    fn default() -> Self {
        Self {
            generated: 128,
            real: 512,
            steps: 10,
            guidance: 3.0,
            pca_dims: 32,
            bootstrap: 1000,
            seed: 0,
        }
    }
}

/// The inputs of one quality run.
pub struct QualityRequest<'a> {
    /// Exported config (`vidnas export`), or a fine-tuning or distillation run's config.json.
    pub config: &'a Path,
    /// Weights instead of the file the config names.
    pub weights: Option<&'a Path>,
    /// Classifier folder (`vidnas eval classifier`): judges the prompts and, unless another
    /// extractor is given, provides the features.
    pub classifier: &'a Path,
    pub out: &'a Path,
    pub settings: QualitySettings,
    /// The command line, written into both outputs.
    pub command: String,
    pub progress: bool,
    pub device: Device,
}

/// Share of clips the classifier reads right, per head, each with its bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccuracyIntervals {
    pub shape: Interval,
    pub colour: Interval,
    pub motion: Interval,
    /// Shape, colour and motion all right.
    pub all: Interval,
    pub clips: usize,
}

/// The Fréchet distances and how they were computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrechetFigures {
    /// Generated clips against the real reference.
    pub generated_vs_real: Interval,
    /// Spread between two draws of real clips: the prompts' own procedural clips (as many as
    /// the generated ones) against the same reference. A generator cannot be told apart from
    /// real clips below this.
    pub real_vs_real: Interval,
    /// Length of the extractor's feature vectors.
    pub feature_dim: usize,
    pub pca_dims: usize,
    /// Share of the real features' variance the PCA keeps.
    pub pca_variance_share: f64,
}

/// `quality.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityReport {
    pub format: String,
    pub command: String,
    pub note: String,
    pub config: String,
    pub config_sha256: String,
    pub arch: String,
    pub weights: String,
    pub weights_sha256: String,
    pub classifier: String,
    pub classifier_sha256: String,
    /// The classifier's accuracy on held-out procedural clips, from its classifier.json.
    pub classifier_held_out: Accuracy,
    /// What the features come from.
    pub extractor: String,
    pub settings: QualitySettings,
    pub frechet: FrechetFigures,
    /// The generated clips judged against their prompts.
    pub accuracy_generated: AccuracyIntervals,
    /// The prompts' own procedural clips: the classifier's ceiling.
    pub accuracy_procedural: AccuracyIntervals,
    /// Mean (± standard error) over the generated clips.
    pub temporal_consistency_generated: Stat,
    /// Mean (± standard error) over the real reference clips.
    pub temporal_consistency_real: Stat,
}

/// Measures the model with the classifier's own features (see [`video_quality_with`]).
pub fn video_quality(req: &QualityRequest) -> Result<QualityReport> {
    let (classifier, info) = ClipClassifier::load_on(req.classifier, req.device)?;
    run(req, &classifier, &info, &classifier)
}

/// Measures the model with the Fréchet distance on `features` (any extractor of the model's
/// clip shape); the classifier still judges the prompts. Writes quality.json and quality.md.
pub fn video_quality_with(
    req: &QualityRequest,
    features: &dyn VideoFeatures,
) -> Result<QualityReport> {
    let (classifier, info) = ClipClassifier::load_on(req.classifier, req.device)?;
    run(req, &classifier, &info, features)
}

fn check_settings(s: &QualitySettings, feature_dim: usize) -> Result<()> {
    if s.steps == 0 {
        return Err(EvalError::Config(
            "--steps must be at least 1 (10 is the default)".into(),
        ));
    }
    if !s.guidance.is_finite() {
        return Err(EvalError::Config(format!(
            "--guidance {} is not a number; 1 disables guidance",
            s.guidance
        )));
    }
    if s.bootstrap == 0 {
        return Err(EvalError::Config(
            "--bootstrap must be at least 1 (1000 gives stable 95 % intervals)".into(),
        ));
    }
    if s.pca_dims == 0 || s.pca_dims > feature_dim {
        return Err(EvalError::Config(format!(
            "--pca-dims {}: the extractor's features have {feature_dim} dimensions; give --pca-dims from 1 to {feature_dim}",
            s.pca_dims
        )));
    }
    check_clip_count("--generated", s.generated, s.pca_dims)?;
    check_clip_count("--real", s.real, s.pca_dims)
}

fn run(
    req: &QualityRequest,
    classifier: &ClipClassifier,
    info: &ClassifierInfo,
    features: &dyn VideoFeatures,
) -> Result<QualityReport> {
    let s = &req.settings;
    check_settings(s, features.dim())?;
    let (config, space, arch, model) = load_exported_on(req.config, req.weights, req.device)?;
    let shape = classifier_reads_model(classifier, &space, req.classifier, req.config)?;
    if features.clip_shape() != shape {
        return Err(EvalError::Config(format!(
            "the feature extractor `{}` reads clips {:?} but the model makes {shape:?}; give an extractor of the model's clip shape",
            features.name(),
            features.clip_shape()
        )));
    }

    let prompts = Dataset::procedural_validation(shape, s.seed, s.generated)?;
    let prompt_clips: Vec<Clip> = (0..s.generated).map(|i| prompts.get(i)).collect();
    let labels: Vec<ClipLabel> = prompt_clips
        .iter()
        .map(|c| c.label.expect("procedural clips are labelled"))
        .collect();
    let real: Vec<Clip> = (0..s.real as u64)
        .map(|i| generate(&shape, s.seed, REAL_FIRST_INDEX + i))
        .collect();

    let bar = vidnas_io::progress_bar(
        req.progress,
        s.generated as u64,
        "quality [{bar:30}] {pos}/{len} clips, eta {eta} {msg}",
    );
    bar.set_message(format!("{} steps, guidance {}", s.steps, s.guidance));
    let mut generated = Vec::with_capacity(s.generated);
    for (c, chunk) in labels.chunks(SAMPLE_BATCH).enumerate() {
        let captions: Vec<String> = chunk.iter().map(ClipLabel::caption).collect();
        let captions: Vec<&str> = captions.iter().map(String::as_str).collect();
        let first = c * SAMPLE_BATCH;
        let seeds: Vec<u64> = (first..first + chunk.len())
            .map(|i| noise_seed(s.seed, i as u64))
            .collect();
        generated.extend(sample_batch(
            &model,
            &arch,
            &config.vocab,
            &config.schedule,
            &captions,
            &seeds,
            s.steps,
            s.guidance,
        )?);
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();

    let hits = |clips: &[Clip]| -> Result<Vec<Hits>> {
        let predicted = classifier.predict(clips)?;
        Ok(predicted
            .iter()
            .zip(&labels)
            .map(|(p, l)| p.hits(l))
            .collect())
    };
    let accuracy_generated = accuracy_intervals(
        &hits(&generated)?,
        s.bootstrap,
        &mut bootstrap_rng(s.seed, STREAM_ACCURACY),
    );
    let accuracy_procedural = accuracy_intervals(
        &hits(&prompt_clips)?,
        s.bootstrap,
        &mut bootstrap_rng(s.seed, STREAM_CEILING),
    );

    let real_features = checked_features(features, &real)?;
    let pca = Pca::fit(&real_features, s.pca_dims)?;
    let real_p = pca.project(&real_features)?;
    let generated_p = pca.project(&checked_features(features, &generated)?)?;
    let prompt_p = pca.project(&checked_features(features, &prompt_clips)?)?;
    let frechet = FrechetFigures {
        generated_vs_real: frechet_interval(
            &generated_p,
            &real_p,
            s.bootstrap,
            &mut bootstrap_rng(s.seed, STREAM_FRECHET),
        )?,
        real_vs_real: frechet_interval(
            &prompt_p,
            &real_p,
            s.bootstrap,
            &mut bootstrap_rng(s.seed, STREAM_FLOOR),
        )?,
        feature_dim: features.dim(),
        pca_dims: pca.dims(),
        pca_variance_share: pca.variance_share(),
    };
    let consistency =
        |clips: &[Clip]| Stat::of(&clips.iter().map(temporal_consistency).collect::<Vec<_>>());

    let show = |p: &Path| p.display().to_string();
    let weights: PathBuf = weights_path(req.config, &config, req.weights);
    let report = QualityReport {
        format: QUALITY_FORMAT.into(),
        command: req.command.clone(),
        note: FRECHET_NOTE.into(),
        config: show(req.config),
        config_sha256: sha256_16(req.config)?,
        arch: arch.encode(),
        weights: show(&weights),
        weights_sha256: sha256_16(&weights)?,
        classifier: show(req.classifier),
        classifier_sha256: sha256_16(&req.classifier.join(WEIGHTS_FILE))?,
        classifier_held_out: info.held_out,
        extractor: features.name(),
        settings: s.clone(),
        frechet,
        accuracy_generated,
        accuracy_procedural,
        temporal_consistency_generated: consistency(&generated),
        temporal_consistency_real: consistency(&real),
    };
    write_outputs(req.out, &report)?;
    Ok(report)
}

/// Shares of `hits` per head, each with the percentile interval of `resamples` resamples of
/// the clips (the four shares of one resample come from the same clips).
fn accuracy_intervals(hits: &[Hits], resamples: usize, rng: &mut ChaCha8Rng) -> AccuracyIntervals {
    let heads: [fn(&Hits) -> bool; 4] = [|h| h.shape, |h| h.colour, |h| h.motion, Hits::all];
    let share = |picked: &[&Hits], head: fn(&Hits) -> bool| {
        picked.iter().filter(|h| head(h)).count() as f64 / picked.len().max(1) as f64
    };
    let mut resampled: [Vec<f64>; 4] = Default::default();
    for _ in 0..resamples {
        let picked: Vec<&Hits> = resample(hits.len(), rng)
            .into_iter()
            .map(|i| &hits[i as usize])
            .collect();
        for (values, head) in resampled.iter_mut().zip(heads) {
            values.push(share(&picked, head));
        }
    }
    let all_clips: Vec<&Hits> = hits.iter().collect();
    let [shape, colour, motion, all] = [0, 1, 2, 3].map(|k| {
        Interval::from_resamples(
            share(&all_clips, heads[k]),
            std::mem::take(&mut resampled[k]),
        )
    });
    AccuracyIntervals {
        shape,
        colour,
        motion,
        all,
        clips: hits.len(),
    }
}

fn write_outputs(out: &Path, report: &QualityReport) -> Result<()> {
    std::fs::create_dir_all(out)
        .map_err(|e| EvalError::file(out, format!("cannot create the folder: {e}")))?;
    write_json(&out.join(QUALITY_JSON), report)?;
    write_atomic(&out.join(QUALITY_MD), markdown(report).as_bytes())?;
    Ok(())
}

/// Where `vidnas eval quality` writes, for messages.
pub fn quality_files(out: &Path) -> Vec<PathBuf> {
    vec![out.join(QUALITY_JSON), out.join(QUALITY_MD)]
}

fn interval(i: &Interval, digits: usize) -> String {
    format!(
        "{:.*} [{:.*}, {:.*}]",
        digits, i.estimate, digits, i.low, digits, i.high
    )
}

fn percent(i: &Interval) -> String {
    format!(
        "{:.0} % [{:.0}, {:.0}]",
        100.0 * i.estimate,
        100.0 * i.low,
        100.0 * i.high
    )
}

/// The results table (Markdown).
pub fn quality_table(r: &QualityReport) -> String {
    let f = &r.frechet;
    let (g, p) = (&r.accuracy_generated, &r.accuracy_procedural);
    let mut t =
        String::from("| measure | generated clips | real procedural clips |\n|---|---|---|\n");
    t += &format!(
        "| Fréchet distance to the real clips ↓ (features in {} PCA dims) | {} | {} (spread between two draws of real clips) |\n",
        f.pca_dims,
        interval(&f.generated_vs_real, 3),
        interval(&f.real_vs_real, 3)
    );
    for (name, a, b) in [
        ("shape", &g.shape, &p.shape),
        ("colour", &g.colour, &p.colour),
        ("motion", &g.motion, &p.motion),
        ("all three", &g.all, &p.all),
    ] {
        t += &format!(
            "| {name} as prompted | {} | {} (the classifier's ceiling) |\n",
            percent(a),
            percent(b)
        );
    }
    let (tg, tr) = (
        &r.temporal_consistency_generated,
        &r.temporal_consistency_real,
    );
    t += &format!(
        "| temporal consistency | {:.3} ± {:.3} | {:.3} ± {:.3} |\n",
        tg.mean, tg.se, tr.mean, tr.se
    );
    t
}

/// `quality.md`: what was run, the table, and how to read it.
pub fn markdown(r: &QualityReport) -> String {
    let s = &r.settings;
    let mut m = String::from("# Video quality\n\n");
    m += &format!("```sh\n{}\n```\n\n", r.command);
    m += &format!(
        "Architecture `{}` ({}, weights `{}`): {} clips sampled with {} DDIM steps and guidance {} for held-out prompts (the captions of procedural validation clips 0–{} of stream {}), against {} real procedural clips of the same stream that no training run and no prompt uses. Intervals are 2.5–97.5 % percentiles over {} bootstrap resamples of both sets (for the Fréchet distance moved by the resamples' mean bias, since resampling with replacement raises it).\n\n",
        r.arch,
        r.config,
        r.weights,
        s.generated,
        s.steps,
        s.guidance,
        s.generated.saturating_sub(1),
        s.seed,
        s.real,
        s.bootstrap
    );
    m += &quality_table(r);
    m += "\n";
    m += &format!(
        "- Fréchet distance: features from {} (length {}), reduced to the {} principal directions of the real clips ({:.0} % of their variance). {}\n",
        r.extractor,
        r.frechet.feature_dim,
        r.frechet.pca_dims,
        100.0 * r.frechet.pca_variance_share,
        r.note
    );
    m += "- The real column's Fréchet distance compares the prompts' own procedural clips with the same reference: a model at or below it is as close to real clips as a second draw of them. Its accuracies are the classifier's on those clips, the most any generator can show under it.\n";
    m += "- Temporal consistency = 1 − mean |frame t+1 − frame t| / 2 (1 = static); read the generated value against the real clips' (above: too still, below: flicker).\n";
    m
}
