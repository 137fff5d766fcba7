//! Word-level vocabulary for captions.
//!
//! Procedural captions use a few dozen words, so a word vocabulary is exact and tiny; a
//! sub-word tokenizer would only add ambiguity. Unknown words are an error rather than a silent
//! `<unk>`: a prompt the model cannot read should say so, with every offending word at once.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::label::{Colour, Motion, Shape};

/// Padding token, id 0 (what an all-zero tensor decodes to).
pub const PAD: &str = "<pad>";
/// Unknown-word token, id 1, used only by [`Vocab::tokenize_lossy`].
pub const UNK: &str = "<unk>";
/// Id of [`PAD`].
pub const PAD_ID: i64 = 0;
/// Id of [`UNK`].
pub const UNK_ID: i64 = 1;

/// How many known words an unknown-word error lists before shortening.
const MAX_LISTED: usize = 60;

/// A word vocabulary: `tokens[id]` is the word with that id; ids 0 and 1 are `<pad>`, `<unk>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "VocabFile", into = "VocabFile")]
pub struct Vocab {
    tokens: Vec<String>,
    ids: HashMap<String, i64>,
}

/// The stored form: just the token list, so configs stay readable.
#[derive(Serialize, Deserialize)]
struct VocabFile {
    tokens: Vec<String>,
}

impl TryFrom<VocabFile> for Vocab {
    type Error = DataError;

    fn try_from(file: VocabFile) -> Result<Self> {
        Vocab::from_tokens(file.tokens)
    }
}

impl From<Vocab> for VocabFile {
    fn from(v: Vocab) -> Self {
        VocabFile { tokens: v.tokens }
    }
}

/// Lower-cases a caption and splits it into words, dropping punctuation at word edges, so
/// "A red square, moving left." reads like "a red square moving left".
pub fn words(caption: &str) -> Vec<String> {
    caption
        .split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| c.is_ascii_punctuation())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

impl Vocab {
    /// Every word any procedural caption can contain, in a fixed order (grammar words, then
    /// colours, shapes and motion words in their class order).
    pub fn procedural() -> Self {
        let mut words: Vec<&str> = vec!["a"];
        words.extend(Colour::ALL.iter().map(|c| c.as_str()));
        words.extend(Shape::ALL.iter().map(|s| s.as_str()));
        for m in Motion::ALL {
            words.extend(m.as_str().split(' '));
        }
        Self::from_words_in_order(words)
    }

    /// A vocabulary of every word in `captions`, in order of first appearance (deterministic for
    /// a fixed caption order), for real footage.
    pub fn from_captions<I, S>(captions: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let all: Vec<String> = captions
            .into_iter()
            .flat_map(|c| words(c.as_ref()))
            .collect();
        Self::from_words_in_order(all.iter().map(String::as_str))
    }

