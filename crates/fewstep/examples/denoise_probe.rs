//! One-step denoising error of a model per timestep, against predicting the data mean: is its
//! x̂₀ usable at the noisy timesteps where few-step sampling starts?
//!
//! cargo run --release -p vidnas-fewstep --example denoise_probe -- CONFIG.json WEIGHTS.safetensors
//!
//! Eight procedural validation clips, one noise draw per timestep (torch seed 0); prints the
//! mean squared error of the clamped x̂₀ with the prompt and with the empty prompt.
use std::path::Path;
use tch::{Kind, Tensor};
use vidnas_diffusion::{datasets, DataConfig};
use vidnas_diffusion::{stack_clips, Prediction};
use vidnas_export::load_exported_with;

fn main() {
    tch::set_num_threads(1);
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: denoise_probe CONFIG.json WEIGHTS.safetensors");
        std::process::exit(2);
    }
    let (config, space, arch, model) =
        load_exported_with(Path::new(&args[1]), Some(Path::new(&args[2]))).unwrap();
    let (_, val) = datasets(&space, &DataConfig::default()).unwrap();
    let clips: Vec<_> = (0..8).map(|i| val.get(i)).collect();
    let batch = stack_clips(&clips, &model, &config.vocab).unwrap();
    let x0 = &batch.x0;
    let mean_predictor = (x0 - x0.mean(Kind::Float)).square().mean(Kind::Float);
    println!(
        "x̂₀ = data mean: MSE {:.4}",
        mean_predictor.double_value(&[])
    );
    let ac = config.schedule.alphas_cumprod();
    let captions: Vec<&str> = clips.iter().map(|c| c.caption.as_str()).collect();
    let cond = tch::no_grad(|| model.prompt_context(&captions, &config.vocab)).unwrap();
    let uncond = model.text.null_context(8);
    tch::manual_seed(0);
    println!("timestep  x̂₀ MSE (prompt)  x̂₀ MSE (empty prompt)");
    for t in [10i64, 100, 250, 500, 750, 999] {
        let noise = Tensor::randn(x0.size(), (Kind::Float, tch::Device::Cpu));
        let (xt, _) = config.schedule.noisy_and_target(x0, &noise, &[t; 8]);
        let tt = Tensor::from_slice(&[t; 8]);
        let a = ac[t as usize];
        let (sa, s1a) = (a.sqrt(), (1.0 - a).sqrt());
        let mse = |ctx: &Tensor| {
            let pred = tch::no_grad(|| model.denoise(&xt, &tt, ctx, &arch));
            let x0_hat = match config.schedule.prediction {
                Prediction::Epsilon => (&xt - &pred * s1a) / sa,
                Prediction::V => &xt * sa - &pred * s1a,
            };
            (x0_hat.clamp(-1.0, 1.0) - x0)
                .square()
                .mean(Kind::Float)
                .double_value(&[])
        };
        println!("{t:8}  {:15.4}  {:21.4}", mse(&cond), mse(&uncond));
    }
}
