mod common;

use common::{one_block, snapgen, tiny, two_block};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use vidnas_latency::{all_signatures, lower, LowerOptions, OpClass, Signature};
use vidnas_space::{Architecture, OpKind, Space};

fn opts() -> LowerOptions {
    LowerOptions::default()
}

/// Every slot holds `pick(slot)` where allowed, else `none`.
fn arch_with(space: &Space, pick: impl Fn(usize) -> OpKind) -> Architecture {
    Architecture {
        ops: (0..space.num_slots())
            .map(|i| {
                let op = pick(i);
                if space.slots[i].allows(op) {
                    op
                } else {
                    OpKind::None
                }
            })
            .collect(),
    }
}

#[test]
fn every_slot_with_an_op_lowers_to_exactly_one_temporal_op() {
    for space in [tiny(), snapgen(), two_block()] {
        let backbone_len = {
            let first = arch_with(&space, |_| OpKind::Conv1d);
            let ops = lower(&space, &first, &opts()).unwrap();
            ops.iter().filter(|o| o.slot.is_none()).count()
        };
        for kind in OpKind::ALL.into_iter().skip(1) {
            // conv1d everywhere keeps min_temporal_layers satisfied where `kind` is not allowed.
            let arch = arch_with(&space, |i| {
                if space.slots[i].allows(kind) {
                    kind
                } else {
                    OpKind::Conv1d
                }
            });
            let ops = lower(&space, &arch, &opts()).unwrap();
            for (i, slot) in space.slots.iter().enumerate() {
                let at_slot: Vec<_> = ops.iter().filter(|o| o.slot == Some(i)).collect();
                assert_eq!(at_slot.len(), 1, "{}: slot {}", space.name(), slot.name);
                let op = at_slot[0];
                assert_eq!(op.op_kind, OpClass::Temporal(arch.ops[i]));
                let sig: Signature = op.signature.parse().unwrap();
                assert_eq!(sig.class(), op.op_kind);
                let expected_prefix = match slot.stage {
                    vidnas_space::Stage::Down(b) => format!("down_blocks.{b}"),
                    vidnas_space::Stage::Mid => "mid_block".to_string(),
                    vidnas_space::Stage::Up(b) => format!("up_blocks.{b}"),
                };
                assert_eq!(
                    op.name,
                    format!("{expected_prefix}.temporal.{}", slot.layer)
                );
            }
            let backbone = ops.iter().filter(|o| o.slot.is_none()).count();
            assert_eq!(backbone, backbone_len, "backbone op count is fixed");
        }
    }
}

#[test]
fn all_op_classes_occur_on_tiny_plus() {
    // tiny-plus declares every op of the registry; tiny all but the newest.
    let space = vidnas_space::fixtures::tiny_plus();
    let mut seen = BTreeSet::new();
    for kind in OpKind::ALL.into_iter().skip(1) {
        let arch = arch_with(&space, |i| {
            if space.slots[i].allows(kind) {
                kind
            } else {
                OpKind::Conv1d
            }
        });
        for op in lower(&space, &arch, &opts()).unwrap() {
            seen.insert(op.op_kind);
        }
    }
    let all: BTreeSet<_> = OpClass::ALL.into_iter().collect();
    assert_eq!(seen, all);
}

