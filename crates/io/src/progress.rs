//! The one way vidnas draws progress: an indicatif bar on stderr, or a hidden one.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar of `len` items drawn with the indicatif `template` (e.g. `"eval [{bar:30}] {pos}/{len}
/// prompts, eta {eta} {msg}"`) on stderr, or hidden when `shown` is false (other ranks, tests,
/// a caller that prints its own lines).
pub fn progress_bar(shown: bool, len: u64, template: &str) -> ProgressBar {
    let bar = if shown {
        ProgressBar::new(len)
    } else {
        // Counted like a drawn one, so callers may read it back.
        let hidden = ProgressBar::hidden();
        hidden.set_length(len);
        hidden
    };
    // A template is written in code, never read from input: a bad one is a bug caught in tests.
    let style = ProgressStyle::with_template(template).expect("a valid progress template");
    bar.set_style(style.progress_chars("=> "));
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_bars_count_without_drawing() {
        let bar = progress_bar(false, 4, "t [{bar:10}] {pos}/{len} steps {msg}");
        assert!(bar.is_hidden());
        bar.inc(3);
        assert_eq!((bar.position(), bar.length()), (3, Some(4)));
    }
}
