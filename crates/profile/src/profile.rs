//! `vidnas latency profile`: times every signature a space can produce and writes a table.
//! Resumable: entries already in the output table are kept, and the table is saved as it grows.

use crate::error::ProfileError;
use crate::executorch::{self, OpRequest, Runtime, EXECUTORCH_VERSION};
use crate::ops;
use crate::scale::{macs, scaled_entry, Reduction};
use crate::timer::{time, Timing, TimingConfig};
use std::path::Path;
use tch::{Device, Kind};
use vidnas_latency::{
    all_signatures, DeviceInfo, Dtype, Entry, LatencyTable, LowerOptions, Signature, Statistic,
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
    /// Where the ops run: libtorch here, or exported to ExecuTorch (XNNPACK).
    pub runtime: Runtime,
    /// ExecuTorch only: keep every signature's `.pte`, a manifest and the phone runner here.
    pub bundle: Option<std::path::PathBuf>,
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
    let executorch = opts.runtime == Runtime::ExecutorchXnnpack;
    DeviceInfo {
        name: opts.device_name.clone(),
        host: hostname(),
        backend: match (executorch, opts.cuda) {
            (true, _) => executorch::BACKEND,
            (false, true) => "cuda",
            (false, false) => "cpu",
        }
        .into(),
        dtype: opts.dtype,
        threads: opts.threads,
        batch: opts.batch,
        text_tokens: opts.text_tokens,
        libtorch_version: (!executorch).then(|| LIBTORCH_VERSION.into()),
        runtime_version: executorch.then(|| format!("executorch {EXECUTORCH_VERSION}")),
        date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        statistic: opts.statistic,
        repeats: opts.timing.repeats,
        warmup: opts.timing.warmup,
        source: match executorch {
            true => "vidnas latency profile --runtime executorch-xnnpack (each signature its own \
                     .pte lowered with the XNNPACK partitioner; 3-D convs exported as one 2-D \
                     conv over time-shifted frames)"
                .into(),
            false => "vidnas latency profile".into(),
        },
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
    profile_space_scaled(space, out, opts, None, progress)
}

/// [`profile_space`], optionally timing every op at a reduced size and scaling it to full size
/// (see [`crate::scale`]); the rule is written to the table's `device.source`.
pub fn profile_space_scaled(
    space: &Space,
    out: &Path,
    opts: &ProfileOptions,
    reduction: Option<Reduction>,
    progress: bool,
) -> Result<LatencyTable, ProfileError> {
    let executorch = opts.runtime == Runtime::ExecutorchXnnpack;
    if opts.bundle.is_some() && (!executorch || reduction.is_some()) {
        return Err(ProfileError::Unsupported(
            "--bundle writes full-size ExecuTorch programs for a phone: use it with --runtime \
             executorch-xnnpack and without --reduce-frames"
                .into(),
        ));
    }
    let (device, kind) = match executorch {
        true => (Device::Cpu, Kind::Float),
        false => prepare(opts)?,
    };
    let mut info = device_info(opts);
    if let Some(r) = &reduction {
        info.source = match executorch {
            true => format!("{}; {}", info.source, r.describe()),
            false => r.describe(),
        };
    }
    let fresh = LatencyTable::new(info);
    let mut table = if out.exists() {
        let mut existing = LatencyTable::load(out)?;
        // Refuses a table measured under other conditions rather than mixing them.
        existing.merge(&fresh)?;
        if existing.device.source != fresh.device.source {
            return Err(ProfileError::Unsupported(format!(
                "{}: field device.source is `{}` but this run would write `{}`; a table is \
                 either measured at full size or at one reduced size. Resume with the same \
                 --reduce-frames, or write to another --out",
                out.display(),
                existing.device.source,
                fresh.device.source
            )));
        }
        existing
    } else {
        fresh
    };
    let wanted = all_signatures(space, &LowerOptions::new(opts.text_tokens, opts.batch));
    let pending = table.pending(&wanted);
    let bar = vidnas_io::progress_bar(
        progress,
        pending.len() as u64,
        "profile [{bar:30}] {pos}/{len} ops, eta {eta} {msg}",
    );
    if wanted.len() > pending.len() {
        bar.println(format!(
            "{} of {} signatures already measured in {}; measuring the rest",
            wanted.len() - pending.len(),
            wanted.len(),
            out.display()
        ));
    }
    if executorch {
        // One harness run exports and times them all (a bundle gets every signature).
        let chosen: Vec<&String> = match opts.bundle {
            Some(_) => wanted.iter().collect(),
            None => pending.iter().collect(),
        };
        let mut timed = Vec::new();
        for text in chosen {
            let sig: Signature = text.parse()?;
            let (shape, factor) = match &reduction {
                Some(r) => (r.timed_shape(&sig), r.factor(&sig)),
                None => (sig.clone(), 1.0),
            };
            timed.push((sig, shape.to_string(), factor));
        }
        let shapes: Vec<String> = timed.iter().map(|(_, shape, _)| shape.clone()).collect();
        let req = OpRequest {
            dtype: opts.dtype,
            batch: opts.batch,
            text_tokens: opts.text_tokens,
            threads: opts.threads,
            timing: opts.timing,
            bundle: opts.bundle.as_deref(),
        };
        // Entries arrive in request order; each is saved as it comes, so an interrupted
        // profile resumes with what is missing.
        let mut next = 0;
        let mut add = |op: &executorch::OpTiming| -> Result<(), ProfileError> {
            let (sig, _, factor) = &timed[next];
            next += 1;
            if !table.entries.contains_key(&sig.to_string()) {
                let mut entry = scaled_entry(
                    sig,
                    *factor,
                    &op.timing,
                    opts.statistic,
                    opts.batch as u64,
                    opts.dtype,
                );
                entry.delegation = Some(op.delegation);
                table.insert(sig, entry);
                if next % 4 == 0 {
                    table.save(out)?;
                }
            }
            Ok(())
        };
        executorch::time_ops(&shapes, &req, progress, &mut add)?;
        table.save(out)?;
        return Ok(table);
    }
    for (i, text) in pending.iter().enumerate() {
        let sig: Signature = text.parse()?;
        bar.set_message(text.clone());
        let (timed, factor) = match &reduction {
            Some(r) => (r.timed_shape(&sig), r.factor(&sig)),
            None => (sig.clone(), 1.0),
        };
        let op = ops::build(&timed, opts.batch as i64, kind, device);
        let timing = time(&opts.timing, || {
            let _ = op.forward();
            sync(device);
        });
        drop(op);
        let entry: Entry = scaled_entry(
            &sig,
            factor,
            &timing,
            opts.statistic,
            opts.batch as u64,
            opts.dtype,
        );
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

fn sync(device: Device) {
    if let Device::Cuda(_) = device {
        tch::Cuda::synchronize(0);
    }
}

/// One op kind's check of the scaling rule: its cheapest signature timed at full size and at
/// the reduced size, interleaved repeat by repeat so that load hits both alike.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScalingCheckRow {
    pub kind: String,
    pub signature: String,
    pub timed_signature: String,
    pub factor: f64,
    /// The table's statistic of the reduced shape.
    pub reduced_ms: f64,
    /// `reduced_ms × factor`: what the scaled table would hold.
    pub scaled_ms: f64,
    /// The same statistic measured at full size.
    pub full_ms: f64,
    /// `(scaled − full) / full`, %.
    pub error_pct: f64,
}

/// For every op kind of `space` whose scaling is not the identity, times its signature with the
/// fewest full-size MACs at full and at reduced size (`opts.timing` warm-up, then repeats
/// alternating between the two) and compares `reduced × factor` with `full`.
pub fn scaling_check(
    space: &Space,
    opts: &ProfileOptions,
    reduction: Reduction,
    progress: bool,
) -> Result<Vec<ScalingCheckRow>, ProfileError> {
    let (device, kind) = prepare(opts)?;
    let wanted = all_signatures(space, &LowerOptions::new(opts.text_tokens, opts.batch));
    let mut cheapest: std::collections::BTreeMap<String, Signature> = Default::default();
    for text in &wanted {
        let sig: Signature = text.parse()?;
        if reduction.factor(&sig) == 1.0 {
            continue;
        }
        let k = sig.class().name().to_string();
        match cheapest.get(&k) {
            Some(best) if macs(best) <= macs(&sig) => {}
            _ => {
                cheapest.insert(k, sig);
            }
        }
    }
    let bar = vidnas_io::progress_bar(
        progress,
        cheapest.len() as u64,
        "scaling check [{bar:30}] {pos}/{len} kinds, eta {eta} {msg}",
    );
    let pick = |t: &Timing| match opts.statistic {
        Statistic::Min => t.min_ms,
        Statistic::P10 => t.p10_ms,
        Statistic::Median => t.median_ms,
        Statistic::Mean => t.mean_ms,
    };
    let mut rows = Vec::new();
    for (k, sig) in cheapest {
        bar.set_message(sig.to_string());
        let timed = reduction.timed_shape(&sig);
        let small = ops::build(&timed, opts.batch as i64, kind, device);
        let full = ops::build(&sig, opts.batch as i64, kind, device);
        let once = |op: &ops::TimedOp| {
            let start = std::time::Instant::now();
            let _ = op.forward();
            sync(device);
            start.elapsed().as_secs_f64() * 1e3
        };
        for _ in 0..opts.timing.warmup {
            once(&small);
            once(&full);
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for _ in 0..opts.timing.repeats.max(1) {
            a.push(once(&small));
            b.push(once(&full));
        }
        let factor = reduction.factor(&sig);
        let reduced_ms = pick(&Timing::from_samples(a));
        let full_ms = pick(&Timing::from_samples(b));
        rows.push(ScalingCheckRow {
            kind: k,
            signature: sig.to_string(),
            timed_signature: timed.to_string(),
            factor,
            reduced_ms,
            scaled_ms: reduced_ms * factor,
            full_ms,
            error_pct: (reduced_ms * factor - full_ms) / full_ms * 100.0,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(rows)
}
