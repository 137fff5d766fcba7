//! Malformed data inputs through the CLI: weights (`--init-unet`), latents (`--latents`), text
//! embeddings (`--text-embeddings`), frame folders (`--data-folder`) and diffusers folders
//! (`import-backbone`). Each is refused naming the file, the field and the fix, with no panic,
//! and leaves its `--out` target as it was (absent).
//!
//! Fixtures are written here byte by byte (the safetensors layout is an 8-byte header length,
//! a JSON header, then the data), so broken headers can be written too and no Python is needed.

mod common;
use common::*;

use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use vidnas_data::Clip;

/// One tensor of a hand-written safetensors file.
struct T<'a> {
    name: &'a str,
    dtype: &'a str,
    shape: &'a [usize],
    data: Vec<u8>,
}

fn t<'a>(name: &'a str, dtype: &'a str, shape: &'a [usize], data: Vec<u8>) -> T<'a> {
    T {
        name,
        dtype,
        shape,
        data,
    }
}

/// The bytes of a safetensors file holding `tensors` and `metadata`.
fn safetensors_bytes(tensors: &[T], metadata: &[(&str, &str)]) -> Vec<u8> {
    let mut header = Map::new();
    if !metadata.is_empty() {
        let meta: Map<String, Value> = metadata
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        header.insert("__metadata__".into(), Value::Object(meta));
    }
    let mut data = Vec::new();
    for t in tensors {
        let start = data.len();
        data.extend_from_slice(&t.data);
        header.insert(
            t.name.into(),
            json!({"dtype": t.dtype, "shape": t.shape, "data_offsets": [start, data.len()]}),
        );
    }
    let header = serde_json::to_vec(&Value::Object(header)).unwrap();
    let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
    bytes.extend_from_slice(&header);
    bytes.extend_from_slice(&data);
    bytes
}

fn write_safetensors(path: &Path, tensors: &[T], metadata: &[(&str, &str)]) -> String {
    std::fs::write(path, safetensors_bytes(tensors, metadata)).unwrap();
    path.to_str().unwrap().to_string()
}

/// The same file with its last `cut` bytes missing.
fn write_truncated(path: &Path, tensors: &[T], metadata: &[(&str, &str)], cut: usize) -> String {
    let bytes = safetensors_bytes(tensors, metadata);
    std::fs::write(path, &bytes[..bytes.len() - cut]).unwrap();
    path.to_str().unwrap().to_string()
}

