//! Paths recorded in a run folder's JSON file (the space a run trained on, its stage-1 run, the
//! latency table a search predicted with) are written as the command was given them, often
//! relative to the folder the command ran in. Beside them the file records that folder
//! ([`working_dir_record`]), and every reader resolves a recorded path with
//! [`resolve_recorded`], so a run works from any working folder.

use crate::FileError;
use std::path::{Component, Path, PathBuf};

/// Where a recorded path was read from, for [`resolve_recorded`].
#[derive(Debug, Clone, Copy)]
pub struct Recorded<'a> {
    /// The JSON file holding the path (`RUN/run.json`); its folder is the run folder.
    pub file: &'a Path,
    /// The field holding the path, dotted as in the file (`space_path`, `table.path`).
    pub field: &'a str,
    /// The file's recorded working folder (its `working_dir` field), `None` in files written
    /// before it was recorded.
    pub working_dir: Option<&'a Path>,
    /// The command-line flag that gives the path instead (`--space`), when there is one.
    pub flag: Option<&'a str>,
}

/// The path a recorded `path` names. An absolute path is used as it is. A relative one is looked
/// for relative to the current folder (returned as it is), then to the recorded working folder,
/// then to the run folder (both returned absolute); the first that exists wins. When none does,
/// the error names the file, the field, the recorded path, every place looked and the fix.
pub fn resolve_recorded(path: &Path, at: &Recorded<'_>) -> Result<PathBuf, FileError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    resolve_in(path, at, &cwd)
}

/// [`resolve_recorded`] for a path recorded in `run/run.json`, the file every run folder holds,
/// whose `working_dir` field is `working_dir`.
pub fn resolve_in_run(
    run: &Path,
    working_dir: Option<&Path>,
    field: &str,
    path: &Path,
    flag: Option<&str>,
) -> Result<PathBuf, FileError> {
    let file = run.join("run.json");
    let at = Recorded {
        file: &file,
        field,
        working_dir,
        flag,
    };
    resolve_recorded(path, &at)
}

/// [`resolve_recorded`] with the current folder given (so tests need not change it).
fn resolve_in(path: &Path, at: &Recorded<'_>, cwd: &Path) -> Result<PathBuf, FileError> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let here = cwd.join(path);
    if here.exists() {
        return Ok(path.to_path_buf());
    }
    let run = run_folder(at.file, cwd);
    let made_in = at.working_dir.map(|w| normalize(&run.join(w)));
    let mut looked = vec![("the current folder", here)];
    if let Some(folder) = &made_in {
        looked.push(("the folder the run was made in", folder.join(path)));
    }
    looked.push(("the run folder", run.join(path)));
    if let Some((_, found)) = looked[1..].iter().find(|(_, p)| p.exists()) {
        return Ok(found.clone());
    }
    let places: Vec<String> = looked
        .iter()
        .map(|(what, p)| format!("{what} ({})", p.display()))
        .collect();
    let from = match &made_in {
        Some(folder) => format!("the folder the run was made in ({})", folder.display()),
        None => "the folder the run was made in (this file predates recording it)".into(),
    };
    let flag = at
        .flag
        .map_or(String::new(), |f| format!("pass the path with {f}, "));
    Err(FileError::new(
        at.file,
        format!(
            "field `{}`: `{}` is a relative path, and nothing is there relative to {}; run the \
             command from {from}, {flag}or write the path into `{}`",
            at.field,
            path.display(),
            places.join(", nor "),
            at.field,
        ),
    ))
}

/// The current folder as a run folder records it: see [`folder_record`].
pub fn working_dir_record(run: &Path) -> Option<PathBuf> {
    folder_record(run, &std::env::current_dir().ok()?)
}

/// `folder` as the run folder `run` (which must exist) records it: relative to `run` (`../..` for
/// `--out runs/x` given in the project folder), so the record is the same in every checkout and
/// still right when the project moves; absolute when the two share no folder but the root.
/// `None` when either cannot be resolved.
pub fn folder_record(run: &Path, folder: &Path) -> Option<PathBuf> {
    let (run, folder) = (run.canonicalize().ok()?, folder.canonicalize().ok()?);
    let (a, b): (Vec<Component>, Vec<Component>) =
        (run.components().collect(), folder.components().collect());
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let below_root = a[..common]
        .iter()
        .any(|c| matches!(c, Component::Normal(_)));
    if !below_root {
        return Some(folder);
    }
    let mut record: PathBuf = a[common..].iter().map(|_| Component::ParentDir).collect();
    record.extend(&b[common..]);
    if record.as_os_str().is_empty() {
        record.push(".");
    }
    Some(record)
}

/// The folder a recorded working folder names (absolute): `working_dir` taken from `file`'s run
/// folder.
pub fn recorded_folder(file: &Path, working_dir: &Path) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_default();
    normalize(&run_folder(file, &cwd).join(working_dir))
}

/// The folder of `file`, absolute (resolved through symlinks when it exists, so a recorded `..`
/// climbs out of the real folder).
fn run_folder(file: &Path, cwd: &Path) -> PathBuf {
    let run = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    run.canonicalize()
        .unwrap_or_else(|_| normalize(&cwd.join(run)))
}

