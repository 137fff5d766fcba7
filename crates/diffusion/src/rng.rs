//! Every random draw of training (paths, clips, timesteps, noise, caption dropout) comes from a
//! Rust RNG seeded by (seed, step, stream), so a resumed run repeats the uninterrupted one
//! exactly (tch cannot save or restore torch's RNG).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use tch::Tensor;

/// Independent streams drawn at each step.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Path = 1,
    Clips = 2,
    Timesteps = 3,
    Noise = 4,
    Dropout = 5,
    Validation = 6,
    Frames = 7,
    /// Few-step distillation: which teacher-pool entries a step trains on.
    PoolEntry = 8,
    /// Few-step distillation: which of the student's timesteps each sample is noised to.
    StudentTimestep = 9,
    /// Few-step distillation: the timesteps and noise the discriminator's inputs are re-noised
    /// with.
    DiscTimestep = 10,
    DiscNoise = 11,
    /// Few-step distillation: the prompt and noise seed of every teacher-pool entry.
    TeacherPool = 12,
    /// Few-step distillation: which samples start from the student's own sampling path.
    StudentInput = 13,
}

/// Seeds libtorch's own generators (CPU and CUDA), which initialise every freshly built layer;
/// called by each stage from its `--seed` before it builds a model, so that the same command
/// gives the same weights.
pub fn seed_libtorch(seed: u64) {
    // `manual_seed` takes an i64; the bit pattern of the u64 keeps seeds distinct.
    tch::manual_seed(seed as i64);
}

/// SplitMix64 finaliser: decorrelates nearby seeds.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub fn step_rng(seed: u64, step: u64, stream: Stream) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(mix(mix(seed) ^ mix(step.wrapping_mul(16) + stream as u64)))
}

/// A standard-normal tensor of `shape` drawn from `rng`.
pub fn normal_tensor(rng: &mut ChaCha8Rng, shape: &[i64]) -> Tensor {
    let n: i64 = shape.iter().product();
    let v: Vec<f32> = (0..n).map(|_| StandardNormal.sample(rng)).collect();
    Tensor::from_slice(&v).view(shape)
}
