//! Writing a space file atomically, after validating it.

use crate::error::ImportError;
use std::path::Path;
use vidnas_space::{Space, SpaceFile};

/// Validates `space` (as `Space::from_file` does when the file is loaded) and writes it to `out`
/// as pretty JSON, atomically: a temporary file beside `out`, then a rename, so `out` is either
/// the old file or the complete new one. Returns the validated space.
pub fn write_space(space: &SpaceFile, out: &Path) -> Result<Space, ImportError> {
    let validated = Space::from_file(out, space.clone())?;
    // Space files end with a newline.
    let mut text = serde_json::to_string_pretty(space).expect("a space always serialises");
    text.push('\n');
    vidnas_io::write_atomic(out, text.as_bytes())?;
    Ok(validated)
}
