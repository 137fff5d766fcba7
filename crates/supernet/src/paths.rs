//! Which path(s) of the supernet one training step trains.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::path::Path;
use vidnas_data::{Dataset, Vocab};
use vidnas_diffusion::rng::{step_rng, Stream};
use vidnas_diffusion::{Objective, PathPlan, PathSampling, TrainConfig, Trainer, VideoModel};
use vidnas_space::{Architecture, OpKind, Space, Structure};

/// Weights of `op`'s convolutions or attention projections at `channels` (norms and biases
/// left out), to rank ops by size for the sandwich rule: read from the op's descriptor.
fn op_size(space: &Space, op: OpKind, channels: usize) -> usize {
    let c2 = channels * channels;
    let k = space
        .file
        .temporal
        .ops
        .get(op)
        .and_then(|p| p.kernel_size())
        .unwrap_or(3);
    match op.spec().structure {
        Structure::Identity => 0,
        Structure::Conv { layers } => layers
            .iter()
            .map(|l| c2.saturating_mul(l.taps(k as u64).map_or(usize::MAX, |t| t as usize)))
            .fold(0, usize::saturating_add),
        // to_q, to_k, to_v, to_out and proj_out (proj_in is not counted, as before).
        Structure::Attention { .. } => 5 * c2,
    }
}

/// Every slot holds its largest op.
pub fn largest(space: &Space) -> Architecture {
    let ops = space
        .slots
        .iter()
        .map(|s| {
            *s.allowed
                .iter()
                .max_by_key(|&&o| (op_size(space, o, s.channels), o))
                .expect("validated")
        })
        .collect();
    Architecture { ops }
}

/// As few temporal layers as allowed, each the smallest op, at the cheapest slots.
pub fn smallest(space: &Space) -> Architecture {
    let mut ops: Vec<OpKind> = space
        .slots
        .iter()
        .map(|s| {
            if s.allows(OpKind::None) {
                OpKind::None
            } else {
                smallest_temporal(space, s)
            }
        })
        .collect();
    let (min, _) = space.temporal_layer_bounds();
    let mut order: Vec<usize> = (0..ops.len()).filter(|&i| ops[i] == OpKind::None).collect();
    order.sort_by_key(|&i| {
        (
            space.slots[i].channels * space.slots[i].height * space.slots[i].width,
            i,
        )
    });
    for i in order {
        if ops.iter().filter(|o| o.is_temporal()).count() >= min {
            break;
        }
        ops[i] = smallest_temporal(space, &space.slots[i]);
    }
    Architecture { ops }
}

fn smallest_temporal(space: &Space, slot: &vidnas_space::Slot) -> OpKind {
    *slot
        .allowed
        .iter()
        .filter(|o| o.is_temporal())
        .min_by_key(|&&o| (op_size(space, o, slot.channels), o))
        .expect("validated: the slot can hold a temporal op")
}

/// The architectures trained at `step` (gradients of all of them are accumulated).
pub fn paths_for_step(
    space: &Space,
    sampling: PathSampling,
    seed: u64,
    step: u64,
) -> Vec<Architecture> {
    let mut rng = step_rng(seed, step, Stream::Path);
    match sampling {
        PathSampling::Uniform => vec![space.sample(&mut rng)],
        PathSampling::Sandwich => vec![space.sample(&mut rng), largest(space), smallest(space)],
        // The teacher first: the trainer distils the other paths from the first one.
        PathSampling::Inplace => vec![largest(space), space.sample(&mut rng), smallest(space)],
        PathSampling::Fair => {
            let cycle_len = space
                .slots
                .iter()
                .map(|s| s.allowed.len())
                .max()
                .unwrap_or(1) as u64;
            let (cycle, pos) = (step / cycle_len, (step % cycle_len) as usize);
            let ops = space
                .slots
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut perm_rng = rand_chacha::ChaCha8Rng::seed_from_u64(
                        seed ^ cycle.wrapping_mul(1_000_003) ^ (i as u64) << 48,
                    );
                    let mut perm = s.allowed.clone();
                    perm.shuffle(&mut perm_rng);
                    perm[pos % perm.len()]
                })
                .collect();
            vec![space.repair(Architecture { ops }, &mut rng)]
        }
    }
}

/// The path(s) each step of `objective` trains: the supernet's sampling under `seed`, or the
/// objective's one fixed path.
pub fn path_plan(space: &Space, objective: &Objective, seed: u64) -> PathPlan {
    match objective {
        Objective::Supernet(sampling) | Objective::SubSupernet(sampling, _) => {
            // A sub-supernet samples inside its region (checked by `Objective::check`).
            let space = space
                .narrowed(objective.region())
                .expect("the region was checked before training");
            let sampling = *sampling;
            PathPlan::PerStep(Box::new(move |step| {
                paths_for_step(&space, sampling, seed, step)
            }))
        }
        other => PathPlan::fixed(other, space.num_slots()).expect("a single-path objective"),
    }
}

/// The core trainer with this objective's paths (see [`path_plan`]).
pub fn trainer<'a>(
    model: &'a mut VideoModel,
    objective: Objective,
    cfg: TrainConfig,
    data: &'a Dataset,
    vocab: &'a Vocab,
    dir: &Path,
) -> Trainer<'a> {
    let paths = path_plan(&model.space, &objective, cfg.seed);
    Trainer::new(model, objective, paths, cfg, data, vocab, dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_sizes_from_the_registry_are_the_sandwich_rule_sizes() {
        let space = vidnas_space::fixtures::micro();
        let ops = &space.file.temporal.ops;
        let c = 8;
        let k1 = ops.conv1d.as_ref().map_or(3, |o| o.kernel_size);
        let k3 = ops.conv3d.as_ref().map_or(3, |o| o.kernel_size);
        assert_eq!(op_size(&space, OpKind::None, c), 0);
        assert_eq!(op_size(&space, OpKind::Conv1d, c), 2 * c * c * k1);
        assert_eq!(op_size(&space, OpKind::Conv3d, c), 2 * c * c * k3.pow(3));
        assert_eq!(op_size(&space, OpKind::Attn1d, c), 5 * c * c);
        assert_eq!(op_size(&space, OpKind::Attn3d, c), 5 * c * c);
    }
}
