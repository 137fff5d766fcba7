//! Each malformed space is rejected with its own message naming the field.

use serde_json::{json, Value};
use vidnas_space::{Space, SpaceError};

fn tiny() -> Value {
    let text = include_str!("../../../search-spaces/tiny.json");
    serde_json::from_str(text).unwrap()
}

/// Applies `edit` to the tiny space and returns the error text (it must fail).
fn reject(edit: impl FnOnce(&mut Value)) -> String {
    let mut v = tiny();
    edit(&mut v);
    let err: SpaceError =
        Space::from_json("bad.json", &v.to_string()).expect_err("must be rejected");
    let text = err.to_string();
    assert!(
        text.starts_with("bad.json: "),
        "error must name the file: {text}"
    );
    text
}

fn assert_has(text: &str, parts: &[&str]) {
    for p in parts {
        assert!(text.contains(p), "expected {p:?} in error: {text}");
    }
}

#[test]
fn the_shipped_spaces_are_valid() {
    Space::from_json("tiny.json", &tiny().to_string()).unwrap();
    let paper = include_str!("../../../search-spaces/snapgen-v.json");
    Space::from_json("snapgen-v.json", paper).unwrap();
}

#[test]
fn bad_json() {
    let err = Space::from_json("bad.json", "{ \"format\": ")
        .unwrap_err()
        .to_string();
    assert_has(&err, &["bad.json", "EOF"]);
}

#[test]
fn unknown_field() {
    let err = reject(|v| v["backbone"]["block_out_chanels"] = json!([1]));
    assert_has(&err, &["unknown field `block_out_chanels`", "backbone"]);
}

#[test]
fn unknown_op() {
    let err = reject(|v| v["temporal"]["ops"]["conv2d"] = json!({"kernel_size": 3}));
    assert_has(&err, &["unknown temporal op `conv2d`", "temporal.ops"]);
}

#[test]
fn wrong_format_version() {
    let err = reject(|v| v["format"] = json!("vidnas-space/9"));
    assert_has(
        &err,
        &["field `format`", "vidnas-space/9", "vidnas-space/1"],
    );
}

#[test]
fn zero_channels() {
    let err = reject(|v| v["backbone"]["block_out_channels"] = json!([32, 0, 64]));
    assert_has(&err, &["block_out_channels[1]", "zero channels"]);
}

#[test]
fn mismatched_list_lengths() {
    let err = reject(|v| v["backbone"]["down_block_types"] = json!(["DownBlock2D", "DownBlock2D"]));
    assert_has(
        &err,
        &["backbone.down_block_types", "has 2 entries", "has 3"],
    );
}

#[test]
fn unsupported_block_type() {
    let err = reject(|v| v["backbone"]["up_block_types"][0] = json!("SimpleCrossAttnUpBlock2D"));
    assert_has(&err, &["up_block_types[0]", "SimpleCrossAttnUpBlock2D"]);
}

#[test]
fn groups_do_not_divide_channels() {
    let err = reject(|v| v["backbone"]["norm_num_groups"] = json!(12));
    assert_has(&err, &["backbone.norm_num_groups", "12 groups"]);
}

#[test]
fn channels_disagree_with_backbone() {
    let err = reject(|v| v["video"]["channels"] = json!(4));
    assert_has(&err, &["video.channels", "in_channels"]);
}

#[test]
fn resolution_not_divisible() {
    let err = reject(|v| v["video"]["height"] = json!(30));
    assert_has(&err, &["video.height", "not divisible by 4"]);
}

#[test]
fn even_kernel() {
    let err = reject(|v| v["temporal"]["ops"]["conv1d"]["kernel_size"] = json!(4));
    assert_has(&err, &["temporal.ops.conv1d.kernel_size", "even"]);
}

#[test]
fn temporal_heads_do_not_divide_slot_channels() {
    let err = reject(|v| v["temporal"]["ops"]["attn1d"]["num_heads"] = json!(3));
    assert_has(
        &err,
        &["temporal.ops.attn1d.num_heads", "slot `down.0.block.0`"],
    );
}

#[test]
fn impossible_min_temporal_layers() {
    let err = reject(|v| v["temporal"]["constraints"]["min_temporal_layers"] = json!(11));
    assert_has(&err, &["min_temporal_layers", "only 10 slots"]);
}

#[test]
fn slot_without_any_op() {
    let err = reject(|v| {
        v["temporal"]["ops"] = json!({"attn3d": {"num_heads": 4, "max_resolution": 8}});
    });
    assert_has(&err, &["slot `down.0.block.0`", "allows no op"]);
}

#[test]
fn zero_frames() {
    let err = reject(|v| v["video"]["frames"] = json!(0));
    assert_has(&err, &["video.frames", "positive"]);
}

#[test]
fn missing_field() {
    let err = reject(|v| {
        v["backbone"]
            .as_object_mut()
            .unwrap()
            .remove("layers_per_block");
    });
    assert_has(&err, &["missing field `layers_per_block`"]);
}

#[test]
fn min_above_max() {
    let err = reject(|v| {
        v["temporal"]["constraints"] = json!({"min_temporal_layers": 3, "max_temporal_layers": 2})
    });
    assert_has(&err, &["max_temporal_layers", "below min_temporal_layers"]);
}

