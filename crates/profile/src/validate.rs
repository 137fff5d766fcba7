//! `vidnas latency validate`: times whole random networks and compares them with the table's
//! predictions. The host drifts over minutes, so the protocol interleaves the networks in
//! rounds, re-times a fixed reference network around every round and redoes rounds where the
//! reference moved; each network's figure is its minimum over rounds, and the spread between
//! rounds is reported as the noise floor beside the accuracy figures.

use crate::error::ProfileError;
use crate::executorch::{time_networks, NetworkRequest, NetworkTimes, Runtime};
use crate::timer::{time, TimingConfig};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use tch::{nn, Device, Kind, Tensor};
use vidnas_latency::{accuracy, predict, AccuracyStats, Correction, LatencyTable, PredictRequest};
use vidnas_nn::{Build, VideoUNet};
use vidnas_space::{Architecture, OpKind, Space};

#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// Random networks to time (ignored when `archs` is given).
    pub samples: usize,
    /// Time these networks instead of random ones (e.g. a payoff study's baselines).
    pub archs: Option<Vec<Architecture>>,
    pub seed: u64,
    /// Interleaved rounds; each network's figure is its minimum over rounds.
    pub rounds: usize,
    /// Timed forwards per network per round (their minimum is the round's figure).
    pub repeats: usize,
    /// A round is redone when the reference moved more than this fraction from its baseline.
    pub tolerance: f64,
    /// Redo a drifting round at most this many times (then keep it and count it as noisy).
    pub max_redo: usize,
    pub threads: usize,
    /// Where the networks run: libtorch here, or exported to ExecuTorch.
    pub runtime: Runtime,
}

/// One network's measurement and predictions.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkRow {
    pub arch_id: String,
    pub arch: String,
    /// Used to fit the correction (`fit`) or held out to judge it (`holdout`).
    pub split: &'static str,
    pub predicted_ms: f64,
    pub corrected_ms: f64,
    pub measured_ms: f64,
    /// |min of even rounds − min of odd rounds| / measured, %.
    pub repeat_spread_pct: f64,
    /// (min of even rounds, min of odd rounds).
    #[serde(skip)]
    pub halves_ms: (f64, f64),
    #[serde(skip)]
    pub kind_ms: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValidationReport {
    pub rows: Vec<NetworkRow>,
    /// Median over networks of the between-round spread, %: differences below it are noise.
    pub noise_floor_pct: f64,
    pub reference_ms: f64,
    pub rounds_redone: usize,
    pub noisy_rounds_kept: usize,
    /// Raw per-op sums against every network.
    pub raw_all: AccuracyStats,
    /// Raw per-op sums on the held-out half.
    pub raw_holdout: AccuracyStats,
    /// With the correction fitted on the other half, on the held-out half.
    pub corrected_holdout: AccuracyStats,
    /// The measurement against itself on the held-out half: each network's minimum over the
    /// even rounds "predicting" its minimum over the odd rounds. What re-measurement resolves
    /// bounds what any predictor can show: a predictor's τ near this one is limited by the
    /// noise of the measurement it is judged against, not by its op times (`None` with fewer
    /// than 2 rounds).
    pub remeasured_holdout: Option<AccuracyStats>,
    /// Fitted on the `fit` half; judge it by `corrected_holdout`.
    pub correction_fit_half: Correction,
    /// Fitted on every network; the one to store in the table.
    pub correction_all: Correction,
}

struct Net {
    _vs: nn::VarStore,
    unet: VideoUNet,
    arch: Architecture,
}

struct Inputs {
    xs: Tensor,
    t: Tensor,
    ctx: Tensor,
}

impl Net {
    fn new(space: &Space, arch: Architecture, build: Build) -> Self {
        let vs = nn::VarStore::new(Device::Cpu);
        let unet = VideoUNet::new(&vs.root(), space, &build);
        Self {
            _vs: vs,
            unet,
            arch,
        }
    }

