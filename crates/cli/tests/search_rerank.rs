//! `vidnas search --rerank K`: K front architectures are fine-tuned from the supernet and scored
//! again; the front becomes their Pareto set under the new scores (rerank.csv, `rerank` in
//! front.csv), a resumed run rewrites nothing, and export takes the fine-tuned weights.

mod common;

use common::{profile_quick, snapshot, vidnas_ok, write_micro_space};
use std::collections::HashMap;

/// Rows of a CSV file as column → value maps.
fn csv_rows(path: &std::path::Path) -> Vec<HashMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            head.iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn the_front_is_re_ranked_by_fine_tuning_and_export_takes_those_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let space = write_micro_space(tmp.path());
    let (image, supernet, table) = (p("image"), p("supernet"), p("table.json"));
    profile_quick(&space, &table);
    vidnas_ok(&[
        "pretrain-image",
        &space,
        "--out",
        &image,
        "--steps",
        "2",
        "--batch-size",
        "1",
        "--validation-clips",
        "2",
        "--threads",
        "1",
    ]);
    vidnas_ok(&[
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
        "1",
        "--threads",
        "1",
    ]);
    let search = |out: &str, extra: &[&str]| {
        let mut args = vec![
            "search",
            &space,
            "--table",
            &table,
            "--supernet",
            &supernet,
            "--out",
            out,
            "--population",
            "6",
            "--generations",
            "1",
            "--rerank-steps",
            "2",
            "--threads",
            "1",
        ];
        args.extend_from_slice(extra);
        vidnas_ok(&args)
    };

    let plain = p("plain");
    search(&plain, &["--rerank", "0"]);
    assert!(!tmp.path().join("plain/rerank.csv").exists());
    let plain_front = csv_rows(&tmp.path().join("plain/front.csv"));
    assert!(plain_front.iter().all(|r| r["score_source"] == "supernet"));

    let run = p("run");
    search(&run, &["--rerank", "3"]);
    let dir = tmp.path().join("run");
    let reranked = csv_rows(&dir.join("rerank.csv"));
    // Spread over the supernet front's latency range: as many as asked, or the whole front.
    assert_eq!(reranked.len(), plain_front.len().min(3), "{reranked:?}");
    let by_id: HashMap<&str, &HashMap<String, String>> = reranked
        .iter()
        .map(|r| (r["arch_id"].as_str(), r))
        .collect();
    for r in &reranked {
        assert!(plain_front.iter().any(|f| f["arch_id"] == r["arch_id"]));
        assert_eq!(r["steps"], "2");
        assert_ne!(
            r["score"], r["supernet_score"],
            "fine-tuning changed nothing"
        );
        assert!(dir
            .join("rerank")
            .join(&r["arch_id"])
            .join("model.safetensors")
            .exists());
    }
    let front = csv_rows(&dir.join("front.csv"));
    assert!(!front.is_empty());
    for f in &front {
        let r = by_id
            .get(f["arch_id"].as_str())
            .expect("only re-ranked architectures reach the front");
        assert_eq!(f["score_source"], "rerank");
        assert_eq!(f["score"], r["score"]);
    }

    // Resuming a finished run fine-tunes nothing again and rewrites the same bytes.
    let before = snapshot(&dir);
    search(&run, &["--rerank", "3", "--resume"]);
    assert_eq!(snapshot(&dir), before);

    // Export takes the knee's fine-tuned weights, the ones its score measured.
    let configs = p("configs");
    vidnas_ok(&["export", &run, "--name", "picked", "--out", &configs]);
    let config = std::fs::read_to_string(tmp.path().join("configs/picked.json")).unwrap();
    assert!(config.contains("/rerank/"), "{config}");
}
