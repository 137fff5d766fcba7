//! Correction of per-op sums from whole-network measurements (nn-Meter's lesson: kernel fusion
//! and framework overhead make naive sums drift).
//!
//! Model: `total = overhead_ms + Σ_kind scale_kind · (Σ ms of that kind's ops)`, with the kinds
//! of [`OpClass::ALL`]. Fitted by non-negative least squares in two stages:
//!
//! 1. a global fit `total = overhead + g · Σ ms` (when every network has the same sum, the
//!    system is singular and the fit is the ratio `Σ measured / Σ predicted`, no overhead);
//! 2. a per-kind fit with a small ridge pulling every scale towards `g`, so kinds that never
//!    vary (the backbone's, constant across one space) keep `g` and the overhead absorbs the
//!    rest. Kinds absent from every row keep `g`. If this system cannot be solved the global
//!    fit is used.

use crate::error::{show_num, LatencyError};
use crate::lower::LoweredOp;
use crate::signature::OpClass;
use crate::table::MAX_MS;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The largest factor a stored correction or interval may apply to summed op times: a factor
/// of 10^4 means the table and the whole-network measurements are of different devices or
/// shapes, and the bound keeps every corrected sum finite.
pub const MAX_SCALE: f64 = 1e4;

/// Relative ridge strength of the per-kind fit (times each column's squared norm).
const RIDGE: f64 = 1e-3;

/// Which stage of the fit produced a correction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FitMethod {
    /// One scale for every kind (or no fit: the identity).
    Global,
    /// One scale per kind present in the data.
    PerKind,
}

/// A fitted correction, stored in the table's `correction` field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Correction {
    /// Fixed cost of one forward, in ms.
    pub overhead_ms: f64,
    /// Scale of every kind missing from `scales`.
    pub global_scale: f64,
    /// Scale per op kind (signature kind names: `resnet`, `attn1d`, …).
    #[serde(default)]
    pub scales: BTreeMap<String, f64>,
    /// Whole-network measurements the fit used.
    pub rows: usize,
    pub method: FitMethod,
}

impl Correction {
    /// No correction: total = Σ op ms.
    pub fn identity() -> Self {
        Self {
            overhead_ms: 0.0,
            global_scale: 1.0,
            scales: BTreeMap::new(),
            rows: 0,
            method: FitMethod::Global,
        }
    }

