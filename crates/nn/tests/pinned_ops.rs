//! Pins the temporal ops (src/temporal.rs, with src/attention.rs) to PyTorch numbers.
//!
//! Each fixture under tests/fixtures/pinned/temporal_<op>.json holds one op's hyper-parameters
//! (the micro space's), an input [B·T, C, H, W] with B = 2, T = 3, H = 2, W = 3 (B > 1 and
//! H ≠ W, so a swapped fold or transpose shows), every weight random and nonzero (the
//! zero-initialised `conv2` and `proj_out` too) under the Rust op's variable names, and the
//! output PyTorch computed in f64. Regenerate with:
//!
//!     ~/.cache/vidnas/venv-torch-2.13.0/bin/python scripts/pin_math.py
//!
//! The script re-implements each op in plain torch without sharing the Rust code paths: frames
//! unfolded and tokens gathered by explicit loops, group norm and softmax attention written out
//! (and self-checked against `F.group_norm` / `F.scaled_dot_product_attention`), conv1d over
//! time as a (k, 1, 1) `Conv3d` the way diffusers' `TemporalConvLayer` does it.
//!
//! Tolerances (measured errors in the comments below): the op runs in f64 against the f64
//! numbers, then again in f32 (weights and input rounded to f32) against the same numbers.
//! An element passes when |rust − torch| ≤ tol · max(1, |torch|): absolute up to 1, relative
//! above (outputs reach ~7).

use serde_json::Value;
use std::collections::BTreeSet;
use tch::{nn, Device, Kind};
use vidnas_nn::pinned::{self, errors, tensor};
use vidnas_nn::temporal::TemporalOp;
use vidnas_space::{fixtures::micro_plus, OpKind};

/// f64: the same math in the same precision, only summation order differs (measured ≤ 3.8e-15).
const TOL_F64: f64 = 1e-12;
/// f32 against the f64 reference: f32 rounding of input, weights and every op (measured ≤ 2.2e-6).
const TOL_F32: f64 = 1e-5;

fn fixture(name: &str) -> Value {
    pinned::fixture(env!("CARGO_MANIFEST_DIR"), name)
}

fn int(v: &Value) -> i64 {
    v.as_i64().expect("integer")
}

/// Builds `op` as the micro space builds it at the fixture's slot, loads the fixture's weights,
/// runs the fixture's input in `kind` and returns (max scaled error, max absolute error).
fn run(op: OpKind, kind: Kind) -> (f64, f64) {
    let fx = fixture(&format!("temporal_{op}.json"));
    assert_eq!(fx["op"], op.as_str());
    assert_eq!(fx["dtype"], "float64");

    // The fixture's hyper-parameters are the micro space's (with every op), at a slot that
    // allows the op.
    let space = micro_plus();
    let (channels, shape) = pinned::op_fixture_shape(&fx, &space, op);

    let mut vs = nn::VarStore::new(Device::Cpu);
    let layer = TemporalOp::new(vs.root(), op, channels, shape).expect("a temporal op");
    vs.set_kind(kind);
    let weights = fx["weights"].as_object().expect("weights");
    let mut vars = vs.variables();
    let rust_names: BTreeSet<&String> = vars.keys().collect();
    let torch_names: BTreeSet<&String> = weights.keys().collect();
    assert_eq!(rust_names, torch_names, "same variables, same names");
    for (name, value) in weights {
        let var = vars.get_mut(name).expect("checked above");
        let value = tensor(value);
        assert_eq!(var.size(), value.size(), "shape of {name}");
        assert!(
            bool::try_from(value.ne(0.0).all()).unwrap(),
            "{name} is nonzero"
        );
        tch::no_grad(|| var.copy_(&value.to_kind(kind)));
    }

    let frames = int(&fx["frames"]);
    let xs = tensor(&fx["input"]).to_kind(kind);
    let expected = tensor(&fx["expected"]);
    let out = tch::no_grad(|| layer.forward(&xs, frames));
    assert_eq!(out.kind(), kind);
    let (scaled, abs) = errors(&out, &expected);
    eprintln!("{op} {kind:?}: max scaled error {scaled:.2e}, max abs error {abs:.2e}");
    (scaled, abs)
}