/// `n` little-endian f32 values of `v`, with element `nan_at` NaN.
fn f32s(n: usize, v: f32, nan_at: Option<usize>) -> Vec<u8> {
    (0..n)
        .flat_map(|i| {
            let x = if Some(i) == nan_at { f32::NAN } else { v };
            x.to_le_bytes()
        })
        .collect()
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// `pretrain-image` on the tiny space with one data flag, writing to a fresh `--out`.
fn pretrain(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "pretrain-image",
        "search-spaces/tiny.json",
        "--out",
        out.to_str().unwrap(),
        "--steps",
        "1",
        "--train-clips",
        "8",
        "--validation-clips",
        "1",
    ]
    .iter()
    .map(|a| a.to_string())
    .collect();
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

/// A case built from owned arguments (the harness keeps `&str` slices).
fn case<'a>(name: &'a str, args: &'a [String], out: &Path) -> Fault<'a> {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    Fault::new(name, &refs).out(out)
}

/// A one-frame clip of `w`x`h` written as a PNG frame.
fn frame(path: &Path, w: usize, h: usize) {
    let clip = Clip::new(1, 3, h, w, vec![0.5; 3 * w * h], "x", None).unwrap();
    vidnas_data::write_strip_png(path, &clip, 1).unwrap();
}

/// A clip folder with a caption and `n` frames of 8x8.
fn clip_folder(dir: &Path, caption: Option<&str>, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    if let Some(c) = caption {
        std::fs::write(dir.join("caption.txt"), c).unwrap();
    }
    for i in 0..n {
        frame(&dir.join(format!("{i:04}.png")), 8, 8);
    }
}

fn tiny_diffusers() -> PathBuf {
    repo_root().join("crates/nn/tests/fixtures/tiny-diffusers-unet")
}

/// A model folder holding tiny-diffusers-unet's config.json with `key` set to `value`.
fn config_with(dir: &Path, key: &str, value: Value) -> String {
    let text = std::fs::read_to_string(tiny_diffusers().join("config.json")).unwrap();
    let mut config: Map<String, Value> = serde_json::from_str(&text).unwrap();
    config.insert(key.into(), value);
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.json"), Value::Object(config).to_string()).unwrap();
    s(dir)
}

#[test]
fn malformed_weights_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n);
    // tiny.json's conv_in is [32, 3, 3, 3].
    let conv_in = [32, 3, 3, 3];
    let n = 32 * 27;
    let truncated = write_truncated(
        &p("cut.safetensors"),
        &[t("conv_in.weight", "F32", &conv_in, f32s(n, 0.1, None))],
        &[],
        100,
    );
    let int = write_safetensors(
        &p("int.safetensors"),
        &[t("conv_in.weight", "I64", &conv_in, vec![0; n * 8])],
        &[],
    );
    let shape = write_safetensors(
        &p("shape.safetensors"),
        &[t(
            "conv_in.weight",
            "F32",
            &[16, 3, 3, 3],
            f32s(16 * 27, 0.1, None),
        )],
        &[],
    );
    let missing = write_safetensors(
        &p("missing.safetensors"),
        &[t("something.else", "F32", &[2], f32s(2, 0.0, None))],
        &[],
    );
    let nan = write_safetensors(
        &p("nan.safetensors"),
        &[t("conv_in.weight", "F32", &conv_in, f32s(n, 0.1, Some(7)))],
        &[],
    );
    std::fs::write(p("text.safetensors"), "this is not a tensor file at all").unwrap();
    let text = s(&p("text.safetensors"));
    let args: Vec<(&str, Vec<String>, PathBuf)> = vec![
        (
            "truncated",
            pretrain(&p("o1"), &["--init-unet", &truncated]),
            p("o1"),
        ),
        ("i64", pretrain(&p("o2"), &["--init-unet", &int]), p("o2")),
        (
            "shape",
            pretrain(&p("o3"), &["--init-unet", &shape]),
            p("o3"),
        ),
        (
            "missing",
            pretrain(&p("o4"), &["--init-unet", &missing]),
            p("o4"),
        ),
        ("nan", pretrain(&p("o5"), &["--init-unet", &nan]), p("o5")),
        (
            "garbage",
            pretrain(&p("o6"), &["--init-unet", &text]),
            p("o6"),
        ),
    ];
    let cases = vec![
        case("weights truncated", &args[0].1, &args[0].2)
            .names(&["cut.safetensors", "truncated", "header says"])
            .fix(&["save_file"]),
        case("weights I64", &args[1].1, &args[1].2)
            .names(&["int.safetensors", "conv_in.weight", "I64"])
            .fix(&["F32, F16, BF16"]),
        case("weights wrong shape", &args[2].1, &args[2].2)
            .names(&[
                "shape.safetensors",
                "conv_in.weight",
                "[16, 3, 3, 3]",
                "[32, 3, 3, 3]",
            ])
            .fix(&["another space or backbone"]),
        case("weights missing tensors", &args[3].1, &args[3].2)
            .names(&["missing.safetensors", "missing", "conv_in.weight"])
            .fix(&["made for this space"]),
        case("weights NaN", &args[4].1, &args[4].2)
            .names(&["nan.safetensors", "conv_in.weight", "NaN"])
            .fix(&["earlier checkpoint", "re-export"]),
        case("weights not safetensors", &args[5].1, &args[5].2)
            .names(&["text.safetensors", "not a safetensors file"])
            .fix(&["save_file"]),
    ];
    check_all(&cases);
}

