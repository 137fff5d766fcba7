//! ExecuTorch (XNNPACK delegate), the runtime a phone runs the model on, as a second place to
//! time ops and whole networks. The export and the runtime are Python, so this drives
//! `python -m vidnas_twin.executorch_harness` (python/vidnas_twin) in the venv that
//! `scripts/install-executorch.sh` makes: a request JSON in, progress lines on its stdout, a
//! result JSON out.

use crate::error::ProfileError;
use crate::timer::{Timing, TimingConfig};
use serde::Deserialize;
use serde_json::json;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use vidnas_latency::{Delegation, Dtype};
use vidnas_space::{Architecture, Space};

/// The ExecuTorch release the harness is pinned to (with torch 2.13.0, as libtorch).
pub const EXECUTORCH_VERSION: &str = "1.5.1";
/// `device.backend` of tables the harness measures.
pub const BACKEND: &str = "executorch-xnnpack";

/// Where ops and networks are timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// libtorch eager through tch, in this process.
    Libtorch,
    /// ExecuTorch with the XNNPACK delegate (`.pte` programs), through the Python harness.
    ExecutorchXnnpack,
}

impl Runtime {
    /// The runtime a table was measured on (its `device.backend`).
    pub fn of_table(table: &vidnas_latency::LatencyTable) -> Runtime {
        match table.device.backend == BACKEND {
            true => Runtime::ExecutorchXnnpack,
            false => Runtime::Libtorch,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Runtime::Libtorch => "libtorch",
            Runtime::ExecutorchXnnpack => BACKEND,
        }
    }
}

/// Where `latency validate` keeps lowered networks between runs.
pub fn program_cache() -> PathBuf {
    vidnas_io::cache_dir().join(format!("executorch-{EXECUTORCH_VERSION}-programs"))
}

/// The venv's Python, or an error saying how to install it.
pub fn python() -> Result<PathBuf, ProfileError> {
    let cache = vidnas_io::cache_dir();
    if cache.exists() && !cache.is_dir() {
        return Err(ProfileError::Unsupported(format!(
            "--runtime {BACKEND}: the cache folder {} (VIDNAS_CACHE, default ~/.cache/vidnas) is \
             a file, not a folder; point VIDNAS_CACHE at the folder `scripts/install-executorch.sh` \
             installed into, or move the file away",
            cache.display()
        )));
    }
    let venv = cache.join(format!("venv-executorch-{EXECUTORCH_VERSION}"));
    let python = venv.join("bin/python");
    if !python.exists() || !venv.join(".vidnas-verified").exists() {
        return Err(ProfileError::Unsupported(format!(
            "--runtime {BACKEND}: ExecuTorch {EXECUTORCH_VERSION} is not installed in {}; install it \
             with `scripts/install-executorch.sh` (once, ~1 min: executorch=={EXECUTORCH_VERSION} \
             pinned with torch==2.13.0 in its own venv under VIDNAS_CACHE)",
            venv.display()
        )));
    }
    Ok(python)
}

/// The folder holding the `vidnas_twin` package: `VIDNAS_PYTHON_DIR`, else the checkout this
/// binary was built from.
fn package_dir() -> Result<PathBuf, ProfileError> {
    let dir = std::env::var_os("VIDNAS_PYTHON_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../python"));
    if dir.join("vidnas_twin/executorch_harness.py").exists() {
        Ok(dir)
    } else {
        Err(ProfileError::Unsupported(format!(
            "--runtime {BACKEND}: the Python package vidnas_twin is not in {}; set VIDNAS_PYTHON_DIR \
             to the `python` folder of a vidnas checkout",
            dir.display()
        )))
    }
}

#[derive(Deserialize)]
struct Progress {
    done: u64,
    total: u64,
    item: String,
    /// A finished op (op timing only).
    #[serde(default)]
    entry: Option<serde_json::Value>,
}

