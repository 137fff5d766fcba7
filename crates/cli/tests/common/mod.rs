//! Shared by the CLI test files: run the `vidnas` binary, and check that a malformed input is
//! refused the way users need (issue: every bad input a clear error, nothing left behind).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root: CLI tests run there so relative paths like `search-spaces/tiny.json` work.
pub fn repo_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

pub fn run_vidnas(args: &[&str]) -> Output {
    run_vidnas_with(args, &[])
}

/// [`run_vidnas`] with extra environment variables.
pub fn run_vidnas_with(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vidnas"))
        .args(args)
        .current_dir(repo_root())
        // Tests never depend on the host's core count or free memory (unless a case sets them).
        .env("OMP_NUM_THREADS", "1")
        .env("VIDNAS_MEMORY_LIMIT_MB", "16384")
        .envs(env.iter().copied())
        .output()
        .expect("runs the vidnas binary")
}

/// Runs `vidnas args`, fails the test with its stderr unless it succeeds, returns its stdout.
pub fn vidnas_ok(args: &[&str]) -> String {
    let out = run_vidnas(args);
    assert!(
        out.status.success(),
        "vidnas {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes the micro space to `dir/micro.json`, so the CLI can read it; returns the path.
pub fn write_micro_space(dir: &Path) -> String {
    let path = dir.join("micro.json");
    let file = vidnas_space::fixtures::micro().file;
    std::fs::write(&path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
    path.to_str().unwrap().to_string()
}

/// Profiles `space` into `table` as fast as possible (one repeat, no warm-up, one thread):
/// a table for tests of what reads tables, not of its numbers.
pub fn profile_quick(space: &str, table: &str) {
    let args = [
        "latency",
        "profile",
        space,
        "--out",
        table,
        "--repeats",
        "1",
        "--warmup",
        "0",
        "--threads",
        "1",
    ];
    vidnas_ok(&args);
}

/// Every file under `path` (or the file itself) with its bytes; empty when absent.
pub fn snapshot(path: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    if path.is_file() {
        files.insert(path.to_path_buf(), std::fs::read(path).unwrap());
    } else if path.is_dir() {
        files.insert(path.to_path_buf(), Vec::new());
        for entry in std::fs::read_dir(path).unwrap() {
            files.extend(snapshot(&entry.unwrap().path()));
        }
    }
    files
}

/// One malformed input and what its error must say.
pub struct Fault<'a> {
    /// Short name shown when the case fails.
    pub name: &'a str,
    pub args: Vec<String>,
    /// Substrings the error must contain: the file (or flag) and the field.
    pub names: Vec<&'a str>,
    /// At least one of these must appear: the fix or the valid values.
    pub fix: Vec<&'a str>,
    /// The `--out` target, which must be exactly as it was before the command.
    pub out: Option<PathBuf>,
    /// Environment variables the command runs with.
    pub env: Vec<(&'a str, String)>,
}

impl<'a> Fault<'a> {
    pub fn new(name: &'a str, args: &[&str]) -> Self {
        Self {
            name,
            args: args.iter().map(|s| s.to_string()).collect(),
            names: Vec::new(),
            fix: Vec::new(),
            out: None,
            env: Vec::new(),
        }
    }
    pub fn env(mut self, name: &'a str, value: impl Into<String>) -> Self {
        self.env.push((name, value.into()));
        self
    }
    pub fn names(mut self, names: &[&'a str]) -> Self {
        self.names.extend_from_slice(names);
        self
    }
    pub fn fix(mut self, fix: &[&'a str]) -> Self {
        self.fix.extend_from_slice(fix);
        self
    }
    pub fn out(mut self, out: impl Into<PathBuf>) -> Self {
        self.out = Some(out.into());
        self
    }

    /// Runs the case; returns a description of what is wrong, or `None` when it is refused well.
    pub fn check(&self) -> Option<String> {
        let before = self.out.as_deref().map(snapshot);
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = self.env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let out = run_vidnas_with(&args, &env);
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        let mut problems = Vec::new();
        match out.status.code() {
            None => problems.push("killed by a signal".to_string()),
            Some(0) => problems.push("exit code 0".to_string()),
            Some(101) => problems.push("panicked (exit 101)".to_string()),
            Some(_) => {}
        }
        if err.contains("panicked at") || err.contains("stack backtrace") {
            problems.push("the message shows a panic or a C++ stack".into());
        }
        for needle in &self.names {
            if !err.contains(needle) {
                problems.push(format!("does not name `{needle}`"));
            }
        }
        if !self.fix.is_empty() && !self.fix.iter().any(|f| err.contains(f)) {
            problems.push(format!("gives no fix (looked for any of {:?})", self.fix));
        }
        if let (Some(path), Some(before)) = (&self.out, before) {
            if snapshot(path) != before {
                problems.push(format!("changed the --out target {}", path.display()));
            }
        }
        (!problems.is_empty()).then(|| {
            format!(
                "{}: {}\n  vidnas {}\n  stderr: {}",
                self.name,
                problems.join("; "),
                self.args.join(" "),
                err.trim()
            )
        })
    }
}

/// Runs every case and fails once, listing each case that was not refused well.
pub fn check_all(cases: &[Fault]) {
    let failures: Vec<String> = cases.iter().filter_map(Fault::check).collect();
    assert!(
        failures.is_empty(),
        "{} of {} malformed inputs were not refused well:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
