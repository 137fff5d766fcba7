//! Deterministic scoring: the validation denoising loss of an architecture on a fixed set of
//! clips, timesteps and noise (lower is better). Inputs are built once and reused, so the same
//! architecture always gets the same score and scoring many is cheap.

use tch::{Kind, Tensor};
use vidnas_data::{Clip, Vocab};
use vidnas_diffusion::rng::{normal_tensor, step_rng, Stream};
use vidnas_diffusion::VideoModel;
use vidnas_diffusion::{stack_clips, NoiseSchedule, ScoreMetric, TrainError, ValidationConfig};
use vidnas_space::Architecture;

/// Precomputed noisy inputs, targets and text context, in batches.
pub struct ValidationSet {
    batches: Vec<(Tensor, Tensor, Tensor, Tensor)>,
    pub pairs: usize,
    /// What [`ValidationSet::score`] averages.
    pub metric: ScoreMetric,
}

impl ValidationSet {
    /// Builds (clip, timestep, noise) triples for every clip and `timesteps_per_clip` timesteps.
    pub fn new(
        model: &VideoModel,
        clips: &[Clip],
        vocab: &Vocab,
        schedule: &NoiseSchedule,
        cfg: &ValidationConfig,
    ) -> Result<Self, TrainError> {
        let device = model.vs.device();
        let k = cfg.timesteps_per_clip.max(1);
        let n = schedule.train_timesteps;
        // Evenly spaced, centred in k equal bins of [0, n).
        let ts: Vec<i64> = (0..k).map(|i| ((2 * i + 1) * n / (2 * k)) as i64).collect();
        let mut triples = Vec::new();
        for ci in 0..clips.len() {
            for &t in &ts {
                triples.push((ci, t));
            }
        }
        let mut batches = Vec::new();
        let mut rng = step_rng(cfg.noise_seed, 0, Stream::Validation);
        for chunk in triples.chunks(cfg.batch_size.max(1)) {
            let chunk_clips: Vec<Clip> = chunk.iter().map(|&(ci, _)| clips[ci].clone()).collect();
            let batch = stack_clips(&chunk_clips, model, vocab)?;
            let drawn = normal_tensor(&mut rng, &schedule.noise_draw_shape(&batch.x0.size()));
            let noise = schedule.share_frames(drawn).to_device(device);
            let timesteps: Vec<i64> = chunk.iter().map(|&(_, t)| t).collect();
            let (xt, target) = schedule.noisy_and_target(&batch.x0, &noise, &timesteps);
            let context = tch::no_grad(|| model.text.encode(&batch.tokens));
            batches.push((
                xt,
                Tensor::from_slice(&timesteps).to_device(device),
                context,
                target,
            ));
        }
        Ok(Self {
            batches,
            pairs: triples.len(),
            metric: cfg.metric,
        })
    }

    /// `arch`'s score under the set's metric: [`ValidationSet::score_loss`] or
    /// [`ValidationSet::score_motion`].
    pub fn score(&self, model: &VideoModel, arch: &Architecture) -> f64 {
        match self.metric {
            ScoreMetric::Loss => self.score_loss(model, arch),
            ScoreMetric::Motion => self.score_motion(model, arch),
        }
    }

    /// Mean squared error of `arch`'s prediction over the whole set.
    pub fn score_loss(&self, model: &VideoModel, arch: &Architecture) -> f64 {
        self.mean_square(model, arch, |err| err)
    }

    /// Mean squared error of the prediction's change from frame to frame: the error's
    /// difference between consecutive frames, so what every frame gets equally wrong (the
    /// background, the object's look) cancels and what is left is the motion. Both targets
    /// (ε and v) are linear in x₀ at a fixed timestep, so this is the x̂₀ frame-difference
    /// error up to a per-timestep factor.
    pub fn score_motion(&self, model: &VideoModel, arch: &Architecture) -> f64 {
        self.mean_square(model, arch, frame_differences)
    }

    fn mean_square(
        &self,
        model: &VideoModel,
        arch: &Architecture,
        of_error: impl Fn(Tensor) -> Tensor,
    ) -> f64 {
        tch::no_grad(|| {
            let mut sum = 0.0;
            let mut count = 0.0;
            for (xt, t, ctx, target) in &self.batches {
                let pred = model.denoise(xt, t, ctx, arch);
                let n = xt.size()[0] as f64;
                sum += of_error(pred - target)
                    .square()
                    .mean(Kind::Double)
                    .double_value(&[])
                    * n;
                count += n;
            }
            sum / count
        })
    }
}

/// `x[:, :, t+1] − x[:, :, t]` of clips `[B, C, T, H, W]` (empty for one frame).
pub fn frame_differences(x: Tensor) -> Tensor {
    let t = x.size()[2];
    x.narrow(2, 1, (t - 1).max(0)) - x.narrow(2, 0, (t - 1).max(0))
}
