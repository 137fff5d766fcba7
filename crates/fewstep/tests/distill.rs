mod common;

use vidnas_data::{Dataset, Vocab};
use vidnas_diffusion::{datasets, procedural_config, Compute};
use vidnas_diffusion::{ddim_step, ddim_timesteps, sample, NoiseSchedule, SampleConfig};
use vidnas_export::load_exported;
use vidnas_fewstep::checkpoint::read_state;
use vidnas_fewstep::{
    distill, DistillConfig, DistillRequest, Distiller, FewStepError, RealSource, TeacherPool,
};

fn request<'a>(
    config: &'a std::path::Path,
    teacher: &'a std::path::Path,
    out: &'a std::path::Path,
    steps: usize,
    resume: bool,
) -> DistillRequest<'a> {
    DistillRequest {
        config,
        teacher: Some(teacher),
        out,
        data: common::data(),
        pool: common::pool(),
        distill: common::distill_config(steps),
        resume,
        progress: false,
        compute: None,
    }
}

#[test]
fn resumed_distillation_equals_the_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::exported_config(&dir.path().join("configs"));
    let teacher = dir.path().join("configs/micro.safetensors");
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));

    let (_, eval) = distill(request(&config, &teacher, &a, 4, false)).unwrap();
    distill(request(&config, &teacher, &b, 2, false)).unwrap();
    // Without --resume an existing run is refused; a changed setting is refused by name.
    let err = distill(request(&config, &teacher, &b, 4, false)).unwrap_err();
    assert!(err.to_string().contains("--resume"), "{err}");
    let mut changed = request(&config, &teacher, &b, 4, true);
    changed.distill.lr_g = 5e-4;
    let err = distill(changed).unwrap_err().to_string();
    assert!(
        err.contains("distill.lr_g") && err.contains("distill.json"),
        "{err}"
    );
    // The resumed invocation runs through a Compute: where it runs is recorded, not compared.
    let cpu = Compute::cpu();
    distill(DistillRequest {
        compute: Some(&cpu),
        ..request(&config, &teacher, &b, 4, true)
    })
    .unwrap();

    common::assert_same_tensors(&a.join("model.safetensors"), &b.join("model.safetensors"));
    let info: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(b.join("distill.json")).unwrap()).unwrap();
    assert_eq!(info["compute"]["device"], "cpu", "{info}");
    common::assert_same_tensors(
        &a.join("checkpoint/discriminator.safetensors"),
        &b.join("checkpoint/discriminator.safetensors"),
    );
    common::assert_same_tensors(
        &a.join("checkpoint/optimizer_d.safetensors"),
        &b.join("checkpoint/optimizer_d.safetensors"),
    );
    let (_, sa) = read_state(&a).unwrap().unwrap();
    let (_, sb) = read_state(&b).unwrap().unwrap();
    assert_eq!(sa.step, 4);
    assert_eq!(sa.losses, sb.losses);

    // The student has exactly the exported keys, and the student weights moved.
    let exported: Vec<String> = common::tensors(&teacher).into_iter().map(|t| t.0).collect();
    let student: Vec<String> = common::tensors(&a.join("model.safetensors"))
        .into_iter()
        .map(|t| t.0)
        .collect();
    assert_eq!(exported, student);
    let moved = common::tensors(&teacher)
        .iter()
        .zip(common::tensors(&a.join("model.safetensors")))
        .any(|((_, x), (_, y))| !x.equal(&y));
    assert!(moved, "distillation changed no student weight");
    // The run folder's config.json loads the student.
    let (_, _, _, loaded) = vidnas_export::load_exported(&a.join("config.json")).unwrap();
    let saved = common::tensors(&a.join("model.safetensors"));
    assert!(loaded
        .vs
        .variables()
        .iter()
        .all(|(name, t)| saved.iter().any(|(n, s)| n == name && s.equal(t))));
    // Held-out evaluation: one entry, finite figures.
    assert_eq!(eval.entries.len(), 1);
    assert!(eval.mse_student.is_finite() && eval.mse_teacher_fewstep.is_finite());
    assert!(a.join("eval.json").exists() && a.join("eval.png").exists());
}

