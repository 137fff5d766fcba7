//! The `vidnas` binary: exit codes and messages users see.

use std::process::Command;

fn vidnas(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_vidnas"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn space_commands_work_on_both_shipped_spaces() {
    let (ok, out, _) = vidnas(&["space", "count", "search-spaces/tiny.json"]);
    assert!(ok);
    assert!(
        out.starts_with("1079999 architectures over 10 slots"),
        "{out}"
    );
    let (ok, out, _) = vidnas(&["space", "count", "search-spaces/snapgen-v.json", "--json"]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["slots"], 16);
    let (ok, out, _) = vidnas(&["space", "show", "search-spaces/tiny.json"]);
    assert!(
        ok && out.contains("mid.block.0") && out.contains("attn3d"),
        "{out}"
    );
    let (ok, a, _) = vidnas(&[
        "space",
        "sample",
        "search-spaces/tiny.json",
        "-n",
        "3",
        "--seed",
        "4",
    ]);
    let (_, b, _) = vidnas(&[
        "space",
        "sample",
        "search-spaces/tiny.json",
        "-n",
        "3",
        "--seed",
        "4",
    ]);
    assert!(ok && a == b && a.lines().count() == 3);
}

#[test]
fn space_sample_draws_distinct_architectures_inside_a_latency_band() {
    let space = "search-spaces/tiny.json";
    let table = "latency-tables/tiny-cpu-2threads.json";
    let mut args = vec!["space", "sample", space, "-n", "6", "--seed", "2"];
    args.extend(["--table", table, "--latency-ms", "74", "--within-pct", "5"]);
    let (ok, out, err) = vidnas(&args);
    assert!(ok, "{err}");
    let archs: Vec<&str> = out
        .lines()
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(archs.len(), 6);
    let distinct: std::collections::BTreeSet<_> = archs.iter().collect();
    assert_eq!(distinct.len(), 6, "{out}");
    for arch in archs {
        let (ok, p, err) = vidnas(&[
            "latency", "predict", space, "--table", table, "--arch", arch, "--json",
        ]);
        assert!(ok, "{err}");
        let ms = serde_json::from_str::<serde_json::Value>(&p).unwrap()["latency_ms"]
            .as_f64()
            .unwrap();
        assert!(
            (70.3..=77.7).contains(&ms),
            "{arch}: {ms} ms is outside 74 ms ± 5%"
        );
    }
    // A band no architecture reaches is refused, naming the band and the fix.
    let mut args = vec!["space", "sample", space, "-n", "2"];
    args.extend(["--table", table, "--latency-ms", "1", "--within-pct", "1"]);
    let (ok, _, err) = vidnas(&args);
    assert!(
        !ok && err.contains("1 ms ± 1%") && err.contains("--within-pct"),
        "{err}"
    );
}

#[test]
fn invalid_space_exits_non_zero_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    let text = include_str!("../../../search-spaces/tiny.json")
        .replace("\"norm_num_groups\": 8", "\"norm_num_groups\": 7");
    std::fs::write(&bad, text).unwrap();
    let (ok, _, err) = vidnas(&["space", "validate", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        err.contains("bad.json")
            && err.contains("backbone.norm_num_groups")
            && err.contains("fix:"),
        "{err}"
    );
}

#[test]
fn predict_with_a_table_missing_signatures_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let table = dir.path().join("t.json");
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../latency-tables/fixtures/one-block.json"
    ))
    .unwrap();
    std::fs::write(&table, fixture).unwrap();
    let arch = ["conv1d"; 10].join("-");
    let (ok, _, err) = vidnas(&[
        "latency",
        "predict",
        "search-spaces/tiny.json",
        "--table",
        table.to_str().unwrap(),
        "--arch",
        &arch,
    ]);
    assert!(!ok);
    assert!(
        err.contains("lacks 20 signature(s)") && err.contains("vidnas latency profile"),
        "{err}"
    );
}

#[test]
fn signatures_cover_the_paper_space() {
    let (ok, out, _) = vidnas(&[
        "latency",
        "signatures",
        "search-spaces/snapgen-v.json",
        "--text-tokens",
        "77",
    ]);
    assert!(ok);
    assert!(out.lines().any(|l| l.starts_with("attn3d|c=896")), "{out}");
    assert!(
        !out.lines().any(|l| l.starts_with("attn3d|c=256")),
        "attn3d is limited to the low-resolution stage"
    );
}

#[test]
fn import_backbone_writes_a_searchable_space() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("imported.json");
    let (ok, stdout, err) = vidnas(&[
        "import-backbone",
        "crates/nn/tests/fixtures/tiny-diffusers-unet",
        "--out",
        out.to_str().unwrap(),
        "--frames",
        "4",
    ]);
    assert!(ok, "{err}");
    assert!(stdout.contains("slots"), "{stdout}");
    let (ok, _, err) = vidnas(&["space", "validate", out.to_str().unwrap()]);
    assert!(ok, "{err}");
}

