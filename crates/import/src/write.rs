//! Writing a space file atomically, after validating it.

use crate::error::ImportError;
use std::path::Path;
use vidnas_space::{Space, SpaceFile};

/// Validates `space` (as `Space::from_file` does when the file is loaded) and writes it to `out`
/// as pretty JSON, atomically: a temporary file beside `out`, then a rename, so `out` is either
/// the old file or the complete new one. Returns the validated space.
pub fn write_space(space: &SpaceFile, out: &Path) -> Result<Space, ImportError> {
    let validated = Space::from_file(out, space.clone())?;
    let mut text = serde_json::to_string_pretty(space).expect("a space always serialises");
    text.push('\n');
    let name = out
        .file_name()
        .map_or("space.json".into(), |n| n.to_string_lossy().into_owned());
    let tmp = out.with_file_name(format!(".{name}.tmp"));
    let write_err = |source| ImportError::Write {
        path: out.to_path_buf(),
        source,
    };
    std::fs::write(&tmp, text).map_err(write_err)?;
    std::fs::rename(&tmp, out).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        write_err(e)
    })?;
    Ok(validated)
}
