//! `vidnas bench ranking`: how well cheap proxies (supernets, few-shot supernets, re-ranking
//! fine-tunes) rank architectures against stand-alone training (mean over seeds): Kendall τ and
//! Spearman ρ with 95% bootstrap intervals, overall and inside a latency band, beside the
//! stand-alone seed-to-seed value, the ceiling any proxy can reach
//! (`vidnas_latency::RankAgreement`). Stand-alone runs are scored once for every proxy.

use crate::paths::out_file;
use crate::values::*;
use anyhow::{bail, Context, Result};
use clap::Args;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use vidnas_latency::{Agreement, LatencyBand, RankAgreement, SetAgreement};
use vidnas_space::{Architecture, OpKind, Space};
use vidnas_supernet::SupernetScorer;

#[derive(Args)]
pub struct BenchRankingArgs {
    pub space: PathBuf,
    /// A supernet run (or few-shot folder) whose ranking is judged, as RUN or NAME=RUN;
    /// repeat to compare several in one table.
    #[arg(long, value_name = "[NAME=]RUN")]
    pub supernet: Vec<String>,
    /// Re-ranking by short fine-tunes, as DIR or NAME=DIR: DIR holds one run per architecture
    /// (`vidnas train --init SUPERNET --steps N`), each scoring its own architecture.
    #[arg(long, value_name = "[NAME=]DIR")]
    pub rerank: Vec<String>,
    /// Stand-alone runs (`vidnas train --arch A`), any number of seeds per architecture.
    #[arg(long, num_args = 1.., required_unless_present = "standalone_csv")]
    pub standalone: Vec<PathBuf>,
    /// Instead of stand-alone runs, the stand-alone scores an earlier `bench ranking --out`
    /// wrote (its `arch` and `standalone_scores` columns): judges a new proxy against a
    /// committed reference, e.g. reports/ranking/ranking.csv, without its 60 runs. The proxies
    /// must be trained on the same image model as those runs.
    #[arg(long, value_name = "CSV", conflicts_with = "standalone")]
    pub standalone_csv: Option<PathBuf>,
    /// CSV of per-architecture scores to write (one column per proxy).
    #[arg(long, value_parser = out_file)]
    pub out: PathBuf,
    /// Also judge the ranking inside a latency band: the architectures whose latency predicted
    /// on this table lies within --band-ms ± --band-pct (where a search has to decide).
    #[arg(long, requires = "band_ms")]
    pub table: Option<PathBuf>,
    /// Centre of the band in milliseconds, on --table.
    #[arg(long, requires = "table", value_parser = positive(MAX_MS))]
    pub band_ms: Option<f64>,
    /// Half-width of the band in percent of --band-ms.
    #[arg(long, default_value_t = 5.0, value_parser = positive(100.0))]
    pub band_pct: f64,
    /// Write the figures as JSON too (one entry per proxy, and the ceilings).
    #[arg(long, value_parser = out_file)]
    pub summary: Option<PathBuf>,
}

/// A proxy's name and its score for each architecture (by encoding).
struct Proxy {
    name: String,
    scores: BTreeMap<String, f64>,
}

/// `NAME=PATH` or `PATH` (named `default`).
fn named(value: &str, default: &str) -> (String, PathBuf) {
    match value.split_once('=') {
        Some((name, path)) if !name.is_empty() && !name.contains('/') => {
            (name.to_string(), PathBuf::from(path))
        }
        _ => (default.to_string(), PathBuf::from(value)),
    }
}

