//! Training and validation batches: clips to tensors, captions to token ids.

use crate::error::TrainError;
use crate::model::VideoModel;
use crate::rng::{normal_tensor, step_rng, Stream};
use crate::schedule::NoiseSchedule;
use crate::trainer::TrainConfig;
use rand::Rng;
use tch::Tensor;
use vidnas_data::{Clip, Dataset, Vocab};

/// Clean clips `[B, C, T, H, W]` and their token ids `[B, max_tokens]`.
pub struct Batch {
    pub x0: Tensor,
    pub tokens: Tensor,
}

/// Clips of the `[C, T, H, W]` shape `shape` as one `[N, C, T, H, W]` float tensor on the CPU.
pub fn clips_tensor(clips: &[Clip], shape: [usize; 4]) -> Tensor {
    let values: Vec<f32> = clips
        .iter()
        .flat_map(|c| c.pixels.iter().copied())
        .collect();
    let [c, t, h, w] = shape.map(|d| d as i64);
    Tensor::from_slice(&values).view([clips.len() as i64, c, t, h, w])
}

/// Stacks clips (layout [C, T, H, W] each) and turns their captions into text-encoder input.
pub fn stack_clips(clips: &[Clip], model: &VideoModel, vocab: &Vocab) -> Result<Batch, TrainError> {
    let first = clips
        .first()
        .ok_or_else(|| TrainError::Config("empty batch".into()))?;
    let x0 = clips_tensor(clips, first.shape()).to_device(model.vs.device());
    let captions: Vec<&str> = clips.iter().map(|c| c.caption.as_str()).collect();
    let tokens = model.prompt_ids(&captions, vocab)?;
    Ok(Batch { x0, tokens })
}

/// The random parts of one training step, all drawn from (seed, step).
pub struct StepDraws {
    pub clip_indices: Vec<usize>,
    pub timesteps: Vec<i64>,
    pub drop_caption: Vec<bool>,
    /// Which frame each clip contributes in image pretraining.
    pub frames: Vec<usize>,
}

pub fn draw_step(cfg: &TrainConfig, step: u64, dataset_len: usize, frames: usize) -> StepDraws {
    let (seed, batch, train_timesteps) = (cfg.seed, cfg.batch_size, cfg.schedule.train_timesteps);
    let mut clips = step_rng(seed, step, Stream::Clips);
    let mut ts = step_rng(seed, step, Stream::Timesteps);
    let mut drop = step_rng(seed, step, Stream::Dropout);
    let mut fr = step_rng(seed, step, Stream::Frames);
    StepDraws {
        clip_indices: (0..batch)
            .map(|_| clips.gen_range(0..dataset_len))
            .collect(),
        timesteps: (0..batch)
            .map(|_| draw_timestep(&mut ts, train_timesteps, cfg.noise_bias))
            .collect(),
        drop_caption: (0..batch)
            .map(|_| drop.gen_bool(cfg.caption_dropout))
            .collect(),
        frames: (0..batch).map(|_| fr.gen_range(0..frames)).collect(),
    }
}

/// One training timestep: uniform at `noise_bias` 1 (the same draw as before the bias
/// existed, so old runs resume identically), else `T·u^(1/bias)`, density ∝ (t/T)^(bias−1).
pub fn draw_timestep<R: Rng>(rng: &mut R, train_timesteps: usize, noise_bias: f64) -> i64 {
    if noise_bias == 1.0 {
        return rng.gen_range(0..train_timesteps as i64);
    }
    let u: f64 = rng.gen_range(0.0..1.0);
    ((train_timesteps as f64 * u.powf(1.0 / noise_bias)) as i64).min(train_timesteps as i64 - 1)
}

/// The noise of samples `first..first + like.size()[0]` of a `global_batch`-sample step whose
/// samples are shaped like `like`'s, from (seed, step): the same values whichever rank draws
/// them.
pub fn step_noise(
    schedule: &NoiseSchedule,
    seed: u64,
    step: u64,
    global_batch: usize,
    like: &Tensor,
    first: usize,
) -> Tensor {
    let mut rng = step_rng(seed, step, Stream::Noise);
    let mut shape = like.size();
    let local = shape[0];
    shape[0] = global_batch as i64;
    let drawn = normal_tensor(&mut rng, &schedule.noise_draw_shape(&shape));
    schedule
        .share_frames(drawn.narrow(0, first as i64, local))
        .to_device(like.device())
}

/// Loads clips `indices` from the dataset.
pub fn clips_at(data: &Dataset, indices: &[usize]) -> Vec<Clip> {
    indices.iter().map(|&i| data.get(i)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn uniform_timesteps_are_the_draws_of_before_the_bias() {
        let (mut a, mut b) = (ChaCha8Rng::seed_from_u64(3), ChaCha8Rng::seed_from_u64(3));
        for _ in 0..100 {
            assert_eq!(draw_timestep(&mut a, 1000, 1.0), b.gen_range(0..1000i64));
        }
    }

    #[test]
    fn a_noise_bias_of_two_rises_linearly_to_the_noisiest_timestep() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let n = 20_000;
        let draws: Vec<i64> = (0..n).map(|_| draw_timestep(&mut rng, 1000, 2.0)).collect();
        assert!(draws.iter().all(|t| (0..1000).contains(t)));
        // Density 2t/T: mean 2T/3, and a quarter of the draws below T/2.
        let mean = draws.iter().sum::<i64>() as f64 / n as f64;
        assert!((mean - 666.7).abs() < 8.0, "mean {mean}");
        let low = draws.iter().filter(|&&t| t < 500).count() as f64 / n as f64;
        assert!((low - 0.25).abs() < 0.01, "share below T/2: {low}");
    }
}
