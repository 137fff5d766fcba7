use crate::error::SpaceError;
use crate::format::SpaceFile;
use crate::slots::{derive_slots, Slot};
use crate::validate::{check_slots, check_structure};
use sha2::{Digest, Sha256};
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
        let text = std::fs::read_to_string(path).map_err(|source| SpaceError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(path, &text)
    }

    /// Parses and validates JSON text; `path` only labels errors.
    pub fn from_json(path: impl AsRef<Path>, text: &str) -> Result<Self, SpaceError> {
        let path = path.as_ref();
        let de = &mut serde_json::Deserializer::from_str(text);
        let file: SpaceFile = serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let inner = e.into_inner();
            let mut message = inner.to_string();
            if field.starts_with("temporal.ops") && message.contains("unknown field") {
                message = message.replace("unknown field", "unknown temporal op");
            }
            SpaceError::Parse {
                path: path.to_path_buf(),
                field,
                message,
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
        let digest = Sha256::digest(canonical.as_bytes());
        let hash = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
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
