//! The second hardening round, by class: names and output paths, numeric ranges, flags that
//! would be ignored, checks that must come before long work, and messages that name the true
//! cause. Each case asserts a non-zero exit (never 101 or a signal), the flag or file named,
//! the fix, and the `--out` target unchanged.

mod common;

use common::{check_all, profile_quick, vidnas_ok, write_micro_space, Fault};
use std::path::{Path, PathBuf};

const SPACE: &str = "search-spaces/tiny.json";
const TABLE: &str = "latency-tables/tiny-cpu-2threads.json";
const ET_TABLE: &str = "latency-tables/tiny-cpu-2threads-executorch.json";

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// A case: `vidnas args…` must be refused naming `names`, giving one of `fix`, leaving `out`.
fn case<'a>(
    name: &'a str,
    args: &[&str],
    names: &[&'a str],
    fix: &[&'a str],
    out: &Path,
) -> Fault<'a> {
    Fault::new(name, args).names(names).fix(fix).out(out)
}

/// A temporary folder holding a file, a folder, a dangling and a looping symlink, and a micro
/// model's exported config with its weights.
struct Paths {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Paths {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        std::fs::write(root.join("file"), b"not a folder").unwrap();
        std::fs::create_dir(root.join("folder")).unwrap();
        std::os::unix::fs::symlink(root.join("missing"), root.join("dangling")).unwrap();
        std::os::unix::fs::symlink(root.join("loop"), root.join("loop")).unwrap();
        Self { _tmp: tmp, root }
    }
    fn p(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }
    fn s(&self, name: &str) -> String {
        s(&self.p(name))
    }
    /// The micro model's exported config (weights beside it), written once.
    fn config(&self) -> String {
        let path = self.p("configs/micro.json");
        if !path.exists() {
            let space = vidnas_space::fixtures::micro();
            let model = vidnas_export::fixtures::micro_model(&space, 0);
            vidnas_export::fixtures::write_micro_config(&self.p("configs"), &space, &model);
        }
        s(&path)
    }
}

#[test]
fn names_and_output_paths_stay_where_they_belong() {
    let t = Paths::new();
    let configs = t.p("configs-out");
    let export = |name: &'static str, value: &'static str| {
        let args = [
            "export",
            "runs/none",
            "--name",
            value,
            "--out",
            configs.to_str().unwrap(),
        ];
        case(name, &args, &["--name"], &["plain file name"], &configs)
    };
    let (file, folder, dangling, looping) =
        (t.s("file"), t.s("folder"), t.s("dangling"), t.s("loop"));
    let under_file = s(&t.p("file").join("run"));
    let under_dangling = s(&t.p("dangling").join("clip.gif"));
    let search = |name: &'static str, out: &str, why: &'static str| {
        let args = ["search", SPACE, "--table", TABLE, "--out", out];
        case(
            name,
            &args,
            &["--out", why],
            &["give", "remove it"],
            Path::new(out),
        )
    };
    let sample = |name: &'static str, out: &str, why: &'static str| {
        let args = [
            "sample",
            "--config",
            "x.json",
            "--prompt",
            "a red square",
            "--out",
            out,
        ];
        case(
            name,
            &args,
            &["--out", why],
            &["give", "remove"],
            Path::new(out),
        )
    };
    let cases = vec![
        export("name leaves its folder", "../escaped"),
        export("empty name", ""),
        export("hidden name", ".hidden"),
        export("name with a separator", "a/b"),
        export("name with a backslash", "a\\b"),
        export("name of two dots", ".."),
        search("search out is a file", &file, "is a file"),
        search("search out under a file", &under_file, "is a file"),
        search("search out is a dangling symlink", &dangling, "dangling"),
        search("search out is a looping symlink", &looping, "looping"),
        sample("sample out is a folder", &folder, "is a folder"),
        sample(
            "sample out under a dangling symlink",
            &under_dangling,
            "dangling",
        ),
        sample("sample out is a looping symlink", &looping, "looping"),
        case(
            "profile out is a folder",
            &["latency", "profile", SPACE, "--out", &folder],
            &["--out", "is a folder"],
            &["give a file path"],
            &t.p("folder"),
        ),
        case(
            "validate out is a file",
            &[
                "latency", "validate", SPACE, "--table", TABLE, "--out", &file,
            ],
            &["--out", "is a file"],
            &["give a folder"],
            &t.p("file"),
        ),
        case(
            "pretrain out is a file",
            &["pretrain-image", SPACE, "--out", &file],
            &["--out", "is a file"],
            &["give a folder"],
            &t.p("file"),
        ),
        case(
            "report out under a file",
            &["report", "runs/none", "--out", &under_file],
            &["--out", "is a file"],
            &["give another path"],
            &t.p("file"),
        ),
        case(
            "score out is a folder",
            &[
                "score", SPACE, "--archs", "x.txt", "--table", TABLE, "--out", &folder,
            ],
            &["--out", "is a folder"],
            &["give a file path"],
            &t.p("folder"),
        ),
        case(
            "classifier out is a dangling symlink",
            &["eval", "classifier", "--out", &dangling],
            &["--out", "dangling"],
            &["remove it"],
            &t.p("dangling"),
        ),
        case(
            "finetune out is a file",
            &["finetune", "--config", "x.json", "--out", &file],
            &["--out", "is a file"],
            &["give a folder"],
            &t.p("file"),
        ),
    ];
    check_all(&cases);
}

