//! Surrogate-assisted NSGA-II (`search --surrogate`): the supernet scores `warmup` uniform
//! samples (generation 0); then each generation fits the surrogate to every supernet score so
//! far, runs NSGA-II for `inner_generations` on (surrogate score, predicted latency, predicted
//! memory), records every architecture it predicted in results.csv as a `surrogate` row, and
//! sends up to `population` of the predicted front that the supernet has not scored yet to the
//! supernet. Only supernet rows are the run's evaluations: they alone make the front.
//!
//! Everything is a function of the supernet rows and the per-(seed, generation) streams, so a
//! resumed run refits the same surrogates, predicts the same rows (skipping those recorded) and
//! makes the same choices: results.csv ends up byte-identical to an uninterrupted run's.

use crate::engine::{generation_rng, Engine};
use crate::error::SearchError;
use crate::evaluator::Evaluation;
use crate::mode::Mode;
use crate::nsga2::{best_of, distinct_samples, rank_points, tournament};
use crate::pareto::objectives;
use crate::results::ResultRow;
use crate::settings::{Nsga2Params, SurrogateParams};
use crate::surrogate::Surrogate;
use rand::Rng;
use std::collections::HashMap;
use vidnas_space::Architecture;

/// Mixed into the seed of the inner search's streams ("SURROGAT").
const INNER_STREAM: u64 = 0x5355_5252_4f47_4154;

/// Summary of one generation's fit, for the caller's progress messages.
#[derive(Debug, Clone)]
pub struct SurrogateFit {
    pub generation: usize,
    pub rows: usize,
    pub held_out_tau: f64,
}

pub(crate) fn run_surrogate_nsga2(
    engine: &mut Engine<'_>,
    seed: u64,
    p: &Nsga2Params,
    s: &SurrogateParams,
) -> Result<Vec<SurrogateFit>, SearchError> {
    if engine.mode != Mode::Score {
        return Err(SearchError::Surrogate {
            generation: 0,
            message: "the surrogate models the supernet score, and this search has none (pass --supernet)".into(),
        });
    }
    let space = engine.space;
    let mut rng = generation_rng(seed, 0);
    let warmup = distinct_samples(space, s.warmup, &mut rng);
    engine.evaluate(0, &warmup)?;
    engine.end_generation(0)?;
    let mut fits = Vec::new();
    for generation in 1..=p.generations {
        let scored = engine.scored();
        let archs: Vec<&Architecture> = scored.iter().map(|r| &r.arch).collect();
        let scores: Vec<f64> = scored
            .iter()
            .map(|r| r.eval.score.expect("supernet rows have scores"))
            .collect();
        let surrogate =
            Surrogate::fit(&archs, &scores).map_err(|message| SearchError::Surrogate {
                generation,
                message,
            })?;
        fits.push(SurrogateFit {
            generation,
            rows: archs.len(),
            held_out_tau: surrogate.held_out_tau,
        });
        let predicted = inner_search(engine, &surrogate, seed, generation, p, s)?;
        engine.record_surrogate(&predicted)?;
        let chosen = choose(engine, &predicted, p.population);
        engine.evaluate(generation, &chosen)?;
        engine.end_generation(generation)?;
    }
    Ok(fits)
}

/// NSGA-II on surrogate scores: every distinct architecture it predicted, in first-predicted
/// order, as rows of `generation`.
fn inner_search(
    engine: &mut Engine<'_>,
    surrogate: &Surrogate,
    seed: u64,
    generation: usize,
    p: &Nsga2Params,
    s: &SurrogateParams,
) -> Result<Vec<ResultRow>, SearchError> {
    let space = engine.space;
    let rate = p
        .mutation_rate
        .unwrap_or(1.0 / space.num_slots().max(1) as f64);
    // A stream of its own per generation, apart from the outer loop's.
    let mut rng = generation_rng(seed ^ INNER_STREAM, generation);
    let mut pool: Vec<ResultRow> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let initial = distinct_samples(space, s.inner_population, &mut rng);
    let mut population = predict_into(
        engine, surrogate, generation, &initial, &mut pool, &mut index,
    )?;
    for _ in 0..s.inner_generations {
        let ranked: Vec<(Vec<f64>, f64)> = population
            .iter()
            .map(|&i| point(engine, &pool[i].eval))
            .collect();
        let ranking = rank_points(&ranked);
        let children: Vec<Architecture> = (0..s.inner_population)
            .map(|_| {
                let a = &pool[population[tournament(&ranking, &mut rng)]].arch;
                let b = &pool[population[tournament(&ranking, &mut rng)]].arch;
                let child = if rng.gen_bool(p.crossover_prob) {
                    space.crossover(a, b, &mut rng)
                } else {
                    a.clone()
                };
                space.mutate(&child, rate, &mut rng)
            })
            .collect();
        let offspring = predict_into(
            engine, surrogate, generation, &children, &mut pool, &mut index,
        )?;
        let mut union = population.clone();
        for i in offspring {
            if !union.contains(&i) {
                union.push(i);
            }
        }
        let ranked: Vec<(Vec<f64>, f64)> = union
            .iter()
            .map(|&i| point(engine, &pool[i].eval))
            .collect();
        population = best_of(&rank_points(&ranked), s.inner_population)
            .into_iter()
            .map(|k| union[k])
            .collect();
    }
    Ok(pool)
}

/// Objectives and budget violation of a (predicted) evaluation.
fn point(engine: &Engine<'_>, e: &Evaluation) -> (Vec<f64>, f64) {
    (objectives(e, engine.mode), engine.budgets.violation(e))
}

/// Predicts the architectures not in `pool` yet, adds them, and returns every architecture's
/// position in the pool.
fn predict_into(
    engine: &mut Engine<'_>,
    surrogate: &Surrogate,
    generation: usize,
    archs: &[Architecture],
    pool: &mut Vec<ResultRow>,
    index: &mut HashMap<String, usize>,
) -> Result<Vec<usize>, SearchError> {
    let mut new: Vec<Architecture> = Vec::new();
    for a in archs {
        if !index.contains_key(&a.encode()) && !new.contains(a) {
            new.push(a.clone());
        }
    }
    if !new.is_empty() {
        let evals = engine.predict(generation, &new)?;
        for (arch, eval) in new.into_iter().zip(evals) {
            let eval = Evaluation {
                score: Some(surrogate.predict(&arch)),
                ..eval
            };
            index.insert(arch.encode(), pool.len());
            pool.push(ResultRow {
                arch_id: arch.id(),
                feasible: engine.budgets.is_feasible(&eval),
                arch,
                generation,
                eval,
            });
        }
    }
    Ok(archs.iter().map(|a| index[&a.encode()]).collect())
}

/// Up to `n` predicted architectures the supernet has not scored: the predicted front first
/// (feasible before infeasible), spread by crowding distance.
fn choose(engine: &Engine<'_>, predicted: &[ResultRow], n: usize) -> Vec<Architecture> {
    let fresh: Vec<&ResultRow> = predicted.iter().filter(|r| !engine.seen(&r.arch)).collect();
    let ranked: Vec<(Vec<f64>, f64)> = fresh.iter().map(|r| point(engine, &r.eval)).collect();
    best_of(&rank_points(&ranked), n)
        .into_iter()
        .map(|i| fresh[i].arch.clone())
        .collect()
}
