//! `vidnas bench payoff`: do searched architectures beat hand-designed ones at equal latency?
//! Pairs each baseline with its searched counterpart (the front architecture of best supernet
//! score predicted at most as slow, `vidnas_search::counterparts`), then, once every
//! architecture is trained stand-alone and timed, writes the table and the plot.
//!
//! Two steps, one command: without --standalone it writes `pairs.csv` and `archs.txt` (what to
//! train and time) and says what to run next; with --standalone and --measured it judges.

use crate::commands::score::read_archs;
use crate::paths::out_dir;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use vidnas_latency::{predict, LatencyTable, PredictRequest};
use vidnas_report::{write_payoff_plot, PayoffPair, PayoffPoint};
use vidnas_search::{counterparts, load_run, ResultRow};
use vidnas_space::{Architecture, Space};

#[derive(Args)]
pub struct BenchPayoffArgs {
    pub space: PathBuf,
    /// The search run whose front supplies the counterparts.
    #[arg(long)]
    pub search: PathBuf,
    /// Hand-designed baselines, one encoding per line (`#` comments).
    #[arg(long)]
    pub baselines: PathBuf,
    /// Stand-alone runs (`vidnas train`) of every architecture in archs.txt, two or more seeds
    /// each.
    #[arg(long, num_args = 1.., requires = "measured")]
    pub standalone: Vec<PathBuf>,
    /// validation.csv of `vidnas latency validate --archs <out>/archs.txt` (measured latency).
    #[arg(long, requires = "standalone")]
    pub measured: Option<PathBuf>,
    /// Folder for pairs.csv and archs.txt, then payoff.csv, payoff.md and the plot.
    #[arg(long, value_parser = out_dir)]
    pub out: PathBuf,
}

/// A baseline, its predicted latency on the search's table, and its counterpart on the front.
struct Pair {
    baseline: Architecture,
    baseline_ms: f64,
    searched: Option<ResultRow>,
}

pub fn run(a: BenchPayoffArgs) -> Result<()> {
    let space = Space::load(&a.space)?;
    // The small file first: a typo in the baselines is reported before the run is read.
    let baselines = read_archs(&space, &a.baselines)?;
    let search = load_run(&a.search, &space)?;
    let Some(table_path) = search.settings.table_file(&a.search)? else {
        bail!(
            "{}: records no latency table; the payoff study pairs on predicted latency",
            a.search.join("run.json").display()
        );
    };
    let table = LatencyTable::load(&table_path)
        .with_context(|| format!("the search's latency table ({})", table_path.display()))?;
    let request = PredictRequest::for_table(&table);
    let baseline_ms = baselines
        .iter()
        .map(|b| Ok(predict(&space, b, &table, &request)?.total_ms))
        .collect::<Result<Vec<f64>>>()?;
    let scored: Vec<ResultRow> = search
        .front
        .iter()
        .filter(|r| r.eval.score.is_some())
        .cloned()
        .collect();
    if scored.is_empty() {
        bail!(
            "{}: the front holds no supernet-scored architecture; search with --supernet",
            a.search.display()
        );
    }
    let pairs: Vec<Pair> = baselines
        .iter()
        .zip(&baseline_ms)
        .zip(counterparts(&scored, &baseline_ms))
        .map(|((b, &ms), c)| Pair {
            baseline: b.clone(),
            baseline_ms: ms,
            searched: c.map(|i| scored[i].clone()),
        })
        .collect();
    crate::paths::create_out_dir(&a.out)?;
    write_pairs(&a.out, &pairs)?;
    let Some(measured) = &a.measured else {
        let out = a.out.display();
        println!(
            "{} baselines paired ({} with a counterpart); wrote {out}/pairs.csv and {out}/archs.txt.\n\
             next: train every architecture of archs.txt stand-alone (vidnas train, 2+ seeds), time\n\
             them (vidnas latency validate --archs {out}/archs.txt), then rerun with --standalone\n\
             RUN... --measured <validate out>/validation.csv",
            pairs.len(),
            pairs.iter().filter(|p| p.searched.is_some()).count(),
        );
        return Ok(());
    };
    let losses = standalone_losses(&space, &a.standalone)?;
    let latency = measured_latency(measured)?;
    judge(&a, &pairs, &losses, &latency)
}

/// `pairs.csv` (the pairing) and `archs.txt` (every architecture, once, to train and time).
fn write_pairs(out: &Path, pairs: &[Pair]) -> Result<()> {
    let mut csv = String::from(
        "baseline_id,baseline,baseline_predicted_ms,searched_id,searched,searched_predicted_ms,searched_score\n",
    );
    let mut archs: Vec<String> = Vec::new();
    for p in pairs {
        let (id, arch, ms, score) = match &p.searched {
            Some(r) => (
                r.arch_id.clone(),
                r.arch.encode(),
                r.eval.latency_ms.to_string(),
                r.eval.score.map_or(String::new(), |s| s.to_string()),
            ),
            None => Default::default(),
        };
        writeln!(
            csv,
            "{},{},{},{id},{arch},{ms},{score}",
            p.baseline.id(),
            p.baseline.encode(),
            p.baseline_ms
        )?;
        for a in
            std::iter::once(p.baseline.encode()).chain(p.searched.as_ref().map(|r| r.arch.encode()))
        {
            if !archs.contains(&a) {
                archs.push(a);
            }
        }
    }
    vidnas_io::write_atomic(&out.join("pairs.csv"), csv.as_bytes())?;
    let list = format!(
        "# baselines and their searched counterparts (vidnas bench payoff)\n{}\n",
        archs.join("\n")
    );
    vidnas_io::write_atomic(&out.join("archs.txt"), list.as_bytes())?;
    Ok(())
}

