//! Adversarial few-step distillation (ADD/SF-V style) of a multi-step teacher into a student
//! that samples in `student_steps` DDIM steps.
//!
//! Each step draws teacher-pool entries and, per entry, one of the student's timesteps t_k.
//! The student sees the teacher result re-noised to t_k along the DDIM path of the entry's own
//! noise (x_{t_k} = √ᾱ_k·x₀ + √(1−ᾱ_k)·ε with ε the DDIM noise of the first step; at k = 0 that
//! is exactly the entry's initial noise), so its target is the teacher result at every t_k.
//! Generator loss: pseudo-Huber(x̂₀, teacher x₀) + λ·hinge-G of the discriminator on x̂₀
//! re-noised to a random timestep. Discriminator loss: hinge-D, real = data clips (or teacher
//! results) against the (detached) student x̂₀, each re-noised to its own random timestep.
//! Every random draw comes from (seed, step, stream), so a resumed run repeats the
//! uninterrupted one exactly.

use crate::checkpoint::{self, DistillState, StepLosses};
use crate::discriminator::{split_logits, Discriminator};
use crate::distill_config::{DistillConfig, RealSource, RecWeighting};
use crate::error::FewStepError;
use crate::losses::{default_huber_c, hinge_d, hinge_g, pseudo_huber_per_sample};
use crate::teacher::TeacherPool;
use rand::Rng;
use std::path::{Path, PathBuf};
use tch::Tensor;
use vidnas_data::{Dataset, Vocab};
use vidnas_diffusion::rng::{normal_tensor, step_rng, Stream};
use vidnas_diffusion::{
    ddim_step, ddim_timesteps, stack_clips, AdamW, AdamWConfig, Compute, NoiseSchedule, Prediction,
    VideoModel, TEXT_PREFIX,
};
use vidnas_space::Architecture;

/// The reconstruction weight of each sample at `timesteps`, normalised to mean 1 over the
/// student's timesteps `ts`, so --lr-g and --adv-weight mean the same whatever the weighting.
fn rec_weights(
    weighting: RecWeighting,
    alphas_cumprod: &[f64],
    ts: &[i64],
    timesteps: &[i64],
) -> Vec<f32> {
    let w = |t: i64| weighting.weight(alphas_cumprod[t as usize]);
    let mean = ts.iter().map(|&t| w(t)).sum::<f64>() / ts.len() as f64;
    timesteps.iter().map(|&t| (w(t) / mean) as f32).collect()
}

pub struct Distiller<'a> {
    pub student: VideoModel,
    /// The frozen teacher: the discriminator's encoder.
    pub teacher: VideoModel,
    pub disc: Discriminator,
    pub arch: Architecture,
    pub cfg: DistillConfig,
    pub schedule: NoiseSchedule,
    opt_g: AdamW,
    opt_d: AdamW,
    pool: &'a TeacherPool,
    real: &'a Dataset,
    vocab: &'a Vocab,
    dir: PathBuf,
    state: DistillState,
    /// Precision of the forward passes; `None`: f32.
    compute: Option<&'a Compute>,
}

/// Refuses a data-parallel launch: distillation runs on one process.
pub fn check_single_process(compute: &Compute) -> Result<(), FewStepError> {
    let ranks = compute.comm.world_size();
    if ranks > 1 {
        return Err(FewStepError::Config(format!(
            "distill runs on one process ({ranks} were launched); launch it without mpirun/srun \
             (--device cuda:N picks the GPU)"
        )));
    }
    if compute.precision == vidnas_diffusion::Precision::F64 {
        return Err(FewStepError::Config(
            "distill trains in f32 or bf16; --precision f64 is for the training stages' numerical checks".into(),
        ));
    }
    Ok(())
}

