//! Bad command-line values: every message names the flag as the user types it and the expected
//! form, and nothing is written to `--out`.

mod common;
use common::*;

use std::path::Path;

const SPACE: &str = "search-spaces/tiny.json";
const TABLE: &str = "latency-tables/tiny-cpu-2threads.json";

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// One case: name, arguments, what the error must name, the fix (any of), the `--out` target.
type Case = (
    &'static str,
    Vec<String>,
    Vec<&'static str>,
    Vec<&'static str>,
    String,
);

fn case(
    name: &'static str,
    args: &[&str],
    names: &[&'static str],
    fix: &[&'static str],
    out: &str,
) -> Case {
    (
        name,
        args.iter().map(|a| a.to_string()).collect(),
        names.to_vec(),
        fix.to_vec(),
        out.to_string(),
    )
}

fn check(cases: &[Case]) {
    let faults: Vec<Fault> = cases
        .iter()
        .map(|(name, args, names, fix, out)| {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            Fault::new(name, &args).names(names).fix(fix).out(out)
        })
        .collect();
    check_all(&faults);
}

#[test]
fn search_values_name_their_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let run = s(&tmp.path().join("run"));
    let search = |name, extra: &[&str], names: &[&'static str], fix: &[&'static str]| {
        let mut args = vec!["search", SPACE, "--table", TABLE, "--out", &run];
        args.extend(extra);
        case(name, &args, names, fix, &run)
    };
    let cases = vec![
        search(
            "shard not numbers",
            &["--algo", "exhaustive", "--shard", "a/b"],
            &["--shard", "a/b"],
            &["--shard i/n with 0 <= i < n, e.g. 0/4"],
        ),
        search(
            "shard out of range",
            &["--algo", "exhaustive", "--shard", "4/4"],
            &["--shard", "4/4"],
            &["0 <= i < n"],
        ),
        search(
            "shard of nsga2",
            &["--shard", "0/2"],
            &["--shard", "nsga2"],
            &["shard only exhaustive or random"],
        ),
        search(
            "hv-ref of two numbers",
            &["--hv-ref", "1,2"],
            &["--hv-ref", "1,2"],
            &["--hv-ref a,b,c"],
        ),
        search(
            "hv-ref negative first",
            &["--hv-ref", "-1,x,2"],
            &["--hv-ref", "`x`"],
            &["--hv-ref a,b,c"],
        ),
        search(
            "negative latency budget",
            &["--latency-budget-ms", "-5"],
            &["--latency-budget-ms", "-5"],
            &["above 0"],
        ),
        search(
            "NaN memory budget",
            &["--memory-budget-mb", "nan"],
            &["--memory-budget-mb", "nan"],
            &["above 0"],
        ),
        search(
            "population 0",
            &["--population", "0"],
            &["--population"],
            &["1 or more"],
        ),
        search(
            "surrogate without a supernet",
            &["--surrogate"],
            &["--surrogate", "--supernet"],
            &["pass --supernet RUN"],
        ),
        search(
            "surrogate warm-up 0",
            &["--surrogate", "--surrogate-warmup", "0"],
            &["--surrogate-warmup"],
            &["1 or more"],
        ),
        search(
            "surrogate population 1",
            &["--surrogate", "--surrogate-population", "1"],
            &["--surrogate-population"],
            &["2 or more"],
        ),
        search(
            "population 1",
            &["--population", "1"],
            &["--population"],
            &["2 or more"],
        ),
        search(
            "generations 0",
            &["--generations", "0"],
            &["--generations"],
            &["1 or more"],
        ),
        search(
            "samples 0",
            &["--algo", "random", "--samples", "0"],
            &["--samples"],
            &["1 or more"],
        ),
        search(
            "resume without a run",
            &["--resume"],
            &["run", "nothing to resume"],
            &["without --resume"],
        ),
    ];
    check(&cases);
}

#[test]
fn score_merge_report_and_export_values_name_their_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let csv = s(&d.join("scores.csv"));
    let archs = s(&d.join("archs.txt"));
    std::fs::write(&archs, "# nothing yet\n\n").unwrap();
    let shard = s(&d.join("shard0"));
    std::fs::create_dir(&shard).unwrap();
    let (merged, report, configs) = (
        s(&d.join("merged")),
        s(&d.join("report")),
        s(&d.join("configs")),
    );
    let missing = s(&d.join("no-such-folder/scores.csv"));
    let cases = vec![
        case(
            "score shard",
            &[
                "score", SPACE, "--archs", &archs, "--table", TABLE, "--shard", "2/1", "--out",
                &csv,
            ],
            &["--shard", "2/1"],
            &["0 <= i < n"],
            &csv,
        ),
        case(
            "score without architectures",
            &[
                "score", SPACE, "--archs", &archs, "--table", TABLE, "--out", &csv,
            ],
            &["archs.txt", "no architectures"],
            &["one encoding per line"],
            &csv,
        ),
        case(
            "score into a missing folder",
            &[
                "score", SPACE, "--archs", &archs, "--table", TABLE, "--out", &missing,
            ],
            &["--out", "no-such-folder"],
            &["existing folder"],
            &missing,
        ),
        case(
            "merge into a shard",
            &["search", "merge", SPACE, &shard, "--out", &shard],
            &["--out", "shard0"],
            &["new folder"],
            &shard,
        ),
        case(
            "merge of a folder that is no run",
            &["search", "merge", SPACE, &shard, "--out", &merged],
            &["shard0", "run.json"],
            &["name a search run folder"],
            &merged,
        ),
        case(
            "report of a folder that is no run",
            &["report", &shard, "--out", &report],
            &["shard0", "run.json"],
            &["search run folder"],
            &report,
        ),
        case(
            "export selector",
            &[
                "export",
                &shard,
                "--name",
                "x",
                "--select",
                "fastest-under-score:abc",
                "--out",
                &configs,
            ],
            &["--select", "fastest-under-score:abc"],
            &["best-under-latency:60"],
            &configs,
        ),
    ];
    check(&cases);
}