    fn time(&self, inputs: &Inputs, cfg: &TimingConfig) -> f64 {
        tch::no_grad(|| {
            time(cfg, || {
                drop(
                    self.unet
                        .forward(&inputs.xs, &inputs.t, &inputs.ctx, &self.arch),
                )
            })
        })
        .min_ms
    }
}

pub fn validate(
    space: &Space,
    table: &LatencyTable,
    opts: &ValidateOptions,
    progress: bool,
) -> Result<ValidationReport, ProfileError> {
    tch::set_num_threads(opts.threads as i32);
    tch::manual_seed(opts.seed as i64);
    let raw_req = PredictRequest {
        apply_correction: false,
        ..PredictRequest::for_table(table)
    };
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut archs: Vec<Architecture> = opts.archs.clone().unwrap_or_default();
    while opts.archs.is_none() && archs.len() < opts.samples {
        let a = space.sample(&mut rng);
        if !archs.contains(&a) {
            archs.push(a);
        }
        if space.count_u128().is_some_and(|n| archs.len() as u128 >= n) {
            break;
        }
    }
    // Predict first: a table that cannot cover the space fails before any timing.
    let predictions = archs
        .iter()
        .map(|a| predict(space, a, table, &raw_req))
        .collect::<Result<Vec<_>, _>>()?;

    let measured = match opts.runtime {
        Runtime::Libtorch => measure_libtorch(space, table, &archs, opts, progress),
        Runtime::ExecutorchXnnpack => {
            let req = NetworkRequest {
                program_cache: Some(crate::executorch::program_cache()),
                batch: table.device.batch,
                text_tokens: table.device.text_tokens,
                threads: opts.threads,
                rounds: opts.rounds,
                repeats: opts.repeats,
                tolerance: opts.tolerance,
                max_redo: opts.max_redo,
                seed: opts.seed,
            };
            time_networks(space, &archs, &req, progress)?
        }
    };
    let sums = (predictions.into_iter())
        .map(|p| (p.sum_ms, p.kind_ms))
        .collect::<Vec<_>>();
    report_of(&archs, &sums, measured)
}

