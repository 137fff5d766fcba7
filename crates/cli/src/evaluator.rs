//! The evaluator the search calls: predicted latency and memory from the latency table (fast
//! per-slot cost model), plus the supernet's validation loss when a supernet is given.

use anyhow::Result;
use vidnas_latency::{temporal_params, LatencyTable, PredictRequest, SlotCostModel};
use vidnas_search::{Evaluation, Evaluator};
use vidnas_space::{Architecture, Space};
use vidnas_supernet::Scorer;

pub struct PipelineEvaluator<'a> {
    space: &'a Space,
    costs: SlotCostModel,
    scorer: Option<Scorer>,
}

impl<'a> PipelineEvaluator<'a> {
    pub fn new(space: &'a Space, table: &LatencyTable, scorer: Option<Scorer>) -> Result<Self> {
        let costs = SlotCostModel::new(space, table, &PredictRequest::for_table(table))?;
        Ok(Self {
            space,
            costs,
            scorer,
        })
    }
}

impl Evaluator for PipelineEvaluator<'_> {
    fn evaluate(
        &mut self,
        archs: &[Architecture],
    ) -> Result<Vec<Evaluation>, Box<dyn std::error::Error + Send + Sync>> {
        archs
            .iter()
            .map(|arch| {
                let p = self.costs.predict(arch);
                let score = match &self.scorer {
                    Some(s) => Some(s.score(arch)?),
                    None => None,
                };
                Ok(Evaluation {
                    score,
                    latency_ms: p.total_ms,
                    peak_mem_mb: p.peak_mem_bytes as f64 / 1e6,
                    params: p.params,
                    temporal_params: temporal_params(self.space, arch),
                })
            })
            .collect()
    }

    fn has_score(&self) -> bool {
        self.scorer.is_some()
    }
}

/// A supernet run's scorer; a stage-1 image run or a stand-alone run is refused up front, since
/// it cannot score the architectures a search or a list asks for.
pub fn open_supernet(
    space: &Space,
    run: &std::path::Path,
) -> Result<Scorer, vidnas_diffusion::TrainError> {
    let scorer = Scorer::open(space, run)?;
    scorer.require_supernet()?;
    Ok(scorer)
}