pub fn run(a: BenchRankingArgs) -> Result<()> {
    let space = Space::load(&a.space)?;
    if a.supernet.is_empty() && a.rerank.is_empty() {
        bail!("nothing to judge: pass --supernet RUN (repeatable) or --rerank DIR");
    }
    let band = match (&a.table, a.band_ms) {
        (Some(table), Some(ms)) => Some(LatencyBand::new(
            &space,
            table,
            ms,
            a.band_pct,
            ("--band-ms", "--band-pct"),
        )?),
        _ => None,
    };
    let mut runs = Vec::new();
    if let Some(path) = &a.standalone_csv {
        runs = read_standalone_csv(&space, path)?;
    }
    for run in &a.standalone {
        let (arch, info, score) = super::score_standalone(&space, run)?;
        runs.push((arch, info.train.seed, score));
    }
    let archs: BTreeMap<String, Architecture> = runs
        .iter()
        .map(|(a, _, _)| (a.encode(), a.clone()))
        .collect();
    let mut proxies = Vec::new();
    for value in &a.supernet {
        let (name, path) = named(value, "supernet");
        let supernet = SupernetScorer::open(&space, &path, tch::Device::Cpu)?;
        let image = supernet.any();
        let none = Architecture {
            ops: vec![OpKind::None; space.num_slots()],
        };
        println!(
            "{name}: image model (no temporal layers) through the supernet: {:.5}",
            image.validation.score(&image.model, &none)
        );
        let mut scores = BTreeMap::new();
        for (key, arch) in &archs {
            scores.insert(key.clone(), supernet.score(arch)?);
        }
        proxies.push(Proxy { name, scores });
    }
    for value in &a.rerank {
        let (name, dir) = named(value, "rerank");
        proxies.push(Proxy {
            scores: rerank_scores(&space, &dir, &archs)?,
            name,
        });
    }
    let names: BTreeSet<&str> = proxies.iter().map(|p| p.name.as_str()).collect();
    if names.len() != proxies.len() {
        bail!("two proxies share a name; name each one: --supernet NAME=RUN");
    }
    let rankings: Vec<RankAgreement> = proxies
        .iter()
        .map(|p| RankAgreement::new(runs.clone(), |arch| Ok::<_, ()>(p.scores[&arch.encode()])))
        .collect::<Result<_, _>>()
        .expect("every architecture has a score");
    let in_band: Option<BTreeSet<String>> = match &band {
        Some(band) => {
            let mut set = BTreeSet::new();
            for (key, arch) in &archs {
                if band.contains(&space, arch)? {
                    set.insert(key.clone());
                }
            }
            Some(set)
        }
        None => None,
    };
    print_scores(&proxies, &rankings[0], in_band.as_ref());
    vidnas_io::write_atomic(
        &a.out,
        csv(&proxies, &rankings[0], in_band.as_ref()).as_bytes(),
    )?;
    let overall = SetAgreement::of(&rankings[0].archs);
    let inside = |r: &RankAgreement| {
        in_band
            .as_ref()
            .map(|set| r.within(|arch| set.contains(&arch.encode())))
    };
    println!(
        "\n{} architectures; 95% bootstrap intervals over the architectures",
        overall.archs
    );
    if let Some(seeds) = &overall.seeds {
        println!("stand-alone seed vs seed (the ceiling): {}", seeds.text());
    }
    for (p, r) in proxies.iter().zip(&rankings) {
        println!(
            "{} vs stand-alone mean over seeds: {}",
            p.name,
            r.proxy.text()
        );
    }
    if let (Some(band), Some(first)) = (&band, inside(&rankings[0])) {
        println!("\ninside {} ({} architectures):", band.label, first.archs);
        if let Some(seeds) = &first.seeds {
            println!("stand-alone seed vs seed (the ceiling): {}", seeds.text());
        }
        for (p, r) in proxies.iter().zip(&rankings) {
            let set = inside(r).expect("a band");
            println!("{} vs stand-alone mean: {}", p.name, set.proxy.text());
        }
    }
    if let Some(path) = &a.summary {
        let agreement = |x: &Agreement| serde_json::json!({"tau": x.tau, "tau_95": x.tau_95, "rho": x.rho, "rho_95": x.rho_95});
        let set_json =
            |s: &SetAgreement| serde_json::json!({"archs": s.archs, "proxy": agreement(&s.proxy)});
        let summary = serde_json::json!({
            "archs": overall.archs,
            "ceiling": overall.seeds.as_ref().map(agreement),
            "band": band.as_ref().map(|b| serde_json::json!({
                "table": a.table, "ms": b.centre_ms, "pct": b.pct,
                "archs": inside(&rankings[0]).map(|s| s.archs),
                "ceiling": inside(&rankings[0]).and_then(|s| s.seeds.as_ref().map(agreement)),
            })),
            "proxies": proxies.iter().zip(&rankings).map(|(p, r)| serde_json::json!({
                "name": p.name,
                "overall": set_json(&SetAgreement::of(&r.archs)),
                "band": inside(r).as_ref().map(set_json),
            })).collect::<Vec<_>>(),
        });
        vidnas_io::write_atomic(path, serde_json::to_string_pretty(&summary)?.as_bytes())?;
    }
    Ok(())
}

