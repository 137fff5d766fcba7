//! `vidnas latency profile|predict|signatures|import|validate`.

use crate::csv_file::write_csv;
use crate::paths::{out_dir, out_file};
use crate::values::*;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use vidnas_latency::{
    all_signatures, check_covers, import_csv, predict, Dtype, ImportMeta, LatencyTable,
    LowerOptions, PredictRequest, PredictionInterval, Statistic,
};
use vidnas_profile::executorch::Runtime;
use vidnas_profile::profile::{
    profile_space_scaled, scaling_check, ProfileOptions, ScalingCheckRow,
};
use vidnas_profile::scale::Reduction;
use vidnas_profile::timer::TimingConfig;
use vidnas_profile::validate::{validate, ValidateOptions};
use vidnas_report::LatencyPoint;
use vidnas_space::Space;

#[derive(Subcommand)]
pub enum LatencyCommand {
    /// Time every op signature the space can produce on this machine and write a table.
    Profile(ProfileArgs),
    /// Predict latency and peak memory of one architecture, with a per-slot breakdown.
    Predict(PredictArgs),
    /// List the op signatures a space can produce (what a device harness must measure).
    Signatures(SignaturesArgs),
    /// Build a table from a CSV measured elsewhere (a phone or GPU harness).
    Import(ImportArgs),
    /// Time random whole networks and report how well the table predicts them.
    Validate(ValidateArgs),
    /// Time to generate one clip: text encoder + steps x denoiser passes + decoder.
    E2e(crate::commands::e2e::E2eArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DeviceArg {
    Cpu,
    Cuda,
}

/// Where ops and networks are timed.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RuntimeArg {
    /// libtorch eager through tch, in this process.
    Libtorch,
    /// ExecuTorch 1.5.1 with the XNNPACK delegate: every op (or network) exported to a .pte
    /// and run by the ExecuTorch runtime (install once with scripts/install-executorch.sh).
    ExecutorchXnnpack,
}

impl From<RuntimeArg> for Runtime {
    fn from(r: RuntimeArg) -> Runtime {
        match r {
            RuntimeArg::Libtorch => Runtime::Libtorch,
            RuntimeArg::ExecutorchXnnpack => Runtime::ExecutorchXnnpack,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DtypeArg {
    F32,
    F16,
}

impl From<DtypeArg> for Dtype {
    fn from(d: DtypeArg) -> Dtype {
        match d {
            DtypeArg::F32 => Dtype::F32,
            DtypeArg::F16 => Dtype::F16,
        }
    }
}

#[derive(Args)]
pub struct ProfileArgs {
    pub space: PathBuf,
    /// Table to write; if it exists, its entries are kept and only missing ones are measured.
    #[arg(long, value_parser = out_file)]
    pub out: PathBuf,
    /// libtorch intra-op threads (match the deployment target).
    #[arg(long, default_value_t = 2, value_parser = threads())]
    pub threads: usize,
    /// Timed runs per signature.
    #[arg(long, default_value_t = 15, value_parser = whole(1, MAX_COUNT))]
    pub repeats: usize,
    #[arg(long, default_value_t = 3, value_parser = whole(0, MAX_COUNT))]
    pub warmup: usize,
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    #[arg(long, value_enum, default_value = "f32")]
    pub dtype: DtypeArg,
    /// Clips per forward.
    #[arg(long, default_value_t = 1, value_parser = whole(1, MAX_BATCH))]
    pub batch: usize,
    /// Text tokens the cross-attention reads (8 for the built-in text encoder, 77 for CLIP).
    #[arg(long, default_value_t = 8, value_parser = whole(1, 4096))]
    pub text_tokens: usize,
    /// A name for the device in the table's metadata.
    #[arg(long, default_value = "this machine")]
    pub device_name: String,
    /// Measure at reduced size: time every op with at most this many frames per clip (all
    /// other dimensions as in its signature) and scale each time to the signature's frames by
    /// the ratio of multiply-accumulates (×t_full/t_timed for ops linear in frames, more for
    /// attention scores). The rule is written to the table's `device.source`. For paper-scale
    /// spaces whose full-size ops take seconds each on this machine.
    #[arg(long, value_name = "FRAMES", value_parser = whole(1, 4096))]
    pub reduce_frames: Option<usize>,
    /// With --reduce-frames: also time the cheapest signature of every op kind at full size and
    /// at reduced size (interleaved) and write the comparison of scaled and measured times to
    /// this CSV.
    #[arg(long, value_name = "CSV", requires = "reduce_frames", value_parser = out_file)]
    pub scaling_check: Option<PathBuf>,
    /// The runtime that times the ops. executorch-xnnpack exports every signature as its own
    /// .pte through ExecuTorch's XNNPACK delegate and times it in the ExecuTorch runtime with
    /// the same warm-up, repeats, statistic and threads; each entry records whether the
    /// delegate ran it (`delegation`: xnnpack, partial or portable).
    #[arg(long, value_enum, default_value = "libtorch")]
    pub runtime: RuntimeArg,
    /// With --runtime executorch-xnnpack: also write every signature's .pte, a manifest.json
    /// and a runner script for a phone (Android: adb + executor_runner; its output converts to
    /// the CSV `vidnas latency import` reads) to this folder. See its README.md.
    #[arg(long, value_name = "DIR", conflicts_with = "reduce_frames", value_parser = out_dir)]
    pub bundle: Option<PathBuf>,
}

#[derive(Args)]
pub struct PredictArgs {
    pub space: PathBuf,
    #[arg(long)]
    pub table: PathBuf,
    /// Architecture in canonical encoding (`vidnas space sample` prints some).
    #[arg(long)]
    pub arch: String,
    /// Ignore the table's fitted whole-network correction (plain sum of op times).
    #[arg(long)]
    pub raw: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct SignaturesArgs {
    pub space: PathBuf,
    #[arg(long, default_value_t = 8, value_parser = whole(1, 4096))]
    pub text_tokens: usize,
    #[arg(long, default_value_t = 1, value_parser = whole(1, MAX_BATCH))]
    pub batch: usize,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct ImportArgs {
    /// CSV with header `signature,ms,count,mean_ms,std_ms[,bytes]`.
    pub csv: PathBuf,
    #[arg(long, value_parser = out_file)]
    pub out: PathBuf,
    /// Device name, e.g. "iPhone 16 Pro Max".
    #[arg(long)]
    pub device_name: String,
    #[arg(long, default_value = "unknown")]
    pub host: String,
    /// Runtime that ran the ops: cpu, cuda, coreml, …
    #[arg(long)]
    pub backend: String,
    #[arg(long, value_enum, default_value = "f32")]
    pub dtype: DtypeArg,
    #[arg(long, default_value_t = 1, value_parser = whole(1, 1024))]
    pub threads: usize,
    #[arg(long, default_value_t = 1, value_parser = whole(1, MAX_BATCH))]
    pub batch: usize,
    #[arg(long, default_value_t = 8, value_parser = whole(1, 4096))]
    pub text_tokens: usize,
    /// Which statistic the `ms` column holds.
    #[arg(long, default_value = "min", value_parser = ["min", "p10", "median", "mean"])]
    pub statistic: String,
    /// When it was measured (ISO 8601, e.g. 2025-01-31 or 2025-01-31T12:00:00Z).
    #[arg(long, value_parser = iso_date)]
    pub date: String,
    /// The deployment runtime and its version when it is not libtorch, e.g. "executorch 1.5.1"
    /// (an ExecuTorch bundle's manifest.json names it).
    #[arg(long)]
    pub runtime_version: Option<String>,
    /// Merge into an existing table at --out instead of refusing to overwrite it.
    #[arg(long)]
    pub merge: bool,
    /// Refuse the import unless the resulting table covers every signature this search space
    /// can need (a device bundle that skipped or lost some ops is named, signature by signature).
    #[arg(long, value_name = "SPACE")]
    pub space: Option<PathBuf>,
}

#[derive(Args)]
pub struct ValidateArgs {
    pub space: PathBuf,
    #[arg(long)]
    pub table: PathBuf,
    /// Random networks to time; every other one fits the correction, the rest judge it.
    #[arg(long, default_value_t = 50, value_parser = whole(2, MAX_COUNT))]
    pub samples: usize,
    /// Time the architectures of this file instead (one encoding per line, `#` comments; at
    /// least 2), e.g. hand-designed baselines and their searched counterparts.
    #[arg(long, conflicts_with = "samples")]
    pub archs: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    #[arg(long, default_value_t = 8, value_parser = whole(1, MAX_COUNT))]
    pub rounds: usize,
    #[arg(long, default_value_t = 3, value_parser = whole(1, MAX_COUNT))]
    pub repeats: usize,
    /// Redo a round when the reference network moved more than this many percent.
    #[arg(long, default_value_t = 5.064, value_parser = number(0.0, 100.0))]
    pub tolerance_pct: f64,
    #[arg(long, default_value_t = 2, value_parser = threads())]
    pub threads: usize,
    /// Folder for validation.csv, validation.json and the scatter plot.
    #[arg(long, value_parser = out_dir)]
    pub out: PathBuf,
    /// Store the correction fitted on all networks in the table.
    #[arg(long)]
    pub write_correction: bool,
    /// The runtime that times the networks (default: the table's, from `device.backend`);
    /// executorch-xnnpack exports each whole network to a .pte (the XNNPACK delegate).
    #[arg(long, value_enum)]
    pub runtime: Option<RuntimeArg>,
}

pub fn run(cmd: LatencyCommand) -> Result<()> {
    match cmd {
        LatencyCommand::E2e(a) => crate::commands::e2e::run(a),
        LatencyCommand::Profile(a) => {
            // Profiling saves as it goes; a table it cannot write should fail now, not after
            // the first measurements.
            check_out_file(&a.out, "a table path (.json)")?;
            if a.scaling_check.is_some() && a.runtime == RuntimeArg::ExecutorchXnnpack {
                bail!("--scaling-check times ops on libtorch; leave it out with --runtime executorch-xnnpack (the libtorch check of the same --reduce-frames describes the scaling rule)");
            }
            let space = Space::load(&a.space)?;
            let opts = ProfileOptions {
                device_name: a.device_name,
                cuda: matches!(a.device, DeviceArg::Cuda),
                dtype: a.dtype.into(),
                threads: a.threads,
                batch: a.batch,
                text_tokens: a.text_tokens,
                timing: TimingConfig {
                    warmup: a.warmup,
                    repeats: a.repeats,
                },
                statistic: Statistic::Min,
                runtime: a.runtime.into(),
                bundle: a.bundle,
            };
            let reduction = a
                .reduce_frames
                .map(|frames| Reduction::frames(frames as u64))
                .transpose()
                .map_err(anyhow::Error::msg)?;
            let table = profile_space_scaled(&space, &a.out, &opts, reduction, true)?;
            eprintln!(
                "{} signatures in {} (ms = minimum of {} repeats{})",
                table.entries.len(),
                a.out.display(),
                a.repeats,
                match reduction {
                    Some(r) => format!(", timed at <= {} frames and scaled by MAC ratio", r.frames),
                    None => String::new(),
                }
            );
            if let (Some(r), Some(csv)) = (reduction, &a.scaling_check) {
                let rows = scaling_check(&space, &opts, r, true)?;
                write_scaling_check(csv, &rows)?;
                for row in &rows {
                    eprintln!(
                        "scaling check {:<10} x{:5.2}: scaled {:10.2} ms, full size {:10.2} ms ({:+.1}%)",
                        row.kind, row.factor, row.scaled_ms, row.full_ms, row.error_pct
                    );
                }
                eprintln!("scaling check written to {}", csv.display());
            }
            Ok(())
        }
        LatencyCommand::Predict(a) => predict_cmd(a),
        LatencyCommand::Signatures(a) => {
            let space = Space::load(&a.space)?;
            let sigs = all_signatures(&space, &LowerOptions::new(a.text_tokens, a.batch));
            if a.json {
                println!("{}", serde_json::to_string_pretty(&sigs)?);
            } else {
                for s in &sigs {
                    println!("{s}");
                }
                eprintln!("{} signatures for space `{}`", sigs.len(), space.name());
            }
            Ok(())
        }
        LatencyCommand::Import(a) => {
            let statistic: Statistic =
                serde_json::from_value(serde_json::Value::String(a.statistic.clone()))
                    .with_context(|| {
                        format!(
                            "--statistic `{}`: use min, p10, median or mean",
                            a.statistic
                        )
                    })?;
            let meta = ImportMeta {
                name: a.device_name,
                host: a.host,
                backend: a.backend,
                dtype: a.dtype.into(),
                threads: a.threads,
                batch: a.batch,
                text_tokens: a.text_tokens,
                statistic,
                date: a.date,
                libtorch_version: None,
                runtime_version: a.runtime_version,
            };
            check_out_file(&a.out, "a table path (.json)")?;
            if a.out.exists() && !a.merge {
                bail!("{} exists; pass --merge to add the imported entries to it, or choose another --out", a.out.display());
            }
            // Every input is read and checked before the output is written.
            let space = a.space.as_ref().map(Space::load).transpose()?;
            let existing = match a.out.exists() {
                true => Some(LatencyTable::load(&a.out)?),
                false => None,
            };
            let imported = import_csv(&a.csv, &meta)?;
            let mut table = match existing {
                Some(mut t) => {
                    t.merge(&imported)?;
                    t
                }
                None => imported,
            };
            if let Some(space) = &space {
                refuse_missing(space, &table, &a.csv)?;
            }
            table.save(&a.out)?;
            eprintln!("{} entries in {}", table.entries.len(), a.out.display());
            Ok(())
        }
        LatencyCommand::Validate(a) => validate_cmd(a),
    }
}

fn predict_cmd(a: PredictArgs) -> Result<()> {
    let space = Space::load(&a.space)?;
    let table = LatencyTable::load(&a.table)?;
    let arch = space.parse_arch(&a.arch)?;
    let req = PredictRequest {
        apply_correction: !a.raw,
        ..PredictRequest::for_table(&table)
    };
    let p = predict(&space, &arch, &table, &req)?;
    let mb = |b: u64| b as f64 / 1e6;
    if a.json {
        let slots: Vec<_> = space
            .slots
            .iter()
            .zip(&arch.ops)
            .zip(&p.per_slot_ms)
            .map(|((s, op), ms)| serde_json::json!({"slot": s.name, "op": op, "ms": ms}))
            .collect();
        let out = serde_json::json!({
            "arch_id": arch.id(), "arch": arch.encode(), "latency_ms": p.total_ms, "sum_ms": p.sum_ms,
            "latency_lo_ms": p.interval_ms.map(|i| i.0), "latency_hi_ms": p.interval_ms.map(|i| i.1),
            "corrected": p.corrected, "backbone_ms": p.backbone_ms, "temporal_ms": p.temporal_ms,
            "peak_mem_mb": mb(p.peak_mem_bytes), "weight_mb": mb(p.weight_bytes),
            "peak_activation_mb": mb(p.peak_activation_bytes), "params": p.params, "slots": slots,
            "table": a.table, "device": table.device.name,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!("architecture {} ({})", arch.id(), arch.encode());
    println!(
        "table {} ({}, {}, {} threads)",
        a.table.display(),
        table.device.name,
        table.device.backend,
        table.device.threads
    );
    println!(
        "latency {:.3} ms{} = backbone {:.3} ms + temporal {:.3} ms",
        p.total_ms,
        if p.corrected {
            format!(" (corrected; raw sum {:.3} ms)", p.sum_ms)
        } else {
            String::new()
        },
        p.backbone_ms,
        p.temporal_ms
    );
    match (p.interval_ms, &table.interval) {
        (Some((lo, hi)), Some(i)) => println!(
            "{:.0}% interval {lo:.3} to {hi:.3} ms (from {})",
            100.0 * i.coverage,
            i.source
        ),
        (None, Some(_)) => {
            println!("no interval: the table's interval describes the corrected prediction, not --raw")
        }
        _ => println!(
            "no interval: the table has no validation report; `vidnas latency validate SPACE --table {} --out DIR --write-correction` stores one",
            a.table.display()
        ),
    }
    println!(
        "peak memory {:.2} MB = weights {:.2} MB + activations {:.2} MB; {} parameters",
        mb(p.peak_mem_bytes),
        mb(p.weight_bytes),
        mb(p.peak_activation_bytes),
        p.params
    );
    println!("\n{:<16} {:<7} {:>9}", "slot", "op", "ms");
    for ((s, op), ms) in space.slots.iter().zip(&arch.ops).zip(&p.per_slot_ms) {
        println!("{:<16} {:<7} {:>9.3}", s.name, op.as_str(), ms);
    }
    Ok(())
}

/// Refuses an output file path that is a folder or whose folder does not exist, before any
/// work is done.
fn check_out_file(out: &Path, what: &str) -> Result<()> {
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if out.is_dir() {
        bail!("--out {}: is a folder; give {what}", out.display());
    }
    if !parent.is_dir() {
        bail!(
            "--out {}: the folder {} does not exist; create it or give another path",
            out.display(),
            parent.display()
        );
    }
    Ok(())
}

/// `YYYY-MM-DD`, optionally followed by a time (`T12:00:00Z`).
fn iso_date(text: &str) -> Result<String, String> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| r.into_iter().all(|i| b[i].is_ascii_digit());
    let ok = b.len() >= 10
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (b.len() == 10 || matches!(b[10], b'T' | b' '));
    match ok {
        true => Ok(text.to_string()),
        false => Err("expected an ISO 8601 date, e.g. 2025-01-31 or 2025-01-31T12:00:00Z".into()),
    }
}

/// An imported table must cover `space`: name what the device run left out.
fn refuse_missing(space: &Space, table: &LatencyTable, csv: &Path) -> Result<()> {
    match check_covers(space, table) {
        Err(vidnas_latency::LatencyError::MissingSignatures { missing, .. }) => {
            let shown: Vec<String> = missing.iter().take(6).map(|s| format!("`{s}`")).collect();
            let more = match missing.len() > shown.len() {
                true => format!(" and {} more", missing.len() - shown.len()),
                false => String::new(),
            };
            bail!(
                "{}: lacks {} signature(s) that space `{}` needs: {}{more}; run the device harness again for them (its manifest lists every signature), import the extra CSV with --merge, or leave --space out to import a partial table",
                csv.display(),
                missing.len(),
                space.name(),
                shown.join(", ")
            )
        }
        other => Ok(other?),
    }
}

fn validate_cmd(a: ValidateArgs) -> Result<()> {
    if a.out.exists() && !a.out.is_dir() {
        bail!(
            "--out {}: is a file; give a folder for validation.csv, validation.json and the plot",
            a.out.display()
        );
    }
    let space = Space::load(&a.space)?;
    let mut table = LatencyTable::load(&a.table)?;
    let runtime = Runtime::of_table(&table);
    if let Some(asked) = a.runtime.map(Runtime::from) {
        if asked != runtime {
            bail!(
                "--runtime {}: {} was measured on {} (device.backend `{}`); validate a table on the \
                 runtime that measured it, or profile one with --runtime {}",
                asked.name(),
                a.table.display(),
                runtime.name(),
                table.device.backend,
                asked.name()
            );
        }
    }
    let archs = match &a.archs {
        Some(path) => {
            let archs = crate::commands::score::read_archs(&space, path)?;
            if archs.len() < 2 {
                bail!(
                    "{}: holds 1 architecture; validation needs at least 2 (one fits the correction, one judges it)",
                    path.display()
                );
            }
            Some(archs)
        }
        None => None,
    };
    let opts = ValidateOptions {
        samples: a.samples,
        archs,
        seed: a.seed,
        rounds: a.rounds,
        repeats: a.repeats,
        tolerance: a.tolerance_pct / 100.0,
        max_redo: 2,
        threads: a.threads,
        runtime,
    };
    let report = validate(&space, &table, &opts, true)?;
    let points: Vec<LatencyPoint> = report
        .rows
        .iter()
        .map(|r| LatencyPoint {
            measured_ms: r.measured_ms,
            predicted_ms: r.predicted_ms,
            corrected_ms: r.corrected_ms,
            holdout: r.split == "holdout",
        })
        .collect();
    let subtitle = format!(
        "{} networks of space `{}` · table: {} · noise floor {:.1}%",
        report.rows.len(),
        space.name(),
        table.device.name,
        report.noise_floor_pct
    );
    write_validation(&a.out, &report, &points, &subtitle)?;
    let line = |name: &str, s: &vidnas_latency::AccuracyStats| {
        println!(
            "{name:<26} n={:<3} RMSE {:6.3} ms  RMSPE {:5.1}%  within ±5/±10/±15%: {:5.1}/{:5.1}/{:5.1}%  Kendall τ {:.3}  bias {:+.1}%",
            s.n, s.rmse_ms, s.rmspe_pct, s.within_5_pct, s.within_10_pct, s.within_15_pct, s.kendall_tau_b, s.mean_bias_pct
        )
    };
    println!("{} networks, {} rounds; reference network {:.3} ms; rounds redone {}, noisy rounds kept {}", report.rows.len(), a.rounds, report.reference_ms, report.rounds_redone, report.noisy_rounds_kept);
    println!(
        "repeat-noise floor (median between-round spread): {:.2}%",
        report.noise_floor_pct
    );
    line("raw sum, all", &report.raw_all);
    line("raw sum, held-out half", &report.raw_holdout);
    line("corrected, held-out half", &report.corrected_holdout);
    if let Some(s) = &report.remeasured_holdout {
        line("re-measured, held-out half", s);
        println!(
            "  (even rounds against odd rounds: the ceiling noise puts on any predictor's figures)"
        );
    }
    if a.write_correction {
        if let Err((field, message)) = report.correction_all.check() {
            bail!(
                "the correction fitted on all {} networks was not stored in {}: field \
                 `correction.{field}`: {message}; the op times do not explain the measurements \
                 (too few or too noisy networks?): validate with more --samples or --rounds",
                report.rows.len(),
                a.table.display()
            );
        }
        table.correction = Some(report.correction_all.clone());
        // The interval comes from networks the stored kind of correction did not see.
        let holdout: Vec<(f64, f64)> = report
            .rows
            .iter()
            .filter(|r| r.split == "holdout")
            .map(|r| (r.corrected_ms, r.measured_ms))
            .collect();
        table.interval = PredictionInterval::from_holdout(
            &holdout,
            format!(
                "latency validate, {} held-out of {} networks, {} rounds",
                holdout.len(),
                report.rows.len(),
                a.rounds
            ),
        );
        table.save(&a.table)?;
        println!(
            "correction fitted on all {} networks stored in {}",
            report.rows.len(),
            a.table.display()
        );
        if let Some(i) = &table.interval {
            println!(
                "prediction interval stored: {:.0}% of held-out networks measured within x{:.3} to x{:.3} of the prediction",
                100.0 * i.coverage,
                i.ratio_lo,
                i.ratio_hi
            );
        }
    }
    Ok(())
}

/// Writes validation.csv, validation.json and the scatter plot into `out`; on failure removes
/// what it wrote and the folder if it created it.
fn write_validation(
    out: &Path,
    report: &vidnas_profile::validate::ValidationReport,
    points: &[LatencyPoint],
    subtitle: &str,
) -> Result<()> {
    let created = !out.exists();
    crate::paths::create_out_dir(out)?;
    let files = ["validation.csv", "validation.json"].map(|f| out.join(f));
    let written = (|| -> Result<()> {
        write_rows_csv(&files[0], &report.rows)?;
        vidnas_io::write_json(&files[1], report)?;
        vidnas_report::write_latency_scatter(out, points, subtitle)?;
        Ok(())
    })();
    if written.is_err() {
        let plots = ["latency_scatter.png", "latency_scatter.svg"].map(|f| out.join(f));
        for f in files.iter().chain(&plots) {
            let _ = std::fs::remove_file(f);
        }
        if created {
            let _ = std::fs::remove_dir(out);
        }
    }
    written
}

fn write_scaling_check(path: &Path, rows: &[ScalingCheckRow]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::paths::create_out_dir(dir)?;
    }
    let header = "kind,signature,timed_signature,factor,reduced_ms,scaled_ms,full_ms,error_pct";
    let rows = rows.iter().map(|r| {
        [
            r.kind.to_string(),
            r.signature.to_string(),
            r.timed_signature.to_string(),
            format!("{:.4}", r.factor),
            format!("{:.4}", r.reduced_ms),
            format!("{:.4}", r.scaled_ms),
            format!("{:.4}", r.full_ms),
            format!("{:.2}", r.error_pct),
        ]
    });
    write_csv(path, header, rows)
}

fn write_rows_csv(path: &Path, rows: &[vidnas_profile::validate::NetworkRow]) -> Result<()> {
    let header = "arch_id,arch,split,predicted_ms,corrected_ms,measured_ms,repeat_spread_pct";
    let rows = rows.iter().map(|r| {
        [
            r.arch_id.to_string(),
            r.arch.to_string(),
            r.split.to_string(),
            format!("{:.4}", r.predicted_ms),
            format!("{:.4}", r.corrected_ms),
            format!("{:.4}", r.measured_ms),
            format!("{:.3}", r.repeat_spread_pct),
        ]
    });
    write_csv(path, header, rows)
}
