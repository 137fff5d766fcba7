//! The ExecuTorch harness end to end on the micro space: every signature profiled into a table
//! whose metadata names the runtime and whose entries say how the XNNPACK delegate ran them, a
//! phone bundle, and whole networks timed with the validate protocol. Needs the venv of
//! `scripts/install-executorch.sh`: without it the test says so and passes, unless
//! VIDNAS_REQUIRE_EXECUTORCH=1 (set by .ci/run) makes that a failure.

mod common;

use vidnas_latency::{all_signatures, LatencyTable, LowerOptions, Signature};
use vidnas_profile::executorch::{self, NetworkRequest, Runtime};
use vidnas_profile::profile::profile_space;
use vidnas_space::{OpHyper, OpKind, Structure};

fn installed() -> bool {
    match executorch::python() {
        Ok(_) => true,
        Err(e) => {
            assert!(
                std::env::var("VIDNAS_REQUIRE_EXECUTORCH").as_deref() != Ok("1"),
                "VIDNAS_REQUIRE_EXECUTORCH=1 but: {e}"
            );
            eprintln!("skipped: {e}");
            false
        }
    }
}

#[test]
fn profiles_every_signature_into_a_table_and_a_bundle() {
    if !installed() {
        return;
    }
    let space = common::micro(2);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("table.json");
    let bundle = dir.path().join("bundle");
    let mut opts = common::options(vidnas_latency::Dtype::F32);
    opts.runtime = Runtime::ExecutorchXnnpack;
    opts.bundle = Some(bundle.clone());
    profile_space(&space, &out, &opts, false).unwrap();

    let table = LatencyTable::load(&out).unwrap();
    let wanted = all_signatures(&space, &LowerOptions::new(4, 1));
    assert_eq!(table.entries.len(), wanted.len());
    assert_eq!(table.device.backend, "executorch-xnnpack");
    assert_eq!(
        table.device.runtime_version.as_deref(),
        Some("executorch 1.5.1")
    );
    assert_eq!(table.device.libtorch_version, None);
    for (sig, e) in &table.entries {
        assert!(e.ms > 0.0 && e.count == 2, "{sig}: {e:?}");
        assert!(e.delegation.is_some(), "{sig} has no delegation");
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(bundle.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["format"], "vidnas-executorch-bundle/1");
    let ops = manifest["ops"].as_array().unwrap();
    assert_eq!(ops.len(), wanted.len());
    for op in ops {
        assert!(bundle.join(op["pte"].as_str().unwrap()).exists());
    }
    for file in ["run_android.sh", "runner_to_csv.py", "README.md"] {
        assert!(bundle.join(file).exists(), "{file} missing from the bundle");
    }
}

#[test]
fn deployment_form_programs_equal_eager_pytorch_and_run_in_the_delegate() {
    if !installed() {
        return;
    }
    // Every temporal op of the registry (kernel 3, or 2 heads and stride 2), then the
    // backbone's two heaviest blocks.
    let temporal = OpKind::ALL.into_iter().filter_map(|op| {
        let hyper = match op.spec().structure {
            Structure::Attention { .. } => OpHyper { size: 2, stride: 2 },
            Structure::Conv { .. } | Structure::Identity => OpHyper::of_size(3),
        };
        Signature::temporal(op, 16, hyper, 4, (4, 4, 4)).map(|sig| sig.to_string())
    });
    let sigs: Vec<String> = temporal
        .chain(
            [
                "xformer|c=16|heads=2|ctx=16|tokens=4|layers=1|linear=0|groups=4|t=2|h=4|w=4",
                "resnet|cin=16|cout=16|temb=32|groups=4|t=2|h=4|w=4",
            ]
            .map(String::from),
        )
        .collect();
    let req = executorch::OpRequest {
        dtype: vidnas_latency::Dtype::F32,
        batch: 1,
        text_tokens: 4,
        threads: 1,
        timing: vidnas_profile::timer::TimingConfig {
            warmup: 0,
            repeats: 2,
        },
        bundle: None,
    };
    let mut ops = Vec::new();
    executorch::time_ops(&sigs, &req, false, &mut |op| {
        ops.push(op.clone());
        Ok(())
    })
    .unwrap();
    // Each op reaches the caller as it finishes, in request order.
    let seen: Vec<&String> = ops.iter().map(|op| &op.signature).collect();
    assert_eq!(seen, sigs.iter().collect::<Vec<_>>());
    assert_eq!(ops.len(), sigs.len());
    for (op, sig) in ops.iter().zip(&sigs) {
        assert_eq!(&op.signature, sig);
        // Random non-zero weights: the .pte's output against the eager (non-deployed) twin.
        assert!(op.max_rel_error < 1e-4, "{sig}: {}", op.max_rel_error);
        // Every temporal op, the transformer and the ResNet block run whole in XNNPACK.
        assert_eq!(
            op.delegation,
            vidnas_latency::Delegation::Xnnpack,
            "{sig} fell back"
        );
    }
}

#[test]
fn times_whole_networks_in_rounds() {
    if !installed() {
        return;
    }
    let space = common::micro(2);
    // One network besides the reference: lowering a whole network takes the harness ~10 s.
    let archs: Vec<_> = ["conv3d"]
        .iter()
        .map(|op| {
            let text = space
                .slots
                .iter()
                .map(|s| match s.allowed.iter().any(|a| a.as_str() == *op) {
                    true => *op,
                    false => "none",
                })
                .collect::<Vec<_>>()
                .join("-");
            space.parse_arch(&text).unwrap()
        })
        .collect();
    let cache = tempfile::tempdir().unwrap();
    let req = NetworkRequest {
        program_cache: Some(cache.path().to_path_buf()),
        batch: 1,
        text_tokens: 4,
        threads: 1,
        rounds: 2,
        repeats: 2,
        tolerance: 10.0,
        max_redo: 0,
        seed: 0,
    };
    let programs = || {
        let mut names: Vec<_> = std::fs::read_dir(cache.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    // The first run lowers both networks (the reference and the one asked for) into the cache;
    // the second reuses them (an interrupted validation resumes without lowering again).
    for run in 0..2 {
        let times = executorch::time_networks(&space, &archs, &req, false).unwrap();
        assert_eq!(times.round_mins.len(), 1);
        assert!(times.reference_ms > 0.0);
        for mins in &times.round_mins {
            assert_eq!(mins.len(), 2);
            assert!(mins.iter().all(|m| *m > 0.0));
        }
        let names = programs();
        assert_eq!(names.len(), 2, "run {run}: {names:?}");
        assert!(names.iter().all(|n| n.ends_with(".pte")), "{names:?}");
    }
}
