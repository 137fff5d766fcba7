//! `vidnas search --table A --table B`: a joint search over two devices from the command line,
//! per-device budgets by name, one Pareto scatter per device in the report, and the mistakes a
//! user makes with several tables refused before anything is written.

mod common;

use common::{check_all, vidnas_ok, Fault};

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
    vidnas_ok(&args);
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
    vidnas_ok(&["report", &out, "--out", &p("report")]);
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
            "one unnamed memory budget for two dtypes",
            &[
                "--table",
                &phone,
                "--table",
                &npu,
                "--memory-budget-mb",
                "300",
            ],
            &["--memory-budget-mb", "2 dtypes"],
            &["f32=300,f16=300"],
        ),
        case(
            "a memory budget for a dtype no table has",
            &[
                "--table",
                &phone,
                "--table",
                &npu,
                "--memory-budget-mb",
                "bf16=300",
            ],
            &["`bf16`"],
            &["f32, f16"],
        ),
    ]);
}

#[test]
fn tables_of_two_dtypes_give_one_memory_objective_each() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let p = |name: &str| d.join(name).to_str().unwrap().to_string();
    std::fs::write(p("phone.json"), TABLE).unwrap();
    std::fs::write(p("npu.json"), reweighted(1.0, 1.0, "f16")).unwrap();
    let out = p("run");
    let search = |out: &str, budget: &str| {
        vidnas_ok(&[
            "search",
            SPACE,
            "--table",
            &p("phone.json"),
            "--table",
            &p("npu.json"),
            "--out",
            out,
            "--algo",
            "random",
            "--samples",
            "40",
            "--population",
            "20",
            "--memory-budget-mb",
            budget,
        ])
    };
    search(&out, "f16=1000");
    let settings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("run/run.json")).unwrap()).unwrap();
    assert_eq!(settings["memory_dtypes"], serde_json::json!(["f32", "f16"]));
    assert_eq!(
        settings["objectives"],
        serde_json::json!([
            "latency_ms@phone",
            "latency_ms@npu",
            "peak_mem_mb@f32",
            "peak_mem_mb@f16",
            "neg_temporal_params"
        ])
    );
    // The same network in f16 holds half the bytes of f32 (same batch, same model).
    let results = std::fs::read_to_string(d.join("run/results.csv")).unwrap();
    let mut lines = results.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| head.iter().position(|c| *c == name).unwrap();
    let (f32_mb, f16_mb) = (column("peak_mem_mb"), column("peak_mem_mb@f16"));
    let mut rows = 0;
    for line in lines {
        let cells: Vec<f64> = line
            .split(',')
            .map(|c| c.parse::<f64>().unwrap_or(f64::NAN))
            .collect();
        assert_eq!(cells[f32_mb], 2.0 * cells[f16_mb], "{line}");
        rows += 1;
    }
    assert_eq!(rows, 40);
    vidnas_ok(&["report", &out, "--out", &p("report")]);
    let index = std::fs::read_to_string(d.join("report/index.md")).unwrap();
    assert!(index.contains(" (f32) / ") && index.contains(" (f16) |"));

    // A memory budget on f16 binds there: 40 samples, some above a budget at their median.
    let mut f16: Vec<f64> = results
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(f16_mb).unwrap().parse().unwrap())
        .collect();
    f16.sort_by(f64::total_cmp);
    let median = f16[f16.len() / 2];
    let tight = p("tight");
    search(&tight, &format!("f16={median}"));
    let front = std::fs::read_to_string(d.join("tight/front.csv")).unwrap();
    let fhead: Vec<&str> = front.lines().next().unwrap().split(',').collect();
    let col = fhead.iter().position(|c| *c == "peak_mem_mb@f16").unwrap();
    for line in front.lines().skip(1) {
        let mb: f64 = line.split(',').nth(col).unwrap().parse().unwrap();
        assert!(mb <= median, "{line}");
    }
}
