mod common;

use tch::{Device, Kind, Tensor};
use vidnas_data::Vocab;
use vidnas_fewstep::discriminator::split_logits;
use vidnas_fewstep::losses::{hinge_d, hinge_g};
use vidnas_fewstep::Discriminator;

#[test]
fn heads_learn_while_the_frozen_encoder_only_passes_gradients_through() {
    let space = common::micro();
    let arch = common::arch(&space);
    let mut teacher = common::model(&space, 0);
    teacher.trainable(|_| false);
    let disc = Discriminator::new(&teacher, Device::Cpu);
    assert_eq!(disc.num_heads(), 3, "one head per down block");

    tch::manual_seed(1);
    let x = Tensor::randn([4, 3, 2, 8, 8], (Kind::Float, Device::Cpu)).set_requires_grad(true);
    let t = Tensor::from_slice(&[10i64, 200, 400, 999]);
    let ctx = teacher
        .prompt_context(
            &[
                "a red square moving left",
                "a blue circle moving right",
                "a red square moving left",
                "a green triangle moving up",
            ],
            &Vocab::procedural(),
        )
        .unwrap();
    let logits = disc.logits(&teacher, &arch, &x, &t, &ctx);
    // Per-location logits at the three resolutions, frames folded into the batch.
    let shapes: Vec<Vec<i64>> = logits.iter().map(|l| l.size()).collect();
    assert_eq!(shapes, vec![vec![8, 8, 8], vec![8, 4, 4], vec![8, 2, 2]]);
    let (fake, real) = split_logits(&logits, 2, 2);
    let loss = hinge_d(&real, &fake) + hinge_g(&fake);
    loss.backward();

    // Every head variable gets a gradient; the resnet, output and text projection of each head
    // get a non-zero one (the zero-initialised temporal attention passes none upstream yet).
    for (name, var) in disc.variables() {
        let g = var.grad();
        assert!(g.defined(), "{name} has no gradient");
        if name.contains(".resnet.conv2.") || name.contains(".out.") || name.contains(".text_proj.")
        {
            assert!(
                g.abs().sum(Kind::Float).double_value(&[]) > 0.0,
                "{name} has a zero gradient"
            );
        }
    }
    // The frozen encoder gets none, but passes gradients to its input (for the generator).
    for (name, var) in teacher.vs.variables() {
        assert!(
            !var.grad().defined(),
            "frozen encoder weight {name} got a gradient"
        );
    }
    assert!(x.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0);
}

#[test]
fn text_conditioning_changes_the_logits() {
    let space = common::micro();
    let arch = common::arch(&space);
    let teacher = common::model(&space, 0);
    let disc = Discriminator::new(&teacher, Device::Cpu);
    tch::manual_seed(2);
    let x = Tensor::randn([1, 3, 2, 8, 8], (Kind::Float, Device::Cpu));
    let t = Tensor::from_slice(&[100i64]);
    let vocab = Vocab::procedural();
    let a = teacher
        .prompt_context(&["a red square moving left"], &vocab)
        .unwrap();
    let b = teacher
        .prompt_context(&["a blue circle moving right"], &vocab)
        .unwrap();
    let la = tch::no_grad(|| disc.logits(&teacher, &arch, &x, &t, &a));
    let lb = tch::no_grad(|| disc.logits(&teacher, &arch, &x, &t, &b));
    for (p, q) in la.iter().zip(&lb) {
        assert!((p - q).abs().max().double_value(&[]) > 1e-6);
    }
}
