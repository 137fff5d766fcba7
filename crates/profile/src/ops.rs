//! Builds one op from its signature, with random weights and inputs, as a closure that runs
//! its forward pass: the unit the profiler times. Shapes follow `vidnas_latency::Signature`.

use tch::{nn, nn::Module, Device, Kind, Tensor};
use vidnas_latency::Signature;
use vidnas_nn::temporal::{OpShape, TemporalOp};
use vidnas_nn::{
    timestep_features, ResnetBlock2D, TimestepEmbedding, Transformer2DConfig, Transformer2DModel,
};
use vidnas_nn::{Downsample2D, Upsample2D};
use vidnas_space::OpHyper;

/// A built op: its weights live in `_vs`; `run` performs one forward pass.
pub struct TimedOp {
    _vs: nn::VarStore,
    run: Box<dyn Fn() -> Tensor>,
}

impl TimedOp {
    pub fn forward(&self) -> Tensor {
        tch::no_grad(|| (self.run)())
    }
}

fn randn(shape: &[i64], kind: Kind, device: Device) -> Tensor {
    Tensor::randn(shape, (kind, device))
}

/// Builds the op of `sig` for `batch` clips in `kind` on `device`.
pub fn build(sig: &Signature, batch: i64, kind: Kind, device: Device) -> TimedOp {
    tch::manual_seed(0);
    let mut vs = nn::VarStore::new(device);
    let root = vs.root();
    let i = |v: u64| v as i64;
    let run: Box<dyn Fn() -> Tensor> = match *sig {
        Signature::TimeEmbed { c, temb } => {
            let m = TimestepEmbedding::new(&root / "m", i(c), i(temb));
            let t = Tensor::full([batch], 500, (Kind::Int64, device));
            Box::new(move || m.forward(&timestep_features(&t, i(c), true, 0.0).to_kind(kind)))
        }
        Signature::ConvIn { cin, cout, t, h, w } => {
            let conv = nn::conv2d(
                &root / "m",
                i(cin),
                i(cout),
                3,
                nn::ConvConfig {
                    padding: 1,
                    ..Default::default()
                },
            );
            let x = randn(&[batch * i(t), i(cin), i(h), i(w)], kind, device);
            Box::new(move || x.apply(&conv))
        }
        Signature::Resnet {
            cin,
            cout,
            temb,
            groups,
            t,
            h,
            w,
        } => {
            let m = ResnetBlock2D::new(&root / "m", i(cin), i(cout), i(temb), i(groups), 1e-5);
            let x = randn(&[batch * i(t), i(cin), i(h), i(w)], kind, device);
            let e = randn(&[batch * i(t), i(temb)], kind, device);
            Box::new(move || m.forward(&x, &e))
        }
        Signature::Transformer {
            c,
            heads,
            ctx,
            tokens,
            layers,
            linear,
            groups,
            t,
            h,
            w,
        } => {
            let cfg = Transformer2DConfig {
                heads: i(heads),
                context_dim: i(ctx),
                layers: i(layers),
                groups: i(groups),
                linear_projection: linear,
            };
            let m = Transformer2DModel::new(&root / "m", i(c), cfg);
            let x = randn(&[batch * i(t), i(c), i(h), i(w)], kind, device);
            let text = randn(&[batch * i(t), i(tokens), i(ctx)], kind, device);
            Box::new(move || m.forward(&x, &text))
        }
        Signature::Downsample { c, t, h, w } => {
            let m = Downsample2D::new(&root / "m", i(c));
            let x = randn(&[batch * i(t), i(c), i(h), i(w)], kind, device);
            Box::new(move || m.forward(&x))
        }
        Signature::Upsample { c, t, h, w } => {
            let m = Upsample2D::new(&root / "m", i(c));
            let x = randn(&[batch * i(t), i(c), i(h), i(w)], kind, device);
            Box::new(move || m.forward(&x))
        }
        Signature::ConvOut {
            cin,
            cout,
            groups,
            t,
            h,
            w,
        } => {
            let norm = nn::group_norm(&root / "norm", i(groups), i(cin), Default::default());
            let conv = nn::conv2d(
                &root / "conv",
                i(cin),
                i(cout),
                3,
                nn::ConvConfig {
                    padding: 1,
                    ..Default::default()
                },
            );
            let x = randn(&[batch * i(t), i(cin), i(h), i(w)], kind, device);
            Box::new(move || x.apply(&norm).silu().apply(&conv))
        }
        Signature::TemporalConv {
            op,
            c,
            k: size,
            groups,
            t,
            h,
            w,
        }
        | Signature::TemporalAttn {
            op,
            c,
            heads: size,
            groups,
            t,
            h,
            w,
            ..
        } => {
            let hyper = OpHyper {
                size,
                stride: sig.key_stride(),
            };
            let shape = OpShape {
                groups: i(groups),
                hyper,
            };
            let m = TemporalOp::new(&root / "m", op, i(c), shape)
                .expect("signatures never hold `none`");
            let x = randn(&[batch * i(t), i(c), i(h), i(w)], kind, device);
            let frames = i(t);
            Box::new(move || m.forward(&x, frames))
        }
    };
    vs.set_kind(kind);
    TimedOp { _vs: vs, run }
}
