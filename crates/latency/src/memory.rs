//! Peak inference memory of a lowered network.
//!
//! Model: all weights stay resident; activations peak inside one op. While op `k` runs, the
//! live activations are
//!
//! ```text
//! live(k) = skip tensors held on the stack
//!         + input(k)   (not counted again when it is the skip tensor the previous op pushed)
//!         + output(k) + workspace(k)
//! ```
//!
//! An op that pops a skip concatenates it into its input, so the popped tensor counts as part
//! of `input(k)` and no longer as held; an op that pushes does so after it ran, so its output
//! is counted once, as output. Small persistent tensors (the timestep embedding and the text
//! context) are not counted.
//!
//! `peak_mem = weights + max_k live(k)`, in the table's dtype.
//!
//! Counts saturate at `u64::MAX` instead of wrapping (a space with absurd sizes); the predictors
//! refuse a saturated figure rather than print it.

use crate::lower::LoweredOp;

/// Live activation elements while each op runs (same order as `ops`).
pub fn live_elems(ops: &[LoweredOp]) -> Vec<u64> {
    let mut stack: Vec<u64> = Vec::new();
    let mut held = 0u64;
    let mut prev_pushed = false;
    ops.iter()
        .map(|op| {
            if op.pops_skip {
                held = held.saturating_sub(stack.pop().unwrap_or(0));
            }
            let input = if prev_pushed && !op.pops_skip {
                0
            } else {
                op.input_elems
            };
            let live = held
                .saturating_add(input)
                .saturating_add(op.output_elems)
                .saturating_add(op.workspace_elems);
            if op.pushes_skip {
                stack.push(op.output_elems);
                held = held.saturating_add(op.output_elems);
            }
            prev_pushed = op.pushes_skip;
            live
        })
        .collect()
}

/// Weights, peak activations and their sum, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryEstimate {
    pub weight_bytes: u64,
    pub peak_activation_bytes: u64,
    pub peak_mem_bytes: u64,
    /// Index (into the lowered ops) of the op where activations peak.
    pub peak_op: usize,
    pub params: u64,
}

/// Applies the model above with `dtype_bytes` bytes per element.
pub fn estimate(ops: &[LoweredOp], dtype_bytes: u64) -> MemoryEstimate {
    let live = live_elems(ops);
    let (peak_op, peak) = live
        .iter()
        .copied()
        .enumerate()
        // Earliest op on ties.
        .fold(
            (0, 0),
            |best, (i, x)| if x > best.1 { (i, x) } else { best },
        );
    let params = ops.iter().fold(0u64, |a, op| a.saturating_add(op.params));
    let weight_bytes = params.saturating_mul(dtype_bytes);
    let peak_activation_bytes = peak.saturating_mul(dtype_bytes);
    MemoryEstimate {
        weight_bytes,
        peak_activation_bytes,
        peak_mem_bytes: weight_bytes.saturating_add(peak_activation_bytes),
        peak_op,
        params,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::OpClass;

    fn op(input: u64, output: u64, workspace: u64, push: bool, pop: bool) -> LoweredOp {
        LoweredOp {
            name: String::new(),
            slot: None,
            signature: String::new(),
            op_kind: OpClass::Resnet,
            params: 1,
            input_elems: input,
            output_elems: output,
            workspace_elems: workspace,
            pushes_skip: push,
            pops_skip: pop,
        }
    }

    #[test]
    fn pushed_input_is_counted_once_and_pops_release() {
        let ops = [
            op(10, 20, 0, true, false),  // 10 + 20
            op(20, 30, 5, true, false),  // held 20 (= its input) + 30 + 5
            op(30, 30, 0, false, false), // held 50 + 0 (its input is the top skip) + 30
            op(60, 10, 1, false, true),  // pops 30 -> held 20 + 60 + 10 + 1
            op(30, 10, 0, false, true),  // pops 20 -> held 0 + 30 + 10
        ];
        assert_eq!(live_elems(&ops), vec![30, 55, 80, 91, 40]);
        let m = estimate(&ops, 2);
        assert_eq!(m.peak_op, 3);
        assert_eq!(m.peak_activation_bytes, 182);
        assert_eq!(m.weight_bytes, 10);
        assert_eq!(m.peak_mem_bytes, 192);
    }
}
