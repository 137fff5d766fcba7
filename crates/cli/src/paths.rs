//! Output paths and names, checked by clap while it parses, so a command refuses them before it
//! reads an input or writes a file: a name is a plain file name, an output folder is not a file,
//! and no output is a dangling or looping symlink or sits under a file.

use std::path::{Path, PathBuf};

/// Creates an output folder (and its parents); the error names the folder and what to check.
pub fn create_out_dir(path: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(path).map_err(|e| {
        anyhow::anyhow!(
            "{}: cannot create the folder: {e}; check that its parent is writable and the disk \
             has room, or give another path",
            path.display()
        )
    })
}

/// `--name` and the like: a plain file name (no separator, no `..`, not empty, not hidden), so
/// `<out>/<name>.json` stays inside `<out>`.
pub fn plain_name(text: &str) -> Result<String, String> {
    let problem = if text.is_empty() {
        Some("is empty")
    } else if text.contains(['/', '\\']) {
        Some("contains a path separator")
    } else if text.starts_with('.') {
        Some("starts with `.` (a hidden file, or `..` leaving the output folder)")
    } else if text.chars().any(char::is_control) {
        Some("contains a control character")
    } else {
        None
    };
    match problem {
        Some(why) => Err(format!(
            "{why}; give a plain file name such as `tiny-demo` (letters, digits, `-`, `_`)"
        )),
        None => Ok(text.to_string()),
    }
}

/// An output folder: absent (it is created), or an existing folder.
pub fn out_dir(text: &str) -> Result<PathBuf, String> {
    let path = output_path(text)?;
    match path.metadata() {
        Ok(m) if !m.is_dir() => Err(
            "exists and is a file; give a folder (a new path, or an existing folder), or move \
             the file away"
                .into(),
        ),
        _ => Ok(path),
    }
}

/// An output file: absent, or an existing file (overwritten or merged, as the flag says).
pub fn out_file(text: &str) -> Result<PathBuf, String> {
    let path = output_path(text)?;
    match path.metadata() {
        Ok(m) if m.is_dir() => Err(
            "is a folder; give a file path (e.g. inside that folder), or move the folder away"
                .into(),
        ),
        _ => Ok(path),
    }
}

/// What output folders and files share: not empty, not a dangling or looping symlink, and no
/// existing ancestor that is a file (`create_dir_all` would fail with "Not a directory").
fn output_path(text: &str) -> Result<PathBuf, String> {
    if text.is_empty() {
        return Err("is empty; give a path".into());
    }
    let path = PathBuf::from(text);
    if let Some(why) = broken_symlink(&path) {
        return Err(format!(
            "is a {why} symlink; remove it, or point it at a folder or file that exists"
        ));
    }
    for ancestor in path.ancestors().skip(1) {
        if ancestor.as_os_str().is_empty() {
            break;
        }
        if let Some(why) = broken_symlink(ancestor) {
            return Err(format!(
                "its folder {} is a {why} symlink; remove it or give another path",
                ancestor.display()
            ));
        }
        match ancestor.metadata() {
            Ok(m) if m.is_dir() => break,
            Ok(_) => {
                return Err(format!(
                    "{} is a file, so nothing can be written under it; give another path",
                    ancestor.display()
                ))
            }
            Err(_) => continue,
        }
    }
    Ok(path)
}

/// `Some("dangling")` or `Some("looping")` when `path` is a symlink whose target cannot be
/// reached.
fn broken_symlink(path: &Path) -> Option<&'static str> {
    let link = path.symlink_metadata().ok()?;
    if !link.file_type().is_symlink() {
        return None;
    }
    match path.metadata() {
        Ok(_) => None,
        Err(e) if e.raw_os_error() == Some(40) => Some("looping"), // ELOOP
        Err(_) => Some("dangling"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_plain() {
        assert_eq!(plain_name("tiny-demo").unwrap(), "tiny-demo");
        for bad in ["", "../escaped", "a/b", "a\\b", ".hidden", "..", "a\nb"] {
            let e = plain_name(bad).unwrap_err();
            assert!(e.contains("plain file name"), "{bad:?}: {e}");
        }
    }

    #[test]
    fn outputs_refuse_files_folders_and_broken_links() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        let s = |p: &Path| p.to_str().unwrap().to_string();
        assert!(out_dir(&s(&file)).unwrap_err().contains("is a file"));
        assert!(out_dir(&s(&file.join("run")))
            .unwrap_err()
            .contains("is a file"));
        assert!(out_file(&s(dir.path()))
            .unwrap_err()
            .contains("is a folder"));
        assert!(out_dir(&s(&dir.path().join("new/run"))).is_ok());
        assert!(out_file(&s(&file)).is_ok());
        let dangling = dir.path().join("dangling");
        std::os::unix::fs::symlink(dir.path().join("missing"), &dangling).unwrap();
        assert!(out_dir(&s(&dangling)).unwrap_err().contains("dangling"));
        assert!(out_file(&s(&dangling.join("x.gif")))
            .unwrap_err()
            .contains("dangling"));
        let looping = dir.path().join("loop");
        std::os::unix::fs::symlink(&looping, &looping).unwrap();
        assert!(out_file(&s(&looping)).unwrap_err().contains("looping"));
        assert!(out_dir("").is_err());
    }
}