#[test]
fn latency_values_name_their_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let table = s(&d.join("t.json"));
    let validation = s(&d.join("validation"));
    let csv = s(&d.join("m.csv"));
    std::fs::write(
        &csv,
        "signature,ms,count,mean_ms,std_ms\ndown|c=8|t=2|h=8|w=8,0.5,20,0.52,0.01\n",
    )
    .unwrap();
    let nowhere = s(&d.join("no-such-folder/t.json"));
    let profile = |flag: &'static str, value: &'static str| {
        case(
            flag,
            &["latency", "profile", SPACE, "--out", &table, flag, value],
            &[flag, value],
            &["1 or more"],
            &table,
        )
    };
    let validate = |flag: &'static str, value: &'static str, fix: &'static str| {
        case(
            flag,
            &[
                "latency",
                "validate",
                SPACE,
                "--table",
                TABLE,
                "--out",
                &validation,
                flag,
                value,
            ],
            &[flag, value],
            &[fix],
            &validation,
        )
    };
    let import = |name, flag: &'static str, value: &'static str, fix: &'static str| {
        let mut args = vec![
            "latency",
            "import",
            &csv,
            "--out",
            &table,
            "--device-name",
            "phone",
            "--backend",
            "coreml",
            flag,
            value,
        ];
        if flag != "--date" {
            args.extend(["--date", "2025-01-31"]);
        }
        case(name, &args, &[flag, value], &[fix], &table)
    };
    let cases = vec![
        profile("--repeats", "0"),
        profile("--threads", "0"),
        profile("--batch", "-1"),
        profile("--text-tokens", "many"),
        case(
            "profile into a missing folder",
            &["latency", "profile", SPACE, "--out", &nowhere],
            &["--out", "no-such-folder"],
            &["create it or give another path"],
            &nowhere,
        ),
        validate("--samples", "0", "2 or more"),
        validate("--samples", "1", "2 or more"),
        validate("--rounds", "0", "1 or more"),
        validate("--tolerance-pct", "-1", "0 or more"),
        import("statistic", "--statistic", "best", "median"),
        import("batch", "--batch", "0", "1 or more"),
        import("date", "--date", "yesterday", "2025-01-31"),
    ];
    check(&cases);
}
