//! Choosing one architecture from a front (used by `vidnas export` and the report).
//!
//! The knee point: objectives are min–max normalised over the front; the hyperplane through
//! the front's extreme points (for each objective, the point best in it) is fitted — a line for
//! two objectives, a plane for three; the knee is the point farthest from it on the side of the
//! ideal point, i.e. where giving up a little in one objective buys the most in the others (Das
//! 1999; Zhang, Tian & Jin 2015). When the extremes do not span a hyperplane (a front of one or
//! two points, or an objective with no spread) or no point lies below it, the knee is the point
//! nearest the normalised ideal point instead.

use crate::error::SearchError;
use crate::mode::Mode;
use crate::pareto::objectives;
use crate::results::ResultRow;
use std::str::FromStr;

/// How to choose one architecture.
#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    /// The knee of the front (see the module docs).
    Knee,
    /// The fastest front architecture whose score is at most this.
    FastestUnderScore(f64),
    /// The best-scoring front architecture (predictor-only: the one with the most temporal
    /// parameters) whose latency is at most this many ms.
    BestUnderLatency(f64),
    /// By arch id (or canonical encoding).
    Id(String),
}

impl FromStr for Selector {
    type Err = SearchError;

    /// `knee`, `fastest-under-score:0.02`, `best-under-latency:12.5` or `id:<arch id>`.
    fn from_str(s: &str) -> Result<Self, SearchError> {
        let bad = || SearchError::Select {
            message: format!("--select `{s}` is not a selector"),
            fix: "use knee, fastest-under-score:<score>, best-under-latency:<ms> or id:<arch id> \
                  (numbers finite), e.g. --select best-under-latency:60"
                .into(),
        };
        let (kind, value) = s.split_once(':').unwrap_or((s, ""));
        let num = || {
            value
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(bad)
        };
        Ok(match kind {
            "knee" if value.is_empty() => Selector::Knee,
            "fastest-under-score" => Selector::FastestUnderScore(num()?),
            "best-under-latency" => Selector::BestUnderLatency(num()?),
            "id" if !value.is_empty() => Selector::Id(value.to_string()),
            _ => return Err(bad()),
        })
    }
}

fn mode_of(rows: &[ResultRow]) -> Mode {
    Mode::for_scorer(rows.iter().all(|r| r.eval.score.is_some()))
}

/// Picks one row of `front` (usually the feasible front; `Id` also works on all rows).
pub fn select<'a>(
    front: &'a [ResultRow],
    selector: &Selector,
) -> Result<&'a ResultRow, SearchError> {
    let err = |message: String, fix: &str| SearchError::Select {
        message,
        fix: fix.to_string(),
    };
    if front.is_empty() {
        return Err(err(
            "the front is empty".into(),
            "run the search (with looser budgets) first",
        ));
    }
    let by_latency = |a: &&ResultRow, b: &&ResultRow| {
        a.eval
            .latency_ms
            .total_cmp(&b.eval.latency_ms)
            .then(a.arch_id.cmp(&b.arch_id))
    };
    match selector {
        Selector::Knee => Ok(&front[knee_index(front).expect("front is not empty")]),
        Selector::FastestUnderScore(bound) => {
            if mode_of(front) != Mode::Score {
                return Err(err(
                    "the run has no scores (predictor-only)".into(),
                    "select by knee, best-under-latency or id, or run the search with a supernet",
                ));
            }
            let best = front
                .iter()
                .filter_map(|r| r.eval.score)
                .fold(f64::INFINITY, f64::min);
            front
                .iter()
                .filter(|r| r.eval.score.is_some_and(|s| s <= *bound))
                .min_by(by_latency)
                .ok_or_else(|| {
                    err(
                        format!("no front architecture has score <= {bound} (best: {best})"),
                        "raise the score bound",
                    )
                })
        }
        Selector::BestUnderLatency(ms) => {
            let fastest = front.iter().min_by(by_latency).expect("not empty");
            let under = front.iter().filter(|r| r.eval.latency_ms <= *ms);
            let pick = match mode_of(front) {
                Mode::Score => under.min_by(|a, b| {
                    a.eval
                        .score
                        .unwrap_or(f64::INFINITY)
                        .total_cmp(&b.eval.score.unwrap_or(f64::INFINITY))
                        .then(by_latency(a, b))
                }),
                Mode::PredictorOnly => under.min_by(|a, b| {
                    b.eval
                        .temporal_params
                        .cmp(&a.eval.temporal_params)
                        .then(by_latency(a, b))
                }),
            };
            pick.ok_or_else(|| {
                err(
                    format!(
                        "no front architecture runs within {ms} ms (fastest on the front: {} ms)",
                        fastest.eval.latency_ms
                    ),
                    "raise the latency bound",
                )
            })
        }
        Selector::Id(id) => front
            .iter()
            .find(|r| &r.arch_id == id || &r.arch.encode() == id)
            .ok_or_else(|| {
                let ids: Vec<&str> = front.iter().take(8).map(|r| r.arch_id.as_str()).collect();
                err(
                    format!("no architecture with id `{id}` among {} rows", front.len()),
                    &format!("use an id from front.csv (e.g. {})", ids.join(", ")),
                )
            }),
    }
}

