//! Training and validation batches: clips to tensors, captions to token ids.

use crate::error::TrainError;
use crate::rng::{normal_tensor, step_rng, Stream};
use rand::Rng;
use tch::{Device, Tensor};
use vidnas_data::{Clip, Dataset, Vocab};

/// Clean clips `[B, C, T, H, W]` and their token ids `[B, max_tokens]`.
pub struct Batch {
    pub x0: Tensor,
    pub tokens: Tensor,
}

/// Stacks clips (layout [C, T, H, W] each) and tokenises their captions.
pub fn stack_clips(
    clips: &[Clip],
    vocab: &Vocab,
    max_tokens: usize,
    device: Device,
) -> Result<Batch, TrainError> {
    let first = clips
        .first()
        .ok_or_else(|| TrainError::Config("empty batch".into()))?;
    let shape = [
        clips.len() as i64,
        first.channels as i64,
        first.frames as i64,
        first.height as i64,
        first.width as i64,
    ];
    let pixels: Vec<f32> = clips
        .iter()
        .flat_map(|c| c.pixels.iter().copied())
        .collect();
    let x0 = Tensor::from_slice(&pixels).view(shape).to_device(device);
    let mut ids = Vec::with_capacity(clips.len() * max_tokens);
    for c in clips {
        ids.extend(vocab.tokenize(&c.caption, max_tokens)?);
    }
    let tokens = Tensor::from_slice(&ids)
        .view([clips.len() as i64, max_tokens as i64])
        .to_device(device);
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

pub fn draw_step(
    seed: u64,
    step: u64,
    batch: usize,
    dataset_len: usize,
    train_timesteps: usize,
    caption_dropout: f64,
    frames: usize,
) -> StepDraws {
    let mut clips = step_rng(seed, step, Stream::Clips);
    let mut ts = step_rng(seed, step, Stream::Timesteps);
    let mut drop = step_rng(seed, step, Stream::Dropout);
    let mut fr = step_rng(seed, step, Stream::Frames);
    StepDraws {
        clip_indices: (0..batch)
            .map(|_| clips.gen_range(0..dataset_len))
            .collect(),
        timesteps: (0..batch)
            .map(|_| ts.gen_range(0..train_timesteps as i64))
            .collect(),
        drop_caption: (0..batch).map(|_| drop.gen_bool(caption_dropout)).collect(),
        frames: (0..batch).map(|_| fr.gen_range(0..frames)).collect(),
    }
}

/// Noise shaped like `like`, from (seed, step).
pub fn step_noise(seed: u64, step: u64, like: &Tensor) -> Tensor {
    let mut rng = step_rng(seed, step, Stream::Noise);
    normal_tensor(&mut rng, &like.size()).to_device(like.device())
}

/// Loads clips `indices` from the dataset.
pub fn clips_at(data: &Dataset, indices: &[usize]) -> Vec<Clip> {
    indices.iter().map(|&i| data.get(i)).collect()
}