#[test]
fn malformed_latents_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n);
    let shape = [2, 3, 8, 32, 32];
    let n = 2 * 3 * 8 * 32 * 32;
    let two = r#"["a red ball", "a blue ball"]"#;
    let int = write_safetensors(
        &p("int.safetensors"),
        &[t("latents", "I64", &shape, vec![0; n * 8])],
        &[("captions", two)],
    );
    let rank = write_safetensors(
        &p("rank.safetensors"),
        &[t(
            "latents",
            "F32",
            &[2, 3, 32, 32],
            f32s(2 * 3 * 1024, 0.0, None),
        )],
        &[("captions", two)],
    );
    let empty = write_safetensors(
        &p("empty.safetensors"),
        &[t("latents", "F32", &[2, 3, 0, 32, 32], vec![])],
        &[("captions", two)],
    );
    let no_captions = write_safetensors(
        &p("nocap.safetensors"),
        &[t("latents", "F32", &shape, f32s(n, 0.0, None))],
        &[],
    );
    let count = write_safetensors(
        &p("count.safetensors"),
        &[t("latents", "F32", &shape, f32s(n, 0.0, None))],
        &[("captions", r#"["only one"]"#)],
    );
    let nan = write_safetensors(
        &p("nan.safetensors"),
        &[t("latents", "F32", &shape, f32s(n, 0.0, Some(n - 1)))],
        &[("captions", two)],
    );
    let cut = write_truncated(
        &p("cut.safetensors"),
        &[t("latents", "F32", &shape, f32s(n, 0.0, None))],
        &[("captions", two)],
        4096,
    );
    let files = [int, rank, empty, no_captions, count, nan, cut];
    let args: Vec<Vec<String>> = files
        .iter()
        .enumerate()
        .map(|(i, f)| pretrain(&p(&format!("o{i}")), &["--latents", f]))
        .collect();
    let out = |i: usize| p(&format!("o{i}"));
    let cases = vec![
        case("latents I64", &args[0], &out(0))
            .names(&["int.safetensors", "`latents`", "I64"])
            .fix(&["latents.float()"]),
        case("latents rank 4", &args[1], &out(1))
            .names(&["rank.safetensors", "`latents`", "[2, 3, 32, 32]"])
            .fix(&["[N, C, T, H, W]"]),
        case("latents empty axis", &args[2], &out(2))
            .names(&["empty.safetensors", "`latents`", "T axis is empty"])
            .fix(&["at least one"]),
        case("latents no captions", &args[3], &out(3))
            .names(&["nocap.safetensors", "captions"])
            .fix(&["json.dumps(captions)"]),
        case("latents caption count", &args[4], &out(4))
            .names(&["count.safetensors", "captions", "1 captions", "2 clips"])
            .fix(&["one caption per clip"]),
        case("latents NaN", &args[5], &out(5))
            .names(&["nan.safetensors", "clip 1", "a blue ball", "NaN"])
            .fix(&["re-encode"]),
        case("latents truncated", &args[6], &out(6))
            .names(&["cut.safetensors", "truncated", "header says"])
            .fix(&["save_file"]),
    ];
    check_all(&cases);
}

#[test]
fn malformed_text_embeddings_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n);
    let shape = [2, 4, 64];
    let n = 2 * 4 * 64;
    let two = r#"["", "a red ball"]"#;
    let emb = |dtype: &'static str, data: Vec<u8>| t("embeddings", dtype, &shape, data);
    let files = [
        write_safetensors(
            &p("int.safetensors"),
            &[emb("I64", vec![0; n * 8])],
            &[("prompts", two)],
        ),
        write_safetensors(
            &p("rank.safetensors"),
            &[t("embeddings", "F32", &[2, 256], f32s(n, 0.0, None))],
            &[("prompts", two)],
        ),
        write_safetensors(
            &p("nometa.safetensors"),
            &[emb("F32", f32s(n, 0.0, None))],
            &[],
        ),
        write_safetensors(
            &p("count.safetensors"),
            &[emb("F32", f32s(n, 0.0, None))],
            &[("prompts", r#"["a", "b", "c"]"#)],
        ),
        write_safetensors(
            &p("dup.safetensors"),
            &[emb("F32", f32s(n, 0.0, None))],
            &[("prompts", r#"["a dog", "a dog"]"#)],
        ),
        write_safetensors(
            &p("nan.safetensors"),
            &[emb("F32", f32s(n, 0.0, Some(300)))],
            &[("prompts", two)],
        ),
        write_truncated(
            &p("cut.safetensors"),
            &[emb("F32", f32s(n, 0.0, None))],
            &[("prompts", two)],
            64,
        ),
    ];
    let args: Vec<Vec<String>> = files
        .iter()
        .enumerate()
        .map(|(i, f)| pretrain(&p(&format!("o{i}")), &["--text-embeddings", f]))
        .collect();
    let out = |i: usize| p(&format!("o{i}"));
    let cases = vec![
        case("embeddings I64", &args[0], &out(0))
            .names(&["int.safetensors", "`embeddings`", "I64"])
            .fix(&["F32, F16 or BF16"]),
        case("embeddings rank 2", &args[1], &out(1))
            .names(&["rank.safetensors", "`embeddings`", "rank 2"])
            .fix(&["[prompts, tokens, dim]"]),
        case("embeddings no prompts", &args[2], &out(2))
            .names(&["nometa.safetensors", "prompts"])
            .fix(&["json.dumps(prompts)"]),
        case("embeddings prompt count", &args[3], &out(3))
            .names(&["count.safetensors", "prompts", "3 prompts", "2 rows"])
            .fix(&["one prompt per row"]),
        case("embeddings duplicate prompt", &args[4], &out(4))
            .names(&["dup.safetensors", "\"a dog\"", "twice"])
            .fix(&["one row per prompt"]),
        case("embeddings NaN", &args[5], &out(5))
            .names(&["nan.safetensors", "row 1", "a red ball", "NaN"])
            .fix(&["embed that prompt again"]),
        case("embeddings truncated", &args[6], &out(6))
            .names(&["cut.safetensors", "truncated"])
            .fix(&["save_file"]),
    ];
    check_all(&cases);
}

#[test]
fn malformed_data_folders_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n);
    // Each root holds one clip folder `c` (tiny.json needs 8 frames) broken one way.
    let root = |name: &str| p(name).join("c");
    std::fs::create_dir_all(p("empty")).unwrap();
    clip_folder(&root("nocaption"), None, 8);
    clip_folder(&root("blank"), Some(" \n"), 8);
    clip_folder(&root("sizes"), Some("a ball"), 8);
    frame(&root("sizes").join("0005.png"), 16, 8);
    clip_folder(&root("few"), Some("a ball"), 3);
    clip_folder(&root("bad"), Some("a ball"), 8);
    std::fs::write(root("bad").join("0003.png"), "not a png").unwrap();
    clip_folder(&root("webp"), Some("a ball"), 8);
    std::fs::write(root("webp").join("0008.webp"), "RIFF").unwrap();
    let names = ["empty", "nocaption", "blank", "sizes", "few", "bad", "webp"];
    let args: Vec<Vec<String>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| pretrain(&p(&format!("o{i}")), &["--data-folder", &s(&p(n))]))
        .collect();
    let out = |i: usize| p(&format!("o{i}"));
    let cases = vec![
        case("folder empty", &args[0], &out(0))
            .names(&["empty", "no clip folders"])
            .fix(&["own sub-folder"]),
        case("folder no caption", &args[1], &out(1))
            .names(&["nocaption/c", "caption.txt"])
            .fix(&["add a caption.txt"]),
        case("folder empty caption", &args[2], &out(2))
            .names(&["blank/c/caption.txt", "empty"])
            .fix(&["write one line"]),
        case("folder frame sizes", &args[3], &out(3))
            .names(&["sizes/c/0005.png", "16x8", "0000.png", "8x8"])
            .fix(&["resize or remove"]),
        case("folder too few frames", &args[4], &out(4))
            .names(&["few/c", "3 frames", "need 8"])
            .fix(&["add frames"]),
        case("folder unreadable frame", &args[5], &out(5))
            .names(&["bad/c/0003.png", "cannot decode"])
            .fix(&["re-export it as PNG"]),
        case("folder other image format", &args[6], &out(6))
            .names(&["webp/c/0008.webp", "not a PNG or JPEG"])
            .fix(&["convert it to .png"]),
    ];
    check_all(&cases);
}

