//! What few-step distillation bought: on held-out pool entries (prompt + noise seed), the
//! distance of the student's few-step sample to the teacher's multi-step result, next to the
//! teacher's own few-step sample from the same noise, plus sampling times.

use crate::error::FewStepError;
use crate::teacher::TeacherPool;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use tch::{Kind, Tensor};
use vidnas_data::{write_grid_png, Clip, Vocab};
use vidnas_diffusion::{sample, NoiseSchedule, SampleConfig, VideoModel};
use vidnas_space::Architecture;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryEval {
    pub caption: String,
    pub seed: u64,
    pub mse_student: f64,
    pub mse_teacher_fewstep: f64,
}

/// Mean squared errors (pixel or latent values) to the teacher's multi-step result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FewStepEval {
    pub student_steps: usize,
    pub teacher_steps: usize,
    pub teacher_guidance: f64,
    /// The student samples without guidance (the teacher's guidance is distilled into it).
    pub student_guidance: f64,
    /// Student, `student_steps` steps.
    pub mse_student: f64,
    /// Teacher, `student_steps` steps, with its guidance: the baseline distillation must beat.
    pub mse_teacher_fewstep: f64,
    /// Seconds per clip on this machine (minimum over the entries).
    pub seconds_student: f64,
    pub seconds_teacher_fewstep: f64,
    pub entries: Vec<EntryEval>,
}

fn mse(a: &Clip, b: &Tensor) -> f64 {
    (Tensor::from_slice(&a.pixels) - b.flatten(0, -1))
        .square()
        .mean(Kind::Double)
        .double_value(&[])
}

/// Evaluates on the pool's held-out entries; with `grid`, writes a PNG whose rows are, per
/// entry, the teacher's multi-step result, the teacher's few-step sample and the student's.
#[allow(clippy::too_many_arguments)]
pub fn evaluate(
    teacher: &VideoModel,
    student: &VideoModel,
    arch: &Architecture,
    vocab: &Vocab,
    schedule: &NoiseSchedule,
    pool: &TeacherPool,
    student_steps: usize,
    teacher_steps: usize,
    teacher_guidance: f64,
    grid: Option<&Path>,
) -> Result<FewStepEval, FewStepError> {
    let held_out = pool.train_entries..pool.len();
    if held_out.is_empty() {
        return Err(FewStepError::Config(
            "no held-out pool entries to evaluate on; set --eval-entries to at least 1".into(),
        ));
    }
    let mut entries = Vec::new();
    let mut rows = Vec::new();
    let (mut best_s, mut best_t) = (f64::INFINITY, f64::INFINITY);
    for i in held_out {
        let caption = &pool.captions[i];
        let seed = pool.seeds[i];
        let target = pool.x0.get(i as i64);
        let t0 = Instant::now();
        let fast_teacher = sample(
            teacher,
            arch,
            vocab,
            schedule,
            caption,
            &SampleConfig {
                steps: student_steps,
                guidance: teacher_guidance,
                seed,
            },
        )?;
        best_t = best_t.min(t0.elapsed().as_secs_f64());
        let t0 = Instant::now();
        let fast_student = sample(
            student,
            arch,
            vocab,
            schedule,
            caption,
            &SampleConfig {
                steps: student_steps,
                guidance: 1.0,
                seed,
            },
        )?;
        best_s = best_s.min(t0.elapsed().as_secs_f64());
        entries.push(EntryEval {
            caption: caption.clone(),
            seed,
            mse_student: mse(&fast_student, &target),
            mse_teacher_fewstep: mse(&fast_teacher, &target),
        });
        let pixels = Vec::<f32>::try_from(target.flatten(0, -1))?;
        let reference = Clip::new(
            fast_student.frames,
            fast_student.channels,
            fast_student.height,
            fast_student.width,
            pixels,
            caption.clone(),
            None,
        )?;
        rows.extend([reference, fast_teacher, fast_student]);
    }
    if let Some(path) = grid.filter(|_| rows[0].channels == 3) {
        write_grid_png(path, &rows, 4)?;
    }
    let n = entries.len() as f64;
    Ok(FewStepEval {
        student_steps,
        teacher_steps,
        teacher_guidance,
        student_guidance: 1.0,
        mse_student: entries.iter().map(|e| e.mse_student).sum::<f64>() / n,
        mse_teacher_fewstep: entries.iter().map(|e| e.mse_teacher_fewstep).sum::<f64>() / n,
        seconds_student: best_s,
        seconds_teacher_fewstep: best_t,
        entries,
    })
}
