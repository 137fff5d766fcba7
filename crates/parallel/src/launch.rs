//! How this process was started: by Open MPI's `mpirun`, Slurm's `srun`, an MPICH-style
//! `mpiexec`, or by hand (one rank). MPI is initialised only under a launcher, so a plain
//! `vidnas` never touches it.

use crate::{AllReduce, ParallelError, Single};

/// The rank layout a launcher announced through its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchEnv {
    pub world_size: usize,
    pub rank: usize,
    /// Rank among the processes on this node: picks the GPU of `--device cuda`.
    pub local_rank: usize,
    /// Which launcher's variables were read.
    pub launcher: &'static str,
}

impl LaunchEnv {
    /// Reads the launcher's variables from the process environment.
    pub fn from_env() -> Result<Option<Self>, ParallelError> {
        Self::from_vars(|k| std::env::var(k).ok())
    }

    /// As [`LaunchEnv::from_env`], from any variable lookup (tests pass a map).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ParallelError> {
        // (launcher, world size, rank, local rank); Slurm's batch script also sets
        // SLURM_NTASKS, so only a job step's own SLURM_STEP_NUM_TASKS counts.
        const LAUNCHERS: [(&str, &str, &str, &str); 3] = [
            (
                "Open MPI (mpirun)",
                "OMPI_COMM_WORLD_SIZE",
                "OMPI_COMM_WORLD_RANK",
                "OMPI_COMM_WORLD_LOCAL_RANK",
            ),
            (
                "Slurm (srun)",
                "SLURM_STEP_NUM_TASKS",
                "SLURM_PROCID",
                "SLURM_LOCALID",
            ),
            ("PMI (mpiexec)", "PMI_SIZE", "PMI_RANK", "MPI_LOCALRANKID"),
        ];
        for (launcher, size_var, rank_var, local_var) in LAUNCHERS {
            let Some(size) = var(size_var) else { continue };
            let number = |name: &str, value: Option<String>| -> Result<usize, ParallelError> {
                let value = value.ok_or_else(|| {
                    ParallelError::Setup(format!(
                        "{launcher} set {size_var} but not {name}; launch vidnas with the launcher itself"
                    ))
                })?;
                value.trim().parse().map_err(|_| {
                    ParallelError::Setup(format!(
                        "{name} is `{value}`, not a rank count or index ({launcher})"
                    ))
                })
            };
            let world_size = number(size_var, Some(size))?;
            let rank = number(rank_var, var(rank_var))?;
            // Without a local rank (some PMI launchers), assume one rank per node.
            let local_rank = match var(local_var) {
                Some(v) => number(local_var, Some(v))?,
                None => 0,
            };
            if world_size < 1 || rank >= world_size {
                return Err(ParallelError::Setup(format!(
                    "{launcher}: rank {rank} of world size {world_size} ({rank_var}, {size_var}) is out of range"
                )));
            }
            return Ok(Some(Self {
                world_size,
                rank,
                local_rank,
                launcher,
            }));
        }
        Ok(None)
    }
}

/// The collectives for this process: [`Single`] when started by hand or on one rank; MPI when
/// a launcher started several, with NCCL for the tensors when training on CUDA device
/// `cuda_device`.
pub fn connect(
    launch: Option<&LaunchEnv>,
    cuda_device: Option<usize>,
) -> Result<Box<dyn AllReduce>, ParallelError> {
    let Some(launch) = launch.filter(|l| l.world_size > 1) else {
        return Ok(Box::new(Single));
    };
    connect_ranks(launch, cuda_device)
}

#[cfg(feature = "mpi")]
fn connect_ranks(
    launch: &LaunchEnv,
    cuda_device: Option<usize>,
) -> Result<Box<dyn AllReduce>, ParallelError> {
    let world = crate::mpi_world::MpiWorld::init(launch)?;
    Ok(match cuda_device {
        Some(device) => Box::new(crate::nccl::NcclWorld::init(world, device)?),
        None => Box::new(world),
    })
}

#[cfg(not(feature = "mpi"))]
fn connect_ranks(
    launch: &LaunchEnv,
    _: Option<usize>,
) -> Result<Box<dyn AllReduce>, ParallelError> {
    Err(ParallelError::Setup(format!(
        "{} started {} ranks, but this vidnas was built without MPI (cargo feature `mpi`); \
         install Open MPI (Debian: apt-get install libopenmpi-dev openmpi-bin) and rebuild with default features",
        launch.launcher, launch.world_size
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<Option<LaunchEnv>, ParallelError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LaunchEnv::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn reads_each_launcher_and_ignores_a_slurm_batch_script() {
        assert_eq!(read(&[]).unwrap(), None);
        let ompi = read(&[
            ("OMPI_COMM_WORLD_SIZE", "4"),
            ("OMPI_COMM_WORLD_RANK", "3"),
            ("OMPI_COMM_WORLD_LOCAL_RANK", "1"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!((ompi.world_size, ompi.rank, ompi.local_rank), (4, 3, 1));
        let srun = read(&[
            ("SLURM_NTASKS", "8"),
            ("SLURM_STEP_NUM_TASKS", "8"),
            ("SLURM_PROCID", "5"),
            ("SLURM_LOCALID", "1"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            (srun.launcher, srun.rank, srun.local_rank),
            ("Slurm (srun)", 5, 1)
        );
        // An sbatch script runs once, even in an 8-task allocation.
        assert_eq!(
            read(&[("SLURM_NTASKS", "8"), ("SLURM_PROCID", "0")]).unwrap(),
            None
        );
    }

    #[test]
    fn a_bad_rank_is_refused_naming_the_variable() {
        let e = read(&[("OMPI_COMM_WORLD_SIZE", "2"), ("OMPI_COMM_WORLD_RANK", "x")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("OMPI_COMM_WORLD_RANK is `x`"), "{e}");
        let e = read(&[("PMI_SIZE", "2"), ("PMI_RANK", "2")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("out of range"), "{e}");
        assert!(connect(None, None).unwrap().world_size() == 1);
    }
}
