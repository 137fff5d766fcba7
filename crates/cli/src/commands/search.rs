//! `vidnas search` and `vidnas search merge`, and the value parsers other commands share.

use crate::compute_args::ComputeArgs;
use crate::evaluator::{memory_dtypes, serve_ranks, PipelineEvaluator};
use crate::paths::out_dir;
use crate::values::*;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use vidnas_diffusion::Compute;
use vidnas_io::FileRef;
use vidnas_latency::{check_covers, predict, LatencyTable, PredictRequest};
use vidnas_profile::executorch::Runtime;
use vidnas_profile::validate::{validate, ValidateOptions};
use vidnas_report::Breakdown;
use vidnas_search::{
    check_run_folder, derive, kendall_tau, merge, parse_hv_reference, progress_bar_callback,
    rerank_run, run_search, select, spread_over_latency, write_outputs, write_remeasured,
    write_reranked, Algo, Budgets, EvolutionParams, Nsga2Params, Remeasured, Reranked, ResultRow,
    RunOptions, SearchConfig, SearchOutcome, Selector, Shard, SurrogateParams,
};
use vidnas_space::{Architecture, Space};
use vidnas_supernet::{fine_tune_and_score, RerankConfig, SupernetScorer};

#[derive(Clone, Copy, ValueEnum, PartialEq)]
pub enum AlgoArg {
    /// Multi-objective NSGA-II over (score, latency, memory) with hard budgets.
    Nsga2,
    /// Single objective (best score under the budgets), OFA-style.
    Evolution,
    /// Uniform random architectures.
    Random,
    /// Every architecture (small spaces or predictor-only runs).
    Exhaustive,
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SearchCommand {
    #[command(subcommand)]
    pub sub: Option<SearchSub>,
    #[command(flatten)]
    pub args: SearchArgs,
}

#[derive(Subcommand)]
pub enum SearchSub {
    /// Join the run folders of shards (`--shard i/n`) into one run with one front.
    Merge {
        space: PathBuf,
        /// Shard run folders.
        #[arg(required = true)]
        runs: Vec<PathBuf>,
        #[arg(long, value_parser = out_dir)]
        out: PathBuf,
    },
}

#[derive(Args)]
pub struct SearchArgs {
    /// Search-space file.
    pub space: Option<PathBuf>,
    /// Latency table that predicts latency and memory (see `vidnas latency profile`). Repeat
    /// it (up to 3 tables) for a joint search over several devices: each device's latency is
    /// an objective, named by its table's file stem (phone.json: `phone`); memory comes from
    /// the first table.
    #[arg(long)]
    pub table: Vec<PathBuf>,
    /// Supernet run that scores quality; without it the search is predictor-only
    /// (latency, memory and temporal capacity).
    #[arg(long)]
    pub supernet: Option<PathBuf>,
    /// Run folder: results.csv, front.csv, summary.json, progress.csv, breakdown.json.
    #[arg(long, value_parser = out_dir)]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "nsga2")]
    pub algo: AlgoArg,
    /// Hard latency budget (ms); architectures above it never reach the front. With several
    /// tables, one budget per device by name: `phone=40,laptop=15` (devices left out have none).
    #[arg(long, value_name = "MS|NAME=MS,…", value_parser = named_budgets(MAX_MS))]
    pub latency_budget_ms: Option<NamedBudgets>,
    /// Hard peak-memory budget (MB). When the tables were measured in different dtypes, peak
    /// memory is one objective per dtype and the budgets are named by dtype: `f16=400,f32=900`
    /// (dtypes left out have none).
    #[arg(long, value_name = "MB|DTYPE=MB,…", value_parser = named_budgets(MAX_MB))]
    pub memory_budget_mb: Option<NamedBudgets>,
    /// Architectures per generation (2 or more for nsga2 and evolution).
    #[arg(long, default_value_t = 32, value_parser = whole(1, MAX_COUNT))]
    pub population: usize,
    /// Generations after the initial population (nsga2 and evolution).
    #[arg(long, default_value_t = 10, value_parser = whole(1, MAX_COUNT))]
    pub generations: usize,
    /// Architectures for --algo random [default: 200].
    #[arg(long, value_parser = whole(1, MAX_COUNT))]
    pub samples: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Continue the run in --out from its results.csv (nothing is scored twice). A partial last
    /// line (a run killed while writing it) is dropped with a warning and scored again.
    #[arg(long)]
    pub resume: bool,
    /// Split exhaustive or random search: `i/n` takes every n-th candidate from i.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Hypervolume reference point: comma-separated numbers, one per minimised objective
    /// (score,latency_ms,peak_mem_mb with a supernet; latency_ms,peak_mem_mb,neg_temporal_params
    /// without; a joint search has one latency per device in place of latency_ms).
    #[arg(long, value_name = "A,B,C", value_parser = parse_hv_ref, allow_hyphen_values = true)]
    pub hv_ref: Option<HvRef>,
    /// The runtime the model will ship on: every --table must have been measured on it
    /// (`device.backend`: cpu/cuda for libtorch, executorch-xnnpack), else the search is refused.
    #[arg(long, value_enum)]
    pub runtime: Option<crate::commands::latency::RuntimeArg>,
    /// The dtype the model will ship in: every --table must be measured in it.
    #[arg(long, value_enum)]
    pub dtype: Option<crate::commands::latency::DtypeArg>,
    /// Clips per forward the model will run: every --table must be measured at it.
    #[arg(long, value_parser = whole(1, MAX_BATCH))]
    pub batch: Option<usize>,
    /// Surrogate-assisted NSGA-II (needs --supernet and --algo nsga2): the supernet scores
    /// --surrogate-warmup random architectures, then each generation NSGA-II runs on a fitted
    /// surrogate of the supernet score (kernel ridge on slot×op choices and their pairs) and
    /// the supernet scores up to --population of the predicted front. results.csv marks each
    /// score `supernet` or `surrogate`; only supernet-scored architectures reach the front.
    #[arg(long)]
    pub surrogate: bool,
    /// Supernet-scored random architectures before the first surrogate fit.
    #[arg(long, default_value_t = SurrogateParams::default().warmup, value_parser = whole(1, MAX_COUNT), requires = "surrogate")]
    pub surrogate_warmup: usize,
    /// NSGA-II population on surrogate scores (per generation).
    #[arg(long, default_value_t = SurrogateParams::default().inner_population, value_parser = whole(2, MAX_COUNT), requires = "surrogate")]
    pub surrogate_population: usize,
    /// NSGA-II generations on surrogate scores (per generation).
    #[arg(long, default_value_t = SurrogateParams::default().inner_generations, value_parser = whole(1, MAX_COUNT), requires = "surrogate")]
    pub surrogate_generations: usize,
    /// At the end, time K front architectures (spread over its latency range) as whole networks
    /// on this machine with the `latency validate` protocol, the table's threads and batch:
    /// remeasure.csv (predicted, interval, measured), `measured_latency_ms` in front.csv, and
    /// the report marks them. Needs an f32 table profiled on this CPU (libtorch or
    /// executorch-xnnpack: the networks run on the table's runtime).
    #[arg(long, value_name = "K", value_parser = whole(2, 1000))]
    pub remeasure: Option<usize>,
    /// At the end, re-rank the front: K of its architectures (spread over its latency range)
    /// inherit the supernet's weights, fine-tune --rerank-steps each, and are scored again on
    /// the supernet's validation clips; the front becomes the Pareto set of those K under their
    /// new scores (rerank.csv; `score_source` `rerank` in front.csv), which export uses. This
    /// ranks best on the ranking benchmark (reports/ranking/methods.md). The front is only as
    /// dense as K: raise it (the payoff study uses 24) when you will pick an architecture
    /// under a given latency. 0 turns it off; it needs a supernet run (not a few-shot folder)
    /// and one process. [default: 8 with --supernet]
    #[arg(long, value_name = "K", value_parser = whole(0, 1000), requires = "supernet")]
    pub rerank: Option<usize>,
    /// Fine-tuning steps per re-ranked architecture.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = steps(MAX_STEPS), requires = "supernet")]
    pub rerank_steps: usize,
    /// Device and threads of supernet scoring. Launched on N ranks (mpirun, srun), rank 0
    /// searches and every rank scores its share of each batch.
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// `--latency-budget-ms` and `--memory-budget-mb`: one number, or one per device (dtype) by name.
#[derive(Clone, Debug, PartialEq)]
pub enum NamedBudgets {
    One(f64),
    Named(Vec<(String, f64)>),
}

/// `60` or `phone=40,laptop=15`, each value a finite number above 0 and at most `hi`.
pub fn named_budgets(
    hi: f64,
) -> impl Fn(&str) -> Result<NamedBudgets, String> + Clone + Send + Sync + 'static {
    move |text| parse_named_budgets(text, hi)
}

fn parse_named_budgets(text: &str, hi: f64) -> Result<NamedBudgets, String> {
    if !text.contains('=') {
        return positive_at_most(text, hi).map(NamedBudgets::One);
    }
    let form =
        "write NAME=VALUE pairs separated by commas, e.g. phone=40,laptop=15 or f16=400,f32=900";
    text.split(',')
        .map(|pair| match pair.split_once('=') {
            Some((name, ms)) if !name.trim().is_empty() => {
                let ms = positive_at_most(ms, hi).map_err(|e| format!("`{pair}`: {e}"))?;
                Ok((name.trim().to_string(), ms))
            }
            _ => Err(format!("`{pair}` is not NAME=VALUE; {form}")),
        })
        .collect::<Result<Vec<_>, String>>()
        .map(NamedBudgets::Named)
}

/// The devices of a search, named by their tables' file stems (at most 3, distinct, usable
/// in a CSV column and a file name).
fn device_names(tables: &[PathBuf]) -> Result<Vec<String>> {
    if tables.len() > 3 {
        bail!(
            "--table given {} times; a joint search takes at most 3 tables (one per device)",
            tables.len()
        );
    }
    let mut names: Vec<String> = Vec::new();
    for t in tables {
        let name = t
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string();
        let usable = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
        if !usable {
            bail!(
                "--table {}: the file stem `{name}` names the device in results.csv and the report; rename the file to letters, digits, `-`, `_` or `.`",
                t.display()
            );
        }
        if names.contains(&name) {
            bail!(
                "--table {}: another table is also named `{name}`; every device needs its own file stem (e.g. phone.json, laptop.json)",
                t.display()
            );
        }
        names.push(name);
    }
    Ok(names)
}

/// Which budgets a flag names: the devices (latency) or the dtypes (peak memory).
struct BudgetKind {
    flag: &'static str,
    /// `device` or `dtype`.
    per: &'static str,
    /// Where the names come from, for the error.
    names_from: &'static str,
}

const LATENCY_BUDGETS: BudgetKind = BudgetKind {
    flag: "--latency-budget-ms",
    per: "device",
    names_from: "the --table file stems",
};

const MEMORY_BUDGETS: BudgetKind = BudgetKind {
    flag: "--memory-budget-mb",
    per: "dtype",
    names_from: "the tables' device.dtype",
};

/// The budget of each of `names` (devices or dtypes): the first's, then the rest in order.
fn resolve_budgets(
    kind: &BudgetKind,
    budgets: &Option<NamedBudgets>,
    names: &[String],
) -> Result<(Option<f64>, [Option<f64>; 2])> {
    let BudgetKind {
        flag,
        per,
        names_from,
    } = kind;
    let mut each = [None; 3];
    match budgets {
        None => {}
        Some(NamedBudgets::One(v)) if names.len() <= 1 => each[0] = Some(*v),
        Some(NamedBudgets::One(v)) => bail!(
            "{flag} {v}: with {} {per}s, give one budget per {per} by name, e.g. {flag} {}",
            names.len(),
            names
                .iter()
                .map(|n| format!("{n}={v}"))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Some(NamedBudgets::Named(pairs)) => {
            for (name, v) in pairs {
                let Some(i) = names.iter().position(|n| n == name) else {
                    bail!(
                        "{flag}: no {per} is named `{name}`; the {per}s are {} ({names_from})",
                        names.join(", ")
                    );
                };
                if each[i].replace(*v).is_some() {
                    bail!("{flag}: `{name}` has two budgets; give one");
                }
            }
        }
    }
    Ok((each[0], [each[1], each[2]]))
}

/// `--hv-ref`'s three numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct HvRef(pub Vec<f64>);

// Value parsers: clap prefixes each message with the flag and the value typed, so the message
// says what is wrong and the expected form.

/// Three finite comma-separated numbers.
pub fn parse_hv_ref(text: &str) -> Result<HvRef, String> {
    parse_hv_reference(text).map(HvRef)
}

fn required<'a, T>(v: &'a Option<T>, flag: &str) -> Result<&'a T> {
    v.as_ref()
        .with_context(|| format!("missing {flag}; see `vidnas search --help`"))
}

