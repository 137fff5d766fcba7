//! Rank statistics beyond Kendall's τ-b: Spearman's ρ and percentile bootstrap intervals, so a
//! ranking figure carries its uncertainty (with 12–30 architectures it is large).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Spearman's ρ: the Pearson correlation of the ranks (ties take their mean rank). NaN for
/// fewer than two pairs or a constant side.
pub fn spearman_rho(pairs: &[(f64, f64)]) -> f64 {
    let a = ranks(pairs.iter().map(|p| p.0));
    let b = ranks(pairs.iter().map(|p| p.1));
    pearson(&a, &b)
}

/// 1-based ranks with ties averaged.
fn ranks(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let v: Vec<f64> = values.collect();
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&i, &j| v[i].total_cmp(&v[j]));
    let mut r = vec![0.0; v.len()];
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && v[order[end]] == v[order[start]] {
            end += 1;
        }
        let mean_rank = (start + end + 1) as f64 / 2.0;
        for &k in &order[start..end] {
            r[k] = mean_rank;
        }
        start = end;
    }
    r
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    if a.len() < 2 {
        return f64::NAN;
    }
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    if va == 0.0 || vb == 0.0 {
        return f64::NAN;
    }
    cov / (va * vb).sqrt()
}

/// The `q`-quantile (0–1) of `values` with linear interpolation between order statistics
/// (numpy's default); NaN when empty.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// A 95% percentile bootstrap interval of `stat` over `pairs`: `resamples` draws of as many
/// pairs with replacement (from `seed`), resamples whose statistic is undefined skipped.
/// `None` when fewer than three pairs or no resample is defined.
pub fn bootstrap_95(
    pairs: &[(f64, f64)],
    stat: impl Fn(&[(f64, f64)]) -> f64,
    resamples: usize,
    seed: u64,
) -> Option<(f64, f64)> {
    if pairs.len() < 3 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut values = Vec::with_capacity(resamples);
    let mut draw = Vec::with_capacity(pairs.len());
    for _ in 0..resamples {
        draw.clear();
        draw.extend((0..pairs.len()).map(|_| pairs[rng.gen_range(0..pairs.len())]));
        let v = stat(&draw);
        if v.is_finite() {
            values.push(v);
        }
    }
    (!values.is_empty()).then(|| (quantile(&values, 0.025), quantile(&values, 0.975)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vidnas_io::kendall_tau_b;

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v: Vec<f64> = (0..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.025), 2.5);
        assert_eq!(quantile(&v, 0.975), 97.5);
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), 2.0);
        assert_eq!(quantile(&[1.0, 2.0], 0.25), 1.25);
    }

    #[test]
    fn spearman_on_hand_worked_cases() {
        // Ranks (1,2,3,4) against (1,3,2,4): 1 − 6·Σd²/(n(n²−1)) = 1 − 6·2/60 = 0.8.
        let r = spearman_rho(&[(1.0, 10.0), (2.0, 30.0), (3.0, 20.0), (4.0, 40.0)]);
        assert!((r - 0.8).abs() < 1e-12, "{r}");
        // Ties take the mean rank: (1, 2.5, 2.5, 4) against itself.
        assert_eq!(
            spearman_rho(&[(1.0, 1.0), (2.0, 2.0), (2.0, 2.0), (3.0, 3.0)]),
            1.0
        );
        assert!(spearman_rho(&[(1.0, 5.0), (2.0, 5.0)]).is_nan());
    }

    #[test]
    fn a_perfect_ranking_has_a_degenerate_interval_and_draws_repeat_under_a_seed() {
        // Every resample of concordant pairs is concordant (repeats are ties on both sides).
        let pairs: Vec<(f64, f64)> = (0..8).map(|i| (i as f64, 2.0 * i as f64)).collect();
        assert_eq!(
            bootstrap_95(&pairs, kendall_tau_b, 500, 1),
            Some((1.0, 1.0))
        );
        let noisy: Vec<(f64, f64)> = (0..12).map(|i| (i as f64, ((i * 7) % 12) as f64)).collect();
        let a = bootstrap_95(&noisy, spearman_rho, 500, 3).unwrap();
        assert_eq!(a, bootstrap_95(&noisy, spearman_rho, 500, 3).unwrap());
        let point = spearman_rho(&noisy);
        assert!(
            a.0 <= point && point <= a.1 && a.0 < a.1,
            "{a:?} around {point}"
        );
        assert_eq!(bootstrap_95(&pairs[..2], kendall_tau_b, 10, 0), None);
    }
}
