//! Malformed latency tables, measurement CSVs and search results files: each is refused naming
//! the file, the field (or line and column) and the fix, and the `--out` target is untouched.

mod common;
use common::*;

use std::path::{Path, PathBuf};

const TABLE: &str = include_str!("../../../latency-tables/tiny-cpu-2threads.json");
const SPACE: &str = "search-spaces/tiny.json";
const SIG: &str = "attn1d|c=32|heads=4|groups=8|t=8|h=32|w=32";

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

fn owned(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// The table with the entry of `SIG` given twice, and the lines of both.
fn repeated_entry() -> (String, usize, usize) {
    let first = 1 + TABLE.lines().position(|l| l.contains(SIG)).unwrap();
    let twice = format!(
        "\"{SIG}\": {{\n      \"ms\": 1.0,\n      \"count\": 25,\n      \"mean_ms\": 1.0,\n      \
         \"std_ms\": 0.1,\n      \"bytes\": 7365248\n    }},\n    \"{SIG}\": {{"
    );
    (
        TABLE.replacen(&format!("\"{SIG}\": {{"), &twice, 1),
        first,
        first + 7,
    )
}

#[test]
fn malformed_tables_are_refused_before_anything_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (dup, l1, l2) = repeated_entry();
    let lines = format!("lines {l1} and {l2}");
    let dup_t = write(d, "dup.json", &dup);
    let overhead = write(
        d,
        "overhead.json",
        &TABLE.replace(
            "\"overhead_ms\": 10.347267752695307",
            "\"overhead_ms\": -1e6",
        ),
    );
    let scale = write(
        d,
        "scale.json",
        &TABLE.replace("\"attn1d\": 0.7351179478059866", "\"attn1d\": 0"),
    );
    let nan = write(
        d,
        "nan.json",
        &TABLE.replacen("\"ms\": 10.241529", "\"ms\": NaN", 1),
    );
    let negative = write(
        d,
        "negative.json",
        &TABLE.replacen("\"ms\": 10.241529", "\"ms\": -10.2", 1),
    );
    let format = write(
        d,
        "format.json",
        &TABLE.replace("vidnas-latency-table/1", "vidnas-latency-table/2"),
    );
    let truncated = write(d, "truncated.json", &TABLE[..TABLE.len() * 2 / 3]);
    let zero_batch = write(
        d,
        "batch.json",
        &TABLE.replace("\"batch\": 1,", "\"batch\": 0,"),
    );
    let other_space = s(&common::repo_root().join("latency-tables/fixtures/one-block.json"));
    let run = d.join("run");
    let search = |table: &str| owned(&["search", SPACE, "--table", table, "--out", &s(&run)]);
    let cases_args: Vec<(&str, Vec<String>)> = vec![
        ("repeated signature", search(&dup_t)),
        ("negative overhead", search(&overhead)),
        ("zero scale", search(&scale)),
        ("NaN ms", search(&nan)),
        ("negative ms", search(&negative)),
        ("wrong format", search(&format)),
        ("truncated JSON", search(&truncated)),
        ("zero batch", search(&zero_batch)),
        ("table of another space", search(&other_space)),
        (
            "repeated signature, validate",
            owned(&[
                "latency",
                "validate",
                SPACE,
                "--table",
                &dup_t,
                "--samples",
                "4",
                "--out",
                &s(&d.join("validation")),
            ]),
        ),
    ];
    let ms_field = format!("entries.\"{SIG}\".ms");
    let expect: Vec<(Vec<&str>, Vec<&str>, PathBuf)> = vec![
        (
            vec!["dup.json", SIG, &lines],
            vec!["keep one of the two"],
            run.clone(),
        ),
        (
            vec!["overhead.json", "correction.overhead_ms", "-1000000"],
            vec!["0 <= overhead_ms"],
            run.clone(),
        ),
        (
            vec!["scale.json", "correction.scales.attn1d"],
            vec!["0 < scales.attn1d"],
            run.clone(),
        ),
        (
            vec!["nan.json", SIG],
            vec!["no NaN or Infinity"],
            run.clone(),
        ),
        (
            vec!["negative.json", &ms_field],
            vec!["re-measure the entry"],
            run.clone(),
        ),
        (
            vec!["format.json", "`format`", "vidnas-latency-table/2"],
            vec!["\"format\": \"vidnas-latency-table/1\""],
            run.clone(),
        ),
        (
            vec!["truncated.json", "EOF"],
            vec!["ends early"],
            run.clone(),
        ),
        (
            vec!["batch.json", "device.batch"],
            vec!["record the value"],
            run.clone(),
        ),
        (
            vec!["one-block.json", "lacks", "tiny"],
            vec!["vidnas latency profile"],
            run.clone(),
        ),
        (
            vec!["dup.json", SIG, &lines],
            vec!["keep one of the two"],
            d.join("validation"),
        ),
    ];
    let cases: Vec<Fault> = cases_args
        .iter()
        .zip(&expect)
        .map(|((name, a), (names, fix, out))| {
            Fault::new(name, &strs(a)).names(names).fix(fix).out(out)
        })
        .collect();
    check_all(&cases);
}

