//! Registry completeness: every temporal op of `OpKind::ALL` reaches every pure consumer. A
//! consumer that forgets an op fails here with the op and the consumer named.

mod common;

use vidnas_latency::{
    all_signatures, temporal_signature, Dtype, LowerOptions, OpClass, PredictRequest, Signature,
    SlotCostModel,
};
use vidnas_space::{OpHyper, OpKind, Space, Structure};

/// A valid hyper-parameter for an op of this structure: kernel 3, or 2 heads.
fn hyper(structure: Structure) -> OpHyper {
    match structure {
        Structure::Identity => OpHyper::of_size(0),
        Structure::Conv { .. } => OpHyper::of_size(3),
        Structure::Attention { keys, .. } if keys.strided() => OpHyper { size: 2, stride: 2 },
        Structure::Attention { .. } => OpHyper::of_size(2),
    }
}

/// The hyper-parameters a space file gives an op of this structure.
fn hyper_json(structure: Structure) -> serde_json::Value {
    let h = hyper(structure);
    match structure {
        Structure::Identity => serde_json::json!({}),
        Structure::Conv { .. } => serde_json::json!({ "kernel_size": h.size }),
        Structure::Attention { keys, .. } if keys.strided() => {
            serde_json::json!({ "num_heads": h.size, "stride": h.stride })
        }
        Structure::Attention { .. } => serde_json::json!({ "num_heads": h.size }),
    }
}

/// The two-block space offering `none` and `op` only, through the space file parser.
fn space_with(op: OpKind) -> Result<Space, String> {
    let mut file: serde_json::Value = serde_json::from_str(common::TWO_BLOCK).unwrap();
    file["temporal"]["ops"] = serde_json::json!({
        "none": {},
        op.spec().name: hyper_json(op.spec().structure),
    });
    Space::from_json(format!("{op}.json"), &file.to_string()).map_err(|e| e.to_string())
}

#[test]
fn the_space_of_one_op_is_built_from_the_two_block_space() {
    let space = space_with(OpKind::Conv1d).unwrap();
    let reference = common::two_block();
    assert_eq!(space.file.backbone, reference.file.backbone);
    assert_eq!(space.num_slots(), reference.num_slots());
    assert!(space.file.temporal.ops.conv3d.is_none());
}

