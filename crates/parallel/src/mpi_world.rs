//! MPI (Open MPI through the `mpi` crate): CPU tensors and every control message.

use crate::flat::{flatten, unflatten_into};
use crate::watchdog::{timeout_from_env, Watchdog};
use crate::{AllReduce, LaunchEnv, ParallelError};
use mpi::collective::SystemOperation;
use mpi::datatype::Equivalence;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use tch::kind::Element;
use tch::{Device, Kind, Tensor};

pub struct MpiWorld {
    world: SimpleCommunicator,
    rank: usize,
    size: usize,
    pub(crate) watch: Watchdog,
    /// Finalises MPI when dropped; declared last so the communicator goes first.
    _universe: Universe,
}

impl MpiWorld {
    pub fn init(launch: &LaunchEnv) -> Result<Self, ParallelError> {
        let timeout = timeout_from_env()?;
        let universe = mpi::initialize().ok_or_else(|| {
            ParallelError::Setup("MPI was initialised twice in one process".into())
        })?;
        let world = universe.world();
        let (rank, size) = (world.rank() as usize, world.size() as usize);
        if size != launch.world_size || rank != launch.rank {
            return Err(ParallelError::Setup(format!(
                "{} announced rank {} of {}, but MPI sees rank {rank} of {size}: the launcher belongs to \
                 another MPI than the Open MPI vidnas was built with. Launch with Open MPI's mpirun, or \
                 with `srun --mpi=pmix`",
                launch.launcher, launch.rank, launch.world_size
            )));
        }
        Ok(Self {
            world,
            rank,
            size,
            watch: Watchdog::start(rank, size, timeout),
            _universe: universe,
        })
    }

    fn sum<T: Equivalence + Copy + Default>(&self, values: &[T]) -> Vec<T> {
        let mut out = vec![T::default(); values.len()];
        self.world
            .all_reduce_into(values, &mut out[..], SystemOperation::sum());
        out
    }

    /// Averages the tensors of one kind as one flat buffer (one exchange, not one per tensor).
    fn average_kind<T: Equivalence + Element + Copy + Default>(
        &self,
        group: &[&Tensor],
        what: &str,
    ) -> Result<(), ParallelError> {
        let local =
            Vec::<T>::try_from(&flatten(group, Device::Cpu)).map_err(|e| self.failed(what, e))?;
        let mean = Tensor::from_slice(&self.sum(&local)) / self.size as f64;
        unflatten_into(&mean, group);
        Ok(())
    }

    pub(crate) fn failed(&self, what: &str, e: impl std::fmt::Display) -> ParallelError {
        ParallelError::Collective {
            rank: self.rank,
            world: self.size,
            what: what.to_string(),
            message: e.to_string(),
        }
    }
}

/// Refuses tensors no backend averages (integer counters, half precision masters).
pub(crate) fn check_kinds(tensors: &[Tensor], what: &str) -> Result<(), ParallelError> {
    match tensors
        .iter()
        .find(|t| !matches!(t.kind(), Kind::Float | Kind::Double))
    {
        Some(t) => Err(ParallelError::Setup(format!(
            "{what}: a {:?} tensor cannot be averaged over ranks; train in f32 or f64 (bf16 runs as autocast over f32 weights)",
            t.kind()
        ))),
        None => Ok(()),
    }
}

impl AllReduce for MpiWorld {
    fn rank(&self) -> usize {
        self.rank
    }
    fn world_size(&self) -> usize {
        self.size
    }
    fn backend(&self) -> &'static str {
        "mpi"
    }

    fn average_tensors(&self, tensors: &[Tensor], what: &str) -> Result<(), ParallelError> {
        check_kinds(tensors, what)?;
        let _waiting = self.watch.guard(what);
        let of = |k: Kind| tensors.iter().filter(|t| t.kind() == k).collect::<Vec<_>>();
        let (floats, doubles) = (of(Kind::Float), of(Kind::Double));
        if !floats.is_empty() {
            self.average_kind::<f32>(&floats, what)?;
        }
        if !doubles.is_empty() {
            self.average_kind::<f64>(&doubles, what)?;
        }
        Ok(())
    }

    fn sum_f64(&self, values: &mut [f64], what: &str) -> Result<(), ParallelError> {
        let _waiting = self.watch.guard(what);
        let summed = self.sum(values);
        values.copy_from_slice(&summed);
        Ok(())
    }

    fn broadcast_bytes(&self, bytes: &mut Vec<u8>, what: &str) -> Result<(), ParallelError> {
        let _waiting = self.watch.guard(what);
        let root = self.world.process_at_rank(0);
        let mut len = bytes.len() as u64;
        root.broadcast_into(&mut len);
        bytes.resize(len as usize, 0);
        // An empty buffer is not sent: Open MPI refuses a zero-length broadcast's buffer.
        if len > 0 {
            root.broadcast_into(&mut bytes[..]);
        }
        Ok(())
    }
}