#[test]
fn import_merges_refuse_a_malformed_table_and_leave_it_as_it_was() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (dup, l1, l2) = repeated_entry();
    let existing = write(d, "existing.json", &dup);
    let csv = write(
        d,
        "m.csv",
        "signature,ms,count,mean_ms,std_ms\ndown|c=8|t=2|h=8|w=8,0.5,20,0.52,0.01\n",
    );
    let lines = format!("lines {l1} and {l2}");
    let args = [
        "latency",
        "import",
        &csv,
        "--out",
        &existing,
        "--merge",
        "--device-name",
        "phone",
        "--backend",
        "coreml",
        "--date",
        "2025-01-31",
    ];
    check_all(&[
        Fault::new("import --merge into a table with a repeated key", &args)
            .names(&["existing.json", SIG, &lines])
            .fix(&["keep one of the two"])
            .out(&existing),
    ]);
}

#[test]
fn malformed_measurement_csvs_name_the_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let head = "signature,ms,count,mean_ms,std_ms\n";
    let good = "down|c=8|t=2|h=8|w=8,0.5,20,0.52,0.01\n";
    let other = "up|c=8|t=2|h=4|w=4,0.7,20,0.71,0.01\n";
    let csvs = [
        (
            "missing columns",
            "missing.csv",
            "signature,ms,count\ndown|c=8|t=2|h=8|w=8,0.5,20\n".to_string(),
            vec!["missing.csv line 1", "`mean_ms`"],
            vec!["it must be exactly"],
        ),
        (
            "non-numeric ms",
            "words.csv",
            format!("{head}{good}up|c=8|t=2|h=4|w=4,fast,20,0.71,0.01\n"),
            vec!["words.csv line 3", "column `ms`", "`fast`"],
            vec!["not a number"],
        ),
        (
            "negative ms",
            "negative.csv",
            format!("{head}down|c=8|t=2|h=8|w=8,-0.5,20,0.52,0.01\n"),
            vec!["negative.csv line 2", "column `ms`"],
            vec!["finite non-negative number"],
        ),
        (
            "NaN std",
            "nan.csv",
            format!("{head}{good}up|c=8|t=2|h=4|w=4,0.7,20,0.71,NaN\n"),
            vec!["nan.csv line 3", "column `std_ms`"],
            vec!["finite non-negative number"],
        ),
        (
            "repeated signature",
            "dup.csv",
            format!("{head}{good}{other}{good}"),
            vec!["dup.csv line 4", "already given on line 2"],
            vec!["keep one measurement per signature"],
        ),
        (
            "short row",
            "short.csv",
            format!("{head}{good}up|c=8|t=2|h=4|w=4,0.7\n"),
            vec!["short.csv line 3", "has 2 fields"],
            vec!["give every row"],
        ),
        (
            "header only",
            "empty.csv",
            head.to_string(),
            vec!["empty.csv line 2"],
            vec!["add one row per signature"],
        ),
    ];
    let out = d.join("imported.json");
    let mut cases = Vec::new();
    let mut all_args = Vec::new();
    for (_, file, text, _, _) in &csvs {
        let csv = write(d, file, text);
        all_args.push(owned(&[
            "latency",
            "import",
            &csv,
            "--out",
            &s(&out),
            "--device-name",
            "phone",
            "--backend",
            "coreml",
            "--date",
            "2025-01-31",
        ]));
    }
    for ((name, _, _, names, fix), a) in csvs.iter().zip(&all_args) {
        cases.push(Fault::new(name, &strs(a)).names(names).fix(fix).out(&out));
    }
    check_all(&cases);
}

