//! Malformed run folders, checkpoints, exported configs and training settings: each is refused
//! with a non-zero exit (never a panic or a signal), an error naming the file and the field (or
//! the flag) with a fix, and the `--out` target left exactly as it was.

mod common;

use common::{check_all, vidnas_ok as ok, write_micro_space, Fault};
use serde_json::Value;
use std::path::{Path, PathBuf};

struct Setup {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    space: String,
    image: String,
    supernet: String,
    config: String,
    table: String,
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// A micro space, a one-step image run, a one-step supernet run and an exported config.
fn setup() -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let micro = vidnas_space::fixtures::micro();
    let space = std::path::PathBuf::from(write_micro_space(&root));
    let (image, supernet) = (root.join("image"), root.join("supernet"));
    let data = ["--train-clips", "4", "--validation-clips", "2"];
    let mut args = vec!["pretrain-image", space.to_str().unwrap(), "--out"];
    args.extend([image.to_str().unwrap(), "--steps", "1", "--batch-size", "2"]);
    args.extend(data);
    ok(&args);
    let mut args = vec!["supernet", "train", space.to_str().unwrap()];
    args.extend(["--image", image.to_str().unwrap(), "--out"]);
    args.extend([
        supernet.to_str().unwrap(),
        "--steps",
        "1",
        "--batch-size",
        "2",
    ]);
    ok(&args);
    let table = root.join("table.json");
    let mut args = vec!["latency", "profile", space.to_str().unwrap(), "--out"];
    args.extend([table.to_str().unwrap(), "--repeats", "1", "--warmup", "0"]);
    ok(&args);
    let model = vidnas_export::fixtures::micro_model(&micro, 0);
    let config = vidnas_export::fixtures::write_micro_config(&root.join("configs"), &micro, &model);
    Setup {
        space: s(&space),
        image: s(&image),
        supernet: s(&supernet),
        config: s(&config),
        table: s(&table),
        root,
        _tmp: tmp,
    }
}

impl Setup {
    fn path(&self, name: &str) -> String {
        s(&self.root.join(name))
    }

    /// A copy of run folder `from` named `name`, with `edit` applied to its `run.json`.
    fn run_with(&self, from: &str, name: &str, edit: impl FnOnce(&mut Value)) -> String {
        let dir = self.root.join(name);
        copy_dir(Path::new(from), &dir);
        let path = dir.join("run.json");
        let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        edit(&mut v);
        std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
        s(&dir)
    }

    /// A copy of the exported config named `name`, with `edit` applied (weights beside it).
    fn config_with(&self, name: &str, edit: impl FnOnce(&mut Value)) -> String {
        let text = std::fs::read_to_string(&self.config).unwrap();
        let mut v: Value = serde_json::from_str(&text).unwrap();
        edit(&mut v);
        let path = Path::new(&self.config).with_file_name(format!("{name}.json"));
        std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
        s(&path)
    }

