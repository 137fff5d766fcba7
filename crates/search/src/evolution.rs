//! Single-objective evolution under the budgets, as in Once-for-All: keep the top fraction of
//! the population as parents, fill the rest with mutated parents and crossovers of two parents.
//! The objective is the score (or, predictor-only, the latency); feasible architectures rank
//! before infeasible ones, infeasible ones by total budget violation.

use crate::engine::{generation_rng, Engine};
use crate::error::SearchError;
use crate::mode::Mode;
use crate::nsga2::{distinct_samples, fresh_child};
use crate::settings::EvolutionParams;
use rand::seq::SliceRandom;
use std::collections::HashSet;

pub(crate) fn run_evolution(
    engine: &mut Engine<'_>,
    seed: u64,
    p: &EvolutionParams,
) -> Result<(), SearchError> {
    let space = engine.space;
    let rate = p
        .mutation_rate
        .unwrap_or(1.0 / space.num_slots().max(1) as f64);
    let n_parents =
        ((p.population as f64 * p.parent_fraction).round() as usize).clamp(1, p.population);
    let n_children = p.population - n_parents;
    let n_mutated = (n_children as f64 * p.mutation_fraction).round() as usize;
    let mut rng = generation_rng(seed, 0);
    let initial = distinct_samples(space, p.population, &mut rng);
    let mut population = engine.evaluate(0, &initial)?;
    engine.end_generation(0)?;
    sort_by_fitness(engine, &mut population);
    for generation in 1..=p.generations {
        let mut rng = generation_rng(seed, generation);
        let parents: Vec<usize> = population.iter().copied().take(n_parents).collect();
        let mut children = Vec::with_capacity(n_children);
        let mut taken = HashSet::new();
        for k in 0..n_children {
            let child = fresh_child(engine, &taken, &mut rng, |rng| {
                let a = &engine.row(*parents.choose(rng).expect("parents")).arch;
                if k < n_mutated {
                    space.mutate(a, rate, rng)
                } else {
                    let b = &engine.row(*parents.choose(rng).expect("parents")).arch;
                    space.crossover(a, b, rng)
                }
            });
            taken.insert(child.encode());
            children.push(child);
        }
        let offspring = engine.evaluate(generation, &children)?;
        engine.end_generation(generation)?;
        population = parents;
        for i in offspring {
            if !population.contains(&i) {
                population.push(i);
            }
        }
        sort_by_fitness(engine, &mut population);
        population.truncate(p.population);
    }
    Ok(())
}

/// Best first: feasible before infeasible, infeasible by violation, then the objective, then
/// the encoding (a total, deterministic order).
fn sort_by_fitness(engine: &Engine<'_>, members: &mut [usize]) {
    let key = |i: usize| {
        let row = engine.row(i);
        let violation = engine.budgets.violation(&row.eval);
        let objective = match engine.mode {
            Mode::Score => row.eval.score.unwrap_or(f64::INFINITY),
            Mode::PredictorOnly => row.eval.latency_ms,
        };
        (violation, objective)
    };
    members.sort_by(|&a, &b| {
        let (ka, kb) = (key(a), key(b));
        (ka.0 > 0.0)
            .cmp(&(kb.0 > 0.0))
            .then(ka.0.total_cmp(&kb.0))
            .then(ka.1.total_cmp(&kb.1))
            .then_with(|| engine.row(a).arch.cmp(&engine.row(b).arch))
    });
}
