//! `vidnas bench ranking` on the micro space: three architectures trained stand-alone with two
//! seeds each, ranked by a supernet; the figures come with Spearman ρ and 95% bootstrap
//! intervals, for the proxy and for the seed-to-seed ceiling, and the CSV is written.

mod common;

use common::{vidnas_ok as ok, write_micro_space};

#[test]
fn ranking_reports_tau_and_rho_with_intervals_for_proxy_and_ceiling() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let space = write_micro_space(tmp.path());
    let image = p("image");
    let data = [
        "--train-clips",
        "8",
        "--validation-clips",
        "4",
        "--batch-size",
        "2",
    ];
    let mut args = vec![
        "pretrain-image",
        space.as_str(),
        "--out",
        image.as_str(),
        "--steps",
        "2",
    ];
    args.extend(data);
    ok(&args);
    let supernet = p("supernet");
    ok(&[
        "supernet",
        "train",
        &space,
        "--image",
        &image,
        "--out",
        &supernet,
        "--steps",
        "3",
        "--batch-size",
        "2",
    ]);
    let archs = [
        "conv1d-attn1d-none-attn3d-none-conv3d-none-conv1d-none-attn1d",
        "none-none-none-attn1d-none-none-none-none-none-none",
        "attn1d-conv1d-attn3d-none-conv3d-none-attn1d-none-conv1d-none",
    ];
    let mut runs = Vec::new();
    for (i, arch) in archs.iter().enumerate() {
        for seed in ["1", "2"] {
            let out = p(&format!("alone-{i}-{seed}"));
            ok(&[
                "train",
                &space,
                "--image",
                &image,
                "--out",
                &out,
                "--arch",
                arch,
                "--steps",
                "2",
                "--batch-size",
                "2",
                "--seed",
                seed,
            ]);
            runs.push(out);
        }
    }
    let csv = p("ranking.csv");
    let mut args = vec![
        "bench",
        "ranking",
        space.as_str(),
        "--supernet",
        supernet.as_str(),
    ];
    args.push("--standalone");
    args.extend(runs.iter().map(String::as_str));
    args.extend(["--out", csv.as_str()]);
    let stdout = ok(&args);
    assert!(
        stdout.contains("supernet vs stand-alone mean over seeds: τ ")
            && stdout.contains(", ρ ")
            && stdout.contains("95% bootstrap intervals")
            && stdout.contains("stand-alone seed vs seed (the ceiling): τ "),
        "{stdout}"
    );
    // Three architectures are enough for an interval: `[lo, hi]` after τ and after ρ.
    let line = stdout
        .lines()
        .find(|l| l.starts_with("supernet vs"))
        .unwrap();
    assert_eq!(line.matches('[').count(), 2, "{line}");
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 4);
}
