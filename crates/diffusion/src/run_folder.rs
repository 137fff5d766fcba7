//! Failed starts leave nothing behind. A run has *started* once it has written a checkpoint
//! or an output; before that its folder holds only the settings file, which the same or a
//! corrected command may overwrite without `--resume`. When a start fails before that point,
//! [`clean_failed_start`] removes what it created.

use std::path::Path;

/// Files whose presence means a run has progress worth keeping.
const PROGRESS: [&str; 4] = [
    "checkpoint",
    "checkpoint.old",
    "model.safetensors",
    "teacher-pool.safetensors",
];

/// Whether the run in `run` has written a checkpoint or an output.
pub fn has_started(run: &Path) -> bool {
    PROGRESS.iter().any(|p| run.join(p).exists())
}

/// What a start found before it wrote anything: whether the folder existed.
#[derive(Debug, Clone, Copy)]
pub struct StartState {
    folder_existed: bool,
}

impl StartState {
    pub fn before(run: &Path) -> Self {
        Self {
            folder_existed: run.exists(),
        }
    }
}

/// [`clean_failed_start`] for the process that writes the run (rank 0, or the only one); the
/// other ranks of a data-parallel launch write nothing, so they only run `body`.
pub fn clean_failed_start_if<T, E>(
    writes: bool,
    run: &Path,
    own: &[&str],
    body: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    if writes {
        clean_failed_start(run, own, body)
    } else {
        body()
    }
}

/// Runs `body`; if it fails and the run never started, removes the files this start wrote:
/// the whole folder when the start created it, else the `own` files (the settings file and a
/// half-written checkpoint).
pub fn clean_failed_start<T, E>(
    run: &Path,
    own: &[&str],
    body: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    let state = StartState::before(run);
    let result = body();
    if result.is_err() && !has_started(run) {
        if !state.folder_existed {
            let _ = std::fs::remove_dir_all(run);
        } else {
            for name in own.iter().chain(["checkpoint.tmp"].iter()) {
                let path = run.join(name);
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_first_start_removes_the_folder_it_made() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("run");
        let r: Result<(), &str> = clean_failed_start(&run, &["run.json"], || {
            std::fs::create_dir_all(&run).unwrap();
            std::fs::write(run.join("run.json"), "{}").unwrap();
            Err("bad input")
        });
        assert!(r.is_err() && !run.exists());
    }

    #[test]
    fn a_failed_start_in_an_existing_folder_removes_only_its_own_files() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path();
        std::fs::write(run.join("notes.txt"), "mine").unwrap();
        let r: Result<(), &str> = clean_failed_start(run, &["run.json"], || {
            std::fs::write(run.join("run.json"), "{}").unwrap();
            Err("bad input")
        });
        assert!(r.is_err() && !run.join("run.json").exists() && run.join("notes.txt").exists());
    }

    #[test]
    fn a_started_run_keeps_everything_when_it_fails_later() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("run");
        let r: Result<(), &str> = clean_failed_start(&run, &["run.json"], || {
            std::fs::create_dir_all(run.join("checkpoint")).unwrap();
            std::fs::write(run.join("run.json"), "{}").unwrap();
            Err("loss became NaN")
        });
        assert!(r.is_err() && run.join("run.json").exists());
        assert!(has_started(&run));
    }
}
