use proptest::prelude::*;
use vidnas_latency::{LatencyError, OpClass, Signature};
use vidnas_space::OpKind;

fn dims() -> impl Strategy<Value = (u64, u64, u64)> {
    (1u64..33, 1u64..129, 1u64..129)
}

fn signature() -> impl Strategy<Value = Signature> {
    let g = 1u64..9;
    let m = 1u64..33;
    prop_oneof![
        (1u64..2049, 1u64..4097).prop_map(|(c, temb)| Signature::TimeEmbed { c, temb }),
        (1u64..17, 1u64..1025, dims()).prop_map(|(cin, cout, (t, h, w))| Signature::ConvIn {
            cin,
            cout,
            t,
            h,
            w
        }),
        (g.clone(), m.clone(), m.clone(), 1u64..4097, dims()).prop_map(
            |(groups, a, b, temb, (t, h, w))| Signature::Resnet {
                cin: groups * a,
                cout: groups * b,
                temb,
                groups,
                t,
                h,
                w
            }
        ),
        (
            g.clone(),
            1u64..9,
            m.clone(),
            1u64..1025,
            1u64..78,
            1u64..4,
            any::<bool>(),
            dims()
        )
            .prop_map(
                |(groups, heads, k, ctx, tokens, layers, linear, (t, h, w))| {
                    Signature::Transformer {
                        c: groups * heads * k,
                        heads,
                        ctx,
                        tokens,
                        layers,
                        linear,
                        groups,
                        t,
                        h,
                        w,
                    }
                }
            ),
        (1u64..1025, dims()).prop_map(|(c, (t, h, w))| Signature::Downsample { c, t, h, w }),
        (1u64..1025, dims()).prop_map(|(c, (t, h, w))| Signature::Upsample { c, t, h, w }),
        (g.clone(), m.clone(), 1u64..17, dims()).prop_map(|(groups, a, cout, (t, h, w))| {
            Signature::ConvOut {
                cin: groups * a,
                cout,
                groups,
                t,
                h,
                w,
            }
        }),
        (any::<bool>(), g.clone(), m.clone(), 0u64..4, dims()).prop_map(
            |(three, groups, a, k, (t, h, w))| Signature::TemporalConv {
                op: if three {
                    OpKind::Conv3d
                } else {
                    OpKind::Conv1d
                },
                c: groups * a,
                k: 2 * k + 1,
                groups,
                t,
                h,
                w,
            }
        ),
        (g.clone(), 1u64..9, 1u64..5, m.clone(), dims()).prop_map(
            |(groups, heads, stride, a, (t, h, w))| Signature::TemporalAttn {
                op: OpKind::Attn3dStride,
                c: groups * heads * a,
                heads,
                // At most the volume's tokens, as a valid signature has.
                stride: stride.min(t * h * w),
                groups,
                t,
                h,
                w,
            }
        ),
        (any::<bool>(), g, 1u64..9, m, dims()).prop_map(|(three, groups, heads, a, (t, h, w))| {
            Signature::TemporalAttn {
                op: if three {
                    OpKind::Attn3d
                } else {
                    OpKind::Attn1d
                },
                c: groups * heads * a,
                heads,
                stride: 1,
                groups,
                t,
                h,
                w,
            }
        }),
    ]
}

proptest! {
    #[test]
    fn format_then_parse_is_the_identity(sig in signature()) {
        let text = sig.to_string();
        let back: Signature = text.parse().unwrap();
        prop_assert_eq!(&back, &sig);
        prop_assert_eq!(back.to_string(), text);
        prop_assert_eq!(back.class().keys().len(), back.values().len());
    }

    #[test]
    fn parsing_arbitrary_text_never_panics(text in ".{0,80}") {
        let _ = text.parse::<Signature>();
    }

    #[test]
    fn parsing_mutated_signatures_never_panics(sig in signature(), cut in 0usize..200, junk in "[a-z0-9=|]{0,6}") {
        let mut text = sig.to_string();
        let cut = cut.min(text.len());
        text.insert_str(cut, &junk);
        if let Ok(parsed) = text.parse::<Signature>() {
            // Whatever parses is canonical.
            prop_assert_eq!(parsed.to_string(), text);
        }
    }
}

fn err(text: &str) -> String {
    match text.parse::<Signature>() {
        Err(e @ LatencyError::Signature { .. }) => e.to_string(),
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn parse_errors_say_what_is_wrong() {
    assert!(err("conv2d|c=8").contains("unknown op kind `conv2d`"));
    assert!(err("down|c=8|t=2|h=4").contains("missing key `w`"));
    assert!(err("down|c=8|t=2|h=4|w=4|x=1").contains("found more"));
    assert!(err("down|c=8|h=4|t=2|w=4").contains("expected key `t`"));
    assert!(err("down|c=8|t=2|h=4|w").contains("not `key=value`"));
    assert!(err("down|c=0|t=2|h=4|w=4").contains("`c` must be positive"));
    assert!(err("down|c=-8|t=2|h=4|w=4").contains("decimal integers"));
    assert!(err("conv1d|c=8|k=2|groups=4|t=2|h=4|w=4").contains("even"));
    assert!(err("attn1d|c=8|heads=3|groups=4|t=2|h=4|w=4").contains("heads=3 does not divide c=8"));
    assert!(err("resnet|cin=6|cout=8|temb=32|groups=4|t=2|h=4|w=4")
        .contains("groups=4 does not divide cin=6"));
    assert!(
        err("xformer|c=8|heads=2|ctx=8|tokens=4|layers=1|linear=2|groups=4|t=2|h=4|w=4")
            .contains("`linear` must be 0 or 1")
    );
    assert!(err("down|c=99999999999999999999|t=2|h=4|w=4").contains("too large"));
    assert!(err("").contains("unknown op kind"));
    let text = err("attn2d|c=8");
    assert!(
        text.contains("grammar: crates/latency/SIGNATURES.md"),
        "{text}"
    );
}

#[test]
fn classes_list_their_kinds() {
    let names: Vec<&str> = OpClass::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(
        names,
        [
            "time_embed",
            "conv_in",
            "resnet",
            "xformer",
            "down",
            "up",
            "conv_out",
        ]
        .into_iter()
        .chain(OpKind::ALL.iter().skip(1).map(|op| op.as_str()))
        .collect::<Vec<_>>(),
        "the backbone's classes, then every temporal op of the registry in its order"
    );
}
