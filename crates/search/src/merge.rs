//! Joining the shards of an exhaustive or random run (run on several machines with
//! `--shard i/n`) into one run folder, with the front and summary recomputed.

use crate::error::SearchError;
use crate::files::{create_dir, read_json, write_json};
use crate::outputs::{reference_point, write_outputs};
use crate::results::{read_results, write_rows, ResultRow};
use crate::run::SearchOutcome;
use crate::settings::RunSettings;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use vidnas_space::Space;

/// Merges the run folders `run_dirs` (shards of one search: same space, algorithm, seed, budgets,
/// table and supernet) into `out_dir`: rows deduplicated by arch id (first shard wins), ordered by
/// generation, then every derived file recomputed. A derived reference point is re-derived from
/// the union's first generation, which is what the unsharded run would have used.
pub fn merge(
    space: &Space,
    run_dirs: &[PathBuf],
    out_dir: &Path,
) -> Result<SearchOutcome, SearchError> {
    let Some(first_dir) = run_dirs.first() else {
        return Err(SearchError::Merge {
            path: out_dir.to_path_buf(),
            message: "no run folders given".into(),
            fix: "name the shard folders to merge".into(),
        });
    };
    let base: RunSettings = read_json(&first_dir.join("run.json"), "run.json")?;
    let mut shard_indices = HashSet::new();
    let mut rows: Vec<ResultRow> = Vec::new();
    let mut ids = HashSet::new();
    for dir in run_dirs {
        let run_json = dir.join("run.json");
        let settings: RunSettings = read_json(&run_json, "run.json")?;
        if settings.space.hash != space.hash() {
            return Err(SearchError::Merge {
                path: run_json,
                message: format!(
                    "it searched space `{}` (hash {}) but the given space `{}` has hash {}",
                    settings.space.name,
                    settings.space.hash,
                    space.name(),
                    space.hash()
                ),
                fix: "give the search-space file the shards were run with".into(),
            });
        }
        base.check_same(&run_json, &settings, &["shard", "merged_from"])?;
        if let Some(s) = settings.shard {
            if !shard_indices.insert((s.index, s.count)) {
                return Err(SearchError::Merge {
                    path: run_json,
                    message: format!("shard {}/{} is given twice", s.index, s.count),
                    fix: "name each shard folder once".into(),
                });
            }
        }
        for row in read_results(&dir.join("results.csv"), space)?.rows {
            if ids.insert(row.arch_id.clone()) {
                rows.push(row);
            }
        }
    }
    rows.sort_by_key(|r| r.generation);
    let mut settings = base.clone();
    settings.shard = None;
    settings.merged_from = run_dirs.iter().map(|d| d.display().to_string()).collect();
    if !settings.hv_reference.given {
        // Forget the first shard's own point: re-derive it from the union.
        settings.hv_reference.point = None;
        let point = reference_point(&settings, &rows);
        settings.hv_reference.point = Some(point);
    }
    for r in &mut rows {
        r.feasible = settings.budgets.is_feasible(&r.eval);
    }
    create_dir(out_dir)?;
    let results_csv = out_dir.join("results.csv");
    if results_csv.exists() {
        return Err(SearchError::AlreadyStarted {
            path: out_dir.to_path_buf(),
        });
    }
    write_json(&out_dir.join("run.json"), &settings)?;
    let all: Vec<&ResultRow> = rows.iter().collect();
    write_rows(&results_csv, space, &all, None)?;
    let derived = write_outputs(out_dir, space, &settings, &rows)?;
    let front = derived.front.iter().map(|&i| rows[i].clone()).collect();
    Ok(SearchOutcome {
        settings,
        rows,
        front,
        summary: derived.summary,
        scored_now: 0,
    })
}
