//! Exact counting and exactly uniform sampling with big integers, for spaces of any size.
//!
//! Constraints only bound the number of temporal layers, so the valid set factorises per slot
//! once that count is tracked: counts come from the polynomial ∏ (z_i + t_i·x) where z_i is 1
//! when slot i allows `none` and t_i is its number of temporal ops. Its coefficients outgrow
//! `u128` past about 55 slots, hence [`BigUint`].

use crate::arch::Architecture;
use crate::ops::OpKind;
use crate::slots::Slot;
use crate::space::Space;
use num_bigint::{BigUint, RandBigInt};
use rand::Rng;

/// Multiplies `poly` (coefficient k = ways with k temporal layers) by one slot's factor.
fn times_slot(poly: &[BigUint], slot: &Slot) -> Vec<BigUint> {
    let z = u32::from(slot.allows(OpKind::None));
    let t = slot.allowed.iter().filter(|o| o.is_temporal()).count() as u32;
    let mut next = vec![BigUint::ZERO; poly.len() + 1];
    for (k, c) in poly.iter().enumerate() {
        if z == 1 {
            next[k] += c;
        }
        if t > 0 {
            next[k + 1] += c * t;
        }
    }
    next
}

/// Running sums: `out[k]` = Σ_{j<k} poly[j], so any range of layer counts costs one subtraction.
fn running_sums(poly: &[BigUint]) -> Vec<BigUint> {
    let mut out = Vec::with_capacity(poly.len() + 1);
    let mut acc = BigUint::ZERO;
    out.push(acc.clone());
    for c in poly {
        acc += c;
        out.push(acc.clone());
    }
    out
}

/// Σ poly[k] over `min <= have + k <= max`, read from running sums.
fn within_bounds(sums: &[BigUint], have: usize, (min, max): (usize, usize)) -> BigUint {
    if have > max {
        return BigUint::ZERO;
    }
    let lo = min.saturating_sub(have).min(sums.len() - 1);
    let hi = (max - have).saturating_add(1).min(sums.len() - 1);
    if lo >= hi {
        return BigUint::ZERO;
    }
    &sums[hi] - &sums[lo]
}

/// Precomputed exact weights for drawing many architectures uniformly; see [`Space::sampler`].
#[derive(Debug, Clone)]
pub struct Sampler<'a> {
    space: &'a Space,
    bounds: (usize, usize),
    /// `sums[i]`: running sums of the layer-count polynomial of slots `i..`.
    sums: Vec<Vec<BigUint>>,
}

impl Sampler<'_> {
    /// Exact number of valid architectures.
    pub fn count(&self) -> BigUint {
        within_bounds(&self.sums[0], 0, self.bounds)
    }

    /// Draws an architecture with probability exactly 1 / [`Space::count`].
    ///
    /// Slot by slot, each allowed op is picked with weight equal to the number of valid
    /// completions it leaves, so every architecture's probability is the product of exact ratios.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Architecture {
        let slots = &self.space.slots;
        let mut ops = Vec::with_capacity(slots.len());
        let mut have = 0;
        for (i, slot) in slots.iter().enumerate() {
            // Every temporal op leaves the same completions, so two weights cover the slot.
            let rest = &self.sums[i + 1];
            let none = within_bounds(rest, have, self.bounds);
            let temporal = within_bounds(rest, have + 1, self.bounds);
            let op = pick(&slot.allowed, &none, &temporal, rng);
            have += usize::from(op.is_temporal());
            ops.push(op);
        }
        Architecture { ops }
    }
}

/// One of `allowed`, each with probability (its weight) / (sum of weights), exactly; `none`
/// weighs `none`, every temporal op `temporal`.
fn pick<R: Rng + ?Sized>(
    allowed: &[OpKind],
    none: &BigUint,
    temporal: &BigUint,
    rng: &mut R,
) -> OpKind {
    let weight = |o: &OpKind| if o.is_temporal() { temporal } else { none };
    let temporal_ops = allowed.iter().filter(|o| o.is_temporal()).count();
    let mut total = temporal * temporal_ops as u32;
    if allowed.contains(&OpKind::None) {
        total += none;
    }
    assert!(
        total > BigUint::ZERO,
        "validated spaces always have a valid completion"
    );
    // A total that fits in u128 is drawn exactly as before big integers were used (the same
    // `gen_range` call, the same walk), so fixed seeds reproduce earlier samples. Both
    // branches are exact: `gen_range` and `gen_biguint_below` reject out-of-range draws.
    if let Ok(total) = u128::try_from(&total) {
        let mut r = rng.gen_range(0..total);
        for o in allowed {
            let w = u128::try_from(weight(o)).expect("a weight is at most the total");
            if r < w {
                return *o;
            }
            r -= w;
        }
    } else {
        let mut r = rng.gen_biguint_below(&total);
        for o in allowed {
            let w = weight(o);
            if r < *w {
                return *o;
            }
            r -= w;
        }
    }
    unreachable!("the draw is below the sum of the weights")
}

impl Space {
    /// Exact number of valid architectures (any size: 364 slots give ~250 decimal digits).
    pub fn count(&self) -> BigUint {
        let poly = self
            .slots
            .iter()
            .fold(vec![BigUint::from(1u32)], |p, s| times_slot(&p, s));
        within_bounds(&running_sums(&poly), 0, self.temporal_layer_bounds())
    }

    /// [`Space::count`] as a `u128`, or `None` when it does not fit.
    pub fn count_u128(&self) -> Option<u128> {
        u128::try_from(&self.count()).ok()
    }

    /// Exact weights for many uniform draws; costs O(slots²) big-integer additions once.
    pub fn sampler(&self) -> Sampler<'_> {
        let n = self.slots.len();
        let mut sums = vec![Vec::new(); n + 1];
        let mut poly = vec![BigUint::from(1u32)];
        sums[n] = running_sums(&poly);
        for i in (0..n).rev() {
            poly = times_slot(&poly, &self.slots[i]);
            sums[i] = running_sums(&poly);
        }
        Sampler {
            space: self,
            bounds: self.temporal_layer_bounds(),
            sums,
        }
    }

    /// Draws an architecture uniformly from all valid ones (exactly; see [`Sampler::sample`]).
    /// Each call costs O(slots²) big-integer additions; for many draws build
    /// [`Space::sampler`] once.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Architecture {
        self.sampler().sample(rng)
    }
}
