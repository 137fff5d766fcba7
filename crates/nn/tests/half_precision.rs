//! The temporal attention ops run in half precision (bf16), as `latency profile --dtype` and
//! GPU training need: their frame positions take the tokens' dtype instead of forcing f32.

use tch::{nn, Device, Kind, Tensor};
use vidnas_nn::temporal::{OpShape, TemporalOp};
use vidnas_space::{OpHyper, OpKind, Structure};

#[test]
fn temporal_ops_keep_a_half_precision_dtype() {
    tch::set_num_threads(1);
    tch::manual_seed(0);
    let (b, t, c, h, w) = (1, 3, 8, 2, 2);
    for op in OpKind::ALL.into_iter().filter(|op| op.is_temporal()) {
        let mut vs = nn::VarStore::new(Device::Cpu);
        // Kernel 3 for the convolutions, 2 heads (and stride 2) for the attentions.
        let hyper = match op.spec().structure {
            Structure::Attention { .. } => OpHyper { size: 2, stride: 2 },
            Structure::Conv { .. } | Structure::Identity => OpHyper::of_size(3),
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
