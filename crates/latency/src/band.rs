//! A latency band: the architectures whose predicted latency on a table lies within
//! `centre ± pct%` (where a search has to decide between architectures; `vidnas space sample
//! --latency-ms` draws from one, `vidnas bench ranking --band-ms` judges a ranking inside one).

use crate::error::LatencyError;
use crate::predict::{check_covers, predict, PredictRequest};
use crate::table::LatencyTable;
use std::path::Path;
use vidnas_space::{Architecture, Space};

pub struct LatencyBand {
    table: LatencyTable,
    request: PredictRequest,
    pub centre_ms: f64,
    pub pct: f64,
    /// `74 ms ± 5% on latency-tables/x.json`, for messages.
    pub label: String,
}

impl LatencyBand {
    /// Loads the table and checks it covers `space`; `flags` names the centre and width flags
    /// in errors (e.g. `("--latency-ms", "--within-pct")`).
    pub fn new(
        space: &Space,
        table_path: &Path,
        centre_ms: f64,
        pct: f64,
        flags: (&str, &str),
    ) -> Result<Self, LatencyError> {
        if !(centre_ms.is_finite() && centre_ms > 0.0) {
            return Err(LatencyError::Data {
                what: format!("{} {centre_ms}", flags.0),
                message: "give a positive latency in milliseconds".into(),
            });
        }
        if !(pct.is_finite() && pct > 0.0 && pct < 100.0) {
            return Err(LatencyError::Data {
                what: format!("{} {pct}", flags.1),
                message: "give a percentage between 0 and 100 (5 means ±5%)".into(),
            });
        }
        let table = LatencyTable::load(table_path)?;
        check_covers(space, &table)?;
        Ok(Self {
            request: PredictRequest::for_table(&table),
            table,
            centre_ms,
            pct,
            label: format!("{centre_ms} ms ± {pct}% on {}", table_path.display()),
        })
    }

    /// `arch`'s predicted latency on the band's table.
    pub fn latency_ms(&self, space: &Space, arch: &Architecture) -> Result<f64, LatencyError> {
        Ok(predict(space, arch, &self.table, &self.request)?.total_ms)
    }

    pub fn contains(&self, space: &Space, arch: &Architecture) -> Result<bool, LatencyError> {
        let ms = self.latency_ms(space, arch)?;
        Ok((ms - self.centre_ms).abs() <= self.centre_ms * self.pct / 100.0)
    }
}
