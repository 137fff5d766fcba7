use crate::{AllReduce, ParallelError};
use tch::Tensor;

/// One process: every collective is the identity.
#[derive(Debug, Default, Clone, Copy)]
pub struct Single;

impl AllReduce for Single {
    fn rank(&self) -> usize {
        0
    }
    fn world_size(&self) -> usize {
        1
    }
    fn backend(&self) -> &'static str {
        "single"
    }
    fn average_tensors(&self, _: &[Tensor], _: &str) -> Result<(), ParallelError> {
        Ok(())
    }
    fn sum_f64(&self, _: &mut [f64], _: &str) -> Result<(), ParallelError> {
        Ok(())
    }
    fn broadcast_bytes(&self, _: &mut Vec<u8>, _: &str) -> Result<(), ParallelError> {
        Ok(())
    }
}