#[test]
fn byte_order_mark() {
    let text = format!("\u{feff}{}", tiny());
    let err = Space::from_json("bad.json", &text).unwrap_err().to_string();
    assert_has(
        &err,
        &["bad.json", "byte-order mark", "save it without one"],
    );
    let dir = tempfile::tempdir().unwrap();
    let utf16 = dir.path().join("utf16.json");
    std::fs::write(&utf16, [0xFF, 0xFE, b'{', 0]).unwrap();
    let err = Space::load(&utf16).unwrap_err().to_string();
    assert_has(&err, &["utf16.json", "UTF-16", "save it as UTF-8"]);
}

#[test]
fn truncated_json_says_so() {
    let text = tiny().to_string();
    let err = Space::from_json("bad.json", &text[..text.len() / 2])
        .unwrap_err()
        .to_string();
    assert_has(
        &err,
        &["bad.json", "EOF", "truncated", "fix: complete the file"],
    );
}

#[test]
fn wrong_types_and_negative_sizes_name_the_field_and_fix() {
    let err = reject(|v| v["video"]["frames"] = json!(-8));
    assert_has(&err, &["video.frames", "-8", "whole number"]);
    let err = reject(|v| v["video"]["frames"] = json!("8"));
    assert_has(&err, &["video.frames", "without quotes"]);
    let err = reject(|v| v["backbone"]["down_block_types"] = json!("DownBlock2D"));
    assert_has(&err, &["backbone.down_block_types", "JSON list"]);
    let err = reject(|v| v["temporal"]["placement"] = json!("everywhere"));
    assert_has(
        &err,
        &["temporal.placement", "every_layer", "expected values"],
    );
    let err = reject(|v| {
        v["video"].as_object_mut().unwrap().remove("frames");
    });
    assert_has(
        &err,
        &["missing field `frames`", "add `frames` inside `video`"],
    );
}

#[test]
fn heads_that_do_not_divide_list_the_valid_counts() {
    let err = reject(|v| v["backbone"]["attention_head_dim"] = json!(5));
    assert_has(
        &err,
        &[
            "backbone.attention_head_dim",
            "one of 1, 2, 4, 8, 16, 32, 64",
        ],
    );
    let err = reject(|v| v["temporal"]["ops"]["attn3d"]["num_heads"] = json!(3));
    assert_has(
        &err,
        &[
            "temporal.ops.attn3d.num_heads",
            "one of 1, 2, 4, 8, 16, 32, 64",
        ],
    );
}

#[test]
fn absurd_sizes_are_refused_without_panicking() {
    let err = reject(|v| v["backbone"]["layers_per_block"] = json!(100_000));
    assert_has(&err, &["backbone.layers_per_block", "512 temporal slots"]);
    let err = reject(|v| v["backbone"]["layers_per_block"] = json!(u64::MAX));
    assert_has(&err, &["backbone.layers_per_block"]);
    let err = reject(|v| {
        let n = 70;
        v["backbone"]["block_out_channels"] = json!(vec![32; n]);
        v["backbone"]["down_block_types"] = json!(vec!["DownBlock2D"; n]);
        v["backbone"]["up_block_types"] = json!(vec!["UpBlock2D"; n]);
    });
    assert_has(&err, &["backbone.block_out_channels", "70 blocks"]);
}

#[test]
fn missing_file_names_the_path() {
    let err = Space::load("no/such/space.json").unwrap_err().to_string();
    assert_has(&err, &["no/such/space.json", "check the path"]);
}

#[test]
fn absurd_sizes_are_refused_naming_the_field() {
    let err = reject(|v| v["video"]["frames"] = json!(1_000_000));
    assert_has(&err, &["video.frames", "above 65536", "realistic"]);
    let err = reject(|v| v["backbone"]["block_out_channels"][0] = json!(4_294_967_296u64));
    assert_has(&err, &["backbone.block_out_channels[0]", "above 65536"]);
    let err = reject(|v| v["backbone"]["cross_attention_dim"] = json!(100_000));
    assert_has(&err, &["backbone.cross_attention_dim", "above 65536"]);
    let err = reject(|v| v["temporal"]["ops"]["conv1d"]["kernel_size"] = json!(1001));
    assert_has(&err, &["temporal.ops.conv1d.kernel_size", "above 31"]);
}

#[test]
fn strides_name_the_field_and_the_valid_range() {
    let strided = |stride: Value| {
        move |v: &mut Value| {
            v["temporal"]["ops"]["attn3d_stride"] =
                json!({"num_heads": 4, "stride": stride, "max_resolution": 8});
        }
    };
    let err = reject(strided(json!(0)));
    assert_has(
        &err,
        &[
            "temporal.ops.attn3d_stride.stride",
            "must be positive, got 0",
        ],
    );
    // The shortest sequence of a slot allowing it: 8 frames of 8×8.
    let err = reject(strided(json!(513)));
    assert_has(
        &err,
        &[
            "temporal.ops.attn3d_stride.stride",
            "stride 513 is larger than the 512 tokens",
            "use a stride from 1 to 512",
        ],
    );
    let err = reject(|v| v["temporal"]["ops"]["attn3d_stride"] = json!({"num_heads": 4}));
    assert_has(
        &err,
        &["temporal.ops.attn3d_stride.stride", "needs its stride"],
    );
    let err = reject(|v| v["temporal"]["ops"]["attn3d"]["stride"] = json!(2));
    assert_has(
        &err,
        &[
            "temporal.ops.attn3d.stride",
            "has no stride",
            "attn3d_stride",
        ],
    );
    // In range it loads.
    let mut ok = tiny();
    strided(json!(512))(&mut ok);
    Space::from_json("ok.json", &ok.to_string()).unwrap();
}