/// Stand-alone loss per architecture: one score per seed.
fn standalone_losses(space: &Space, runs: &[PathBuf]) -> Result<BTreeMap<String, Vec<f64>>> {
    let mut losses: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for run in runs {
        let (arch, _, score) = super::score_standalone(space, run)?;
        losses.entry(arch.encode()).or_default().push(score);
    }
    Ok(losses)
}

/// `arch → measured_ms` from a `latency validate` validation.csv.
fn measured_latency(path: &Path) -> Result<BTreeMap<String, f64>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let header = reader.headers()?.clone();
    let column = |name| {
        super::csv_column(
            &header,
            path,
            name,
            "pass the validation.csv written by `vidnas latency validate --archs`",
        )
    };
    let (arch, ms) = (column("arch")?, column("measured_ms")?);
    let mut out = BTreeMap::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{} line {}", path.display(), n + 2))?;
        let value: f64 = record[ms]
            .parse()
            .with_context(|| format!("{} line {}: column `measured_ms`", path.display(), n + 2))?;
        out.insert(record[arch].to_string(), value);
    }
    Ok(out)
}

/// Mean, lowest and highest seed of `arch`, and its measured latency; refuses what is missing.
fn point(
    arch: &Architecture,
    losses: &BTreeMap<String, Vec<f64>>,
    latency: &BTreeMap<String, f64>,
    a: &BenchPayoffArgs,
) -> Result<PayoffPoint> {
    let key = arch.encode();
    let Some(seeds) = losses.get(&key).filter(|s| s.len() >= 2) else {
        bail!(
            "{key}: needs stand-alone runs with 2 or more seeds among --standalone; train them with `vidnas train --arch {key} --seed N`"
        );
    };
    let Some(&measured_ms) = latency.get(&key) else {
        bail!(
            "{key}: not in {}; time {}/archs.txt with `vidnas latency validate --archs`",
            a.measured.as_ref().expect("required").display(),
            a.out.display()
        );
    };
    Ok(PayoffPoint {
        measured_ms,
        loss: seeds.iter().sum::<f64>() / seeds.len() as f64,
        loss_min: seeds.iter().cloned().fold(f64::INFINITY, f64::min),
        loss_max: seeds.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
    })
}

fn judge(
    a: &BenchPayoffArgs,
    pairs: &[Pair],
    losses: &BTreeMap<String, Vec<f64>>,
    latency: &BTreeMap<String, f64>,
) -> Result<()> {
    let mut plotted = Vec::new();
    let mut csv = String::from(
        "baseline,baseline_measured_ms,baseline_loss,baseline_loss_min,baseline_loss_max,searched,searched_measured_ms,searched_loss,searched_loss_min,searched_loss_max,as_fast,better,clearly_better\n",
    );
    let mut md = String::from(
        "| baseline | searched counterpart | measured ms (baseline → searched) | as fast | loss, baseline (seeds) | loss, searched (seeds) | better | beyond the seed spread |\n|---|---|---|---|---|---|---|---|\n",
    );
    let (mut wins, mut clear, mut paired) = (0, 0, 0);
    let yes = |b: bool| if b { "yes" } else { "no" };
    let spread = |p: &PayoffPoint| format!("{:.5} ({:.5}–{:.5})", p.loss, p.loss_min, p.loss_max);
    for pair in pairs {
        let base = point(&pair.baseline, losses, latency, a)?;
        let searched = match &pair.searched {
            Some(r) => Some((r, point(&r.arch, losses, latency, a)?)),
            None => None,
        };
        plotted.push(PayoffPair {
            baseline: base,
            searched: searched.as_ref().map(|(_, p)| *p),
        });
        let Some((row, s)) = searched else {
            writeln!(
                csv,
                "{},{},{},{},{},,,,,,,,",
                pair.baseline.encode(),
                base.measured_ms,
                base.loss,
                base.loss_min,
                base.loss_max
            )?;
            writeln!(
                md,
                "| `{}` | none on the front predicted ≤ {:.1} ms | {:.1} | | {} | | | |",
                pair.baseline.encode(),
                pair.baseline_ms,
                base.measured_ms,
                spread(&base)
            )?;
            continue;
        };
        paired += 1;
        let as_fast = s.measured_ms <= base.measured_ms;
        let better = s.loss < base.loss;
        let clearly = s.loss_max < base.loss_min;
        wins += usize::from(as_fast && better);
        clear += usize::from(as_fast && clearly);
        writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{},{as_fast},{better},{clearly}",
            pair.baseline.encode(),
            base.measured_ms,
            base.loss,
            base.loss_min,
            base.loss_max,
            row.arch.encode(),
            s.measured_ms,
            s.loss,
            s.loss_min,
            s.loss_max
        )?;
        writeln!(
            md,
            "| `{}` | `{}` | {:.1} → {:.1} | {} | {} | {} | {} | {} |",
            pair.baseline.encode(),
            row.arch.encode(),
            base.measured_ms,
            s.measured_ms,
            yes(as_fast),
            spread(&base),
            spread(&s),
            yes(better),
            yes(clearly)
        )?;
    }
    let verdict = format!(
        "{wins} of {paired} paired baselines have a searched counterpart at least as fast (measured) with lower mean loss; {clear} beyond the seed spread (every searched seed below every baseline seed)."
    );
    md.push('\n');
    md.push_str(&verdict);
    md.push('\n');
    vidnas_io::write_atomic(&a.out.join("payoff.csv"), csv.as_bytes())?;
    vidnas_io::write_atomic(&a.out.join("payoff.md"), md.as_bytes())?;
    write_payoff_plot(
        &a.out,
        &plotted,
        &format!("search run {}", a.search.display()),
    )?;
    print!("{md}");
    Ok(())
}