/// libtorch's thread count is process-wide, and the checks ran in parallel threads of one
/// process: once (a fresh-clone CI run) attn1d in f64 was off by 9.5e-6, most likely one test
/// setting the thread count while another's attention kernel ran. The checks run one at a time.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn check(op: OpKind) {
    let _guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    tch::set_num_threads(1);
    let (f64_err, _) = run(op, Kind::Double);
    assert!(f64_err <= TOL_F64, "{op} f64: {f64_err:e} > {TOL_F64:e}");
    let (f32_err, _) = run(op, Kind::Float);
    eprintln!("{op}: f64 {f64_err:.1e}, f32 {f32_err:.1e}");
    assert!(f32_err <= TOL_F32, "{op} f32: {f32_err:e} > {TOL_F32:e}");
}

// conv1d (kernel 3, 8 channels, 4 groups), as scripts/pin_math.py computes it:
//     video = unfold_frames(xs, T)  # [B*T, C, H, W] -> [B, C, T, H, W], row b*T + t
//     h = conv(conv1, silu(group_norm(video, 4, norm1)))  # over (C/4, T, H, W), eps 1e-5
//     h = conv(conv2, silu(group_norm(h, 4, norm2)))
//     # conv: F.conv3d(v, w[:, :, :, None, None], b, padding=(k // 2, 0, 0))
//     expected = xs + fold_frames(h)
// Measured: f64 6.7e-16, f32 4.8e-7.
#[test]
fn conv1d_matches_pytorch() {
    check(OpKind::Conv1d);
}

// conv3d (kernel 3, 8 channels, 4 groups): as conv1d with
//     # conv: F.conv3d(v, w, b, padding=k // 2)  # over time and space
// Measured: f64 8.9e-16, f32 1.0e-6.
#[test]
fn conv3d_matches_pytorch() {
    check(OpKind::Conv3d);
}

// attn1d (4 heads, 8 channels, 4 groups), as scripts/pin_math.py computes it:
//     video = group_norm(unfold_frames(xs, T), 4, norm)
//     for each (b, y, x): tokens = proj_in(video[b, :, t, y, x] for t in 0..T) + pos[t]
//         # pos = frame_positions(T, C): [sin | cos](t * 10000^(-i / (C/2))), in f32
//         q, k, v = to_q/to_k/to_v(tokens) cut into heads of C/heads channels
//         out[b, :, t, y, x] = proj_out(to_out.0(concat(softmax(q k^T / sqrt(C/heads)) v)))
//     expected = xs + fold_frames(out)
// Measured: f64 1.1e-15, f32 6.5e-7.
#[test]
fn attn1d_matches_pytorch() {
    check(OpKind::Attn1d);
}

// attn3d (4 heads, 16 channels: micro allows it only at 4×4 and below), as attn1d but
//     for each b: one sequence of the T·H·W tokens in (t, y, x) order, token (t, y, x) + pos[t]
// Measured: f64 3.8e-15, f32 2.2e-6 (3.5e-6 absolute; outputs reach 7.1).
#[test]
fn attn3d_matches_pytorch() {
    check(OpKind::Attn3d);
}

// conv2plus1d (kernel 3, 8 channels, 4 groups): as conv1d with
//     # conv1: F.conv3d(v, w[:, :, None], b, padding=(0, 1, 1))  # 3x3 within each frame
//     # conv2: over time, as conv1d
// Measured: f64 6.7e-16, f32 4.1e-7.
#[test]
fn conv2plus1d_matches_pytorch() {
    check(OpKind::Conv2plus1d);
}

// attn3d_stride (4 heads, stride 4, 8 channels at 2×3, 3 frames: 18 tokens, keys 0, 4, …, 16),
//     as attn3d but k and v from every 4th token of the sequence (the last group is short)
// Measured: f64 1.3e-15, f32 5.6e-7.
#[test]
fn attn3d_stride_matches_pytorch() {
    check(OpKind::Attn3dStride);
}

#[test]
fn every_op_of_the_registry_is_pinned() {
    for op in OpKind::ALL.into_iter().filter(|op| op.is_temporal()) {
        let file = format!(
            "{}/tests/fixtures/pinned/temporal_{op}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        assert!(
            std::path::Path::new(&file).exists(),
            "{op} has no PyTorch fixture: add it to scripts/pin_math.py and a test here"
        );
    }
}