#[test]
fn every_temporal_op_reaches_every_consumer() {
    let mut missing = Vec::new();
    let mut fail = |op: OpKind, consumer: &str, what: String| {
        missing.push(format!("`{op}` in {consumer}: {what}"));
    };
    for op in OpKind::ALL {
        let spec = op.spec();
        if !op.is_temporal() {
            if OpClass::ALL.contains(&OpClass::Temporal(op)) {
                fail(op, "OpClass::ALL", "the identity has a class".into());
            }
            continue;
        }

        // Signatures: a class of its own, named after the op, keys from its structure.
        let class = OpClass::Temporal(op);
        if !OpClass::ALL.contains(&class) {
            fail(op, "OpClass::ALL (signature kinds)", "no class".into());
        }
        if OpClass::from_name(spec.name) != Some(class) {
            fail(
                op,
                "OpClass::from_name",
                format!("`{}` not found", spec.name),
            );
        }
        let Some(sig) = Signature::temporal(op, 16, hyper(spec.structure), 4, (4, 8, 8)) else {
            fail(op, "Signature::temporal", "no signature".into());
            continue;
        };
        if sig.class() != class {
            fail(op, "Signature::class", format!("{:?}", sig.class()));
        }
        let text = sig.to_string();
        if !text.starts_with(&format!("{}|", spec.name)) {
            fail(op, "Signature (Display)", text.clone());
        }
        match text.parse::<Signature>() {
            Ok(back) if back == sig => {}
            other => fail(op, "Signature (FromStr)", format!("`{text}` → {other:?}")),
        }

        // Cost formulas on a small shape.
        if sig.params() == 0 {
            fail(op, "Signature::params", "0 parameters".into());
        }
        if sig.macs().is_nan() || sig.macs() <= 0.0 {
            fail(op, "Signature::macs", format!("{} MACs", sig.macs()));
        }
        let act = sig.activations(2);
        if act.input == 0 || act.output == 0 || act.workspace == 0 {
            fail(op, "Signature::activations", format!("{act:?}"));
        }
        if sig.bytes(2, Dtype::F32) == 0 || sig.checked_bytes(2, Dtype::F32).is_none() {
            fail(op, "Signature::bytes", "no bytes".into());
        }

        // The space: its name parses, a file declaring it loads, and its slots offer it.
        if spec.name.parse::<OpKind>() != Ok(op) {
            fail(op, "OpKind::from_str", spec.name.into());
        }
        let space = match space_with(op) {
            Ok(space) => space,
            Err(e) => {
                fail(op, "the space parser", e);
                continue;
            }
        };
        let declared: Vec<OpKind> = space.file.temporal.ops.declared().map(|(o, _)| o).collect();
        if declared != [OpKind::None, op] {
            fail(op, "OpsSpec::get", format!("declared {declared:?}"));
        }
        match space.file.temporal.ops.get(op) {
            Some(params) if params.fits(spec.structure) => {}
            other => fail(
                op,
                "OpsSpec::get",
                format!("{other:?} is not what {:?} reads", spec.structure),
            ),
        }
        let allowing: Vec<usize> = (0..space.num_slots())
            .filter(|&i| space.slots[i].allows(op))
            .collect();
        if allowing.is_empty() {
            fail(op, "Slot::allowed", "no slot allows it".into());
        }

        // Lowering, the profiler's signature list and the search's slot costs.
        for &i in &allowing {
            if temporal_signature(&space, i, op).is_none_or(|s| s.class() != class) {
                fail(op, "temporal_signature", format!("slot {i}"));
            }
        }
        let sigs = all_signatures(&space, &LowerOptions::default());
        if !sigs
            .iter()
            .any(|s| s.starts_with(&format!("{}|", spec.name)))
        {
            fail(op, "all_signatures", "none of its signatures".into());
        }
        let table = common::synthetic_table(&space);
        match SlotCostModel::new(&space, &table, &PredictRequest::for_table(&table)) {
            Ok(model) => {
                for &i in &allowing {
                    if model.slot_cost(i, op).is_none_or(|c| c.params == 0) {
                        fail(op, "SlotCostModel::slot_cost", format!("slot {i}"));
                    }
                }
            }
            Err(e) => fail(op, "SlotCostModel::new", e.to_string()),
        }
    }
    assert!(
        missing.is_empty(),
        "ops a consumer does not handle:\n{}",
        missing.join("\n")
    );
}

/// The strided attention's formulas, worked by hand on one shape: 2 clips of 4 frames of 4×4
/// at 16 channels, 2 heads, stride 2 (one sequence of 64 tokens per clip, 32 keys each), beside
/// full attention over the same volume.
#[test]
fn strided_attention_costs_by_hand() {
    let at = |op, stride| {
        Signature::temporal(op, 16, OpHyper { size: 2, stride }, 4, (4, 4, 4)).expect("an op")
    };
    let (strided, full) = (at(OpKind::Attn3dStride, 2), at(OpKind::Attn3d, 1));
    assert_eq!(
        strided.to_string(),
        "attn3d_stride|c=16|heads=2|stride=2|groups=4|t=4|h=4|w=4"
    );
    // Same weights: norm, proj_in, to_q/k/v (no bias), to_out, proj_out.
    assert_eq!(strided.params(), full.params());
    assert_eq!(strided.params(), 2 * 16 + 6 * 16 * 16 + 3 * 16);
    // Workspace: q, k, v and the attention output (4 maps of 2·16·64), then the scores,
    // clips × heads × queries × keys: 2·2·64·32 strided, 2·2·64·64 full.
    let map = 2 * 16 * 64;
    assert_eq!(strided.activations(2).workspace, 4 * map + 2 * 2 * 64 * 32);
    assert_eq!(full.activations(2).workspace, 4 * map + 2 * 2 * 64 * 64);
    assert_eq!(strided.activations(2).input, map);
    // MACs per clip: six 16×16 projections of 64 tokens, then scores and weighted sum
    // (2 · 64 queries · keys · 16 channels).
    let projections = 6.0 * 64.0 * 256.0;
    assert_eq!(strided.macs(), projections + 2.0 * 64.0 * 32.0 * 16.0);
    assert_eq!(full.macs(), projections + 2.0 * 64.0 * 64.0 * 16.0);
    // A stride past the sequence is no signature a table can hold.
    let text = "attn3d_stride|c=16|heads=2|stride=65|groups=4|t=4|h=4|w=4";
    let err = text.parse::<Signature>().unwrap_err().to_string();
    assert!(
        err.contains("stride=65 is larger than the 64 tokens"),
        "{err}"
    );
}
