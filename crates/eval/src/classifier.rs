//! A small 3-D convolutional classifier of procedural clips with one head each for the shape,
//! the colour and the motion. Trained on generated clips, whose labels are exact, it judges
//! whether a generated clip shows what its prompt asks for; its accuracy on held-out procedural
//! clips is the ceiling any generator can reach under it.
//!
//! Layout: three Conv3d(3×3×3) → GroupNorm → SiLU blocks (16, 32, 64 channels), the first
//! with spatial stride 2 and the second followed by 2×2 spatial average pooling (an 8×32×32
//! clip ends as 8×8×8); then, per frame, the spatial mean and maximum of
//! every channel (the objects are small, so the maximum sees them where the mean would not);
//! the frames stay in order into one hidden layer, because "turning blue" and "turning red"
//! differ only in which colour comes first. Training clips get a random amount of blur and
//! noise so that the classifier also reads the soft, grainy clips a 4-step sampler makes.
//!
//! A classifier folder holds `classifier.safetensors` and `classifier.json` (format, clip
//! shape, training settings, held-out accuracy), each written to a temporary name and renamed.

use crate::error::{EvalError, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::{nn, nn::Module, Device, Kind, Tensor};
use vidnas_data::{generate, Clip, ClipLabel, Colour, Dataset, Motion, ProceduralConfig, Shape};
use vidnas_diffusion::{clips_tensor, AdamW, AdamWConfig, LrDecay};
use vidnas_io::write_json;

pub use crate::prediction::{Accuracy, Hits, Predicted};

pub const CLASSIFIER_FORMAT: &str = "vidnas-classifier/1";
pub const WEIGHTS_FILE: &str = "classifier.safetensors";
pub const INFO_FILE: &str = "classifier.json";

/// Channels of the three convolution blocks.
const WIDTHS: [i64; 3] = [16, 32, 64];
/// Width of the hidden layer before the heads.
const HIDDEN: i64 = 128;
/// GroupNorm groups (divides every width).
const GROUPS: i64 = 4;
/// Clips per forward pass when judging or embedding many clips (bounds the memory).
pub(crate) const FORWARD_BATCH: usize = 64;

/// How a classifier is trained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierSettings {
    /// AdamW steps.
    pub steps: usize,
    /// Clips per step (every step draws fresh clips: clip `step·batch + i` of stream `seed`).
    pub batch_size: usize,
    /// Peak learning rate (linear warm-up over the first 5 % of steps, cosine decay to 10 %).
    pub lr: f64,
    /// Seed of the training clips, the initial weights and the augmentation.
    pub seed: u64,
    /// Noise added to a training clip has a standard deviation drawn uniformly below this.
    pub max_noise: f64,
    /// A training clip is mixed with its 3×3 spatial blur by a fraction drawn uniformly below
    /// this.
    pub max_blur: f64,
    /// Held-out procedural validation clips the accuracy is measured on.
    pub validation_clips: usize,
}

impl Default for ClassifierSettings {
    fn default() -> Self {
        Self {
            steps: 600,
            batch_size: 32,
            lr: 2e-3,
            seed: 0,
            max_noise: 0.2,
            max_blur: 1.0,
            validation_clips: 512,
        }
    }
}

/// `classifier.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassifierInfo {
    /// Must equal [`CLASSIFIER_FORMAT`].
    pub format: String,
    /// The clips it reads: `[C, T, H, W]` of the space it was trained for.
    pub clip: ProceduralConfig,
    /// Name of the space the clip shape came from.
    pub space: String,
    pub settings: ClassifierSettings,
    /// On `settings.validation_clips` procedural validation clips (never training clips).
    pub held_out: Accuracy,
    /// On the same clips at the strongest augmentation: blended with their blur by
    /// `settings.max_blur`, noise of standard deviation `settings.max_noise` added. Soft,
    /// grainy samples are read about this well.
    pub held_out_degraded: Accuracy,
    /// Uniform guessing, for scale.
    pub chance: Accuracy,
    /// Training loss (sum of the three cross-entropies), mean over the last 10 % of steps.
    pub final_loss: f64,
}

