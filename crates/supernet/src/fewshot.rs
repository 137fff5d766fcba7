//! Few-shot supernets (Few-shot NAS, Zhao et al., ICML 2021): the one-shot supernet is split
//! by the op at a few slots into sub-supernets that start from its weights and each train on
//! its own region of the space; an architecture is scored by the sub-supernet of its region.
//!
//! The slots are chosen where the one-shot supernet's score varies most between the ops of a
//! slot, other slots held fixed (mean over random probe architectures of max − min): there the
//! ops disagree most about what the shared weights should be, so separating them helps most.
//! A folder holding `split.json` is a few-shot supernet everywhere a supernet run is accepted.

use crate::stages::{train_temporal, Scorer, TemporalStage};
use indicatif::ProgressBar;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::Device;
use vidnas_diffusion::{Compute, Objective, RunInfo, TrainError};
use vidnas_space::{Architecture, OpKind, Space};

pub const SPLIT_FILE: &str = "split.json";
const FORMAT: &str = "vidnas-fewshot/1";

/// `split.json`: how a few-shot supernet was split and where its parts live.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitManifest {
    pub format: String,
    /// The one-shot supernet every part started from.
    pub base: PathBuf,
    /// Weights hash of the base when the split was made.
    pub base_sha256: String,
    /// How the slots were chosen.
    pub criterion: String,
    pub slots: Vec<SplitSlot>,
    /// Training steps of each part.
    pub steps_per_part: usize,
    pub parts: Vec<SplitPart>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSlot {
    pub index: usize,
    pub name: String,
    /// Mean over the probes of the spread (max − min) of the base's score across the slot's ops.
    pub spread: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitPart {
    /// The op at each split slot, in the order of `slots`.
    pub ops: Vec<OpKind>,
    /// The part's run folder, relative to the split folder.
    pub run: PathBuf,
}

impl SplitManifest {
    /// `(slot, op)` pairs of part `p`.
    pub fn region(&self, p: usize) -> Vec<(usize, OpKind)> {
        self.slots
            .iter()
            .map(|s| s.index)
            .zip(self.parts[p].ops.iter().copied())
            .collect()
    }

    pub fn load(dir: &Path) -> Result<Self, TrainError> {
        let path = dir.join(SPLIT_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| TrainError::file(&path, e))?;
        let m: Self = serde_json::from_str(&text).map_err(|e| {
            TrainError::file(
                &path,
                format!("{e}; the file was not written by `vidnas supernet split`"),
            )
        })?;
        if m.format != FORMAT {
            return Err(TrainError::file(
                &path,
                format!("format `{}` is not `{FORMAT}`", m.format),
            ));
        }
        Ok(m)
    }
}

/// The run folder holding `arch`'s weights: `run` itself, or in a few-shot folder the part
/// whose region holds it (the first part when `arch` is `None`, e.g. to read the space).
pub fn run_holding(run: &Path, arch: Option<&Architecture>) -> Result<PathBuf, TrainError> {
    if !run.join(SPLIT_FILE).exists() {
        return Ok(run.to_path_buf());
    }
    let m = SplitManifest::load(run)?;
    let part = (0..m.parts.len())
        .find(|&p| arch.is_none_or(|a| Space::in_region(a, &m.region(p))))
        .ok_or_else(|| {
            TrainError::file(
                run.join(SPLIT_FILE),
                "no part holds the architecture; the split does not cover the space",
            )
        })?;
    Ok(run.join(&m.parts[part].run))
}

/// Mean spread of `scorer`'s score across the ops of each slot: for each of `probes` uniform
/// architectures and each slot, the architecture is scored with every op the slot allows
/// (variants outside the space's constraints skipped) and max − min taken.
pub fn slot_spread(
    scorer: &Scorer,
    space: &Space,
    probes: usize,
    seed: u64,
    progress: bool,
) -> Result<Vec<f64>, TrainError> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let archs: Vec<Architecture> = (0..probes).map(|_| space.sample(&mut rng)).collect();
    let n = space.num_slots();
    let bar = bar(progress, (probes * n) as u64, "choosing split slots");
    let (mut sum, mut count) = (vec![0.0; n], vec![0usize; n]);
    for arch in &archs {
        for (i, slot) in space.slots.iter().enumerate() {
            let mut scores = Vec::new();
            for &op in &slot.allowed {
                let mut variant = arch.clone();
                variant.ops[i] = op;
                if space.check_arch(&variant).is_ok() {
                    scores.push(scorer.score(&variant)?);
                }
            }
            if scores.len() >= 2 {
                let max = scores.iter().cloned().fold(f64::MIN, f64::max);
                let min = scores.iter().cloned().fold(f64::MAX, f64::min);
                sum[i] += max - min;
                count[i] += 1;
            }
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    Ok(sum
        .iter()
        .zip(&count)
        .map(|(s, &c)| if c == 0 { 0.0 } else { s / c as f64 })
        .collect())
}

/// The `k` slots of largest spread (ties: the earlier slot), in slot order.
pub fn choose_slots(spread: &[f64], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..spread.len()).collect();
    order.sort_by(|&a, &b| spread[b].total_cmp(&spread[a]).then(a.cmp(&b)));
    let mut chosen: Vec<usize> = order.into_iter().take(k).collect();
    chosen.sort();
    chosen
}

/// Every combination of the allowed ops at `slots` (the first slot varies slowest), each
/// checked to leave a non-empty region.
pub fn regions(space: &Space, slots: &[usize]) -> Result<Vec<Vec<OpKind>>, TrainError> {
    let mut combos: Vec<Vec<OpKind>> = vec![Vec::new()];
    for &i in slots {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                space.slots[i].allowed.iter().map(move |&op| {
                    let mut next = c.clone();
                    next.push(op);
                    next
                })
            })
            .collect();
    }
    for ops in &combos {
        let fixed: Vec<(usize, OpKind)> = slots.iter().copied().zip(ops.iter().copied()).collect();
        space
            .narrowed(&fixed)
            .map_err(|e| TrainError::Config(format!("--split-slots: {e}")))?;
    }
    Ok(combos)
}

