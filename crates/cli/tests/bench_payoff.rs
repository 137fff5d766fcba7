//! `vidnas bench payoff` on the micro space: a search's front supplies each baseline's
//! counterpart (pairs.csv, archs.txt), every listed architecture is trained with two seeds and
//! timed with `latency validate --archs`, and the second call writes the table and the plot.

mod common;

use common::{run_vidnas, vidnas_ok as ok, write_micro_space};

const A: &str = "conv1d-attn1d-none-attn3d-none-conv3d-none-conv1d-none-attn1d";
const HEAVY: &str = "attn1d-conv1d-attn3d-none-conv3d-none-attn1d-none-conv1d-none";

#[test]
fn baselines_are_paired_trained_timed_and_judged() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let space = write_micro_space(tmp.path());
    let (image, supernet, table, search) =
        (p("image"), p("supernet"), p("table.json"), p("search"));
    let small = ["--batch-size", "2"];
    let mut args = vec!["pretrain-image", &space, "--out", &image, "--steps", "2"];
    args.extend(["--train-clips", "8", "--validation-clips", "4"]);
    args.extend(small);
    ok(&args);
    let mut args = vec![
        "supernet", "train", &space, "--image", &image, "--out", &supernet,
    ];
    args.extend(["--steps", "2"]);
    args.extend(small);
    ok(&args);
    common::profile_quick(&space, &table);
    let mut args = vec!["search", &space, "--table", &table, "--supernet", &supernet];
    args.extend(["--out", &search, "--population", "6", "--generations", "2"]);
    ok(&args);

    let baselines = p("baselines.txt");
    std::fs::write(&baselines, format!("# hand-designed\n{A}\n{HEAVY}\n")).unwrap();
    let out = p("payoff");
    let pair = [
        "bench",
        "payoff",
        &space,
        "--search",
        &search,
        "--baselines",
        &baselines,
    ];
    let stdout = ok(&[&pair[..], &["--out", &out]].concat());
    assert!(
        stdout.contains("next: train every architecture"),
        "{stdout}"
    );
    let pairs = std::fs::read_to_string(format!("{out}/pairs.csv")).unwrap();
    assert_eq!(pairs.lines().count(), 3, "{pairs}");
    let archs: Vec<String> = std::fs::read_to_string(format!("{out}/archs.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(String::from)
        .collect();
    assert!(
        archs.contains(&A.to_string()) && archs.len() >= 2,
        "{archs:?}"
    );

    // Judging before every architecture is trained names what is missing.
    let mut runs = Vec::new();
    for (i, arch) in archs.iter().enumerate() {
        for seed in ["0", "1"] {
            let run = p(&format!("alone-{i}-{seed}"));
            let mut args = vec![
                "train", &space, "--image", &image, "--out", &run, "--arch", arch,
            ];
            args.extend(["--steps", "1", "--seed", seed]);
            args.extend(small);
            ok(&args);
            runs.push(run);
        }
    }
    let timed = p("timed");
    let list = format!("{out}/archs.txt");
    let mut args = vec![
        "latency", "validate", &space, "--table", &table, "--archs", &list,
    ];
    args.extend([
        "--rounds",
        "1",
        "--repeats",
        "1",
        "--threads",
        "1",
        "--out",
        &timed,
    ]);
    ok(&args);
    let measured = format!("{timed}/validation.csv");
    let mut judge: Vec<&str> = pair.to_vec();
    judge.extend(["--out", &out, "--measured", &measured, "--standalone"]);
    let missing = run_vidnas(&[&judge[..], &[runs[0].as_str()]].concat());
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(
        !missing.status.success() && err.contains("2 or more seeds"),
        "{err}"
    );

    judge.extend(runs.iter().map(String::as_str));
    let table_md = ok(&judge);
    assert!(
        table_md.contains("| baseline | searched counterpart |"),
        "{table_md}"
    );
    assert!(
        table_md.contains("paired baselines have a searched counterpart"),
        "{table_md}"
    );
    for file in ["payoff.csv", "payoff.md", "payoff.png", "payoff.svg"] {
        assert!(
            std::path::Path::new(&format!("{out}/{file}")).exists(),
            "{file}"
        );
    }
}
