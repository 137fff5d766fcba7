//! The temporal attention ops run in half precision (bf16), as `latency profile --dtype` and
//! GPU training need: their frame positions take the tokens' dtype instead of forcing f32.

use tch::{nn, Device, Kind, Tensor};
use vidnas_nn::temporal::{OpShape, TemporalOp};
use vidnas_space::OpKind;

#[test]
fn attention_ops_keep_a_half_precision_dtype() {
    tch::set_num_threads(1);
    tch::manual_seed(0);
    let (b, t, c, h, w) = (1, 3, 8, 2, 2);
    for op in [
        OpKind::Attn1d,
        OpKind::Attn3d,
        OpKind::Conv1d,
        OpKind::Conv3d,
    ] {
        let mut vs = nn::VarStore::new(Device::Cpu);
        // Kernel 3 for the convolutions, 2 heads for the attentions.
        let hyper = if matches!(op, OpKind::Attn1d | OpKind::Attn3d) {
            2
        } else {
            3
        };
        let shape = OpShape { groups: 4, hyper };
        let layer = TemporalOp::new(vs.root(), op, c, shape).expect("a temporal op");
        vs.bfloat16();
        let xs = Tensor::randn([b * t, c, h, w], (Kind::BFloat16, Device::Cpu));
        let out = tch::no_grad(|| layer.forward(&xs, t));
        assert_eq!(out.kind(), Kind::BFloat16, "{op:?}");
        assert_eq!(out.size(), xs.size(), "{op:?}");
    }
}
