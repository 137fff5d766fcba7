//! How well a cheap proxy ranks architectures (`vidnas bench ranking`: supernet scores against
//! stand-alone training): Kendall τ-b ([`kendall_tau_b`], the statistic the latency predictor is
//! judged by too) and Spearman ρ of the proxy against the mean reference score over seeds, and
//! the same between reference seeds, the ceiling any proxy can reach; each with a 95% bootstrap
//! interval over the architectures.

use crate::accuracy::kendall_tau_b;
use crate::rank_stats::{bootstrap_95, spearman_rho};
use std::collections::BTreeMap;
use vidnas_space::Architecture;

/// One architecture: its proxy score and its reference scores, one per run.
#[derive(Debug, Clone, PartialEq)]
pub struct RankedArch {
    pub arch: Architecture,
    pub proxy: f64,
    /// `(seed, score)` per reference run, in the order the runs were given.
    pub runs: Vec<(u64, f64)>,
}

impl RankedArch {
    /// Mean reference score over the runs (summed in the order given).
    pub fn reference_mean(&self) -> f64 {
        self.runs.iter().map(|x| x.1).sum::<f64>() / self.runs.len() as f64
    }

    /// The runs ordered by seed (stable: equal seeds keep their order).
    pub fn by_seed(&self) -> Vec<(u64, f64)> {
        let mut sorted = self.runs.clone();
        sorted.sort_by_key(|x| x.0);
        sorted
    }

