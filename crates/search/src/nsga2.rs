//! NSGA-II (Deb et al. 2002) over the run's objectives with feasibility-first constraint
//! domination: binary tournaments on (rank, crowding), uniform crossover with probability
//! `crossover_prob`, per-slot mutation, and elitist (μ+λ) survival. Children that this run has
//! already seen are re-drawn (a bounded number of times), so the evaluation budget goes to new
//! architectures.

use crate::budget::constrained_dominates;
use crate::engine::{generation_rng, Engine};
use crate::error::SearchError;
use crate::pareto::{crowding_distance, non_dominated_sort_by};
use crate::settings::Nsga2Params;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::HashSet;
use vidnas_space::{Architecture, Space};

/// Attempts at a child this run has not seen before falling back to a fresh uniform sample
/// (and as many again for that).
pub(crate) const MAX_REDRAWS: usize = 20;

pub(crate) fn run_nsga2(
    engine: &mut Engine<'_>,
    seed: u64,
    p: &Nsga2Params,
) -> Result<(), SearchError> {
    let space = engine.space;
    let rate = p
        .mutation_rate
        .unwrap_or(1.0 / space.num_slots().max(1) as f64);
    let mut rng = generation_rng(seed, 0);
    let initial = distinct_samples(space, p.population, &mut rng);
    let mut population = engine.evaluate(0, &initial)?;
    engine.end_generation(0)?;
    let mut ranking = rank(engine, &population);
    for generation in 1..=p.generations {
        let mut rng = generation_rng(seed, generation);
        let mut children = Vec::with_capacity(p.population);
        let mut taken: HashSet<String> = HashSet::new();
        for _ in 0..p.population {
            let child = fresh_child(engine, &taken, &mut rng, |rng| {
                let a = &engine.row(population[tournament(&ranking, rng)]).arch;
                let b = &engine.row(population[tournament(&ranking, rng)]).arch;
                let child = if rng.gen_bool(p.crossover_prob) {
                    space.crossover(a, b, rng)
                } else {
                    a.clone()
                };
                space.mutate(&child, rate, rng)
            });
            taken.insert(child.encode());
            children.push(child);
        }
        let offspring = engine.evaluate(generation, &children)?;
        engine.end_generation(generation)?;
        let mut union = population.clone();
        for i in offspring {
            if !union.contains(&i) {
                union.push(i);
            }
        }
        population = survivors(engine, &union, p.population);
        ranking = rank(engine, &population);
    }
    Ok(())
}

/// Up to `n` distinct uniform samples.
pub(crate) fn distinct_samples(space: &Space, n: usize, rng: &mut ChaCha8Rng) -> Vec<Architecture> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(n);
    for _ in 0..n.saturating_mul(50).max(100) {
        let a = space.sample(rng);
        if seen.insert(a.encode()) {
            out.push(a);
            if out.len() == n {
                break;
            }
        }
    }
    out
}

/// A child that neither this run nor this generation has seen: `make` up to [`MAX_REDRAWS`]
/// times, then uniform samples as often; if all collide (a nearly exhausted space), the last
/// draw is kept and simply reuses its cached evaluation.
pub(crate) fn fresh_child(
    engine: &Engine<'_>,
    taken: &HashSet<String>,
    rng: &mut ChaCha8Rng,
    mut make: impl FnMut(&mut ChaCha8Rng) -> Architecture,
) -> Architecture {
    let is_new = |a: &Architecture| !engine.seen(a) && !taken.contains(&a.encode());
    let mut last = None;
    for _ in 0..MAX_REDRAWS {
        let c = make(rng);
        if is_new(&c) {
            return c;
        }
        last = Some(c);
    }
    for _ in 0..MAX_REDRAWS {
        let c = engine.space.sample(rng);
        if is_new(&c) {
            return c;
        }
    }
    last.expect("MAX_REDRAWS > 0")
}

/// Rank (front number under constraint domination) and crowding distance per member.
pub(crate) struct Ranking {
    rank: Vec<usize>,
    crowding: Vec<f64>,
}

fn rank(engine: &Engine<'_>, members: &[usize]) -> Ranking {
    let ranked: Vec<(Vec<f64>, f64)> = members.iter().map(|&i| engine.ranked(i)).collect();
    rank_points(&ranked)
}

/// [`Ranking`] of (objectives, budget violation) points.
pub(crate) fn rank_points(ranked: &[(Vec<f64>, f64)]) -> Ranking {
    let points: Vec<Vec<f64>> = ranked.iter().map(|r| r.0.clone()).collect();
    let fronts = non_dominated_sort_by(ranked.len(), |a, b| {
        constrained_dominates((&ranked[a].0, ranked[a].1), (&ranked[b].0, ranked[b].1))
    });
    let mut rank = vec![0; ranked.len()];
    let mut crowding = vec![0.0; ranked.len()];
    for (r, front) in fronts.iter().enumerate() {
        for (&i, d) in front.iter().zip(crowding_distance(&points, front)) {
            rank[i] = r;
            crowding[i] = d;
        }
    }
    Ranking { rank, crowding }
}

/// Binary tournament: lower rank wins, then larger crowding distance, then the first drawn.
pub(crate) fn tournament(r: &Ranking, rng: &mut ChaCha8Rng) -> usize {
    let n = r.rank.len();
    let (a, b) = (rng.gen_range(0..n), rng.gen_range(0..n));
    let better_b =
        r.rank[b] < r.rank[a] || (r.rank[b] == r.rank[a] && r.crowding[b] > r.crowding[a]);
    if better_b {
        b
    } else {
        a
    }
}

/// Elitist survival: whole fronts while they fit, then the last front by crowding distance.
fn survivors(engine: &Engine<'_>, union: &[usize], n: usize) -> Vec<usize> {
    let r = rank(engine, union);
    best_of(&r, n).into_iter().map(|i| union[i]).collect()
}

/// The `n` best positions of a ranking: whole fronts while they fit, then the next by crowding
/// distance.
pub(crate) fn best_of(r: &Ranking, n: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..r.rank.len()).collect();
    // Stable sort: equal (rank, crowding) keep their union order, which is deterministic.
    order.sort_by(|&a, &b| {
        r.rank[a]
            .cmp(&r.rank[b])
            .then(r.crowding[b].total_cmp(&r.crowding[a]))
    });
    order.into_iter().take(n).collect()
}
