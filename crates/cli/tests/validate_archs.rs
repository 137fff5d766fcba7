//! `vidnas latency validate --archs FILE` times exactly the listed networks; a list with an
//! architecture outside the space is refused naming the line and the reason, before any timing.

mod common;

use common::{profile_quick, run_vidnas, write_micro_space, Fault};

const A: &str = "conv1d-attn1d-none-attn3d-none-conv3d-none-conv1d-none-attn1d";
const B: &str = "none-none-none-attn1d-none-none-none-none-none-none";

#[test]
fn the_listed_networks_are_timed_and_a_bad_line_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let space = write_micro_space(tmp.path());
    let table = p("table.json");
    profile_quick(&space, &table);

    let list = p("archs.txt");
    std::fs::write(&list, format!("# baselines\n{A}\n{B}\n")).unwrap();
    let out = p("validation");
    let args = [
        "latency",
        "validate",
        &space,
        "--table",
        &table,
        "--archs",
        &list,
        "--rounds",
        "1",
        "--repeats",
        "1",
        "--threads",
        "1",
        "--out",
        &out,
    ];
    let run = run_vidnas(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let csv = std::fs::read_to_string(tmp.path().join("validation/validation.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.contains(A) && csv.contains(B), "{csv}");

    let bad = p("bad.txt");
    std::fs::write(&bad, format!("{A}\nconv9d-none\n")).unwrap();
    let one = p("one.txt");
    std::fs::write(&one, format!("{A}\n")).unwrap();
    let refused = p("refused");
    let case = |name, list: &str, names: &[&'static str], fix: &[&'static str]| {
        let args = [
            "latency", "validate", &space, "--table", &table, "--archs", list, "--out", &refused,
        ];
        Fault::new(name, &args).names(names).fix(fix).out(&refused)
    };
    common::check_all(&[
        case(
            "architecture outside the space",
            &bad,
            &["bad.txt", "line 2"],
            &["conv9d"],
        ),
        case("one architecture", &one, &["one.txt"], &["at least 2"]),
    ]);
}

#[test]
fn a_validated_table_gives_every_prediction_an_interval() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let space = write_micro_space(tmp.path());
    let table = p("table.json");
    profile_quick(&space, &table);
    let predict = |extra: &[&str]| {
        let mut args = vec!["latency", "predict", &space, "--table", &table, "--arch", A];
        args.extend(extra);
        common::vidnas_ok(&args)
    };
    assert!(predict(&[]).contains("no interval: the table has no validation report"));

    // What `latency validate --write-correction` stores beside the correction (timing enough
    // networks for a stable correction fit is too slow for a test).
    let mut stored: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&table).unwrap()).unwrap();
    stored["interval"] = serde_json::json!({
        "networks": 25, "coverage": 0.9, "ratio_lo": 0.8, "ratio_hi": 1.25,
        "source": "latency validate, 25 held-out of 50 networks, 8 rounds"
    });
    std::fs::write(&table, serde_json::to_string(&stored).unwrap()).unwrap();
    let json: serde_json::Value = serde_json::from_str(&predict(&["--json"])).unwrap();
    let (lo, mid, hi) = (
        json["latency_lo_ms"].as_f64().unwrap(),
        json["latency_ms"].as_f64().unwrap(),
        json["latency_hi_ms"].as_f64().unwrap(),
    );
    assert!(
        (lo - 0.8 * mid).abs() < 1e-9 && (hi - 1.25 * mid).abs() < 1e-9,
        "{json}"
    );
    assert!(predict(&[]).contains("90% interval"));
}
