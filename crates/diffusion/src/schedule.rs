//! The DDPM noise schedule and the training target (ε or v).

use serde::{Deserialize, Serialize};
use tch::Tensor;

/// What the denoiser predicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Prediction {
    /// The added noise ε.
    Epsilon,
    /// v = √ᾱ·ε − √(1−ᾱ)·x₀: the default, since an ε-model's x̂₀ at the noisiest timesteps
    /// carries its error times 1/√ᾱ (≈ 15 at t = 999) and samples come out as noise
    /// (reports/fewstep/denoise-probe.txt).
    #[default]
    V,
}

/// Scaled-linear β schedule as in Stable Diffusion (β from 0.00085 to 0.012).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseSchedule {
    pub train_timesteps: usize,
    pub beta_start: f64,
    pub beta_end: f64,
    pub prediction: Prediction,
    /// Share of the noise's variance common to every frame of a clip (0: independent frames;
    /// PYoCo's mixed noise prior). Each frame's noise is `√s·shared + √(1−s)·own`: still unit
    /// variance, correlated `s` between frames, so an image model's frames start alike and the
    /// temporal layers learn to move them apart. Training and sampling both follow it. Absent
    /// in files written before it existed: 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub frame_noise_share: f64,
    /// Rescale ᾱ so the noisiest timestep is pure noise (Lin et al. 2024, "Common diffusion
    /// noise schedules and sample steps are flawed", Algorithm 1; diffusers'
    /// `rescale_betas_zero_snr`): √ᾱ is shifted to 0 at the last step and scaled back to its
    /// first value. Stable Diffusion's schedule leaves √ᾱ ≈ 0.068 at t = 999, so training
    /// always sees a trace of each frame's layout while sampling starts from none: the model
    /// reads a layout into each frame's noise on its own, and never learns to decide it jointly
    /// across frames. Needs v-prediction (ε says nothing at ᾱ = 0). Absent: false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub zero_terminal_snr: bool,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_false(v: &bool) -> bool {
    !*v
}

impl std::fmt::Display for Prediction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Epsilon => "epsilon",
            Self::V => "v",
        })
    }
}

impl std::str::FromStr for Prediction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "epsilon" => Ok(Self::Epsilon),
            "v" => Ok(Self::V),
            _ => Err(format!(
                "`{s}` is not a prediction target; use epsilon or v"
            )),
        }
    }
}

impl Default for NoiseSchedule {
    fn default() -> Self {
        Self {
            train_timesteps: 1000,
            beta_start: 0.00085,
            beta_end: 0.012,
            prediction: Prediction::V,
            frame_noise_share: 0.0,
            zero_terminal_snr: false,
        }
    }
}

impl NoiseSchedule {
    /// Checks the fields a schedule is computed from; the message names the field (callers
    /// prefix the file and the enclosing field).
    pub fn validate(&self) -> Result<(), String> {
        if self.train_timesteps < 1 {
            return Err(
                "schedule.train_timesteps is 0; it must be at least 1 (Stable Diffusion uses 1000)"
                    .into(),
            );
        }
        for (field, v) in [("beta_start", self.beta_start), ("beta_end", self.beta_end)] {
            if !(v.is_finite() && v > 0.0 && v < 1.0) {
                return Err(format!(
                    "schedule.{field} is {v}; it must lie strictly between 0 and 1 (Stable Diffusion: 0.00085 to 0.012)"
                ));
            }
        }
        if !(0.0..1.0).contains(&self.frame_noise_share) {
            return Err(format!(
                "schedule.frame_noise_share is {}; use a share from 0 (independent frames) to below 1 (PYoCo uses 0.5 to 0.9)",
                self.frame_noise_share
            ));
        }
        if self.zero_terminal_snr && self.prediction == Prediction::Epsilon {
            return Err(
                "schedule.zero_terminal_snr needs schedule.prediction \"v\": at the last timestep \
                 the input is pure noise, so predicting the noise says nothing about the clip"
                    .into(),
            );
        }
        if self.zero_terminal_snr && self.train_timesteps < 2 {
            return Err(
                "schedule.zero_terminal_snr needs at least 2 train_timesteps (the only one would be pure noise)"
                    .into(),
            );
        }
        if self.beta_start > self.beta_end {
            return Err(format!(
                "schedule.beta_start ({}) is above schedule.beta_end ({}); swap them",
                self.beta_start, self.beta_end
            ));
        }
        Ok(())
    }

    /// The shape to draw standard normal noise in for clips shaped `shape` (`[…, T, H, W]`):
    /// one frame more when frames share noise (the shared part), else `shape` itself.
    pub fn noise_draw_shape(&self, shape: &[i64]) -> Vec<i64> {
        let mut s = shape.to_vec();
        if self.frame_noise_share > 0.0 && s.len() >= 3 {
            let axis = s.len() - 3;
            s[axis] += 1;
        }
        s
    }