/// A finished predictor-only random search in `dir` (fast: no supernet).
fn finished_run(dir: &Path) -> Vec<String> {
    let out = run_vidnas(&strs(&search_args(dir, false)));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    text.lines().map(str::to_string).collect()
}

fn search_args(dir: &Path, resume: bool) -> Vec<String> {
    let mut a = owned(&[
        "search",
        SPACE,
        "--table",
        "latency-tables/tiny-cpu-2threads.json",
        "--algo",
        "random",
        "--samples",
        "12",
        "--population",
        "6",
        "--out",
        &s(dir),
    ]);
    if resume {
        a.push("--resume".into());
    }
    a
}

/// `lines` with field `column` of line `line` (1-based) replaced.
fn edited(lines: &[String], line: usize, column: usize, value: &str) -> String {
    let mut lines = lines.to_vec();
    let mut fields: Vec<&str> = lines[line - 1].split(',').collect();
    fields[column] = value;
    lines[line - 1] = fields.join(",");
    lines.join("\n") + "\n"
}

#[test]
fn malformed_results_csvs_are_refused_on_resume_and_the_run_is_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    let lines = finished_run(&base);
    let mut header = lines.clone();
    header[0] = header[0].replace("latency_ms", "latency");
    let mut dup = lines.clone();
    dup.push(lines[1].clone());
    let n = lines.len() + 1;
    let foreign = ["conv9d"; 10].join("-");
    let variants: Vec<(&str, String, Vec<String>, Vec<&str>)> = vec![
        (
            "NaN latency",
            edited(&lines, 3, 4, "NaN"),
            vec![
                "line 3".into(),
                "column `latency_ms`".into(),
                "`NaN`".into(),
            ],
            vec!["fix or delete the line"],
        ),
        (
            "negative memory",
            edited(&lines, 2, 5, "-3"),
            vec!["line 2".into(), "column `peak_mem_mb`".into()],
            vec!["finite and >= 0"],
        ),
        (
            "score in a predictor-only run",
            edited(&lines, 4, 3, "0.5"),
            vec!["line 4".into(), "column `score`".into()],
            vec!["resume with the supernet the run started with"],
        ),
        (
            "wrong header",
            header.join("\n") + "\n",
            vec!["header".into(), "`latency`".into(), "`latency_ms`".into()],
            vec!["start a new run folder"],
        ),
        (
            "repeated row",
            dup.join("\n") + "\n",
            vec![format!("line {n}"), "already recorded on line 2".into()],
            vec!["delete one of the two lines"],
        ),
        (
            "arch not in the space",
            edited(&lines, 3, 1, &foreign),
            vec!["line 3".into(), "column `arch`".into(), "conv9d".into()],
            vec!["fix or delete the line"],
        ),
        (
            "non-numeric params",
            edited(&lines, 2, 6, "many"),
            vec!["line 2".into(), "column `params`".into()],
            vec!["fix or delete the line"],
        ),
    ];
    let mut cases_args = Vec::new();
    for (k, (_, text, _, _)) in variants.iter().enumerate() {
        let dir = tmp.path().join(format!("run{k}"));
        std::fs::create_dir(&dir).unwrap();
        for f in std::fs::read_dir(&base).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
        }
        std::fs::write(dir.join("results.csv"), text).unwrap();
        cases_args.push((search_args(&dir, true), dir));
    }
    let cases: Vec<Fault> = variants
        .iter()
        .zip(&cases_args)
        .map(|((name, _, names, fix), (a, dir))| {
            let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
            names.push("results.csv");
            Fault::new(name, &strs(a)).names(&names).fix(fix).out(dir)
        })
        .collect();
    check_all(&cases);
}

