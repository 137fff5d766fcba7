//! [`SearchConfig::check`]: the settings no search can run with, each refused naming the flag
//! (or setting) to change.

use crate::error::SearchError;
use crate::settings::{Algo, SearchConfig};

impl SearchConfig {
    /// Rejects settings no search can run with, naming the setting.
    pub fn check(&self) -> Result<(), SearchError> {
        fn err(field: &str, message: impl Into<String>, fix: &str) -> SearchError {
            SearchError::config(field, message, fix)
        }
        self.budgets.check()?;
        let positive = |field: &str, v: usize| {
            if v == 0 {
                Err(err(field, "is 0", "use a positive value"))
            } else {
                Ok(())
            }
        };
        let prob = |field: &str, v: f64| {
            if (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(err(
                    field,
                    format!("{v} is not in [0, 1]"),
                    "use a probability",
                ))
            }
        };
        // Fields a user sets are named by their flag, so the message says what to type.
        let population = |v: usize| {
            if v < 2 {
                Err(err(
                    "--population",
                    format!("{v} is below 2"),
                    "use a population of 2 or more (parents are paired)",
                ))
            } else {
                Ok(())
            }
        };
        let generations = |v: usize| {
            if v == 0 {
                Err(err(
                    "--generations",
                    "0 would only score the random initial population",
                    "use 1 or more generations, or --algo random --samples N for random search",
                ))
            } else {
                Ok(())
            }
        };
        match &self.algo {
            Algo::Exhaustive { batch } => positive("batch", *batch)?,
            Algo::Random { samples, batch } => {
                positive("--samples", *samples)?;
                positive("batch", *batch)?;
            }
            Algo::Nsga2(p) => {
                population(p.population)?;
                generations(p.generations)?;
                prob("crossover_prob", p.crossover_prob)?;
                if let Some(r) = p.mutation_rate {
                    prob("mutation_rate", r)?;
                }
            }
            Algo::SurrogateNsga2 { nsga2, surrogate } => {
                population(nsga2.population)?;
                generations(nsga2.generations)?;
                prob("crossover_prob", nsga2.crossover_prob)?;
                if let Some(r) = nsga2.mutation_rate {
                    prob("mutation_rate", r)?;
                }
                population(surrogate.inner_population)?;
                positive("--surrogate-generations", surrogate.inner_generations)?;
                positive("--surrogate-warmup", surrogate.warmup)?;
            }
            Algo::Evolution(p) => {
                population(p.population)?;
                generations(p.generations)?;
                prob("parent_fraction", p.parent_fraction)?;
                prob("mutation_fraction", p.mutation_fraction)?;
                if let Some(r) = p.mutation_rate {
                    prob("mutation_rate", r)?;
                }
            }
        }
        if let Some(s) = self.shard {
            if !matches!(self.algo, Algo::Exhaustive { .. } | Algo::Random { .. }) {
                return Err(err(
                    "--shard",
                    format!("{} cannot be sharded", self.algo.name()),
                    "shard only exhaustive or random searches; run evolutionary searches whole",
                ));
            }
            if s.count == 0 || s.index >= s.count {
                return Err(err(
                    "--shard",
                    format!("shard {}/{} does not exist", s.index, s.count),
                    "write --shard i/n with 0 <= i < n, e.g. 0/4",
                ));
            }
        }
        let tables_match =
            self.devices.is_empty() || self.devices.len() == self.other_tables.len() + 1;
        if self.devices.len() > 3 || !tables_match {
            return Err(err(
                "--table",
                format!(
                    "{} devices with {} further tables",
                    self.devices.len(),
                    self.other_tables.len()
                ),
                "give 1 to 3 tables, one per device",
            ));
        }
        let dtypes_fit =
            self.memory_dtypes.len() != 1 && self.memory_dtypes.len() <= self.devices.len().max(1);
        if !dtypes_fit {
            return Err(err(
                "--table",
                format!(
                    "{} memory dtypes for {} devices",
                    self.memory_dtypes.len(),
                    self.devices.len()
                ),
                "give each dtype of the tables once, at least two, or none when the tables share one",
            ));
        }
        let objectives = self.joint().objective_count();
        if let Some(r) = &self.hv_reference {
            if r.len() != objectives || r.iter().any(|x| !x.is_finite()) {
                let given: Vec<String> = r.iter().map(|x| x.to_string()).collect();
                return Err(err(
                    "--hv-ref",
                    format!("`{}` is not {objectives} finite numbers", given.join(",")),
                    "write --hv-ref a,b,c with one value per minimised objective \
                     (score,latency_ms,peak_mem_mb with a supernet, \
                     latency_ms,peak_mem_mb,neg_temporal_params without), or leave it out to \
                     derive it from the first generation",
                ));
            }
        }
        Ok(())
    }
}