/// Issue 7's promise: an imported diffusers backbone goes through stage 1 (its own weights, a
/// real encoder's prompt embeddings, pre-encoded latents), the supernet, the search and export
/// with the same commands as the tiny space, and the exported weights keep diffusers' values.
#[test]
fn imported_backbone_runs_supernet_search_and_export() {
    use tch::{Device, Kind, Tensor};
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let fixture = "crates/nn/tests/fixtures/tiny-diffusers-unet";
    let space = p("imported.json");
    let (ok, _, err) = vidnas(&["import-backbone", fixture, "--out", &space, "--frames", "2"]);
    assert!(ok, "{err}");

    // A "VAE" and a "CLIP" ran elsewhere: latents [N, 4, 2, 16, 16] and embeddings [P, 3, 16].
    let captions: Vec<String> = (0..4).map(|i| format!("scene {i}")).collect();
    let clips: Vec<vidnas_data::Clip> = captions
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let v = (0..4 * 2 * 16 * 16).map(|k| ((k + 3 * i) % 11) as f32 / 5.0 - 1.0);
            vidnas_data::Clip::new(2, 4, 16, 16, v.collect(), c.clone(), None).unwrap()
        })
        .collect();
    vidnas_data::write_latent_clips(dir.path().join("latents.safetensors").as_path(), &clips)
        .unwrap();
    let mut prompts = vec![String::new()];
    prompts.extend(captions);
    let table = vidnas_nn::PromptTable {
        embeddings: Tensor::randn([5, 3, 16], (Kind::Float, Device::Cpu)),
        prompts,
    };
    table
        .write(dir.path().join("prompts.safetensors").as_path())
        .unwrap();

    let (image, prompts, latents) = (
        p("image"),
        p("prompts.safetensors"),
        p("latents.safetensors"),
    );
    let (supernet, table_path) = (p("supernet"), p("table.json"));
    let (search, configs) = (p("search"), p("configs"));
    let steps = [
        vec![
            "pretrain-image",
            &space,
            "--out",
            &image,
            "--init-unet",
            fixture,
            "--text-embeddings",
            &prompts,
            "--latents",
            &latents,
            "--validation-clips",
            "1",
            "--steps",
            "0",
        ],
        vec![
            "supernet",
            "train",
            &space,
            "--image",
            &image,
            "--out",
            &supernet,
            "--steps",
            "2",
            "--batch-size",
            "1",
        ],
        vec![
            "latency",
            "profile",
            &space,
            "--out",
            &table_path,
            "--repeats",
            "1",
            "--warmup",
            "0",
            "--text-tokens",
            "3",
        ],
        vec![
            "search",
            &space,
            "--table",
            &table_path,
            "--supernet",
            &supernet,
            "--algo",
            "random",
            "--samples",
            "3",
            "--out",
            &search,
        ],
        vec!["export", &search, "--name", "imported", "--out", &configs],
    ];
    for args in &steps {
        let args: Vec<&str> = args.iter().map(|s| &**s).collect();
        let (ok, _, err) = vidnas(&args);
        assert!(ok, "vidnas {}: {err}", args.join(" "));
    }
    // A run folder written before provenance was typed (`"table_id": "PATH (HASH)"`) still
    // exports from the supernet and records the table it names.
    let run_json = format!("{search}/run.json");
    let mut settings: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&run_json).unwrap()).unwrap();
    let obj = settings.as_object_mut().unwrap();
    for (typed, legacy) in [("table", "table_id"), ("supernet", "supernet_id")] {
        let file = obj.remove(typed).unwrap();
        let text = format!(
            "{} ({})",
            file["path"].as_str().unwrap(),
            file["sha256"].as_str().unwrap()
        );
        obj.insert(legacy.into(), text.into());
    }
    std::fs::write(&run_json, settings.to_string()).unwrap();
    let (ok, _, err) = vidnas(&["export", &search, "--name", "legacy", "--out", &configs]);
    assert!(ok, "export of a legacy run: {err}");
    let legacy = std::fs::read_to_string(dir.path().join("configs/legacy.json")).unwrap();
    assert!(legacy.contains(&table_path), "{legacy}");
    let exported: std::collections::HashMap<String, Tensor> =
        Tensor::read_safetensors(dir.path().join("configs/imported.safetensors"))
            .unwrap()
            .into_iter()
            .collect();
    let original = Tensor::read_safetensors(format!(
        "{}/../../{fixture}/diffusion_pytorch_model.safetensors",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    for (name, weight) in &original {
        let got = exported
            .get(name)
            .unwrap_or_else(|| panic!("{name} not exported"));
        assert!(got.equal(weight), "{name} changed");
    }
}

/// `vidnas train --arch` trains one architecture stand-alone from a stage-1 run and records it,
/// and refuses an architecture the space cannot hold.
#[test]
fn train_trains_one_architecture_stand_alone() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("image");
    let alone = dir.path().join("alone");
    let (image, alone) = (image.to_str().unwrap(), alone.to_str().unwrap());
    let (ok, _, err) = vidnas(&[
        "pretrain-image",
        "search-spaces/tiny.json",
        "--out",
        image,
        "--steps",
        "0",
        "--train-clips",
        "4",
        "--validation-clips",
        "1",
    ]);
    assert!(ok, "{err}");
    let arch = ["conv1d"; 10].join("-");
    let (ok, _, err) = vidnas(&[
        "train",
        "search-spaces/tiny.json",
        "--image",
        image,
        "--out",
        alone,
        "--arch",
        &arch,
        "--steps",
        "1",
        "--batch-size",
        "1",
    ]);
    assert!(ok, "{err}");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{alone}/run.json")).unwrap())
            .unwrap();
    assert_eq!(run["objective"], format!("standalone:{arch}"));
    assert!(std::path::Path::new(&format!("{alone}/model.safetensors")).exists());

    let (ok, _, err) = vidnas(&[
        "train",
        "search-spaces/tiny.json",
        "--image",
        image,
        "--out",
        alone,
        "--arch",
        "conv1d",
    ]);
    assert!(!ok);
    assert!(err.contains("10 slots"), "{err}");
}