#[derive(Debug)]
struct ConvBlock {
    conv: nn::Conv<[i64; 3]>,
    norm: nn::GroupNorm,
}

/// The classifier network.
#[derive(Debug)]
pub struct ClipClassifier {
    vs: nn::VarStore,
    blocks: Vec<ConvBlock>,
    hidden: nn::Linear,
    heads: [nn::Linear; 3],
    clip: ProceduralConfig,
}

impl ClipClassifier {
    /// A randomly initialised classifier of clips shaped `clip` on `device` (seed torch first
    /// for reproducible weights).
    pub fn new(clip: ProceduralConfig, device: Device) -> Result<Self> {
        clip.validate()?;
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let mut cin = clip.channels as i64;
        let blocks = WIDTHS
            .iter()
            .enumerate()
            .map(|(i, &cout)| {
                let p = &root / "blocks" / i;
                // The first block halves the resolution by its stride: full-resolution
                // features cost most of the time and the objects span a third of the frame.
                let s = if i == 0 { 2 } else { 1 };
                let conv = nn::conv(
                    &p / "conv",
                    cin,
                    cout,
                    [3, 3, 3],
                    nn::ConvConfigND {
                        stride: [1, s, s],
                        padding: [1, 1, 1],
                        dilation: [1, 1, 1],
                        groups: 1,
                        bias: true,
                        ws_init: nn::init::DEFAULT_KAIMING_UNIFORM,
                        bs_init: nn::Init::Const(0.0),
                        padding_mode: nn::PaddingMode::Zeros,
                    },
                );
                let norm = nn::group_norm(&p / "norm", GROUPS, cout, Default::default());
                cin = cout;
                ConvBlock { conv, norm }
            })
            .collect();
        let features = 2 * WIDTHS[2] * clip.frames as i64;
        let hidden = nn::linear(&root / "hidden", features, HIDDEN, Default::default());
        let head = |name: &str, n: usize| {
            nn::linear(&root / "heads" / name, HIDDEN, n as i64, Default::default())
        };
        let heads = [
            head("shape", Shape::ALL.len()),
            head("colour", Colour::ALL.len()),
            head("motion", Motion::ALL.len()),
        ];
        Ok(Self {
            vs,
            blocks,
            hidden,
            heads,
            clip,
        })
    }

    /// Where its weights live (inputs are moved there).
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// The clip shape it reads.
    pub fn clip_shape(&self) -> ProceduralConfig {
        self.clip
    }

    /// Activations of the hidden layer (after its SiLU), `[B, 128]`, for clips
    /// `[B, C, T, H, W]` (on any device; the result is on the classifier's): what the three
    /// heads read, and the features of its Fréchet distance (see [`crate::VideoFeatures`]).
    pub fn hidden_features(&self, x: &Tensor) -> Tensor {
        let mut h = x.to_device(self.device());
        for (i, b) in self.blocks.iter().enumerate() {
            h = b.conv.forward(&h).apply(&b.norm).silu();
            if i == 1 {
                h = h.avg_pool3d([1, 2, 2], [1, 2, 2], [0, 0, 0], false, true, None);
            }
        }
        // [B, C, T, H, W] → per-frame spatial mean and max, frames kept in order.
        let mean = h.mean_dim(&[3i64, 4][..], false, Kind::Float);
        let max = h.amax([3i64, 4], false);
        let f = Tensor::cat(&[mean, max], 1).flatten(1, -1);
        self.hidden.forward(&f).silu()
    }

    /// Width of [`Self::hidden_features`].
    pub fn hidden_dim(&self) -> usize {
        HIDDEN as usize
    }

    /// Logits of the shape, colour and motion heads for clips `[B, C, T, H, W]` (on any
    /// device; the logits are on the classifier's).
    pub fn logits(&self, x: &Tensor) -> [Tensor; 3] {
        let f = self.hidden_features(x);
        [0, 1, 2].map(|i| self.heads[i].forward(&f))
    }