pub fn run(cmd: SearchCommand) -> Result<()> {
    if let Some(SearchSub::Merge { space, runs, out }) = cmd.sub {
        let space = Space::load(space)?;
        let outcome = merge(&space, &runs, &out)?;
        print_outcome(&outcome, &out);
        return Ok(());
    }
    let a = cmd.args;
    let space = Space::load(required(&a.space, "SPACE")?)?;
    if a.table.is_empty() {
        bail!("missing --table; see `vidnas search --help`");
    }
    let out = required(&a.out, "--out")?.clone();
    let compute = a.compute.open()?;
    if !compute.is_lead() {
        return serve_ranks(&space, a.supernet.as_deref(), &compute);
    }
    let outcome = search(&space, &a.table, a.supernet.as_deref(), &out, &a, &compute)?;
    print_outcome(&outcome, &out);
    Ok(())
}

pub fn search(
    space: &Space,
    tables: &[PathBuf],
    supernet: Option<&Path>,
    out: &Path,
    a: &SearchArgs,
    compute: &Compute,
) -> Result<SearchOutcome> {
    // Cheap checks first, so a typo is reported before the supernet is loaded, and nothing
    // is written before every input has been read.
    if a.surrogate && (supernet.is_none() || !matches!(a.algo, AlgoArg::Nsga2)) {
        bail!(
            "--surrogate models the supernet score inside NSGA-II: pass --supernet RUN and keep --algo nsga2"
        );
    }
    preflight(space, supernet, a, compute)?;
    let nsga2 = Nsga2Params {
        population: a.population,
        generations: a.generations,
        ..Default::default()
    };
    let algo = match a.algo {
        AlgoArg::Nsga2 if a.surrogate => Algo::SurrogateNsga2 {
            nsga2,
            surrogate: SurrogateParams {
                warmup: a.surrogate_warmup,
                inner_population: a.surrogate_population,
                inner_generations: a.surrogate_generations,
            },
        },
        AlgoArg::Nsga2 => Algo::Nsga2(nsga2),
        AlgoArg::Evolution => Algo::Evolution(EvolutionParams {
            population: a.population,
            generations: a.generations,
            ..Default::default()
        }),
        AlgoArg::Random => Algo::Random {
            samples: a.samples.unwrap_or(DEFAULT_RANDOM_SAMPLES),
            batch: a.population.max(1),
        },
        AlgoArg::Exhaustive => Algo::Exhaustive {
            batch: if supernet.is_some() { 64 } else { 65536 },
        },
    };
    let names = device_names(tables)?;
    let (latency_ms, other_latency_ms) =
        resolve_budgets(&LATENCY_BUDGETS, &a.latency_budget_ms, &names)?;
    let mut config = SearchConfig {
        algo,
        seed: a.seed,
        budgets: Budgets {
            latency_ms,
            other_latency_ms,
            ..Budgets::none()
        },
        shard: a.shard,
        hv_reference: a.hv_ref.as_ref().map(|h| h.0.clone()),
        table: None,
        supernet: None,
        devices: if names.len() > 1 { names } else { Vec::new() },
        other_tables: Vec::new(),
        memory_dtypes: Vec::new(),
    };
    let table_path = &tables[0];
    let mut others = Vec::new();
    for path in &tables[1..] {
        config.other_tables.push(FileRef::of(path)?);
    }
    let table = LatencyTable::load(table_path)?;
    check_covers(space, &table)?;
    check_deployment(a, &table, table_path)?;
    for path in &tables[1..] {
        let other = LatencyTable::load(path)?;
        check_covers(space, &other)?;
        check_deployment(a, &other, path)?;
        others.push(other);
    }
    // Tables of several dtypes: one peak-memory objective (and budget) per dtype.
    config.memory_dtypes = memory_dtypes(&table, &others);
    let dtype_names = match config.memory_dtypes.is_empty() {
        true => vec![table.device.dtype.as_str().to_string()],
        false => config.memory_dtypes.clone(),
    };
    (config.budgets.memory_mb, config.budgets.other_memory_mb) =
        resolve_budgets(&MEMORY_BUDGETS, &a.memory_budget_mb, &dtype_names)?;
    config.check()?;
    check_run_folder(out, a.resume)?;
    if a.remeasure.is_some() {
        check_remeasurable(&table, table_path)?;
    }
    let scorer = supernet
        .map(|s| SupernetScorer::open(space, s, compute.device))
        .transpose()?;
    // The supernet is recorded as its run folder with the hash of its weights (of every part
    // of a few-shot folder).
    config.supernet = match (supernet, &scorer) {
        (Some(s), Some(scorer)) => Some(FileRef {
            path: s.to_path_buf(),
            sha256: scorer.weights_sha256()?,
        }),
        _ => None,
    };
    config.table = Some(FileRef::of(table_path)?);
    let mut evaluator =
        PipelineEvaluator::new(space, &table, &others, scorer, compute.comm.as_ref())?;
    if a.resume {
        warn_torn_line(&out.join("results.csv"));
    }
    let bar = vidnas_io::progress_bar(
        true,
        0,
        "search [{bar:30}] {pos}/{len} evaluations, eta {eta} {msg}",
    );
    let mut callback = progress_bar_callback(&bar);
    let outcome = run_search(
        space,
        &mut evaluator,
        &config,
        out,
        RunOptions {
            resume: a.resume,
            progress: Some(&mut callback),
        },
    )?;
    bar.finish_and_clear();
    let mut outcome = outcome;
    if let Ok(knee) = select(&outcome.front, &Selector::Knee) {
        write_breakdown(space, &table, &knee.arch, out)?;
    }
    let rerank_k = a.rerank.unwrap_or(DEFAULT_RERANK);
    if let Some(supernet) = supernet.filter(|_| rerank_k > 0) {
        if let Some(why) = why_not_reranked(supernet, a.shard.is_some(), compute) {
            eprintln!("--rerank skipped: {why}");
        } else {
            let request = RerankRequest {
                k: rerank_k,
                steps: a.rerank_steps,
                seed: a.seed,
            };
            rerank(space, &table, supernet, &mut outcome, request, out, compute)?;
        }
    }
    if let Some(k) = a.remeasure {
        remeasure(space, &table, &outcome, k, a.seed, out)?;
    }
    Ok(outcome)
}

