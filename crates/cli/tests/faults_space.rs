//! Malformed search-space files and architecture strings: each is refused naming the file, the
//! field (or slot) and the fix or the valid values, without a panic.

mod common;
use common::*;

use serde_json::{json, Value};
use std::path::Path;

const SPACE: &str = "search-spaces/tiny.json";
const TABLE: &str = "latency-tables/tiny-cpu-2threads.json";
const TINY: &str = include_str!("../../../search-spaces/tiny.json");

fn tiny() -> Value {
    serde_json::from_str(TINY).unwrap()
}

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_string()
}

/// Writes the tiny space after `edit`.
fn edited(dir: &Path, name: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut v = tiny();
    edit(&mut v);
    write(dir, name, serde_json::to_string_pretty(&v).unwrap())
}

#[test]
fn malformed_space_files_are_refused_with_field_and_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let missing = edited(d, "missing.json", |v| {
        v["backbone"]
            .as_object_mut()
            .unwrap()
            .remove("norm_num_groups");
    });
    let wrong_type = edited(d, "type.json", |v| v["video"]["height"] = json!("32"));
    let unknown_op = edited(d, "op.json", |v| {
        v["temporal"]["ops"]["conv2d"] = json!({"kernel_size": 3})
    });
    let unknown_field = edited(d, "field.json", |v| v["video"]["fps"] = json!(8));
    let negative = edited(d, "negative.json", |v| v["video"]["frames"] = json!(-8));
    let zero = edited(d, "zero.json", |v| v["video"]["frames"] = json!(0));
    let heads = edited(d, "heads.json", |v| {
        v["backbone"]["attention_head_dim"] = json!(3)
    });
    let temporal_heads = edited(d, "theads.json", |v| {
        v["temporal"]["ops"]["attn1d"]["num_heads"] = json!(5)
    });
    let min_max = edited(d, "minmax.json", |v| {
        v["temporal"]["constraints"] = json!({"min_temporal_layers": 5, "max_temporal_layers": 2})
    });
    let placement = edited(d, "placement.json", |v| {
        v["temporal"]["placement"] = json!("everywhere")
    });
    let huge = edited(d, "huge.json", |v| {
        v["backbone"]["layers_per_block"] = json!(1000)
    });
    let bom = write(d, "bom.json", format!("\u{feff}{TINY}"));
    let utf16 = write(d, "utf16.json", [0xFF, 0xFE, b'{', 0, b'}', 0]);
    let cut = TINY.find("\"frames\":").unwrap() + "\"frames\":".len();
    let truncated = write(d, "truncated.json", &TINY[..cut]);
    let empty = write(d, "empty.json", "");
    let syntax = write(
        d,
        "syntax.json",
        TINY.replacen("\"name\": \"tiny\",", "\"name\": \"tiny\"", 1),
    );
    let absent = d.join("absent.json").to_str().unwrap().to_string();

    let validate = |name, file: &str| Fault::new(name, &["space", "validate", file]);
    check_all(&[
        validate("missing field", &missing)
            .names(&[&missing, "backbone", "norm_num_groups"])
            .fix(&["add `norm_num_groups` inside `backbone`"]),
        validate("string for a number", &wrong_type)
            .names(&[&wrong_type, "video.height"])
            .fix(&["without quotes"]),
        validate("unknown op", &unknown_op)
            .names(&[&unknown_op, "temporal.ops.conv2d"])
            .fix(&["none, conv1d, conv3d, attn1d, attn3d"]),
        validate("unknown field", &unknown_field)
            .names(&[&unknown_field, "video.fps"])
            .fix(&["expected one of `frames`"]),
        validate("negative frames", &negative)
            .names(&[&negative, "video.frames", "-8"])
            .fix(&["whole number (0 or more)"]),
        validate("zero frames", &zero)
            .names(&[&zero, "video.frames"])
            .fix(&["use a positive size"]),
        validate("heads that do not divide", &heads)
            .names(&[&heads, "backbone.attention_head_dim"])
            .fix(&["one of 1, 2, 4, 8, 16, 32, 64"]),
        validate("temporal heads that do not divide", &temporal_heads)
            .names(&[&temporal_heads, "temporal.ops.attn1d.num_heads"])
            .fix(&["one of 1, 2, 4, 8, 16, 32"]),
        validate("min above max", &min_max)
            .names(&[&min_max, "temporal.constraints.max_temporal_layers"])
            .fix(&["raise max_temporal_layers or lower min_temporal_layers"]),
        validate("unknown placement", &placement)
            .names(&[&placement, "temporal.placement"])
            .fix(&["`every_layer` or `last_layer_of_block`"]),
        validate("too many slots", &huge)
            .names(&[&huge, "backbone.layers_per_block"])
            .fix(&["lower layers_per_block"]),
        validate("byte-order mark", &bom)
            .names(&[&bom, "byte-order mark"])
            .fix(&["save it without one"]),
        validate("UTF-16", &utf16)
            .names(&[&utf16, "UTF-16"])
            .fix(&["save it as UTF-8"]),
        validate("truncated", &truncated)
            .names(&[&truncated, "video.frames", "truncated"])
            .fix(&["complete the file"]),
        validate("empty file", &empty)
            .names(&[&empty, "EOF"])
            .fix(&["complete the file"]),
        validate("missing comma", &syntax)
            .names(&[&syntax, "line 4, column 3"])
            .fix(&["correct the JSON syntax"]),
        validate("no such file", &absent)
            .names(&[&absent, "cannot read"])
            .fix(&["check the path"]),
    ]);
}