/// What `vidnas supernet split` does.
pub struct SplitRequest<'a> {
    pub space: &'a Space,
    /// The one-shot supernet run to split.
    pub base: &'a Path,
    pub out: &'a Path,
    pub split_slots: usize,
    pub steps_per_part: usize,
    /// Random architectures behind the slot criterion.
    pub probes: usize,
    pub seed: u64,
    pub resume: bool,
    pub progress: bool,
    pub compute: &'a Compute,
}

/// Chooses the slots, writes `split.json`, then trains every part from the base's weights
/// (each resumable; a finished part is skipped).
pub fn split_supernet(req: &SplitRequest) -> Result<SplitManifest, TrainError> {
    let space = req.space;
    let n = space.num_slots();
    if req.split_slots == 0 || req.split_slots > n {
        return Err(TrainError::Config(format!(
            "--split-slots {} must be between 1 and the {n} slots of space `{}`",
            req.split_slots,
            space.name()
        )));
    }
    let base = RunInfo::load(req.base)?;
    base.check_space(space, req.base)?;
    let Objective::Supernet(sampling) = base.objective else {
        return Err(TrainError::file(
            req.base.join("run.json"),
            format!(
                "objective is `{}`, not a one-shot supernet; split a run made by `vidnas supernet train`",
                base.objective
            ),
        ));
    };
    let image_run = base.image_run_folder(req.base)?.ok_or_else(|| {
        TrainError::file(
            req.base.join("run.json"),
            "records no stage-1 run (image_run)",
        )
    })?;
    let base_sha256 = vidnas_io::sha256_16(&req.base.join("model.safetensors"))
        .map_err(|e| TrainError::Config(e.to_string()))?;
    let manifest_path = req.out.join(SPLIT_FILE);
    let manifest = if manifest_path.exists() {
        if !req.resume {
            return Err(TrainError::file(
                &manifest_path,
                "exists: pass --resume to continue this split, or choose another --out",
            ));
        }
        let m = SplitManifest::load(req.out)?;
        if m.base_sha256 != base_sha256 || m.slots.len() != req.split_slots {
            return Err(TrainError::file(
                &manifest_path,
                format!(
                    "was split from other weights or at {} slots; continue it with its own --supernet and --split-slots, or choose another --out",
                    m.slots.len()
                ),
            ));
        }
        m
    } else {
        if req.out.exists() && std::fs::read_dir(req.out).is_ok_and(|mut d| d.next().is_some()) {
            return Err(TrainError::file(
                req.out,
                "exists and is not a few-shot split; choose another --out",
            ));
        }
        let scorer = Scorer::open(space, req.base, req.compute.device)?;
        let spread = slot_spread(&scorer, space, req.probes, req.seed, req.progress)?;
        drop(scorer);
        let chosen = choose_slots(&spread, req.split_slots);
        let combos = regions(space, &chosen)?;
        let m = SplitManifest {
            format: FORMAT.into(),
            base: req.base.to_path_buf(),
            base_sha256,
            criterion: format!(
                "largest mean spread (max - min) of the base's score across a slot's ops, {} uniform probe architectures, seed {}",
                req.probes, req.seed
            ),
            slots: chosen
                .iter()
                .map(|&i| SplitSlot {
                    index: i,
                    name: space.slots[i].name.clone(),
                    spread: spread[i],
                })
                .collect(),
            steps_per_part: req.steps_per_part,
            parts: combos
                .into_iter()
                .map(|ops| {
                    let names: Vec<&str> = ops.iter().map(|o| o.as_str()).collect();
                    SplitPart {
                        run: PathBuf::from(format!("part-{}", names.join("-"))),
                        ops,
                    }
                })
                .collect(),
        };
        std::fs::create_dir_all(req.out).map_err(|e| TrainError::file(req.out, e))?;
        vidnas_io::write_json(&manifest_path, &m)?;
        m
    };
    for (p, part) in manifest.parts.iter().enumerate() {
        let run = req.out.join(&part.run);
        if run.join("model.safetensors").exists() {
            continue;
        }
        let train = vidnas_diffusion::TrainConfig {
            steps: manifest.steps_per_part,
            ..base.train.clone()
        };
        let stage = TemporalStage {
            scoring: Some((base.data.validation_clips, base.validation.clone())),
            source: Some(base.data_source(req.base)?),
            init_from: Some(req.base.to_path_buf()),
            // The metric travels in the validation settings above.
            metric: None,
        };
        train_temporal(
            space,
            &image_run,
            &run,
            Objective::SubSupernet(sampling, manifest.region(p)),
            train,
            stage,
            run.join("run.json").exists(),
            req.progress,
            req.compute,
        )?;
    }
    Ok(manifest)
}