#[test]
fn a_torn_last_line_is_dropped_with_a_warning_and_rescored() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let lines = finished_run(&dir);
    let whole = std::fs::read(dir.join("results.csv")).unwrap();
    let mut torn = whole.clone();
    torn.truncate(whole.len() - 9);
    std::fs::write(dir.join("results.csv"), &torn).unwrap();
    let out = run_vidnas(&strs(&search_args(&dir, true)));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!("results.csv line {} is incomplete", lines.len())),
        "{err}"
    );
    assert_eq!(std::fs::read(dir.join("results.csv")).unwrap(), whole);
}

#[test]
fn a_folder_holding_a_run_that_never_started_is_reused_without_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    let lines = finished_run(&dir);
    for f in std::fs::read_dir(&dir).unwrap() {
        let f = f.unwrap().path();
        if f.file_name().unwrap() != "run.json" {
            std::fs::remove_file(f).unwrap();
        }
    }
    std::fs::write(dir.join("results.csv"), format!("{}\n", lines[0])).unwrap();
    let mut args = search_args(&dir, false);
    args.extend(owned(&["--seed", "3"]));
    let out = run_vidnas(&strs(&args));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run_json = std::fs::read_to_string(dir.join("run.json")).unwrap();
    assert!(run_json.contains("\"seed\": 3"), "{run_json}");
}

#[test]
fn an_import_that_lacks_signatures_of_the_space_is_refused_naming_them() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let table: serde_json::Value = serde_json::from_str(TABLE).unwrap();
    let entries = table["entries"].as_object().unwrap();
    let row = |(sig, e): (&String, &serde_json::Value)| {
        format!(
            "{sig},{},{},{},{}\n",
            e["ms"], e["count"], e["mean_ms"], e["std_ms"]
        )
    };
    let head = "signature,ms,count,mean_ms,std_ms\n";
    let full: String = std::iter::once(head.to_string())
        .chain(entries.iter().map(row))
        .collect();
    // Every signature but the 3-D attention ones, as a device run that lost them would leave.
    let partial: String = std::iter::once(head.to_string())
        .chain(
            entries
                .iter()
                .filter(|(sig, _)| !sig.starts_with("attn3d"))
                .map(row),
        )
        .collect();
    let lost = entries.keys().filter(|s| s.starts_with("attn3d")).count();
    assert!(lost > 0);
    let args = |csv: &str, out: &Path| {
        owned(&[
            "latency",
            "import",
            csv,
            "--out",
            &s(out),
            "--device-name",
            "phone",
            "--backend",
            "executorch-xnnpack",
            "--date",
            "2026-11-30",
            "--space",
            SPACE,
        ])
    };
    let ok = d.join("full.json");
    let run = run_vidnas(&strs(&args(&write(d, "full.csv", &full), &ok)));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let refused = d.join("partial.json");
    let a = args(&write(d, "partial.csv", &partial), &refused);
    let lacks = format!("lacks {lost} signature(s)");
    check_all(&[
        Fault::new("bundle CSV without the attn3d signatures", &strs(&a))
            .names(&["partial.csv", &lacks, "`attn3d|"])
            .fix(&["--merge", "leave --space out"])
            .out(&refused),
    ]);
}
