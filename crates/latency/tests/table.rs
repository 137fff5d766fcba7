mod common;

use common::{device, entry, synthetic_table, tiny};
use vidnas_latency::{LatencyError, LatencyTable, Signature};

const FIXTURE: &str = include_str!("../../../latency-tables/fixtures/one-block.json");

#[test]
fn save_then_load_round_trips_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    let mut table = synthetic_table(&tiny());
    table.save(&path).unwrap();
    assert!(!dir.path().join("t.json.tmp").exists());
    let loaded = LatencyTable::load(&path).unwrap();
    assert_eq!(loaded, table);
    assert_eq!(loaded.path.as_deref(), Some(path.as_path()));
}

#[test]
fn unknown_fields_are_rejected_with_their_path() {
    let text = FIXTURE.replace("\"warmup\": 2,", "\"warmup\": 2, \"wramup\": 3,");
    let err = LatencyTable::from_json("x.json", &text).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("x.json: "), "{msg}");
    assert!(msg.contains("wramup") && msg.contains("device"), "{msg}");
}

#[test]
fn bad_values_name_the_field() {
    let cases = [
        (
            FIXTURE.replace("vidnas-latency-table/1", "vidnas-latency-table/9"),
            "`format`",
        ),
        (
            FIXTURE.replace("\"statistic\": \"min\"", "\"statistic\": \"best\""),
            "device.statistic",
        ),
        (
            FIXTURE.replace("\"batch\": 1", "\"batch\": 0"),
            "device.batch",
        ),
        (
            FIXTURE.replace("\"ms\": 2.5", "\"ms\": -2.5"),
            "entries.\"attn3d|c=8|heads=2|groups=4|t=2|h=4|w=4\".ms",
        ),
        (
            FIXTURE.replace("attn3d|c=8|heads=2", "attn3d|c=8|heads=3"),
            "entries.\"attn3d|c=8|heads=3|groups=4|t=2|h=4|w=4\"",
        ),
        (
            FIXTURE.replace("\"conv1d|c=8", "\"conv9d|c=8"),
            "unknown op kind `conv9d`",
        ),
    ];
    for (text, needle) in cases {
        let err = LatencyTable::from_json("t.json", &text).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("t.json: "), "{msg}");
        assert!(msg.contains(needle), "{needle}: {msg}");
    }
}

#[test]
fn a_missing_file_names_the_path() {
    let err = LatencyTable::load("/nonexistent/table.json").unwrap_err();
    assert!(matches!(err, LatencyError::Io { .. }));
    assert!(err.to_string().contains("/nonexistent/table.json"));
}

#[test]
fn merge_keeps_measured_entries_and_adds_new_ones() {
    let a_sig: Signature = "down|c=8|t=2|h=8|w=8".parse().unwrap();
    let b_sig: Signature = "up|c=8|t=2|h=4|w=4".parse().unwrap();
    let mut old = LatencyTable::new(device());
    old.insert(&a_sig, entry(1.0));
    let mut new = LatencyTable::new(device());
    new.insert(&a_sig, entry(9.0));
    new.insert(&b_sig, entry(2.0));
    assert_eq!(old.merge(&new).unwrap(), 1);
    assert_eq!(
        old.ms(&a_sig.to_string()),
        Some(1.0),
        "measured entries are kept"
    );
    assert_eq!(old.ms(&b_sig.to_string()), Some(2.0));

    let mut other = LatencyTable::new(device());
    other.device.threads = 8;
    let err = old.merge(&other).unwrap_err();
    assert!(err.to_string().contains("device.threads"), "{err}");
}

#[test]
fn pending_lists_unmeasured_signatures_in_order() {
    let table = LatencyTable::from_json("f.json", FIXTURE).unwrap();
    let wanted: Vec<String> = vec![
        "down|c=8|t=2|h=8|w=8".into(),
        "conv_in|cin=3|cout=8|t=2|h=4|w=4".into(),
        "up|c=8|t=2|h=4|w=4".into(),
    ];
    assert_eq!(
        table.pending(&wanted),
        vec![wanted[0].clone(), wanted[2].clone()]
    );
}