/// Runs the harness on `request` (its `work_dir` and `format` are filled in here) and returns
/// its result. `work_dir`: where the `.pte` files go (a bundle folder, or a temporary one).
fn run_harness(
    mut request: serde_json::Value,
    work_dir: Option<&Path>,
    what: &str,
    progress: bool,
    on_entry: &mut dyn FnMut(serde_json::Value) -> Result<(), ProfileError>,
) -> Result<serde_json::Value, ProfileError> {
    let python = python()?;
    let package = package_dir()?;
    let scratch = tempfile::tempdir().map_err(|e| io_error("create a temporary folder", e))?;
    let work = work_dir.map_or_else(|| scratch.path().join("work"), Path::to_path_buf);
    request["format"] = json!("vidnas-harness-request/1");
    request["work_dir"] = json!(work);
    let request_path = scratch.path().join("request.json");
    let result_path = scratch.path().join("result.json");
    std::fs::write(
        &request_path,
        serde_json::to_vec_pretty(&request).expect("json"),
    )
    .map_err(|e| io_error("write the harness request", e))?;
    let mut child = Command::new(&python)
        .args(["-m", "vidnas_twin.executorch_harness"])
        .arg(&request_path)
        .arg(&result_path)
        .current_dir(&package)
        .env("PYTHONPATH", &package)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| io_error("start the ExecuTorch harness", e))?;
    // stderr is drained on its own thread so a chatty runtime cannot block the child.
    let mut stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let bar = vidnas_io::progress_bar(
        progress,
        0,
        &format!("{what} [{{bar:30}}] {{pos}}/{{len}}, eta {{eta}} {{msg}}"),
    );
    for line in BufReader::new(child.stdout.take().expect("piped")).lines() {
        let Ok(line) = line else { break };
        if let Ok(p) = serde_json::from_str::<Progress>(&line) {
            bar.set_length(p.total);
            bar.set_position(p.done);
            bar.set_message(p.item);
            if let Some(entry) = p.entry {
                if let Err(e) = on_entry(entry) {
                    let _ = child.kill();
                    return Err(e);
                }
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| io_error("wait for the ExecuTorch harness", e))?;
    bar.finish_and_clear();
    let stderr = errors.join().unwrap_or_default();
    if !status.success() {
        // The harness's own message is its last line; the runtime's log lines come before.
        let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(ProfileError::Unsupported(format!(
            "the ExecuTorch harness failed ({status}):\n{}",
            tail.join("\n")
        )));
    }
    let text = std::fs::read_to_string(&result_path)
        .map_err(|e| io_error("read the harness result", e))?;
    serde_json::from_str(&text).map_err(|e| {
        ProfileError::Unsupported(format!(
            "the ExecuTorch harness wrote an unreadable result: {e}"
        ))
    })
}

fn io_error(action: &str, e: std::io::Error) -> ProfileError {
    ProfileError::Unsupported(format!("could not {action}: {e}"))
}

/// One signature timed on ExecuTorch.
#[derive(Debug, Clone)]
pub struct OpTiming {
    pub signature: String,
    pub timing: Timing,
    pub delegation: Delegation,
    /// Largest |program − eager twin| over the largest |eager twin| output, random weights.
    pub max_rel_error: f64,
}

/// What an op-timing run needs besides its signatures.
#[derive(Debug, Clone)]
pub struct OpRequest<'a> {
    pub dtype: Dtype,
    pub batch: usize,
    pub text_tokens: usize,
    pub threads: usize,
    pub timing: TimingConfig,
    /// Keep the `.pte` files, a manifest and the phone runner script here.
    pub bundle: Option<&'a Path>,
}

#[derive(Deserialize)]
struct OpRow {
    signature: String,
    times_ms: Vec<f64>,
    delegation: Delegation,
    max_rel_error: f64,
}

impl From<OpRow> for OpTiming {
    fn from(r: OpRow) -> Self {
        OpTiming {
            signature: r.signature,
            timing: Timing::from_samples(r.times_ms),
            delegation: r.delegation,
            max_rel_error: r.max_rel_error,
        }
    }
}

