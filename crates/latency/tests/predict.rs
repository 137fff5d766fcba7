mod common;

use common::{device, entry, one_block, synthetic_table, tiny, two_block};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use vidnas_latency::{
    check_covers, predict, Correction, Dtype, Entry, FitMethod, LatencyError, LatencyTable,
    PredictRequest, Signature, SlotCostModel,
};

const TIME: &str = "time_embed|c=8|temb=32";
const CONV_IN: &str = "conv_in|cin=3|cout=8|t=2|h=4|w=4";
const RES_8: &str = "resnet|cin=8|cout=8|temb=32|groups=4|t=2|h=4|w=4";
const RES_16: &str = "resnet|cin=16|cout=8|temb=32|groups=4|t=2|h=4|w=4";
const ATTN3D: &str = "attn3d|c=8|heads=2|groups=4|t=2|h=4|w=4";
const CONV1D: &str = "conv1d|c=8|k=3|groups=4|t=2|h=4|w=4";
const CONV_OUT: &str = "conv_out|cin=8|cout=3|groups=4|t=2|h=4|w=4";

/// Every signature of the one-block space, with round made-up times.
fn one_block_table() -> LatencyTable {
    let mut t = LatencyTable::new(device());
    for (sig, ms) in [
        (TIME, 0.1),
        (CONV_IN, 0.2),
        (RES_8, 1.0),
        (RES_16, 1.5),
        (ATTN3D, 2.5),
        (CONV1D, 0.7),
        (CONV_OUT, 0.3),
    ] {
        let sig: Signature = sig.parse().unwrap();
        let bytes = sig.bytes(1, Dtype::F32);
        t.insert(&sig, Entry { bytes, ..entry(ms) });
    }
    t
}

#[test]
#[ignore = "prints the fixture: cargo test -p vidnas-latency --test predict -- --ignored --nocapture"]
fn print_fixture() {
    let mut t = one_block_table();
    t.device.source = "hand-made fixture for crates/latency/tests/predict.rs".into();
    println!("{}", serde_json::to_string_pretty(&t).unwrap());
}

#[test]
fn fixture_file_equals_the_table_built_here() {
    let file = LatencyTable::from_json(
        "one-block.json",
        include_str!("../../../latency-tables/fixtures/one-block.json"),
    )
    .unwrap();
    assert_eq!(file.entries, one_block_table().entries);
    assert_eq!(file.device.dtype, Dtype::F32);
    assert_eq!((file.device.batch, file.device.text_tokens), (1, 16));
}

#[test]
fn totals_are_hand_computed_sums() {
    let space = one_block();
    let table = one_block_table();
    let req = PredictRequest::default();
    // Slots: down.0.block.0, mid.block.0, up.0.block.0, up.0.block.1.
    let arch = space.parse_arch("none-attn3d-none-conv1d").unwrap();
    let p = predict(&space, &arch, &table, &req).unwrap();
    // time 0.1 + conv_in 0.2 + two 8→8 resnets (down, and the mid block's single ResNet, as
    // diffusers builds UNetMidBlock2D) 2.0 + two (8+8)→8 resnets 3.0 + conv_out 0.3 = 5.6
    // backbone; attn3d 2.5 + conv1d 0.7 = 3.2 temporal.
    assert!((p.backbone_ms - 5.6).abs() < 1e-12, "{}", p.backbone_ms);
    assert!((p.temporal_ms - 3.2).abs() < 1e-12);
    assert!((p.total_ms - 8.8).abs() < 1e-12);
    assert_eq!(p.sum_ms, p.total_ms);
    assert_eq!(p.per_slot_ms, vec![0.0, 2.5, 0.0, 0.7]);
    assert_eq!(p.per_op.len(), 9);
    assert!(!p.corrected);
}