#[test]
fn a_repeated_signature_names_the_key_and_both_lines() {
    let sig = "conv1d|c=8|k=3|groups=4|t=2|h=4|w=4";
    let twice = format!(
        "\"{sig}\": {{\n      \"ms\": 9.9,\n      \"count\": 10,\n      \"mean_ms\": 9.9,\n      \
         \"std_ms\": 0.01,\n      \"bytes\": 5824\n    }},\n    \"{sig}\": {{"
    );
    let text = FIXTURE.replacen(&format!("\"{sig}\": {{"), &twice, 1);
    let first = 1 + text.lines().position(|l| l.contains(sig)).unwrap();
    let msg = LatencyTable::from_json("t.json", &text)
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("t.json: "), "{msg}");
    assert!(msg.contains(&format!("entries.\"{sig}\"")), "{msg}");
    assert!(
        msg.contains(&format!("on lines {} and {}", first, first + 7)),
        "{msg}"
    );
    // A repeated plain field is caught the same way.
    let text = FIXTURE.replace("\"batch\": 1,", "\"batch\": 1,\n    \"batch\": 2,");
    let msg = LatencyTable::from_json("t.json", &text)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("`device.batch`") && msg.contains("twice"),
        "{msg}"
    );
}

#[test]
fn corrections_out_of_range_name_the_field_and_range() {
    let mut table = LatencyTable::from_json("f.json", FIXTURE).unwrap();
    let mut c = vidnas_latency::Correction::identity();
    c.overhead_ms = -1e6;
    table.correction = Some(c.clone());
    let text = serde_json::to_string_pretty(&table).unwrap();
    let msg = LatencyTable::from_json("t.json", &text)
        .unwrap_err()
        .to_string();
    assert!(
        msg.starts_with("t.json: field `correction.overhead_ms`: -1000000 is out of range"),
        "{msg}"
    );
    assert!(msg.contains("0 <= overhead_ms"), "{msg}");
    for (field, scale) in [("global_scale", 0.0), ("scales.attn1d", -2.0)] {
        let mut c = vidnas_latency::Correction::identity();
        if field == "global_scale" {
            c.global_scale = scale;
        } else {
            c.scales.insert("attn1d".into(), scale);
        }
        table.correction = Some(c);
        let text = serde_json::to_string_pretty(&table).unwrap();
        let msg = LatencyTable::from_json("t.json", &text)
            .unwrap_err()
            .to_string();
        assert!(msg.contains(&format!("`correction.{field}`")), "{msg}");
        assert!(msg.contains(&format!("0 < {field}")), "{msg}");
    }
    // Saving refuses what loading would refuse, and writes nothing.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    assert!(table.save(&path).is_err());
    assert!(!path.exists() && !dir.path().join("t.json.tmp").exists());
}

#[test]
fn truncated_or_non_finite_json_says_what_to_do() {
    let cut = &FIXTURE[..FIXTURE.len() / 2];
    let msg = LatencyTable::from_json("t.json", cut)
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("t.json: EOF while parsing"), "{msg}");
    assert!(msg.contains("ends early"), "{msg}");
    let text = FIXTURE.replace("\"ms\": 2.5", "\"ms\": NaN");
    let msg = LatencyTable::from_json("t.json", &text)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("attn3d|c=8|heads=2|groups=4|t=2|h=4|w=4") && msg.contains("no NaN"),
        "{msg}"
    );
    let msg = LatencyTable::from_json("t.json", &format!("\u{feff}{FIXTURE}"))
        .unwrap_err()
        .to_string();
    assert!(msg.contains("byte-order mark"), "{msg}");
}

const ATTN3D_KEY: &str = "entries.\"attn3d|c=8|heads=2|groups=4|t=2|h=4|w=4\"";

/// The load error of the fixture with `from` replaced by `to` (first occurrence).
fn load_error(from: &str, to: &str) -> String {
    let text = FIXTURE.replacen(from, to, 1);
    assert_ne!(text, FIXTURE, "`{from}` is in the fixture");
    LatencyTable::from_json("t.json", &text)
        .unwrap_err()
        .to_string()
}

