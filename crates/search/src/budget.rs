//! Hard budgets on latency and peak memory, handled feasibility-first (Deb's constraint
//! domination): a feasible architecture beats an infeasible one; between two infeasible ones the
//! smaller total normalised violation wins; between two feasible ones Pareto dominance decides.

use crate::error::SearchError;
use crate::evaluator::Evaluation;
use crate::pareto::dominates;
use serde::{Deserialize, Serialize};

/// Upper limits an architecture must meet to be reported. `None` = unconstrained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budgets {
    /// `--latency-budget-ms`.
    pub latency_ms: Option<f64>,
    /// `--memory-budget-mb`.
    pub memory_mb: Option<f64>,
    /// A joint search's latency budgets on the devices after the first (`--latency-budget-ms
    /// phone=40,laptop=15`), in device order; a fixed pair so budgets stay `Copy` (a search
    /// takes at most 3 tables).
    #[serde(default, skip_serializing_if = "no_other_budget")]
    pub other_latency_ms: [Option<f64>; 2],
    /// A joint search over tables of several dtypes: the memory budgets of the dtypes after the
    /// first (`--memory-budget-mb f16=400,f32=900`), in the run's dtype order.
    #[serde(default, skip_serializing_if = "no_other_budget")]
    pub other_memory_mb: [Option<f64>; 2],
}

fn no_other_budget(b: &[Option<f64>; 2]) -> bool {
    b.iter().all(Option::is_none)
}

impl Budgets {
    pub fn none() -> Self {
        Budgets::default()
    }

    /// Rejects budgets that are not positive finite numbers.
    pub fn check(&self) -> Result<(), SearchError> {
        let others = (self
            .other_latency_ms
            .map(|b| ("--latency-budget-ms", b))
            .into_iter())
        .chain(self.other_memory_mb.map(|b| ("--memory-budget-mb", b)));
        for (flag, value) in [
            ("--latency-budget-ms", self.latency_ms),
            ("--memory-budget-mb", self.memory_mb),
        ]
        .into_iter()
        .chain(others)
        {
            if let Some(v) = value {
                if !(v.is_finite() && v > 0.0) {
                    return Err(SearchError::config(
                        flag,
                        format!("{v} is not a positive number"),
                        "give a positive budget, or leave the flag out for no budget",
                    ));
                }
            }
        }
        Ok(())
    }

    /// Total normalised violation: Σ max(0, value / budget − 1). Zero means feasible.
    pub fn violation(&self, eval: &Evaluation) -> f64 {
        let over =
            |value: f64, budget: Option<f64>| budget.map_or(0.0, |b| (value / b - 1.0).max(0.0));
        let others: f64 = (eval.other_latency_ms.iter())
            .zip(self.other_latency_ms)
            .chain(eval.other_peak_mem_mb.iter().zip(self.other_memory_mb))
            .map(|(&v, b)| over(v, b))
            .sum();
        over(eval.latency_ms, self.latency_ms) + over(eval.peak_mem_mb, self.memory_mb) + others
    }

    pub fn is_feasible(&self, eval: &Evaluation) -> bool {
        self.violation(eval) == 0.0
    }