#[test]
fn malformed_diffusers_folders_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |n: &str| tmp.path().join(n);
    std::fs::create_dir_all(p("noconfig")).unwrap();
    let blocks = config_with(
        &p("blocks"),
        "down_block_types",
        json!(["DownBlock2D", "SimpleCrossAttnDownBlock2D"]),
    );
    let zero = config_with(&p("zero"), "block_out_channels", json!([0, 32]));
    let heads = config_with(&p("heads"), "attention_head_dim", json!(5));
    std::fs::create_dir_all(p("cut")).unwrap();
    let text = std::fs::read_to_string(tiny_diffusers().join("config.json")).unwrap();
    std::fs::write(p("cut").join("config.json"), &text[..text.len() / 2]).unwrap();
    std::fs::create_dir_all(p("utf16")).unwrap();
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    std::fs::write(p("utf16").join("config.json"), utf16).unwrap();
    std::fs::create_dir_all(p("bom")).unwrap();
    std::fs::write(p("bom").join("config.json"), format!("\u{feff}{text}")).unwrap();
    // Weights beside a good config: truncated, and of another model.
    let weights = config_with(&p("weights"), "sample_size", json!(16));
    let bytes =
        std::fs::read(tiny_diffusers().join("diffusion_pytorch_model.safetensors")).unwrap();
    std::fs::write(
        p("weights").join("diffusion_pytorch_model.safetensors"),
        &bytes[..bytes.len() - 1000],
    )
    .unwrap();
    let other = config_with(&p("other"), "sample_size", json!(16));
    write_safetensors(
        &p("other").join("diffusion_pytorch_model.safetensors"),
        &[
            t(
                "conv_in.weight",
                "F32",
                &[8, 4, 3, 3],
                f32s(8 * 36, 0.0, None),
            ),
            t(
                "conv_out.weight",
                "F32",
                &[4, 8, 3, 3],
                f32s(8 * 36, 0.0, None),
            ),
        ],
        &[],
    );
    let dirs = [
        s(&p("noconfig")),
        blocks,
        zero,
        heads,
        s(&p("cut")),
        s(&p("utf16")),
        weights,
        other,
        s(&p("bom")),
    ];
    let args: Vec<Vec<String>> = dirs
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let out = s(&p(&format!("space{i}.json")));
            ["import-backbone", d, "--out", &out]
                .iter()
                .map(|a| a.to_string())
                .collect()
        })
        .collect();
    let out = |i: usize| p(&format!("space{i}.json"));
    let cases = vec![
        case("diffusers no config", &args[0], &out(0))
            .names(&["noconfig", "no config.json"])
            .fix(&["point at a diffusers"]),
        case("diffusers block type", &args[1], &out(1))
            .names(&[
                "blocks/config.json",
                "down_block_types[1]",
                "SimpleCrossAttnDownBlock2D",
            ])
            .fix(&["DownBlock2D or CrossAttnDownBlock2D"]),
        case("diffusers zero channels", &args[2], &out(2))
            .names(&["zero/config.json", "block_out_channels[0]"])
            .fix(&["positive channel count"]),
        case("diffusers heads do not divide", &args[3], &out(3))
            .names(&["heads/config.json", "attention_head_dim", "do not divide"])
            .fix(&["head count that divides"]),
        case("diffusers truncated config", &args[4], &out(4))
            .names(&["cut/config.json", "truncated"])
            .fix(&["copy config.json again"]),
        case("diffusers UTF-16 config", &args[5], &out(5))
            .names(&["utf16/config.json", "UTF-16"])
            .fix(&["save it as UTF-8"]),
        case("diffusers truncated weights", &args[6], &out(6))
            .names(&[
                "weights/diffusion_pytorch_model.safetensors",
                "truncated",
                "header says",
            ])
            .fix(&["download it again"]),
        case("diffusers weights of another model", &args[7], &out(7))
            .names(&[
                "other/diffusion_pytorch_model.safetensors",
                "conv_in.weight",
                "[8, 4, 3, 3]",
            ])
            .fix(&["different models"]),
        case("diffusers config with a BOM", &args[8], &out(8))
            .names(&["bom/config.json", "byte-order mark"])
            .fix(&["without a BOM"]),
    ];
    check_all(&cases);
}

/// A folder with a config and no weights imports, with a note on what `--init-unet` needs.
#[test]
fn config_without_weights_imports_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = config_with(&tmp.path().join("model"), "sample_size", json!(16));
    let out = tmp.path().join("space.json");
    let result = run_vidnas(&["import-backbone", &dir, "--out", &s(&out)]);
    let err = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "{err}");
    assert!(out.is_file());
    assert!(
        err.contains("no diffusion_pytorch_model.safetensors") && err.contains("--init-unet"),
        "{err}"
    );
}
