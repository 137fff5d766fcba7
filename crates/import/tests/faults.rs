//! Damaged or inexpressible diffusers folders: each refusal names the file, the key (or tensor)
//! and the fix; a folder without weights is accepted.

use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};
use vidnas_import::{
    check_weights, find_config, import_diffusers_config, ImportError, ImportOptions, WeightsFile,
    WEIGHTS_FILE,
};

fn small_text() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small-unet/config.json");
    std::fs::read_to_string(path).unwrap()
}

/// A model folder in a temporary directory holding `config` as config.json.
fn folder(config: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("config.json"), config).unwrap();
    (tmp, dir)
}

fn import(dir: &Path) -> Result<vidnas_import::SpaceFile, ImportError> {
    import_diffusers_config(dir, &ImportOptions::default())
}

fn small_with(key: &str, value: Value) -> Vec<u8> {
    let mut c: Map<String, Value> = serde_json::from_str(&small_text()).unwrap();
    c.insert(key.into(), value);
    Value::Object(c).to_string().into_bytes()
}

#[test]
fn truncated_empty_bom_and_utf16_configs_are_named() {
    let text = small_text();
    for (bytes, want) in [
        (text.as_bytes()[..text.len() / 2].to_vec(), "truncated"),
        (b" \n".to_vec(), "the file is empty"),
        (
            ["\u{feff}", text.as_str()].concat().into_bytes(),
            "byte-order mark",
        ),
        (
            b"{\"sample_size\": 32,, }".to_vec(),
            "invalid JSON at line 1 column",
        ),
        (
            [0xff, 0xfe]
                .into_iter()
                .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
                .collect(),
            "UTF-16",
        ),
    ] {
        let (_tmp, dir) = folder(&bytes);
        let err = import(&dir).unwrap_err().to_string();
        assert!(
            err.contains(want) && err.contains("config.json"),
            "{want}: {err}"
        );
    }
}

#[test]
fn sizes_no_network_can_have_are_refused_by_key() {
    // small-unet: block_out_channels [32, 64, 64], 4 heads, 8 groups, sample_size 32.
    let cases: Vec<(&str, Value, &str, &str)> = vec![
        (
            "block_out_channels",
            json!([32, 0, 64]),
            "block_out_channels[1]",
            "positive",
        ),
        ("in_channels", json!(0), "in_channels", "positive"),
        ("layers_per_block", json!(0), "layers_per_block", "positive"),
        (
            "cross_attention_dim",
            json!(0),
            "cross_attention_dim",
            "positive",
        ),
        (
            "attention_head_dim",
            json!(0),
            "attention_head_dim",
            "positive",
        ),
        (
            "attention_head_dim",
            json!(5),
            "attention_head_dim",
            "do not divide",
        ),
        (
            "num_attention_heads",
            json!(6),
            "num_attention_heads",
            "differs",
        ),
        (
            "norm_num_groups",
            json!(3),
            "norm_num_groups",
            "do not divide",
        ),
        ("norm_eps", json!(0), "norm_eps", "positive"),
        ("sample_size", json!(30), "sample_size", "divisible by 4"),
    ];
    for (key, value, named, want) in cases {
        let (_tmp, dir) = folder(&small_with(key, value.clone()));
        let err = import(&dir).unwrap_err();
        assert_eq!(err.key(), Some(named), "{key} = {value}: {err}");
        let msg = err.to_string();
        assert!(msg.contains(want) && msg.contains("config.json"), "{msg}");
    }
    // Heads need to divide only the channels of blocks with attention.
    let mut c: Map<String, Value> = serde_json::from_str(&small_text()).unwrap();
    c.insert("block_out_channels".into(), json!([24, 64, 64]));
    c.insert(
        "down_block_types".into(),
        json!([
            "DownBlock2D",
            "CrossAttnDownBlock2D",
            "CrossAttnDownBlock2D"
        ]),
    );
    c.insert(
        "up_block_types".into(),
        json!(["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"]),
    );
    c.insert("attention_head_dim".into(), json!(16));
    let (_tmp, dir) = folder(Value::Object(c).to_string().as_bytes());
    import(&dir).unwrap();
}