#[test]
fn tiny_backbone_order_and_names() {
    let space = tiny();
    let arch = space
        .parse_arch("conv1d-none-none-none-none-none-none-none-none-none")
        .unwrap();
    let ops = lower(&space, &arch, &opts()).unwrap();
    let names: Vec<&str> = ops.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "time_embedding",
            "conv_in",
            "down_blocks.0.resnets.0",
            "down_blocks.0.temporal.0",
            "down_blocks.0.downsamplers.0",
            "down_blocks.1.resnets.0",
            "down_blocks.1.attentions.0",
            "down_blocks.1.downsamplers.0",
            "down_blocks.2.resnets.0",
            "down_blocks.2.attentions.0",
            "mid_block.resnets.0",
            "mid_block.attentions.0",
            "mid_block.resnets.1",
            "up_blocks.0.resnets.0",
            "up_blocks.0.attentions.0",
            "up_blocks.0.resnets.1",
            "up_blocks.0.attentions.1",
            "up_blocks.0.upsamplers.0",
            "up_blocks.1.resnets.0",
            "up_blocks.1.attentions.0",
            "up_blocks.1.resnets.1",
            "up_blocks.1.attentions.1",
            "up_blocks.1.upsamplers.0",
            "up_blocks.2.resnets.0",
            "up_blocks.2.resnets.1",
            "conv_out",
        ]
    );
    let sig = |name: &str| {
        ops.iter()
            .find(|o| o.name == name)
            .unwrap()
            .signature
            .clone()
    };
    assert_eq!(sig("time_embedding"), "time_embed|c=32|temb=128");
    assert_eq!(sig("conv_in"), "conv_in|cin=3|cout=32|t=8|h=32|w=32");
    assert_eq!(
        sig("down_blocks.1.resnets.0"),
        "resnet|cin=32|cout=64|temb=128|groups=8|t=8|h=16|w=16"
    );
    assert_eq!(
        sig("down_blocks.1.attentions.0"),
        "xformer|c=64|heads=4|ctx=64|tokens=16|layers=1|linear=0|groups=8|t=8|h=16|w=16"
    );
    assert_eq!(
        sig("down_blocks.0.downsamplers.0"),
        "down|c=32|t=8|h=32|w=32"
    );
    assert_eq!(sig("up_blocks.1.upsamplers.0"), "up|c=64|t=8|h=16|w=16");
    // up_blocks.2 (32 channels at 32 px): layer 0 concatenates prev 64 + skip 32.
    assert_eq!(
        sig("up_blocks.2.resnets.0"),
        "resnet|cin=96|cout=32|temb=128|groups=8|t=8|h=32|w=32"
    );
    assert_eq!(
        sig("up_blocks.2.resnets.1"),
        "resnet|cin=64|cout=32|temb=128|groups=8|t=8|h=32|w=32"
    );
    assert_eq!(
        sig("conv_out"),
        "conv_out|cin=32|cout=3|groups=8|t=8|h=32|w=32"
    );
    assert_eq!(
        sig("down_blocks.0.temporal.0"),
        "conv1d|c=32|k=3|groups=8|t=8|h=32|w=32"
    );
}

#[test]
fn skips_balance_and_the_temporal_op_pushes_the_layer_output() {
    for space in [tiny(), snapgen(), two_block(), one_block()] {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..20 {
            let arch = space.sample(&mut rng);
            let ops = lower(&space, &arch, &opts()).unwrap();
            let mut stack: Vec<u64> = Vec::new();
            let mut prev_output = None;
            for op in &ops {
                if op.pops_skip {
                    let skip = stack.pop().expect("a skip to pop");
                    // The concatenated input = previous output + skip, same resolution.
                    assert_eq!(op.input_elems, prev_output.unwrap() + skip, "{}", op.name);
                }
                if op.pushes_skip {
                    stack.push(op.output_elems);
                }
                prev_output = Some(op.output_elems);
            }
            assert!(stack.is_empty(), "{}: every skip is used", space.name());
            // In down blocks, a slot's temporal op (when present) is the one that pushes.
            for (i, op) in ops.iter().enumerate() {
                if op.name.starts_with("down_blocks") && op.name.contains(".temporal.") {
                    assert!(op.pushes_skip && !ops[i - 1].pushes_skip, "{}", op.name);
                }
            }
        }
    }
}

#[test]
fn all_signatures_are_exactly_what_architectures_use() {
    for space in [tiny(), snapgen(), two_block(), one_block()] {
        let all = all_signatures(&space, &opts());
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        for _ in 0..200 {
            for op in lower(&space, &space.sample(&mut rng), &opts()).unwrap() {
                assert!(all.contains(&op.signature), "{}", op.signature);
            }
        }
        // One architecture per op kind (that op wherever allowed) uses every signature.
        let mut used = BTreeSet::new();
        for kind in OpKind::ALL.into_iter().skip(1) {
            let arch = arch_with(&space, |i| {
                if space.slots[i].allows(kind) {
                    kind
                } else {
                    space.slots[i].allowed[space.slots[i].allowed.len() - 1]
                }
            });
            for op in lower(&space, &arch, &opts()).unwrap() {
                used.insert(op.signature);
            }
        }
        assert_eq!(used, all, "{}", space.name());
    }
}

#[test]
fn text_tokens_and_batch_reach_signatures_and_elems() {
    let space = tiny();
    let arch = space.sample(&mut ChaCha8Rng::seed_from_u64(1));
    let a = lower(&space, &arch, &LowerOptions::new(16, 1)).unwrap();
    let b = lower(&space, &arch, &LowerOptions::new(77, 2)).unwrap();
    for (x, y) in a.iter().zip(&b) {
        if x.op_kind == OpClass::Transformer {
            assert!(y.signature.contains("|tokens=77|"));
        } else {
            assert_eq!(x.signature, y.signature);
            assert_eq!(2 * x.output_elems, y.output_elems);
        }
    }
}

#[test]
fn an_architecture_from_another_space_is_refused() {
    let arch = tiny().sample(&mut ChaCha8Rng::seed_from_u64(1));
    let err = lower(&two_block(), &arch, &opts()).unwrap_err();
    assert!(err.to_string().contains("slots"), "{err}");
}
