//! Pins the PyTorch twin of the network (python/vidnas_twin: diffusers' UNet2DConditionModel
//! modules with the temporal ops and the text encoder re-implemented in torch) to the tch
//! network, on fixtures the twin computed: every temporal op kind alone, and one whole exported
//! model (text encoder + video UNet). No Python runs here; the fixtures under
//! tests/fixtures/twin/ are committed. Regenerate them with
//!
//!     ~/.cache/vidnas/venv-torch-2.13.0/bin/python scripts/twin_fixtures.py
//!
//! (it runs the ignored test `write_model_for_the_twin` below through cargo to get the
//! Rust micro export, so it needs `. scripts/env.sh` to work). Both sides compute in f32 on the
//! CPU with one thread; an output passes when every element is within 1e-4 of the twin's.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use tch::{nn, Device, Kind, Tensor};
use vidnas_data::Vocab;
use vidnas_diffusion::{default_text_config, VideoModel};
use vidnas_export::fixtures::{self, micro_model, write_micro_config, MICRO_ARCH};
use vidnas_export::load_exported;
use vidnas_nn::temporal::TemporalOp;
use vidnas_nn::Build;
use vidnas_space::{fixtures::micro, Architecture, OpKind, Space};

/// Largest |tch − twin| allowed, f32 on both sides.
const TOL: f64 = 1e-4;
/// The whole model again in f64 on both sides: the ops are the same, so only f64 rounding
/// remains; the f32 difference is then rounding too, not a slightly different op.
const TOL_F64: f64 = 1e-10;
/// Seeds the whole model the twin's outputs were computed for (`twin_micro_model`).
const MICRO_SEED: i64 = 7;

/// Building a layer draws from libtorch's global generator; `twin_micro_model` seeds it and
/// must draw alone to give the same weights, so the tests here take turns.
static LIBTORCH_RNG: Mutex<()> = Mutex::new(());

fn lock() -> MutexGuard<'static, ()> {
    LIBTORCH_RNG.lock().unwrap_or_else(|e| e.into_inner())
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join("twin")
}

