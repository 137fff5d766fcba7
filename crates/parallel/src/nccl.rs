//! NCCL for CUDA tensors through a thin FFI over the `libnccl.so.2` that the torch wheel's
//! NVIDIA packages ship (already loaded by libtorch_cuda), the unique id broadcast over MPI
//! (Horovod's design). Scalars and control messages stay on MPI.

use crate::flat::{flatten, unflatten_into};
use crate::mpi_world::{check_kinds, MpiWorld};
use crate::{AllReduce, ParallelError};
use libloading::Library;
use std::ffi::{c_char, c_int, c_void, CStr};
use tch::{Kind, Tensor};

/// `ncclUniqueId`: 128 opaque bytes made by rank 0.
#[repr(C)]
#[derive(Clone, Copy)]
struct UniqueId {
    internal: [c_char; 128],
}

type Comm = *mut c_void;
type GetUniqueId = unsafe extern "C" fn(*mut UniqueId) -> c_int;
type CommInitRank = unsafe extern "C" fn(*mut Comm, c_int, UniqueId, c_int) -> c_int;
type AllReduceFn = unsafe extern "C" fn(
    *const c_void,
    *mut c_void,
    usize,
    c_int,
    c_int,
    Comm,
    *mut c_void,
) -> c_int;
type CommDestroy = unsafe extern "C" fn(Comm) -> c_int;
type GetErrorString = unsafe extern "C" fn(c_int) -> *const c_char;
type SetDevice = unsafe extern "C" fn(c_int) -> c_int;

// nccl.h: ncclFloat32 = 7, ncclFloat64 = 8; ncclAvg = 4 (NCCL >= 2.10).
const NCCL_FLOAT32: c_int = 7;
const NCCL_FLOAT64: c_int = 8;
const NCCL_AVG: c_int = 4;

pub struct NcclWorld {
    mpi: MpiWorld,
    comm: Comm,
    all_reduce: AllReduceFn,
    destroy: CommDestroy,
    error_string: GetErrorString,
    device: usize,
    _nccl: Library,
}

fn open(names: &[&str], what: &str) -> Result<Library, ParallelError> {
    let mut tried = Vec::new();
    for name in names {
        // SAFETY: loading a shared library runs its initialisers; NCCL's and the CUDA
        // runtime's are the ones libtorch_cuda already ran.
        match unsafe { Library::new(name) } {
            Ok(lib) => return Ok(lib),
            Err(e) => tried.push(format!("{name} ({e})")),
        }
    }
    Err(ParallelError::Setup(format!(
        "{what} not found: tried {}. It ships with the CUDA torch wheel that scripts/install-libtorch.sh \
         installs (site-packages/nvidia/); train on CUDA with that libtorch, or add its folder to LD_LIBRARY_PATH",
        tried.join(", ")
    )))
}

/// Copies a C function pointer out of `lib`.
fn symbol<T: Copy>(lib: &Library, name: &str) -> Result<T, ParallelError> {
    // SAFETY: every `T` used here is the C signature of `name` in nccl.h / cuda_runtime_api.h.
    unsafe { lib.get::<T>(name.as_bytes()) }
        .map(|s| *s)
        .map_err(|e| ParallelError::Setup(format!("{name} missing from the loaded library: {e}")))
}

