//! Training and validation batches: clips to tensors, captions to token ids.

use crate::error::TrainError;
use crate::model::VideoModel;
use crate::rng::{normal_tensor, step_rng, Stream};
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

/// The noise of samples `first..first + like.size()[0]` of a `global_batch`-sample step whose
/// samples are shaped like `like`'s, from (seed, step): the same values whichever rank draws
/// them.
pub fn step_noise(
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
    normal_tensor(&mut rng, &shape)
        .narrow(0, first as i64, local)
        .to_device(like.device())
}

/// Loads clips `indices` from the dataset.
pub fn clips_at(data: &Dataset, indices: &[usize]) -> Vec<Clip> {
    indices.iter().map(|&i| data.get(i)).collect()
}
