//! Pins the training and sampling math to PyTorch numbers: AdamW against `torch.optim.AdamW`,
//! `ddim_step` against diffusers' `DDIMScheduler.step` (η = 0), and the noise schedule
//! (`alphas_cumprod`, `noisy_and_target`) against diffusers' scaled-linear schedule,
//! `add_noise` and `get_velocity`.
//!
//! The fixtures under tests/fixtures/pinned/ were written by
//!
//!     ~/.cache/vidnas/venv-torch-2.13.0/bin/python scripts/pin_math.py
//!
//! which writes the diffusers formulas in plain torch (no diffusers install needed). Fixtures are
//! read with `vidnas_nn::pinned`, as the temporal ops' pins in crates/nn/tests/pinned_ops.rs are.
//!
//! Tolerances are per element, |rust − torch| ≤ tol · max(1, |torch|) (absolute up to 1,
//! relative above) unless a test says otherwise; the measured errors are in the comments.

use serde_json::Value;
use tch::{Kind, Tensor};
use vidnas_diffusion::{ddim_step, AdamW, AdamWConfig, NoiseSchedule, Prediction};
use vidnas_nn::pinned::{self, floats, tensor};

fn fixture(name: &str) -> Value {
    pinned::fixture(env!("CARGO_MANIFEST_DIR"), name)
}

