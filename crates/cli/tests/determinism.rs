//! The same command with the same `--seed` (and thread count) gives byte-identical weights,
//! checkpoints and results, for every libtorch stage; a run killed before its first checkpoint
//! and started again with the same command equals an uninterrupted one. All on the micro space
//! with a few steps and one thread, so the whole file runs in seconds.

mod common;

use common::{snapshot, vidnas_ok as ok, write_micro_space};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every file of a run folder by its path inside the folder. Wall-clock measurements
/// (`seconds_*` fields of `eval.json`) are the one thing allowed to differ, so they are dropped.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    snapshot(dir)
        .into_iter()
        .map(|(p, bytes)| {
            let bytes = if p.file_name().is_some_and(|n| n == "eval.json") {
                without_timings(&bytes)
            } else {
                bytes
            };
            (p.strip_prefix(dir).unwrap().to_path_buf(), bytes)
        })
        .collect()
}

fn without_timings(bytes: &[u8]) -> Vec<u8> {
    let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let map = v.as_object_mut().unwrap();
    let timings: Vec<String> = map
        .keys()
        .filter(|k| k.starts_with("seconds_"))
        .cloned()
        .collect();
    assert!(!timings.is_empty(), "eval.json has no timings any more");
    for k in timings {
        map.remove(&k);
    }
    serde_json::to_vec(&v).unwrap()
}

fn assert_same_bytes(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    assert_eq!(
        ta.keys().collect::<Vec<_>>(),
        tb.keys().collect::<Vec<_>>(),
        "{} and {} hold different files",
        a.display(),
        b.display()
    );
    assert!(ta.len() > 1, "{} is empty", a.display());
    for (name, bytes) in &ta {
        assert!(
            bytes == &tb[name],
            "{} differs between {} and {}",
            name.display(),
            a.display(),
            b.display()
        );
    }
}

struct Dirs {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Dirs {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        Self { _tmp: tmp, root }
    }
    fn path(&self, name: &str) -> String {
        self.root.join(name).to_str().unwrap().to_string()
    }
    /// The micro space as a file, so the CLI can read it.
    fn micro_space(&self) -> String {
        write_micro_space(&self.root)
    }
}

const DATA: [&str; 6] = [
    "--train-clips",
    "8",
    "--validation-clips",
    "2",
    "--batch-size",
    "2",
];

fn pretrain(space: &str, out: &str) -> Vec<String> {
    let mut args = vec!["pretrain-image", space, "--out", out, "--steps", "3"];
    args.extend(["--checkpoint-every", "2", "--seed", "5"]);
    args.extend(DATA);
    args.into_iter().map(String::from).collect()
}

fn temporal(cmd: &[&str], space: &str, image: &str, out: &str, steps: &str) -> Vec<String> {
    temporal_every(cmd, space, image, out, steps, "2")
}

