//! `vidnas distill`: the few-step stage over a run folder. From an exported config and the
//! teacher's weights it builds the teacher pool (`teacher-pool.safetensors`), distils the
//! student (`checkpoint/`, then `model.safetensors` with the exported keys), and evaluates it
//! on held-out entries (`eval.json`, `eval.png`). `distill.json` records the settings; a
//! resumed run must use the same ones (only the step count may grow).

use crate::distill::Distiller;
use crate::distill_config::DistillConfig;
use crate::error::FewStepError;
use crate::eval::{evaluate, FewStepEval};
use crate::run::{check_run, write_run_info};
use crate::teacher::{PoolConfig, TeacherPool};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use vidnas_diffusion::run_folder::clean_failed_start;
use vidnas_diffusion::{datasets, Compute, ComputeRecord, DataConfig};
use vidnas_export::{load_exported_on, weights_path, ArchConfig};
use vidnas_io::{sha256_16, write_json};

pub const DISTILL_FORMAT: &str = "vidnas-distill/1";

/// `distill.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistillInfo {
    pub format: String,
    pub config: PathBuf,
    pub config_sha256: String,
    /// The teacher's weights (the student starts from them too).
    pub teacher: PathBuf,
    pub teacher_sha256: String,
    pub arch: String,
    pub data: DataConfig,
    pub pool: PoolConfig,
    pub distill: DistillConfig,
    /// Where the last invocation ran (device, threads, precision); never compared on resume,
    /// so a run continues on another device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compute: Option<ComputeRecord>,
}

pub struct DistillRequest<'a> {
    pub config: &'a Path,
    /// The teacher's weights; `None`: the config's.
    pub teacher: Option<&'a Path>,
    pub out: &'a Path,
    pub data: DataConfig,
    pub pool: PoolConfig,
    pub distill: DistillConfig,
    pub resume: bool,
    pub progress: bool,
    /// Device and precision (bf16 autocast of the student's and the discriminator's forward
    /// passes); `None`: the CPU in f32. One process only.
    pub compute: Option<&'a Compute>,
}

/// Runs the few-step stage; returns its info and the evaluation written to `eval.json`.
pub fn distill(req: DistillRequest) -> Result<(DistillInfo, FewStepEval), FewStepError> {
    if let Some(compute) = req.compute {
        crate::distill::check_single_process(compute)?;
    }
    // Layers the weights file does not cover start from libtorch's generator.
    vidnas_diffusion::seed_libtorch(req.distill.seed);
    let device = req.compute.map_or(tch::Device::Cpu, |c| c.device);
    let (config, space, arch, teacher) = load_exported_on(req.config, req.teacher, device)?;
    let (_, _, _, student) = load_exported_on(req.config, req.teacher, device)?;
    let teacher_path = weights_path(req.config, &config, req.teacher);
    let info = DistillInfo {
        format: DISTILL_FORMAT.into(),
        config: req.config.to_path_buf(),
        config_sha256: sha256_16(req.config)?,
        teacher_sha256: sha256_16(&teacher_path)?,
        teacher: teacher_path,
        arch: arch.encode(),
        data: req.data.clone(),
        pool: req.pool.clone(),
        distill: req.distill.clone(),
        compute: req.compute.map(Compute::record),
    };
    req.distill.validate(&config.schedule)?;
    req.pool.validate()?;
    check_run(
        req.out,
        "distill.json",
        &info,
        req.resume,
        &["distill.steps", "distill.checkpoint_every", "compute"],
    )?;
    let (train_data, _) = datasets(&space, &req.data)?;
    let pool = clean_failed_start(req.out, &["distill.json"], || {
        write_run_info(req.out, "distill.json", &info)?;
        let pool = TeacherPool::build(
            &teacher,
            &arch,
            &config.vocab,
            &config.schedule,
            &train_data,
            &req.pool,
            &req.out.join("teacher-pool.safetensors"),
            req.progress,
        )?;
        Ok::<_, FewStepError>(pool)
    })?;
    let mut distiller = Distiller::new(
        student,
        teacher,
        arch.clone(),
        config.schedule.clone(),
        req.distill.clone(),
        &pool,
        &train_data,
        &config.vocab,
        req.out,
    )?;
    if let Some(compute) = req.compute {
        distiller = distiller.on(compute)?;
    }
    if req.resume {
        distiller.resume()?;
    }
    distiller.run(req.progress)?;
    distiller
        .student
        .save_all(&req.out.join("model.safetensors"))?;
    // The student is sampled with the teacher's schedule: a complete model like the teacher's.
    let student_config = ArchConfig {
        weights: "model.safetensors".into(),
        ..config.clone()
    };
    write_json(&req.out.join("config.json"), &student_config)?;
    let eval = evaluate(
        &distiller.teacher,
        &distiller.student,
        &arch,
        &config.vocab,
        &config.schedule,
        &pool,
        req.distill.student_steps,
        req.pool.teacher_steps,
        req.pool.guidance,
        Some(&req.out.join("eval.png")),
    )?;
    write_json(&req.out.join("eval.json"), &eval)?;
    Ok((info, eval))
}