#[test]
fn teacher_pool_entries_are_the_samplers_results_and_the_pool_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let config = common::exported_config(dir.path());
    let (config, space, arch, teacher) = load_exported(&config).unwrap();
    let (train, _) = datasets(&space, &common::data()).unwrap();
    let schedule = NoiseSchedule::default();
    let build = |cfg: &vidnas_fewstep::PoolConfig, path: &std::path::Path| {
        TeacherPool::build(
            &teacher,
            &arch,
            &config.vocab,
            &schedule,
            &train,
            cfg,
            path,
            false,
        )
        .unwrap()
    };
    let full = common::pool();
    let mut half = full.clone();
    half.train_entries = 2;
    half.eval_entries = 0;
    let (resumed_path, fresh_path) = (dir.path().join("resumed.st"), dir.path().join("fresh.st"));
    build(&half, &resumed_path);
    let resumed = build(&full, &resumed_path);
    let fresh = build(&full, &fresh_path);
    // Entries are sampled in batches, so a resumed pool batches them differently: equal up to
    // float rounding, which guidance and the 1/√ᾱ of x̂₀ amplify to 1e-4–1.2e-3 here depending
    // on the fixture's weights (a wrong prompt or seed differs by order 1).
    let max_diff = |a: &tch::Tensor, b: &tch::Tensor| (a - b).abs().max().double_value(&[]);
    assert!(max_diff(&resumed.x0, &fresh.x0) < 1e-2 && resumed.noise.equal(&fresh.noise));
    assert_eq!(resumed.captions, fresh.captions);

    let i = 3;
    let clip = sample(
        &teacher,
        &arch,
        &config.vocab,
        &schedule,
        &fresh.captions[i],
        &SampleConfig {
            steps: full.teacher_steps,
            guidance: full.guidance,
            seed: fresh.seeds[i],
        },
    )
    .unwrap();
    let x = tch::Tensor::from_slice(&clip.pixels).view([3, 2, 8, 8]);
    let diff = max_diff(&x, &fresh.x0.get(i as i64));
    assert!(diff < 1e-3, "{diff}");

    // Other settings are refused by name of the file.
    let mut other = full.clone();
    other.seed = 7;
    let err = TeacherPool::build(
        &teacher,
        &arch,
        &config.vocab,
        &schedule,
        &train,
        &other,
        &fresh_path,
        false,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("fresh.st") && err.contains("other pool"),
        "{err}"
    );
}

#[test]
fn a_non_finite_loss_stops_with_a_clear_error_and_keeps_the_last_good_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let space = common::micro();
    let arch = common::arch(&space);
    let vocab = Vocab::procedural();
    let schedule = NoiseSchedule::default();
    let teacher = common::model(&space, 0);
    let student = common::model(&space, 0);
    let (train, pool) = micro_pool(&space, &vocab, &schedule, dir.path());
    let run = dir.path().join("run");
    let mut d = Distiller::new(
        student,
        teacher,
        arch.clone(),
        schedule.clone(),
        // Real clips from the data (ADD); the other tests use the default, teacher results.
        DistillConfig {
            real: RealSource::Data,
            ..common::distill_config(2)
        },
        &pool,
        &train,
        &vocab,
        &run,
    )
    .unwrap();
    d.run(false).unwrap();
    let teacher_before = common::tensors_of(&d.teacher);
    // Corrupt the student: the next step's losses are NaN.
    tch::no_grad(|| {
        let mut vars = d.student.vs.variables();
        let _ = vars.get_mut("conv_out.weight").unwrap().fill_(f64::NAN);
    });
    d.cfg.steps = 4;
    let err = d.run(false).unwrap_err();
    assert!(
        matches!(
            err,
            FewStepError::NonFinite {
                step: 2,
                last_good: 2,
                ..
            }
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("NaN")
            && msg.contains("step 2")
            && msg.contains("checkpoint")
            && msg.contains("--resume"),
        "{msg}"
    );
    // The checkpoint still holds step 2 with finite weights; the teacher never changed.
    let (_, state) = read_state(&run).unwrap().unwrap();
    assert_eq!(state.step, 2);
    for (name, t) in common::tensors(&run.join("checkpoint/student.safetensors")) {
        assert!(
            t.isfinite().all().int64_value(&[]) == 1,
            "{name} is not finite"
        );
    }
    assert_eq!(teacher_before.len(), common::tensors_of(&d.teacher).len());
    for ((n, a), (_, b)) in teacher_before.iter().zip(common::tensors_of(&d.teacher)) {
        assert!(a.equal(&b), "teacher weight {n} changed");
    }
}

