//! Non-evolutionary searches: exhaustive (every architecture, in the space's enumeration order)
//! and random (distinct uniform draws). Both walk one global candidate list in batches and can
//! be sharded: shard i of n keeps the candidates whose global index is i mod n. A candidate's
//! generation is its global index divided by the batch size, so shards of a run label rows
//! exactly as the unsharded run does, and merging them reproduces it.

use crate::engine::{generation_rng, Engine};
use crate::error::SearchError;
use crate::settings::Shard;
use std::collections::HashSet;
use vidnas_space::{Architecture, Space};

/// Scores every architecture of the space (or of this shard).
pub(crate) fn run_exhaustive(
    engine: &mut Engine<'_>,
    batch: usize,
    shard: Option<Shard>,
) -> Result<(), SearchError> {
    let space = engine.space;
    run_batches(engine, space.enumerate(), batch, shard)
}

/// Scores `samples` distinct uniform draws (all architectures when the space is smaller).
pub(crate) fn run_random(
    engine: &mut Engine<'_>,
    seed: u64,
    samples: usize,
    batch: usize,
    shard: Option<Shard>,
) -> Result<(), SearchError> {
    let space = engine.space;
    let candidates = random_candidates(space, seed, samples);
    run_batches(engine, candidates.into_iter(), batch, shard)
}

/// The global random candidate list: the same for every shard of a seed.
pub(crate) fn random_candidates(space: &Space, seed: u64, samples: usize) -> Vec<Architecture> {
    if space.count_u128().is_some_and(|c| c <= samples as u128) {
        return space.enumerate().collect();
    }
    let mut rng = generation_rng(seed, 0);
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(samples);
    // Draws are distinct with overwhelming probability when samples ≪ count; the cap only
    // guards against a space barely larger than `samples`.
    for _ in 0..samples.saturating_mul(50).max(1000) {
        let a = space.sample(&mut rng);
        if seen.insert(a.encode()) {
            out.push(a);
            if out.len() == samples {
                break;
            }
        }
    }
    out
}

fn run_batches(
    engine: &mut Engine<'_>,
    candidates: impl Iterator<Item = Architecture>,
    batch: usize,
    shard: Option<Shard>,
) -> Result<(), SearchError> {
    let (index, count) = shard.map_or((0, 1), |s| (s.index, s.count));
    let mut current: Option<usize> = None;
    let mut pending: Vec<Architecture> = Vec::new();
    for (i, arch) in candidates.enumerate() {
        if i % count != index {
            continue;
        }
        let generation = i / batch;
        if let Some(g) = current.filter(|&g| g != generation) {
            engine.evaluate(g, &pending)?;
            engine.end_generation(g)?;
            pending.clear();
        }
        current = Some(generation);
        pending.push(arch);
    }
    if let Some(g) = current {
        engine.evaluate(g, &pending)?;
        engine.end_generation(g)?;
    }
    Ok(())
}
