//! Run folders of the few-step stages: a JSON file recording what the run does, refused on a
//! mismatch when resuming so a resumed run continues the same computation.

use crate::error::FewStepError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::Path;
use vidnas_diffusion::run_folder::has_started;

/// Checks `run` before anything is written. A started run (see [`has_started`]) is refused
/// without `resume`, and with it every field of `run/name` except those in `may_change` must
/// equal `info`'s. A folder whose run never started is reused as if it were new.
pub(crate) fn check_run<T: Serialize + DeserializeOwned>(
    run: &Path,
    name: &str,
    info: &T,
    resume: bool,
    may_change: &[&str],
) -> Result<(), FewStepError> {
    let path = run.join(name);
    if !path.exists() || !has_started(run) {
        return Ok(());
    }
    if !resume {
        return Err(FewStepError::file(
            run,
            "already holds a run; pass --resume to continue it or choose another --out",
        ));
    }
    let text = vidnas_io::read_text(&path)?;
    // Parsing it as `T` checks the format before comparing (the error names the field).
    vidnas_io::parse_json::<T>(&path, &text)?;
    let old: serde_json::Value = vidnas_io::parse_json(&path, &text)?;
    let new = serde_json::to_value(info).expect("serialises");
    if let Some(field) = first_difference(&old, &new, "", may_change) {
        return Err(FewStepError::file(
            &path,
            format!(
                "`{field}` differs from the run being resumed; rerun with the original setting or use another --out"
            ),
        ));
    }
    Ok(())
}

/// Creates the run folder and writes `run/name` (after [`check_run`]).
pub(crate) fn write_run_info<T: Serialize>(
    run: &Path,
    name: &str,
    info: &T,
) -> Result<(), FewStepError> {
    std::fs::create_dir_all(run).map_err(|e| FewStepError::file(run, e))?;
    Ok(vidnas_io::write_json(&run.join(name), info)?)
}

/// The dotted path of the first field where `a` and `b` differ, skipping `may_change` paths.
fn first_difference(
    a: &serde_json::Value,
    b: &serde_json::Value,
    prefix: &str,
    may_change: &[&str],
) -> Option<String> {
    use serde_json::Value;
    if may_change.contains(&prefix) {
        return None;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter().find_map(|k| {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => first_difference(u, v, &path, may_change),
                    _ if may_change.contains(&path.as_str()) => None,
                    _ => Some(path),
                }
            })
        }
        _ if a == b => None,
        _ => Some(if prefix.is_empty() {
            "(file)".into()
        } else {
            prefix.into()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::first_difference;
    use serde_json::json;

    #[test]
    fn names_the_first_differing_field_unless_it_may_change() {
        let a = json!({"train": {"steps": 10, "lr": 1e-3}, "seed": 0});
        let b = json!({"train": {"steps": 20, "lr": 1e-3}, "seed": 0});
        let c = json!({"train": {"steps": 20, "lr": 2e-3}, "seed": 0});
        assert_eq!(
            first_difference(&a, &b, "", &[]),
            Some("train.steps".into())
        );
        assert_eq!(first_difference(&a, &b, "", &["train.steps"]), None);
        assert_eq!(
            first_difference(&a, &c, "", &["train.steps"]),
            Some("train.lr".into())
        );
    }
}