/// The report of networks `archs` with their raw predictions (per-op sum, per-kind sums) and
/// their measured round minima.
fn report_of(
    archs: &[Architecture],
    predictions: &[(f64, Vec<f64>)],
    measured: NetworkTimes,
) -> Result<ValidationReport, ProfileError> {
    let NetworkTimes {
        round_mins,
        reference_ms: reference_min,
        rounds_redone: redone,
        noisy_rounds_kept: noisy_kept,
    } = measured;

    let mut rows: Vec<NetworkRow> = Vec::new();
    for (i, (arch, (sum_ms, kind_ms))) in archs.iter().zip(predictions).enumerate() {
        let mins = &round_mins[i];
        let measured = mins.iter().copied().fold(f64::INFINITY, f64::min);
        let min_of = |parity: usize| {
            mins.iter()
                .skip(parity)
                .step_by(2)
                .copied()
                .fold(f64::INFINITY, f64::min)
        };
        let halves = (min_of(0), min_of(1));
        let spread = if mins.len() >= 2 {
            (halves.0 - halves.1).abs() / measured * 100.0
        } else {
            f64::NAN
        };
        rows.push(NetworkRow {
            arch_id: arch.id(),
            arch: arch.encode(),
            split: if i % 2 == 0 { "fit" } else { "holdout" },
            predicted_ms: *sum_ms,
            corrected_ms: f64::NAN,
            measured_ms: measured,
            repeat_spread_pct: spread,
            halves_ms: halves,
            kind_ms: kind_ms.clone(),
        });
    }
    let fit_rows: Vec<(Vec<f64>, f64)> = rows
        .iter()
        .filter(|r| r.split == "fit")
        .map(|r| (r.kind_ms.clone(), r.measured_ms))
        .collect();
    let all_rows: Vec<(Vec<f64>, f64)> = rows
        .iter()
        .map(|r| (r.kind_ms.clone(), r.measured_ms))
        .collect();
    let correction_fit_half = Correction::fit(&fit_rows)?;
    let correction_all = Correction::fit(&all_rows)?;
    for r in &mut rows {
        r.corrected_ms = correction_fit_half.apply(&r.kind_ms);
    }
    let pairs = |f: &dyn Fn(&NetworkRow) -> bool, corrected: bool| -> Vec<(f64, f64)> {
        rows.iter()
            .filter(|r| f(r))
            .map(|r| {
                (
                    if corrected {
                        r.corrected_ms
                    } else {
                        r.predicted_ms
                    },
                    r.measured_ms,
                )
            })
            .collect()
    };
    let holdout = |r: &NetworkRow| r.split == "holdout";
    let spreads: Vec<f64> = rows
        .iter()
        .map(|r| r.repeat_spread_pct)
        .filter(|s| s.is_finite())
        .collect();
    Ok(ValidationReport {
        noise_floor_pct: vidnas_io::median(&spreads),
        reference_ms: reference_min,
        rounds_redone: redone,
        noisy_rounds_kept: noisy_kept,
        raw_all: accuracy(&pairs(&|_| true, false))?,
        raw_holdout: accuracy(&pairs(&holdout, false))?,
        corrected_holdout: accuracy(&pairs(&holdout, true))?,
        remeasured_holdout: match round_mins.first().map_or(0, Vec::len) >= 2 {
            true => Some(accuracy(
                &(rows.iter().filter(|r| holdout(r)))
                    .map(|r| r.halves_ms)
                    .collect::<Vec<_>>(),
            )?),
            false => None,
        },
        correction_fit_half,
        correction_all,
        rows,
    })
}

