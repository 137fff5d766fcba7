//! The vidnas UNet equals diffusers' `UNet2DConditionModel`: a tiny random diffusers model's
//! config goes through vidnas-import, its safetensors load by diffusers' own key names (no
//! renaming table), and the output on a fixed input matches the one diffusers computed.
//!
//! The fixtures under tests/fixtures/tiny-diffusers-unet*/ (config.json,
//! diffusion_pytorch_model.safetensors, inputs_outputs.safetensors) were made by
//! scripts/make_tiny_diffusers_unet.py (diffusers 0.42.1, torch 2.13.0, CPU). Regenerate with:
//!
//!     . scripts/env.sh && pip install diffusers==0.42.1 && python scripts/make_tiny_diffusers_unet.py
//!
//! The script builds each model with a fixed seed, randomises every weight (the ones diffusers
//! zero-initialises too), saves it with `save_pretrained(..., safe_serialization=True)` and
//! stores `model(sample, timesteps, encoder_hidden_states=...).sample` next to the inputs, in
//! f32 (`output`) and, with the same weights cast to f64, in f64 (`output_f64`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tch::{nn, Device, Kind, Tensor};
use vidnas_import::{import_diffusers_config, ImportError, ImportOptions};
use vidnas_nn::{is_temporal, load_into, Build, VideoUNet};
use vidnas_space::{Architecture, OpKind, Space};

/// Largest allowed |vidnas − diffusers| in f32.
const TOLERANCE: f64 = 1e-4;
/// The same in f64: the ops are the same, so only f64 rounding remains (measured ~3e-15). The
/// f32 difference (measured 2e-6 and 2e-5) is then rounding too, not a slightly different op.
const TOLERANCE_F64: f64 = 1e-10;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

fn import(dir: &Path) -> Space {
    let file = import_diffusers_config(dir, &ImportOptions::default()).unwrap();
    Space::from_file(dir.join("config.json"), file).unwrap()
}

fn all_none(space: &Space) -> Architecture {
    Architecture {
        ops: vec![OpKind::None; space.num_slots()],
    }
}

/// Builds `build` over the imported backbone and loads the diffusers weights into its spatial
/// layers; every spatial variable and every tensor of the file must find its match.
fn with_diffusers_weights(dir: &Path, space: &Space, build: &Build) -> (nn::VarStore, VideoUNet) {
    let vs = nn::VarStore::new(Device::Cpu);
    let net = VideoUNet::new(&vs.root(), space, build);
    let weights = dir.join("diffusion_pytorch_model.safetensors");
    let loaded = load_into(&vs, &weights, |n| !is_temporal(n)).unwrap();
    let spatial = vs.variables().keys().filter(|n| !is_temporal(n)).count();
    let in_file = Tensor::read_safetensors(&weights).unwrap().len();
    assert_eq!(loaded, spatial, "every spatial variable was loaded");
    assert_eq!(loaded, in_file, "every tensor of the checkpoint has a home");
    (vs, net)
}

fn inputs_outputs(dir: &Path) -> HashMap<String, Tensor> {
    Tensor::read_safetensors(dir.join("inputs_outputs.safetensors"))
        .unwrap()
        .into_iter()
        .collect()
}

/// Runs the image model on diffusers' sample as a clip of one frame, in f32 and in f64, and
/// returns max |vidnas − diffusers| for each.
fn parity(name: &str) -> (f64, f64) {
    let dir = fixture(name);
    let space = import(&dir);
    let (mut vs, net) = with_diffusers_weights(&dir, &space, &Build::Image);
    let io = inputs_outputs(&dir);
    let none = all_none(&space);
    let mut run = |kind: Kind, expected: &Tensor| {
        vs.set_kind(kind);
        let clip = io["sample"].to_kind(kind).unsqueeze(2);
        let ctx = io["encoder_hidden_states"].to_kind(kind);
        let out = tch::no_grad(|| net.forward(&clip, &io["timesteps"], &ctx, &none));
        assert_eq!(out.size(), clip.size(), "[B, C, 1, H, W] in and out");
        assert_eq!(out.kind(), kind);
        let scale = expected.abs().max().double_value(&[]);
        assert!(
            scale > 0.5,
            "diffusers' output is not trivial (|max| {scale})"
        );
        let diff = (out.squeeze_dim(2) - expected)
            .abs()
            .max()
            .double_value(&[]);
        eprintln!("{name} {kind:?}: max |vidnas - diffusers| = {diff:.3e} (|max| {scale:.3})");
        diff
    };
    let f32_diff = run(Kind::Float, &io["output"]);
    let f64_diff = run(Kind::Double, &io["output_f64"]);
    (f32_diff, f64_diff)
}

