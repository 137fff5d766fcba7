//! The Fréchet distance between two sets of clip features, as FID and FVD compute it: fit a
//! Gaussian (mean, covariance) to each set and take
//! `‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½)`, the squared 2-Wasserstein distance between
//! the two Gaussians (FID reports this squared value too). Features are first reduced by a PCA
//! fitted on the real clips only, so the covariances stay full rank with a few hundred clips;
//! a bootstrap over both sets gives the interval.
//!
//! Everything runs in `f64` on the CPU. Matrix square roots come from symmetric
//! eigendecompositions (`linalg_eigh`) with tiny negative eigenvalues, rounding noise of
//! positive semi-definite matrices, clamped to zero.

use crate::error::{EvalError, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// A Gaussian fitted to feature vectors.
#[derive(Debug)]
pub struct Gaussian {
    /// `[k]`.
    pub mean: Tensor,
    /// `[k, k]`, symmetric positive semi-definite.
    pub cov: Tensor,
}

impl Gaussian {
    /// Mean and unbiased covariance (divided by N − 1, as `numpy.cov`) of `x` `[N, k]`.
    pub fn fit(x: &Tensor) -> Result<Gaussian> {
        let x = as_matrix(x, "features")?;
        let n = x.size()[0];
        if n < 2 {
            return Err(EvalError::Config(format!(
                "a covariance needs at least 2 feature vectors, got {n}"
            )));
        }
        let mean = x.f_mean_dim(0, false, Kind::Double)?;
        let centred = x.f_sub(&mean)?;
        let cov = centred
            .tr()
            .f_matmul(&centred)?
            .f_div_scalar((n - 1) as f64)?;
        Ok(Gaussian { mean, cov })
    }

    fn dims(&self) -> i64 {
        self.mean.size()[0]
    }
}

/// `x` as a 2-D `f64` CPU tensor, or an error naming `what` and its shape.
fn as_matrix(x: &Tensor, what: &str) -> Result<Tensor> {
    if x.dim() != 2 {
        return Err(EvalError::Config(format!(
            "{what} must be a matrix [N, dims], not of shape {:?}",
            x.size()
        )));
    }
    Ok(x.f_to_kind(Kind::Double)?.f_to_device(Device::Cpu)?)
}

/// Eigenvalues (clamped at 0, ascending) and eigenvectors of the symmetric part of `m`.
fn eigh_psd(m: &Tensor) -> Result<(Tensor, Tensor)> {
    // Symmetrised first: products like Σ₁^½ Σ₂ Σ₁^½ are symmetric only up to rounding.
    let sym = m.f_add(&m.tr())?.f_mul_scalar(0.5)?;
    let (values, vectors) = sym.f_linalg_eigh("L")?;
    Ok((values.f_clamp_min(0.0)?, vectors))
}

/// `m^½` of a symmetric positive semi-definite `m`.
fn sqrt_psd(m: &Tensor) -> Result<Tensor> {
    let (values, vectors) = eigh_psd(m)?;
    let scaled = vectors.f_mul(&values.f_sqrt()?.f_unsqueeze(0)?)?;
    Ok(scaled.f_matmul(&vectors.tr())?)
}

/// `‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2 (Σ₁^½ Σ₂ Σ₁^½)^½)`; 0 for a Gaussian against itself (up to
/// rounding, which is clamped so the result is never negative).
pub fn frechet_distance(a: &Gaussian, b: &Gaussian) -> Result<f64> {
    let k = a.dims();
    for (g, name) in [(a, "first"), (b, "second")] {
        if g.mean.size() != [k] || g.cov.size() != [k, k] {
            return Err(EvalError::Config(format!(
                "the {name} Gaussian has mean {:?} and covariance {:?}; both need mean [{k}] and covariance [{k}, {k}]",
                g.mean.size(),
                g.cov.size()
            )));
        }
    }
    let (m1, m2) = (
        a.mean.f_to_kind(Kind::Double)?,
        b.mean.f_to_kind(Kind::Double)?,
    );
    let (s1, s2) = (
        a.cov.f_to_kind(Kind::Double)?,
        b.cov.f_to_kind(Kind::Double)?,
    );
    let diff = m1.f_sub(&m2)?;
    let mean_term = diff.f_dot(&diff)?.double_value(&[]);
    let s1_half = sqrt_psd(&s1)?;
    let (cross, _) = eigh_psd(&s1_half.f_matmul(&s2)?.f_matmul(&s1_half)?)?;
    let cross_trace = cross.f_sqrt()?.f_sum(Kind::Double)?.double_value(&[]);
    let traces = s1.f_trace()?.double_value(&[]) + s2.f_trace()?.double_value(&[]);
    Ok((mean_term + traces - 2.0 * cross_trace).max(0.0))
}

/// The Fréchet distance between the Gaussians fitted to `x` `[N, k]` and `y` `[M, k]`.
pub fn frechet_between(x: &Tensor, y: &Tensor) -> Result<f64> {
    frechet_distance(&Gaussian::fit(x)?, &Gaussian::fit(y)?)
}

/// Refuses a set of `clips` too small for a full-rank covariance in `dims` dimensions;
/// `flag` names what sets the count (e.g. `--generated`).
pub fn check_clip_count(flag: &str, clips: usize, dims: usize) -> Result<()> {
    let need = dims + 1;
    if clips < need {
        return Err(EvalError::Config(format!(
            "{flag} {clips}: a Fréchet distance over {dims} feature dimensions (--pca-dims) needs at least {need} clips per set (dims + 1, for a full-rank covariance); raise {flag} to {need} or more, or lower --pca-dims below {clips}"
        )));
    }
    Ok(())
}

/// A PCA of real clips' features: their mean and the `k` directions of largest variance.
#[derive(Debug)]
pub struct Pca {
    /// `[D]`.
    mean: Tensor,
    /// `[D, k]`, orthonormal columns, largest variance first.
    components: Tensor,
    /// Share of the fitted features' total variance the `k` directions hold.
    variance_share: f64,
}

impl Pca {
    /// Fits the top `dims` principal directions of `real` `[N, D]` (mean-centred covariance).
    pub fn fit(real: &Tensor, dims: usize) -> Result<Pca> {
        let real = as_matrix(real, "real features")?;
        let [n, d] = [real.size()[0], real.size()[1]];
        if dims == 0 || dims as i64 > d {
            return Err(EvalError::Config(format!(
                "--pca-dims {dims}: the features have {d} dimensions; give --pca-dims from 1 to {d}"
            )));
        }
        check_clip_count("real clips", n as usize, dims)?;
        let fit = Gaussian::fit(&real)?;
        let (values, vectors) = eigh_psd(&fit.cov)?;
        // `linalg_eigh` sorts ascending: the last `dims` columns, reversed.
        let k = dims as i64;
        let components = vectors.f_narrow(1, d - k, k)?.f_flip([1])?;
        let total = values.f_sum(Kind::Double)?.double_value(&[]);
        let kept = values
            .f_narrow(0, d - k, k)?
            .f_sum(Kind::Double)?
            .double_value(&[]);
        Ok(Pca {
            mean: fit.mean,
            components,
            variance_share: if total > 0.0 { kept / total } else { 1.0 },
        })
    }

    /// `x` `[N, D]` centred on the real mean and projected, `[N, k]`.
    pub fn project(&self, x: &Tensor) -> Result<Tensor> {
        let x = as_matrix(x, "features")?;
        let d = self.mean.size()[0];
        if x.size()[1] != d {
            return Err(EvalError::Config(format!(
                "features of {} dimensions given to a PCA fitted on {d}",
                x.size()[1]
            )));
        }
        Ok(x.f_sub(&self.mean)?.f_matmul(&self.components)?)
    }

    pub fn dims(&self) -> usize {
        self.components.size()[1] as usize
    }

    /// Share (0–1) of the fitted features' variance the kept directions hold.
    pub fn variance_share(&self) -> f64 {
        self.variance_share
    }
}

// Bootstrap.

/// An estimate with its bootstrap percentile interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Interval {
    /// On the full sets.
    pub estimate: f64,
    /// 2.5th percentile over the resamples.
    pub low: f64,
    /// 97.5th percentile over the resamples.
    pub high: f64,
}