impl<'a> Distiller<'a> {
    /// Freezes the teacher and the student's text encoder; the student's UNet and the
    /// discriminator heads train. `dir` is the run folder (its `checkpoint/` is used).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        mut student: VideoModel,
        mut teacher: VideoModel,
        arch: Architecture,
        schedule: NoiseSchedule,
        cfg: DistillConfig,
        pool: &'a TeacherPool,
        real: &'a Dataset,
        vocab: &'a Vocab,
        dir: &Path,
    ) -> Result<Self, FewStepError> {
        cfg.validate(&schedule)?;
        if cfg.real == RealSource::Data && real.is_empty() {
            return Err(FewStepError::Config(
                "no training clips for the discriminator; use --real teacher".into(),
            ));
        }
        teacher.trainable(|_| false);
        let g_params = student.trainable(|n| !n.starts_with(TEXT_PREFIX));
        // The heads' initial weights come from torch's generator: seed it, so the run is the
        // same under the same --seed whatever ran before in this process.
        tch::manual_seed(cfg.seed as i64);
        let disc = Discriminator::new(&teacher, teacher.vs.device());
        let adam = |lr| AdamWConfig {
            lr,
            weight_decay: 0.0,
            ..Default::default()
        };
        let opt_g = AdamW::new(g_params, adam(cfg.lr_g));
        let opt_d = AdamW::new(disc.variables(), adam(cfg.lr_d));
        let state = DistillState {
            step: 0,
            arch: arch.encode(),
            losses: Vec::new(),
        };
        Ok(Self {
            student,
            teacher,
            disc,
            arch,
            cfg,
            schedule,
            opt_g,
            opt_d,
            pool,
            real,
            vocab,
            dir: dir.to_path_buf(),
            state,
            compute: None,
        })
    }

    /// Runs the student's and the discriminator's forward passes with `compute`'s precision
    /// (bf16 autocast on CUDA). The models stay where they were built: build them on
    /// `compute.device`. Refuses several ranks (distillation is not data-parallel).
    pub fn on(mut self, compute: &'a Compute) -> Result<Self, FewStepError> {
        check_single_process(compute)?;
        self.compute = Some(compute);
        Ok(self)
    }

    /// `f` under the compute's autocast, if any.
    fn autocast<T>(&self, f: impl FnOnce() -> T) -> T {
        match self.compute {
            Some(c) => c.autocast(f),
            None => f(),
        }
    }

    pub fn step(&self) -> usize {
        self.state.step
    }

    pub fn losses(&self) -> &[StepLosses] {
        &self.state.losses
    }

    /// Continues from the run folder's checkpoint if there is one; returns the step reached.
    pub fn resume(&mut self) -> Result<usize, FewStepError> {
        let Some((dir, state)) = checkpoint::read_state(&self.dir)? else {
            return Ok(0);
        };
        if state.arch != self.state.arch {
            return Err(FewStepError::file(
                dir.join("state.json"),
                format!(
                    "checkpoint distils {}, not {}; use another --out folder",
                    state.arch, self.state.arch
                ),
            ));
        }
        vidnas_diffusion::checkpoint::check_within_steps(&dir, state.step, self.cfg.steps)?;
        checkpoint::load(
            &dir,
            &self.student,
            &self.disc,
            &mut self.opt_g,
            &mut self.opt_d,
            state.step,
        )?;
        self.state = state;
        Ok(self.state.step)
    }

    pub fn save(&self) -> Result<(), FewStepError> {
        checkpoint::save(
            &self.dir,
            &self.student,
            &self.disc,
            &self.opt_g,
            &self.opt_d,
            &self.state,
        )
    }

    fn lr_scale(&self, step: usize) -> f64 {
        ((step + 1) as f64 / self.cfg.warmup_steps.max(1) as f64).min(1.0)
    }

    /// One value per sample as a `[B, 1, 1, 1, 1]` column on the student's device, to scale or
    /// select whole clips.
    fn per_sample<T: tch::kind::Element>(&self, values: &[T]) -> Tensor {
        Tensor::from_slice(values)
            .view([-1, 1, 1, 1, 1])
            .to_device(self.student.vs.device())
    }

    /// `[B, 1, 1, 1, 1]` column of `f(ᾱ_t)` for each timestep.
    fn column(&self, timesteps: &[i64], f: impl Fn(f64) -> f64) -> Tensor {
        let ac = self.schedule.alphas_cumprod();
        let v: Vec<f32> = timesteps
            .iter()
            .map(|&t| f(ac[t as usize]) as f32)
            .collect();
        self.per_sample(&v)
    }

    /// Where the student's own DDIM sampler (guidance 1, as it samples) is after `steps_done[i]`
    /// of the timesteps `ts`, starting from the noise `z` (no gradient).
    pub fn own_path(&self, z: &Tensor, steps_done: &[usize], ts: &[i64], ctx: &Tensor) -> Tensor {
        let device = z.device();
        let ac = self.schedule.alphas_cumprod();
        let pixels = self.student.space.file.video.vae_scale_factor == 1;
        let b = z.size()[0];
        tch::no_grad(|| {
            let mut x = z.shallow_clone();
            let deepest = steps_done.iter().copied().max().unwrap_or(0);
            for j in 0..deepest {
                let tt = Tensor::from_slice(&vec![ts[j]; b as usize]).to_device(device);
                let pred = self.autocast(|| self.student.denoise(&x, &tt, ctx, &self.arch));
                let next = ddim_step(
                    &self.schedule,
                    &ac,
                    &x,
                    &pred,
                    ts[j],
                    Some(ts[j + 1]),
                    pixels,
                );
                let moving: Vec<bool> = steps_done.iter().map(|&k| k > j).collect();
                x = next.where_self(&self.per_sample(&moving), &x);
            }
            x
        })
    }

    /// The student's clean-clip estimate from its output `pred` at `xt`, timesteps `t`.
    fn predicted_x0(&self, xt: &Tensor, pred: &Tensor, t: &[i64]) -> Tensor {
        let sa = self.column(t, f64::sqrt);
        let s1a = self.column(t, |a| (1.0 - a).sqrt());
        match self.schedule.prediction {
            Prediction::Epsilon => (xt - &s1a * pred) / &sa,
            Prediction::V => &sa * xt - &s1a * pred,
        }
    }

    fn non_finite(&self, what: &'static str, value: f64) -> Result<FewStepError, FewStepError> {
        Ok(FewStepError::NonFinite {
            step: self.state.step,
            what,
            value,
            last_good: checkpoint::read_state(&self.dir)?.map_or(0, |(_, s)| s.step),
            dir: checkpoint::checkpoint_dir(&self.dir),
        })
    }

    /// One generator and one discriminator update (step index = steps done so far). A
    /// non-finite loss stops before the update it would corrupt, with an error naming it.
    pub fn train_step(&mut self) -> Result<StepLosses, FewStepError> {
        let step = self.state.step as u64;
        let cfg = self.cfg.clone();
        let seed = cfg.seed;
        let b = cfg.batch_size;
        let device = self.student.vs.device();
        let pool = self.pool;

        // Draws: pool entries, student timesteps, and whose input is the student's own path.
        let mut r_pool = step_rng(seed, step, Stream::PoolEntry);
        let entries: Vec<i64> = (0..b)
            .map(|_| r_pool.gen_range(0..pool.train_entries) as i64)
            .collect();
        let ts = ddim_timesteps(self.schedule.train_timesteps, cfg.student_steps);
        let mut r_k = step_rng(seed, step, Stream::StudentTimestep);
        let k_student: Vec<usize> = (0..b).map(|_| r_k.gen_range(0..ts.len())).collect();
        let t_student: Vec<i64> = k_student.iter().map(|&k| ts[k]).collect();
        let mut r_in = step_rng(seed, step, Stream::StudentInput);
        let own_path: Vec<bool> = (0..b).map(|_| r_in.gen_bool(cfg.backward_share)).collect();

        let index = Tensor::from_slice(&entries);
        let x0_teacher = pool.x0.index_select(0, &index).to_device(device);
        let z = pool.noise.index_select(0, &index).to_device(device);
        let captions: Vec<&str> = entries
            .iter()
            .map(|&i| pool.captions[i as usize].as_str())
            .collect();
        let ctx = tch::no_grad(|| self.student.prompt_context(&captions, self.vocab))?;

        // Student input on the DDIM path of each entry's noise: x_T = z at the first timestep.
        let t_first = [ts[0]];
        let sa_first = self.column(&t_first, f64::sqrt);
        let s1a_first = self.column(&t_first, |a| (1.0 - a).sqrt());
        let eps = (&z - &sa_first * &x0_teacher) / &s1a_first;
        let teacher_path = self.column(&t_student, f64::sqrt) * &x0_teacher
            + self.column(&t_student, |a| (1.0 - a).sqrt()) * &eps;
        let steps_done: Vec<usize> = k_student
            .iter()
            .zip(&own_path)
            .map(|(&k, &own)| if own { k } else { 0 })
            .collect();
        let x_in = if steps_done.iter().any(|&k| k > 0) {
            let own = self.own_path(&z, &steps_done, &ts, &ctx);
            let moved: Vec<bool> = steps_done.iter().map(|&k| k > 0).collect();
            own.where_self(&self.per_sample(&moved), &teacher_path)
        } else {
            teacher_path
        };
        let huber_c = cfg
            .huber_c
            .unwrap_or_else(|| default_huber_c(x0_teacher.numel() as i64 / b as i64));

        // Generator loss.
        self.opt_g.zero_grad();
        let t_student_t = Tensor::from_slice(&t_student).to_device(device);
        let pred = self.autocast(|| self.student.denoise(&x_in, &t_student_t, &ctx, &self.arch));
        let x0_student = self.predicted_x0(&x_in, &pred, &t_student);
        let w = rec_weights(
            cfg.rec_weighting,
            &self.schedule.alphas_cumprod(),
            &ts,
            &t_student,
        );
        let w = self.per_sample(&w);
        let rec = (pseudo_huber_per_sample(&x0_student, &x0_teacher, huber_c) * w.flatten(0, -1))
            .mean(tch::Kind::Float);
        let rec_v = rec.double_value(&[]);
        if !rec_v.is_finite() {
            return Err(self.non_finite("the reconstruction loss", rec_v)?);
        }
        let scale = self.lr_scale(self.state.step);
        // Without the adversarial term the run is plain regression: no discriminator runs.
        let (adv_g, disc) = if cfg.adv_weight == 0.0 {
            self.update_student(&rec, scale);
            (0.0, 0.0)
        } else {
            self.adversarial_updates(&rec, &x0_student, &ctx, scale)?
        };
        let losses = StepLosses {
            rec: rec_v,
            adv_g,
            disc,
        };
        self.state.step += 1;
        self.state.losses.push(losses);
        Ok(losses)
    }

    /// Backpropagates the generator loss and updates the student.
    fn update_student(&mut self, loss: &Tensor, scale: f64) {
        loss.backward();
        self.opt_g.clip_grad_norm(self.cfg.grad_clip);
        self.opt_g.step(self.cfg.lr_g * scale);
    }

    /// The student update with the hinge term added to `rec`, then one discriminator update on
    /// real clips against the (detached) student x̂₀, each re-noised to its own random
    /// timestep. Returns the generator's and the discriminator's hinge losses.
    fn adversarial_updates(
        &mut self,
        rec: &Tensor,
        x0_student: &Tensor,
        ctx: &Tensor,
        scale: f64,
    ) -> Result<(f64, f64), FewStepError> {
        let step = self.state.step as u64;
        let cfg = self.cfg.clone();
        let (seed, b) = (cfg.seed, cfg.batch_size);
        let device = self.student.vs.device();
        let pool = self.pool;

        // Draws: discriminator timesteps and noise, real clips.
        let mut r_td = step_rng(seed, step, Stream::DiscTimestep);
        let t_disc: Vec<i64> = (0..2 * b)
            .map(|_| r_td.gen_range(0..cfg.disc_max_timestep as i64))
            .collect();
        let (t_fake, t_real) = t_disc.split_at(b);
        let shape = x0_student.size();
        let mut disc_shape = shape.clone();
        disc_shape[0] = 2 * b as i64;
        let disc_noise = normal_tensor(&mut step_rng(seed, step, Stream::DiscNoise), &disc_shape)
            .to_device(device);
        let (x0_real, real_captions): (Tensor, Vec<String>) = match cfg.real {
            RealSource::Data => {
                let mut r = step_rng(seed, step, Stream::Clips);
                let clips: Vec<_> = (0..b)
                    .map(|_| self.real.get(r.gen_range(0..self.real.len())))
                    .collect();
                let batch = stack_clips(&clips, &self.student, self.vocab)?;
                (batch.x0, clips.into_iter().map(|c| c.caption).collect())
            }
            RealSource::Teacher => {
                let mut r = step_rng(seed, step, Stream::Clips);
                let idx: Vec<i64> = (0..b)
                    .map(|_| r.gen_range(0..pool.train_entries) as i64)
                    .collect();
                let x = pool
                    .x0
                    .index_select(0, &Tensor::from_slice(&idx))
                    .to_device(device);
                (
                    x,
                    idx.iter()
                        .map(|&i| pool.captions[i as usize].clone())
                        .collect(),
                )
            }
        };
        let real_refs: Vec<&str> = real_captions.iter().map(String::as_str).collect();
        let ctx_real = tch::no_grad(|| self.student.prompt_context(&real_refs, self.vocab))?;

        // Student update.
        let noise_fake = disc_noise.narrow(0, 0, b as i64);
        let noise_real = disc_noise.narrow(0, b as i64, b as i64);
        let (x_fake, _) = self
            .schedule
            .noisy_and_target(x0_student, &noise_fake, t_fake);
        let t_fake_t = Tensor::from_slice(t_fake).to_device(device);
        let fake_logits = self.autocast(|| {
            self.disc
                .logits(&self.teacher, &self.arch, &x_fake, &t_fake_t, ctx)
        });
        let adv_g = hinge_g(&fake_logits);
        let adv_v = adv_g.double_value(&[]);
        if !adv_v.is_finite() {
            return Err(self.non_finite("the generator's adversarial loss", adv_v)?);
        }
        self.update_student(&(rec + adv_g * cfg.adv_weight), scale);

        // Discriminator update on real and (detached) fake, each re-noised.
        self.opt_d.zero_grad();
        let (x_real, _) = self
            .schedule
            .noisy_and_target(&x0_real, &noise_real, t_real);
        let x_both = Tensor::cat(&[x_fake.detach(), x_real], 0);
        let t_both = Tensor::from_slice(&t_disc).to_device(device);
        let ctx_both = Tensor::cat(&[ctx, &ctx_real], 0);
        let logits = self.autocast(|| {
            self.disc
                .logits(&self.teacher, &self.arch, &x_both, &t_both, &ctx_both)
        });
        let (fake, real) = split_logits(&logits, b as i64, shape[2]);
        let d_loss = hinge_d(&real, &fake);
        let d_v = d_loss.double_value(&[]);
        if !d_v.is_finite() {
            return Err(self.non_finite("the discriminator loss", d_v)?);
        }
        d_loss.backward();
        self.opt_d.clip_grad_norm(cfg.grad_clip);
        self.opt_d.step(cfg.lr_d * scale);
        Ok((adv_v, d_v))
    }

    /// Trains until `cfg.steps`, checkpointing every `checkpoint_every` steps and at the end.
    pub fn run(&mut self, show_progress: bool) -> Result<(), FewStepError> {
        let bar = vidnas_io::progress_bar(
            show_progress,
            self.cfg.steps as u64,
            "distill [{bar:30}] {pos}/{len} steps {per_sec} eta {eta} {msg}",
        );
        bar.set_position(self.state.step as u64);
        while self.state.step < self.cfg.steps {
            let l = self.train_step()?;
            let n = self.state.losses.len();
            let recent = &self.state.losses[n.saturating_sub(20)..];
            let avg =
                |f: fn(&StepLosses) -> f64| recent.iter().map(f).sum::<f64>() / recent.len() as f64;
            bar.set_message(format!(
                "rec {:.4} (avg20 {:.4})  adv-G {:.3}  D {:.3} (avg20 {:.3})",
                l.rec,
                avg(|s| s.rec),
                l.adv_g,
                l.disc,
                avg(|s| s.disc)
            ));
            bar.inc(1);
            if vidnas_diffusion::checkpoint::is_due(
                self.state.step,
                self.cfg.checkpoint_every,
                self.cfg.steps,
            ) {
                self.save()?;
            }
        }
        bar.finish();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rec_weights_follow_alpha_bar_with_mean_one_over_the_student_steps() {
        let schedule = NoiseSchedule::default();
        let ac = schedule.alphas_cumprod();
        let ts = ddim_timesteps(schedule.train_timesteps, 4);
        let w = rec_weights(RecWeighting::AlphaBar, &ac, &ts, &ts);
        let mean = w.iter().sum::<f32>() / w.len() as f32;
        assert!((mean - 1.0).abs() < 1e-6, "{w:?}");
        // Proportional to ᾱ_t: the noisiest step (t = 999) weighs ~150x less than t = 249.
        let ratio = (w[3] / w[0]) as f64;
        let expected = ac[ts[3] as usize] / ac[ts[0] as usize];
        assert!(
            (ratio / expected - 1.0).abs() < 1e-4,
            "{ratio} vs {expected}"
        );
        assert!(ratio > 100.0, "{ratio}");
        let uniform = rec_weights(RecWeighting::Uniform, &ac, &ts, &ts[..2]);
        assert_eq!(uniform, vec![1.0, 1.0]);
    }
}
