//! `--device`, `--threads` and `--precision`: where a libtorch command runs.

use crate::values::*;
use clap::Args;
use vidnas_diffusion::{Compute, ComputeRequest, DeviceChoice, Precision};

/// Device and threads, for every command that runs libtorch.
#[derive(Args, Clone, Debug)]
pub struct ComputeArgs {
    /// Where to run: cpu, cuda (under mpirun or srun each rank takes its node-local GPU) or
    /// cuda:N. Outputs and checkpoints do not depend on it: a run trained on one device
    /// resumes and scores on another.
    #[arg(long, default_value = "cpu", value_name = "DEVICE")]
    pub device: DeviceChoice,
    /// libtorch threads of this process [default: libtorch's, one per core]. Jobs sharing a
    /// machine should split its cores (two jobs on 8 cores: --threads 4 each): idle OpenMP
    /// threads spin, and two jobs at full width were seen to slow each other 10-20x.
    #[arg(long, value_name = "N", value_parser = threads())]
    pub threads: Option<usize>,
}

/// Training precision (training commands only).
#[derive(Args, Clone, Debug)]
pub struct PrecisionArgs {
    /// f32; bf16: autocast over f32 weights on CUDA (refused on the CPU); f64: weights and
    /// math in double precision, for numerical checks (a few times slower).
    #[arg(long, default_value = "f32", value_name = "f32|bf16|f64")]
    pub precision: Precision,
}

impl ComputeArgs {
    /// Checks the device and sets the threads (before any output is written), in f32.
    pub fn open(&self) -> anyhow::Result<Compute> {
        self.open_with(Precision::F32)
    }

    pub fn open_with(&self, precision: Precision) -> anyhow::Result<Compute> {
        Ok(Compute::open(ComputeRequest {
            device: self.device,
            threads: self.threads,
            precision,
        })?)
    }
}