/// `--samples` when it is not given (random search).
const DEFAULT_RANDOM_SAMPLES: usize = 200;
/// `--rerank` when it is not given and a supernet scores.
const DEFAULT_RERANK: usize = 8;

/// Refuses, before the supernet is loaded or the run folder made, flags this search would
/// ignore or could only refuse once scoring has started.
fn preflight(
    space: &Space,
    supernet: Option<&Path>,
    a: &SearchArgs,
    compute: &Compute,
) -> Result<()> {
    if a.samples.is_some() && a.algo != AlgoArg::Random {
        bail!("--samples sets the size of --algo random; leave it out, or pass --algo random");
    }
    if a.surrogate {
        let needed = vidnas_search::min_fit_rows(space.slots.len());
        if a.surrogate_warmup < needed {
            bail!(
                "--surrogate-warmup {}: the surrogate needs at least {needed} supernet-scored \
                 architectures to fit in this space ({} slots); pass --surrogate-warmup {needed} \
                 or more",
                a.surrogate_warmup,
                space.slots.len()
            );
        }
    }
    if let (Some(k), Some(run)) = (a.rerank.filter(|&k| k > 0), supernet) {
        if let Some(why) = why_not_reranked(run, a.shard.is_some(), compute) {
            bail!("--rerank {k}: {why}, or leave --rerank out");
        }
    }
    Ok(())
}