#[test]
fn malformed_architectures_are_refused_with_slot_and_valid_ops() {
    let tmp = tempfile::tempdir().unwrap();
    let at_most_two = edited(tmp.path(), "max2.json", |v| {
        v["temporal"]["constraints"]["max_temporal_layers"] = json!(2)
    });
    let nones = |first: &str| {
        let mut ops = ["none"; 10];
        ops[0] = first;
        ops.join("-")
    };
    let (conv2d, attn3d, all_none) = (nones("conv2d"), nones("attn3d"), nones("none"));
    let three = "conv1d-conv1d-conv1d-none-none-none-none-none-none-none";
    let trailing = format!("{}-", nones("conv1d"));
    let predict = |name, space: &str, arch: &str| {
        Fault::new(
            name,
            &[
                "latency", "predict", space, "--table", TABLE, "--arch", arch,
            ],
        )
    };
    let example = "e.g. conv1d-none-none-none-none-none-none-none-none-none";
    check_all(&[
        predict("wrong slot count", SPACE, "conv1d-none")
            .names(&[SPACE, "has 2 ops", "10 slots", "down.0.block.0"])
            .fix(&[example]),
        predict("trailing dash", SPACE, &trailing)
            .names(&[SPACE, "has 11 ops", "up.2.block.1"])
            .fix(&[example]),
        predict("empty", SPACE, "")
            .names(&[SPACE, "is empty", "down.0.block.0"])
            .fix(&[example]),
        predict("unknown op", SPACE, &conv2d)
            .names(&[SPACE, "slot `down.0.block.0`", "conv2d"])
            .fix(&["known ops: none, conv1d, conv3d, attn1d, attn3d"]),
        predict("op not allowed in the slot", SPACE, &attn3d)
            .names(&[SPACE, "slot `down.0.block.0`", "does not allow `attn3d`"])
            .fix(&["allowed there: none, conv1d, attn1d"]),
        predict("too few temporal layers", SPACE, &all_none)
            .names(&[SPACE, "temporal.constraints.min_temporal_layers"])
            .fix(&["change 1 `none` slot(s) to a temporal op"]),
        predict("too many temporal layers", &at_most_two, three)
            .names(&[&at_most_two, "temporal.constraints.max_temporal_layers"])
            .fix(&["set 1 slot(s) to `none`"]),
    ]);
}
