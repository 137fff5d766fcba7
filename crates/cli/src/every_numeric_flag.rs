//! Every numeric flag of every subcommand (what `--help` lists), at 0, −1, NaN and 10⁹, in both
//! `--flag=v` and `--flag v` forms: each value is refused by the flag's own range check (the
//! message naming the flag and the range) unless it is one of the few values a flag documents
//! as valid. Parsing runs in-process, as `main` does, so the whole sweep takes milliseconds.

use crate::{negatives_reach_their_check, Cli};
use clap::error::ErrorKind;
use clap::{ArgAction, CommandFactory};

/// Values that are valid for a flag: seeds take any `u64`, and these take 0 (as `--flag` in
/// every command, or as `command --flag`).
const ZERO_IS_VALID: &[&str] = &[
    // Training commands: 0 steps writes the starting weights.
    "pretrain-image --steps",
    "train --steps",
    "supernet train --steps",
    "finetune --steps",
    "--seed",
    "--data-seed",
    "--warmup",
    "--warmup-steps",
    "--rerank",
    "--media-prompts",
    "--tolerance-pct",
    "--guidance",
    "--student-guidance",
    "--teacher-guidance",
    "--max-noise",
    "--max-blur",
    "--adv-weight",
    "--backward-share",
    "--text-encoder-ms",
    "--decoder-ms",
    // 0: every frame draws its own noise (the default).
    "--frame-noise-share",
];
const HUGE_IS_VALID: &[&str] = &["--seed", "--data-seed"];
const VALUES: [&str; 4] = ["0", "-1", "NaN", "1000000000"];

/// Every (command path, command) pair, depth first.
fn commands(cmd: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, clap::Command)>) {
    out.push((path.clone(), cmd.clone()));
    for sub in cmd.get_subcommands() {
        let mut p = path.clone();
        p.push(sub.get_name().to_string());
        commands(sub, p, out);
    }
}

/// Parses `vidnas PATH ARGS`; `Err` carries clap's error.
fn parse(path: &[String], args: &[String]) -> Result<(), clap::Error> {
    let argv = std::iter::once("vidnas".to_string())
        .chain(path.iter().cloned())
        .chain(args.iter().cloned());
    negatives_reach_their_check(Cli::command())
        .try_get_matches_from(argv)
        .map(drop)
}

/// Whether clap refused `value` for `flag` by the flag's own value check.
fn refused(err: &Result<(), clap::Error>, flag: &str) -> bool {
    matches!(err, Err(e) if e.kind() == ErrorKind::ValueValidation
        && e.to_string().contains(&format!("for '{flag}")))
}

#[test]
fn every_numeric_flag_refuses_out_of_range_values_by_name() {
    let root = negatives_reach_their_check(Cli::command());
    let mut all = Vec::new();
    commands(&root, Vec::new(), &mut all);
    let mut numeric = 0;
    let mut problems = Vec::new();
    for (path, cmd) in &all {
        for arg in cmd.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if arg.is_hide_set() || !matches!(arg.get_action(), ArgAction::Set | ArgAction::Append)
            {
                continue;
            }
            let flag = format!("--{long}");
            // A numeric flag refuses a word; path and text flags take it.
            if !refused(&parse(path, &[format!("{flag}=abc")]), &flag) {
                continue;
            }
            numeric += 1;
            for value in VALUES {
                let in_command = format!("{} {flag}", path.join(" "));
                let listed = |list: &[&str]| {
                    list.contains(&flag.as_str()) || list.contains(&in_command.as_str())
                };
                let valid = (value == "0" && listed(ZERO_IS_VALID))
                    || (value == "1000000000" && listed(HUGE_IS_VALID));
                for args in [
                    vec![format!("{flag}={value}")],
                    vec![flag.clone(), value.to_string()],
                ] {
                    let result = parse(path, &args);
                    let was_refused = refused(&result, &flag);
                    let shown = format!("vidnas {} {}", path.join(" "), args.join(" "));
                    if valid && was_refused {
                        problems.push(format!("{shown}: a valid value was refused"));
                    }
                    if !valid && !was_refused {
                        problems.push(format!("{shown}: an invalid value was accepted"));
                    }
                    if let Err(e) = &result {
                        let text = e.to_string();
                        if was_refused && !(text.contains("or more") || text.contains("from ")) {
                            let first = text.lines().next().unwrap_or_default();
                            // Parsers of structured values (i/n, a,b,c, dates) name their form.
                            if !text.contains("e.g.") && !text.contains("expected") {
                                problems.push(format!("{shown}: no valid range in `{first}`"));
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(numeric >= 60, "only {numeric} numeric flags found");
    assert!(
        problems.is_empty(),
        "{} problems over {numeric} numeric flags:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
