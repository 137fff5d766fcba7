//! How a run's recorded settings are compared with a resume's or merge's: the first differing
//! field of two `run.json` values, and the command-line flag that sets it.

/// The command-line flag that sets a recorded setting (a dotted path of run.json), so a
/// resume mismatch says what to type rather than the file's field.
pub(crate) fn setting_flag(field: &str) -> &'static str {
    let leaf = field.rsplit('.').next().unwrap_or(field);
    let top = field.split('.').next().unwrap_or(field);
    match (top, leaf) {
        ("algo", "name") => "--algo (and --surrogate)",
        ("algo", "population") => "--population",
        ("algo", "generations") => "--generations",
        ("algo", "samples") => "--samples",
        ("algo", "warmup") => "--surrogate-warmup",
        ("algo", "inner_population") => "--surrogate-population",
        ("algo", "inner_generations") => "--surrogate-generations",
        ("algo", _) => "--algo settings",
        ("seed", _) => "--seed",
        ("budgets", "latency_ms" | "other_latency_ms") => "--latency-budget-ms",
        ("budgets", _) => "--memory-budget-mb",
        ("shard", _) => "--shard",
        ("space", _) => "SPACE (search-space file)",
        ("table" | "other_tables" | "devices" | "memory_dtypes", _) => "--table",
        ("supernet" | "mode" | "objectives", _) => "--supernet",
        ("hv_reference", _) => "--hv-ref",
        _ => "settings",
    }
}

/// The first differing leaf of two JSON values, as (dotted path, a, b). An enum's tag (`name`)
/// is compared before its fields: another algorithm is reported as such, not as a field that
/// only one of them has.
pub(crate) fn first_difference(
    at: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
) -> Option<(String, String, String)> {
    use serde_json::Value;
    if let (Value::Object(x), Value::Object(y)) = (a, b) {
        let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
        keys.sort_by_key(|k| (k.as_str() != "name", k.as_str()));
        keys.dedup();
        for k in keys {
            let path = if at.is_empty() {
                k.clone()
            } else {
                format!("{at}.{k}")
            };
            let (xv, yv) = (
                x.get(k).unwrap_or(&Value::Null),
                y.get(k).unwrap_or(&Value::Null),
            );
            if let Some(d) = first_difference(&path, xv, yv) {
                return Some(d);
            }
        }
        return None;
    }
    (a != b).then(|| (at.to_string(), a.to_string(), b.to_string()))
}
