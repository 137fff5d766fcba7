//! Data-parallel training and scoring under a real `mpirun -np 2` (1 thread per rank) against
//! one process with the same global batch, on the micro space with a few steps. Needs Open
//! MPI's `mpirun` (scripts/install-libtorch.sh installs it); where it is absent each test says
//! so and passes, unless VIDNAS_REQUIRE_MPI=1 (set by .ci/run) makes that a failure.

mod common;

use common::{repo_root, run_vidnas, write_micro_space};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use tch::Tensor;

fn have_mpirun() -> bool {
    let found = Command::new("mpirun").arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var("VIDNAS_REQUIRE_MPI").as_deref() != Ok("1"),
            "mpirun not found but VIDNAS_REQUIRE_MPI=1; install Open MPI (apt-get install openmpi-bin libopenmpi-dev)"
        );
        eprintln!("SKIPPED: mpirun not found; install Open MPI (apt-get install openmpi-bin libopenmpi-dev)");
    }
    found
}

/// `mpirun -np <np> vidnas <args> --threads 1`.
fn mpirun(np: usize, args: &[&str]) -> Output {
    Command::new("mpirun")
        .args(["-np", &np.to_string(), "--oversubscribe"])
        .arg(env!("CARGO_BIN_EXE_vidnas"))
        .args(args)
        .args(["--threads", "1"])
        .current_dir(repo_root())
        .env("OMP_NUM_THREADS", "1")
        .env("VIDNAS_MEMORY_LIMIT_MB", "16384")
        .env("VIDNAS_DIST_TIMEOUT_S", "120")
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .output()
        .expect("runs mpirun")
}

fn one(args: &[&str]) -> Output {
    let mut all = args.to_vec();
    all.extend(["--threads", "1"]);
    run_vidnas(&all)
}

fn ok(out: Output, what: &str) -> Output {
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn weights(run: &Path) -> HashMap<String, Tensor> {
    Tensor::read_safetensors(run.join("model.safetensors"))
        .unwrap()
        .into_iter()
        .collect()
}

/// The largest absolute difference between two runs' weights (same names required).
fn max_diff(a: &Path, b: &Path) -> f64 {
    let (wa, wb) = (weights(a), weights(b));
    assert_eq!(wa.len(), wb.len());
    let mut diffs: Vec<(f64, &String)> = wa
        .iter()
        .map(|(name, ta)| ((ta - &wb[name]).abs().max().double_value(&[]), name))
        .collect();
    diffs.sort_by(|x, y| y.0.total_cmp(&x.0));
    eprintln!("largest differences: {:?}", &diffs[..3.min(diffs.len())]);
    diffs.first().map_or(0.0, |d| d.0)
}

struct Setup {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    space: String,
    image: String,
}

impl Setup {
    /// The micro space and a 2-step stage-1 run.
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let space = write_micro_space(&root);
        let image = root.join("image").to_str().unwrap().to_string();
        ok(
            one(&[
                "pretrain-image",
                &space,
                "--out",
                &image,
                "--steps",
                "2",
                "--train-clips",
                "8",
                "--validation-clips",
                "4",
                "--batch-size",
                "4",
                "--seed",
                "3",
            ]),
            "pretrain-image",
        );
        Self {
            _tmp: tmp,
            root,
            space,
            image,
        }
    }

    fn path(&self, name: &str) -> String {
        self.root.join(name).to_str().unwrap().to_string()
    }

    fn supernet_args<'a>(&'a self, out: &'a str, steps: &'a str) -> Vec<&'a str> {
        vec![
            "supernet",
            "train",
            &self.space,
            "--image",
            &self.image,
            "--out",
            out,
            "--steps",
            steps,
            "--batch-size",
            "4",
            "--seed",
            "11",
            "--sampling",
            "sandwich",
            "--checkpoint-every",
            "5",
        ]
    }
}

