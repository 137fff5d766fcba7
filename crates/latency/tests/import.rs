mod common;

use std::io::Write;
use vidnas_latency::{
    import_csv, import_csv_str, Dtype, ImportMeta, LatencyError, Signature, Statistic,
};

fn meta() -> ImportMeta {
    ImportMeta {
        name: "iPhone 16 Pro Max".into(),
        host: "phone-harness".into(),
        backend: "coreml".into(),
        dtype: Dtype::F16,
        threads: 6,
        batch: 1,
        text_tokens: 16,
        statistic: Statistic::Median,
        date: "2025-02-01".into(),
        libtorch_version: None,
        runtime_version: None,
    }
}

const GOOD: &str = "signature,ms,count,mean_ms,std_ms
down|c=8|t=2|h=8|w=8,0.5,20,0.52,0.01
attn1d|c=16|heads=2|groups=4|t=2|h=4|w=4,1.25,20,1.3,0.05
";

fn import(text: &str) -> Result<vidnas_latency::LatencyTable, LatencyError> {
    import_csv_str("measurements.csv", text, &meta())
}

#[test]
fn a_good_file_loads_and_computes_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("phone.csv");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(GOOD.as_bytes())
        .unwrap();
    let table = import_csv(&path, &meta()).unwrap();
    assert_eq!(table.entries.len(), 2);
    let e = table.entries["down|c=8|t=2|h=8|w=8"];
    assert_eq!((e.ms, e.count, e.mean_ms, e.std_ms), (0.5, 20, 0.52, 0.01));
    let sig: Signature = "down|c=8|t=2|h=8|w=8".parse().unwrap();
    // f16: (params 8·8·9+8 = 584 + input 2·8·64 = 1024 + output 2·8·16 = 256) · 2 bytes
    assert_eq!(e.bytes, (584 + 1024 + 256) * 2);
    assert_eq!(e.bytes, sig.bytes(1, Dtype::F16));
    assert_eq!(table.device.source, "imported from phone.csv");
    assert_eq!(table.device.dtype, Dtype::F16);
    assert_eq!(table.device.repeats, 20);
    // The imported table saves and loads like a profiled one.
    let mut table = table;
    table.save(dir.path().join("phone.json")).unwrap();
    vidnas_latency::LatencyTable::load(dir.path().join("phone.json")).unwrap();
}

#[test]
fn a_bytes_column_is_used_when_present() {
    let text =
        "signature,ms,count,mean_ms,std_ms,bytes\ndown|c=8|t=2|h=8|w=8,0.5,20,0.52,0.01,4096\n";
    let table = import(text).unwrap();
    assert_eq!(table.entries["down|c=8|t=2|h=8|w=8"].bytes, 4096);
}

fn message(text: &str) -> String {
    import(text).unwrap_err().to_string()
}

#[test]
fn a_bad_number_names_line_and_column() {
    let text = GOOD.replace("1.25,20", "abc,20");
    assert_eq!(
        message(&text),
        "measurements.csv line 3: column `ms`: `abc` is not a number"
    );
    let text = GOOD.replace(",20,0.52", ",twenty,0.52");
    assert!(message(&text).starts_with("measurements.csv line 2: column `count`:"));
    let text = GOOD.replace("0.52,0.01", "0.52,-1");
    assert!(message(&text).starts_with("measurements.csv line 2: column `std_ms`:"));
}

#[test]
fn a_wrong_header_is_refused() {
    for header in [
        "signature,ms,count,mean,std_ms",
        "signature,ms,count,mean_ms",
        "ms,signature,count,mean_ms,std_ms",
        "signature,ms,count,mean_ms,std_ms,extra",
    ] {
        let text = GOOD.replacen("signature,ms,count,mean_ms,std_ms", header, 1);
        let msg = message(&text);
        assert!(
            msg.starts_with("measurements.csv line 1: header is"),
            "{msg}"
        );
        assert!(msg.contains("signature,ms,count,mean_ms,std_ms"), "{msg}");
    }
    assert!(message("").contains("line 1: the file is empty"));
}

#[test]
fn a_duplicate_signature_names_both_lines() {
    let text = format!("{GOOD}down|c=8|t=2|h=8|w=8,0.6,20,0.61,0.01\n");
    let msg = message(&text);
    assert!(
        msg.starts_with("measurements.csv line 4: column `signature`:"),
        "{msg}"
    );
    assert!(msg.contains("already given on line 2"), "{msg}");
}

