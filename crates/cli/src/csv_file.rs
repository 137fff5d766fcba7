//! CSV files the commands write from library rows (validation, scaling check, per-step times):
//! the `csv` crate (fields quoted only where needed, `\n` line ends), written atomically.

use anyhow::Result;
use std::path::Path;

/// Writes `header` (column names separated by commas) and `rows` to `path` through a temporary
/// file and a rename.
pub fn write_csv<R, F>(path: &Path, header: &str, rows: impl IntoIterator<Item = R>) -> Result<()>
where
    R: IntoIterator<Item = F>,
    F: AsRef<[u8]>,
{
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(header.split(','))?;
    for row in rows {
        w.write_record(row)?;
    }
    vidnas_io::write_atomic(path, &w.into_inner()?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed CSVs the commands wrote with `format!` before come out of `write_csv`
    /// byte for byte (no field needs quoting, `\n` line ends).
    #[test]
    fn committed_csvs_are_rewritten_byte_for_byte() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let tmp = tempfile::tempdir().unwrap();
        for file in [
            "reports/latency/validation.csv",
            "reports/bk-sdm-tiny/scaling-check.csv",
            "reports/train-step/subnet-steps-run1.csv",
            "reports/train-step/supernet-steps-run3.csv",
            "reports/ranking/ranking.csv",
        ] {
            let committed = std::fs::read(root.join(file)).unwrap();
            let mut reader = csv::Reader::from_reader(committed.as_slice());
            let header: Vec<&str> = reader.headers().unwrap().iter().collect();
            let header = header.join(",");
            let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            let out = tmp.path().join("out.csv");
            write_csv(&out, &header, &rows).unwrap();
            assert!(std::fs::read(&out).unwrap() == committed, "{file}");
        }
    }
}