    /// The classes of each clip. Clips must have the classifier's shape.
    pub fn predict(&self, clips: &[Clip]) -> Result<Vec<Predicted>> {
        let mut out = Vec::with_capacity(clips.len());
        for chunk in clips.chunks(FORWARD_BATCH) {
            out.extend(self.predict_tensor(&self.stack(chunk)?)?);
        }
        Ok(out)
    }

    /// The classes of clips `[B, C, T, H, W]`.
    fn predict_tensor(&self, x: &Tensor) -> Result<Vec<Predicted>> {
        let logits = tch::no_grad(|| self.logits(x));
        let [shape, colour, motion] = logits.map(|l| Vec::<i64>::try_from(l.argmax(1, false)));
        let (shape, colour, motion) = (shape?, colour?, motion?);
        Ok(shape
            .iter()
            .zip(&colour)
            .zip(&motion)
            .map(|((s, c), m)| Predicted {
                shape: Shape::ALL[*s as usize],
                colour: Colour::ALL[*c as usize],
                motion: Motion::ALL[*m as usize],
            })
            .collect())
    }

    /// Clips `[B, C, T, H, W]` on the classifier's device, checked against its shape.
    pub(crate) fn stack(&self, clips: &[Clip]) -> Result<Tensor> {
        let c = &self.clip;
        let want = [c.channels, c.frames, c.height, c.width];
        if let Some((i, bad)) = clips.iter().enumerate().find(|(_, x)| x.shape() != want) {
            return Err(EvalError::Config(format!(
                "clip {i} (\"{}\") is [C, T, H, W] = {:?} but the classifier reads {:?}; train a classifier for this model's space with `vidnas eval classifier --space …`",
                bad.caption,
                bad.shape(),
                want
            )));
        }
        Ok(clips_tensor(clips, want).to_device(self.device()))
    }

    /// Loads a classifier folder written by [`train_classifier`] onto the CPU.
    pub fn load(dir: &Path) -> Result<(Self, ClassifierInfo)> {
        Self::load_on(dir, Device::Cpu)
    }

    /// Loads a classifier folder written by [`train_classifier`] onto `device` (the files do
    /// not depend on the device they were trained on).
    pub fn load_on(dir: &Path, device: Device) -> Result<(Self, ClassifierInfo)> {
        let info_path = dir.join(INFO_FILE);
        let text = std::fs::read_to_string(&info_path).map_err(|e| {
            EvalError::file(
                &info_path,
                format!("cannot read ({e}); train a classifier with `vidnas eval classifier --space SPACE --out {}`", dir.display()),
            )
        })?;
        let info: ClassifierInfo = serde_json::from_str(&text).map_err(|e| {
            EvalError::file(
                &info_path,
                format!(
                    "not a classifier description: {e}; retrain it with `vidnas eval classifier`"
                ),
            )
        })?;
        if info.format != CLASSIFIER_FORMAT {
            return Err(EvalError::file(
                &info_path,
                format!(
                    "field `format` is `{}`, not `{CLASSIFIER_FORMAT}`; retrain it with this version of `vidnas eval classifier`",
                    info.format
                ),
            ));
        }
        let model = Self::new(info.clip, device)?;
        vidnas_nn::load_into(&model.vs, &dir.join(WEIGHTS_FILE), |_| true)?;
        Ok((model, info))
    }
}

/// Learning rate at `step`: linear warm-up over 5 % of the steps, then cosine decay to 10 %.
fn lr_at(step: usize, steps: usize, peak: f64) -> f64 {
    vidnas_diffusion::lr_at(peak, step, steps, (steps / 20).max(1), LrDecay::Cosine)
}