/// Index of the knee point of `front` (see the module docs); `None` for an empty front.
pub fn knee_index(front: &[ResultRow]) -> Option<usize> {
    let mode = mode_of(front);
    let points: Vec<Vec<f64>> = front.iter().map(|r| objectives(&r.eval, mode)).collect();
    knee_of_points(&points)
}

/// The knee of a set of minimised objective vectors; ties go to the earlier point.
pub fn knee_of_points(points: &[Vec<f64>]) -> Option<usize> {
    let n = points.len();
    if n == 0 {
        return None;
    }
    let m = points[0].len();
    let lo: Vec<f64> = (0..m)
        .map(|k| points.iter().map(|p| p[k]).fold(f64::INFINITY, f64::min))
        .collect();
    let hi: Vec<f64> = (0..m)
        .map(|k| {
            points
                .iter()
                .map(|p| p[k])
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .collect();
    let norm: Vec<Vec<f64>> = points
        .iter()
        .map(|p| {
            (0..m)
                .map(|k| {
                    if hi[k] > lo[k] {
                        (p[k] - lo[k]) / (hi[k] - lo[k])
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    let argmax = |score: &dyn Fn(&[f64]) -> f64| {
        (0..n).fold(0, |best, i| {
            if score(&norm[i]) > score(&norm[best]) {
                i
            } else {
                best
            }
        })
    };
    let extremes: Vec<Vec<f64>> = (0..m)
        .map(|k| norm[argmax(&|p: &[f64]| -p[k])].clone())
        .collect();
    if let Some(w) = solve(extremes, vec![1.0; m]) {
        let len = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        let dist = |p: &[f64]| (1.0 - p.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>()) / len;
        let best = argmax(&dist);
        if dist(&norm[best]) > 1e-12 {
            return Some(best);
        }
    }
    Some(argmax(&|p: &[f64]| -p.iter().map(|x| x * x).sum::<f64>()))
}

/// Solves `a · x = b` by Gaussian elimination with partial pivoting; `None` when singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = a[col].clone();
        for row in (col + 1)..n {
            let f = a[row][col] / pivot_row[col];
            for (x, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = ((row + 1)..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knee_of_a_convex_2d_front_is_the_bulge() {
        let pts = vec![
            vec![0.0, 10.0],
            vec![1.0, 3.0],
            vec![3.0, 3.0],
            vec![10.0, 0.0],
        ];
        assert_eq!(knee_of_points(&pts), Some(1));
    }

    #[test]
    fn degenerate_fronts_fall_back_to_the_ideal_point() {
        assert_eq!(knee_of_points(&[vec![1.0, 2.0, 3.0]]), Some(0));
        assert_eq!(knee_of_points(&[vec![0.0, 1.0], vec![1.0, 0.0]]), Some(0));
    }

    #[test]
    fn selectors_parse() {
        assert_eq!("knee".parse::<Selector>().unwrap(), Selector::Knee);
        assert_eq!(
            "best-under-latency:12.5".parse::<Selector>().unwrap(),
            Selector::BestUnderLatency(12.5)
        );
        assert!("fastest".parse::<Selector>().is_err());
    }
}
