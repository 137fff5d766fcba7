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

/// Checks a temporal-op fixture's `slot` and `params` (channels, groups and the op's one
/// hyper-parameters, named as the space file names them) against `space`; returns the op's
/// channels and the shape `VideoUNet` builds it with. Panics naming the mismatch (tests only).
pub fn op_fixture_shape(
    fx: &Value,
    space: &vidnas_space::Space,
    op: vidnas_space::OpKind,
) -> (i64, crate::OpShape) {
    use vidnas_space::Structure;
    let int = |v: &Value| {
        v.as_i64()
            .unwrap_or_else(|| panic!("{v} is not an integer"))
    };
    let shape = crate::OpShape::of(space, op);
    let slot_name = fx["slot"].as_str().expect("slot");
    let slot = &space.slots[space.slot_index(slot_name).expect("a slot of the space")];
    assert!(slot.allows(op), "{slot_name} allows {op}");
    let params = &fx["params"];
    let channels = int(&params["channels"]);
    assert_eq!(channels, slot.channels as i64, "channels of {slot_name}");
    assert_eq!(int(&params["groups"]), shape.groups, "groups");
    let size = match op.spec().structure {
        Structure::Conv { .. } => "kernel_size",
        Structure::Attention { keys, .. } => {
            if keys.strided() {
                assert_eq!(int(&params["stride"]) as u64, shape.hyper.stride, "stride");
            }
            "num_heads"
        }
        Structure::Identity => panic!("{op} has no layer to pin"),
    };
    assert_eq!(int(&params[size]) as u64, shape.hyper.size, "{size}");
    (channels, shape)
}
