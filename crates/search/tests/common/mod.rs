//! Spaces and evaluators shared by the integration tests.
#![allow(dead_code)]

use vidnas_search::{
    Algo, Budgets, Evaluation, Evaluator, Nsga2Params, SearchConfig, SyntheticEvaluator,
};
use vidnas_space::{Architecture, Space};

fn tiny_json() -> serde_json::Value {
    serde_json::from_str(include_str!("../../../../search-spaces/tiny.json")).unwrap()
}

/// A run of `algo` under `seed` without budgets, its inputs labelled as synthetic.
pub fn config(algo: Algo, seed: u64) -> SearchConfig {
    SearchConfig {
        algo,
        seed,
        budgets: Budgets::none(),
        shard: None,
        hv_reference: None,
        table: Some(label("synthetic-table")),
        supernet: Some(label("synthetic-supernet")),
        devices: Vec::new(),
        other_tables: Vec::new(),
        memory_dtypes: Vec::new(),
    }
}

pub fn nsga2(population: usize, generations: usize) -> Algo {
    Algo::Nsga2(Nsga2Params {
        population,
        generations,
        ..Default::default()
    })
}

/// A provenance entry for an input that is no file (the synthetic evaluator's "table").
pub fn label(name: &str) -> vidnas_io::FileRef {
    vidnas_io::FileRef {
        path: name.into(),
        sha256: "0123456789abcdef".into(),
    }
}

/// The tiny space with one temporal slot per block (7 slots): 31,999 architectures, so a 5%
/// evaluation budget (1,599) is a real test of the search and exhaustive search still takes
/// about a second.
pub fn bench_space() -> Space {
    let mut v = tiny_json();
    v["name"] = serde_json::json!("tiny-7slot");
    v["temporal"]["placement"] = serde_json::json!("last_layer_of_block");
    // conv3d at every resolution, so the space keeps its size whatever tiny.json limits.
    v["temporal"]["ops"]["conv3d"] = serde_json::json!({"kernel_size": 3});
    Space::from_json("tiny-7slot.json", &v.to_string()).unwrap()
}

/// Two stages, one slot per block (5 slots), all five ops: a few hundred architectures.
pub fn small_space() -> Space {
    let mut v = tiny_json();
    v["name"] = serde_json::json!("tiny-5slot");
    v["backbone"]["block_out_channels"] = serde_json::json!([32, 64]);
    v["backbone"]["down_block_types"] = serde_json::json!(["DownBlock2D", "CrossAttnDownBlock2D"]);
    v["backbone"]["up_block_types"] = serde_json::json!(["CrossAttnUpBlock2D", "UpBlock2D"]);
    v["video"]["height"] = serde_json::json!(16);
    v["video"]["width"] = serde_json::json!(16);
    v["temporal"]["placement"] = serde_json::json!("last_layer_of_block");
    Space::from_json("tiny-5slot.json", &v.to_string()).unwrap()
}

/// Wraps the synthetic evaluator: fails the call that would take it past `fail_after`
/// evaluations (a killed run), and records what it scored.
pub struct Flaky {
    pub inner: SyntheticEvaluator,
    pub fail_after: Option<usize>,
}

impl Evaluator for Flaky {
    fn evaluate(
        &mut self,
        archs: &[Architecture],
    ) -> Result<Vec<Evaluation>, Box<dyn std::error::Error + Send + Sync>> {
        if let Some(k) = self.fail_after {
            if self.inner.evaluated.len() + archs.len() > k {
                return Err("simulated crash".into());
            }
        }
        self.inner.evaluate(archs)
    }

    fn has_score(&self) -> bool {
        self.inner.has_score()
    }

    fn predict(
        &mut self,
        archs: &[Architecture],
    ) -> Result<Vec<Evaluation>, Box<dyn std::error::Error + Send + Sync>> {
        self.inner.predict(archs)
    }
}