    fn config_text(&self, name: &str, edit: impl FnOnce(String) -> String) -> String {
        let text = std::fs::read_to_string(&self.config).unwrap();
        let path = Path::new(&self.config).with_file_name(format!("{name}.json"));
        std::fs::write(&path, edit(text)).unwrap();
        s(&path)
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn owned(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn malformed_run_folders_checkpoints_configs_and_settings_are_refused_cleanly() {
    let t = setup();
    let out = t.path("new-run");
    let train = |image: &str| {
        owned(&[
            "supernet", "train", &t.space, "--image", image, "--out", &out, "--steps", "1",
        ])
    };
    let score = |run: &str| owned(&["supernet", "score", run, "--arch", super_arch()]);
    let sample = |config: &str| {
        owned(&[
            "sample",
            "--config",
            config,
            "--prompt",
            "a red square",
            "--steps",
            "2",
            "--out",
            &out,
        ])
    };
    let fault = |name: &'static str, args: Vec<String>| {
        let mut f = Fault::new(name, &[]);
        f.args = args;
        f
    };

    // Run folders.
    let empty = t.path("not-a-run");
    std::fs::create_dir_all(&empty).unwrap();
    let truncated = t.run_with(&t.image, "truncated", |_| {});
    let text = std::fs::read_to_string(format!("{truncated}/run.json")).unwrap();
    std::fs::write(format!("{truncated}/run.json"), &text[..text.len() / 2]).unwrap();
    let bom = t.run_with(&t.image, "bom", |_| {});
    let text = std::fs::read_to_string(format!("{bom}/run.json")).unwrap();
    std::fs::write(format!("{bom}/run.json"), format!("\u{feff}{text}")).unwrap();
    let objective = t.run_with(&t.image, "objective", |v| v["objective"] = "video".into());
    let heads = t.run_with(&t.image, "heads", |v| v["text"]["heads"] = 0.into());
    let vocab = t.run_with(&t.image, "vocab", |v| v["text"]["vocab_size"] = (-5).into());
    let batch = t.run_with(&t.image, "batch", |v| v["train"]["batch_size"] = 0.into());
    let timesteps = t.run_with(&t.image, "timesteps", |v| {
        v["train"]["schedule"]["train_timesteps"] = 0.into()
    });
    let format = t.run_with(&t.image, "format", |v| v["format"] = "vidnas-run/9".into());
    let val = t.run_with(&t.image, "val", |v| {
        v["data"]["validation_clips"] = 0.into()
    });

    let mut cases = vec![
        fault("image folder without run.json", train(&empty))
            .names(&["not-a-run", "run.json"])
            .fix(&["pretrain-image"]),
        fault("truncated run.json", train(&truncated))
            .names(&["truncated/run.json"])
            .fix(&["truncated", "rerun"]),
        fault("run.json with a BOM", train(&bom))
            .names(&["bom/run.json"])
            .fix(&["without a BOM"]),
        fault("unknown objective", train(&objective))
            .names(&["objective/run.json", "objective"])
            .fix(&["image, supernet"]),
        fault("text heads 0", train(&heads))
            .names(&["heads/run.json", "text.heads"])
            .fix(&["divisor"]),
        fault("vocab_size -5", train(&vocab))
            .names(&["vocab/run.json", "text.vocab_size"])
            .fix(&["at least 1"]),
        fault("train batch 0", train(&batch))
            .names(&["batch/run.json", "train.batch_size"])
            .fix(&["at least 1"]),
        fault("train_timesteps 0", train(&timesteps))
            .names(&["timesteps/run.json", "train_timesteps"])
            .fix(&["at least 1"]),
        fault("unknown run format", train(&format))
            .names(&["format/run.json", "format"])
            .fix(&["vidnas-run/1"]),
        fault("no validation clips", train(&val))
            .names(&["val/run.json", "data.validation_clips"])
            .fix(&["at least 1"]),
        fault("supernet run as --image", train(&t.supernet))
            .names(&["supernet/run.json", "objective"])
            .fix(&["pretrain-image"]),
        fault("image run scored as a supernet", score(&t.image))
            .names(&["image/run.json", "objective"])
            .fix(&["supernet train"]),
        fault(
            "image run as the supernet of a search",
            owned(&[
                "search",
                &t.space,
                "--table",
                &t.table,
                "--supernet",
                &t.image,
                "--out",
                &out,
                "--algo",
                "random",
                "--samples",
                "3",
            ]),
        )
        .names(&["image/run.json", "objective"])
        .fix(&["supernet train"])
        .out(&out),
        fault("stand-alone run as the supernet of a search", {
            let standalone = t.path("standalone");
            ok(&[
                "train",
                &t.space,
                "--image",
                &t.image,
                "--out",
                &standalone,
                "--steps",
                "1",
                "--batch-size",
                "2",
                "--arch",
                super_arch(),
            ]);
            owned(&[
                "search",
                &t.space,
                "--table",
                &t.table,
                "--supernet",
                &standalone,
                "--out",
                &out,
                "--algo",
                "random",
                "--samples",
                "3",
            ])
        })
        .names(&["standalone/run.json", "objective"])
        .fix(&["supernet train"])
        .out(&out),
    ];

    // Checkpoints: resuming the one-step supernet run.
    let resume = |run: &str, steps: &str| {
        owned(&[
            "supernet", "train", &t.space, "--image", &t.image, "--out", run, "--steps", steps,
            "--resume",
        ])
    };
    let beyond = t.run_with(&t.supernet, "beyond", |_| {});
    let state = |run: &str| format!("{run}/checkpoint/state.json");
    let cut = t.run_with(&t.supernet, "cut-state", |_| {});
    std::fs::write(state(&cut), "{\"step\": 1, ").unwrap();
    let losses = t.run_with(&t.supernet, "losses", |_| {});
    let mut v: Value =
        serde_json::from_str(&std::fs::read_to_string(state(&losses)).unwrap()).unwrap();
    v["losses"] = Value::Array(vec![]);
    std::fs::write(state(&losses), v.to_string()).unwrap();
    let opt = t.run_with(&t.supernet, "opt", |_| {});
    std::fs::write(
        format!("{opt}/checkpoint/optimizer.safetensors"),
        b"\x08\x00",
    )
    .unwrap();
    cases.extend([
        fault("checkpoint beyond --steps", resume(&beyond, "0"))
            .names(&["beyond/checkpoint/state.json", "--steps"])
            .fix(&["--steps 1 or more"])
            .out(&beyond),
        fault("truncated state.json", resume(&cut, "2"))
            .names(&["cut-state/checkpoint/state.json"])
            .fix(&["truncated"])
            .out(&cut),
        fault("losses do not match the step", resume(&losses, "2"))
            .names(&["losses/checkpoint/state.json", "losses"])
            .fix(&["delete"])
            .out(&losses),
        fault("truncated optimizer moments", resume(&opt, "2"))
            .names(&["opt/checkpoint/optimizer.safetensors"])
            .fix(&["truncated", "restore", "rerun", "re-export", "delete"])
            .out(&opt),
        fault("started run without --resume", {
            let mut a = resume(&t.supernet, "2");
            a.pop();
            a
        })
        .names(&["supernet", "already holds a run"])
        .fix(&["--resume"])
        .out(&t.supernet),
    ]);

    // Exported configs, through `vidnas sample`.
    let c_heads = t.config_with("heads", |v| v["text_encoder"]["heads"] = 0.into());
    let c_vocab = t.config_with("vocab", |v| v["text_encoder"]["vocab_size"] = (-5).into());
    let c_steps = t.config_with("steps", |v| v["schedule"]["train_timesteps"] = 0.into());
    let c_beta = t.config_with("beta", |v| v["schedule"]["beta_end"] = 2.into());
    let c_slots = t.config_with("slots", |v| v["slots"]["mid.block.0"] = "attn3d".into());
    let c_cut = t.config_text("cut", |text| text[..text.len() / 3].to_string());
    let c_bom = t.config_text("bom", |text| format!("\u{feff}{text}"));
    let c_weights = t.config_with("weights", |v| v["weights"] = "missing.safetensors".into());
    cases.extend([
        fault("config heads 0", sample(&c_heads))
            .names(&["heads.json", "text_encoder.heads"])
            .fix(&["divisor"])
            .out(&out),
        fault("config vocab -5", sample(&c_vocab))
            .names(&["vocab.json", "text_encoder.vocab_size"])
            .fix(&["at least 1"])
            .out(&out),
        fault("config train_timesteps 0", sample(&c_steps))
            .names(&["steps.json", "schedule.train_timesteps"])
            .fix(&["at least 1"])
            .out(&out),
        fault("config beta_end 2", sample(&c_beta))
            .names(&["beta.json", "schedule.beta_end"])
            .fix(&["between 0 and 1"])
            .out(&out),
        fault("config slots disagree with arch", sample(&c_slots))
            .names(&["slots.json", "slots"])
            .fix(&["re-export"])
            .out(&out),
        fault("truncated config", sample(&c_cut))
            .names(&["cut.json"])
            .fix(&["truncated"])
            .out(&out),
        fault("config with a BOM", sample(&c_bom))
            .names(&["bom.json"])
            .fix(&["without a BOM"])
            .out(&out),
        fault("config weights missing", sample(&c_weights))
            .names(&["missing.safetensors"])
            .fix(&["No such file", "missing", "export"])
            .out(&out),
    ]);

    // Training settings and spaces too large for memory.
    let pretrain = |extra: &[&str]| {
        let mut a = owned(&["pretrain-image", &t.space, "--out", &out, "--steps", "1"]);
        a.extend(owned(extra));
        a
    };
    let huge = t.path("huge.json");
    let mut file = vidnas_space::fixtures::micro().file;
    file.video.frames = 4096;
    file.video.height = 4096;
    file.video.width = 4096;
    std::fs::write(&huge, serde_json::to_string(&file).unwrap()).unwrap();
    cases.extend([
        fault("--batch-size 0", pretrain(&["--batch-size", "0"]))
            .names(&["--batch-size"])
            .fix(&["1 or more"])
            .out(&out),
        fault("--lr NaN", pretrain(&["--lr", "NaN"]))
            .names(&["--lr"])
            .fix(&["above 0"])
            .out(&out),
        fault("--lr -1", pretrain(&["--lr=-1"]))
            .names(&["--lr"])
            .fix(&["above 0"])
            .out(&out),
        fault(
            "--checkpoint-every 0",
            pretrain(&["--checkpoint-every", "0"]),
        )
        .names(&["--checkpoint-every"])
        .fix(&["1 or more"])
        .out(&out),
        fault("--grad-clip 0", pretrain(&["--grad-clip", "0"]))
            .names(&["--grad-clip"])
            .fix(&["above 0"])
            .out(&out),
        fault(
            "--validation-timesteps 0",
            owned(&[
                "supernet",
                "train",
                &t.space,
                "--image",
                &t.image,
                "--out",
                &out,
                "--validation-timesteps",
                "0",
                "--validation-clips",
                "2",
            ]),
        )
        .names(&["--validation-timesteps"])
        .fix(&["1 or more"])
        .out(&out),
        fault(
            "a video shape needing terabytes",
            owned(&["pretrain-image", &huge, "--out", &out, "--steps", "1"]),
        )
        .names(&["huge.json", "video.frames", "TiB", "available"])
        .fix(&["lower them"])
        .out(&out),
    ]);
    check_all(&cases);
    assert!(cases.len() >= 30, "{} cases", cases.len());
}

/// An architecture of the micro space with temporal layers.
fn super_arch() -> &'static str {
    "conv1d-attn1d-none-attn3d-none-conv3d-none-conv1d-none-attn1d"
}

#[test]
fn the_fault_harness_flags_a_command_that_succeeds_or_says_too_little() {
    let fine = Fault::new(
        "valid space",
        &["space", "validate", "search-spaces/tiny.json"],
    );
    assert!(fine.check().unwrap().contains("exit code 0"));
    let vague = Fault::new("missing space", &["space", "validate", "no-such.json"])
        .names(&["no-such.json", "a field that is not there"]);
    assert!(vague.check().unwrap().contains("does not name"));
}
