//! `vidnas latency profile`: times every signature a space can produce and writes a table.
//! Resumable: entries already in the output table are kept, and the table is saved as it grows.

use crate::ops;
use crate::timer::{time, TimingConfig};
use indicatif::{ProgressBar, ProgressStyle};
use std::path::Path;
use tch::{Device, Kind};
use vidnas_latency::{
    all_signatures, DeviceInfo, Dtype, Entry, LatencyError, LatencyTable, LowerOptions, Signature,
    Statistic,
};
use vidnas_space::Space;

/// libtorch version `tch` 0.26 links against (torch-sys checks it at build time).
pub const LIBTORCH_VERSION: &str = "2.13.0";

#[derive(Debug, Clone)]
pub struct ProfileOptions {
    pub device_name: String,
    pub cuda: bool,
    pub dtype: Dtype,
    pub threads: usize,
    pub batch: usize,
    pub text_tokens: usize,
    pub timing: TimingConfig,
    pub statistic: Statistic,
}

#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error(transparent)]
    Latency(#[from] LatencyError),
    #[error("{0}")]
    Unsupported(String),
}

/// Checks the request against what this machine can run, then sets libtorch's thread count.
pub fn prepare(opts: &ProfileOptions) -> Result<(Device, Kind), ProfileError> {
    let device = if opts.cuda {
        if !tch::Cuda::is_available() {
            return Err(ProfileError::Unsupported(
                "--device cuda: libtorch sees no CUDA device on this machine; profile on the CPU or run on a GPU host".into(),
            ));
        }
        Device::Cuda(0)
    } else {
        Device::Cpu
    };
    let kind = match opts.dtype {
        Dtype::F32 => Kind::Float,
        Dtype::F16 if opts.cuda => Kind::Half,
        Dtype::Bf16 if opts.cuda => Kind::BFloat16,
        other => {
            return Err(ProfileError::Unsupported(format!(
                "--dtype {}: half-precision timing is only meaningful on --device cuda; use --dtype f32 on the CPU",
                other.as_str()
            )))
        }
    };
    tch::set_num_threads(opts.threads as i32);
    Ok((device, kind))
}

pub fn device_info(opts: &ProfileOptions) -> DeviceInfo {
    DeviceInfo {
        name: opts.device_name.clone(),
        host: hostname(),
        backend: if opts.cuda { "cuda" } else { "cpu" }.into(),
        dtype: opts.dtype,
        threads: opts.threads,
        batch: opts.batch,
        text_tokens: opts.text_tokens,
        libtorch_version: Some(LIBTORCH_VERSION.into()),
        date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        statistic: opts.statistic,
        repeats: opts.timing.repeats,
        warmup: opts.timing.warmup,
        source: "vidnas latency profile".into(),
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// Measures every signature of `space` missing from the table at `out` and saves it there.
pub fn profile_space(
    space: &Space,
    out: &Path,
    opts: &ProfileOptions,
    progress: bool,
) -> Result<LatencyTable, ProfileError> {
    let (device, kind) = prepare(opts)?;
    let fresh = LatencyTable::new(device_info(opts));
    let mut table = if out.exists() {
        let mut existing = LatencyTable::load(out)?;
        // Refuses a table measured under other conditions rather than mixing them.
        existing.merge(&fresh)?;
        existing
    } else {
        fresh
    };
    let wanted = all_signatures(space, &LowerOptions::new(opts.text_tokens, opts.batch));
    let pending = table.pending(&wanted);
    let bar = if progress {
        ProgressBar::new(pending.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("profile [{bar:30}] {pos}/{len} ops, eta {eta} {msg}")
            .expect("valid")
            .progress_chars("=> "),
    );
    if wanted.len() > pending.len() {
        bar.println(format!(
            "{} of {} signatures already measured in {}; measuring the rest",
            wanted.len() - pending.len(),
            wanted.len(),
            out.display()
        ));
    }
    for (i, text) in pending.iter().enumerate() {
        let sig: Signature = text.parse()?;
        bar.set_message(text.clone());
        let op = ops::build(&sig, opts.batch as i64, kind, device);
        let timing = time(&opts.timing, || {
            let _ = op.forward();
            if let Device::Cuda(_) = device {
                tch::Cuda::synchronize(0);
            }
        });
        let ms = match opts.statistic {
            Statistic::Min => timing.min_ms,
            Statistic::P10 => timing.p10_ms,
            Statistic::Median => timing.median_ms,
            Statistic::Mean => timing.mean_ms,
        };
        let entry = Entry {
            ms,
            count: timing.count as u64,
            mean_ms: timing.mean_ms,
            std_ms: timing.std_ms,
            bytes: sig.bytes(opts.batch as u64, opts.dtype),
        };
        table.insert(&sig, entry);
        // Save as we go so an interrupted profile resumes where it stopped.
        if i % 4 == 3 {
            table.save(out)?;
        }
        bar.inc(1);
    }
    table.save(out)?;
    bar.finish_and_clear();
    Ok(table)
}
