//! `vidnas search` carries the table's prediction interval into results.csv, and `--remeasure K`
//! times K front architectures on this machine (remeasure.csv, `measured_latency_ms` in
//! front.csv); a table from another runtime is refused before anything is written.

mod common;

use common::{profile_quick, run_vidnas, write_micro_space, Fault};

#[test]
fn intervals_reach_results_and_remeasured_latencies_reach_the_front() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_string();
    let space = write_micro_space(tmp.path());
    let table = p("table.json");
    profile_quick(&space, &table);
    // A validated table (as `latency validate --write-correction` leaves it).
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&table).unwrap()).unwrap();
    json["interval"] = serde_json::json!({
        "networks": 4, "coverage": 0.9, "ratio_lo": 0.9, "ratio_hi": 1.25, "source": "test"
    });
    std::fs::write(&table, json.to_string()).unwrap();

    let out = p("run");
    let args = [
        "search",
        &space,
        "--table",
        &table,
        "--out",
        &out,
        "--population",
        "6",
        "--generations",
        "1",
        "--remeasure",
        "3",
        "--threads",
        "1",
    ];
    let run = run_vidnas(&args);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{stderr}");
    assert!(
        stderr.contains("re-measuring 3 front architectures"),
        "{stderr}"
    );

    let results = std::fs::read_to_string(tmp.path().join("run/results.csv")).unwrap();
    let mut lines = results.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&head[10..12], &["latency_lo_ms", "latency_hi_ms"]);
    for line in lines {
        let f: Vec<f64> = line
            .split(',')
            .skip(4)
            .take(1)
            .chain(line.split(',').skip(10).take(2))
            .map(|v| v.parse().unwrap())
            .collect();
        assert!(
            (f[1] - f[0] * 0.9).abs() < 1e-9 && (f[2] - f[0] * 1.25).abs() < 1e-9,
            "{line}"
        );
    }

    let remeasured = std::fs::read_to_string(tmp.path().join("run/remeasure.csv")).unwrap();
    assert_eq!(remeasured.lines().count(), 4, "{remeasured}");
    assert!(remeasured.starts_with(
        "arch_id,arch,predicted_ms,latency_lo_ms,latency_hi_ms,measured_ms,inside_interval\n"
    ));
    let front = std::fs::read_to_string(tmp.path().join("run/front.csv")).unwrap();
    assert!(front
        .lines()
        .next()
        .unwrap()
        .ends_with(",measured_latency_ms"));
    let measured = front.lines().skip(1).filter(|l| !l.ends_with(',')).count();
    assert_eq!(measured, 3, "{front}");
    // The report marks them: predicted [measured] in the front table.
    let report = p("report");
    let run = run_vidnas(&["report", &out, "--out", &report]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let index = std::fs::read_to_string(tmp.path().join("report/index.md")).unwrap();
    assert!(index.contains("predicted [measured]"), "{index}");
    let marked = index
        .lines()
        .filter(|l| l.contains("] |") && !l.contains("[measured]"))
        .count();
    assert_eq!(marked, 3, "{index}");

    // A table measured on another runtime cannot be re-measured here.
    json["device"]["backend"] = serde_json::json!("coreml");
    let phone = p("phone.json");
    std::fs::write(&phone, json.to_string()).unwrap();
    let refused = p("refused");
    let args = [
        "search",
        &space,
        "--table",
        &phone,
        "--out",
        &refused,
        "--remeasure",
        "2",
    ];
    common::check_all(&[Fault::new("table from another runtime", &args)
        .names(&["phone.json", "coreml"])
        .fix(&["Leave --remeasure out"])
        .out(&refused)]);
}
