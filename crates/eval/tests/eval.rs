mod common;

use std::path::Path;
use vidnas_data::ProceduralConfig;
use vidnas_eval::{evaluate, train_classifier, ClassifierSettings, EvalRequest, EvalSettings};

fn settings(seed: u64) -> EvalSettings {
    EvalSettings {
        prompts: 3,
        seed,
        teacher_steps: 3,
        student_steps: 2,
        media_prompts: 2,
        ..EvalSettings::default()
    }
}

fn request<'a>(
    files: &'a (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf),
    classifier: &'a Path,
    out: &'a Path,
    settings: EvalSettings,
) -> EvalRequest<'a> {
    EvalRequest {
        config: &files.0,
        teacher: &files.1,
        student: &files.2,
        classifier,
        out,
        settings,
        command: "vidnas eval run (test)".into(),
        progress: false,
        device: tch::Device::Cpu,
    }
}

#[test]
fn eval_is_deterministic_under_a_seed() {
    let dir = tempfile::tempdir().unwrap();
    let files = common::exported(dir.path());
    let classifier = common::micro_classifier(dir.path());
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    let ra = evaluate(&request(&files, &classifier, &a, settings(0))).unwrap();
    let rb = evaluate(&request(&files, &classifier, &b, settings(0))).unwrap();
    assert_eq!(ra, rb);
    for f in [
        "eval.json",
        "eval.csv",
        "eval.md",
        "media/grid.png",
        "media/prompt-01-student.gif",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between two runs with the same seed"
        );
    }
    // Another seed: other noise, other clips.
    let rc = evaluate(&request(&files, &classifier, &c, settings(1))).unwrap();
    assert_ne!(ra.prompts[0].noise_seed, rc.prompts[0].noise_seed);
    assert_ne!(
        ra.prompts[0].clips[0].mse_to_reference,
        rc.prompts[0].clips[0].mse_to_reference
    );
    // Same prompts either way: they come from --data-seed, not --seed.
    assert_eq!(ra.prompts[2].caption, rc.prompts[2].caption);

    // Bookkeeping: student, few-step teacher, reference, procedural clips; the reference is at
    // distance 0 from itself and the procedural clip has no distance.
    let names: Vec<&str> = ra.systems.iter().map(|s| s.system.as_str()).collect();
    assert_eq!(
        names,
        ["student", "teacher-few-step", "teacher", "procedural"]
    );
    for p in &ra.prompts {
        assert_eq!(p.clips[2].mse_to_reference, Some(0.0));
        assert_eq!(p.clips[2].motion_mse_to_reference, Some(0.0));
        assert_eq!(p.clips[3].mse_to_reference, None);
        assert!(p.clips[0].mse_to_reference.unwrap() > 0.0);
        assert_eq!(p.caption, p.label.caption());
    }
    assert_eq!(ra.systems[0].denoiser_passes, Some(2)); // 2 steps, guidance 1
    assert_eq!(ra.systems[1].denoiser_passes, Some(4)); // 2 steps, guidance 3
    assert_eq!(ra.systems[2].denoiser_passes, Some(6));
    let csv = std::fs::read_to_string(a.join("eval.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3 * 4);
    let md = std::fs::read_to_string(a.join("eval.md")).unwrap();
    assert!(
        md.contains("| student (distilled), guidance 1 | 2 × 1 |"),
        "{md}"
    );
    for sys in ["procedural", "teacher", "teacher-few-step", "student"] {
        for i in 0..2 {
            assert!(a.join(format!("media/prompt-{i:02}-{sys}.gif")).exists());
        }
        assert!(!a.join(format!("media/prompt-02-{sys}.gif")).exists());
    }
    assert!(a.join("timing.json").exists());
}

#[test]
fn the_teacher_against_itself_is_at_distance_zero() {
    let dir = tempfile::tempdir().unwrap();
    let mut files = common::exported(dir.path());
    files.2 = files.1.clone(); // the "student" is the teacher
    let classifier = common::micro_classifier(dir.path());
    let out = dir.path().join("out");
    let s = EvalSettings {
        student_steps: 3,
        student_guidance: 3.0,
        ..settings(0)
    };
    let r = evaluate(&request(&files, &classifier, &out, s)).unwrap();
    for k in 0..3 {
        let m = r.systems[k].mse_to_reference.unwrap();
        assert_eq!((m.mean, m.se), (0.0, 0.0), "{}", r.systems[k].system);
        assert_eq!(r.systems[k].all, r.systems[2].all);
    }
    assert_eq!(r.comparison.student_closer, 0);
    assert_eq!(r.comparison.mse_difference.mean, 0.0);
}

#[test]
fn a_classifier_for_another_clip_shape_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let files = common::exported(dir.path());
    let classifier = dir.path().join("other");
    let other = ProceduralConfig {
        frames: 4,
        height: 8,
        width: 8,
        channels: 3,
    };
    let s = ClassifierSettings {
        steps: 1,
        batch_size: 2,
        validation_clips: 2,
        ..ClassifierSettings::default()
    };
    train_classifier(other, "other", &s, &classifier, false, tch::Device::Cpu).unwrap();
    let out = dir.path().join("out");
    let err = evaluate(&request(&files, &classifier, &out, settings(0)))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("classifier.json") && err.contains("vidnas eval classifier"),
        "{err}"
    );
    assert!(!out.join("eval.json").exists());
}