#[test]
fn numbers_out_of_range_are_refused_by_their_flag() {
    let t = Paths::new();
    let config = t.config();
    let gif = t.p("out/clip.gif");
    let sample =
        |name: &'static str, extra: &[&str], names: &[&'static str], fix: &[&'static str]| {
            let mut args = vec![
                "sample",
                "--config",
                &config,
                "--prompt",
                "a red square",
                "--out",
                gif.to_str().unwrap(),
            ];
            args.extend(extra);
            let mut f = case(name, &args, names, fix, &t.p("out"));
            f.args = args.iter().map(|a| a.to_string()).collect();
            f
        };
    let run = t.p("run");
    let search = |name: &'static str, extra: &[&str], names: &[&'static str]| {
        let mut args = vec![
            "search",
            SPACE,
            "--table",
            TABLE,
            "--out",
            run.to_str().unwrap(),
        ];
        args.extend(extra);
        case(name, &args, names, &["at most", "or more", "from"], &run)
    };
    let pretrain = |name: &'static str, extra: &[&str], names: &[&'static str]| {
        let mut args = vec!["pretrain-image", SPACE, "--out", run.to_str().unwrap()];
        args.extend(extra);
        case(name, &args, names, &["at most", "or more"], &run)
    };
    let cases = vec![
        sample(
            "scale 100000",
            &["--scale", "100000"],
            &["--scale", "100000"],
            &["at most 32"],
        ),
        sample("scale 0", &["--scale", "0"], &["--scale"], &["1 or more"]),
        sample(
            "steps 0",
            &["--steps", "0"],
            &["--steps", "'0'"],
            &["1 or more"],
        ),
        sample(
            "steps beyond the schedule",
            &["--steps", "2000"],
            &["--steps 2000", "timesteps"],
            &["use --steps from 1 to"],
        ),
        sample(
            "guidance NaN",
            &["--guidance", "nan"],
            &["--guidance", "nan"],
            &["finite"],
        ),
        sample(
            "guidance -1 spaced",
            &["--guidance", "-1"],
            &["--guidance", "'-1'"],
            &["finite"],
        ),
        sample(
            "guidance=-1",
            &["--guidance=-1"],
            &["--guidance", "'-1'"],
            &["finite"],
        ),
        sample(
            "threads 99999",
            &["--threads", "99999"],
            &["--threads", "99999"],
            &["cores"],
        ),
        sample(
            "threads 1000",
            &["--threads", "1000"],
            &["--threads", "1000"],
            &["cores"],
        ),
        sample(
            "threads 0",
            &["--threads", "0"],
            &["--threads"],
            &["1 or more"],
        ),
        sample(
            "scale whose frames do not fit in memory",
            &["--scale", "32"],
            &["--scale 32", "MB is available"],
            &["lower --scale"],
        )
        .env("VIDNAS_MEMORY_LIMIT_MB", "1"),
        search(
            "population -1",
            &["--population", "-1"],
            &["--population", "'-1'"],
        ),
        search(
            "latency budget 1e9",
            &["--latency-budget-ms", "1e9"],
            &["--latency-budget-ms"],
        ),
        search(
            "memory budget inf",
            &["--memory-budget-mb", "inf"],
            &["--memory-budget-mb"],
        ),
        search(
            "generations 10^9",
            &["--generations", "1000000000"],
            &["--generations"],
        ),
        search("batch -3", &["--batch=-3"], &["--batch", "'-3'"]),
        pretrain("lr NaN", &["--lr", "NaN"], &["--lr", "NaN"]),
        pretrain("steps 2000000", &["--steps", "2000000"], &["--steps"]),
        pretrain(
            "batch size 100000",
            &["--batch-size", "100000"],
            &["--batch-size"],
        ),
        pretrain(
            "checkpoint every 0",
            &["--checkpoint-every", "0"],
            &["--checkpoint-every"],
        ),
        pretrain(
            "grad clip -1",
            &["--grad-clip", "-1"],
            &["--grad-clip", "'-1'"],
        ),
        case(
            "tolerance above 100 %",
            &[
                "latency",
                "validate",
                SPACE,
                "--table",
                TABLE,
                "--out",
                run.to_str().unwrap(),
                "--tolerance-pct",
                "101",
            ],
            &["--tolerance-pct", "101"],
            &["at most 100"],
            &run,
        ),
        case(
            "rounds of 20 digits",
            &[
                "latency",
                "validate",
                SPACE,
                "--table",
                TABLE,
                "--out",
                run.to_str().unwrap(),
                "--rounds",
                "99999999999999999999",
            ],
            &["--rounds"],
            &["at most"],
            &run,
        ),
    ];
    check_all(&cases);
}