#[test]
fn backward_distillation_inputs_retrace_the_students_own_sampler() {
    let dir = tempfile::tempdir().unwrap();
    let space = common::micro();
    let arch = common::arch(&space);
    let vocab = Vocab::procedural();
    let schedule = NoiseSchedule::default();
    let (train, pool) = micro_pool(&space, &vocab, &schedule, dir.path());
    // A student unlike the teacher, so its path is its own.
    let d = Distiller::new(
        common::model(&space, 1),
        common::model(&space, 0),
        arch.clone(),
        schedule.clone(),
        common::distill_config(1),
        &pool,
        &train,
        &vocab,
        &dir.path().join("run"),
    )
    .unwrap();
    let steps = 4;
    let ts = ddim_timesteps(schedule.train_timesteps, steps);
    let caption = pool.captions[0].as_str();
    let ctx = tch::no_grad(|| d.student.prompt_context(&[caption, caption], &vocab)).unwrap();
    let z = pool.noise.narrow(0, 0, 1);
    // Every step but the last taken...
    let x = d.own_path(&z, &[steps - 1], &ts, &ctx.narrow(0, 0, 1));
    // ...and, in a batch, a sample that has taken none stays at its noise.
    let z2 = z.repeat([2, 1, 1, 1, 1]);
    let x2 = d.own_path(&z2, &[steps - 1, 0], &ts, &ctx);
    assert!(x2.get(1).equal(&z.get(0)));
    let batched = (x2.get(0) - x.get(0)).abs().max().double_value(&[]);
    assert!(batched < 1e-3, "{batched}");
    // The last step from there is exactly what `vidnas sample --guidance 1` gives.
    let last = tch::no_grad(|| {
        let t = tch::Tensor::from_slice(&[ts[steps - 1]]);
        let x0 = x.narrow(0, 0, 1);
        let pred = d.student.denoise(&x0, &t, &ctx.narrow(0, 0, 1), &arch);
        let ac = schedule.alphas_cumprod();
        ddim_step(&schedule, &ac, &x0, &pred, ts[steps - 1], None, true)
    });
    let clip = sample(
        &d.student,
        &arch,
        &vocab,
        &schedule,
        caption,
        &SampleConfig {
            steps,
            guidance: 1.0,
            seed: pool.seeds[0],
        },
    )
    .unwrap();
    let sampled = tch::Tensor::from_slice(&clip.pixels).view([1, 3, 2, 8, 8]);
    assert!(last.equal(&sampled));
}

/// Eight procedural training clips and the teacher pool of `common::model(space, 0)` on them.
fn micro_pool(
    space: &vidnas_space::Space,
    vocab: &Vocab,
    schedule: &NoiseSchedule,
    dir: &std::path::Path,
) -> (Dataset, TeacherPool) {
    let train = Dataset::procedural(procedural_config(space), 0, 8).unwrap();
    let pool = TeacherPool::build(
        &common::model(space, 0),
        &common::arch(space),
        vocab,
        schedule,
        &train,
        &common::pool(),
        &dir.join("pool.safetensors"),
        false,
    )
    .unwrap();
    (train, pool)
}
