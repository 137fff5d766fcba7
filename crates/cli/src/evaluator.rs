//! The evaluator the search calls: predicted latency and memory from the latency table (fast
//! per-slot cost model), plus the supernet's validation loss when a supernet is given. A joint
//! search adds each other table's latency and, when the tables differ in dtype, the peak
//! memory in each further dtype (from the first table measured in it). On
//! several ranks (`mpirun`, `srun`) rank 0 runs the search and every rank scores its share of
//! each batch ([`serve_scores`] on the others); scores are gathered exactly, so the results
//! equal one process's.

use anyhow::{Context, Result};
use vidnas_latency::{
    temporal_params, LatencyTable, PredictRequest, PredictionInterval, SlotCostModel,
};
use vidnas_parallel::AllReduce;
use vidnas_search::{Evaluation, Evaluator};
use vidnas_space::{Architecture, Space};
use vidnas_supernet::SupernetScorer;

pub struct PipelineEvaluator<'a> {
    space: &'a Space,
    costs: SlotCostModel,
    /// The cost models of a joint search's other devices, in device order.
    other_costs: Vec<SlotCostModel>,
    /// For each dtype after the first of [`memory_dtypes`]: the index in `other_costs` of the
    /// first table measured in it.
    memory_costs: Vec<usize>,
    /// The table's validation interval: every prediction's `[lo, hi]` (none if unvalidated).
    interval: Option<PredictionInterval>,
    scorer: Option<SupernetScorer>,
    ranks: &'a dyn AllReduce,
}

impl<'a> PipelineEvaluator<'a> {
    pub fn new(
        space: &'a Space,
        table: &LatencyTable,
        others: &[LatencyTable],
        scorer: Option<SupernetScorer>,
        ranks: &'a dyn AllReduce,
    ) -> Result<Self> {
        let costs = SlotCostModel::new(space, table, &PredictRequest::for_table(table))?;
        let other_costs = others
            .iter()
            .map(|t| SlotCostModel::new(space, t, &PredictRequest::for_table(t)))
            .collect::<Result<Vec<_>, _>>()?;
        let memory_costs = memory_dtypes(table, others)
            .iter()
            .skip(1)
            .map(|d| {
                (others.iter())
                    .position(|t| t.device.dtype.as_str() == d)
                    .expect("each further dtype comes from another table")
            })
            .collect();
        Ok(Self {
            space,
            costs,
            other_costs,
            memory_costs,
            interval: table.interval.clone(),
            scorer,
            ranks,
        })
    }

    /// The table's latency, memory and parameters of `arch`, with `score`.
    fn cost(&self, arch: &Architecture, score: Option<f64>) -> Evaluation {
        let p = self.costs.predict(arch);
        let others: Vec<_> = self.other_costs.iter().map(|c| c.predict(arch)).collect();
        Evaluation {
            score,
            latency_ms: p.total_ms,
            latency_interval_ms: self.interval.as_ref().map(|i| i.around(p.total_ms)),
            peak_mem_mb: p.peak_mem_bytes as f64 / 1e6,
            params: p.params,
            temporal_params: temporal_params(self.space, arch),
            other_latency_ms: others.iter().map(|o| o.total_ms).collect(),
            other_peak_mem_mb: (self.memory_costs.iter())
                .map(|&i| others[i].peak_mem_bytes as f64 / 1e6)
                .collect(),
        }
    }

    /// Supernet scores of `archs`, spread over the ranks.
    fn scores(&self, archs: &[Architecture]) -> Result<Vec<Option<f64>>> {
        let Some(scorer) = &self.scorer else {
            return Ok(vec![None; archs.len()]);
        };
        if self.ranks.world_size() > 1 && !archs.is_empty() {
            let mut batch = encode(archs);
            self.ranks
                .broadcast_bytes(&mut batch, "a batch of architectures to score")?;
        }
        Ok(score_shares(scorer, self.ranks, archs)?
            .into_iter()
            .map(Some)
            .collect())
    }
}