#[test]
fn environment_variables_out_of_range_are_refused_by_name() {
    let t = Paths::new();
    let space = write_micro_space(&t.root);
    let run = t.p("image");
    let pretrain = |name: &'static str, value: &'static str| {
        let args = [
            "pretrain-image",
            &space,
            "--out",
            run.to_str().unwrap(),
            "--steps",
            "1",
            "--batch-size",
            "2",
            "--train-clips",
            "4",
            "--validation-clips",
            "2",
        ];
        case(
            name,
            &args,
            &["VIDNAS_MEMORY_LIMIT_MB", value],
            &["whole number of megabytes"],
            &run,
        )
        .env("VIDNAS_MEMORY_LIMIT_MB", value)
    };
    let cases = vec![
        pretrain("memory limit not a number", "abc"),
        pretrain("memory limit 0", "0"),
        pretrain("memory limit negative", "-5"),
        pretrain("memory limit beyond a petabyte", "99999999999999"),
    ];
    check_all(&cases);
}

#[test]
fn flags_that_would_be_ignored_are_refused() {
    let t = Paths::new();
    let run = t.p("run");
    let out = run.to_str().unwrap();
    let search =
        |name: &'static str, extra: &[&str], names: &[&'static str], fix: &[&'static str]| {
            let mut args = vec!["search", SPACE, "--table", TABLE, "--out", out];
            args.extend(extra);
            case(name, &args, names, fix, &run)
        };
    let e2e = |name: &'static str, extra: &[&str], names: &[&'static str]| {
        let arch = "conv1d-none-none-none-none-none-none-none-none-none";
        let mut args = vec![
            "latency", "e2e", "--space", SPACE, "--arch", arch, "--table", TABLE,
        ];
        args.extend(extra);
        case(name, &args, names, &["--measure", "--config"], &run)
    };
    let cases = vec![
        search(
            "rerank without a supernet",
            &["--rerank", "5"],
            &["--rerank", "--supernet"],
            &["--supernet"],
        ),
        search(
            "rerank steps without a supernet",
            &["--rerank-steps", "5"],
            &["--rerank-steps", "--supernet"],
            &["--supernet"],
        ),
        search(
            "surrogate warm-up without --surrogate",
            &["--surrogate-warmup", "40"],
            &["--surrogate-warmup", "--surrogate"],
            &["--surrogate"],
        ),
        search(
            "surrogate population without --surrogate",
            &["--surrogate-population", "40"],
            &["--surrogate-population", "--surrogate"],
            &["--surrogate"],
        ),
        search(
            "samples with nsga2",
            &["--samples", "10"],
            &["--samples", "--algo random"],
            &["leave it out"],
        ),
        e2e(
            "runs without --measure",
            &["--runs", "5"],
            &["--runs", "--measure"],
        ),
        e2e(
            "measure without --config",
            &["--measure"],
            &["--measure", "--config"],
        ),
    ];
    check_all(&cases);
}