#[test]
fn finetune_distill_sample_and_eval_chain_from_an_exported_config() {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let space = vidnas_space::fixtures::micro();
    let model = vidnas_export::fixtures::micro_model(&space, 0);
    let config =
        vidnas_export::fixtures::write_micro_config(&dir.path().join("configs"), &space, &model);
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (config, teacher, student, classifier, eval) = (
        config.to_str().unwrap().to_string(),
        path("teacher"),
        path("student"),
        path("classifier"),
        path("eval"),
    );
    let data = [
        "--train-clips",
        "8",
        "--validation-clips",
        "2",
        "--threads",
        "1",
    ];
    let run = |args: &[&str]| {
        let (ok, _, err) = vidnas(args);
        assert!(ok, "{args:?}: {err}");
    };
    let mut finetune = vec!["finetune", "--config", &config, "--out", &teacher];
    finetune.extend(["--steps", "2", "--batch-size", "2", "--prediction", "v"]);
    finetune.extend(data);
    run(&finetune);
    // The teacher folder is a complete model for the new prediction target.
    let teacher_config = format!("{teacher}/config.json");
    let text = std::fs::read_to_string(&teacher_config).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed["schedule"]["prediction"], "v");

    let mut distill = vec!["distill", "--config", &teacher_config, "--out", &student];
    distill.extend(["--steps", "2", "--batch-size", "2", "--pool-size", "2"]);
    distill.extend(["--eval-entries", "1", "--teacher-steps", "3"]);
    distill.extend(data);
    run(&distill);

    let gif = path("clip.gif");
    let student_config = format!("{student}/config.json");
    run(&[
        "sample",
        "--config",
        &student_config,
        "--steps",
        "4",
        "--guidance",
        "1",
        "--prompt",
        "a red square moving left fast",
        "--out",
        &gif,
    ]);
    let (frames, width, height) = vidnas_data::read_gif_frames(std::path::Path::new(&gif)).unwrap();
    let v = &space.file.video;
    // Pixels are drawn as blocks, so the GIF is a whole multiple of the clip's size.
    let scale = width / v.width as u32;
    assert!(scale >= 1 && width == scale * v.width as u32 && height == scale * v.height as u32);
    assert_eq!(frames, v.frames);

    run(&[
        "eval",
        "classifier",
        "--config",
        &config,
        "--out",
        &classifier,
        "--steps",
        "2",
        "--batch-size",
        "4",
        "--validation-clips",
        "8",
        "--threads",
        "1",
    ]);
    run(&[
        "eval",
        "run",
        "--config",
        &teacher_config,
        "--teacher",
        &format!("{teacher}/model.safetensors"),
        "--student",
        &format!("{student}/model.safetensors"),
        "--classifier",
        &classifier,
        "--prompts",
        "2",
        "--teacher-steps",
        "3",
        "--media-prompts",
        "1",
        "--out",
        &eval,
        "--threads",
        "1",
    ]);
    let table = std::fs::read_to_string(format!("{eval}/eval.md")).unwrap();
    assert!(
        table.contains("student") && table.contains("4 × 1"),
        "{table}"
    );
}