    /// `seed:score` per run, by seed, scores to 5 decimals, space separated.
    pub fn runs_text(&self) -> String {
        self.by_seed()
            .iter()
            .map(|(seed, v)| format!("{seed}:{v:.5}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Bootstrap resamples behind every interval, and their seed (fixed: same runs, same figures).
const RESAMPLES: usize = 2000;
const BOOTSTRAP_SEED: u64 = 0;

/// Kendall τ-b and Spearman ρ of a set of pairs, each with its 95% bootstrap interval (`None`
/// below three pairs).
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    pub tau: f64,
    pub tau_95: Option<(f64, f64)>,
    pub rho: f64,
    pub rho_95: Option<(f64, f64)>,
}

impl Agreement {
    pub fn of(pairs: &[(f64, f64)]) -> Self {
        Self {
            tau: kendall_tau_b(pairs),
            tau_95: bootstrap_95(pairs, kendall_tau_b, RESAMPLES, BOOTSTRAP_SEED),
            rho: spearman_rho(pairs),
            rho_95: bootstrap_95(pairs, spearman_rho, RESAMPLES, BOOTSTRAP_SEED),
        }
    }

    /// `τ 0.640 [0.400, 0.850], ρ 0.800 [0.550, 0.930]`.
    pub fn text(&self) -> String {
        let ci = |c: Option<(f64, f64)>| {
            c.map_or(String::new(), |(lo, hi)| format!(" [{lo:.3}, {hi:.3}]"))
        };
        format!(
            "τ {:.3}{}, ρ {:.3}{}",
            self.tau,
            ci(self.tau_95),
            self.rho,
            ci(self.rho_95)
        )
    }
}

/// How a proxy and the reference seeds agree over one set of architectures.
#[derive(Debug, Clone, PartialEq)]
pub struct SetAgreement {
    /// Architectures in the set.
    pub archs: usize,
    /// τ, ρ and their intervals of the proxy against the reference mean.
    pub proxy: Agreement,
    /// The same between the first two reference seeds, when at least two architectures of the
    /// set have two: how well the reference agrees with itself (the ceiling).
    pub seeds: Option<Agreement>,
}

impl SetAgreement {
    pub fn of<'a>(archs: impl IntoIterator<Item = &'a RankedArch>) -> Self {
        let archs: Vec<&RankedArch> = archs.into_iter().collect();
        let pairs: Vec<(f64, f64)> = archs
            .iter()
            .map(|a| (a.proxy, a.reference_mean()))
            .collect();
        let seed_pairs: Vec<(f64, f64)> = archs
            .iter()
            .map(|a| a.by_seed())
            .filter(|s| s.len() >= 2)
            .map(|s| (s[0].1, s[1].1))
            .collect();
        Self {
            archs: archs.len(),
            proxy: Agreement::of(&pairs),
            seeds: (seed_pairs.len() >= 2).then(|| Agreement::of(&seed_pairs)),
        }
    }
}

/// The ranking of a set of architectures by a proxy against reference runs.
#[derive(Debug, Clone, PartialEq)]
pub struct RankAgreement {
    /// One per architecture, ordered by canonical encoding.
    pub archs: Vec<RankedArch>,
    /// τ-b of (proxy, reference mean) over the architectures.
    pub tau: f64,
    /// τ-b of (first seed, second seed) over the architectures with two or more runs, when at
    /// least two have: how well the reference agrees with itself.
    pub ceiling: Option<f64>,
    /// τ, ρ and their intervals of the proxy against the reference mean.
    pub proxy: Agreement,
    /// The same between the first two reference seeds, when at least two architectures have two.
    pub seeds: Option<Agreement>,
}

impl RankAgreement {
    /// Groups reference runs `(architecture, seed, score)` by architecture and asks `proxy` for
    /// each architecture's score (once, in encoding order).
    pub fn new<E>(
        runs: impl IntoIterator<Item = (Architecture, u64, f64)>,
        mut proxy: impl FnMut(&Architecture) -> Result<f64, E>,
    ) -> Result<Self, E> {
        let mut grouped: BTreeMap<String, (Architecture, Vec<(u64, f64)>)> = BTreeMap::new();
        for (arch, seed, score) in runs {
            grouped
                .entry(arch.encode())
                .or_insert_with(|| (arch, Vec::new()))
                .1
                .push((seed, score));
        }
        let mut archs = Vec::new();
        for (arch, runs) in grouped.into_values() {
            let score = proxy(&arch)?;
            archs.push(RankedArch {
                arch,
                proxy: score,
                runs,
            });
        }
        let all = SetAgreement::of(&archs);
        Ok(RankAgreement {
            tau: all.proxy.tau,
            ceiling: all.seeds.as_ref().map(|s| s.tau),
            proxy: all.proxy,
            seeds: all.seeds,
            archs,
        })
    }

    /// The agreement over the architectures `keep` selects (e.g. those inside a latency band).
    pub fn within(&self, mut keep: impl FnMut(&Architecture) -> bool) -> SetAgreement {
        SetAgreement::of(self.archs.iter().filter(|a| keep(&a.arch)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vidnas_space::OpKind;

    fn arch(ops: &[OpKind]) -> Architecture {
        Architecture { ops: ops.to_vec() }
    }

    #[test]
    fn groups_runs_by_architecture_and_ranks_them() {
        use OpKind::{Attn1d, Conv1d, None as No};
        let (a, b, c) = (
            arch(&[Conv1d, No]),
            arch(&[Attn1d, No]),
            arch(&[No, Conv1d]),
        );
        let runs = vec![
            (a.clone(), 1, 0.3),
            (b.clone(), 0, 0.1),
            (a.clone(), 0, 0.2),
            (c.clone(), 0, 0.5),
            (b.clone(), 1, 0.12),
            (c.clone(), 1, 0.4),
        ];
        let proxy = |x: &Architecture| -> Result<f64, ()> {
            Ok(match x.encode().as_str() {
                "conv1d-none" => 2.0,
                "attn1d-none" => 1.0,
                _ => 3.0,
            })
        };
        let r = RankAgreement::new(runs, proxy).unwrap();
        let order: Vec<String> = r.archs.iter().map(|x| x.arch.encode()).collect();
        assert_eq!(order, ["attn1d-none", "conv1d-none", "none-conv1d"]);
        assert_eq!(r.archs[1].runs, vec![(1, 0.3), (0, 0.2)], "given order");
        assert_eq!(r.archs[1].runs_text(), "0:0.20000 1:0.30000");
        assert_eq!(r.tau, 1.0);
        // Seed 0 vs seed 1: (0.1, 0.12), (0.2, 0.3), (0.5, 0.4): concordant.
        assert_eq!(r.ceiling, Some(1.0));
    }

    #[test]
    fn a_subset_is_judged_on_its_own() {
        use OpKind::{Attn1d, Conv1d, None as No};
        let archs = [[Conv1d, No], [Attn1d, No], [No, Conv1d], [No, Attn1d]];
        // The proxy ranks the first three right and puts the fourth first.
        let truth = [0.1, 0.2, 0.3, 0.4];
        let proxy = [1.0, 2.0, 3.0, 0.5];
        let runs: Vec<_> = archs
            .iter()
            .zip(truth)
            .flat_map(|(a, t)| [(arch(a), 0, t), (arch(a), 1, t + 0.01)])
            .collect();
        let r = RankAgreement::new(runs, |x| {
            let i = archs.iter().position(|a| arch(a) == *x).unwrap();
            Ok::<_, ()>(proxy[i])
        })
        .unwrap();
        assert_eq!(r.archs.len(), 4);
        // Overall: 3 of 6 pairs concordant, 3 discordant.
        assert_eq!(r.tau, 0.0);
        let inside = r.within(|a| a.ops[1] != Attn1d);
        assert_eq!(inside.archs, 3);
        assert_eq!(inside.proxy.tau, 1.0);
        assert_eq!(inside.seeds.unwrap().tau, 1.0);
        assert_eq!(r.within(|_| false).archs, 0);
    }

    #[test]
    fn one_run_per_architecture_has_no_ceiling() {
        let runs = vec![
            (arch(&[OpKind::Conv1d]), 0, 0.2),
            (arch(&[OpKind::None]), 0, 0.1),
        ];
        let r = RankAgreement::new(runs, |_| Ok::<_, ()>(1.0)).unwrap();
        assert_eq!(r.ceiling, None);
        assert!(r.tau.is_nan(), "a constant proxy ranks nothing");
    }
}