fn float(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

/// Largest |actual − expected| / max(1, |expected|).
fn error(actual: &Tensor, expected: &Tensor) -> f64 {
    pinned::errors(actual, expected).0
}

fn prediction(name: &str) -> Prediction {
    name.parse().expect("epsilon or v")
}

// ---------------------------------------------------------------------------------------------
// AdamW

/// Runs the fixture's 3 steps with parameters in `kind`; returns the largest error over the
/// parameters after every step and the moments after the last.
fn adamw_error(run: &str, kind: Kind) -> f64 {
    let fx = fixture("adamw.json");
    let c = &fx["config"];
    let lrs = floats(&fx["lrs"]);
    let config = AdamWConfig {
        lr: lrs[0],
        beta1: float(&c["beta1"]),
        beta2: float(&c["beta2"]),
        eps: float(&c["eps"]),
        weight_decay: float(&c["weight_decay"]),
    };
    let params: Vec<(String, Tensor)> = fx["init"]
        .as_object()
        .expect("init")
        .iter()
        .map(|(name, v)| {
            (
                name.clone(),
                tensor(v).to_kind(kind).set_requires_grad(true),
            )
        })
        .collect();
    let handles: Vec<(String, Tensor)> = params
        .iter()
        .map(|(name, p)| (name.clone(), p.shallow_clone()))
        .collect();
    let mut opt = AdamW::new(params, config);
    let expected = &fx["runs"][run];
    let mut worst = 0f64;
    for (step, &lr) in lrs.iter().enumerate() {
        opt.zero_grad();
        for (name, p) in &handles {
            // d/dp sum(p · g) = g: the fixture's gradient, exactly.
            let g = tensor(&fx["grads"][step][name]).to_kind(kind);
            (p * g).sum(kind).backward();
        }
        opt.step(lr);
        for (name, p) in &handles {
            let e = error(p, &tensor(&expected["expected"][step][name]));
            worst = worst.max(e);
        }
    }
    let state = expected["state_after_last_step"]
        .as_object()
        .expect("state");
    let moments = opt.state_tensors();
    assert_eq!(moments.len(), state.len(), "two moments per parameter");
    for (name, m) in &moments {
        worst = worst.max(error(m, &tensor(&state[name])));
    }
    eprintln!("adamw {run}: max error {worst:.2e}");
    worst
}

// The reference (scripts/pin_math.py), β = (0.8, 0.9), eps = 1e-2 (large, so where it is added
// shows), weight decay 0.1, a different lr each step (the Rust step takes the scheduled lr),
// gradients from 1e-3 to 1 and one all-zero gradient (weights and moments still decay):
//     opt = torch.optim.AdamW([a, b], lr=LRS[0], betas=(0.8, 0.9), eps=1e-2,
//                             weight_decay=0.1, foreach=False)
//     for step in range(3):
//         opt.param_groups[0]['lr'] = LRS[step]
//         a.grad, b.grad = GRADS[step]
//         opt.step()  # expected[step] = (a, b)
//     # moments: opt.state[p]['exp_avg'], opt.state[p]['exp_avg_sq'] after step 3
// Tolerance 1e-6 (f32 parameters; measured 1.5e-8: f32 rounding).
#[test]
fn adamw_matches_torch_f32() {
    tch::set_num_threads(1);
    let e = adamw_error("float32", Kind::Float);
    assert!(e <= 1e-6, "{e:e}");
}

// The same in f64. Tolerance 1e-6, not tighter: AdamW keeps its moments in f32 whatever the
// parameters' kind (torch keeps them in the parameters' kind), so f64 parameters get f32-rounded
// updates (measured 2.1e-8, where f64 moments would give ~1e-16).
#[test]
fn adamw_matches_torch_f64() {
    tch::set_num_threads(1);
    let e = adamw_error("float64", Kind::Double);
    assert!(e <= 1e-6, "{e:e}");
}

// ---------------------------------------------------------------------------------------------
// DDIM

// diffusers' DDIMScheduler.step (η = 0, set_alpha_to_one=True, use_clipped_model_output=False),
// written out in scripts/pin_math.py, in f64, with the f64 scaled-linear ᾱ:
//     a = alphas_cumprod[t]; a_prev = alphas_cumprod[t_prev] if t_prev >= 0 else 1.0
//     epsilon: x0 = (x - (1 - a)**0.5 * pred) / a**0.5; eps = pred
//     v:       x0 = a**0.5 * x - (1 - a)**0.5 * pred; eps = a**0.5 * pred + (1 - a)**0.5 * x
//     if clamp_x0: x0 = x0.clamp(-1, 1)  # clip_sample; eps is not re-derived
//     expected = a_prev**0.5 * x0 + (1 - a_prev)**0.5 * eps
// at (t, t_prev) = (999, 749) and (249, −1 → `None`, the clean clip), both predictions, with
// and without the clamp; ᾱ is the Rust schedule's (pinned below). Tolerance 1e-12 in f64
// (measured 8.9e-16).
#[test]
fn ddim_step_matches_diffusers() {
    tch::set_num_threads(1);
    let fx = fixture("ddim_step.json");
    let s = &fx["schedule"];
    let x = tensor(&fx["x"]);
    let pred = tensor(&fx["pred"]);
    let mut worst = 0f64;
    let cases = fx["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 8);
    for case in cases {
        let schedule = NoiseSchedule {
            train_timesteps: s["train_timesteps"].as_u64().expect("steps") as usize,
            beta_start: float(&s["beta_start"]),
            beta_end: float(&s["beta_end"]),
            prediction: prediction(case["prediction"].as_str().expect("prediction")),
            ..NoiseSchedule::default()
        };
        let t = case["t"].as_i64().expect("t");
        let t_next = case["t_next"].as_i64();
        let clamp = case["clamp_x0"].as_bool().expect("clamp_x0");
        let ac = schedule.alphas_cumprod();
        let out = ddim_step(&schedule, &ac, &x, &pred, t, t_next, clamp);
        assert_eq!(out.kind(), Kind::Double);
        let e = error(&out, &tensor(&case["expected"]));
        assert!(e <= 1e-12, "{case:?}: {e:e}");
        worst = worst.max(e);
    }
    eprintln!("ddim_step: max error {worst:.2e}");
}

// ---------------------------------------------------------------------------------------------
// Noise schedule

// diffusers' scaled_linear schedule (DDPMScheduler/DDIMScheduler.__init__):
//     betas = torch.linspace(beta_start**0.5, beta_end**0.5, n, dtype=dtype) ** 2
//     alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
// for the default schedule (1000 steps, 0.00085 → 0.012; at 11 indices), a 10-step and a 1-step
// one. Relative tolerance 1e-12 against dtype=float64 (measured 1.1e-15), and 1e-5 against
// diffusers' own float32 numbers (measured 8.0e-7: diffusers' cumprod accumulates f32 rounding,
// the Rust schedule is f64).
#[test]
fn alphas_cumprod_match_diffusers() {
    tch::set_num_threads(1);
    let fx = fixture("schedule.json");
    let mut worst = (0f64, 0f64);
    for s in fx["alphas_cumprod"].as_array().expect("schedules") {
        let schedule = NoiseSchedule {
            train_timesteps: s["train_timesteps"].as_u64().expect("steps") as usize,
            beta_start: float(&s["beta_start"]),
            beta_end: float(&s["beta_end"]),
            prediction: Prediction::Epsilon,
            ..NoiseSchedule::default()
        };
        let ac = schedule.alphas_cumprod();
        assert_eq!(ac.len(), schedule.train_timesteps);
        let f64s = floats(&s["alphas_cumprod_f64"]);
        let f32s = floats(&s["alphas_cumprod_diffusers_f32"]);
        for (k, index) in s["indices"].as_array().expect("indices").iter().enumerate() {
            let a = ac[index.as_u64().expect("index") as usize];
            let rel64 = ((a - f64s[k]) / f64s[k]).abs();
            let rel32 = ((a - f32s[k]) / f32s[k]).abs();
            assert!(rel64 <= 1e-12, "ᾱ[{index}]: {a} vs {}", f64s[k]);
            assert!(rel32 <= 1e-5, "ᾱ[{index}]: {a} vs diffusers {}", f32s[k]);
            worst = (worst.0.max(rel64), worst.1.max(rel32));
        }
    }
    let default = NoiseSchedule::default();
    assert_eq!(
        (
            default.train_timesteps,
            default.beta_start,
            default.beta_end
        ),
        (1000, 0.00085, 0.012),
        "the default is Stable Diffusion's schedule"
    );
    eprintln!(
        "alphas_cumprod: max relative error {:.2e} (f64), {:.2e} (diffusers f32)",
        worst.0, worst.1
    );
}

// The zero-terminal-SNR schedule (Lin et al. 2024) against diffusers' own rescaling:
//     betas = rescale_zero_terminal_snr(scaled_linear betas, f64)   # scheduling_ddim.py
//     alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
// at 12 indices of the default schedule; the last is exactly 0. Tolerance 1e-12 relative
// (absolute where ᾱ = 0) against f64, 1e-6 absolute against diffusers' f32 DDIMScheduler
// (`rescale_betas_zero_snr=True`; measured 5.1e-7 there); then one DDIM v-step from the
// pure-noise timestep 999 to 899, as ddim_step.json but on this schedule (1e-12).
#[test]
fn zero_terminal_snr_matches_diffusers() {
    tch::set_num_threads(1);
    let fx = fixture("schedule_zero_snr.json");
    let schedule = NoiseSchedule {
        train_timesteps: fx["train_timesteps"].as_u64().expect("steps") as usize,
        beta_start: float(&fx["beta_start"]),
        beta_end: float(&fx["beta_end"]),
        prediction: Prediction::V,
        zero_terminal_snr: true,
        ..NoiseSchedule::default()
    };
    schedule.validate().expect("a valid schedule");
    let ac = schedule.alphas_cumprod();
    assert_eq!(ac[ac.len() - 1], 0.0, "the noisiest timestep is pure noise");
    let (f64s, f32s) = (
        floats(&fx["alphas_cumprod_f64"]),
        floats(&fx["alphas_cumprod_diffusers_f32"]),
    );
    let mut worst = (0f64, 0f64);
    for (k, index) in fx["indices"]
        .as_array()
        .expect("indices")
        .iter()
        .enumerate()
    {
        let a = ac[index.as_u64().expect("index") as usize];
        let err64 = (a - f64s[k]).abs() / f64s[k].max(f64::MIN_POSITIVE);
        let err32 = (a - f32s[k]).abs();
        assert!(
            err64 <= 1e-12 || a == f64s[k],
            "ᾱ[{index}]: {a} vs {}",
            f64s[k]
        );
        assert!(err32 <= 1e-6, "ᾱ[{index}]: {a} vs diffusers {}", f32s[k]);
        worst = (
            worst.0.max(if a == f64s[k] { 0.0 } else { err64 }),
            worst.1.max(err32),
        );
    }
    let step = &fx["ddim_step"];
    let t_next = step["t_next"].as_i64();
    let (x, pred) = (tensor(&step["x"]), tensor(&step["pred"]));
    let t = step["t"].as_i64().expect("t");
    let out = ddim_step(&schedule, &ac, &x, &pred, t, t_next, false);
    let e = error(&out, &tensor(&step["expected"]));
    assert!(e <= 1e-12, "ddim step from pure noise: {e:e}");
    // ε-prediction cannot use it: the message says why.
    let eps = NoiseSchedule {
        prediction: Prediction::Epsilon,
        ..schedule.clone()
    };
    assert!(eps
        .validate()
        .unwrap_err()
        .contains("needs schedule.prediction"));
    eprintln!(
        "zero-SNR alphas_cumprod: max relative error {:.2e} (f64), absolute {:.2e} (diffusers f32); step {e:.2e}",
        worst.0, worst.1
    );
}

// x0 and noise [3, 2, 2, 2] in f32 at timesteps [0, 500, 999] of the default schedule:
//     a = alphas_cumprod_f64[timesteps].view(-1, 1, 1, 1)
//     expected_xt = a**0.5 * x0 + (1 - a)**0.5 * noise               # add_noise
//     expected_target = noise                                         # epsilon
//     expected_target = a**0.5 * noise - (1 - a)**0.5 * x0            # v: get_velocity
// computed in f64; the Rust output is f32. Tolerance 1e-6 (measured 9.7e-8: f32 rounding).
#[test]
fn noisy_and_target_match_diffusers() {
    tch::set_num_threads(1);
    let fx = fixture("schedule.json");
    let n = &fx["noisy_and_target"];
    let x0 = tensor(&n["x0"]).to_kind(Kind::Float);
    let noise = tensor(&n["noise"]).to_kind(Kind::Float);
    let timesteps: Vec<i64> = n["timesteps"]
        .as_array()
        .expect("timesteps")
        .iter()
        .map(|t| t.as_i64().expect("timestep"))
        .collect();
    let mut worst = 0f64;
    for name in ["epsilon", "v"] {
        let schedule = NoiseSchedule {
            prediction: prediction(name),
            ..NoiseSchedule::default()
        };
        let (xt, target) = schedule.noisy_and_target(&x0, &noise, &timesteps);
        assert_eq!((xt.kind(), target.kind()), (Kind::Float, Kind::Float));
        let e_xt = error(&xt, &tensor(&n["expected_xt"]));
        let e_target = error(&target, &tensor(&n["expected_target"][name]));
        assert!(e_xt <= 1e-6, "{name} x_t: {e_xt:e}");
        assert!(e_target <= 1e-6, "{name} target: {e_target:e}");
        worst = worst.max(e_xt).max(e_target);
        // In f64 (`--precision f64`) the outputs keep the input's dtype (the inputs here were
        // rounded to f32 above, so the error stays at that rounding).
        let (xt, target) = schedule.noisy_and_target(
            &x0.to_kind(Kind::Double),
            &noise.to_kind(Kind::Double),
            &timesteps,
        );
        assert_eq!((xt.kind(), target.kind()), (Kind::Double, Kind::Double));
        let e64 = error(&xt, &tensor(&n["expected_xt"]));
        assert!(e64 <= 1e-6, "{name} x_t in f64: {e64:e}");
    }
    eprintln!("noisy_and_target: max error {worst:.2e}");
}