/// A training batch on `device`: fresh clips `step·batch ..` of stream `seed`, blurred and
/// noised by random amounts drawn from (seed, step).
fn training_batch(
    clip: &ProceduralConfig,
    s: &ClassifierSettings,
    step: usize,
    device: Device,
) -> (Tensor, Vec<ClipLabel>) {
    let first = (step * s.batch_size) as u64;
    let clips: Vec<Clip> = (0..s.batch_size as u64)
        .map(|i| generate(clip, s.seed, first + i))
        .collect();
    let labels = clips
        .iter()
        .map(|c| c.label.expect("procedural clips are labelled"))
        .collect();
    let b = s.batch_size as i64;
    let x = clips_tensor(
        &clips,
        [clip.channels, clip.frames, clip.height, clip.width],
    )
    .to_device(device);
    let mut rng = augment_rng(s.seed, step as u64);
    let blur: Vec<f32> = (0..b)
        .map(|_| rng.gen::<f32>() * s.max_blur as f32)
        .collect();
    let noise_std: Vec<f32> = (0..b)
        .map(|_| rng.gen::<f32>() * s.max_noise as f32)
        .collect();
    (degrade(&x, &blur, &noise_std, &mut rng), labels)
}

/// Blends clip `i` of `x` `[B, C, T, H, W]` with its 3×3 spatial blur by `blur[i]` and adds
/// Gaussian noise of standard deviation `noise_std[i]` drawn from `rng` (on `x`'s device).
fn degrade(x: &Tensor, blur: &[f32], noise_std: &[f32], rng: &mut ChaCha8Rng) -> Tensor {
    let b = blur.len() as i64;
    let device = x.device();
    let noise: Vec<f32> = (0..x.numel()).map(|_| StandardNormal.sample(rng)).collect();
    let per_clip = |v: &[f32]| {
        Tensor::from_slice(v)
            .view([b, 1, 1, 1, 1])
            .to_device(device)
    };
    let blurred = x.avg_pool3d([1, 3, 3], [1, 1, 1], [0, 1, 1], false, false, None);
    x + (blurred - x) * per_clip(blur)
        + Tensor::from_slice(&noise)
            .view(x.size().as_slice())
            .to_device(device)
            * per_clip(noise_std)
}

fn augment_rng(seed: u64, step: u64) -> ChaCha8Rng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&step.to_le_bytes());
    key[16..31].copy_from_slice(b"vidnas-eval-aug");
    ChaCha8Rng::from_seed(key)
}