#[test]
fn a_repeated_architecture_in_a_list_is_refused_naming_both_lines() {
    let t = Paths::new();
    let encoding = vidnas_ok(&["space", "sample", SPACE, "--n", "1"]);
    let encoding = encoding.split_whitespace().last().unwrap().to_string();
    let list = t.p("archs.txt");
    std::fs::write(&list, format!("# baselines\n{encoding}\n\n{encoding}\n")).unwrap();
    let out = t.p("validation");
    let cases = vec![
        case(
            "validate --archs with a repeat",
            &[
                "latency",
                "validate",
                SPACE,
                "--table",
                TABLE,
                "--archs",
                &s(&list),
                "--out",
                &s(&out),
            ],
            &["archs.txt line 4", "line 2"],
            &["list each once"],
            &out,
        ),
        case(
            "score --archs with a repeat",
            &[
                "score",
                SPACE,
                "--archs",
                &s(&list),
                "--table",
                TABLE,
                "--out",
                &s(&t.p("scores.csv")),
            ],
            &["archs.txt line 4", "line 2"],
            &["list each once"],
            &t.p("scores.csv"),
        ),
        case(
            "payoff baselines with a repeat",
            &[
                "bench",
                "payoff",
                SPACE,
                "--search",
                "runs/none",
                "--baselines",
                &s(&list),
                "--out",
                &s(&out),
            ],
            &["archs.txt line 4", "line 2"],
            &["list each once"],
            &out,
        ),
    ];
    check_all(&cases);
}

#[test]
fn long_work_is_preceded_by_every_check_that_could_come_first() {
    let t = Paths::new();
    let run = t.p("run");
    let out = run.to_str().unwrap();
    // No ExecuTorch venv here: re-measuring an ExecuTorch table is refused before the search.
    let empty_cache = t.p("empty-cache");
    std::fs::create_dir(&empty_cache).unwrap();
    let cases = vec![
        case(
            "remeasure without ExecuTorch",
            &[
                "search",
                SPACE,
                "--table",
                ET_TABLE,
                "--out",
                out,
                "--remeasure",
                "4",
                "--population",
                "4",
                "--generations",
                "1",
            ],
            &["--remeasure", "ExecuTorch", "not installed"],
            &["scripts/install-executorch.sh"],
            &run,
        )
        .env("VIDNAS_CACHE", s(&empty_cache)),
        case(
            "surrogate warm-up too small",
            &[
                "search",
                SPACE,
                "--table",
                TABLE,
                "--out",
                out,
                "--supernet",
                "runs/none",
                "--surrogate",
                "--surrogate-warmup",
                "4",
            ],
            &["--surrogate-warmup 4", "at least"],
            &["or more"],
            &run,
        ),
        case(
            "rerank of a shard",
            &[
                "search",
                SPACE,
                "--table",
                TABLE,
                "--out",
                out,
                "--supernet",
                "runs/none",
                "--algo",
                "random",
                "--shard",
                "0/2",
                "--rerank",
                "4",
            ],
            &["--rerank 4", "shard"],
            &["leave --rerank out"],
            &run,
        ),
        case(
            "cache folder is a file",
            &[
                "latency",
                "profile",
                SPACE,
                "--out",
                &s(&t.p("t.json")),
                "--runtime",
                "executorch-xnnpack",
            ],
            &["VIDNAS_CACHE", "is a file"],
            &["point VIDNAS_CACHE at the folder"],
            &t.p("t.json"),
        )
        .env("VIDNAS_CACHE", t.s("file")),
    ];
    check_all(&cases);
}

