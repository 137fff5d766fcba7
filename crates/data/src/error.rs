//! The one error type of this crate.
//!
//! Every variant that can reach a user names the file, folder or field involved and says what
//! to do about it, so a failed run can be fixed without reading the source.

use std::path::PathBuf;

/// Everything that can go wrong while generating, loading, tokenising or writing clips.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A clip shape or generator setting is out of range.
    #[error("invalid clip shape: {field} = {value}; {hint}")]
    InvalidShape {
        /// The offending field (`frames`, `height`, `width`, `channels`).
        field: &'static str,
        /// Its value.
        value: usize,
        /// What to set instead.
        hint: &'static str,
    },

    /// A label that the generator cannot draw (e.g. a rotating circle looks static).
    #[error("cannot draw \"{caption}\": {reason}")]
    InvalidLabel {
        /// The caption the label would have produced.
        caption: String,
        /// Why it cannot be drawn and what to pick instead.
        reason: &'static str,
    },

    /// A prompt used words outside the model's vocabulary.
    #[error(
        "unknown words in prompt: {}; the model's vocabulary has {vocab_size} words: {known}",
        quoted(.words)
    )]
    UnknownWords {
        /// Every unknown word, in prompt order, without repeats.
        words: Vec<String>,
        /// Number of real words in the vocabulary (special tokens excluded).
        vocab_size: usize,
        /// The known words, comma separated (shortened for large vocabularies).
        known: String,
    },

    /// A prompt has more words than the text encoder's context.
    #[error("prompt has {words} words but the model reads at most {max_len}; shorten the prompt")]
    PromptTooLong {
        /// Words in the prompt.
        words: usize,
        /// The context length.
        max_len: usize,
    },

    /// A stored vocabulary is inconsistent.
    #[error(
        "invalid vocabulary: {reason}; rebuild it with Vocab::procedural or Vocab::from_captions"
    )]
    InvalidVocab {
        /// What is wrong with it.
        reason: String,
    },

    /// A file or folder could not be read, written or renamed.
    #[error("cannot {action} {}: {source}; check that the path exists and is accessible", .path.display())]
    Io {
        /// What was being done ("read", "create", "rename to final name", ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating-system error.
        #[source]
        source: std::io::Error,
    },

    /// A clip folder has no caption.
    #[error(
        "clip folder {} has no caption.txt; add a caption.txt holding one line that describes the clip",
        .dir.display()
    )]
    MissingCaption {
        /// The clip folder.
        dir: PathBuf,
    },

    /// A caption file exists but holds no words.
    #[error("caption file {} is empty; write one line that describes the clip", .path.display())]
    EmptyCaption {
        /// The caption file.
        path: PathBuf,
    },

    /// A clip folder holds no PNG or JPEG frames.
    #[error(
        "clip folder {} has no frames; add frames as .png or .jpg files named so that they sort in time order (e.g. 0000.png)",
        .dir.display()
    )]
    NoFrames {
        /// The clip folder.
        dir: PathBuf,
    },

    /// A clip folder holds fewer frames than the model needs.
    #[error(
        "clip folder {} has {found} frames but clips need {needed}; add frames or remove the folder",
        .dir.display()
    )]
    TooFewFrames {
        /// The clip folder.
        dir: PathBuf,
        /// Frames found.
        found: usize,
        /// Frames needed.
        needed: usize,
    },

    /// A data-set root holds no clip folders.
    #[error(
        "data folder {} has no clip folders; put each clip in its own sub-folder with its frames and a caption.txt",
        .root.display()
    )]
    NoClips {
        /// The data-set root.
        root: PathBuf,
    },

    /// An image could not be decoded.
    #[error("cannot decode image {}: {source}; re-export it as PNG or JPEG", .path.display())]
    ImageDecode {
        /// The image file.
        path: PathBuf,
        /// The decoder's error.
        #[source]
        source: image::ImageError,
    },

    /// A frame's size differs from the clip's first frame.
    #[error(
        "frame {} is {}x{} but the clip's first frame {} is {}x{}; every frame of a clip must have one size (resize or remove it)",
        .path.display(), .found.0, .found.1, .first.display(), .expected.0, .expected.1
    )]
    FrameSize {
        /// The odd frame.
        path: PathBuf,
        /// Its width and height.
        found: (u32, u32),
        /// The clip's first frame.
        first: PathBuf,
        /// The first frame's width and height.
        expected: (u32, u32),
    },

    /// A clip folder holds an image in a format frames cannot be read from.
    #[error(
        "{} is not a PNG or JPEG frame; convert it to .png (or move it out of the clip folder)",
        .path.display()
    )]
    UnsupportedFrame {
        /// The image file.
        path: PathBuf,
    },

    /// An image or GIF could not be encoded.
    #[error("cannot encode {}: {source}", .path.display())]
    ImageEncode {
        /// The output file.
        path: PathBuf,
        /// The encoder's error.
        #[source]
        source: image::ImageError,
    },

    /// Clips, frames or buffers of different shapes were mixed.
    #[error("shape mismatch in {what}: expected {expected}, found {found}")]
    ShapeMismatch {
        /// Where the mismatch was found.
        what: String,
        /// The expected shape.
        expected: String,
        /// The shape found.
        found: String,
    },

    /// A data file is malformed; `problem` says what and how to fix it.
    #[error("{}: {problem}", .path.display())]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        problem: String,
    },

    /// A data set would hold no clips.
    #[error("data set is empty: {hint}")]
    EmptyDataset {
        /// What to change.
        hint: &'static str,
    },
}

/// `"a", "b"`: quoted, comma separated, for error messages.
fn quoted(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("{w:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl From<vidnas_io::FileError> for DataError {
    fn from(e: vidnas_io::FileError) -> Self {
        DataError::BadFile {
            path: e.path,
            problem: e.message,
        }
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

/// Attaches the path and action to an I/O error.
pub(crate) fn io_err(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> DataError {
    let path = path.into();
    move |source| DataError::Io {
        action,
        path,
        source,
    }
}
