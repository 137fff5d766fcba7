use crate::error::SpaceError;
use crate::format::SpaceFile;
use crate::slots::{derive_slots, Slot};
use crate::validate::{check_slots, check_structure};
use std::path::{Path, PathBuf};

/// A validated search space: the file, its derived slots and a content hash.
#[derive(Debug, Clone)]
pub struct Space {
    pub file: SpaceFile,
    /// Where it was read from (used in error messages).
    pub path: PathBuf,
    pub slots: Vec<Slot>,
    hash: String,
}

impl Space {
    /// Reads, parses and validates a search-space file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, SpaceError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| SpaceError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(path, decode(path, &bytes)?)
    }

    /// Parses and validates JSON text; `path` only labels errors.
    pub fn from_json(path: impl AsRef<Path>, text: &str) -> Result<Self, SpaceError> {
        let path = path.as_ref();
        decode(path, text.as_bytes())?;
        let de = &mut serde_json::Deserializer::from_str(text);
        let file: SpaceFile = serde_path_to_error::deserialize(de).map_err(|e| {
            let mut field = e.path().to_string();
            let inner = e.into_inner();
            // serde_path_to_error writes `.` for the root and `?` where a syntax error left
            // no path; neither reads as a field.
            if field == "." {
                field = "top level".into();
            } else if field == "?" {
                field = format!("line {}, column {}", inner.line(), inner.column());
            }
            let mut message = inner.to_string();
            if field.starts_with("temporal.ops") && message.contains("unknown field") {
                message = message.replace("unknown field", "unknown temporal op");
            }
            let fix = parse_fix(&field, &inner, &message);
            if inner.is_eof() {
                message += " (the file is truncated or a closing `}` or `]` is missing)";
            }
            SpaceError::Parse {
                path: path.to_path_buf(),
                field,
                message,
                fix,
            }
        })?;
        Self::from_file(path, file)
    }

    /// Validates an in-memory file (e.g. one built by `import-backbone`).
    pub fn from_file(path: impl AsRef<Path>, file: SpaceFile) -> Result<Self, SpaceError> {
        let path = path.as_ref();
        check_structure(path, &file)?;
        let slots = derive_slots(&file);
        check_slots(path, &file, &slots)?;
        // Hash the re-serialised file so formatting and key order don't change it.
        let canonical = serde_json::to_string(&file).expect("a space always serialises");
        let hash = vidnas_io::sha256_hex(canonical.as_bytes(), 16);
        Ok(Space {
            file,
            path: path.to_path_buf(),
            slots,
            hash,
        })
    }

    pub fn name(&self) -> &str {
        &self.file.name
    }

    /// 16 hex digits identifying the space's content; recorded in results and exports.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    pub fn num_slots(&self) -> usize {
        self.slots.len()
    }

    /// Index of the slot with this name.
    pub fn slot_index(&self, name: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.name == name)
    }

    /// Inclusive bounds on the number of temporal layers an architecture may hold.
    pub fn temporal_layer_bounds(&self) -> (usize, usize) {
        let c = &self.file.temporal.constraints;
        (
            c.min_temporal_layers,
            c.max_temporal_layers.unwrap_or(self.slots.len()),
        )
    }
}

/// The text of a space file, refusing what serde_json would report as a baffling
/// "expected value at line 1 column 1": byte-order marks, UTF-16 and other non-UTF-8 bytes.
fn decode<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, SpaceError> {
    let err = |message: String, fix: &str| SpaceError::Encoding {
        path: path.to_path_buf(),
        message,
        fix: fix.into(),
    };
    if bytes.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Err(err(
            "starts with a UTF-8 byte-order mark (bytes EF BB BF), which JSON does not allow"
                .into(),
            "save it without one (as plain UTF-8, not \"UTF-8 with BOM\")",
        ));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(err(
            "is UTF-16 text (it starts with a UTF-16 byte-order mark)".into(),
            "save it as UTF-8 without a byte-order mark",
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        err(
            format!(
                "is not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
            "save it as UTF-8 text; a search-space file is JSON",
        )
    })
}

/// What to do about a JSON error, from its category and serde's message.
fn parse_fix(field: &str, inner: &serde_json::Error, message: &str) -> String {
    const EXAMPLE: &str = "search-spaces/tiny.json is a complete, valid file";
    if inner.is_eof() {
        return format!("complete the file ({EXAMPLE})");
    }
    if inner.is_syntax() {
        return "correct the JSON syntax at that line and column (a missing comma, quote or \
                bracket?)"
            .into();
    }
    let quoted = |prefix: &str| {
        let rest = &message[message.find(prefix)? + prefix.len()..];
        rest.split('`').next().map(str::to_string)
    };
    if let Some(name) = quoted("missing field `") {
        return format!("add `{name}` inside `{field}` ({EXAMPLE})");
    }
    if message.contains("unknown temporal op") {
        return "declare only known ops (none, conv1d, conv3d, attn1d, attn3d)".into();
    }
    if message.contains("unknown field") {
        return "remove it, or correct its spelling to one of the expected names listed".into();
    }
    if message.contains("unknown variant") {
        return "use one of the expected values listed".into();
    }
    let fixes = [
        (
            "expected usize",
            "write a whole number (0 or more) without quotes",
        ),
        ("expected f64", "write a number without quotes, e.g. 1e-5"),
        ("expected a string", "write the value in double quotes"),
        ("expected a boolean", "write true or false"),
        (
            "expected a sequence",
            "write a JSON list, e.g. [32, 64, 64]",
        ),
        (
            "expected struct",
            "write a JSON object { ... } with the fields the example shows",
        ),
    ];
    match fixes.iter().find(|(needle, _)| message.contains(needle)) {
        Some((_, fix)) => format!("{fix} ({EXAMPLE})"),
        None => format!("see {EXAMPLE}"),
    }
}
