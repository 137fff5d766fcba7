//! The config file's bytes → JSON text, and JSON errors as sentences: a byte-order mark (which
//! Windows editors add, and Python's json refuses), UTF-16 and truncated files are named as such.

use crate::error::ImportError;
use std::path::Path;

/// Where to get a good copy, appended to messages about a damaged file.
const RECOPY: &str = "copy config.json again from the model repository (or write it with \
                      unet.save_config)";

/// The text of a config file: UTF-8 without a byte-order mark.
pub(crate) fn decode<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, ImportError> {
    let json_err = |message: String| ImportError::Json {
        path: path.to_path_buf(),
        message,
    };
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(json_err(
            "the file is UTF-16 text; save it as UTF-8 (JSON files are UTF-8)".into(),
        ));
    }
    // Refused like every JSON file vidnas reads (vidnas-io): diffusers' own json.load fails on it.
    if bytes.starts_with("\u{feff}".as_bytes()) {
        return Err(json_err(
            "starts with a UTF-8 byte-order mark (BOM); save the file as UTF-8 without a BOM"
                .into(),
        ));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        json_err(format!(
            "not UTF-8 text (invalid byte at offset {}); save it as UTF-8 or {RECOPY}",
            e.valid_up_to()
        ))
    })
}

/// A sentence for a JSON parse error of `text`.
pub(crate) fn json_problem(text: &str, e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    if text.trim().is_empty() {
        return format!("the file is empty; {RECOPY}");
    }
    match e.classify() {
        Category::Eof => format!(
            "the JSON ends early (line {}): the file is truncated; {RECOPY}",
            e.line()
        ),
        _ => format!(
            "invalid JSON at line {} column {} ({e}); fix it there or {RECOPY}",
            e.line(),
            e.column()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bom_utf16_and_bad_bytes_are_named() {
        let p = Path::new("c/config.json");
        assert_eq!(decode(p, b"{}").unwrap(), "{}");
        let err = decode(p, b"\xef\xbb\xbf{}").unwrap_err().to_string();
        assert!(
            err.contains("byte-order mark") && err.contains("without a BOM"),
            "{err}"
        );
        let err = decode(p, b"\xff\xfe{\0}\0").unwrap_err().to_string();
        assert!(
            err.contains("UTF-16") && err.contains("config.json"),
            "{err}"
        );
        let err = decode(p, b"{\"a\": \"\xe9\"}").unwrap_err().to_string();
        assert!(err.contains("offset 7"), "{err}");
    }

    #[test]
    fn truncated_and_invalid_json_are_told_apart() {
        let problem = |t: &str| {
            json_problem(
                t,
                &serde_json::from_str::<serde_json::Value>(t).unwrap_err(),
            )
        };
        assert!(problem("{\n \"a\": [1,").contains("truncated"));
        assert!(problem("  \n").contains("empty"));
        let p = problem("{\n \"a\": 1,,\n}");
        assert!(p.contains("line 2 column"), "{p}");
    }
}