/// Trains a classifier of clips shaped `clip` on `device` and writes it to `out`
/// (`classifier.safetensors` and `classifier.json`, device independent); `space` names where
/// the shape came from.
pub fn train_classifier(
    clip: ProceduralConfig,
    space: &str,
    settings: &ClassifierSettings,
    out: &Path,
    progress: bool,
    device: Device,
) -> Result<(ClipClassifier, ClassifierInfo)> {
    let s = settings;
    if s.steps == 0 || s.batch_size == 0 || s.validation_clips == 0 {
        return Err(EvalError::Config(format!(
            "--steps ({}), --batch-size ({}) and --validation-clips ({}) must each be at least 1",
            s.steps, s.batch_size, s.validation_clips
        )));
    }
    if !(s.lr > 0.0 && s.lr.is_finite()) {
        return Err(EvalError::Config(format!(
            "--lr {} must be a positive number (2e-3 works)",
            s.lr
        )));
    }
    tch::manual_seed(s.seed as i64);
    let model = ClipClassifier::new(clip, device)?;
    // In name order, so nothing downstream depends on the var store's hash-map order.
    let mut params: Vec<(String, Tensor)> = model.vs.variables().into_iter().collect();
    params.sort_by(|a, b| a.0.cmp(&b.0));
    let mut opt = AdamW::new(params, AdamWConfig::default());
    let bar = vidnas_io::progress_bar(
        progress,
        s.steps as u64,
        "classifier [{bar:30}] {pos}/{len} steps, eta {eta} {msg}",
    );
    let tail_from = s.steps - (s.steps / 10).max(1);
    let mut tail = Vec::new();
    for step in 0..s.steps {
        let (x, labels) = training_batch(&clip, s, step, device);
        let logits = model.logits(&x);
        let targets: [Vec<i64>; 3] = [
            labels.iter().map(|l| l.shape.index() as i64).collect(),
            labels.iter().map(|l| l.colour.index() as i64).collect(),
            labels.iter().map(|l| l.motion.index() as i64).collect(),
        ];
        let loss = logits
            .iter()
            .zip(&targets)
            .map(|(l, t)| l.cross_entropy_for_logits(&Tensor::from_slice(t).to_device(device)))
            .reduce(|a, b| a + b)
            .expect("three heads");
        opt.zero_grad();
        loss.backward();
        opt.step(lr_at(step, s.steps, s.lr));
        let value = loss.double_value(&[]);
        if !value.is_finite() {
            return Err(EvalError::Config(format!(
                "classifier loss became {value} at step {step}; lower --lr"
            )));
        }
        if step >= tail_from {
            tail.push(value);
        }
        if step % 10 == 0 {
            bar.set_message(format!("loss {value:.3}"));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let held_out = held_out_accuracy(&model, s.seed, s.validation_clips, None)?;
    let held_out_degraded = held_out_accuracy(
        &model,
        s.seed,
        s.validation_clips,
        Some((s.max_blur, s.max_noise)),
    )?;
    let info = ClassifierInfo {
        format: CLASSIFIER_FORMAT.into(),
        clip,
        space: space.to_string(),
        settings: *s,
        held_out,
        held_out_degraded,
        chance: Accuracy::chance(),
        final_loss: tail.iter().sum::<f64>() / tail.len().max(1) as f64,
    };
    std::fs::create_dir_all(out)
        .map_err(|e| EvalError::file(out, format!("cannot create the folder: {e}")))?;
    vidnas_nn::save_filtered(&model.vs, &out.join(WEIGHTS_FILE), |_| true)?;
    write_json(&out.join(INFO_FILE), &info)?;
    Ok((model, info))
}

/// Accuracy on the first `n` procedural validation clips of stream `seed`; with `degraded`
/// `(blur, noise)`, every clip blended with its 3×3 blur by `blur` and with noise of standard
/// deviation `noise` added (fixed draws), as the hardest training augmentation.
pub fn held_out_accuracy(
    model: &ClipClassifier,
    seed: u64,
    n: usize,
    degraded: Option<(f64, f64)>,
) -> Result<Accuracy> {
    let val = Dataset::procedural_validation(model.clip, seed, n)?;
    let clips: Vec<Clip> = (0..val.len()).map(|i| val.get(i)).collect();
    let labels: Vec<ClipLabel> = clips
        .iter()
        .map(|c| c.label.expect("procedural clips are labelled"))
        .collect();
    let predicted = match degraded {
        None => model.predict(&clips)?,
        Some((blur, noise)) => {
            let mut rng = augment_rng(seed, u64::MAX);
            let mut out = Vec::with_capacity(clips.len());
            for chunk in clips.chunks(FORWARD_BATCH) {
                let k = chunk.len();
                let x = degrade(
                    &model.stack(chunk)?,
                    &vec![blur as f32; k],
                    &vec![noise as f32; k],
                    &mut rng,
                );
                out.extend(model.predict_tensor(&x)?);
            }
            out
        }
    };
    Ok(Accuracy::of(&predicted, &labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rate_warms_up_then_decays_to_a_tenth() {
        let peak = 1.0;
        assert!(lr_at(0, 100, peak) < 0.5);
        assert!((lr_at(4, 100, peak) - 1.0).abs() < 1e-12);
        assert!((lr_at(99, 100, peak) - 0.1).abs() < 1e-3);
        for s in 5..99 {
            assert!(lr_at(s + 1, 100, peak) <= lr_at(s, 100, peak));
        }
    }

    #[test]
    fn accuracy_counts_each_head_and_all_three() {
        let label = ClipLabel {
            shape: Shape::Square,
            colour: Colour::Red,
            motion: Motion::Grow,
        };
        let right = Predicted {
            shape: Shape::Square,
            colour: Colour::Red,
            motion: Motion::Grow,
        };
        let wrong_colour = Predicted {
            colour: Colour::Blue,
            ..right
        };
        let a = Accuracy::of(&[right, wrong_colour], &[label, label]);
        assert_eq!((a.shape, a.colour, a.motion, a.all), (1.0, 0.5, 1.0, 0.5));
        assert_eq!(a.clips, 2);
        assert_eq!(right.caption(), "a red square growing");
    }
}
