//! `--runtime executorch-xnnpack` refused well: when ExecuTorch is not installed (the message
//! says how to install it), with a table of another runtime, with --bundle on libtorch, and
//! with half precision; and a search whose --runtime, --dtype or --batch differ from its
//! table's. Nothing is written in any case.

mod common;
use common::*;

const SPACE: &str = "search-spaces/tiny.json";
const TABLE: &str = "latency-tables/tiny-cpu-2threads.json";

#[test]
fn runtime_requests_this_machine_cannot_serve_are_refused_before_any_output() {
    let tmp = tempfile::tempdir().unwrap();
    let empty_cache = tmp.path().join("empty-cache");
    std::fs::create_dir(&empty_cache).unwrap();
    let out = tmp.path().join("table.json");
    let out_s = out.to_str().unwrap();
    let bundle = tmp.path().join("bundle");
    let validation = tmp.path().join("validation");
    let run = tmp.path().join("search");
    let run_s = run.to_str().unwrap();
    let search = |name, flag: &[&str]| {
        let mut args = vec!["search", SPACE, "--table", TABLE, "--out", run_s];
        args.extend_from_slice(flag);
        Fault::new(name, &args).out(&run)
    };
    let profile = |name, flag: &[&str]| {
        let mut args = vec!["latency", "profile", SPACE, "--out", out_s];
        args.extend_from_slice(flag);
        Fault::new(name, &args).out(&out)
    };
    let cases = [
        profile(
            "ExecuTorch not installed",
            &["--runtime", "executorch-xnnpack"],
        )
        .env("VIDNAS_CACHE", empty_cache.to_str().unwrap())
        .names(&["ExecuTorch 1.5.1 is not installed"])
        .fix(&["scripts/install-executorch.sh"]),
        profile(
            "--bundle on libtorch",
            &["--bundle", bundle.to_str().unwrap()],
        )
        .names(&["--bundle"])
        .fix(&["--runtime executorch-xnnpack"]),
        profile(
            "f16 on ExecuTorch",
            &["--runtime", "executorch-xnnpack", "--dtype", "f16"],
        )
        .names(&["--dtype f16"])
        .fix(&["--dtype f32"]),
        Fault::new(
            "a libtorch table validated on ExecuTorch",
            &[
                "latency",
                "validate",
                SPACE,
                "--table",
                TABLE,
                "--out",
                validation.to_str().unwrap(),
                "--runtime",
                "executorch-xnnpack",
            ],
        )
        .names(&["--runtime executorch-xnnpack", TABLE, "libtorch"])
        .fix(&["profile one with --runtime executorch-xnnpack"])
        .out(&validation),
        search(
            "a libtorch table for an ExecuTorch deployment",
            &["--runtime", "executorch-xnnpack"],
        )
        .names(&[TABLE, "runtime libtorch", "--runtime is executorch-xnnpack"])
        .fix(&["vidnas latency profile --runtime executorch-xnnpack"]),
        search("an f32 table for an f16 deployment", &["--dtype", "f16"])
            .names(&[TABLE, "measured in f32", "--dtype is f16"])
            .fix(&["profile a table with --dtype f16"]),
        search("a batch-1 table for batch 2", &["--batch", "2"])
            .names(&[TABLE, "batch 1", "--batch is 2"])
            .fix(&["profile a table with --batch 2"]),
    ];
    check_all(&cases);
    assert!(!bundle.exists());
}
