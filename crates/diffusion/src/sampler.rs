//! DDIM sampling (η = 0) with classifier-free guidance: text → clip, deterministic under a seed.

use crate::error::TrainError;
use crate::model::VideoModel;
use crate::rng::{normal_tensor, step_rng, Stream};
use crate::schedule::{NoiseSchedule, Prediction};
use tch::{Kind, Tensor};
use vidnas_data::{Clip, Vocab};
use vidnas_space::Architecture;

#[derive(Debug, Clone)]
pub struct SampleConfig {
    /// Denoising steps (timesteps are spaced evenly, ending at the cleanest).
    pub steps: usize,
    /// Classifier-free guidance scale; 1 disables guidance (one pass per step).
    pub guidance: f64,
    pub seed: u64,
}

/// Timesteps visited, noisiest first ("trailing" spacing: the first step is always T−1, which
/// matters at 4 steps).
pub fn ddim_timesteps(train_timesteps: usize, steps: usize) -> Vec<i64> {
    let steps = steps.clamp(1, train_timesteps);
    (0..steps)
        .map(|k| (train_timesteps as f64 * (1.0 - k as f64 / steps as f64)).round() as i64 - 1)
        .collect()
}

/// The noise a clip sampled with `seed` starts from (any shape with the clip's number of values:
/// the draws are the same).
pub fn initial_noise(schedule: &NoiseSchedule, seed: u64, shape: &[i64]) -> Tensor {
    let drawn = normal_tensor(
        &mut step_rng(seed, 0, Stream::Noise),
        &schedule.noise_draw_shape(shape),
    );
    schedule.share_frames(drawn)
}

/// One DDIM (η = 0) step from `x` at timestep `t` with the model output `pred` to `t_next`
/// (`None`: the clean clip). `clamp_x0` clamps the x̂₀ estimate to [-1, 1] (pixel space).
pub fn ddim_step(
    schedule: &NoiseSchedule,
    alphas_cumprod: &[f64],
    x: &Tensor,
    pred: &Tensor,
    t: i64,
    t_next: Option<i64>,
    clamp_x0: bool,
) -> Tensor {
    let a = alphas_cumprod[t as usize];
    let (sa, s1a) = (a.sqrt(), (1.0 - a).sqrt());
    let (x0, eps) = match schedule.prediction {
        Prediction::Epsilon => ((x - pred * s1a) / sa, pred.shallow_clone()),
        Prediction::V => (x * sa - pred * s1a, pred * sa + x * s1a),
    };
    let x0 = if clamp_x0 { x0.clamp(-1.0, 1.0) } else { x0 };
    let a_next = t_next.map_or(1.0, |tn| alphas_cumprod[tn as usize]);
    x0 * a_next.sqrt() + eps * (1.0 - a_next).sqrt()
}

/// Generates one clip for `prompt`.
pub fn sample(
    model: &VideoModel,
    arch: &Architecture,
    vocab: &Vocab,
    schedule: &NoiseSchedule,
    prompt: &str,
    cfg: &SampleConfig,
) -> Result<Clip, TrainError> {
    let mut clips = sample_batch(
        model,
        arch,
        vocab,
        schedule,
        &[prompt],
        &[cfg.seed],
        cfg.steps,
        cfg.guidance,
    )?;
    Ok(clips.remove(0))
}

/// Generates one clip per prompt in one batch, clip `i` from `seeds[i]`: what [`sample`] gives
/// for each prompt and seed alone, up to float rounding, at a fraction of the time on a CPU.
#[allow(clippy::too_many_arguments)]
pub fn sample_batch(
    model: &VideoModel,
    arch: &Architecture,
    vocab: &Vocab,
    schedule: &NoiseSchedule,
    prompts: &[&str],
    seeds: &[u64],
    steps: usize,
    guidance: f64,
) -> Result<Vec<Clip>, TrainError> {
    assert_eq!(prompts.len(), seeds.len(), "one seed per prompt");
    let device = model.vs.device();
    let n = prompts.len() as i64;
    let cond = tch::no_grad(|| model.prompt_context(prompts, vocab))?;
    let v = &model.space.file.video;
    let shape = [
        1,
        v.channels as i64,
        v.frames as i64,
        v.height as i64,
        v.width as i64,
    ];
    let ac = schedule.alphas_cumprod();
    // Pixels live in [-1, 1]; VAE latents have no fixed range and are never clamped.
    let pixels = v.vae_scale_factor == 1;
    let clamp = |t: Tensor| if pixels { t.clamp(-1.0, 1.0) } else { t };
    let ts = ddim_timesteps(schedule.train_timesteps, steps);
    let out = tch::no_grad(|| {
        let uncond = model.text.null_context(n);
        let noise: Vec<Tensor> = seeds
            .iter()
            .map(|&seed| initial_noise(schedule, seed, &shape))
            .collect();
        let mut x = Tensor::cat(&noise, 0).to_device(device);
        for (i, &t) in ts.iter().enumerate() {
            let tt = Tensor::from_slice(&vec![t; n as usize]).to_device(device);
            let mut pred = model.denoise(&x, &tt, &cond, arch);
            if guidance != 1.0 {
                let un = model.denoise(&x, &tt, &uncond, arch);
                pred = &un + (&pred - &un) * guidance;
            }
            x = ddim_step(schedule, &ac, &x, &pred, t, ts.get(i + 1).copied(), pixels);
        }
        clamp(x).to_kind(Kind::Float).to_device(tch::Device::Cpu)
    });
    prompts
        .iter()
        .enumerate()
        .map(|(i, prompt)| {
            let pixels: Vec<f32> = Vec::<f32>::try_from(out.get(i as i64).flatten(0, -1))?;
            Ok(Clip::new(
                v.frames,
                v.channels,
                v.height,
                v.width,
                pixels,
                prompt.to_string(),
                None,
            )?)
        })
        .collect()
}