    /// Noise drawn in [`NoiseSchedule::noise_draw_shape`] → the clips' noise: each frame
    /// `√s·shared + √(1−s)·own` with the extra last frame as the shared part.
    pub fn share_frames(&self, drawn: Tensor) -> Tensor {
        let s = self.frame_noise_share;
        if s <= 0.0 || drawn.dim() < 3 {
            return drawn;
        }
        let axis = drawn.dim() as i64 - 3;
        let frames = drawn.size()[axis as usize] - 1;
        let own = drawn.narrow(axis, 0, frames);
        let shared = drawn.narrow(axis, frames, 1);
        own * (1.0 - s).sqrt() + shared * s.sqrt()
    }

    /// ᾱ_t for every training timestep (the last one 0 under
    /// [`NoiseSchedule::zero_terminal_snr`]).
    pub fn alphas_cumprod(&self) -> Vec<f64> {
        let n = self.train_timesteps;
        let (a, b) = (self.beta_start.sqrt(), self.beta_end.sqrt());
        let mut prod = 1.0;
        let scaled_linear: Vec<f64> = (0..n)
            .map(|i| {
                let s = a + (b - a) * i as f64 / (n - 1).max(1) as f64;
                prod *= 1.0 - s * s;
                prod
            })
            .collect();
        if !self.zero_terminal_snr || n < 2 {
            return scaled_linear;
        }
        let (first, last) = (scaled_linear[0].sqrt(), scaled_linear[n - 1].sqrt());
        let scale = first / (first - last);
        scaled_linear
            .iter()
            .map(|&ac| {
                let shifted = (ac.sqrt() - last) * scale;
                shifted * shifted
            })
            .collect()
    }

    /// Noisy clips x_t and the regression target, for clips `x0` [B, …], noise like `x0` and
    /// one timestep per clip.
    pub fn noisy_and_target(
        &self,
        x0: &Tensor,
        noise: &Tensor,
        timesteps: &[i64],
    ) -> (Tensor, Tensor) {
        let ac = self.alphas_cumprod();
        let dims = x0.dim();
        // Coefficients in x0's dtype (f32 training; f64 under `--precision f64`).
        let col = |f: &dyn Fn(f64) -> f64| {
            let v: Vec<f64> = timesteps.iter().map(|&t| f(ac[t as usize])).collect();
            let mut shape = vec![v.len() as i64];
            shape.extend(std::iter::repeat_n(1, dims - 1));
            Tensor::from_slice(&v)
                .view(shape.as_slice())
                .to_kind(x0.kind())
                .to_device(x0.device())
        };
        let sqrt_a = col(&|a| a.sqrt());
        let sqrt_1ma = col(&|a| (1.0 - a).sqrt());
        let noise = noise.to_kind(x0.kind());
        let xt = &sqrt_a * x0 + &sqrt_1ma * &noise;
        let target = match self.prediction {
            Prediction::Epsilon => noise,
            Prediction::V => &sqrt_a * &noise - &sqrt_1ma * x0,
        };
        (xt, target)
    }
}

#[cfg(test)]
mod frame_noise_tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn independent_frames_draw_the_noise_of_before() {
        let s = NoiseSchedule::default();
        assert_eq!(s.noise_draw_shape(&[2, 3, 8, 4, 4]), vec![2, 3, 8, 4, 4]);
        let x = Tensor::randn([2, 3, 8, 4, 4], (Kind::Float, Device::Cpu));
        assert!(s.share_frames(x.shallow_clone()).equal(&x));
    }

    #[test]
    fn shared_noise_keeps_unit_variance_and_correlates_frames_by_the_share() {
        tch::manual_seed(0);
        let s = NoiseSchedule {
            frame_noise_share: 0.6,
            ..NoiseSchedule::default()
        };
        let shape = s.noise_draw_shape(&[4000, 1, 2, 4, 4]);
        assert_eq!(shape, vec![4000, 1, 3, 4, 4]);
        let noise = s.share_frames(Tensor::randn(shape, (Kind::Double, Device::Cpu)));
        assert_eq!(noise.size(), vec![4000, 1, 2, 4, 4]);
        let (a, b) = (noise.select(2, 0), noise.select(2, 1));
        let var = f64::try_from(a.var(true)).unwrap();
        let corr = f64::try_from((&a * &b).mean(Kind::Double)).unwrap();
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
        assert!((corr - 0.6).abs() < 0.02, "correlation {corr}");
    }
}
