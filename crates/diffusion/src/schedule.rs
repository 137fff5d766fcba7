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
        if self.beta_start > self.beta_end {
            return Err(format!(
                "schedule.beta_start ({}) is above schedule.beta_end ({}); swap them",
                self.beta_start, self.beta_end
            ));
        }
        Ok(())
    }

    /// ᾱ_t for every training timestep.
    pub fn alphas_cumprod(&self) -> Vec<f64> {
        let n = self.train_timesteps;
        let (a, b) = (self.beta_start.sqrt(), self.beta_end.sqrt());
        let mut prod = 1.0;
        (0..n)
            .map(|i| {
                let s = a + (b - a) * i as f64 / (n - 1).max(1) as f64;
                prod *= 1.0 - s * s;
                prod
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