#[test]
fn memory_is_the_hand_computed_peak() {
    let space = one_block();
    let table = one_block_table();
    let arch = space.parse_arch("none-attn3d-none-none").unwrap();
    let p = predict(&space, &arch, &table, &PredictRequest::default()).unwrap();
    // Batch 1, N = 2 frames, P = 16 pixels. Live elements while each op runs
    // (held skips + input (not when it is the skip just pushed) + output + workspace):
    //   time_embed          8 + 32 + 32                                  =   72
    //   conv_in             96 + 256                                     =  352  push 256
    //   down resnet 8→8     256 + 0 + 256 + 2·16·(8+8)=512               = 1024  push 256
    //   mid resnet 0        512 + 0 + 256 + 512                          = 1280
    //   mid attn3d          512 + 256 + 256 + (4·256 + 2 heads·32²=2048) = 4096
    //   up resnet 0 (pop)   256 + 512 + 256 + 2·16·(16+8)=768            = 1792
    //   up resnet 1 (pop)   0 + 512 + 256 + 768                          = 1536
    //   conv_out            256 + 96 + 256                               =  608
    assert_eq!(p.per_op[p.peak_op].0.name, "mid_block.temporal.0");
    assert_eq!(p.peak_activation_bytes, 4096 * 4);
    // Weights: backbone 9115 (tests/params.rs) + attn3d (6·64 + 5·8 = 424) parameters.
    assert_eq!(p.params, 9_115 + 424);
    assert_eq!(p.weight_bytes, 9_539 * 4);
    assert_eq!(p.peak_mem_bytes, 9_539 * 4 + 4096 * 4);

    // Without the attention, the first up resnet (1792) peaks.
    let none = space.parse_arch("none-none-none-none").unwrap();
    let p = predict(&space, &none, &table, &PredictRequest::default()).unwrap();
    assert_eq!(p.per_op[p.peak_op].0.name, "up_blocks.0.resnets.0");
    assert_eq!(p.peak_activation_bytes, 1792 * 4);
}

#[test]
fn missing_signatures_are_listed_in_one_error() {
    let space = one_block();
    let mut table = one_block_table();
    table.entries.remove(ATTN3D);
    table.entries.remove(RES_16);
    let arch = space.parse_arch("none-attn3d-none-none").unwrap();
    let err = predict(&space, &arch, &table, &PredictRequest::default()).unwrap_err();
    match &err {
        LatencyError::MissingSignatures { missing, .. } => {
            assert_eq!(missing, &vec![ATTN3D.to_string(), RES_16.to_string()]);
        }
        other => panic!("{other}"),
    }
    let text = err.to_string();
    assert!(text.contains("lacks 2 signature(s)"), "{text}");
    assert!(text.contains(ATTN3D) && text.contains(RES_16), "{text}");
    assert!(text.contains("vidnas latency profile"), "{text}");
    assert!(text.contains("vidnas latency import"), "{text}");

    let err = check_covers(&space, &table).unwrap_err();
    assert!(err.to_string().contains("lacks 2 signature(s)"), "{err}");
    assert!(check_covers(&space, &one_block_table()).is_ok());
}

#[test]
fn long_missing_lists_are_cut() {
    let space = tiny();
    let table = LatencyTable::new(device());
    let err = check_covers(&space, &table).unwrap_err().to_string();
    assert!(err.contains("… and "), "{err}");
    assert!(err.contains("another space"), "{err}");
}

#[test]
fn a_table_for_another_space_is_refused() {
    let err = check_covers(&two_block(), &one_block_table()).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("space `two-block`"), "{text}");
    let arch = two_block()
        .parse_arch("none-conv1d-none-none-none-none-none")
        .unwrap();
    assert!(matches!(
        predict(
            &two_block(),
            &arch,
            &one_block_table(),
            &PredictRequest::default()
        ),
        Err(LatencyError::MissingSignatures { .. })
    ));
}

#[test]
fn other_dtype_batch_or_tokens_are_refused() {
    let space = one_block();
    let table = one_block_table();
    let arch = space.parse_arch("none-none-none-none").unwrap();
    let cases = [
        (
            PredictRequest {
                dtype: Dtype::F16,
                ..Default::default()
            },
            "device.dtype",
        ),
        (
            PredictRequest {
                batch: 2,
                ..Default::default()
            },
            "device.batch",
        ),
        (
            PredictRequest {
                text_tokens: 77,
                ..Default::default()
            },
            "device.text_tokens",
        ),
    ];
    for (req, field) in cases {
        let err = predict(&space, &arch, &table, &req).unwrap_err();
        assert!(matches!(err, LatencyError::Mismatch { .. }), "{err}");
        assert!(err.to_string().contains(field), "{err}");
        assert!(SlotCostModel::new(&space, &table, &req).is_err());
    }
}

#[test]
fn the_tables_correction_is_applied() {
    let space = one_block();
    let mut table = one_block_table();
    let mut c = Correction::identity();
    c.overhead_ms = 1.0;
    c.global_scale = 2.0;
    c.scales.insert("attn3d".into(), 0.5);
    c.method = FitMethod::PerKind;
    table.correction = Some(c);
    let arch = space.parse_arch("none-attn3d-none-none").unwrap();
    let p = predict(&space, &arch, &table, &PredictRequest::default()).unwrap();
    // 1.0 + 2 · 5.6 (backbone) + 0.5 · 2.5 (attn3d) = 13.45
    assert!((p.total_ms - 13.45).abs() < 1e-12, "{}", p.total_ms);
    assert!((p.sum_ms - 8.1).abs() < 1e-12);
    assert!(p.corrected);
    let raw = PredictRequest {
        apply_correction: false,
        ..Default::default()
    };
    let p = predict(&space, &arch, &table, &raw).unwrap();
    assert_eq!(p.total_ms, p.sum_ms);
}