#[test]
fn image_model_equals_diffusers() {
    let (f32_diff, f64_diff) = parity("tiny-diffusers-unet");
    assert!(f32_diff <= TOLERANCE, "f32: max diff {f32_diff}");
    assert!(f64_diff <= TOLERANCE_F64, "f64: max diff {f64_diff}");
}

/// Three stages, two layers per block, linear projections, two transformer layers, per-block
/// lists, the ResNet-only `UNetMidBlock2D`, unflipped shifted timestep features, norm_eps 1e-6.
#[test]
fn variant_image_model_equals_diffusers() {
    let (f32_diff, f64_diff) = parity("tiny-diffusers-unet-variant");
    assert!(f32_diff <= TOLERANCE, "f32: max diff {f32_diff}");
    assert!(f64_diff <= TOLERANCE_F64, "f64: max diff {f64_diff}");
}

/// The supernet inflated from the imported backbone, with the same spatial weights, equals the
/// image model run on each frame alone, on every path: temporal ops start as the identity.
#[test]
fn inflated_supernet_equals_image_model_frame_by_frame() {
    tch::manual_seed(7);
    let dir = fixture("tiny-diffusers-unet");
    let space = import(&dir);
    let (_ivs, image) = with_diffusers_weights(&dir, &space, &Build::Image);
    let (svs, supernet) = with_diffusers_weights(&dir, &space, &Build::Supernet);
    assert!(
        svs.variables().keys().any(|n| is_temporal(n)),
        "the supernet has temporal layers"
    );

    let io = inputs_outputs(&dir);
    let frames = 4;
    let (b, c, h, w) = io["sample"].size4().unwrap();
    let clip = Tensor::randn([b, c, frames, h, w], (Kind::Float, Device::Cpu));
    let (t, ctx) = (&io["timesteps"], &io["encoder_hidden_states"]);
    let none = all_none(&space);
    let per_frame: Vec<Tensor> = (0..frames)
        .map(|f| tch::no_grad(|| image.forward(&clip.narrow(2, f, 1), t, ctx, &none)))
        .collect();
    let expected = Tensor::cat(&per_frame, 2);

    // The image path, one architecture per temporal op (at every slot that allows it, conv1d
    // elsewhere) and a mixed one.
    let mut archs: Vec<Architecture> = OpKind::ALL
        .into_iter()
        .map(|op| Architecture {
            ops: space
                .slots
                .iter()
                .map(|s| match op {
                    OpKind::None => OpKind::None,
                    _ if s.allows(op) => op,
                    _ => OpKind::Conv1d,
                })
                .collect(),
        })
        .collect();
    archs.push(Architecture {
        ops: space
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| s.allowed[i % s.allowed.len()])
            .collect(),
    });
    for arch in archs {
        if arch.temporal_layers() > 0 {
            space.check_arch(&arch).unwrap();
        }
        let out = tch::no_grad(|| supernet.forward(&clip, t, ctx, &arch));
        let diff = (&out - &expected).abs().max().double_value(&[]);
        assert!(diff < 1e-5, "arch {}: max diff {diff}", arch.encode());
    }
}

#[test]
fn unsupported_block_type_is_refused_with_the_key_named() {
    let text = std::fs::read_to_string(fixture("tiny-diffusers-unet").join("config.json")).unwrap();
    let text = text.replace("\"CrossAttnDownBlock2D\"", "\"SimpleCrossAttnDownBlock2D\"");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), text).unwrap();
    let err = import_diffusers_config(dir.path(), &ImportOptions::default()).unwrap_err();
    assert!(
        matches!(&err, ImportError::Unsupported { key, .. } if key == "down_block_types[1]"),
        "{err}"
    );
    let message = err.to_string();
    assert!(message.contains("down_block_types[1]"), "{message}");
    assert!(message.contains("SimpleCrossAttnDownBlock2D"), "{message}");
}