/// `validate`'s protocol on libtorch in this process: every network's minimum per kept round.
fn measure_libtorch(
    space: &Space,
    table: &LatencyTable,
    archs: &[Architecture],
    opts: &ValidateOptions,
    progress: bool,
) -> NetworkTimes {
    let v = &space.file.video;
    let b = table.device.batch as i64;
    let inputs = Inputs {
        xs: Tensor::randn(
            [
                b,
                v.channels as i64,
                v.frames as i64,
                v.height as i64,
                v.width as i64,
            ],
            (Kind::Float, Device::Cpu),
        ),
        t: Tensor::full([b], 500, (Kind::Int64, Device::Cpu)),
        ctx: Tensor::randn(
            [
                b,
                table.device.text_tokens as i64,
                space.file.backbone.cross_attention_dim as i64,
            ],
            (Kind::Float, Device::Cpu),
        ),
    };
    let none = Architecture {
        ops: vec![OpKind::None; space.num_slots()],
    };
    let reference = Net::new(space, none, Build::Image);
    let nets: Vec<Net> = archs
        .iter()
        .map(|a| Net::new(space, a.clone(), Build::Subnet(a.clone())))
        .collect();
    let warm = TimingConfig {
        warmup: 1,
        repeats: 1,
    };
    reference.time(&inputs, &warm);
    for n in &nets {
        n.time(&inputs, &warm);
    }
    let per_round = TimingConfig {
        warmup: 0,
        repeats: opts.repeats.max(1),
    };
    let ref_cfg = TimingConfig {
        warmup: 0,
        repeats: opts.repeats.max(1) * 2,
    };
    let baseline = reference.time(&inputs, &ref_cfg);
    let bar = vidnas_io::progress_bar(
        progress,
        opts.rounds as u64,
        "validate [{bar:30}] round {pos}/{len}, eta {eta} {msg}",
    );
    let mut round_mins: Vec<Vec<f64>> = vec![Vec::new(); nets.len()];
    let (mut redone, mut noisy_kept) = (0, 0);
    let mut reference_min = baseline;
    for round in 0..opts.rounds {
        let mut attempts = 0;
        loop {
            let mut order: Vec<usize> = (0..nets.len()).collect();
            order.shuffle(&mut ChaCha8Rng::seed_from_u64(
                opts.seed ^ (round * 31 + attempts) as u64,
            ));
            let before = reference.time(&inputs, &ref_cfg);
            let mut mins = vec![0.0; nets.len()];
            for &i in &order {
                mins[i] = nets[i].time(&inputs, &per_round);
            }
            let after = reference.time(&inputs, &ref_cfg);
            reference_min = reference_min.min(before).min(after);
            let drift = ((before / baseline) - 1.0)
                .abs()
                .max(((after / baseline) - 1.0).abs());
            let keep = drift <= opts.tolerance || attempts >= opts.max_redo;
            if keep {
                if drift > opts.tolerance {
                    noisy_kept += 1;
                }
                for (i, m) in mins.into_iter().enumerate() {
                    round_mins[i].push(m);
                }
                bar.set_message(format!("reference drift {:.1}%", drift * 100.0));
                break;
            }
            redone += 1;
            attempts += 1;
            bar.set_message(format!(
                "reference moved {:.1}%, redoing round",
                drift * 100.0
            ));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    NetworkTimes {
        round_mins,
        reference_ms: reference_min,
        rounds_redone: redone,
        noisy_rounds_kept: noisy_kept,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vidnas_latency::OpClass;

    #[test]
    fn re_measurement_pairs_the_even_rounds_with_the_odd_ones_on_the_held_out_half() {
        // Eight networks, four rounds; odd networks are held out. Network 3's odd rounds run
        // slower than network 5's even ones, so re-measurement swaps one held-out pair.
        let rounds = |even: f64, odd: f64| vec![even, odd, even + 1.0, odd + 1.0];
        let round_mins = vec![
            rounds(10.0, 10.1),
            rounds(11.0, 11.2),
            rounds(12.0, 12.1),
            rounds(13.0, 14.5),
            rounds(14.0, 14.1),
            rounds(14.2, 14.3),
            rounds(16.0, 16.1),
            rounds(17.0, 17.2),
        ];
        let archs: Vec<Architecture> = (0..8)
            .map(|i| Architecture {
                ops: vec![
                    if i % 2 == 0 {
                        OpKind::None
                    } else {
                        OpKind::Conv1d
                    };
                    i + 1
                ],
            })
            .collect();
        let predictions: Vec<(f64, Vec<f64>)> = (0..8)
            .map(|i| {
                let mut kinds = vec![0.0; OpClass::COUNT];
                kinds[0] = 10.0 + i as f64;
                (10.0 + i as f64, kinds)
            })
            .collect();
        let measured = NetworkTimes {
            round_mins,
            reference_ms: 5.0,
            rounds_redone: 0,
            noisy_rounds_kept: 0,
        };
        let report = report_of(&archs, &predictions, measured).unwrap();
        assert_eq!(report.rows[3].halves_ms, (13.0, 14.5));
        assert_eq!(report.rows[3].measured_ms, 13.0);
        let re = report.remeasured_holdout.unwrap();
        assert_eq!(re.n, 4);
        // Held out: (11, 11.2), (13, 14.5), (14.2, 14.3), (17, 17.2): one discordant pair of 6.
        assert!(
            (re.kendall_tau_b - 4.0 / 6.0).abs() < 1e-12,
            "{}",
            re.kendall_tau_b
        );

        // One round: no halves to compare.
        let one = NetworkTimes {
            round_mins: (0..8).map(|i| vec![10.0 + i as f64]).collect(),
            reference_ms: 5.0,
            rounds_redone: 0,
            noisy_rounds_kept: 0,
        };
        assert!(report_of(&archs, &predictions, one)
            .unwrap()
            .remeasured_holdout
            .is_none());
    }
}
