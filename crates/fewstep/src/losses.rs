//! Losses of adversarial few-step distillation: hinge losses for the discriminator and the
//! generator (SF-V, ADD), and the pseudo-Huber distance of improved consistency training.

use tch::{Kind, Tensor};

/// `c` of the pseudo-Huber distance for samples of `numel` values: 0.00054·√d (Song &
/// Dhariwal, "Improved Techniques for Training Consistency Models", 2023).
pub fn default_huber_c(numel: i64) -> f64 {
    0.00054 * (numel as f64).sqrt()
}

/// Pseudo-Huber distance `√(‖x−y‖² + c²) − c` per sample (norm over all but the first
/// dimension), divided by √d so it reads as an RMS error; mean over the batch. Its gradient
/// has bounded norm, so a few far-off samples do not dominate a step.
pub fn pseudo_huber(x: &Tensor, y: &Tensor, c: f64) -> Tensor {
    pseudo_huber_per_sample(x, y, c).mean(Kind::Float)
}

/// [`pseudo_huber`] of every sample, `[B]`, before the batch mean.
pub fn pseudo_huber_per_sample(x: &Tensor, y: &Tensor, c: f64) -> Tensor {
    let d = (x.numel() as i64 / x.size()[0]) as f64;
    let sq = (x - y)
        .square()
        .flatten(1, -1)
        .sum_dim_intlist(1, false, Kind::Float);
    ((sq + c * c).sqrt() - c) / d.sqrt()
}

/// Discriminator hinge loss `E[relu(1 − D(real))] + E[relu(1 + D(fake))]`, averaged over the
/// heads (every logit map is a set of patch-level decisions).
pub fn hinge_d(real: &[Tensor], fake: &[Tensor]) -> Tensor {
    assert_eq!(real.len(), fake.len(), "one logit map per head for both");
    let n = real.len() as f64;
    real.iter()
        .zip(fake)
        .map(|(r, f)| (r.neg() + 1.0).relu().mean(Kind::Float) + (f + 1.0).relu().mean(Kind::Float))
        .reduce(|a, b| a + b)
        .expect("at least one head")
        / n
}

/// Generator hinge loss `−E[D(fake)]`, averaged over the heads.
pub fn hinge_g(fake: &[Tensor]) -> Tensor {
    let n = fake.len() as f64;
    fake.iter()
        .map(|f| -f.mean(Kind::Float))
        .reduce(|a, b| a + b)
        .expect("at least one head")
        / n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pseudo_huber_is_rms_error_far_from_zero_and_zero_at_zero() {
        let x = Tensor::from_slice(&[0.0f32, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]).view([2, 4]);
        let y = Tensor::zeros([2, 4], (Kind::Float, tch::Device::Cpu));
        assert_eq!(pseudo_huber(&y, &y, 0.01).double_value(&[]), 0.0);
        // Sample 0 has distance 0, sample 1 has ‖x−y‖ = 2, so (2 − c)/√4 / 2 with c → 0.
        let v = pseudo_huber(&x, &y, 1e-6).double_value(&[]);
        assert!((v - 0.5).abs() < 1e-5, "{v}");
    }

    #[test]
    fn hinge_losses_match_their_definition() {
        let real = [Tensor::from_slice(&[2.0f32, 0.5])];
        let fake = [Tensor::from_slice(&[-2.0f32, 0.0])];
        // real: relu(1−2)=0, relu(1−0.5)=0.5 → 0.25; fake: relu(1−2)=0, relu(1+0)=1 → 0.5.
        assert!((hinge_d(&real, &fake).double_value(&[]) - 0.75).abs() < 1e-6);
        assert!((hinge_g(&fake).double_value(&[]) - 1.0).abs() < 1e-6);
    }
}
