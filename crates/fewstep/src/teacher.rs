//! Teacher targets: a pool of (prompt, noise seed, teacher result) computed once with the
//! multi-step DDIM sampler and stored in the run folder, so distillation steps never run the
//! teacher's 25 steps. Entry `i` is what `vidnas sample --steps S --guidance G --seed s_i`
//! gives with the teacher for its prompt (up to float rounding: entries are sampled in batches). The file is a latent-clips safetensors file
//! (`latents [N, C, T, H, W]` + captions), rewritten atomically every few entries, so an
//! interrupted build resumes where it stopped.

use crate::error::FewStepError;
use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};
use std::path::Path;
use tch::Tensor;
use vidnas_data::{load_latent_clips, write_latent_clips, Clip, Dataset, Vocab};
use vidnas_diffusion::rng::{step_rng, Stream};
use vidnas_diffusion::{clips_tensor, initial_noise, sample_batch, NoiseSchedule, VideoModel};
use vidnas_space::Architecture;

/// Pool entries sampled in one batch.
const POOL_BATCH: usize = 16;

/// How the pool is made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolConfig {
    /// Entries the student trains on.
    pub train_entries: usize,
    /// Further entries held out for the few-step evaluation at the end.
    pub eval_entries: usize,
    /// Teacher DDIM steps per entry.
    pub teacher_steps: usize,
    /// Classifier-free guidance of the teacher (the student learns the guided result).
    pub guidance: f64,
    /// Seed of the prompts and noise seeds.
    pub seed: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            train_entries: 24,
            eval_entries: 4,
            teacher_steps: 25,
            guidance: 3.0,
            seed: 0,
        }
    }
}

/// The teacher results and the noise each started from.
pub struct TeacherPool {
    pub captions: Vec<String>,
    /// Sampler seed of every entry (its initial noise is drawn from it).
    pub seeds: Vec<u64>,
    /// Teacher results `[N, C, T, H, W]`.
    pub x0: Tensor,
    /// Initial noise of every entry `[N, C, T, H, W]`, as the sampler drew it.
    pub noise: Tensor,
    /// Entries `0..train_entries` train; the rest are held out.
    pub train_entries: usize,
}

impl PoolConfig {
    pub fn size(&self) -> usize {
        self.train_entries + self.eval_entries
    }

    /// Checks the pool settings before anything is written; messages name the flag.
    pub fn validate(&self) -> Result<(), FewStepError> {
        if self.train_entries == 0 {
            return Err(FewStepError::Config(
                "the teacher pool needs at least one training entry; raise --pool-size".into(),
            ));
        }
        if self.teacher_steps == 0 {
            return Err(FewStepError::Config(
                "--teacher-steps is 0; use at least 1 (25 is typical)".into(),
            ));
        }
        if !(self.guidance.is_finite() && self.guidance >= 0.0) {
            return Err(FewStepError::Config(format!(
                "--teacher-guidance is {}; use 1 (no guidance) or more, e.g. 3",
                self.guidance
            )));
        }
        Ok(())
    }
}

impl TeacherPool {
    pub fn len(&self) -> usize {
        self.captions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.captions.is_empty()
    }

    /// Builds (or finishes) the pool at `path` with `teacher`, prompts drawn from `data`'s
    /// captions.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        teacher: &VideoModel,
        arch: &Architecture,
        vocab: &Vocab,
        schedule: &NoiseSchedule,
        data: &Dataset,
        cfg: &PoolConfig,
        path: &Path,
        progress: bool,
    ) -> Result<Self, FewStepError> {
        cfg.validate()?;
        let plan = plan(cfg, data);
        let mut clips: Vec<Clip> = if path.exists() {
            load_latent_clips(path)?
        } else {
            Vec::new()
        };
        if clips.len() > plan.len()
            || clips
                .iter()
                .zip(&plan)
                .any(|(c, (caption, _))| &c.caption != caption)
        {
            return Err(FewStepError::file(
                path,
                "this pool was built with other pool or data settings; delete it (or use another --out) to rebuild it",
            ));
        }
        let bar = vidnas_io::progress_bar(
            progress && clips.len() < plan.len(),
            plan.len() as u64,
            "teacher pool [{bar:30}] {pos}/{len} clips ({msg}) eta {eta}",
        );
        bar.set_message(format!(
            "{} steps, guidance {}",
            cfg.teacher_steps, cfg.guidance
        ));
        bar.set_position(clips.len() as u64);
        // Entries are sampled POOL_BATCH at a time (several times faster on a CPU than one by
        // one) and the file is rewritten after each batch.
        for chunk in plan[clips.len()..].chunks(POOL_BATCH) {
            let prompts: Vec<&str> = chunk.iter().map(|(c, _)| c.as_str()).collect();
            let seeds: Vec<u64> = chunk.iter().map(|(_, s)| *s).collect();
            clips.extend(sample_batch(
                teacher,
                arch,
                vocab,
                schedule,
                &prompts,
                &seeds,
                cfg.teacher_steps,
                cfg.guidance,
            )?);
            write_latent_clips(path, &clips)?;
            bar.inc(chunk.len() as u64);
        }
        bar.finish_and_clear();
        Ok(Self::from_clips(&clips, &plan, cfg.train_entries, schedule))
    }

    fn from_clips(
        clips: &[Clip],
        plan: &[(String, u64)],
        train_entries: usize,
        schedule: &NoiseSchedule,
    ) -> Self {
        let shape = clips[0].shape();
        let noise: Vec<Tensor> = plan
            .iter()
            .map(|(_, seed)| initial_noise(schedule, *seed, &shape.map(|d| d as i64)))
            .collect();
        Self {
            captions: plan.iter().map(|(c, _)| c.clone()).collect(),
            seeds: plan.iter().map(|(_, s)| *s).collect(),
            x0: clips_tensor(clips, shape),
            noise: Tensor::stack(&noise, 0),
            train_entries,
        }
    }
}

/// (caption, sampler seed) of every entry: a caption of a random training clip and a fresh
/// seed, both from (pool seed, entry index).
fn plan(cfg: &PoolConfig, data: &Dataset) -> Vec<(String, u64)> {
    (0..cfg.size())
        .map(|i| {
            let mut rng = step_rng(cfg.seed, i as u64, Stream::TeacherPool);
            let clip = rng.gen_range(0..data.len());
            (data.get(clip).caption, rng.next_u64())
        })
        .collect()
}
