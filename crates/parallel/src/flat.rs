//! Many tensors exchanged as one flat buffer (one collective call, not one per tensor).

use tch::{Device, Tensor};

/// The tensors of `group`, flattened and concatenated in order, on `device`.
pub(crate) fn flatten(group: &[&Tensor], device: Device) -> Tensor {
    let flat: Vec<Tensor> = group
        .iter()
        .map(|t| t.detach().reshape([-1]).to_device(device))
        .collect();
    Tensor::cat(&flat, 0).contiguous()
}

/// Copies consecutive pieces of `flat` back into the tensors of `group` (in place).
pub(crate) fn unflatten_into(flat: &Tensor, group: &[&Tensor]) {
    let mut offset = 0;
    for t in group {
        let n = t.numel() as i64;
        let part = flat.narrow(0, offset, n).view(t.size().as_slice());
        tch::no_grad(|| t.shallow_clone().copy_(&part));
        offset += n;
    }
}