/// `path` without `.` components and with each `..` taking away the component before it.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project folder holding `tables/t.json` and the run folder `runs/search` (with its
    /// run.json), and an unrelated folder to run from.
    struct Layout {
        _tmp: tempfile::TempDir,
        project: PathBuf,
        run_json: PathBuf,
        elsewhere: PathBuf,
    }

    fn layout() -> Layout {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        let project = root.join("project");
        let run = project.join("runs/search");
        let elsewhere = root.join("elsewhere");
        for dir in [&project.join("tables"), &run, &elsewhere] {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(project.join("tables/t.json"), "{}").unwrap();
        std::fs::write(run.join("run.json"), "{}").unwrap();
        Layout {
            _tmp: tmp,
            project,
            run_json: run.join("run.json"),
            elsewhere,
        }
    }

    fn at<'a>(file: &'a Path, working_dir: Option<&'a Path>) -> Recorded<'a> {
        Recorded {
            file,
            field: "table.path",
            working_dir,
            flag: Some("--table"),
        }
    }

    #[test]
    fn an_absolute_recorded_path_is_used_as_it_is() {
        let l = layout();
        let table = l.project.join("tables/t.json");
        let found = resolve_in(&table, &at(&l.run_json, None), &l.elsewhere).unwrap();
        assert_eq!(found, table);
        // Even when missing: whoever opens it names it, and it is not relative to anything.
        let gone = l.project.join("gone.json");
        assert_eq!(
            resolve_in(&gone, &at(&l.run_json, None), &l.elsewhere).unwrap(),
            gone
        );
    }

    #[test]
    fn a_relative_path_is_found_from_the_current_folder_first() {
        let l = layout();
        let rel = Path::new("tables/t.json");
        // Run from the project folder: today's behaviour, the path comes back as recorded.
        let found = resolve_in(
            rel,
            &at(&l.run_json, Some(Path::new("/nowhere"))),
            &l.project,
        );
        assert_eq!(found.unwrap(), rel);
    }

    #[test]
    fn a_relative_path_is_found_from_the_recorded_working_folder() {
        let l = layout();
        let rel = Path::new("tables/t.json");
        let record = folder_record(l.run_json.parent().unwrap(), &l.project).unwrap();
        assert_eq!(record, Path::new("../.."));
        let found = resolve_in(rel, &at(&l.run_json, Some(&record)), &l.elsewhere).unwrap();
        assert_eq!(found, l.project.join("tables/t.json"));
        assert_eq!(
            recorded_folder(&l.run_json, &record),
            l.project,
            "the record names the project folder"
        );
    }

    #[test]
    fn a_relative_path_is_found_from_the_run_folder() {
        let l = layout();
        let run = l.run_json.parent().unwrap();
        std::fs::write(run.join("split.json"), "{}").unwrap();
        let rel = Path::new("split.json");
        // No working folder recorded (an older run.json): the run folder is still tried.
        let found = resolve_in(rel, &at(&l.run_json, None), &l.elsewhere).unwrap();
        assert_eq!(found, run.join("split.json"));
    }

    #[test]
    fn a_path_missing_everywhere_names_the_file_field_places_and_fix() {
        let l = layout();
        let rel = Path::new("tables/gone.json");
        let record = PathBuf::from("../..");
        let e = resolve_in(rel, &at(&l.run_json, Some(&record)), &l.elsewhere).unwrap_err();
        assert_eq!(e.path, l.run_json);
        let msg = e.to_string();
        let run = l.run_json.parent().unwrap();
        for part in [
            l.run_json.display().to_string(),
            "field `table.path`".into(),
            "`tables/gone.json` is a relative path".into(),
            format!("current folder ({})", l.elsewhere.join(rel).display()),
            format!("made in ({})", l.project.join(rel).display()),
            format!("run folder ({})", run.join(rel).display()),
            format!(
                "run the command from the folder the run was made in ({})",
                l.project.display()
            ),
            "pass the path with --table".into(),
            "write the path into `table.path`".into(),
        ] {
            assert!(msg.contains(&part), "`{part}` missing from: {msg}");
        }
        // Without a recorded working folder the message says why it cannot name it.
        let msg = resolve_in(rel, &at(&l.run_json, None), &l.elsewhere)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("predates recording it"), "{msg}");
        assert!(
            !msg.contains("nor the folder the run was made in ("),
            "{msg}"
        );
    }

    #[test]
    fn folders_are_recorded_relative_unless_only_the_root_is_shared() {
        let l = layout();
        let run = l.run_json.parent().unwrap();
        assert_eq!(folder_record(run, run).unwrap(), Path::new("."));
        assert_eq!(
            folder_record(run, &l.elsewhere).unwrap(),
            Path::new("../../../elsewhere")
        );
        assert_eq!(folder_record(run, Path::new("/")).unwrap(), Path::new("/"));
        assert_eq!(folder_record(&run.join("missing"), run), None);
        assert_eq!(normalize(Path::new("/a/./b/../c")), Path::new("/a/c"));
        assert_eq!(normalize(Path::new("../a/..")), Path::new(".."));
    }
}
