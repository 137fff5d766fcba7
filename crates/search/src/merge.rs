//! Joining the shards of an exhaustive or random run (run on several machines with
//! `--shard i/n`) into one run folder, with the front and summary recomputed.

use crate::error::SearchError;
use crate::files::{read_json, write_json};
use crate::outputs::{reference_point, write_outputs};
use crate::results::{write_rows, ResultRow};
use crate::results_read::read_results;
use crate::run::{unstarted, Created, SearchOutcome};
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
    // The output is checked before any input is read, and written only once all are good.
    let reused = check_out(run_dirs, out_dir)?;
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
    check_every_shard(run_dirs, &shard_indices)?;
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
    for f in reused {
        std::fs::remove_file(&f).map_err(|e| SearchError::io(&f, "removing", e))?;
    }
    let created = Created::folder(out_dir)?;
    // The paths stay relative to the folder the first shard ran in, recorded from here.
    settings.working_dir = base.working_dir.as_deref().and_then(|w| {
        vidnas_io::folder_record(
            out_dir,
            &vidnas_io::recorded_folder(&first_dir.join("run.json"), w),
        )
    });
    let results_csv = out_dir.join("results.csv");
    let run_json = out_dir.join("run.json");
    let all: Vec<&ResultRow> = rows.iter().collect();
    let written = write_json(&run_json, &settings)
        .and_then(|_| write_rows(&results_csv, space, &settings.joint(), &all, None, false))
        .and_then(|_| write_outputs(out_dir, space, &settings, &rows));
    let derived = match written {
        Ok(d) => d,
        // An empty front is a finished merge (its files say so); anything else is undone.
        Err(e @ SearchError::NoFeasible { .. }) => return Err(e),
        Err(e) => {
            let derived = [
                "front.csv",
                "results_with_front.csv",
                "progress.csv",
                "summary.json",
            ]
            .map(|f| out_dir.join(f));
            let mut files: Vec<&Path> = vec![&run_json, &results_csv];
            files.extend(derived.iter().map(PathBuf::as_path));
            created.undo(&files);
            return Err(e);
        }
    };
    let front = derived.front.iter().map(|&i| rows[i].clone()).collect();
    Ok(SearchOutcome {
        settings,
        rows,
        front,
        summary: derived.summary,
        scored_now: 0,
        surrogate_rows: 0,
        surrogate_fits: Vec::new(),
    })
}

/// Refuses an output folder that is one of the inputs or already holds a run; returns the
/// files of a run there that never recorded a row (removed before writing).
fn check_out(run_dirs: &[PathBuf], out_dir: &Path) -> Result<Vec<PathBuf>, SearchError> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    };
    if let Some(d) = run_dirs.iter().find(|d| same(d, out_dir)) {
        return Err(SearchError::Merge {
            path: out_dir.to_path_buf(),
            message: format!("--out is the shard folder {}", d.display()),
            fix: "write the merged run to a new folder".into(),
        });
    }
    if let Some(files) = unstarted(out_dir)? {
        return Ok(files);
    }
    if out_dir.join("run.json").exists() || out_dir.join("results.csv").exists() {
        return Err(SearchError::AlreadyStarted {
            path: out_dir.to_path_buf(),
        });
    }
    Ok(Vec::new())
}

/// Every shard i/n for i < n must be given once, all with the same n: a merge of some shards
/// would look like a whole run.
fn check_every_shard(
    run_dirs: &[PathBuf],
    shards: &HashSet<(usize, usize)>,
) -> Result<(), SearchError> {
    let Some(&(_, count)) = shards.iter().next() else {
        return Ok(());
    };
    let path = run_dirs[0].join("run.json");
    if let Some((i, n)) = shards.iter().find(|s| s.1 != count) {
        return Err(SearchError::Merge {
            path,
            message: format!("shard {i}/{n} is of a split into {n}, another is of {count}"),
            fix: "merge the shards of one split (the same n in every --shard i/n)".into(),
        });
    }
    let missing: Vec<String> = (0..count)
        .filter(|i| !shards.contains(&(*i, count)))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() || shards.len() != run_dirs.len() {
        return Err(SearchError::Merge {
            path,
            message: match missing.is_empty() {
                true => "some folders are not shards (no `shard` in run.json)".into(),
                false => format!("shard(s) {} are not given", missing.join(", ")),
            },
            fix: "name the folder of every shard i/n, 0 <= i < n, once each".into(),
        });
    }
    Ok(())
}
