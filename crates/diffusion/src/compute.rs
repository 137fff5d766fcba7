//! Where a command runs: the device (`--device`), libtorch's thread count (`--threads`), the
//! training precision (`--precision`) and the ranks of a data-parallel launch. Resolved and
//! checked once, before any file is written; recorded in `run.json`.

use crate::error::TrainError;
use serde::{Deserialize, Serialize};
use tch::Device;
use vidnas_parallel::{connect, AllReduce, LaunchEnv};

/// `--device` as typed: `cpu`, `cuda` (the local rank's GPU) or `cuda:N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    #[default]
    Cpu,
    Cuda(Option<usize>),
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda(None)),
            _ => s
                .strip_prefix("cuda:")
                .and_then(|n| n.parse().ok())
                .map(|n| Self::Cuda(Some(n)))
                .ok_or_else(|| {
                    format!("`{s}` is not a device; use cpu, cuda or cuda:N (N = GPU index)")
                }),
        }
    }
}

/// `--precision`: f32 everywhere, bf16 autocast over f32 weights (CUDA only), or f64 weights
/// and math (numerical checks: rounding ~1e-16 instead of ~1e-7, a few times slower).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    #[default]
    F32,
    Bf16,
    F64,
}

impl std::str::FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" | "fp32" | "float32" => Ok(Self::F32),
            "bf16" | "bfloat16" => Ok(Self::Bf16),
            "f64" | "fp64" | "float64" | "double" => Ok(Self::F64),
            other => Err(format!(
                "`{other}` is not a precision; use f32, bf16 or f64"
            )),
        }
    }
}

/// What a command asked for, before it is checked against the machine.
#[derive(Debug, Clone, Copy, Default)]
pub struct ComputeRequest {
    pub device: DeviceChoice,
    /// libtorch intra-op threads per process; `None` keeps libtorch's default.
    pub threads: Option<usize>,
    pub precision: Precision,
}

/// `compute` in `run.json`: where the last invocation ran (not compared on resume: a run
/// trained on one device resumes on another).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComputeRecord {
    pub device: String,
    /// libtorch threads per process.
    pub threads: usize,
    pub precision: Precision,
    /// Processes of a data-parallel launch (1 when started by hand).
    pub ranks: usize,
    /// `single`, `mpi` or `nccl`.
    pub backend: String,
}

/// A resolved request: the device exists, threads are set, ranks are connected.
pub struct Compute {
    pub device: Device,
    pub precision: Precision,
    pub comm: Box<dyn AllReduce>,
}