/// A supernet that scores every architecture of its space: one run, or a few-shot folder whose
/// parts each score their region.
pub struct SupernetScorer {
    /// The run or few-shot folder it was opened from.
    dir: PathBuf,
    few_shot: bool,
    /// Each part with its region (empty for a single run: it holds every architecture).
    parts: Vec<(Vec<(usize, OpKind)>, Scorer)>,
}

impl SupernetScorer {
    /// Opens a supernet run, or a few-shot folder (one holding `split.json`) with every part;
    /// a stage-1, stand-alone or lone sub-supernet run is refused.
    pub fn open(space: &Space, run: &Path, device: Device) -> Result<Self, TrainError> {
        if !run.join(SPLIT_FILE).exists() {
            let scorer = Scorer::open(space, run, device)?;
            scorer.require_supernet()?;
            return Ok(Self::single(scorer));
        }
        let manifest = SplitManifest::load(run)?;
        let mut parts = Vec::with_capacity(manifest.parts.len());
        for (p, part) in manifest.parts.iter().enumerate() {
            let scorer = Scorer::open(space, &run.join(&part.run), device)?;
            parts.push((manifest.region(p), scorer));
        }
        Ok(Self {
            dir: run.to_path_buf(),
            few_shot: true,
            parts,
        })
    }

    /// Any one run, scoring what it holds (a stand-alone run: its own architecture).
    pub fn single(scorer: Scorer) -> Self {
        Self {
            dir: scorer.run.clone(),
            few_shot: false,
            parts: vec![(Vec::new(), scorer)],
        }
    }

    fn part_of(&self, arch: &Architecture) -> Result<&Scorer, TrainError> {
        self.parts
            .iter()
            .find(|(region, _)| Space::in_region(arch, region))
            .map(|(_, s)| s)
            .ok_or_else(|| {
                TrainError::file(
                    self.dir.join(SPLIT_FILE),
                    format!("no part holds {arch}; the split does not cover the space"),
                )
            })
    }

    pub fn score(&self, arch: &Architecture) -> Result<f64, TrainError> {
        self.part_of(arch)?.score(arch)
    }

    /// One scorer (the only one, or the first part): the stage-1 path and validation set are
    /// the same in every part.
    pub fn any(&self) -> &Scorer {
        &self.parts[0].1
    }

    /// 16 hex digits identifying the weights (of every part, for a few-shot folder).
    pub fn weights_sha256(&self) -> Result<String, TrainError> {
        let sha = |run: &Path| {
            vidnas_io::sha256_16(&run.join("model.safetensors"))
                .map_err(|e| TrainError::Config(e.to_string()))
        };
        if !self.few_shot {
            return sha(&self.dir);
        }
        let all = self
            .parts
            .iter()
            .map(|(_, s)| sha(&s.run))
            .collect::<Result<Vec<_>, _>>()?
            .join(",");
        Ok(vidnas_io::sha256_hex(all.as_bytes(), 16))
    }
}

fn bar(show: bool, len: u64, prefix: &'static str) -> ProgressBar {
    let bar = vidnas_io::progress_bar(
        show,
        len,
        "{prefix} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
    );
    bar.set_prefix(prefix);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slots_of_largest_spread_are_chosen_in_slot_order() {
        assert_eq!(choose_slots(&[0.1, 0.5, 0.2, 0.5], 2), [1, 3]);
        assert_eq!(choose_slots(&[0.1, 0.5, 0.2, 0.4], 3), [1, 2, 3]);
        assert_eq!(choose_slots(&[0.0, 0.0], 1), [0], "ties: the earlier slot");
    }

    #[test]
    fn regions_cover_every_op_combination_once() {
        let space = vidnas_space::fixtures::tiny();
        let combos = regions(&space, &[0, 3]).unwrap();
        let expected = space.slots[0].allowed.len() * space.slots[3].allowed.len();
        assert_eq!(combos.len(), expected);
        let distinct: std::collections::BTreeSet<_> = combos.iter().collect();
        assert_eq!(distinct.len(), expected);
    }
}