#[test]
fn a_corrected_rerun_after_a_refused_start_is_not_blocked() {
    // The refused start above must leave no run folder behind, so the corrected command runs.
    let t = Paths::new();
    let run = t.p("run");
    let out = run.to_str().unwrap();
    let refused = common::run_vidnas(&[
        "search",
        SPACE,
        "--table",
        TABLE,
        "--out",
        out,
        "--supernet",
        "runs/none",
        "--surrogate",
        "--surrogate-warmup",
        "4",
    ]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(!run.exists(), "a refused search left {}", run.display());
    vidnas_ok(&[
        "search",
        SPACE,
        "--table",
        TABLE,
        "--out",
        out,
        "--population",
        "4",
        "--generations",
        "1",
    ]);
}

#[test]
fn messages_say_the_true_cause() {
    let t = Paths::new();
    let config = t.config();
    // A safetensors file cut short whose header length starts with 0x80 is truncated, not a
    // pickle: the micro weights' header is padded to 0x80 + 256·k bytes, then cut.
    let weights = std::fs::read(Path::new(&config).with_extension("safetensors")).unwrap();
    let truncated = t.p("truncated.safetensors");
    let mut bytes = weights.clone();
    let header = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let pad = (0x180 - (header % 0x100) + 0x100) % 0x100;
    let header_text = String::from_utf8(bytes[8..8 + header].to_vec()).unwrap();
    let padded = format!("{}{}", header_text, " ".repeat(pad));
    let mut rebuilt = (padded.len() as u64).to_le_bytes().to_vec();
    assert_eq!(rebuilt[0], 0x80);
    rebuilt.extend(padded.as_bytes());
    rebuilt.extend(&bytes[8 + header..]);
    bytes = rebuilt;
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&truncated, &bytes).unwrap();
    let gif = t.p("out/clip.gif");
    let sample = |weights: &str| {
        [
            "sample",
            "--config",
            &config,
            "--weights",
            weights,
            "--prompt",
            "a red square",
            "--steps",
            "2",
            "--out",
            gif.to_str().unwrap(),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
    };
    let args = sample(&s(&truncated));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cases = vec![case(
        "truncated safetensors starting with 0x80",
        &args,
        &["truncated.safetensors", "truncated"],
        &["copy it again"],
        &t.p("out"),
    )];
    let pickle = t.p("model.bin");
    std::fs::write(&pickle, b"\x80\x02}q\x00(X\x06\x00\x00\x00weightq\x01").unwrap();
    let args = sample(&s(&pickle));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    cases.push(case(
        "a real pickle is still called one",
        &args,
        &["model.bin", "pickle"],
        &["safetensors.torch.save_file"],
        &t.p("out"),
    ));
    let proc_out = "/proc/vidnas-cannot-exist/run";
    cases.push(case(
        "an output folder the OS refuses",
        &[
            "search",
            SPACE,
            "--table",
            TABLE,
            "--out",
            proc_out,
            "--population",
            "4",
            "--generations",
            "1",
        ],
        &["/proc/vidnas-cannot-exist"],
        &["check", "writable"],
        Path::new(proc_out),
    ));
    check_all(&cases);
}

#[test]
fn resuming_with_other_settings_names_the_flag_that_differs() {
    let t = Paths::new();
    let space = write_micro_space(&t.root);
    let table = t.s("table.json");
    profile_quick(&space, &table);
    let run = t.p("run");
    let out = run.to_str().unwrap();
    let search = |extra: &[&str]| {
        let mut args = vec!["search", &space, "--table", &table, "--out", out];
        args.extend(extra);
        args.iter().map(|a| a.to_string()).collect::<Vec<_>>()
    };
    let (pop, gens) = (["--population", "4"], ["--generations", "1"]);
    vidnas_ok(
        &search(&[&pop[..], &gens[..]].concat())
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let resume = |name: &'static str, extra: &[&str], flag: &'static str| {
        let mut extra = extra.to_vec();
        if !extra.contains(&"--population") {
            extra.extend(pop);
        }
        extra.extend(gens);
        extra.push("--resume");
        let args = search(&extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        case(
            name,
            &args,
            &[flag],
            &["resume with the same", "new run folder"],
            &run,
        )
    };
    let cases = vec![
        resume("other seed", &["--seed", "7"], "--seed"),
        resume("other algorithm", &["--algo", "evolution"], "--algo"),
        resume("other population", &["--population", "6"], "--population"),
        resume(
            "other budget",
            &["--latency-budget-ms", "50"],
            "--latency-budget-ms",
        ),
    ];
    check_all(&cases);
}

/// `vidnas args` run from `dir` instead of the repository root.
fn vidnas_in(dir: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_vidnas"))
        .args(args)
        .current_dir(dir)
        .env("OMP_NUM_THREADS", "1")
        .env("VIDNAS_MEMORY_LIMIT_MB", "16384")
        .output()
        .unwrap()
}

#[test]
fn runs_made_with_relative_paths_work_from_another_folder() {
    // Made from the repository root with relative paths, as a user types them.
    let root = common::repo_root();
    // Inside the checkout (`target/` is ignored by git; CI builds elsewhere, so make it).
    std::fs::create_dir_all(root.join("target")).unwrap();
    let tmp = tempfile::tempdir_in(root.join("target")).unwrap();
    let rel = tmp
        .path()
        .strip_prefix(root.canonicalize().unwrap())
        .map_or_else(
            |_| tmp.path().strip_prefix(&root).unwrap().to_path_buf(),
            Path::to_path_buf,
        );
    let space = write_micro_space(tmp.path());
    let rel_space = s(&rel.join("micro.json"));
    let (image, supernet) = (s(&rel.join("image")), s(&rel.join("supernet")));
    let data = [
        "--train-clips",
        "4",
        "--validation-clips",
        "2",
        "--batch-size",
        "2",
    ];
    let mut args = vec![
        "pretrain-image",
        &rel_space,
        "--out",
        &image,
        "--steps",
        "1",
    ];
    args.extend(data);
    vidnas_ok(&args);
    let mut args = vec![
        "supernet", "train", &rel_space, "--image", &image, "--out", &supernet,
    ];
    args.extend(["--steps", "1", "--batch-size", "2"]);
    vidnas_ok(&args);
    let arch = vidnas_ok(&["space", "sample", &space, "--n", "1"]);
    let arch = arch.split_whitespace().last().unwrap().to_string();
    // From another folder: the recorded space, stage-1 run and data are found.
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let abs = |p: &str| s(&root.join(p));
    let scored = vidnas_in(
        &elsewhere,
        &["supernet", "score", &abs(&supernet), "--arch", &arch],
    );
    assert!(
        scored.status.success(),
        "supernet score from another folder: {}",
        String::from_utf8_lossy(&scored.stderr)
    );
    let again = vidnas_in(
        &elsewhere,
        &[
            "supernet",
            "train",
            &abs(&rel_space),
            "--image",
            &abs(&image),
            "--out",
            "s2",
            "--steps",
            "1",
            "--batch-size",
            "2",
        ],
    );
    assert!(
        again.status.success(),
        "supernet train from another folder: {}",
        String::from_utf8_lossy(&again.stderr)
    );
    // A recorded path that exists nowhere names the field, the places looked and the fix.
    let run_json = root.join(&supernet).join("run.json");
    let text = std::fs::read_to_string(&run_json).unwrap();
    std::fs::write(&run_json, text.replace("micro.json", "moved.json")).unwrap();
    let lost = vidnas_in(
        &elsewhere,
        &["supernet", "score", &abs(&supernet), "--arch", &arch],
    );
    let err = String::from_utf8_lossy(&lost.stderr);
    assert_eq!(lost.status.code(), Some(1), "{err}");
    for needle in ["run.json", "space_path", "relative path", "--space"] {
        assert!(err.contains(needle), "does not name `{needle}`: {err}");
    }
}

#[test]
fn absurd_numbers_in_tables_and_csvs_are_refused_naming_file_key_and_field() {
    let t = Paths::new();
    let text = std::fs::read_to_string(common::repo_root().join(TABLE)).unwrap();
    let mut table: serde_json::Value = serde_json::from_str(&text).unwrap();
    let key = "attn1d|c=32|heads=4|groups=8|t=8|h=32|w=32";
    let write = |name: &str, field: &str, value: serde_json::Value| {
        let mut edited = table.clone();
        edited["entries"][key][field] = value;
        let path = t.p(name);
        std::fs::write(&path, serde_json::to_string(&edited).unwrap()).unwrap();
        s(&path)
    };
    let huge = write("huge.json", "ms", serde_json::json!(1e308));
    let negative = write("negative.json", "ms", serde_json::json!(-2.0));
    let bytes = write("bytes.json", "bytes", serde_json::json!(u64::MAX));
    table["correction"] = serde_json::Value::Null;
    let arch = "attn1d-none-none-none-none-none-none-none-none-none";
    let predict = |name: &'static str, path: &str, names: &[&'static str]| {
        let args = ["latency", "predict", SPACE, "--table", path, "--arch", arch];
        case(
            name,
            &args,
            names,
            &["vidnas latency profile", "re-profile", "fix the value"],
            &t.p("none"),
        )
    };
    let csv = t.p("ops.csv");
    std::fs::write(
        &csv,
        "signature,ms,count,mean_ms,std_ms,bytes\ndown|c=8|t=2|h=8|w=8,0.5,20,0.52,0.01,99999999999999999999\n",
    )
    .unwrap();
    let nan_csv = t.p("nan.csv");
    std::fs::write(
        &nan_csv,
        "signature,ms,count,mean_ms,std_ms\ndown|c=8|t=2|h=8|w=8,NaN,20,0.52,0.01\n",
    )
    .unwrap();
    let out = t.p("imported.json");
    let import = |name: &'static str, path: &PathBuf, names: &[&'static str]| {
        let args = [
            "latency",
            "import",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--device-name",
            "phone",
            "--backend",
            "cpu",
            "--date",
            "2026-12-07",
        ];
        case(name, &args, names, &["fix", "re-export", "measure"], &out)
    };
    let cases = vec![
        predict("an entry of 1e308 ms", &huge, &["huge.json", key, "ms"]),
        predict(
            "an entry of -2 ms",
            &negative,
            &["negative.json", key, "ms"],
        ),
        predict(
            "an entry of 2^64-1 bytes",
            &bytes,
            &["bytes.json", key, "bytes"],
        ),
        import(
            "a byte count of 20 digits",
            &csv,
            &["ops.csv", "line 2", "bytes"],
        ),
        import("a NaN time", &nan_csv, &["nan.csv", "line 2", "ms"]),
    ];
    check_all(&cases);
}