#[test]
fn absurd_times_name_the_file_the_entry_the_field_and_the_fix() {
    // 1e308 is finite, but two of them sum to inf: the prediction would print `inf ms`.
    for (from, to, field) in [
        ("\"ms\": 2.5", "\"ms\": 1e308", ".ms"),
        ("\"ms\": 2.5", "\"ms\": 10000001", ".ms"),
        ("\"mean_ms\": 2.5", "\"mean_ms\": 1e300", ".mean_ms"),
        ("\"std_ms\": 0.01", "\"std_ms\": 1.7e308", ".std_ms"),
        ("\"ms\": 2.5", "\"ms\": -0.0001", ".ms"),
    ] {
        let msg = load_error(from, to);
        assert!(
            msg.starts_with(&format!("t.json: field `{ATTN3D_KEY}{field}`: ")),
            "{to}: {msg}"
        );
        assert!(
            msg.contains("vidnas latency profile") && msg.contains("fix the value"),
            "{to}: {msg}"
        );
    }
    // The bound itself is a time a table may hold.
    let text = FIXTURE.replacen(
        "\"ms\": 2.5",
        &format!("\"ms\": {}", vidnas_latency::MAX_MS),
        1,
    );
    LatencyTable::from_json("t.json", &text).unwrap();
}

#[test]
fn times_json_cannot_hold_name_the_entry_and_field() {
    // serde_json reads 1e999 as out of range (no inf); NaN and Infinity are not JSON.
    for bad in ["1e999", "-1e999", "NaN", "Infinity"] {
        let msg = load_error("\"ms\": 2.5", &format!("\"ms\": {bad}"));
        assert!(msg.starts_with("t.json: "), "{bad}: {msg}");
        assert!(
            msg.contains("attn3d|c=8|heads=2|groups=4|t=2|h=4|w=4") && msg.contains("ms"),
            "{bad}: {msg}"
        );
        assert!(msg.contains("fix:"), "{bad}: {msg}");
    }
}

#[test]
fn absurd_byte_counts_name_the_entry_and_field() {
    for bad in ["18446744073709551615", "1125899906842625"] {
        let msg = load_error("\"bytes\": 16032", &format!("\"bytes\": {bad}"));
        assert!(
            msg.starts_with(&format!("t.json: field `{ATTN3D_KEY}.bytes`: {bad} ")),
            "{bad}: {msg}"
        );
        assert!(msg.contains("vidnas latency profile"), "{msg}");
    }
    // Past u64: the typed parse names the field.
    let msg = load_error("\"bytes\": 16032", "\"bytes\": 99999999999999999999");
    assert!(
        msg.starts_with("t.json: ") && msg.contains(&format!("{ATTN3D_KEY}.bytes")),
        "{msg}"
    );
}

#[test]
fn absurd_corrections_and_intervals_name_the_field() {
    let mut table = LatencyTable::from_json("f.json", FIXTURE).unwrap();
    for (field, set) in [
        (
            "overhead_ms",
            (|c: &mut vidnas_latency::Correction| c.overhead_ms = 1e308) as fn(&mut _),
        ),
        ("global_scale", |c| c.global_scale = 1e300),
        ("scales.attn3d", |c| {
            c.scales.insert("attn3d".into(), 1e300);
        }),
    ] {
        let mut c = vidnas_latency::Correction::identity();
        set(&mut c);
        table.correction = Some(c);
        let text = serde_json::to_string_pretty(&table).unwrap();
        let msg = LatencyTable::from_json("t.json", &text)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with(&format!("t.json: field `correction.{field}`: ")),
            "{msg}"
        );
        assert!(
            msg.contains("out of range") && msg.contains("fix: "),
            "{msg}"
        );
    }
    table.correction = None;
    for (field, set) in [
        (
            "ratio_hi",
            (|i: &mut vidnas_latency::PredictionInterval| i.ratio_hi = 1e308) as fn(&mut _),
        ),
        ("ratio_lo", |i| i.ratio_lo = -1.0),
        ("ratio_lo", |i| i.ratio_lo = 2.0),
        ("coverage", |i| i.coverage = 1.5),
    ] {
        let mut i = vidnas_latency::PredictionInterval::from_holdout(
            &[(1.0, 0.9), (1.0, 1.1)],
            "test".into(),
        )
        .unwrap();
        set(&mut i);
        table.interval = Some(i);
        let text = serde_json::to_string_pretty(&table).unwrap();
        let msg = LatencyTable::from_json("t.json", &text)
            .unwrap_err()
            .to_string();
        assert!(
            msg.starts_with(&format!("t.json: field `interval.{field}`: ")),
            "{msg}"
        );
        assert!(msg.contains("latency validate"), "{msg}");
    }
}