/// Why the front of a search scored by `supernet` cannot be re-ranked, if it cannot: refused
/// up front when `--rerank` is given, skipped with this message when it is the default.
pub fn why_not_reranked(supernet: &Path, shard: bool, compute: &Compute) -> Option<&'static str> {
    if shard {
        Some("a shard's front is only known after `search merge`; re-rank the merged run")
    } else if supernet.join(vidnas_supernet::fewshot::SPLIT_FILE).exists() {
        Some("a few-shot supernet folder is not re-ranked; pass a single supernet run")
    } else if compute.comm.world_size() > 1 {
        Some("fine-tuning runs in one process; re-rank with one rank")
    } else {
        None
    }
}

/// What `--rerank K --rerank-steps N` asks for.
#[derive(Clone, Copy)]
pub struct RerankRequest {
    pub k: usize,
    pub steps: usize,
    pub seed: u64,
}

/// `--rerank`: (callers first ask [`why_not_reranked`]) fine-tunes K front architectures from the supernet (each its own run folder
/// under `rerank/`, reused on resume), scores them again, makes their Pareto set the front, and
/// redraws the knee's latency breakdown.
pub fn rerank(
    space: &Space,
    table: &LatencyTable,
    supernet: &Path,
    outcome: &mut SearchOutcome,
    request: RerankRequest,
    out: &Path,
    compute: &Compute,
) -> Result<()> {
    // Picked from the supernet's front, whatever an earlier re-ranking of this run made of it.
    let supernet_front = derive(&outcome.settings, &outcome.rows, &HashMap::new()).front_rows;
    let picked: Vec<ResultRow> = spread_over_latency(&supernet_front, request.k)
        .into_iter()
        .cloned()
        .collect();
    let bar = vidnas_io::progress_bar(true, picked.len() as u64, &format!(
            "re-rank [{{bar:30}}] {{pos}}/{{len}} front architectures x {} fine-tuning steps, eta {{eta}}",
            request.steps
        ));
    let config = RerankConfig {
        steps: request.steps,
        seed: request.seed,
    };
    let mut rows = Vec::new();
    for r in &picked {
        let run = rerank_run(out, &r.arch_id);
        let score = fine_tune_and_score(space, supernet, &r.arch, config, &run, compute)?;
        rows.push(Reranked {
            arch_id: r.arch_id.clone(),
            arch: r.arch.encode(),
            steps: request.steps,
            supernet_score: r.eval.score.unwrap_or(f64::NAN),
            score,
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    write_reranked(out, &rows)?;
    let derived = write_outputs(out, space, &outcome.settings, &outcome.rows)?;
    outcome.front = derived.front_rows;
    outcome.summary = derived.summary;
    let supernet_order: Vec<f64> = rows.iter().map(|r| r.supernet_score).collect();
    let new_order: Vec<f64> = rows.iter().map(|r| r.score).collect();
    eprintln!(
        "re-ranked {} front architectures ({} steps each): Kendall τ {:.2} between supernet and re-ranked scores; {} on the re-ranked front",
        rows.len(),
        request.steps,
        kendall_tau(&supernet_order, &new_order),
        outcome.front.len()
    );
    if let Ok(knee) = select(&outcome.front, &Selector::Knee) {
        write_breakdown(space, table, &knee.arch, out)?;
    }
    Ok(())
}

/// `--runtime`, `--dtype`, `--batch`: a table measured under other conditions than the
/// deployment the search is for is refused, naming both.
fn check_deployment(a: &SearchArgs, table: &LatencyTable, path: &Path) -> Result<()> {
    let d = &table.device;
    if let Some(runtime) = a.runtime.map(Runtime::from) {
        if Runtime::of_table(table) != runtime {
            bail!(
                "--table {}: measured on runtime {} (device.backend `{}`) but --runtime is {}; profile a table on {} (`vidnas latency profile --runtime {}`) or search for {}",
                path.display(),
                Runtime::of_table(table).name(),
                d.backend,
                runtime.name(),
                runtime.name(),
                runtime.name(),
                Runtime::of_table(table).name()
            );
        }
    }
    if let Some(dtype) = a.dtype.map(vidnas_latency::Dtype::from) {
        if d.dtype != dtype {
            bail!(
                "--table {}: measured in {} (device.dtype) but --dtype is {}; profile a table with --dtype {} or search with --dtype {}",
                path.display(),
                d.dtype.as_str(),
                dtype.as_str(),
                dtype.as_str(),
                d.dtype.as_str()
            );
        }
    }
    if let Some(batch) = a.batch {
        if d.batch != batch {
            bail!(
                "--table {}: measured at batch {} (device.batch) but --batch is {batch}; profile a table with --batch {batch} or search with --batch {}",
                path.display(),
                d.batch,
                d.batch
            );
        }
    }
    Ok(())
}

/// Re-measurement times whole networks on this machine's CPU in f32 with the runtime that
/// measured the table (libtorch or ExecuTorch): a table from a GPU, a phone or another dtype
/// would be compared with something it never described.
fn check_remeasurable(table: &LatencyTable, path: &Path) -> Result<()> {
    let d = &table.device;
    // An imported table was measured elsewhere (a phone), whatever its backend says.
    let local = (d.backend == "cpu" || d.backend == vidnas_profile::executorch::BACKEND)
        && !d.source.starts_with("imported");
    if !local || d.dtype != vidnas_latency::Dtype::F32 {
        bail!(
            "--remeasure: {} was measured on backend `{}` in {:?}; re-measurement times whole networks on this machine's CPU in f32 (libtorch, or ExecuTorch for executorch-xnnpack tables), so it would compare different devices. Leave --remeasure out, or search with a table profiled here (`vidnas latency profile`)",
            path.display(),
            d.backend,
            d.dtype
        );
    }
    if d.backend == vidnas_profile::executorch::BACKEND {
        // Checked now, not after the whole search: the networks are timed on ExecuTorch.
        vidnas_profile::executorch::python().context("--remeasure")?;
    }
    Ok(())
}

/// Times `k` front architectures on this machine and marks them in the run folder.
fn remeasure(
    space: &Space,
    table: &LatencyTable,
    outcome: &SearchOutcome,
    k: usize,
    seed: u64,
    out: &Path,
) -> Result<()> {
    let picked = spread_over_latency(&outcome.front, k);
    if picked.len() < 2 {
        eprintln!(
            "--remeasure: the front holds {} architecture(s); timing needs at least 2, skipped",
            picked.len()
        );
        return Ok(());
    }
    eprintln!(
        "re-measuring {} front architectures on this machine ({} threads, batch {})",
        picked.len(),
        table.device.threads,
        table.device.batch
    );
    let opts = ValidateOptions {
        samples: 0,
        archs: Some(picked.iter().map(|r| r.arch.clone()).collect()),
        seed,
        rounds: 8,
        repeats: 3,
        tolerance: 0.05,
        max_redo: 2,
        threads: table.device.threads,
        runtime: Runtime::of_table(table),
    };
    let report = validate(space, table, &opts, true)?;
    let rows: Vec<Remeasured> = picked
        .iter()
        .zip(&report.rows)
        .map(|(r, m)| Remeasured {
            arch_id: r.arch_id.clone(),
            arch: r.arch.encode(),
            predicted_ms: r.eval.latency_ms,
            interval_ms: r.eval.latency_interval_ms,
            measured_ms: m.measured_ms,
        })
        .collect();
    write_remeasured(out, &rows)?;
    write_outputs(out, space, &outcome.settings, &outcome.rows)?;
    for r in &rows {
        let inside = match r.inside_interval() {
            Some(true) => ", inside the interval",
            Some(false) => ", OUTSIDE the interval",
            None => "",
        };
        eprintln!(
            "  {} predicted {:.2} ms, measured {:.2} ms ({:+.1}%{inside})",
            r.arch_id,
            r.predicted_ms,
            r.measured_ms,
            (r.measured_ms / r.predicted_ms - 1.0) * 100.0
        );
    }
    eprintln!(
        "noise floor of the measurement: {:.1}%",
        report.noise_floor_pct
    );
    Ok(())
}

/// A results.csv that ends without a newline was cut while a row was written; resume drops
/// that partial row (its architecture is scored again) and says so.
fn warn_torn_line(results: &Path) {
    let Ok(bytes) = std::fs::read(results) else {
        return;
    };
    if bytes.last().is_some_and(|&b| b != b'\n') {
        let line = 1 + bytes.iter().filter(|&&b| b == b'\n').count();
        eprintln!(
            "warning: {} line {line} is incomplete (the run stopped while writing it); it is \
             dropped and its architecture scored again",
            results.display()
        );
    }
}

/// Per-slot predicted latency of `arch`, for the report's breakdown figure (breakdown.json).
fn write_breakdown(
    space: &Space,
    table: &LatencyTable,
    arch: &Architecture,
    run: &Path,
) -> Result<()> {
    let p = predict(space, arch, table, &PredictRequest::for_table(table))?;
    Breakdown::new(space, arch, Some(p.backbone_ms), &p.per_slot_ms).write(run)?;
    Ok(())
}

fn print_outcome(o: &SearchOutcome, out: &Path) {
    let s = &o.summary;
    println!(
        "{} architectures evaluated ({} now), {} on the front; results in {}",
        o.rows.len(),
        o.scored_now,
        o.front.len(),
        out.display()
    );
    println!("hypervolume {:.6}", s.hypervolume);
    if o.surrogate_rows > 0 {
        let taus: Vec<String> = o
            .surrogate_fits
            .iter()
            .map(|f| format!("{:.2} ({} rows)", f.held_out_tau, f.rows))
            .collect();
        println!(
            "surrogate: {} predictions recorded; leave-one-out Kendall τ per generation: {}",
            o.surrogate_rows,
            taus.join(", ")
        );
    }
    println!(
        "\n{:<12} {:>10} {:>11} {:>10}  arch",
        "id", "score", "latency_ms", "mem_mb"
    );
    for r in &o.front {
        let score = r.eval.score.map_or("-".to_string(), |v| format!("{v:.5}"));
        println!(
            "{:<12} {:>10} {:>11.3} {:>10.2}  {}",
            r.arch_id,
            score,
            r.eval.latency_ms,
            r.eval.peak_mem_mb,
            r.arch.encode()
        );
    }
}
