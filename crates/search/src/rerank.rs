//! Re-ranking the front by short fine-tuning (`search --rerank K`): K front architectures
//! inherit the supernet's weights, train a few steps each on their own, and are scored again on
//! the same validation clips (the caller trains and scores; the search crate is pure Rust).
//! On the ranking benchmark this ranks better than any supernet alone
//! (`reports/ranking/methods.md`). The scores go to the run folder's `rerank.csv`; once it
//! exists the run's front is the Pareto set of the re-ranked architectures under their new
//! scores (`score_source` `rerank` in front.csv), which export and `--select` then use.

use crate::error::SearchError;
use crate::files::{csv_text, read_values_by_id};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The file in a run folder.
pub const RERANK_FILE: &str = "rerank.csv";

/// Columns of rerank.csv.
pub const RERANK_COLUMNS: [&str; 5] = ["arch_id", "arch", "steps", "supernet_score", "score"];

/// The fine-tuning run folder of one re-ranked architecture inside a search run folder.
pub fn rerank_run(run_dir: &Path, arch_id: &str) -> PathBuf {
    run_dir.join("rerank").join(arch_id)
}

/// The finished fine-tuning run of `arch_id` (the weights its re-ranked score measured), if
/// the search re-ranked it.
pub fn finished_rerank_run(run_dir: &Path, arch_id: &str) -> Option<PathBuf> {
    let run = rerank_run(run_dir, arch_id);
    run.join("model.safetensors").exists().then_some(run)
}

/// One front architecture fine-tuned and scored again.
#[derive(Debug, Clone, PartialEq)]
pub struct Reranked {
    pub arch_id: String,
    pub arch: String,
    /// Fine-tuning steps from the supernet's weights.
    pub steps: usize,
    /// The supernet's score (what the search ranked by).
    pub supernet_score: f64,
    /// The validation loss after fine-tuning (what the front now ranks by).
    pub score: f64,
}

/// Writes rerank.csv into `run_dir` atomically.
pub fn write_reranked(run_dir: &Path, rows: &[Reranked]) -> Result<(), SearchError> {
    let text = csv_text(
        &RERANK_COLUMNS,
        rows.iter().map(|r| {
            [
                r.arch_id.clone(),
                r.arch.clone(),
                r.steps.to_string(),
                r.supernet_score.to_string(),
                r.score.to_string(),
            ]
        }),
    );
    Ok(vidnas_io::write_atomic(
        &run_dir.join(RERANK_FILE),
        text.as_bytes(),
    )?)
}

/// Re-ranked score by `arch_id` from `run_dir`'s rerank.csv; empty when there is none.
pub fn read_reranked(run_dir: &Path) -> Result<HashMap<String, f64>, SearchError> {
    read_values_by_id(
        &run_dir.join(RERANK_FILE),
        &RERANK_COLUMNS,
        4,
        f64::is_finite,
        "a finite number",
        "delete rerank.csv and run the search again with --resume (the fine-tuned runs under rerank/ are reused)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_round_trip_and_bad_files_name_the_line() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_reranked(dir.path()).unwrap().is_empty());
        let rows = [
            Reranked {
                arch_id: "a".into(),
                arch: "none".into(),
                steps: 20,
                supernet_score: 0.5,
                score: 0.25,
            },
            Reranked {
                arch_id: "b".into(),
                arch: "conv1d".into(),
                steps: 20,
                supernet_score: 0.75,
                score: 0.125,
            },
        ];
        write_reranked(dir.path(), &rows).unwrap();
        let text = std::fs::read_to_string(dir.path().join(RERANK_FILE)).unwrap();
        assert_eq!(
            text,
            "arch_id,arch,steps,supernet_score,score\na,none,20,0.5,0.25\nb,conv1d,20,0.75,0.125\n"
        );
        let m = read_reranked(dir.path()).unwrap();
        assert_eq!((m["a"], m["b"]), (0.25, 0.125));
        std::fs::write(dir.path().join(RERANK_FILE), text.replace("0.125", "NaN")).unwrap();
        let msg = read_reranked(dir.path()).unwrap_err().to_string();
        assert!(
            msg.contains("line 3") && msg.contains("`NaN`") && msg.contains("rerank.csv"),
            "{msg}"
        );
    }
}