/// The CUDA devices libtorch sees, as a sentence for errors.
fn cuda_devices() -> String {
    match tch::Cuda::device_count() {
        0 => "libtorch sees no CUDA GPU on this machine (no NVIDIA driver, or a CPU-only libtorch)"
            .into(),
        n => format!(
            "this machine has {n} CUDA GPU{} ({})",
            if n == 1 { "" } else { "s" },
            (0..n)
                .map(|i| format!("cuda:{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl Compute {
    /// Checks the request against this machine and the launch; errors name the flag and what
    /// the machine has. Call before any output is written.
    pub fn open(req: ComputeRequest) -> Result<Self, TrainError> {
        let launch = LaunchEnv::from_env().map_err(|e| TrainError::Config(e.to_string()))?;
        let device = match req.device {
            DeviceChoice::Cpu => Device::Cpu,
            DeviceChoice::Cuda(index) => {
                // `cuda` on several ranks: each rank takes its node-local rank's GPU.
                let index = index.unwrap_or_else(|| launch.as_ref().map_or(0, |l| l.local_rank));
                if !tch::Cuda::is_available() || index as i64 >= tch::Cuda::device_count() {
                    let asked = match req.device {
                        DeviceChoice::Cuda(Some(i)) => format!("cuda:{i}"),
                        _ => format!("cuda (= cuda:{index})"),
                    };
                    return Err(TrainError::Config(format!(
                        "--device {asked}: {}; use --device cpu{}",
                        cuda_devices(),
                        if tch::Cuda::device_count() > 0 {
                            " or one of those GPUs"
                        } else {
                            ""
                        }
                    )));
                }
                Device::Cuda(index)
            }
        };
        if req.precision == Precision::Bf16 && device == Device::Cpu {
            return Err(TrainError::Config(
                "--precision bf16 is CUDA autocast; on the CPU libtorch's bf16 runs slower than f32 and \
                 vidnas refuses it: use --precision f32 (the default) or --device cuda"
                    .into(),
            ));
        }
        if req.precision == Precision::Bf16 && !cfg!(vidnas_autocast_shim) {
            return Err(TrainError::Config(
                "--precision bf16: this vidnas was built without libtorch's headers (LIBTORCH unset at build \
                 time), so it cannot set autocast's dtype; rebuild after `. scripts/env.sh`"
                    .into(),
            ));
        }
        if let Some(n) = req.threads {
            if n < 1 {
                return Err(TrainError::Config(
                    "--threads 0: use at least 1 (processes sharing a machine should split its cores)"
                        .into(),
                ));
            }
            tch::set_num_threads(n as i32);
        }
        let cuda = match device {
            Device::Cuda(i) => Some(i),
            _ => None,
        };
        let comm = connect(launch.as_ref(), cuda).map_err(|e| TrainError::Config(e.to_string()))?;
        Ok(Self {
            device,
            precision: req.precision,
            comm,
        })
    }

    /// One process on the CPU with libtorch's default threads (library callers and tests).
    pub fn cpu() -> Self {
        Self {
            device: Device::Cpu,
            precision: Precision::F32,
            comm: Box::new(vidnas_parallel::Single),
        }
    }

    pub fn record(&self) -> ComputeRecord {
        ComputeRecord {
            device: match self.device {
                Device::Cuda(i) => format!("cuda:{i}"),
                _ => "cpu".into(),
            },
            threads: tch::get_num_threads() as usize,
            precision: self.precision,
            ranks: self.comm.world_size(),
            backend: self.comm.backend().into(),
        }
    }

    /// Whether this process writes outputs (rank 0, or the only process).
    pub fn is_lead(&self) -> bool {
        self.comm.is_lead()
    }

    /// Casts a freshly built model's weights to the precision's dtype (f64 only; bf16 keeps f32
    /// weights and autocasts the forward pass). Call before the trainer collects parameters.
    pub fn prepare(&self, vs: &mut tch::nn::VarStore) {
        if self.precision == Precision::F64 {
            vs.double();
        }
    }

    /// Runs `f` under bf16 autocast when asked for (CUDA only), else as is.
    pub fn autocast<T>(&self, f: impl FnOnce() -> T) -> T {
        if self.precision != Precision::Bf16 {
            return f();
        }
        #[cfg(vidnas_autocast_shim)]
        {
            extern "C" {
                fn vidnas_autocast_cuda_bf16();
            }
            // SAFETY: sets a thread-local autocast dtype in libtorch; no pointers involved.
            unsafe { vidnas_autocast_cuda_bf16() };
        }
        tch::autocast(true, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_precisions_parse_and_bad_ones_say_what_works() {
        assert_eq!("cpu".parse(), Ok(DeviceChoice::Cpu));
        assert_eq!("CUDA".parse(), Ok(DeviceChoice::Cuda(None)));
        assert_eq!("cuda:3".parse(), Ok(DeviceChoice::Cuda(Some(3))));
        let e = "tpu".parse::<DeviceChoice>().unwrap_err();
        assert!(e.contains("cpu, cuda or cuda:N"), "{e}");
        assert!("cuda:x".parse::<DeviceChoice>().is_err());
        assert_eq!("bf16".parse(), Ok(Precision::Bf16));
        assert_eq!("f64".parse(), Ok(Precision::F64));
        let e = "f8".parse::<Precision>().unwrap_err();
        assert!(e.contains("f32, bf16 or f64"), "{e}");
    }

    #[test]
    fn cuda_and_bf16_on_a_cpu_machine_are_refused_before_anything_runs() {
        if tch::Cuda::is_available() {
            return;
        }
        let err = |req| Compute::open(req).err().expect("refused").to_string();
        let e = err(ComputeRequest {
            device: DeviceChoice::Cuda(Some(3)),
            ..Default::default()
        });
        assert!(
            e.contains("--device cuda:3") && e.contains("no CUDA GPU"),
            "{e}"
        );
        let e = err(ComputeRequest {
            precision: Precision::Bf16,
            ..Default::default()
        });
        assert!(
            e.contains("--precision bf16") && e.contains("--device cuda"),
            "{e}"
        );
        let e = err(ComputeRequest {
            threads: Some(0),
            ..Default::default()
        });
        assert!(e.contains("--threads 0"), "{e}");
    }
}