/// Scores of the re-ranking runs in `dir`: each sub-folder is a run of one architecture
/// started from a supernet (`vidnas train --init`); every architecture needs one.
fn rerank_scores(
    space: &Space,
    dir: &Path,
    archs: &BTreeMap<String, Architecture>,
) -> Result<BTreeMap<String, f64>> {
    let mut scores = BTreeMap::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list the re-ranking runs", dir.display()))?;
    let mut folders: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("run.json").exists())
        .collect();
    folders.sort();
    for run in folders {
        let (arch, info, score) = super::score_standalone(space, &run)?;
        if info.init_run.is_none() {
            bail!(
                "{}: was not started from a supernet (no init_run); re-ranking runs are made by `vidnas train --init SUPERNET`",
                run.join("run.json").display()
            );
        }
        if archs.contains_key(&arch.encode()) {
            scores.insert(arch.encode(), score);
        }
    }
    if let Some(missing) = archs.keys().find(|k| !scores.contains_key(*k)) {
        bail!(
            "{}: no re-ranking run of {missing}; train one with `vidnas train --init SUPERNET --arch {missing} --out {}/<name>`",
            dir.display(),
            dir.display()
        );
    }
    Ok(scores)
}

/// (architecture, seed, stand-alone score) from the `arch` and `standalone_scores`
/// (`SEED:SCORE …`) columns of a CSV that `bench ranking --out` wrote.
fn read_standalone_csv(space: &Space, path: &Path) -> Result<Vec<(Architecture, u64, f64)>> {
    let fix = "pass the CSV `vidnas bench ranking --out` wrote, or the stand-alone runs with --standalone";
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("{}: cannot read the stand-alone scores", path.display()))?;
    let header = reader
        .headers()
        .with_context(|| format!("{}: cannot read the header", path.display()))?
        .clone();
    let column = |name| super::csv_column(&header, path, name, fix);
    let (arch_col, scores_col) = (column("arch")?, column("standalone_scores")?);
    let mut runs = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("{}: malformed CSV", path.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        let at = |col: &str, message: String| {
            anyhow::anyhow!(
                "{} line {line}, column `{col}`: {message}; {fix}",
                path.display()
            )
        };
        let arch = space
            .parse_arch(record.get(arch_col).unwrap_or(""))
            .map_err(|e| at("arch", e.to_string()))?;
        for pair in record.get(scores_col).unwrap_or("").split_whitespace() {
            let parsed = pair
                .split_once(':')
                .and_then(|(seed, score)| Some((seed.parse().ok()?, score.parse().ok()?)));
            match parsed {
                Some((seed, score)) if f64::is_finite(score) => {
                    runs.push((arch.clone(), seed, score))
                }
                _ => {
                    return Err(at(
                        "standalone_scores",
                        format!("`{pair}` is not SEED:SCORE"),
                    ))
                }
            }
        }
    }
    if runs.is_empty() {
        bail!("{}: holds no stand-alone scores; {fix}", path.display());
    }
    Ok(runs)
}

fn print_scores(proxies: &[Proxy], reference: &RankAgreement, in_band: Option<&BTreeSet<String>>) {
    let mut header = format!("{:<12}", "id");
    for p in proxies {
        header += &format!(" {:>10}", truncate(&p.name, 10));
    }
    println!("{header} {:>10}  stand-alone by seed", "alone");
    for r in &reference.archs {
        let key = r.arch.encode();
        let mark = if in_band.is_some_and(|s| s.contains(&key)) {
            "*"
        } else {
            " "
        };
        let mut line = format!("{:<11}{mark}", r.arch.id());
        for p in proxies {
            line += &format!(" {:>10.5}", p.scores[&key]);
        }
        println!("{line} {:>10.5}  {}", r.reference_mean(), r.runs_text());
    }
    if in_band.is_some() {
        println!("(* inside the latency band)");
    }
}

fn truncate(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// `arch_id,arch,in_band,score_<proxy>…,standalone_mean,standalone_scores`.
fn csv(proxies: &[Proxy], reference: &RankAgreement, in_band: Option<&BTreeSet<String>>) -> String {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let mut header = vec!["arch_id".to_string(), "arch".into(), "in_band".into()];
    header.extend(proxies.iter().map(|p| format!("score_{}", p.name)));
    header.extend(["standalone_mean".into(), "standalone_scores".into()]);
    w.write_record(&header).expect("writing to memory");
    for r in &reference.archs {
        let key = r.arch.encode();
        let mut row = vec![
            r.arch.id(),
            key.clone(),
            in_band.map_or(String::new(), |s| s.contains(&key).to_string()),
        ];
        row.extend(proxies.iter().map(|p| p.scores[&key].to_string()));
        row.extend([r.reference_mean().to_string(), r.runs_text()]);
        w.write_record(&row).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("UTF-8 fields")
}