/// The dtypes with a peak-memory objective of their own in a search over `table` and `others`:
/// each dtype once, the first table's first, or none when every table has one dtype (peak
/// memory then stays one objective).
pub fn memory_dtypes(table: &LatencyTable, others: &[LatencyTable]) -> Vec<String> {
    let mut dtypes = vec![table.device.dtype.as_str().to_string()];
    for t in others {
        let d = t.device.dtype.as_str().to_string();
        if !dtypes.contains(&d) {
            dtypes.push(d);
        }
    }
    if dtypes.len() < 2 {
        dtypes.clear();
    }
    dtypes
}

/// Architectures as one message: encodings, one per line (an empty message ends scoring).
fn encode(archs: &[Architecture]) -> Vec<u8> {
    archs
        .iter()
        .map(|a| a.encode())
        .collect::<Vec<_>>()
        .join("\n")
        .into_bytes()
}

/// Scores this rank's share of `archs` and gathers every rank's, in order, on every rank.
fn score_shares(
    scorer: &SupernetScorer,
    ranks: &dyn AllReduce,
    archs: &[Architecture],
) -> Result<Vec<f64>> {
    let mut mine = Vec::new();
    for (i, arch) in archs.iter().enumerate().filter(|(i, _)| ranks.owns(*i)) {
        mine.push((i, scorer.score(arch)?));
    }
    Ok(ranks.gather_shares(archs.len(), &mine, "the scores of a batch of architectures")?)
}

/// A rank other than 0 of a multi-rank search or score: scores what rank 0 sends (nothing
/// when there is no supernet); rank 0 writes every file.
pub fn serve_ranks(
    space: &Space,
    supernet: Option<&std::path::Path>,
    compute: &vidnas_diffusion::Compute,
) -> Result<()> {
    match supernet {
        Some(run) => serve_scores(
            space,
            &SupernetScorer::open(space, run, compute.device)?,
            compute.comm.as_ref(),
        ),
        None => Ok(()),
    }
}

/// What a rank other than 0 does in a multi-rank search or score: scores its share of each
/// batch rank 0 sends until rank 0 says it is done.
pub fn serve_scores(space: &Space, scorer: &SupernetScorer, ranks: &dyn AllReduce) -> Result<()> {
    loop {
        let mut batch = Vec::new();
        ranks.broadcast_bytes(&mut batch, "the next batch of architectures from rank 0")?;
        if batch.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8(batch).context("a batch from rank 0 is not text")?;
        let archs = text
            .lines()
            .map(|line| space.parse_arch(line))
            .collect::<Result<Vec<_>, _>>()
            .context("a batch from rank 0 does not fit this rank's space file")?;
        score_shares(scorer, ranks, &archs)?;
    }
}

impl Drop for PipelineEvaluator<'_> {
    /// Rank 0 tells the scoring ranks that the search is over.
    fn drop(&mut self) {
        if self.scorer.is_some() && self.ranks.world_size() > 1 && self.ranks.is_lead() {
            let _ = self
                .ranks
                .broadcast_bytes(&mut Vec::new(), "the end of scoring");
        }
    }
}

impl Evaluator for PipelineEvaluator<'_> {
    fn evaluate(
        &mut self,
        archs: &[Architecture],
    ) -> Result<Vec<Evaluation>, Box<dyn std::error::Error + Send + Sync>> {
        let scores = self.scores(archs).map_err(|e| format!("{e:#}"))?;
        Ok(archs
            .iter()
            .zip(scores)
            .map(|(arch, score)| self.cost(arch, score))
            .collect())
    }

    fn has_score(&self) -> bool {
        self.scorer.is_some()
    }

    /// The latency table's predictions alone (the surrogate's inner search).
    fn predict(
        &mut self,
        archs: &[Architecture],
    ) -> Result<Vec<Evaluation>, Box<dyn std::error::Error + Send + Sync>> {
        Ok(archs.iter().map(|arch| self.cost(arch, None)).collect())
    }
}