#[test]
fn slot_cost_model_equals_the_full_predictor() {
    for (space, correct) in [(tiny(), false), (tiny(), true), (two_block(), true)] {
        let mut table = synthetic_table(&space);
        if correct {
            let mut c = Correction::identity();
            c.overhead_ms = 0.4;
            c.global_scale = 0.9;
            c.scales.insert("conv3d".into(), 1.3);
            c.scales.insert("resnet".into(), 0.8);
            table.correction = Some(c);
        }
        let req = PredictRequest::for_table(&table);
        let fast = SlotCostModel::new(&space, &table, &req).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for _ in 0..300 {
            let arch = space.sample(&mut rng);
            let full = predict(&space, &arch, &table, &req).unwrap();
            let f = fast.predict(&arch);
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
            assert!(close(f.total_ms, full.total_ms), "{arch}");
            assert!(close(f.sum_ms, full.sum_ms));
            assert!(close(f.temporal_ms, full.temporal_ms));
            assert!(close(fast.latency_ms(&arch), full.total_ms));
            assert_eq!(f.peak_mem_bytes, full.peak_mem_bytes, "{arch}");
            assert_eq!(f.peak_activation_bytes, full.peak_activation_bytes);
            assert_eq!(f.weight_bytes, full.weight_bytes);
            assert_eq!(f.params, full.params);
            assert_eq!(fast.peak_mem_bytes(&arch), full.peak_mem_bytes);
        }
    }
}

#[test]
fn slot_cost_model_needs_a_covering_table() {
    let mut table = one_block_table();
    table.entries.remove(CONV1D);
    let err = SlotCostModel::new(&one_block(), &table, &PredictRequest::default()).unwrap_err();
    assert!(err.to_string().contains(CONV1D), "{err}");
}

#[test]
fn an_in_memory_table_with_absurd_times_never_predicts_inf() {
    // Tables built in memory skip `load`'s checks; two finite 1e308 ms would sum to inf.
    let space = one_block();
    let arch = space.parse_arch("none-attn3d-none-none").unwrap();
    for bad in [1e308, f64::INFINITY, f64::NAN] {
        let mut table = one_block_table();
        table.entries.get_mut(RES_8).unwrap().ms = bad;
        table.entries.get_mut(RES_16).unwrap().ms = bad;
        let req = PredictRequest::default();
        for msg in [
            predict(&space, &arch, &table, &req)
                .unwrap_err()
                .to_string(),
            SlotCostModel::new(&space, &table, &req)
                .unwrap_err()
                .to_string(),
        ] {
            assert!(
                msg.starts_with("<in-memory latency table>: ")
                    && msg.contains(&format!("entries.\"{RES_16}\".ms"))
                    && msg.contains("vidnas latency profile"),
                "{bad}: {msg}"
            );
        }
    }
    // A correction or interval past its bounds, likewise.
    let mut table = one_block_table();
    let mut c = Correction::identity();
    c.global_scale = 1e308;
    table.correction = Some(c);
    let msg = predict(&space, &arch, &table, &PredictRequest::default())
        .unwrap_err()
        .to_string();
    assert!(msg.contains("correction.global_scale"), "{msg}");
}

#[test]
fn a_space_whose_memory_overflows_64_bits_is_refused_not_wrapped() {
    // The largest sizes a space file may give (2^16 frames, pixels and channels): one
    // feature map alone holds 2^64 values.
    let text = common::ONE_BLOCK
        .replace(
            "\"block_out_channels\": [8]",
            "\"block_out_channels\": [65536]",
        )
        .replace(
            "\"frames\": 2, \"height\": 4, \"width\": 4",
            "\"frames\": 65536, \"height\": 65536, \"width\": 65536",
        );
    let space = vidnas_space::Space::from_json("huge.json", &text).unwrap();
    let mut table = LatencyTable::new(device());
    for sig in vidnas_latency::all_signatures(&space, &vidnas_latency::LowerOptions::default()) {
        table.insert(&sig.parse().unwrap(), entry(1.0));
    }
    let arch = space.parse_arch("none-attn3d-none-none").unwrap();
    let req = PredictRequest::default();
    for msg in [
        predict(&space, &arch, &table, &req)
            .unwrap_err()
            .to_string(),
        SlotCostModel::new(&space, &table, &req)
            .unwrap_err()
            .to_string(),
    ] {
        assert!(
            msg.starts_with("huge.json: ")
                && msg.contains("does not fit 64 bits")
                && msg.contains("fix: "),
            "{msg}"
        );
    }
}