    /// The special tokens followed by `words` without repeats.
    fn from_words_in_order<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut tokens = vec![PAD.to_string(), UNK.to_string()];
        let mut ids: HashMap<String, i64> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as i64))
            .collect();
        for w in words {
            if !ids.contains_key(w) {
                ids.insert(w.to_string(), tokens.len() as i64);
                tokens.push(w.to_string());
            }
        }
        Vocab { tokens, ids }
    }

    /// Rebuilds a vocabulary from its token list, checking it (stored configs are user input).
    pub fn from_tokens(tokens: Vec<String>) -> Result<Self> {
        if tokens.first().map(String::as_str) != Some(PAD)
            || tokens.get(1).map(String::as_str) != Some(UNK)
        {
            return Err(DataError::InvalidVocab {
                reason: format!("the token list must start with {PAD:?}, {UNK:?}"),
            });
        }
        let mut ids = HashMap::with_capacity(tokens.len());
        for (i, t) in tokens.iter().enumerate() {
            if t.is_empty() || t.chars().any(char::is_whitespace) || *t != t.to_lowercase() {
                return Err(DataError::InvalidVocab {
                    reason: format!("token {i} ({t:?}) must be one lower-case word"),
                });
            }
            if ids.insert(t.clone(), i as i64).is_some() {
                return Err(DataError::InvalidVocab {
                    reason: format!("token {t:?} appears twice"),
                });
            }
        }
        Ok(Vocab { tokens, ids })
    }

    /// Number of ids, special tokens included (the embedding table's row count).
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Always false: the special tokens are always present.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Number of real words (special tokens excluded).
    pub fn word_count(&self) -> usize {
        self.tokens.len() - 2
    }

    /// All tokens, in id order.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// The id of `word`, if known.
    pub fn id(&self, word: &str) -> Option<i64> {
        self.ids.get(word).copied()
    }

    /// The token with id `id`, if any.
    pub fn token(&self, id: i64) -> Option<&str> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.tokens.get(i))
            .map(String::as_str)
    }

    /// Ids of `caption`'s words, padded with `<pad>` (0) to `max_len`.
    ///
    /// Errors list every unknown word and the known vocabulary, or say the prompt is too long.
    pub fn tokenize(&self, caption: &str, max_len: usize) -> Result<Vec<i64>> {
        let words = words(caption);
        let mut unknown: Vec<String> = Vec::new();
        for w in &words {
            if self.id(w).is_none() && !unknown.contains(w) {
                unknown.push(w.clone());
            }
        }
        if !unknown.is_empty() {
            return Err(DataError::UnknownWords {
                words: unknown,
                vocab_size: self.word_count(),
                known: self.known_list(),
            });
        }
        if words.len() > max_len {
            return Err(DataError::PromptTooLong {
                words: words.len(),
                max_len,
            });
        }
        Ok(self.pad(words.iter().map(|w| self.ids[w.as_str()]), max_len))
    }

    /// Like [`Vocab::tokenize`] but maps unknown words to `<unk>` and cuts long prompts, for
    /// training on real captions whose rare words were left out of the vocabulary.
    pub fn tokenize_lossy(&self, caption: &str, max_len: usize) -> Vec<i64> {
        let ids = words(caption)
            .iter()
            .map(|w| self.id(w).unwrap_or(UNK_ID))
            .take(max_len)
            .collect::<Vec<_>>();
        self.pad(ids, max_len)
    }

    /// Words of `ids`, skipping padding.
    pub fn decode(&self, ids: &[i64]) -> String {
        ids.iter()
            .filter(|&&id| id != PAD_ID)
            .map(|&id| self.token(id).unwrap_or(UNK))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn pad(&self, ids: impl IntoIterator<Item = i64>, max_len: usize) -> Vec<i64> {
        let mut out: Vec<i64> = ids.into_iter().collect();
        out.resize(max_len, PAD_ID);
        out
    }

    /// The known words for error messages, shortened for large vocabularies.
    fn known_list(&self) -> String {
        let real = &self.tokens[2..];
        let mut s = real
            .iter()
            .take(MAX_LISTED)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if real.len() > MAX_LISTED {
            s.push_str(&format!(", ... ({} more)", real.len() - MAX_LISTED));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_normalise_case_and_punctuation() {
        assert_eq!(
            words("  A Red square, moving LEFT. "),
            ["a", "red", "square", "moving", "left"]
        );
    }

    #[test]
    fn from_tokens_rejects_bad_lists() {
        assert!(Vocab::from_tokens(vec!["a".into()]).is_err());
        let dup = vec![PAD.into(), UNK.into(), "a".into(), "a".into()];
        assert!(Vocab::from_tokens(dup)
            .unwrap_err()
            .to_string()
            .contains("twice"));
    }

    #[test]
    fn lossy_maps_unknown_and_truncates() {
        let v = Vocab::procedural();
        let ids = v.tokenize_lossy("a purple square moving", 3);
        assert_eq!(
            ids,
            vec![v.id("a").unwrap(), UNK_ID, v.id("square").unwrap()]
        );
    }
}
