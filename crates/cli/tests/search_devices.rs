//! `vidnas search --table A --table B`: a joint search over two devices from the command line,
//! per-device budgets by name, one Pareto scatter per device in the report, and the mistakes a
//! user makes with several tables refused before anything is written.

mod common;

use common::{check_all, run_vidnas, Fault};

const TABLE: &str = include_str!("../../../latency-tables/tiny-cpu-2threads.json");
const SPACE: &str = "search-spaces/tiny.json";

/// The committed table with its ops reweighted: attention `attn` times, convolution `conv`.
fn reweighted(attn: f64, conv: f64, dtype: &str) -> String {
    let mut t: serde_json::Value = serde_json::from_str(TABLE).unwrap();
    for (sig, e) in t["entries"].as_object_mut().unwrap() {
        let k = match sig.split('|').next().unwrap() {
            s if s.starts_with("attn") => attn,
            s if s.starts_with("conv") => conv,
            _ => 1.0,
        };
        e["ms"] = serde_json::json!(e["ms"].as_f64().unwrap() * k);
    }
    t["device"]["dtype"] = serde_json::json!(dtype);
    t.to_string()
}

#[test]
fn two_devices_from_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let p = |name: &str| d.join(name).to_str().unwrap().to_string();
    std::fs::write(p("phone.json"), TABLE).unwrap();
    std::fs::write(p("laptop.json"), reweighted(0.2, 3.0, "f32")).unwrap();
    std::fs::write(p("npu.json"), reweighted(1.0, 1.0, "f16")).unwrap();
    std::fs::create_dir(d.join("other")).unwrap();
    std::fs::write(p("other/phone.json"), TABLE).unwrap();
    let (phone, laptop) = (p("phone.json"), p("laptop.json"));

    let out = p("run");
    let args = [
        "search",
        SPACE,
        "--table",
        &phone,
        "--table",
        &laptop,
        "--out",
        &out,
        "--algo",
        "random",
        "--samples",
        "40",
        "--population",
        "20",
        "--latency-budget-ms",
        "phone=120,laptop=400",
    ];
    let run = run_vidnas(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let results = std::fs::read_to_string(d.join("run/results.csv")).unwrap();
    assert!(results
        .lines()
        .next()
        .unwrap()
        .contains(",latency_hi_ms,latency_ms@laptop,"));
    let settings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("run/run.json")).unwrap()).unwrap();
    assert_eq!(settings["devices"], serde_json::json!(["phone", "laptop"]));
    assert_eq!(
        settings["budgets"]["other_latency_ms"],
        serde_json::json!([400.0, null])
    );
    let report = p("report");
    let run = run_vidnas(&["report", &out, "--out", &report]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for f in ["pareto.png", "pareto-laptop.png", "pareto-laptop.svg"] {
        assert!(d.join("report").join(f).is_file(), "{f} missing");
    }
    let index = std::fs::read_to_string(d.join("report/index.md")).unwrap();
    assert!(index.contains("Pareto front on phone") && index.contains("Pareto front on laptop"));

    let refused = p("refused");
    let case = |name, extra: &[&str], names: &[&'static str], fix: &[&'static str]| {
        let mut a = vec!["search", SPACE, "--out", &refused];
        a.extend_from_slice(extra);
        Fault::new(name, &a).names(names).fix(fix).out(&refused)
    };
    let npu = p("npu.json");
    let twin = p("other/phone.json");
    check_all(&[
        case(
            "one unnamed budget for two devices",
            &[
                "--table",
                &phone,
                "--table",
                &laptop,
                "--latency-budget-ms",
                "50",
            ],
            &["--latency-budget-ms"],
            &["phone=50,laptop=50"],
        ),
        case(
            "a budget for a device that is not there",
            &[
                "--table",
                &phone,
                "--table",
                &laptop,
                "--latency-budget-ms",
                "tablet=50",
            ],
            &["tablet"],
            &["phone, laptop"],
        ),
        case(
            "four tables",
            &[
                "--table", &phone, "--table", &laptop, "--table", &npu, "--table", &twin,
            ],
            &["4 times"],
            &["at most 3"],
        ),
        case(
            "two tables with one name",
            &["--table", &phone, "--table", &twin],
            &["other/phone.json", "`phone`"],
            &["own file stem"],
        ),
        case(
            "tables of two dtypes",
            &["--table", &phone, "--table", &npu],
            &["npu.json", "F16"],
            &["one dtype"],
        ),
    ]);
}