    /// The clear error for an empty feasible set, naming each budget and the best value seen.
    pub(crate) fn no_feasible_error<'a>(
        &self,
        evals: impl IntoIterator<Item = &'a Evaluation>,
    ) -> SearchError {
        let evals: Vec<&Evaluation> = evals.into_iter().collect();
        let min_of =
            |f: fn(&Evaluation) -> f64| evals.iter().map(|e| f(e)).fold(f64::INFINITY, f64::min);
        let mut unmet = Vec::new();
        let mut best = Vec::new();
        if let Some(b) = self.latency_ms {
            unmet.push(format!("--latency-budget-ms {b:?}"));
            best.push(format!(
                "fastest evaluated: {} ms",
                round3(min_of(|e| e.latency_ms))
            ));
        }
        let (u, b) = others(&evals, &self.other_latency_ms, |e| &e.other_latency_ms);
        unmet.extend(
            u.iter()
                .map(|(i, v)| format!("the latency budget of device {} ({v:?} ms)", i + 2)),
        );
        best.extend(
            b.iter()
                .map(|v| format!("fastest there: {} ms", round3(*v))),
        );
        if let Some(b) = self.memory_mb {
            unmet.push(format!("--memory-budget-mb {b:?}"));
            best.push(format!(
                "smallest peak memory evaluated: {} MB",
                round3(min_of(|e| e.peak_mem_mb))
            ));
        }
        let (u, b) = others(&evals, &self.other_memory_mb, |e| &e.other_peak_mem_mb);
        unmet.extend(
            u.iter()
                .map(|(i, v)| format!("the memory budget of dtype {} ({v:?} MB)", i + 2)),
        );
        best.extend(
            b.iter()
                .map(|v| format!("smallest there: {} MB", round3(*v))),
        );
        let message = if evals.is_empty() {
            "no architecture was evaluated, so none meets the budgets; check the space and the \
             search settings"
                .to_string()
        } else if unmet.is_empty() {
            "no architecture is feasible".to_string()
        } else {
            let what = if unmet.len() == 1 {
                "the budget"
            } else {
                "the budgets"
            };
            format!(
                "no architecture meets {} ({}; {} evaluated); raise {what}",
                unmet.join(" and "),
                best.join(", "),
                evals.len()
            )
        };
        SearchError::NoFeasible { message }
    }
}

/// The budgets set among a joint search's further devices (dtypes), as (index, budget), and
/// the smallest value evaluated under each.
fn others(
    evals: &[&Evaluation],
    budgets: &[Option<f64>; 2],
    values: fn(&Evaluation) -> &Vec<f64>,
) -> (Vec<(usize, f64)>, Vec<f64>) {
    let set: Vec<(usize, f64)> = (budgets.iter().enumerate())
        .filter_map(|(i, b)| b.map(|b| (i, b)))
        .collect();
    let smallest = (set.iter())
        .map(|&(i, _)| {
            (evals.iter())
                .filter_map(|e| values(e).get(i))
                .fold(f64::INFINITY, |a, &b| a.min(b))
        })
        .collect();
    (set, smallest)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Deb's constraint domination on (objectives, violation) pairs.
pub fn constrained_dominates(a: (&[f64], f64), b: (&[f64], f64)) -> bool {
    match (a.1 == 0.0, b.1 == 0.0) {
        (true, false) => true,
        (false, true) => false,
        (false, false) => a.1 < b.1,
        (true, true) => dominates(a.0, b.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(latency_ms: f64, peak_mem_mb: f64) -> Evaluation {
        Evaluation {
            score: None,
            latency_ms,
            latency_interval_ms: None,
            peak_mem_mb,
            params: 10,
            temporal_params: 1,
            other_latency_ms: Vec::new(),
            other_peak_mem_mb: Vec::new(),
        }
    }

    #[test]
    fn violation_is_normalised_and_summed() {
        let b = Budgets {
            latency_ms: Some(10.0),
            memory_mb: Some(100.0),
            other_latency_ms: [None; 2],
            other_memory_mb: [None; 2],
        };
        assert_eq!(b.violation(&eval(5.0, 50.0)), 0.0);
        assert!((b.violation(&eval(15.0, 150.0)) - 1.0).abs() < 1e-12);
        assert!(b.is_feasible(&eval(10.0, 100.0)));
    }

    #[test]
    fn feasible_beats_infeasible_and_smaller_violation_wins() {
        let good = [5.0, 5.0];
        let better = [1.0, 1.0];
        assert!(constrained_dominates((&good, 0.0), (&better, 0.1)));
        assert!(!constrained_dominates((&better, 0.1), (&good, 0.0)));
        assert!(constrained_dominates((&good, 0.1), (&better, 0.2)));
        assert!(constrained_dominates((&better, 0.0), (&good, 0.0)));
    }

    #[test]
    fn no_feasible_message_names_flag_and_best_value() {
        let b = Budgets {
            latency_ms: Some(3.0),
            memory_mb: None,
            other_latency_ms: [None; 2],
            other_memory_mb: [None; 2],
        };
        let e = [eval(5.2, 1.0), eval(7.0, 1.0)];
        let msg = b.no_feasible_error(&e).to_string();
        assert_eq!(
            msg,
            "no architecture meets --latency-budget-ms 3.0 (fastest evaluated: 5.2 ms; \
             2 evaluated); raise the budget"
        );
    }
}