    /// The bounds every stored correction meets: `overhead_ms` in `[0, MAX_MS]`, every scale
    /// in `(0, MAX_SCALE]` (a negative overhead or a zero scale would let some architectures
    /// cost nothing; a huge one would overflow the corrected sum). `Err((field, message))`
    /// names the first value out of range.
    pub fn check(&self) -> Result<(), (String, String)> {
        if !(self.overhead_ms.is_finite() && (0.0..=MAX_MS).contains(&self.overhead_ms)) {
            return Err((
                "overhead_ms".into(),
                format!(
                    "{} is out of range; the valid range is 0 <= overhead_ms <= {MAX_MS} \
                     (milliseconds)",
                    show_num(self.overhead_ms)
                ),
            ));
        }
        let scales = std::iter::once(("global_scale".to_string(), self.global_scale)).chain(
            self.scales
                .iter()
                .map(|(kind, &v)| (format!("scales.{kind}"), v)),
        );
        for (field, value) in scales {
            if !(value.is_finite() && value > 0.0 && value <= MAX_SCALE) {
                return Err((
                    field.clone(),
                    format!(
                        "{} is out of range; the valid range is 0 < {field} <= {MAX_SCALE} \
                         (a factor on the summed op times)",
                        show_num(value)
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn scale(&self, class: OpClass) -> f64 {
        self.scales
            .get(class.name())
            .copied()
            .unwrap_or(self.global_scale)
    }

    /// Corrected total from per-kind op-ms sums indexed like [`OpClass::ALL`].
    pub fn apply(&self, kind_ms: &[f64]) -> f64 {
        self.overhead_ms
            + OpClass::ALL
                .iter()
                .zip(kind_ms)
                .map(|(&c, &ms)| self.scale(c) * ms)
                .sum::<f64>()
    }

    /// Fits a correction to rows of (per-kind op-ms sums indexed like [`OpClass::ALL`],
    /// measured whole-network ms).
    pub fn fit(rows: &[(Vec<f64>, f64)]) -> Result<Correction, LatencyError> {
        let data_err = |message: String| LatencyError::Data {
            what: "correction fit".into(),
            message,
        };
        if rows.is_empty() {
            return Err(data_err(
                "no whole-network measurements; measure some networks first".into(),
            ));
        }
        for (i, (x, y)) in rows.iter().enumerate() {
            if x.len() != OpClass::COUNT {
                return Err(data_err(format!(
                    "row {i} has {} per-kind sums, expected {} (one per op kind)",
                    x.len(),
                    OpClass::COUNT
                )));
            }
            if x.iter().any(|v| !v.is_finite() || *v < 0.0) || !y.is_finite() || *y <= 0.0 {
                return Err(data_err(format!(
                    "row {i} holds a negative, zero or non-finite time; drop failed measurements"
                )));
            }
        }
        let (overhead, g) = fit_global(rows).ok_or_else(|| {
            data_err("every predicted sum is zero; the table's entries are all 0 ms".into())
        })?;
        let global = Correction {
            overhead_ms: overhead,
            global_scale: g,
            scales: BTreeMap::new(),
            rows: rows.len(),
            method: FitMethod::Global,
        };
        Ok(fit_per_kind(rows, g).unwrap_or(global))
    }
}

/// Per-kind op-ms sums (indexed like [`OpClass::ALL`]) of (op, ms) pairs.
pub fn kind_sums<'a>(ops: impl IntoIterator<Item = (&'a LoweredOp, f64)>) -> Vec<f64> {
    let mut sums = vec![0.0; OpClass::COUNT];
    for (op, ms) in ops {
        sums[op.op_kind.index()] += ms;
    }
    sums
}

/// `y = o + g·s` with `s` the row sums; `None` when every sum is zero.
fn fit_global(rows: &[(Vec<f64>, f64)]) -> Option<(f64, f64)> {
    let n = rows.len() as f64;
    let s: Vec<f64> = rows.iter().map(|(x, _)| x.iter().sum()).collect();
    let y: Vec<f64> = rows.iter().map(|(_, y)| *y).collect();
    let (ss, sy) = (s.iter().sum::<f64>(), y.iter().sum::<f64>());
    if ss <= 0.0 {
        return None;
    }
    let mean = ss / n;
    let var = s.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    if rows.len() < 2 || var <= 1e-12 * mean * mean {
        return Some((0.0, sy / ss));
    }
    let s2: f64 = s.iter().map(|v| v * v).sum();
    let s_y: f64 = s.iter().zip(&y).map(|(a, b)| a * b).sum();
    let a = vec![vec![n, ss], vec![ss, s2]];
    let x = nnls(&a, &[sy, s_y])?;
    Some((x[0], x[1]))
}

/// Per-kind scales with a ridge towards `g`; `None` if the system cannot be solved.
fn fit_per_kind(rows: &[(Vec<f64>, f64)], g: f64) -> Option<Correction> {
    let active: Vec<usize> = (0..OpClass::COUNT)
        .filter(|&k| rows.iter().any(|(x, _)| x[k] > 0.0))
        .collect();
    let m = active.len() + 1;
    // Design columns: [1, x_k for active k].
    let mut a = vec![vec![0.0; m]; m];
    let mut b = vec![0.0; m];
    for (x, y) in rows {
        let d: Vec<f64> = std::iter::once(1.0)
            .chain(active.iter().map(|&k| x[k]))
            .collect();
        for ((a_row, b_i), &d_i) in a.iter_mut().zip(b.iter_mut()).zip(&d) {
            *b_i += d_i * y;
            for (a_ij, &d_j) in a_row.iter_mut().zip(&d) {
                *a_ij += d_i * d_j;
            }
        }
    }
    for j in 1..m {
        let lambda = RIDGE * a[j][j];
        a[j][j] += lambda;
        b[j] += lambda * g;
    }
    let sol = nnls(&a, &b)?;
    let scales = active
        .iter()
        .enumerate()
        .map(|(i, &k)| (OpClass::ALL[k].name().to_string(), sol[i + 1]))
        .collect();
    Some(Correction {
        overhead_ms: sol[0],
        global_scale: g,
        scales,
        rows: rows.len(),
        method: FitMethod::PerKind,
    })
}

/// Non-negative least squares on the normal equations: minimises `½xᵀAx − bᵀx` subject to
/// `x ≥ 0` (Lawson–Hanson active set). `None` if a sub-system is singular.
fn nnls(a: &[Vec<f64>], b: &[f64]) -> Option<Vec<f64>> {
    let m = b.len();
    let tol = 1e-12 * b.iter().fold(1.0f64, |acc, v| acc.max(v.abs()));
    let mut x = vec![0.0; m];
    let mut passive = vec![false; m];
    for _ in 0..3 * m + 3 {
        let w: Vec<f64> = (0..m)
            .map(|i| b[i] - (0..m).map(|j| a[i][j] * x[j]).sum::<f64>())
            .collect();
        let Some(j) = (0..m)
            .filter(|&j| !passive[j] && w[j] > tol)
            .max_by(|&p, &q| w[p].total_cmp(&w[q]))
        else {
            break;
        };
        passive[j] = true;
        loop {
            let idx: Vec<usize> = (0..m).filter(|&i| passive[i]).collect();
            let sub_a: Vec<Vec<f64>> = idx
                .iter()
                .map(|&i| idx.iter().map(|&k| a[i][k]).collect())
                .collect();
            let sub_b: Vec<f64> = idx.iter().map(|&i| b[i]).collect();
            let z_sub = solve(sub_a, sub_b)?;
            let mut z = vec![0.0; m];
            for (&i, &v) in idx.iter().zip(&z_sub) {
                z[i] = v;
            }
            if idx.iter().all(|&i| z[i] > 0.0) {
                x = z;
                break;
            }
            let alpha = idx
                .iter()
                .filter(|&&i| z[i] <= 0.0)
                .map(|&i| x[i] / (x[i] - z[i]))
                .fold(f64::INFINITY, f64::min);
            for i in 0..m {
                x[i] += alpha * (z[i] - x[i]);
                if passive[i] && x[i] <= 1e-15 {
                    passive[i] = false;
                    x[i] = 0.0;
                }
            }
            if !passive.iter().any(|&p| p) {
                break;
            }
        }
    }
    Some(x)
}

/// Gaussian elimination with partial pivoting; `None` when singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    let scale = (0..n).fold(0.0f64, |acc, i| acc.max(a[i][i].abs()));
    for col in 0..n {
        let pivot = (col..n).max_by(|&p, &q| a[p][col].abs().total_cmp(&a[q][col].abs()))?;
        if a[pivot][col].abs() <= 1e-13 * scale {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, below) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (offset, row) in below.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (r, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *r -= f * p;
            }
            b[col + 1 + offset] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nnls_clamps_a_negative_solution() {
        // Unconstrained minimum of ½(x0²+x1²) − (2·x0 − 1·x1) is (2, −1); constrained (2, 0).
        let a = vec![vec![1.0, 0.0], vec![0.0, 1.0]];
        let x = nnls(&a, &[2.0, -1.0]).unwrap();
        assert!((x[0] - 2.0).abs() < 1e-12 && x[1] == 0.0, "{x:?}");
    }

    #[test]
    fn solve_detects_singular_systems() {
        assert!(solve(vec![vec![1.0, 2.0], vec![2.0, 4.0]], vec![1.0, 2.0]).is_none());
        let x = solve(vec![vec![2.0, 1.0], vec![1.0, 3.0]], vec![3.0, 5.0]).unwrap();
        assert!((x[0] - 0.8).abs() < 1e-12 && (x[1] - 1.4).abs() < 1e-12);
    }
}
