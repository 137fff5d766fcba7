//! A region of a space: the architectures holding given ops at given slots. Few-shot supernets
//! train one region each; sampling inside a region uses the space with those slots narrowed.

use crate::arch::Architecture;
use crate::error::SpaceError;
use crate::ops::OpKind;
use crate::space::Space;

impl Space {
    /// This space with slot `i` allowing only `op`, for every `(i, op)` of `fixed`. Keeps the
    /// hash and path: it describes the same networks and weights, only fewer of them. Refuses
    /// a slot the space lacks, an op the slot does not allow, and a region with no valid
    /// architecture (naming the slots).
    pub fn narrowed(&self, fixed: &[(usize, OpKind)]) -> Result<Space, SpaceError> {
        let mut narrow = self.clone();
        for &(i, op) in fixed {
            let Some(slot) = narrow.slots.get_mut(i) else {
                return Err(SpaceError::Arch {
                    arch: describe(fixed),
                    space: self.path.clone(),
                    message: format!(
                        "slot {i} does not exist: space `{}` has {} slots (0 to {})",
                        self.name(),
                        self.num_slots(),
                        self.num_slots().saturating_sub(1)
                    ),
                });
            };
            if !slot.allows(op) {
                let allowed: Vec<&str> = slot.allowed.iter().map(|o| o.as_str()).collect();
                return Err(SpaceError::Arch {
                    arch: describe(fixed),
                    space: self.path.clone(),
                    message: format!(
                        "slot {i} (`{}`) does not allow `{op}`; allowed there: {}",
                        slot.name,
                        allowed.join(", ")
                    ),
                });
            }
            slot.allowed = vec![op];
        }
        if narrow.count() == num_bigint::BigUint::from(0u32) {
            let (min, max) = self.temporal_layer_bounds();
            return Err(SpaceError::Arch {
                arch: describe(fixed),
                space: self.path.clone(),
                message: format!(
                    "no architecture of space `{}` holds these ops at slot(s) {} within {min} to {max} temporal layers; split at other slots",
                    self.name(),
                    fixed
                        .iter()
                        .map(|(i, _)| format!("{i} (`{}`)", self.slots[*i].name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        Ok(narrow)
    }

    /// Whether `arch` holds `fixed`'s op at each of its slots.
    pub fn in_region(arch: &Architecture, fixed: &[(usize, OpKind)]) -> bool {
        fixed.iter().all(|&(i, op)| arch.ops.get(i) == Some(&op))
    }
}

/// `slot 3 = conv1d, slot 7 = none`, for messages.
fn describe(fixed: &[(usize, OpKind)]) -> String {
    fixed
        .iter()
        .map(|(i, op)| format!("slot {i} = {op}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use crate::fixtures;
    use crate::OpKind;
    use rand::SeedableRng;

    #[test]
    fn a_narrowed_space_samples_only_its_region_and_keeps_the_hash() {
        let space = fixtures::tiny();
        let fixed = [(0, OpKind::Attn1d), (3, OpKind::None)];
        let narrow = space.narrowed(&fixed).unwrap();
        assert_eq!(narrow.hash(), space.hash());
        assert!(narrow.count() < space.count());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        for _ in 0..50 {
            let arch = narrow.sample(&mut rng);
            assert!(crate::Space::in_region(&arch, &fixed), "{arch}");
            space.check_arch(&arch).unwrap();
        }
    }

    #[test]
    fn a_bad_split_names_the_slot() {
        let space = fixtures::tiny();
        let err = space.narrowed(&[(99, OpKind::Conv1d)]).unwrap_err();
        assert!(err.to_string().contains("slot 99 does not exist"), "{err}");
        let forbidden = (0..space.num_slots())
            .find(|&i| !space.slots[i].allows(OpKind::Attn3d))
            .expect("tiny limits 3-D attention by resolution");
        let err = space.narrowed(&[(forbidden, OpKind::Attn3d)]).unwrap_err();
        assert!(err.to_string().contains("does not allow `attn3d`"), "{err}");
        // At most one temporal layer: a region fixing two is empty.
        let mut file = space.file.clone();
        file.temporal.constraints.max_temporal_layers = Some(1);
        let one = crate::Space::from_file("one.json", file).unwrap();
        let err = one
            .narrowed(&[(0, OpKind::Conv1d), (1, OpKind::Conv1d)])
            .unwrap_err();
        assert!(err.to_string().contains("slot(s) 0 (`"), "{err}");
    }
}