/// Writes a safetensors file by hand (8-byte header length, JSON header, data).
fn safetensors(path: &Path, tensors: &[(&str, &str, Vec<usize>)]) -> Vec<u8> {
    let mut header = Map::new();
    let mut offset = 0usize;
    for (name, dtype, shape) in tensors {
        let size = if *dtype == "F16" { 2 } else { 4 };
        let bytes = shape.iter().product::<usize>() * size;
        header.insert(
            name.to_string(),
            json!({"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + bytes]}),
        );
        offset += bytes;
    }
    let header = Value::Object(header).to_string();
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(header.as_bytes());
    file.extend(std::iter::repeat_n(0u8, offset));
    std::fs::write(path, &file).unwrap();
    file
}

fn weights_error(dir: &Path) -> String {
    let file = import(dir).unwrap();
    let err = check_weights(&find_config(dir).unwrap(), &file.backbone).unwrap_err();
    assert!(matches!(err, ImportError::Weights { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains(WEIGHTS_FILE), "{msg}");
    msg
}

#[test]
fn weights_beside_the_config_are_checked_from_the_header() {
    let (_tmp, dir) = folder(small_text().as_bytes());
    let config = find_config(&dir).unwrap();
    let backbone = import(&dir).unwrap().backbone;
    // None: a note, not an error.
    let WeightsFile::Missing { note, .. } = check_weights(&config, &backbone).unwrap() else {
        panic!("no weights file yet");
    };
    assert!(note.contains("--init-unet"), "{note}");
    std::fs::write(dir.join("diffusion_pytorch_model.bin"), "pickle").unwrap();
    let WeightsFile::Missing { note, .. } = check_weights(&config, &backbone).unwrap() else {
        panic!("only a .bin");
    };
    assert!(note.contains("PyTorch pickle"), "{note}");

    // small-unet: 4 input and output channels, 32 first-block channels.
    let path = dir.join(WEIGHTS_FILE);
    let good = [
        ("conv_in.weight", "F16", vec![32, 4, 3, 3]),
        ("conv_out.weight", "F32", vec![4, 32, 3, 3]),
    ];
    let bytes = safetensors(&path, &good);
    let checked = check_weights(&config, &backbone).unwrap();
    assert_eq!(
        checked,
        WeightsFile::Checked {
            path: path.clone(),
            tensors: 2
        }
    );

    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let full = bytes.len();
    let msg = weights_error(&dir);
    assert!(
        msg.contains(&format!(
            "header says {full} bytes but the file has {}",
            full - 10
        )),
        "{msg}"
    );
    std::fs::write(&path, &bytes[..12]).unwrap();
    assert!(weights_error(&dir).contains("declare a"));
    std::fs::write(&path, b"PK\x03\x04 zip archive").unwrap();
    assert!(weights_error(&dir).contains("PyTorch pickle"));

    safetensors(&path, &[("conv_in.weight", "I32", vec![32, 4, 3, 3])]);
    assert!(weights_error(&dir).contains("`conv_in.weight` is I32"));
    safetensors(&path, &[good[1].clone()]);
    assert!(weights_error(&dir).contains("has no tensor `conv_in.weight`"));
    safetensors(&path, &[("unet.conv_in.weight", "F32", vec![32, 4, 3, 3])]);
    assert!(weights_error(&dir).contains("without the `unet.` prefix"));
    safetensors(
        &path,
        &[
            ("conv_in.weight", "F32", vec![64, 4, 3, 3]),
            good[1].clone(),
        ],
    );
    let msg = weights_error(&dir);
    assert!(
        msg.contains("[64, 4, 3, 3]") && msg.contains("different models"),
        "{msg}"
    );
}
