//! Repeated keys in JSON objects. serde_json keeps the last value of a repeated key, so a table
//! with a signature measured twice would silently use the later figure; this finds the first
//! repeat, with the lines of both occurrences, before the table is read for real.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::fmt;

/// A key given twice in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Duplicate {
    /// Dotted path of the object holding the key (`""` for the top level), keys quoted when
    /// they contain a dot or `|`, as the table errors name fields.
    pub object: String,
    pub key: String,
    /// 1-based lines of the first and the second occurrence.
    pub lines: (usize, usize),
}

impl Duplicate {
    /// The key's field path, e.g. `entries."conv1d|c=8|t=2|h=4|w=4"`.
    pub fn field(&self) -> String {
        join(&self.object, &self.key)
    }
}

/// The first repeated key of `text` (outer objects before inner ones), or `None`. Text that is
/// not JSON gives `None`: the typed parse reports syntax errors with their field path.
pub(crate) fn find_duplicate_key(text: &str) -> Option<Duplicate> {
    let root: &RawValue = serde_json::from_str(text).ok()?;
    walk(text, root, "")
}

fn walk(text: &str, raw: &RawValue, path: &str) -> Option<Duplicate> {
    match raw.get().as_bytes().first() {
        Some(b'{') => {
            let Pairs(pairs) = serde_json::from_str(raw.get()).ok()?;
            let mut seen: HashMap<&str, &RawValue> = HashMap::new();
            for (key, value) in &pairs {
                if let Some(first) = seen.insert(key, value) {
                    return Some(Duplicate {
                        object: path.to_string(),
                        key: key.clone(),
                        lines: (key_line(text, first), key_line(text, value)),
                    });
                }
            }
            pairs
                .iter()
                .find_map(|(key, value)| walk(text, value, &join(path, key)))
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(raw.get()).ok()?;
            items
                .iter()
                .enumerate()
                .find_map(|(i, v)| walk(text, v, &format!("{path}[{i}]")))
        }
        _ => None,
    }
}

/// `path.key`, the key quoted when it holds a dot, `|` or space (as table errors name fields).
pub(crate) fn join(path: &str, key: &str) -> String {
    let key = if key.contains(['.', '|', ' ']) {
        format!("\"{key}\"")
    } else {
        key.to_string()
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

/// The line of the key whose value is `value` (a slice of `text`): back over the `:` and the
/// whitespace around it to the key's closing quote (a JSON string never spans lines).
fn key_line(text: &str, value: &RawValue) -> usize {
    let offset = (value.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    let before = &text.as_bytes()[..offset.min(text.len())];
    let quote = before
        .iter()
        .rposition(|&b| b == b'"')
        .unwrap_or(before.len());
    1 + before[..quote].iter().filter(|&&b| b == b'\n').count()
}

/// An object's entries in order, repeats kept (a map would drop them).
struct Pairs<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Pairs<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Pairs<'de>, M::Error> {
                let mut pairs = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, &'de RawValue>()? {
                    pairs.push((k, v));
                }
                Ok(Pairs(pairs))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_repeated_entry_with_both_lines() {
        let text =
            "{\n  \"entries\": {\n    \"a|c=1\": {\"ms\": 1},\n    \"b\": 2,\n    \"a|c=1\": \
                    {\"ms\": 3}\n  }\n}\n";
        let d = find_duplicate_key(text).unwrap();
        assert_eq!(d.key, "a|c=1");
        assert_eq!(d.object, "entries");
        assert_eq!(d.field(), "entries.\"a|c=1\"");
        assert_eq!(d.lines, (3, 5));
    }

    #[test]
    fn nested_repeats_and_clean_text() {
        let text = "{\"a\": [{\"x\": 1}, {\"y\": 1,\n \"y\": 2}]}";
        let d = find_duplicate_key(text).unwrap();
        assert_eq!((d.field().as_str(), d.lines), ("a[1].y", (1, 2)));
        assert_eq!(find_duplicate_key("{\"a\": {\"b\": 1}, \"b\": 2}"), None);
        assert_eq!(find_duplicate_key("{\"a\": "), None);
        // A quote inside a value does not confuse the line of the next key.
        let text = "{\"k\": \"x\\\"\",\n\"k\": 1}";
        assert_eq!(find_duplicate_key(text).unwrap().lines, (1, 2));
    }
}