fn manifest() -> Value {
    let path = fixture_dir().join("manifest.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/twin_fixtures.py)", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn read_tensors(name: &str) -> BTreeMap<String, Tensor> {
    let path = fixture_dir().join(name);
    Tensor::read_safetensors(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/twin_fixtures.py)", path.display()))
        .into_iter()
        .collect()
}

fn int(v: &Value) -> i64 {
    v.as_i64()
        .unwrap_or_else(|| panic!("{v} is not an integer"))
}

/// Largest |actual − expected|, after checking shapes and dtypes agree.
fn max_abs_error(actual: &Tensor, expected: &Tensor) -> f64 {
    assert_eq!(actual.size(), expected.size(), "shape");
    assert_eq!(actual.kind(), expected.kind(), "dtype");
    (actual - expected).abs().max().double_value(&[])
}

/// Builds `op` where a whole micro model holds it (the fixture's `prefix`, e.g.
/// `down_blocks.0.temporal.0.conv1d.`), loads the twin's weights by those names, runs the
/// twin's input and returns the largest error against the twin's output.
fn op_error(op: OpKind) -> f64 {
    let _turn = lock();
    tch::set_num_threads(1);
    let fx = &manifest()["temporal_ops"][op.as_str()];
    let space = micro();
    let (channels, shape) = vidnas_nn::pinned::op_fixture_shape(fx, &space, op);
    let slot = &space.slots[space
        .slot_index(fx["slot"].as_str().expect("slot"))
        .expect("a slot")];

    // The op at the var path VideoUNet::new gives it: `<block>.temporal.<layer>.<op>`.
    let prefix = fx["prefix"].as_str().expect("prefix");
    let vs = nn::VarStore::new(Device::Cpu);
    let mut path = vs.root();
    for part in prefix.trim_end_matches('.').split('.') {
        path = &path / part;
    }
    assert!(
        prefix.ends_with(&format!(".temporal.{}.{op}.", slot.layer)),
        "{prefix}"
    );
    let layer = TemporalOp::new(path, op, channels, shape).expect("a temporal op");

    let file = fixture_dir().join(fx["file"].as_str().expect("file"));
    let tensors = read_tensors(fx["file"].as_str().expect("file"));
    let twin_names: BTreeSet<&String> =
        tensors.keys().filter(|n| !n.starts_with("twin.")).collect();
    let vars = vs.variables();
    let rust_names: BTreeSet<&String> = vars.keys().collect();
    assert_eq!(rust_names, twin_names, "same weights, same names");
    let loaded = vidnas_nn::load_into(&vs, &file, |_| true).expect("the twin's weights load");
    assert_eq!(loaded, vars.len());

    let frames = int(&fx["frames"]);
    let input = &tensors["twin.input"];
    let out = tch::no_grad(|| layer.forward(input, frames));
    let err = max_abs_error(&out, &tensors["twin.output"]);
    eprintln!("{op}: max |tch - twin| = {err:.2e}");
    err
}

// Each op: micro hyper-parameters (groups 4; kernel 3; 4 heads), 8 channels at down.0.block.0
// (attn3d: 16 channels at down.1.block.0, micro allows it only at 4×4 and below), input
// [B·T, C, H, W] with B = 2, T = 3, H = 2, W = 3, every weight random and nonzero, the twin's
// output in f32 (python/vidnas_twin/temporal.py, checked by the script against
// scripts/pin_math.py's loops in f64). Fixtures from
//     ~/.cache/vidnas/venv-torch-2.13.0/bin/python scripts/twin_fixtures.py
// Measured: 0 for every op kind (bit-identical: the same libtorch kernels in the same order).
#[test]
fn conv1d_matches_the_twin() {
    let err = op_error(OpKind::Conv1d);
    assert!(err <= TOL, "conv1d: {err:e} > {TOL:e}");
}

// As conv1d_matches_the_twin (same command); measured: 0.
#[test]
fn conv3d_matches_the_twin() {
    let err = op_error(OpKind::Conv3d);
    assert!(err <= TOL, "conv3d: {err:e} > {TOL:e}");
}

// As conv1d_matches_the_twin (same command); measured: 0.
#[test]
fn attn1d_matches_the_twin() {
    let err = op_error(OpKind::Attn1d);
    assert!(err <= TOL, "attn1d: {err:e} > {TOL:e}");
}

// As conv1d_matches_the_twin (same command); measured: 0.
#[test]
fn attn3d_matches_the_twin() {
    let err = op_error(OpKind::Attn3d);
    assert!(err <= TOL, "attn3d: {err:e} > {TOL:e}");
}

/// Redraws every weight of `model`, in name order, from libtorch seeded with `seed`: matrices
/// ~ N(0, 1/fan_in), norm scales ~ 1 + N(0, 0.1²), other vectors ~ N(0, 0.1²), as
/// scripts/make_tiny_diffusers_unet.py randomises (random norms and biases make a mis-wired
/// layer show).
fn redraw(model: &VideoModel, seed: i64) {
    tch::manual_seed(seed);
    let vars: BTreeMap<String, Tensor> = model.vs.variables().into_iter().collect();
    tch::no_grad(|| {
        for (name, mut var) in vars {
            let noise = var.randn_like();
            let value = if var.dim() > 1 {
                let fan_in = var.numel() as f64 / var.size()[0] as f64;
                noise / fan_in.sqrt()
            } else if name.contains("norm") && name.ends_with(".weight") {
                noise * 0.1 + 1.0
            } else {
                noise * 0.1
            };
            var.copy_(&value);
        }
    });
}

/// The micro export the twin's outputs were computed for: `micro_model(&micro(), MICRO_SEED)`
/// (MICRO_ARCH, the learned text encoder) with every weight then redrawn from MICRO_SEED.
/// Redrawn because `micro_model` draws its nonzero temporal outputs in `VarStore::variables()`
/// (HashMap) order, which differs from process to process.
fn twin_micro_model(space: &Space) -> VideoModel {
    let model = micro_model(space, MICRO_SEED);
    redraw(&model, MICRO_SEED);
    model
}

/// Count, parameters, f64 sum and sum of squares of every weight (twin_fixtures.py
/// `fingerprint`).
fn fingerprint(vs: &nn::VarStore) -> (usize, i64, f64, f64) {
    let vars: BTreeMap<String, Tensor> = vs.variables().into_iter().collect();
    let mut sum = 0.0;
    let mut squares = 0.0;
    let mut params = 0;
    for t in vars.values() {
        let t = t.to_kind(Kind::Double);
        sum += t.sum(Kind::Double).double_value(&[]);
        squares += (&t * &t).sum(Kind::Double).double_value(&[]);
        params += t.numel() as i64;
    }
    (vars.len(), params, sum, squares)
}

// The whole exported micro model, `write_micro_config(dir, &micro(), &twin_micro_model(..))`
// (MICRO_ARCH: every op kind at its slots, the learned text encoder) loaded back with
// `load_exported`; the twin loaded the same files with `vidnas_twin.load_exported`. Inputs: a
// noisy clip [3, 3, 2, 8, 8], timesteps 999/500/1, three procedural prompts (the third caption
// dropped: null context). Checked: token ids, the text context (encode_with_dropout), and the
// denoiser output from tch's context and from the twin's. Fixtures from
//     ~/.cache/vidnas/venv-torch-2.13.0/bin/python scripts/twin_fixtures.py
// Measured: f32 context 0 (bit-identical), denoiser output 2.0e-6 (outputs reach 3.2; the
// twin's own f32-vs-f64 difference is 1.7e-6); f64 context 0, denoiser output 3.9e-15.
#[test]
fn exported_micro_model_matches_the_twin() {
    let fx = &manifest()["micro_model"];
    assert_eq!(fx["arch"], MICRO_ARCH, "the fixture's architecture");
    let dir = tempfile::tempdir().unwrap();
    let config_path = {
        let _turn = lock();
        tch::set_num_threads(1);
        let space = micro();
        let model = twin_micro_model(&space);
        write_micro_config(dir.path(), &space, &model)
    };
    tch::set_num_threads(1);
    let (config, space, arch, model) = load_exported(&config_path).expect("loads");
    assert_eq!(arch.encode(), MICRO_ARCH);

    // The weights are the ones the twin computed with (micro_model and its var names unchanged).
    let fp = &fx["weights_fingerprint"];
    let (tensors, params, sum, squares) = fingerprint(&model.vs);
    let stale = "twin_micro_model no longer gives the weights the twin's outputs were \
                 computed from; rerun scripts/twin_fixtures.py";
    assert_eq!(tensors as i64, int(&fp["tensors"]), "{stale}");
    assert_eq!(params, int(&fp["parameters"]), "{stale}");
    let close = |a: f64, b: &Value| {
        let b = b.as_f64().expect("number");
        (a - b).abs() <= 1e-6 * b.abs().max(1.0)
    };
    assert!(
        close(sum, &fp["sum"]) && close(squares, &fp["sum_of_squares"]),
        "{stale}: sum {sum} vs {}, sum of squares {squares} vs {}",
        fp["sum"],
        fp["sum_of_squares"]
    );

    let io = read_tensors(fx["io"].as_str().expect("io"));
    let prompts: Vec<&str> = fx["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .map(|p| p.as_str().expect("a prompt"))
        .collect();
    let drop: Vec<bool> = fx["drop"]
        .as_array()
        .expect("drop")
        .iter()
        .map(|d| d.as_bool().expect("a bool"))
        .collect();
    let drop_io: Vec<i64> = Vec::try_from(&io["drop"]).unwrap();
    assert_eq!(
        drop_io,
        drop.iter().map(|&d| d as i64).collect::<Vec<_>>(),
        "drop"
    );
    let ids = model
        .prompt_ids(&prompts, &config.vocab)
        .expect("tokenises");
    assert!(ids.equal(&io["token_ids"]), "token ids of {prompts:?}");
    let timesteps: Vec<i64> = Vec::try_from(&io["timesteps"]).unwrap();
    let expected_timesteps: Vec<i64> = fx["timesteps"]
        .as_array()
        .expect("timesteps")
        .iter()
        .map(int)
        .collect();
    assert_eq!(timesteps, expected_timesteps);
    let v = &space.file.video;
    assert_eq!(
        io["x_t"].size(),
        [
            prompts.len() as i64,
            v.channels as i64,
            v.frames as i64,
            v.height as i64,
            v.width as i64
        ]
    );

    let (context, out, out_twin_context) = tch::no_grad(|| {
        let context = model.text.encode_with_dropout(&ids, &drop);
        let out = model.denoise(&io["x_t"], &io["timesteps"], &context, &arch);
        let out_twin_context = model.denoise(&io["x_t"], &io["timesteps"], &io["context"], &arch);
        (context, out, out_twin_context)
    });
    let context_err = max_abs_error(&context, &io["context"]);
    let out_err = max_abs_error(&out, &io["output"]);
    let unet_err = max_abs_error(&out_twin_context, &io["output"]);
    eprintln!(
        "micro model: max |tch - twin| context {context_err:.2e}, denoiser output {out_err:.2e} \
         (from the twin's context {unet_err:.2e}); outputs reach {:.2}",
        io["output"].abs().max().double_value(&[])
    );
    assert!(context_err <= TOL, "context: {context_err:e} > {TOL:e}");
    assert!(
        unet_err <= TOL,
        "denoiser (twin's context): {unet_err:e} > {TOL:e}"
    );
    assert!(out_err <= TOL, "denoiser: {out_err:e} > {TOL:e}");

    // The same weights and inputs in f64 on both sides.
    let mut model = model;
    model.vs.set_kind(Kind::Double);
    let (context64, out64) = tch::no_grad(|| {
        let context = model.text.encode_with_dropout(&ids, &drop);
        let x_t = io["x_t"].to_kind(Kind::Double);
        let out = model.denoise(&x_t, &io["timesteps"], &context, &arch);
        (context, out)
    });
    let context64_err = max_abs_error(&context64, &io["context_f64"]);
    let out64_err = max_abs_error(&out64, &io["output_f64"]);
    eprintln!("micro model in f64: context {context64_err:.2e}, denoiser output {out64_err:.2e}");
    assert!(
        context64_err <= TOL_F64,
        "context f64: {context64_err:e} > {TOL_F64:e}"
    );
    assert!(
        out64_err <= TOL_F64,
        "denoiser f64: {out64_err:e} > {TOL_F64:e}"
    );
}

/// Writes an exported model for scripts/twin_fixtures.py into `$VIDNAS_TWIN_DIR`: by default
/// the micro export the committed outputs are computed from (`micro.json`,
/// `micro.safetensors`); with `$VIDNAS_TWIN_SPACE` (a space file) and `$VIDNAS_TWIN_ARCH`, that
/// architecture with the default learned text encoder, weights redrawn from MICRO_SEED
/// (`twin.json`, `twin.safetensors`), for `twin_fixtures.py --compare-space`. Either way also
/// `rust_io.safetensors`: tch's token ids, context and denoiser output for the inputs the
/// script put in the folder (`inputs.json`: prompts, drop; `inputs.safetensors`: x_t,
/// timesteps), which the script compares the twin with (nothing more without inputs.json).
#[test]
#[ignore = "run by scripts/twin_fixtures.py"]
fn write_model_for_the_twin() {
    let dir = PathBuf::from(
        std::env::var_os("VIDNAS_TWIN_DIR").expect("set VIDNAS_TWIN_DIR to the folder to write to"),
    );
    let _turn = lock();
    tch::set_num_threads(1);
    let config_path = match std::env::var_os("VIDNAS_TWIN_SPACE") {
        None => {
            let space = micro();
            write_micro_config(&dir, &space, &twin_micro_model(&space))
        }
        Some(space_path) => {
            let space = Space::load(&space_path).unwrap_or_else(|e| panic!("{e}"));
            let arch_text = std::env::var("VIDNAS_TWIN_ARCH").expect("set VIDNAS_TWIN_ARCH too");
            let arch = space
                .parse_arch(&arch_text)
                .unwrap_or_else(|e| panic!("{e}"));
            write_config(&dir, &space, &arch)
        }
    };
    eprintln!("wrote {}", config_path.display());
    // The inputs the script chose: prompts and caption dropout, clip and timesteps.
    if !dir.join("inputs.json").exists() {
        return;
    }
    let (config, _space, arch, model) = load_exported(&config_path).expect("loads");
    let inputs: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("inputs.json")).expect("reads inputs.json"),
    )
    .expect("inputs.json is JSON");
    let prompts: Vec<&str> = inputs["prompts"]
        .as_array()
        .expect("prompts")
        .iter()
        .map(|p| p.as_str().expect("a prompt"))
        .collect();
    let drop: Vec<bool> = inputs["drop"]
        .as_array()
        .expect("drop")
        .iter()
        .map(|d| d.as_bool().expect("a bool"))
        .collect();
    let tensors: BTreeMap<String, Tensor> =
        Tensor::read_safetensors(dir.join("inputs.safetensors"))
            .expect("reads inputs.safetensors")
            .into_iter()
            .collect();
    let (x_t, timesteps) = (&tensors["x_t"], &tensors["timesteps"]);
    let ids = model
        .prompt_ids(&prompts, &config.vocab)
        .expect("tokenises");
    let (context, output) = tch::no_grad(|| {
        let context = model.text.encode_with_dropout(&ids, &drop);
        let output = model.denoise(x_t, timesteps, &context, &arch);
        (context, output)
    });
    let io = dir.join("rust_io.safetensors");
    let named = [
        ("token_ids", ids),
        ("context", context.contiguous()),
        ("output", output.contiguous()),
    ];
    Tensor::write_safetensors(&named, &io).expect("writes rust_io.safetensors");
    eprintln!("wrote {}", io.display());
}

/// `arch` of `space` with the default learned text encoder and redrawn weights, exported to
/// `dir/twin.{json,safetensors}` as `vidnas export` writes a config.
fn write_config(dir: &Path, space: &Space, arch: &Architecture) -> PathBuf {
    let text = default_text_config(space, &Vocab::procedural(), 8);
    let model = VideoModel::new(space, Build::Subnet(arch.clone()), text, Device::Cpu)
        .expect("the model builds");
    redraw(&model, MICRO_SEED);
    fixtures::write_config(dir, "twin", space, arch, &model)
}
