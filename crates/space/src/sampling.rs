//! Lazy enumeration, mutation and crossover of architectures (counting and uniform sampling
//! are in `count.rs`).

use crate::arch::Architecture;
use crate::ops::OpKind;
use crate::space::Space;
use rand::seq::SliceRandom;
use rand::Rng;

impl Space {
    /// Lazily enumerates every valid architecture in mixed-radix order (slot 0 varies slowest).
    pub fn enumerate(&self) -> Enumerate<'_> {
        Enumerate {
            space: self,
            digits: Some(vec![0; self.slots.len()]),
        }
    }

    /// Changes each slot with probability `rate` to another allowed op, and at least one slot
    /// when any slot has a choice; the result is repaired to satisfy the constraints.
    pub fn mutate<R: Rng + ?Sized>(
        &self,
        arch: &Architecture,
        rate: f64,
        rng: &mut R,
    ) -> Architecture {
        let choosable: Vec<usize> = (0..arch.ops.len())
            .filter(|&i| self.slots[i].allowed.len() > 1)
            .collect();
        // Repair can undo a change at the constraint boundary; retry so the child differs.
        let mut child = arch.clone();
        for _ in 0..32 {
            let mut ops = arch.ops.clone();
            let mut changed = false;
            for &i in &choosable {
                if rng.gen_bool(rate.clamp(0.0, 1.0)) {
                    ops[i] = self.other_op(i, ops[i], rng);
                    changed = true;
                }
            }
            if !changed {
                if let Some(&i) = choosable.choose(rng) {
                    ops[i] = self.other_op(i, ops[i], rng);
                }
            }
            child = self.repair(Architecture { ops }, rng);
            if child != *arch {
                break;
            }
        }
        child
    }

    /// Uniform crossover: each slot comes from either parent with probability ½; repaired.
    pub fn crossover<R: Rng + ?Sized>(
        &self,
        a: &Architecture,
        b: &Architecture,
        rng: &mut R,
    ) -> Architecture {
        let ops = a
            .ops
            .iter()
            .zip(&b.ops)
            .map(|(&x, &y)| if rng.gen_bool(0.5) { x } else { y })
            .collect();
        self.repair(Architecture { ops }, rng)
    }

    fn other_op<R: Rng + ?Sized>(&self, slot: usize, current: OpKind, rng: &mut R) -> OpKind {
        let others: Vec<OpKind> = self.slots[slot]
            .allowed
            .iter()
            .copied()
            .filter(|&o| o != current)
            .collect();
        *others.choose(rng).unwrap_or(&current)
    }

    /// Adds or removes temporal layers at random slots until the count is within bounds.
    pub fn repair<R: Rng + ?Sized>(&self, mut arch: Architecture, rng: &mut R) -> Architecture {
        let (min, max) = self.temporal_layer_bounds();
        while arch.temporal_layers() < min {
            let candidates: Vec<usize> = (0..arch.ops.len())
                .filter(|&i| {
                    !arch.ops[i].is_temporal()
                        && self.slots[i].allowed.iter().any(|o| o.is_temporal())
                })
                .collect();
            let &i = candidates
                .choose(rng)
                .expect("validated: enough capable slots");
            let temporal: Vec<OpKind> = self.slots[i]
                .allowed
                .iter()
                .copied()
                .filter(|o| o.is_temporal())
                .collect();
            arch.ops[i] = *temporal.choose(rng).expect("capable slot");
        }
        while arch.temporal_layers() > max {
            let candidates: Vec<usize> = (0..arch.ops.len())
                .filter(|&i| arch.ops[i].is_temporal() && self.slots[i].allows(OpKind::None))
                .collect();
            let &i = candidates
                .choose(rng)
                .expect("validated: enough slots allow none");
            arch.ops[i] = OpKind::None;
        }
        arch
    }
}

/// Iterator over all valid architectures of a space; see [`Space::enumerate`].
pub struct Enumerate<'a> {
    space: &'a Space,
    /// Index into each slot's allowed list; `None` when exhausted.
    digits: Option<Vec<usize>>,
}

impl Iterator for Enumerate<'_> {
    type Item = Architecture;

    fn next(&mut self) -> Option<Architecture> {
        let (min, max) = self.space.temporal_layer_bounds();
        loop {
            let digits = self.digits.as_mut()?;
            let ops: Vec<OpKind> = digits
                .iter()
                .zip(&self.space.slots)
                .map(|(&d, s)| s.allowed[d])
                .collect();
            // Advance the mixed-radix counter (last slot fastest).
            let mut i = digits.len();
            loop {
                if i == 0 {
                    self.digits = None;
                    break;
                }
                i -= 1;
                digits[i] += 1;
                if digits[i] < self.space.slots[i].allowed.len() {
                    break;
                }
                digits[i] = 0;
            }
            let arch = Architecture { ops };
            if (min..=max).contains(&arch.temporal_layers()) {
                return Some(arch);
            }
        }
    }
}