/// Exports every signature through the XNNPACK delegate, checks it against eager PyTorch and
/// times it in the ExecuTorch runtime (warm-up runs, then timed repeats); `on_op` gets each
/// as it finishes (to save as it goes), in request order, every one of them once.
pub fn time_ops(
    signatures: &[String],
    req: &OpRequest,
    progress: bool,
    on_op: &mut dyn FnMut(&OpTiming) -> Result<(), ProfileError>,
) -> Result<(), ProfileError> {
    if req.dtype != Dtype::F32 {
        return Err(ProfileError::Unsupported(format!(
            "--runtime {BACKEND} --dtype {}: the harness exports f32 programs (XNNPACK's CPU path); use --dtype f32",
            req.dtype.as_str()
        )));
    }
    let request = json!({
        "task": "ops", "signatures": signatures, "dtype": req.dtype.as_str(), "batch": req.batch,
        "text_tokens": req.text_tokens, "threads": req.threads, "warmup": req.timing.warmup,
        "repeats": req.timing.repeats, "bundle": req.bundle.is_some(), "seed": 0,
    });
    let unreadable = |e: serde_json::Error| {
        ProfileError::Unsupported(format!("the ExecuTorch harness's op result: {e}"))
    };
    let mut delivered = 0;
    let mut each = |entry: serde_json::Value| -> Result<(), ProfileError> {
        let row: OpRow = serde_json::from_value(entry).map_err(unreadable)?;
        delivered += 1;
        on_op(&row.into())
    };
    run_harness(
        request,
        req.bundle,
        "export + time ops",
        progress,
        &mut each,
    )?;
    if delivered != signatures.len() {
        return Err(ProfileError::Unsupported(format!(
            "the ExecuTorch harness timed {delivered} of {} signatures",
            signatures.len()
        )));
    }
    Ok(())
}

/// Whole networks timed with `latency validate`'s protocol on ExecuTorch.
#[derive(Debug, Clone, Deserialize)]
pub struct NetworkTimes {
    /// Per network (request order), its minimum in every kept round.
    pub round_mins: Vec<Vec<f64>>,
    pub reference_ms: f64,
    pub rounds_redone: usize,
    pub noisy_rounds_kept: usize,
}

/// The protocol knobs of `latency validate`.
#[derive(Debug, Clone)]
pub struct NetworkRequest {
    /// Keep each lowered network here and reuse it on the next run (lowering takes ~1 min a
    /// network; timing seconds), keyed by space, architecture, seed, batch, text tokens,
    /// ExecuTorch version and the deployment form's version. None: lower every network.
    pub program_cache: Option<PathBuf>,
    pub batch: usize,
    pub text_tokens: usize,
    pub threads: usize,
    pub rounds: usize,
    pub repeats: usize,
    pub tolerance: f64,
    pub max_redo: usize,
    pub seed: u64,
}

/// Exports every network of `archs` (and the all-`none` reference) as one `.pte` each and
/// times them in interleaved rounds.
pub fn time_networks(
    space: &Space,
    archs: &[Architecture],
    req: &NetworkRequest,
    progress: bool,
) -> Result<NetworkTimes, ProfileError> {
    let scratch = tempfile::tempdir().map_err(|e| io_error("create a temporary folder", e))?;
    let space_path = scratch.path().join("space.json");
    std::fs::write(
        &space_path,
        serde_json::to_vec_pretty(&space.file).expect("json"),
    )
    .map_err(|e| io_error("write the space for the harness", e))?;
    let archs: Vec<String> = archs.iter().map(Architecture::encode).collect();
    let request = json!({
        "task": "networks", "space": space_path, "archs": archs, "dtype": "f32",
        "batch": req.batch, "text_tokens": req.text_tokens, "threads": req.threads,
        "rounds": req.rounds, "repeats": req.repeats, "tolerance": req.tolerance,
        "max_redo": req.max_redo, "seed": req.seed, "bundle": false,
        "program_cache": req.program_cache,
    });
    let result = run_harness(
        request,
        None,
        "export + time networks",
        progress,
        &mut |_| Ok(()),
    )?;
    let times: NetworkTimes = serde_json::from_value(result).map_err(|e| {
        ProfileError::Unsupported(format!("the ExecuTorch harness's network result: {e}"))
    })?;
    if times.round_mins.len() != archs.len() {
        return Err(ProfileError::Unsupported(format!(
            "the ExecuTorch harness timed {} networks of {}",
            times.round_mins.len(),
            archs.len()
        )));
    }
    Ok(times)
}