#[test]
fn two_ranks_train_the_supernet_like_one_process_with_the_same_global_batch() {
    if !have_mpirun() {
        return;
    }
    let s = Setup::new();
    // In f64 the two reduction orders agree to rounding (~1e-16); in f32 Adam's first steps
    // divide tiny gradients by their own size, so rounding shows at ~1e-6 after one step.
    for (precision, steps, tolerance) in [
        ("f64", "1", 1e-10),
        ("f64", "10", 1e-10),
        ("f32", "10", 1e-4),
    ] {
        let name = format!("{precision}-{steps}");
        let (single, ranks) = (
            s.path(&format!("one-{name}")),
            s.path(&format!("two-{name}")),
        );
        let mut args = s.supernet_args(&single, steps);
        args.extend(["--precision", precision]);
        ok(one(&args), "1 process");
        let mut args = s.supernet_args(&ranks, steps);
        args.extend(["--precision", precision]);
        ok(mpirun(2, &args), "mpirun -np 2");
        let diff = max_diff(Path::new(&single), Path::new(&ranks));
        eprintln!("{precision}, after {steps} step(s): largest weight difference {diff:.3e}");
        assert!(
            diff <= tolerance,
            "{precision}, after {steps} steps the weights differ by {diff:e} (> {tolerance:e})"
        );
        let info: serde_json::Value =
            serde_json::from_slice(&std::fs::read(Path::new(&ranks).join("run.json")).unwrap())
                .unwrap();
        assert_eq!(info["compute"]["ranks"], 2, "{info}");
        assert_eq!(info["compute"]["backend"], "mpi");
        assert_eq!(info["compute"]["threads"], 1);
        assert_eq!(info["compute"]["precision"], precision);
    }

    // Resume at the same world size: 5 steps, then on to 10, equals 10 straight.
    let resumed = s.path("two-resumed");
    ok(mpirun(2, &s.supernet_args(&resumed, "5")), "first 5 steps");
    let mut again = s.supernet_args(&resumed, "10");
    again.push("--resume");
    ok(mpirun(2, &again), "resume to 10");
    assert_eq!(
        std::fs::read(Path::new(&resumed).join("model.safetensors")).unwrap(),
        std::fs::read(Path::new(&s.path("two-f32-10")).join("model.safetensors")).unwrap(),
        "a resumed 2-rank run differs from an uninterrupted one"
    );

    // A 2-rank checkpoint resumes in one process (the state is replicated, the batch global).
    let moved = s.path("two-then-one");
    ok(
        mpirun(2, &s.supernet_args(&moved, "5")),
        "5 steps on 2 ranks",
    );
    let mut again = s.supernet_args(&moved, "10");
    again.push("--resume");
    ok(one(&again), "resume to 10 in one process");
    let diff = max_diff(Path::new(&moved), Path::new(&s.path("two-f32-10")));
    assert!(
        diff <= 1e-4,
        "resumed on 1 rank: weights differ by {diff:e}"
    );

    // Scoring over ranks gives the same CSV as one process.
    let archs = s.root.join("archs.txt");
    let list = "conv1d-attn1d-none-attn3d-none-conv3d-none-conv1d-none-attn1d\n\
                none-none-none-attn1d-none-none-none-none-none-none\n\
                attn1d-conv1d-attn3d-none-conv3d-none-attn1d-none-conv1d-none\n";
    std::fs::write(&archs, list).unwrap();
    let table = s.root.join("micro-table.json");
    ok(
        one(&[
            "latency",
            "profile",
            &s.space,
            "--out",
            table.to_str().unwrap(),
            "--repeats",
            "1",
            "--warmup",
            "0",
        ]),
        "profile the micro space",
    );
    {
        let score = |out: &str| {
            vec![
                "score".to_string(),
                s.space.clone(),
                "--archs".into(),
                archs.to_str().unwrap().into(),
                "--table".into(),
                table.to_str().unwrap().into(),
                "--supernet".into(),
                s.path("two-f32-10"),
                "--out".into(),
                out.to_string(),
            ]
        };
        let (a, b) = (s.path("scores-one.csv"), s.path("scores-two.csv"));
        let sa = score(&a);
        let sb = score(&b);
        ok(
            one(&sa.iter().map(String::as_str).collect::<Vec<_>>()),
            "score, 1 process",
        );
        ok(
            mpirun(3, &sb.iter().map(String::as_str).collect::<Vec<_>>()),
            "score, 3 ranks",
        );
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        // A search with the supernet: rank 0 searches, both ranks score; same files.
        let table = table.to_str().unwrap().to_string();
        let supernet = s.path("two-f32-10");
        let search = |out: &str| {
            vec![
                "search".to_string(),
                s.space.clone(),
                "--table".into(),
                table.clone(),
                "--supernet".into(),
                supernet.clone(),
                "--population".into(),
                "4".into(),
                "--generations".into(),
                "1".into(),
                "--seed".into(),
                "2".into(),
                // Re-ranking fine-tunes in one process only (a multi-rank search skips it).
                "--rerank".into(),
                "0".into(),
                "--out".into(),
                out.to_string(),
            ]
        };
        let (a, b) = (s.path("search-one"), s.path("search-two"));
        let (sa, sb) = (search(&a), search(&b));
        ok(
            one(&sa.iter().map(String::as_str).collect::<Vec<_>>()),
            "search, 1 process",
        );
        ok(
            mpirun(2, &sb.iter().map(String::as_str).collect::<Vec<_>>()),
            "search, 2 ranks",
        );
        for file in ["results.csv", "front.csv"] {
            assert_eq!(
                std::fs::read(Path::new(&a).join(file)).unwrap(),
                std::fs::read(Path::new(&b).join(file)).unwrap(),
                "{file} differs between 1 process and 2 ranks"
            );
        }
    }
}

#[test]
fn a_global_batch_the_ranks_cannot_split_is_refused_naming_both() {
    if !have_mpirun() {
        return;
    }
    let s = Setup::new();
    let out = s.path("odd");
    let mut args = s.supernet_args(&out, "2");
    let i = args.iter().position(|a| *a == "4").unwrap();
    args[i] = "3";
    let run = mpirun(2, &args);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        stderr.contains("--batch-size 3") && stderr.contains("2 ranks"),
        "{stderr}"
    );
    assert!(!Path::new(&out).exists(), "a refused run left {out}");
}