impl Interval {
    /// `estimate` with the 2.5–97.5 % percentiles of `resampled`.
    pub fn from_resamples(estimate: f64, mut resampled: Vec<f64>) -> Interval {
        resampled.sort_by(f64::total_cmp);
        Interval {
            estimate,
            low: percentile(&resampled, 0.025),
            high: percentile(&resampled, 0.975),
        }
    }

    /// As [`Interval::from_resamples`], with the percentiles moved by the resamples' bias
    /// (their mean minus `estimate`) and kept at or above 0. A Fréchet distance needs this:
    /// a resample drawn with replacement repeats clips, which narrows its covariance and
    /// raises its distance, so the plain percentiles of small sets can lie wholly above the
    /// estimate (64 against 256 clips in 32 dimensions: 299 with percentiles 302–394).
    pub fn bias_corrected(estimate: f64, resampled: Vec<f64>) -> Interval {
        let bias = resampled.iter().sum::<f64>() / resampled.len().max(1) as f64 - estimate;
        let plain = Interval::from_resamples(estimate, resampled);
        Interval {
            estimate,
            low: (plain.low - bias).max(0.0),
            high: (plain.high - bias).max(0.0),
        }
    }
}

/// The `q` quantile (0–1) of ascending `sorted`, interpolating linearly between neighbours
/// (numpy's default); NaN when empty.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return f64::NAN;
    };
    let pos = q.clamp(0.0, 1.0) * last as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(last);
    sorted[lo] + (pos - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The bootstrap generator for `purpose` under `seed`: one ChaCha8 stream per purpose, so
/// the intervals of different figures do not share draws.
pub fn bootstrap_rng(seed: u64, purpose: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(purpose);
    rng
}

/// `n` indices below `n`, drawn with replacement.
pub fn resample(n: usize, rng: &mut ChaCha8Rng) -> Vec<i64> {
    (0..n).map(|_| rng.gen_range(0..n) as i64).collect()
}

/// The Fréchet distance between `x` `[N, k]` and `y` `[M, k]` with the bias-corrected
/// percentile interval of `resamples` bootstrap resamples (each set drawn with replacement
/// from itself; see [`Interval::bias_corrected`]).
pub fn frechet_interval(
    x: &Tensor,
    y: &Tensor,
    resamples: usize,
    rng: &mut ChaCha8Rng,
) -> Result<Interval> {
    if resamples == 0 {
        return Err(EvalError::Config(
            "--bootstrap must be at least 1 (1000 gives stable 95 % intervals)".into(),
        ));
    }
    let (x, y) = (as_matrix(x, "features")?, as_matrix(y, "features")?);
    let estimate = frechet_between(&x, &y)?;
    let pick = |t: &Tensor, rng: &mut ChaCha8Rng| -> Result<Tensor> {
        let idx = Tensor::from_slice(&resample(t.size()[0] as usize, rng));
        Ok(t.f_index_select(0, &idx)?)
    };
    let mut values = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        let (xs, ys) = (pick(&x, rng)?, pick(&y, rng)?);
        values.push(frechet_between(&xs, &ys)?);
    }
    Ok(Interval::bias_corrected(estimate, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, StandardNormal};

    fn gaussian(mean: &[f64], cov: &[f64]) -> Gaussian {
        let k = mean.len() as i64;
        Gaussian {
            mean: Tensor::from_slice(mean),
            cov: Tensor::from_slice(cov).view([k, k]),
        }
    }

    /// `[n, k]` standard normal draws from a seeded ChaCha8 (not torch's global generator,
    /// which tests running in parallel share), scaled per column by `scale`.
    fn normal(n: usize, scale: &[f64], seed: u64) -> Tensor {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let k = scale.len();
        let v: Vec<f64> = (0..n * k)
            .map(|i| {
                let z: f64 = StandardNormal.sample(&mut rng);
                scale[i % k] * z
            })
            .collect();
        Tensor::from_slice(&v).view([n as i64, k as i64])
    }

    #[test]
    fn diagonal_gaussians_match_the_closed_form() {
        // Diagonal covariances commute, so the distance is Σ(μ₁ − μ₂)² + Σ(√a − √b)²:
        // means (0, 0) and (1, 2): 1 + 4 = 5; variances (1, 4) and (4, 9): (1 − 2)² + (2 − 3)²
        // = 2; total 7.
        let a = gaussian(&[0.0, 0.0], &[1.0, 0.0, 0.0, 4.0]);
        let b = gaussian(&[1.0, 2.0], &[4.0, 0.0, 0.0, 9.0]);
        assert!((frechet_distance(&a, &b).unwrap() - 7.0).abs() < 1e-12);
        // Rotating both by the same 30° leaves it unchanged (the covariances are no longer
        // diagonal, so this goes through the general square roots).
        let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
        let r = Tensor::from_slice(&[c, -s, s, c]).view([2, 2]);
        let rotate = |g: &Gaussian| Gaussian {
            mean: r.matmul(&g.mean),
            cov: r.matmul(&g.cov).matmul(&r.tr()),
        };
        let d = frechet_distance(&rotate(&a), &rotate(&b)).unwrap();
        assert!((d - 7.0).abs() < 1e-9, "{d}");
    }

    #[test]
    fn non_commuting_covariances_match_the_two_by_two_closed_form() {
        // For 2×2 matrices Tr √M = √(Tr M + 2 √det M), and M = Σ₁^½ Σ₂ Σ₁^½ has
        // Tr M = Tr(Σ₁Σ₂), det M = det Σ₁ · det Σ₂. Σ₁ = [[2, 1], [1, 2]], Σ₂ = diag(1, 4):
        // Tr(Σ₁Σ₂) = Tr [[2, 4], [1, 8]] = 10, det Σ₁ det Σ₂ = 3 · 4 = 12, so the cross term is
        // √(10 + 2√12) = 4.114389776172829 and the distance (equal means)
        // 4 + 5 − 2 · 4.114389776172829 = 0.7712204476543416
        // (python: import math; 9 - 2 * math.sqrt(10 + 2 * math.sqrt(12))).
        let a = gaussian(&[0.5, 0.5], &[2.0, 1.0, 1.0, 2.0]);
        let b = gaussian(&[0.5, 0.5], &[1.0, 0.0, 0.0, 4.0]);
        let d = frechet_distance(&a, &b).unwrap();
        assert!((d - 0.771_220_447_654_341_6).abs() < 1e-12, "{d}");
        // Symmetric in its arguments.
        assert!((frechet_distance(&b, &a).unwrap() - d).abs() < 1e-12);
    }

    #[test]
    fn a_set_against_itself_is_zero() {
        let x = normal(200, &[1.0, 3.0, 0.1, 10.0, 0.5], 7);
        assert!(frechet_between(&x, &x).unwrap() < 1e-9);
        let pca = Pca::fit(&x, 3).unwrap();
        let p = pca.project(&x).unwrap();
        assert!(frechet_between(&p, &p).unwrap() < 1e-9);
    }

    #[test]
    fn a_full_pca_is_a_rotation_and_keeps_the_distance() {
        let x = normal(300, &[1.0, 2.0, 0.5, 4.0], 1);
        let y = normal(200, &[1.5, 1.0, 0.5, 3.0], 2) + 0.3;
        let pca = Pca::fit(&x, 4).unwrap();
        assert!((pca.variance_share() - 1.0).abs() < 1e-12);
        let direct = frechet_between(&x, &y).unwrap();
        let projected = frechet_between(&pca.project(&x).unwrap(), &pca.project(&y).unwrap());
        assert!((direct - projected.unwrap()).abs() < 1e-9);
        // The largest-variance direction comes first: column 3 (scale 4), then column 1.
        let first = pca.components.select(1, 0).abs();
        assert!(first.double_value(&[3]) > 0.99, "{first}");
        let pca2 = Pca::fit(&x, 2).unwrap();
        // Variances 1, 4, 0.25, 16: the top two hold 20 / 21.25 ≈ 0.94.
        assert!((pca2.variance_share() - 20.0 / 21.25).abs() < 0.03);
    }

    #[test]
    fn too_few_clips_say_how_many_are_needed() {
        let e = check_clip_count("--generated", 4, 8)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--generated 4") && e.contains("at least 9 clips"),
            "{e}"
        );
        assert!(check_clip_count("--generated", 9, 8).is_ok());
        let x = normal(5, &[1.0; 6], 0);
        let e = Pca::fit(&x, 6).unwrap_err().to_string();
        assert!(e.contains("at least 7"), "{e}");
        let e = Pca::fit(&x, 7).unwrap_err().to_string();
        assert!(e.contains("from 1 to 6"), "{e}");
    }

    #[test]
    fn bootstrap_is_deterministic_under_its_seed_and_brackets_the_estimate() {
        let x = normal(60, &[1.0, 2.0], 3);
        let y = normal(80, &[1.0, 2.0], 4) + 1.0;
        let run = |seed| frechet_interval(&x, &y, 200, &mut bootstrap_rng(seed, 0)).unwrap();
        let (a, b, c) = (run(5), run(5), run(6));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.estimate, c.estimate);
        assert!(a.low < a.estimate && a.estimate < a.high, "{a:?}");
    }

    #[test]
    fn the_bias_corrected_interval_moves_the_percentiles_by_the_resamples_bias() {
        // Resamples 10..=14 (mean 12) around an estimate of 9: bias 3, percentiles 10.1 and
        // 13.9 move to 7.1 and 10.9; a bias below the low end clamps at 0.
        let i = Interval::bias_corrected(9.0, vec![14.0, 10.0, 12.0, 11.0, 13.0]);
        assert!(
            (i.low - 7.1).abs() < 1e-12 && (i.high - 10.9).abs() < 1e-12,
            "{i:?}"
        );
        let i = Interval::bias_corrected(0.0, vec![5.0, 6.0, 7.0]);
        assert_eq!((i.low, i.estimate), (0.0, 0.0));
    }

    #[test]
    fn percentiles_interpolate_like_numpy() {
        let xs = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(percentile(&xs, 0.5), 3.0);
        // numpy.percentile([1, 2, 3, 4, 5], 2.5) = 1.1
        assert!((percentile(&xs, 0.025) - 1.1).abs() < 1e-12);
        assert_eq!(percentile(&xs, 1.0), 5.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
