//! Pareto machinery, all for minimisation of `Vec<f64>` objective vectors: dominance, Deb's fast
//! non-dominated sorting, crowding distance, and the objectives a search ranks on.

use crate::evaluator::Evaluation;
use crate::mode::Mode;
use std::cmp::Ordering;

/// The minimised objective vector of one evaluation: the device latencies sit where
/// `latency_ms` sits, in device order, and the dtypes' peak memories where `peak_mem_mb` sits
/// (names: [`crate::Joint::objective_names`]).
pub fn objectives(eval: &Evaluation, mode: Mode) -> Vec<f64> {
    let latencies = std::iter::once(eval.latency_ms).chain(eval.other_latency_ms.iter().copied());
    let memories = std::iter::once(eval.peak_mem_mb).chain(eval.other_peak_mem_mb.iter().copied());
    match mode {
        Mode::Score => std::iter::once(eval.score.unwrap_or(f64::INFINITY))
            .chain(latencies)
            .chain(memories)
            .collect(),
        Mode::PredictorOnly => latencies
            .chain(memories)
            .chain([-(eval.temporal_params as f64)])
            .collect(),
    }
}

/// `a` Pareto-dominates `b`: no worse in every objective and better in at least one.
pub fn dominates(a: &[f64], b: &[f64]) -> bool {
    let mut better = false;
    for (x, y) in a.iter().zip(b) {
        if x > y {
            return false;
        }
        if x < y {
            better = true;
        }
    }
    better
}

/// Deb's fast non-dominated sort over `n` items under any strict dominance relation.
/// Returns the fronts, best first; indices within a front are ascending.
pub fn non_dominated_sort_by(
    n: usize,
    dominates: impl Fn(usize, usize) -> bool,
) -> Vec<Vec<usize>> {
    let mut dominated_by_me: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut count = vec![0usize; n];
    for i in 0..n {
        for j in (i + 1)..n {
            if dominates(i, j) {
                dominated_by_me[i].push(j);
                count[j] += 1;
            } else if dominates(j, i) {
                dominated_by_me[j].push(i);
                count[i] += 1;
            }
        }
    }
    let mut fronts = Vec::new();
    let mut current: Vec<usize> = (0..n).filter(|&i| count[i] == 0).collect();
    while !current.is_empty() {
        let mut next = Vec::new();
        for &i in &current {
            for &j in &dominated_by_me[i] {
                count[j] -= 1;
                if count[j] == 0 {
                    next.push(j);
                }
            }
        }
        next.sort_unstable();
        fronts.push(std::mem::replace(&mut current, next));
    }
    fronts
}

/// Fast non-dominated sort of objective vectors (plain Pareto dominance).
pub fn non_dominated_sort(points: &[Vec<f64>]) -> Vec<Vec<usize>> {
    non_dominated_sort_by(points.len(), |i, j| dominates(&points[i], &points[j]))
}

/// Indices of the non-dominated points (the first front), ascending. Equal points are all kept.
/// Sort-and-filter: O(n log n + n·f) for a front of size f, so large result sets stay cheap.
pub fn non_dominated(points: &[Vec<f64>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..points.len()).collect();
    order.sort_by(|&a, &b| lex_cmp(&points[a], &points[b]).then(a.cmp(&b)));
    let mut front: Vec<usize> = Vec::new();
    for i in order {
        // Anything that could dominate `i` sorts before it, so the kept set suffices.
        if !front.iter().any(|&f| dominates(&points[f], &points[i])) {
            front.push(i);
        }
    }
    front.sort_unstable();
    front
}

/// Lexicographic total order on objective vectors.
pub(crate) fn lex_cmp(a: &[f64], b: &[f64]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| x.total_cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or(Ordering::Equal)
}

/// Crowding distance of each member of one front (`front` indexes `points`), in `front` order.
/// Boundary points of every objective get `f64::INFINITY`; an objective with no spread adds 0.
// `k` indexes an objective inside every point, not `points` itself.
#[allow(clippy::needless_range_loop)]
pub fn crowding_distance(points: &[Vec<f64>], front: &[usize]) -> Vec<f64> {
    let n = front.len();
    let mut dist = vec![0.0; n];
    if n == 0 {
        return dist;
    }
    let m = points[front[0]].len();
    for k in 0..m {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| {
            points[front[a]][k]
                .total_cmp(&points[front[b]][k])
                .then(a.cmp(&b))
        });
        let lo = points[front[order[0]]][k];
        let hi = points[front[order[n - 1]]][k];
        dist[order[0]] = f64::INFINITY;
        dist[order[n - 1]] = f64::INFINITY;
        if hi - lo <= 0.0 {
            continue;
        }
        for w in 1..n.saturating_sub(1) {
            let prev = points[front[order[w - 1]]][k];
            let next = points[front[order[w + 1]]][k];
            dist[order[w]] += (next - prev) / (hi - lo);
        }
    }
    dist
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dominance_is_strict() {
        assert!(dominates(&[1.0, 2.0], &[1.0, 3.0]));
        assert!(!dominates(&[1.0, 2.0], &[1.0, 2.0]));
        assert!(!dominates(&[1.0, 3.0], &[2.0, 2.0]));
    }

    #[test]
    fn lex_order_is_total() {
        assert_eq!(lex_cmp(&[1.0, 2.0], &[1.0, 3.0]), Ordering::Less);
        assert_eq!(lex_cmp(&[1.0, 2.0], &[1.0, 2.0]), Ordering::Equal);
    }
}