fn temporal_every(
    cmd: &[&str],
    space: &str,
    image: &str,
    out: &str,
    steps: &str,
    every: &str,
) -> Vec<String> {
    let mut args = cmd.to_vec();
    args.extend([space, "--image", image, "--out", out, "--steps", steps]);
    args.extend([
        "--checkpoint-every",
        every,
        "--seed",
        "7",
        "--batch-size",
        "2",
    ]);
    args.into_iter().map(String::from).collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

const ARCH: &str = "conv1d-attn1d-none-attn3d-none-conv3d-none-conv1d-none-attn1d";

#[test]
fn training_stages_repeat_byte_for_byte_under_a_seed() {
    let d = Dirs::new();
    let space = d.micro_space();
    let (image_a, image_b) = (d.path("image-a"), d.path("image-b"));
    ok(&strs(&pretrain(&space, &image_a)));
    ok(&strs(&pretrain(&space, &image_b)));
    assert_same_bytes(Path::new(&image_a), Path::new(&image_b));

    for (name, cmd) in [
        (
            "supernet",
            vec!["supernet", "train", "--sampling", "sandwich"],
        ),
        ("standalone", vec!["train", "--arch", ARCH]),
    ] {
        let (a, b) = (d.path(&format!("{name}-a")), d.path(&format!("{name}-b")));
        ok(&strs(&temporal(&cmd, &space, &image_a, &a, "3")));
        ok(&strs(&temporal(&cmd, &space, &image_a, &b, "3")));
        assert_same_bytes(Path::new(&a), Path::new(&b));
    }
}

#[test]
fn a_run_killed_before_its_first_checkpoint_reruns_to_the_same_bytes() {
    let d = Dirs::new();
    let space = d.micro_space();
    let image = d.path("image");
    ok(&strs(&pretrain(&space, &image)));
    let (whole, killed) = (d.path("whole"), d.path("killed"));
    // One checkpoint, at the end: a kill at any earlier moment leaves a run that never started.
    let steps = "40";
    let args =
        |out: &str| temporal_every(&["supernet", "train"], &space, &image, out, steps, steps);
    ok(&strs(&args(&whole)));

    let mut child = Command::new(env!("CARGO_BIN_EXE_vidnas"))
        .args(args(&killed))
        .current_dir(common::repo_root())
        .env("OMP_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let run_json = Path::new(&killed).join("run.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !run_json.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(run_json.exists(), "the run never wrote run.json");
    assert!(
        !Path::new(&killed).join("checkpoint").exists(),
        "the run reached its checkpoint before the kill; raise `steps`"
    );
    // The same command again: no --resume is needed for a run that never started.
    ok(&strs(&args(&killed)));
    assert_same_bytes(Path::new(&whole), Path::new(&killed));
}

#[test]
fn few_step_stages_and_the_classifier_repeat_byte_for_byte() {
    let d = Dirs::new();
    let space = vidnas_space::fixtures::micro();
    let model = vidnas_export::fixtures::micro_model(&space, 0);
    let config =
        vidnas_export::fixtures::write_micro_config(&d.root.join("configs"), &space, &model);
    let config = config.to_str().unwrap().to_string();
    let common = [
        "--train-clips",
        "8",
        "--validation-clips",
        "2",
        "--threads",
        "1",
    ];
    let finetune = |out: &str| {
        let mut a = vec!["finetune", "--config", &config, "--out", out];
        a.extend([
            "--steps",
            "3",
            "--batch-size",
            "2",
            "--checkpoint-every",
            "2",
        ]);
        a.extend(["--seed", "3"]);
        a.extend(common);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let (ta, tb) = (d.path("teacher-a"), d.path("teacher-b"));
    ok(&strs(&finetune(&ta)));
    ok(&strs(&finetune(&tb)));
    assert_same_bytes(Path::new(&ta), Path::new(&tb));

    let teacher_config = format!("{ta}/config.json");
    let distill = |out: &str| {
        let mut a = vec!["distill", "--config", &teacher_config, "--out", out];
        a.extend(["--steps", "2", "--batch-size", "2", "--pool-size", "2"]);
        a.extend(["--eval-entries", "1", "--teacher-steps", "2", "--seed", "3"]);
        a.extend(common);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let (sa, sb) = (d.path("student-a"), d.path("student-b"));
    ok(&strs(&distill(&sa)));
    ok(&strs(&distill(&sb)));
    assert_same_bytes(Path::new(&sa), Path::new(&sb));

    let classifier = |out: &str| {
        let mut a = vec!["eval", "classifier", "--config", &config, "--out", out];
        a.extend([
            "--steps",
            "2",
            "--batch-size",
            "4",
            "--validation-clips",
            "4",
        ]);
        a.extend(["--threads", "1", "--seed", "2"]);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let (ca, cb) = (d.path("classifier-a"), d.path("classifier-b"));
    ok(&strs(&classifier(&ca)));
    ok(&strs(&classifier(&cb)));
    assert_same_bytes(Path::new(&ca), Path::new(&cb));
}