#[test]
fn unknown_kinds_and_bad_signatures_name_the_line() {
    let text = GOOD.replace("attn1d|", "attn2d|");
    let msg = message(&text);
    assert!(
        msg.starts_with("measurements.csv line 3: column `signature`:"),
        "{msg}"
    );
    assert!(msg.contains("unknown op kind `attn2d`"), "{msg}");
    let text = GOOD.replace("down|c=8|t=2|h=8|w=8", "down|c=8|h=8|t=2|w=8");
    assert!(message(&text).contains("expected key `t`"));
}

#[test]
fn a_short_row_names_the_line() {
    let text = format!("{GOOD}up|c=8|t=2|h=4|w=4,0.6,20\n");
    let msg = message(&text);
    assert!(
        msg.starts_with("measurements.csv line 4: has 3 fields"),
        "{msg}"
    );
}

#[test]
fn a_header_without_rows_names_the_missing_columns_or_rows() {
    let msg = message("signature,ms,count\ndown|c=8|t=2|h=8|w=8,0.5,20\n");
    assert!(msg.contains("(missing `mean_ms`, `std_ms`)"), "{msg}");
    let msg = message("signature,ms,count,mean_ms,std_ms\n");
    assert!(
        msg.starts_with("measurements.csv line 2: no measurements"),
        "{msg}"
    );
}

#[test]
fn non_finite_and_negative_times_are_refused() {
    for (bad, column) in [("NaN", "ms"), ("inf", "ms"), ("-0.5", "ms")] {
        let text = GOOD.replace("0.5,20,0.52", &format!("{bad},20,0.52"));
        let msg = message(&text);
        assert!(
            msg.starts_with(&format!("measurements.csv line 2: column `{column}`:")),
            "{msg}"
        );
        assert!(msg.contains("finite non-negative"), "{msg}");
    }
}

const WITH_BYTES: &str = "signature,ms,count,mean_ms,std_ms,bytes
down|c=8|t=2|h=8|w=8,0.5,20,0.52,0.01,4096
";

#[test]
fn huge_byte_counts_are_refused_with_line_column_and_fix() {
    for bad in [
        "18446744073709551615",
        "99999999999999999999",
        "1125899906842625",
        "-1",
    ] {
        let msg = message(&WITH_BYTES.replace(",4096", &format!(",{bad}")));
        assert!(
            msg.starts_with(&format!(
                "measurements.csv line 2: column `bytes`: `{bad}` "
            )),
            "{bad}: {msg}"
        );
        assert!(msg.contains("fix"), "{bad}: {msg}");
    }
    // 1 PiB itself is accepted.
    import(&WITH_BYTES.replace(",4096", ",1125899906842624")).unwrap();
}

#[test]
fn signatures_whose_byte_count_overflows_are_refused() {
    // Without a `bytes` column the bytes are computed from the signature: c·t·h·w·… past u64.
    let huge = "attn3d|c=4294967296|heads=1|groups=1|t=65536|h=65536|w=65536";
    let text = format!("signature,ms,count,mean_ms,std_ms\n{huge},0.5,20,0.52,0.01\n");
    let msg = message(&text);
    assert!(
        msg.starts_with("measurements.csv line 2: column `signature`: "),
        "{msg}"
    );
    assert!(msg.contains("bytes") && msg.contains("fix"), "{msg}");
    // Large but representable: refused as above the per-op bound.
    let big = "down|c=1048576|t=1024|h=1024|w=1024";
    let text = format!("signature,ms,count,mean_ms,std_ms\n{big},0.5,20,0.52,0.01\n");
    let msg = message(&text);
    assert!(
        msg.starts_with("measurements.csv line 2: column `signature`: "),
        "{msg}"
    );
}

#[test]
fn absurd_times_and_counts_are_refused_with_line_and_column() {
    for (bad, column) in [
        ("1e999", "ms"),
        ("-inf", "ms"),
        ("1e308", "ms"),
        ("10000001", "ms"),
    ] {
        let text = GOOD.replace("0.5,20,0.52", &format!("{bad},20,0.52"));
        let msg = message(&text);
        assert!(
            msg.starts_with(&format!(
                "measurements.csv line 2: column `{column}`: `{bad}`"
            )),
            "{msg}"
        );
        assert!(msg.contains("fix"), "{msg}");
    }
    for bad in ["1e308", "NaN"] {
        let text = GOOD.replace("0.52,0.01", &format!("{bad},0.01"));
        let msg = message(&text);
        assert!(
            msg.starts_with("measurements.csv line 2: column `mean_ms`: "),
            "{msg}"
        );
    }
    let text = GOOD.replace(",20,0.52", ",99999999999999999999,0.52");
    let msg = message(&text);
    assert!(
        msg.starts_with("measurements.csv line 2: column `count`: `99999999999999999999`")
            && msg.contains("too large"),
        "{msg}"
    );
}
