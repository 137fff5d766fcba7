//! The payoff study's pairing: for each hand-designed baseline, its searched counterpart is
//! the front architecture with the best (lowest) supernet score among those predicted at most
//! as slow as the baseline, on the search's own latency table.

use crate::results::ResultRow;

/// Index into `front` of each baseline's counterpart (`None`: no front architecture is
/// predicted as fast as the baseline). `baseline_ms` are the baselines' predicted latencies.
/// Ties in score go to the faster architecture, then to the earlier row.
pub fn counterparts(front: &[ResultRow], baseline_ms: &[f64]) -> Vec<Option<usize>> {
    baseline_ms
        .iter()
        .map(|&limit| {
            front
                .iter()
                .enumerate()
                .filter(|(_, r)| r.eval.latency_ms <= limit)
                .filter_map(|(i, r)| r.eval.score.map(|s| (i, s, r.eval.latency_ms)))
                .min_by(|a, b| {
                    a.1.total_cmp(&b.1)
                        .then(a.2.total_cmp(&b.2))
                        .then(a.0.cmp(&b.0))
                })
                .map(|(i, _, _)| i)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Evaluation;
    use vidnas_space::{Architecture, OpKind};

    fn row(score: f64, latency_ms: f64) -> ResultRow {
        let arch = Architecture {
            ops: vec![OpKind::Conv1d],
        };
        ResultRow {
            arch_id: arch.id(),
            arch,
            generation: 0,
            eval: Evaluation {
                score: Some(score),
                latency_ms,
                latency_interval_ms: None,
                peak_mem_mb: 1.0,
                params: 1,
                temporal_params: 1,
                other_latency_ms: Vec::new(),
                other_peak_mem_mb: Vec::new(),
            },
            feasible: true,
        }
    }

    #[test]
    fn the_best_score_at_most_as_slow_is_chosen() {
        // A front sorted by latency: faster ones score worse.
        let front = [row(0.30, 10.0), row(0.20, 20.0), row(0.10, 30.0)];
        assert_eq!(
            counterparts(&front, &[5.0, 10.0, 25.0, 30.0, 99.0]),
            [None, Some(0), Some(1), Some(2), Some(2)]
        );
        // Equal scores: the faster one.
        let tied = [row(0.1, 12.0), row(0.1, 11.0)];
        assert_eq!(counterparts(&tied, &[20.0]), [Some(1)]);
    }
}
