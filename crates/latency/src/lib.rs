//! Latency and peak-memory prediction for vidnas (pure Rust, no libtorch).
//!
//! An architecture on a space is *lowered* to the ordered ops the video UNet runs
//! ([`lower`]); each op has a *signature* ([`Signature`], grammar in `SIGNATURES.md`) that keys
//! a measured [`LatencyTable`]. Predicted latency is the sum of the table's `ms` over the ops,
//! optionally through a [`Correction`] fitted on whole-network measurements; peak memory is
//! weights plus the largest live activation set (`memory.rs`). [`SlotCostModel`] precomputes
//! per-slot costs so a search can predict millions of architectures. [`import_csv`] reads
//! tables measured elsewhere, [`accuracy`] scores a predictor against measurements, and
//! [`RankAgreement`] a quality proxy's ranking against reference runs (Kendall τ).
//!
//! Following `vidnas search` to a table lookup: `slot_cost.rs` (or `predict.rs`) →
//! `lower.rs` → `table.rs`.
//!
//! Temporal ops are known through their descriptor ([`vidnas_space::OpKind::spec`]): code here
//! derives signatures and cost formulas from an op's [`vidnas_space::Structure`] and never
//! decides what an op is with a catch-all match arm.
#![deny(clippy::wildcard_enum_match_arm)]

mod accuracy;
mod band;
mod correction;
mod cost;
mod dupkeys;
mod error;
mod generation;
mod import;
mod interval;
mod lower;
mod memory;
mod op_class;
mod predict;
mod rank_stats;
mod ranking;
mod signature;
mod slot_cost;
mod table;

pub use accuracy::{
    accuracy, kendall_tau_b, mean_bias, mean_bias_pct, rmse, rmspe, within_pct, AccuracyStats,
};
pub use band::LatencyBand;
pub use correction::{kind_sums, Correction, FitMethod, MAX_SCALE};
pub use cost::{Dtype, OpActivations};
pub use error::LatencyError;
pub use generation::{default_decoder, generation_time, ExtraTerm, GenerationTime};
pub use import::{import_csv, import_csv_str, ImportMeta, CSV_COLUMNS};
pub use interval::{PredictionInterval, INTERVAL_COVERAGE};
pub use lower::{
    all_signatures, backbone_params, lower, temporal_params, temporal_signature, LowerOptions,
    LoweredOp,
};
pub use memory::{estimate as estimate_memory, live_elems, MemoryEstimate};
pub use predict::{check_covers, predict, PredictRequest, Prediction};
pub use rank_stats::{bootstrap_95, quantile, spearman_rho};
pub use ranking::{Agreement, RankAgreement, RankedArch, SetAgreement};
pub use signature::{OpClass, Signature};
pub use slot_cost::{FastPrediction, SlotCostModel, SlotOpCost};
pub use table::{
    Delegation, DeviceInfo, Entry, LatencyTable, Statistic, MAX_ENTRY_BYTES, MAX_MS, TABLE_FORMAT,
};
