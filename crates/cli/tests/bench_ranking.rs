//! `vidnas bench ranking` on the micro space: three architectures trained stand-alone with two
//! seeds each, ranked by a supernet; the figures come with Spearman ρ and 95% bootstrap
//! intervals, for the proxy and for the seed-to-seed ceiling, and the CSV is written. Then the
//! supernet-training methods it compares: in-place distillation, a few-shot split (each
//! architecture scored by its own part) and re-ranking by short fine-tunes.

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

    // In-place distillation trains like any supernet.
    let inplace = p("inplace");
    let mut args = vec![
        "supernet", "train", &space, "--image", &image, "--out", &inplace,
    ];
    args.extend(["--steps", "2", "--batch-size", "2", "--sampling", "inplace"]);
    ok(&args);
    // A few-shot split at one slot, one step per part, from the fair supernet.
    let fewshot = p("fewshot");
    let mut args = vec![
        "supernet",
        "split",
        &space,
        "--supernet",
        &supernet,
        "--out",
        &fewshot,
    ];
    args.extend([
        "--split-slots",
        "1",
        "--steps-per-part",
        "1",
        "--probes",
        "1",
    ]);
    ok(&args);
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{fewshot}/split.json")).unwrap())
            .unwrap();
    let slot = manifest["slots"][0]["index"].as_u64().unwrap() as usize;
    let parts = manifest["parts"].as_array().unwrap();
    assert!(parts.len() >= 2, "{manifest}");
    // Routing: each architecture is scored by the part holding its op at the split slot, and
    // that part refuses the others.
    let mut moved = 0;
    for arch in archs {
        let op = arch.split('-').nth(slot).unwrap();
        let own = parts.iter().find(|part| part["ops"][0] == op).unwrap()["run"]
            .as_str()
            .unwrap();
        let score = |run: &str| {
            let out = ok(&["supernet", "score", run, "--arch", arch, "--json"]);
            serde_json::from_str::<serde_json::Value>(&out).unwrap()[0]["score"]
                .as_f64()
                .unwrap()
        };
        assert_eq!(
            score(&fewshot),
            score(&format!("{fewshot}/{own}")),
            "{arch}"
        );
        // The parts trained one step on a sampled path: some architectures' layers moved.
        moved += usize::from(score(&fewshot) != score(&supernet));
        let other = parts.iter().find(|part| part["ops"][0] != op).unwrap()["run"]
            .as_str()
            .unwrap();
        let refused = common::run_vidnas(&[
            "supernet",
            "score",
            &format!("{fewshot}/{other}"),
            "--arch",
            arch,
        ]);
        assert!(!refused.status.success(), "{arch} scored by {other}");
    }
    assert!(moved > 0, "no part trained");
    // Re-ranking: each architecture fine-tuned briefly from the supernet's weights.
    let rerank = p("rerank");
    for (i, arch) in archs.iter().enumerate() {
        let out = format!("{rerank}/{i}");
        let mut args = vec![
            "train", &space, "--image", &image, "--out", &out, "--arch", arch,
        ];
        args.extend(["--init", &supernet, "--steps", "1", "--batch-size", "2"]);
        ok(&args);
    }
    let summary = p("summary.json");
    let (fair, inplace, fewshot, rerank) = (
        format!("fair={supernet}"),
        format!("inplace={inplace}"),
        format!("fewshot={fewshot}"),
        format!("rr={rerank}"),
    );
    let mut args = vec!["bench", "ranking", space.as_str()];
    args.extend([
        "--supernet",
        &fair,
        "--supernet",
        &inplace,
        "--supernet",
        &fewshot,
    ]);
    args.extend(["--rerank", &rerank, "--standalone"]);
    args.extend(runs.iter().map(String::as_str));
    args.extend(["--out", csv.as_str(), "--summary", summary.as_str()]);
    let stdout = ok(&args);
    for name in ["fair", "inplace", "fewshot", "rr"] {
        assert!(
            stdout.contains(&format!("{name} vs stand-alone mean over seeds: τ ")),
            "{stdout}"
        );
    }
    let header = std::fs::read_to_string(&csv).unwrap();
    assert!(
        header.starts_with(
            "arch_id,arch,in_band,score_fair,score_inplace,score_fewshot,score_rr,standalone_mean"
        ),
        "{header}"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(summary["proxies"].as_array().unwrap().len(), 4);
    assert_eq!(summary["archs"], 3);

    // A proxy judged against the stand-alone scores of that CSV, without the runs: the same
    // architectures, proxy scores and stand-alone scores.
    let again = p("again.csv");
    ok(&[
        "bench",
        "ranking",
        &space,
        "--supernet",
        &fair,
        "--standalone-csv",
        &csv,
        "--out",
        &again,
    ]);
    let columns = |path: &str, names: &[&str]| -> Vec<Vec<String>> {
        let mut r = csv::Reader::from_path(path).unwrap();
        let head = r.headers().unwrap().clone();
        let idx: Vec<usize> = names
            .iter()
            .map(|n| head.iter().position(|h| h == *n).unwrap())
            .collect();
        r.records()
            .map(|rec| {
                idx.iter()
                    .map(|&i| rec.as_ref().unwrap()[i].to_string())
                    .collect()
            })
            .collect()
    };
    let wanted = ["arch", "score_fair", "standalone_scores"];
    assert_eq!(columns(&again, &wanted), columns(&csv, &wanted));
}

#[test]
fn a_split_at_more_slots_than_the_space_has_is_refused_naming_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let space = write_micro_space(tmp.path());
    let out = tmp.path().join("split");
    let result = common::run_vidnas(&[
        "supernet",
        "split",
        &space,
        "--supernet",
        "no-such-run",
        "--out",
        out.to_str().unwrap(),
        "--split-slots",
        "11",
    ]);
    let err = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success());
    assert!(
        err.contains("--split-slots 11") && err.contains("10 slots"),
        "{err}"
    );
    assert!(!out.exists(), "nothing written");
}
