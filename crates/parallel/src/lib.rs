//! Data-parallel collectives for vidnas on engines HPC users already run: MPI (Open MPI through
//! the `mpi` crate) for CPU ranks and for control messages, and NCCL (the `libnccl` the torch
//! wheel ships) for CUDA tensors, with the NCCL unique id broadcast over MPI as Horovod does.
//!
//! One trait, [`AllReduce`]; [`connect`] picks the implementation from how the process was
//! launched (`mpirun`, `srun`, or a plain single process) and the device it trains on.

mod error;
#[cfg(feature = "mpi")]
mod flat;
mod launch;
#[cfg(feature = "mpi")]
mod mpi_world;
#[cfg(feature = "mpi")]
mod nccl;
mod single;
#[cfg(feature = "mpi")]
mod watchdog;

pub use error::ParallelError;
pub use launch::{connect, LaunchEnv};
pub use single::Single;

use tch::Tensor;

/// The collectives training and scoring need. Every rank calls the same methods in the same
/// order; `what` names the exchange in the error a rank gives when the others do not arrive.
pub trait AllReduce {
    /// This process's rank, 0-based; rank 0 writes every file.
    fn rank(&self) -> usize;
    fn world_size(&self) -> usize;
    /// `single`, `mpi` or `nccl`.
    fn backend(&self) -> &'static str;
    /// Replaces each tensor by its mean over the ranks (float or double; any device the backend
    /// reaches).
    fn average_tensors(&self, tensors: &[Tensor], what: &str) -> Result<(), ParallelError>;
    /// Sums `values` over the ranks, in place, on every rank.
    fn sum_f64(&self, values: &mut [f64], what: &str) -> Result<(), ParallelError>;
    /// Replaces `bytes` on every rank by rank 0's.
    fn broadcast_bytes(&self, bytes: &mut Vec<u8>, what: &str) -> Result<(), ParallelError>;

    /// Whether this rank writes outputs (rank 0).
    fn is_lead(&self) -> bool {
        self.rank() == 0
    }

    /// The values every rank computed for its share (`share(i) == rank`) of `n` items, gathered
    /// on every rank in item order. Exact: each item is summed with zeros only.
    fn gather_shares(
        &self,
        n: usize,
        mine: &[(usize, f64)],
        what: &str,
    ) -> Result<Vec<f64>, ParallelError> {
        let mut all = vec![0.0; n];
        for &(i, v) in mine {
            all[i] = v;
        }
        self.sum_f64(&mut all, what)?;
        Ok(all)
    }

    /// Whether item `i` of a list is this rank's to compute (round-robin).
    fn owns(&self, i: usize) -> bool {
        i % self.world_size() == self.rank()
    }
}
