//! A model of the supernet score from the architecture alone (OFA's accuracy predictor,
//! DyNAS-T's LINAS): kernel ridge regression on one-hot slot×op features and all their pairwise
//! products (which slots hold which ops, and which pairs of choices occur together).
//!
//! With one-hot features the feature space never needs to be built: two architectures that
//! agree on `m` slots share `m` one-hot features and `m(m-1)/2` pairwise ones, so with the
//! pairwise features weighted by `γ` the kernel is `k(a, b) = m + γ·m(m-1)/2`. Fitting solves
//! `(K + λI) α = y − ȳ` over the supernet-scored architectures; γ and the ridge λ are the pair
//! with the smallest leave-one-out error, which kernel ridge gives in closed form
//! (`rᵢ = αᵢ / (K + λI)⁻¹ᵢᵢ`), and the same left-out predictions give the held-out Kendall τ
//! reported with every fit.

use nalgebra::{DMatrix, DVector};
use vidnas_space::{Architecture, OpKind};

/// Ridge strengths tried; the leave-one-out error picks one.
const RIDGES: [f64; 9] = [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0, 3.0, 10.0];
/// Weights of the pairwise features tried (0: an additive model).
const PAIR_WEIGHTS: [f64; 5] = [0.0, 0.01, 0.03, 0.1, 0.3];

/// Fewest scored architectures a fit accepts, for a space of `slots` slots: enough that the
/// leave-one-out choice of λ and the held-out τ mean something.
pub fn min_fit_rows(slots: usize) -> usize {
    (slots + 2).max(8)
}

/// A fitted surrogate.
#[derive(Debug, Clone)]
pub struct Surrogate {
    train: Vec<Vec<OpKind>>,
    alpha: Vec<f64>,
    mean: f64,
    /// The ridge strength chosen by leave-one-out error.
    pub ridge: f64,
    /// The weight of the pairwise features, chosen likewise.
    pub pair_weight: f64,
    /// Kendall τ between the leave-one-out predictions and the scores.
    pub held_out_tau: f64,
}

/// One (γ, λ) of the grid with its leave-one-out error and predictions.
struct Candidate {
    error: f64,
    ridge: f64,
    pair_weight: f64,
    alpha: DVector<f64>,
    loo: Vec<f64>,
}

/// Slots on which two architectures agree, as the kernel sees them.
fn kernel(a: &[OpKind], b: &[OpKind], pair_weight: f64) -> f64 {
    let m = a.iter().zip(b).filter(|(x, y)| x == y).count() as f64;
    m + pair_weight * m * (m - 1.0) / 2.0
}

impl Surrogate {
    /// Fits scores `y` of `archs`; refuses fewer than [`min_fit_rows`] architectures.
    pub fn fit(archs: &[&Architecture], y: &[f64]) -> Result<Self, String> {
        let n = archs.len();
        let slots = archs.first().map_or(0, |a| a.ops.len());
        let needed = min_fit_rows(slots);
        if n < needed || y.len() != n {
            return Err(format!(
                "the surrogate needs at least {needed} supernet-scored architectures to fit ({n} so far)"
            ));
        }
        let train: Vec<Vec<OpKind>> = archs.iter().map(|a| a.ops.clone()).collect();
        let mean = y.iter().sum::<f64>() / n as f64;
        let centred = DVector::from_iterator(n, y.iter().map(|v| v - mean));
        let mut best: Option<Candidate> = None;
        for pair_weight in PAIR_WEIGHTS {
            let gram = DMatrix::from_fn(n, n, |i, j| kernel(&train[i], &train[j], pair_weight));
            for ridge in RIDGES {
                let h = &gram + DMatrix::identity(n, n) * ridge;
                let Some(chol) = h.cholesky() else {
                    continue;
                };
                let alpha = chol.solve(&centred);
                let inverse = chol.inverse();
                let loo: Vec<f64> = (0..n).map(|i| y[i] - alpha[i] / inverse[(i, i)]).collect();
                let error: f64 = loo.iter().zip(y).map(|(p, t)| (p - t).powi(2)).sum();
                if best.as_ref().is_none_or(|b| error < b.error) {
                    best = Some(Candidate {
                        error,
                        ridge,
                        pair_weight,
                        alpha,
                        loo,
                    });
                }
            }
        }
        let Candidate {
            ridge,
            pair_weight,
            alpha,
            loo,
            ..
        } = best
            .ok_or_else(|| "the surrogate's kernel matrix is not positive definite".to_string())?;
        Ok(Self {
            train,
            alpha: alpha.iter().copied().collect(),
            mean,
            ridge,
            pair_weight,
            held_out_tau: kendall_tau(&loo, y),
        })
    }

    /// The predicted score of `arch`.
    pub fn predict(&self, arch: &Architecture) -> f64 {
        self.mean
            + self
                .train
                .iter()
                .zip(&self.alpha)
                .map(|(t, a)| a * kernel(t, &arch.ops, self.pair_weight))
                .sum::<f64>()
    }
}

/// Kendall's τ-b between two equally long lists.
pub fn kendall_tau(a: &[f64], b: &[f64]) -> f64 {
    let pairs: Vec<(f64, f64)> = a.iter().copied().zip(b.iter().copied()).collect();
    vidnas_io::kendall_tau_b(&pairs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// An additive score (one value per slot and op) plus one pairwise interaction: the model
    /// class the surrogate spans, so a fit on 60 architectures must rank 200 unseen ones well.
    #[test]
    fn recovers_a_known_additive_function_on_held_out_architectures() {
        let space = vidnas_space::fixtures::micro();
        let truth = |a: &Architecture| {
            let additive: f64 = a
                .ops
                .iter()
                .enumerate()
                .map(|(i, op)| ((i + 1) as f64 * 0.37 + *op as usize as f64 * 0.91).sin())
                .sum();
            let pair = if a.ops[0] == a.ops[3] { 0.5 } else { 0.0 };
            additive + pair
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let train: Vec<Architecture> = (0..60).map(|_| space.sample(&mut rng)).collect();
        let test: Vec<Architecture> = (0..200).map(|_| space.sample(&mut rng)).collect();
        let refs: Vec<&Architecture> = train.iter().collect();
        let y: Vec<f64> = train.iter().map(truth).collect();
        let s = Surrogate::fit(&refs, &y).unwrap();
        let predicted: Vec<f64> = test.iter().map(|a| s.predict(a)).collect();
        let actual: Vec<f64> = test.iter().map(truth).collect();
        let tau = kendall_tau(&predicted, &actual);
        assert!(tau > 0.9, "held-out τ {tau}");
        assert!(s.held_out_tau > 0.8, "leave-one-out τ {}", s.held_out_tau);
    }

    #[test]
    fn too_few_architectures_name_how_many_are_needed() {
        let space = vidnas_space::fixtures::micro();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let archs: Vec<Architecture> = (0..5).map(|_| space.sample(&mut rng)).collect();
        let refs: Vec<&Architecture> = archs.iter().collect();
        let e = Surrogate::fit(&refs, &[1.0; 5]).unwrap_err();
        assert!(e.contains("at least 12") && e.contains("(5 so far)"), "{e}");
    }

    #[test]
    fn kendall_tau_on_a_hand_worked_case() {
        // Pairs: (1,2) C, (1,3) C, (1,4) C, (2,3) D, (2,4) C, (3,4) C → (5 − 1) / 6.
        let tau = kendall_tau(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]);
        assert!((tau - 4.0 / 6.0).abs() < 1e-12, "{tau}");
    }
}