impl NcclWorld {
    pub fn init(mpi: MpiWorld, device: usize) -> Result<Self, ParallelError> {
        let cudart = open(
            &["libcudart.so.13", "libcudart.so.12", "libcudart.so"],
            "the CUDA runtime",
        )?;
        let set_device: SetDevice = symbol(&cudart, "cudaSetDevice")?;
        // SAFETY: a plain C call; NCCL builds its communicator on the current device.
        let rc = unsafe { set_device(device as c_int) };
        if rc != 0 {
            return Err(ParallelError::Setup(format!(
                "cudaSetDevice({device}) failed with CUDA error {rc} on rank {}",
                mpi.rank()
            )));
        }
        let nccl = open(&["libnccl.so.2", "libnccl.so"], "NCCL")?;
        let get_id: GetUniqueId = symbol(&nccl, "ncclGetUniqueId")?;
        let init_rank: CommInitRank = symbol(&nccl, "ncclCommInitRank")?;
        let error_string: GetErrorString = symbol(&nccl, "ncclGetErrorString")?;
        let mut id = UniqueId { internal: [0; 128] };
        if mpi.rank() == 0 {
            // SAFETY: `id` is a valid ncclUniqueId to fill.
            check(unsafe { get_id(&mut id) }, error_string, "ncclGetUniqueId")?;
        }
        let mut bytes: Vec<u8> = id.internal.iter().map(|&c| c as u8).collect();
        mpi.broadcast_bytes(&mut bytes, "the NCCL unique id from rank 0")?;
        for (slot, b) in id.internal.iter_mut().zip(&bytes) {
            *slot = *b as c_char;
        }
        let mut comm: Comm = std::ptr::null_mut();
        {
            let _waiting = mpi
                .watch
                .guard("the NCCL communicator set-up (every rank's GPU)");
            // SAFETY: `comm` receives the new communicator; the id is rank 0's.
            let rc = unsafe {
                init_rank(
                    &mut comm,
                    mpi.world_size() as c_int,
                    id,
                    mpi.rank() as c_int,
                )
            };
            check(rc, error_string, "ncclCommInitRank")?;
        }
        Ok(Self {
            all_reduce: symbol(&nccl, "ncclAllReduce")?,
            destroy: symbol(&nccl, "ncclCommDestroy")?,
            error_string,
            comm,
            device,
            mpi,
            _nccl: nccl,
        })
    }
}

fn check(rc: c_int, error_string: GetErrorString, call: &str) -> Result<(), ParallelError> {
    if rc == 0 {
        return Ok(());
    }
    // SAFETY: NCCL returns a static NUL-terminated string for every result code.
    let text = unsafe { CStr::from_ptr(error_string(rc)) }.to_string_lossy();
    Err(ParallelError::Setup(format!(
        "{call} failed: {text} (NCCL result {rc})"
    )))
}

impl Drop for NcclWorld {
    fn drop(&mut self) {
        // SAFETY: the communicator was made by ncclCommInitRank and is destroyed once.
        unsafe { (self.destroy)(self.comm) };
    }
}

impl AllReduce for NcclWorld {
    fn rank(&self) -> usize {
        self.mpi.rank()
    }
    fn world_size(&self) -> usize {
        self.mpi.world_size()
    }
    fn backend(&self) -> &'static str {
        "nccl"
    }

    fn average_tensors(&self, tensors: &[Tensor], what: &str) -> Result<(), ParallelError> {
        check_kinds(tensors, what)?;
        let cuda = tch::Device::Cuda(self.device);
        if let Some(t) = tensors.iter().find(|t| t.device() != cuda) {
            return Err(ParallelError::Setup(format!(
                "{what}: NCCL averages tensors on cuda:{} but one is on {:?}",
                self.device,
                t.device()
            )));
        }
        let _waiting = self.mpi.watch.guard(what);
        for (kind, dtype) in [(Kind::Float, NCCL_FLOAT32), (Kind::Double, NCCL_FLOAT64)] {
            let group: Vec<&Tensor> = tensors.iter().filter(|t| t.kind() == kind).collect();
            if group.is_empty() {
                continue;
            }
            let buffer = flatten(&group, cuda);
            // The legacy default stream (null) orders NCCL after libtorch's kernels, which run
            // on it too; the synchronise makes the result visible before it is copied back.
            tch::Cuda::synchronize(self.device as i64);
            // SAFETY: `buffer` is a contiguous CUDA tensor of `numel` elements of `dtype`,
            // reduced in place; it outlives the call, which completes before the synchronise.
            let rc = unsafe {
                (self.all_reduce)(
                    buffer.data_ptr(),
                    buffer.data_ptr(),
                    buffer.numel(),
                    dtype,
                    NCCL_AVG,
                    self.comm,
                    std::ptr::null_mut(),
                )
            };
            check(rc, self.error_string, "ncclAllReduce").map_err(|e| self.mpi.failed(what, e))?;
            tch::Cuda::synchronize(self.device as i64);
            unflatten_into(&buffer, &group);
        }
        Ok(())
    }

    fn sum_f64(&self, values: &mut [f64], what: &str) -> Result<(), ParallelError> {
        self.mpi.sum_f64(values, what)
    }

    fn broadcast_bytes(&self, bytes: &mut Vec<u8>, what: &str) -> Result<(), ParallelError> {
        self.mpi.broadcast_bytes(bytes, what)
    }
}
