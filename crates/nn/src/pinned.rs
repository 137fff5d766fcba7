//! Reading the PyTorch reference numbers that pin vidnas' math (the JSON fixtures under a
//! crate's `tests/fixtures/pinned/`, written by `scripts/pin_math.py`), for the tests of every
//! crate that compares its ops with PyTorch. Test support: it panics on a bad fixture.

use serde_json::Value;
use std::path::Path;
use tch::{Kind, Tensor};

/// The fixture `name` under `<crate_dir>/tests/fixtures/pinned/` (pass
/// `env!("CARGO_MANIFEST_DIR")`), checked to come from `scripts/pin_math.py`; panics naming the
/// file and the script that regenerates it.
pub fn fixture(crate_dir: &str, name: &str) -> Value {
    let path = Path::new(crate_dir)
        .join("tests")
        .join("fixtures")
        .join("pinned")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/pin_math.py)", path.display()));
    let value: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        value["generated_by"]
            .as_str()
            .is_some_and(|s| s.ends_with("scripts/pin_math.py")),
        "{}: not written by scripts/pin_math.py",
        path.display()
    );
    value
}

/// `{"shape": [...], "data": [...]}` → f64 tensor.
pub fn tensor(v: &Value) -> Tensor {
    let shape: Vec<i64> = v["shape"]
        .as_array()
        .expect("shape")
        .iter()
        .map(|d| d.as_i64().expect("integer dimension"))
        .collect();
    Tensor::from_slice(&floats(&v["data"])).view(shape.as_slice())
}

/// A JSON list of numbers.
pub fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// Largest |actual − expected| / max(1, |expected|) (absolute up to 1, relative above), and
/// largest plain |actual − expected|.
pub fn errors(actual: &Tensor, expected: &Tensor) -> (f64, f64) {
    assert_eq!(actual.size(), expected.size(), "shape");
    let actual = actual.to_kind(Kind::Double);
    let diff = (&actual - expected).abs();
    let scaled = &diff / expected.abs().clamp_min(1.0);
    (scaled.max().double_value(&[]), diff.max().double_value(&[]))
}
